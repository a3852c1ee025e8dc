//! TCP echo round trips, from one byte to 16 MiB, on every backend.

mod net_util;

use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// Serve one connection: copy everything back until end of stream.
async fn echo_once(listener: TcpListener) {
    let (stream, _) = listener.accept().await.unwrap();
    let (mut r, mut w) = stream.into_split();
    futures_lite::io::copy(&mut r, &mut w).await.unwrap();
    w.close().await.unwrap();
}

#[test]
fn echo_round_trips_1b_to_16mib() {
    net_util::each_backend("echo", Duration::from_secs(60), |_| async {
        for size in [1usize, 2, 1000, 65_536, 1 << 20, 16 << 20] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = weft::spawn(echo_once(listener));
            let stream = TcpStream::connect(addr).await.unwrap();
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let (mut r, mut w) = stream.into_split();
            let d = data.clone();
            let writer = weft::spawn(async move {
                w.write_all(&d).await.unwrap();
                w.close().await.unwrap();
            });
            let mut back = Vec::with_capacity(size);
            r.read_to_end(&mut back).await.unwrap();
            assert_eq!(back.len(), size);
            assert!(back == data, "echo of {size} bytes differs");
            writer.await.unwrap();
            server.await.unwrap();
        }
    });
}
