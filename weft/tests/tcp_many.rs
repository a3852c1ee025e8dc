//! 9,000 connections open at once on one thread (18,000 descriptors: the
//! limit here is 20,000), on each backend.

mod net_util;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// 9000, or `WEFT_TEST_CONNS`.
fn n() -> usize {
    std::env::var("WEFT_TEST_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9000)
}

/// Clients connect in waves of this many, each wave once the server has
/// accepted the previous one, so the accept queue (somaxconn) never
/// overflows: a flood of 9000 connects at once overflows it, and with
/// syncookies on (the default) the kernel then forgets connections whose
/// client believes them established (ListenOverflows in /proc/net/netstat).
const WAVE: usize = 500;

#[test]
fn nine_thousand_concurrent_connections() {
    net_util::each_backend(
        "9000 connections",
        Duration::from_secs(120),
        |backend| async move {
            let n = n();
            let start = Instant::now();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let accepted = Arc::new(AtomicUsize::new(0));
            let acc = accepted.clone();
            // The server holds every connection until all n are open, then
            // answers each one and closes it.
            let server = weft::spawn(async move {
                let mut conns = Vec::with_capacity(n);
                while conns.len() < n {
                    conns.push(listener.accept().await.unwrap().0);
                    acc.store(conns.len(), SeqCst);
                }
                for (i, mut c) in conns.into_iter().enumerate() {
                    c.write_all(format!("{i}\n").as_bytes()).await.unwrap();
                }
            });
            let mut clients = Vec::with_capacity(n);
            while clients.len() < n {
                for _ in 0..WAVE.min(n - clients.len()) {
                    clients.push(weft::spawn(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        let mut buf = Vec::new();
                        s.read_to_end(&mut buf).await.unwrap();
                        assert!(buf.ends_with(b"\n"));
                    }));
                }
                while accepted.load(SeqCst) < clients.len() {
                    weft::task::yield_now().await;
                }
            }
            let connected = start.elapsed();
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
            eprintln!(
                "{backend:?}: {n} connections open after {connected:?}, all done after {:?}",
                start.elapsed()
            );
        },
    );
}
