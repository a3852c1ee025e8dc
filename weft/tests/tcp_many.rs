//! 9,000 connections open at once on one thread (18,000 descriptors: the
//! limit here is 20,000), on each backend.

mod net_util;

use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

const N: usize = 9000;

#[test]
fn nine_thousand_concurrent_connections() {
    net_util::each_backend(
        "9000 connections",
        Duration::from_secs(120),
        |backend| async move {
            let start = Instant::now();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // The server holds every connection until all N are open, then
            // answers each one and closes it.
            let server = weft::spawn(async move {
                let mut conns = Vec::with_capacity(N);
                while conns.len() < N {
                    conns.push(listener.accept().await.unwrap().0);
                }
                for (i, mut c) in conns.into_iter().enumerate() {
                    c.write_all(format!("{i}\n").as_bytes()).await.unwrap();
                }
            });
            let clients: Vec<_> = (0..N)
                .map(|_| {
                    weft::spawn(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        let mut buf = Vec::new();
                        s.read_to_end(&mut buf).await.unwrap();
                        assert!(buf.ends_with(b"\n"));
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
            eprintln!("{backend:?}: {N} connections in {:?}", start.elapsed());
        },
    );
}
