//! Peer faults: a reset in the middle of a large write, and a half-close.

mod net_util;

use std::io::ErrorKind;
use std::net::Shutdown;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (c, a) = futures_lite::future::zip(TcpStream::connect(addr), listener.accept()).await;
    (c.unwrap(), a.unwrap().0)
}

#[test]
fn peer_reset_mid_write_is_an_error_not_sigpipe() {
    // SIGPIPE back to its default (terminate): a write that raised it would
    // kill the test process.
    // SAFETY: setting a signal disposition to SIG_DFL installs no handler;
    // no other code in this test binary depends on SIGPIPE being ignored.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    net_util::each_backend("reset", Duration::from_secs(30), |_| async {
        let (mut client, server) = pair().await;
        let writer = weft::spawn(async move {
            let data = vec![0u8; 64 << 20];
            let start = Instant::now();
            let err = client.write_all(&data).await.unwrap_err();
            (err, start.elapsed(), client)
        });
        // Let the writer fill the buffers, then reset the connection.
        for _ in 0..20 {
            weft::task::yield_now().await;
        }
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let (err, _elapsed, client) = writer.await.unwrap();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "{err}"
        );
        // Later writes fail too, and the process is still alive.
        let err2 = (&client).write_all(b"more").await.unwrap_err();
        assert!(
            matches!(
                err2.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "{err2}"
        );
    });
}

#[test]
fn half_close_reads_eof_repeatedly_and_writes_still_work() {
    net_util::each_backend("half close", Duration::from_secs(20), |_| async {
        let (mut a, mut b) = pair().await;
        a.write_all(b"last words").await.unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        let mut buf = [0u8; 16];
        for _ in 0..5 {
            assert_eq!(b.read(&mut buf).await.unwrap(), 0, "EOF again");
        }
        // b can still write, and a can still read.
        b.write_all(b"reply").await.unwrap();
        b.close().await.unwrap();
        let mut reply = Vec::new();
        a.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"reply");
    });
}

#[test]
fn always_ready_reader_yields_to_other_tasks() {
    net_util::each_backend("coop", Duration::from_secs(20), |_| async {
        let (mut a, b) = pair().await;
        b.shutdown(Shutdown::Write).unwrap();
        // a is at EOF: every read is ready at once. A task that reads in a
        // loop must still let another task run (cooperative budget).
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = flag.clone();
        let other = weft::spawn(async move { f.store(true, std::sync::atomic::Ordering::SeqCst) });
        let mut buf = [0u8; 1];
        let mut reads = 0u32;
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            assert_eq!(a.read(&mut buf).await.unwrap(), 0);
            reads += 1;
            assert!(reads < 100_000, "the other task never ran");
        }
        other.await.unwrap();
        drop(b);
    });
}
