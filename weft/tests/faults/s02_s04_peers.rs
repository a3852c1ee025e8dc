//! Scenarios 2-4: a peer that resets mid-write, one that half-closes, and
//! a slow reader under a large write.

use std::io::{ErrorKind, Read};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

use crate::util::{self, figure, test_name};

#[test]
fn s02_peer_reset_mid_write_of_64_mib() {
    let name = test_name!(s02_peer_reset_mid_write_of_64_mib);
    util::isolated(name, Duration::from_secs(30), || {
        // SIGPIPE back to its default (terminate): a write that raised it
        // would kill this process.
        // SAFETY: SIG_DFL installs no handler; this process runs only this
        // test, and nothing in it relies on SIGPIPE being ignored.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
        util::rt().block_on(async {
            let (mut client, server) = util::tcp_pair().await;
            let writer = weft::spawn(async move {
                let data = vec![0u8; 64 << 20];
                let r = client.write_all(&data).await;
                (r, Instant::now(), client)
            });
            // Let the writer fill both socket buffers.
            weft::time::sleep(Duration::from_millis(100)).await;
            assert!(!writer.is_finished(), "64 MiB fit in the buffers?");
            server.set_linger(Some(Duration::ZERO)).unwrap();
            let reset_at = Instant::now();
            drop(server);
            let (r, failed_at, client) = weft::time::timeout(Duration::from_secs(5), writer)
                .await
                .expect("the write did not fail within 5 s of the reset")
                .unwrap();
            let err = r.unwrap_err();
            let took = failed_at - reset_at;
            figure!(
                name,
                "write failed {took:.2?} after the reset with {:?} ({err})",
                err.kind()
            );
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ),
                "{err}"
            );
            assert!(took < Duration::from_millis(500), "not prompt: {took:?}");
            let err2 = (&client).write_all(b"more").await.unwrap_err();
            assert!(
                matches!(
                    err2.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ),
                "{err2}"
            );
        });
    });
}

#[test]
fn s03_half_close_reads_eof_every_time_and_does_not_spin() {
    let name = test_name!(s03_half_close_reads_eof_every_time_and_does_not_spin);
    util::isolated(name, Duration::from_secs(30), || {
        util::rt().block_on(async {
            let (mut a, mut b) = util::tcp_pair().await;
            a.write_all(b"last words").await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"last words");
            let mut buf = [0u8; 16];
            for _ in 0..100 {
                assert_eq!(b.read(&mut buf).await.unwrap(), 0, "EOF again");
            }
            // `b`, at EOF, stays registered while `a` waits for a reply
            // and the loop is otherwise idle: nothing may spin.
            let (a_done, a_wait) = (Arc::new(AtomicBool::new(false)), a);
            let reader = weft::spawn({
                let done = a_done.clone();
                let mut a = a_wait;
                async move {
                    let mut reply = Vec::new();
                    a.read_to_end(&mut reply).await.unwrap();
                    done.store(true, SeqCst);
                    reply
                }
            });
            // A task waiting on `b` becoming readable again (it already is:
            // EOF), then on `b` writable, must not busy-loop either.
            weft::time::timeout(Duration::from_secs(1), b.readable())
                .await
                .expect("a socket at EOF is readable")
                .unwrap();
            let cpu0 = util::cpu_time();
            let t0 = Instant::now();
            weft::time::sleep(Duration::from_millis(500)).await;
            let (cpu, wall) = (util::cpu_time() - cpu0, t0.elapsed());
            let pct = util::cpu_percent(cpu, wall);
            let t1 = Instant::now();
            b.write_all(b"reply").await.unwrap();
            b.close().await.unwrap();
            let reply = reader.await.unwrap();
            figure!(
                name,
                "100 EOF reads; idle CPU over {wall:.2?} with a half-closed socket: {pct:.2}%; reply delivered in {:.2?}",
                t1.elapsed()
            );
            assert_eq!(reply, b"reply");
            assert!(a_done.load(SeqCst));
            assert!(pct < 5.0, "spinning after EOF: {pct:.2}% CPU");
        });
    });
}

/// Round trips of one byte on an echo connection, `n` of them, 10 ms apart.
async fn ping(stream: &mut TcpStream, n: usize) -> Vec<Duration> {
    let mut rtts = Vec::with_capacity(n);
    let mut b = [0u8; 1];
    for _ in 0..n {
        let t = Instant::now();
        stream.write_all(b"p").await.unwrap();
        stream.read_exact(&mut b).await.unwrap();
        rtts.push(t.elapsed());
        weft::time::sleep(Duration::from_millis(10)).await;
    }
    rtts
}

#[test]
fn s04_slow_reader_under_a_large_write() {
    let name = test_name!(s04_slow_reader_under_a_large_write);
    util::isolated(name, Duration::from_secs(40), || {
        util::rt().block_on(async {
            // An echo connection whose latency must not suffer.
            let (mut pinger, mut echo) = util::tcp_pair().await;
            pinger.set_nodelay(true).unwrap();
            echo.set_nodelay(true).unwrap();
            let echo_task = weft::spawn(async move {
                let mut b = [0u8; 64];
                loop {
                    match echo.read(&mut b).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => echo.write_all(&b[..n]).await.unwrap(),
                    }
                }
            });
            let mut base = ping(&mut pinger, 50).await;

            // The slow reader: a tiny receive buffer, one byte per 100 ms.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let sock =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            sock.set_recv_buffer_size(1024).unwrap();
            sock.connect(&addr.into()).unwrap();
            let (mut writer, _) = listener.accept().await.unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let reader = std::thread::spawn({
                let stop = stop.clone();
                let mut s: std::net::TcpStream = sock.into();
                move || {
                    let mut read = 0usize;
                    let mut b = [0u8; 1];
                    while !stop.load(SeqCst) {
                        match s.read(&mut b) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => read += n,
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    read
                }
            });

            let data = vec![7u8; 16 << 20];
            let cpu0 = util::cpu_time();
            let t0 = Instant::now();
            let (write, mut loaded) = futures_lite::future::zip(
                weft::time::timeout(Duration::from_millis(1500), writer.write_all(&data)),
                ping(&mut pinger, 100),
            )
            .await;
            let timed_out_after = t0.elapsed();
            let (cpu, wall) = (util::cpu_time() - cpu0, t0.elapsed());
            let pct = util::cpu_percent(cpu, wall);
            assert!(write.is_err(), "16 MiB went through a 1-byte-per-100ms reader?");
            // Cancelled cleanly: the stream is still usable and closes.
            let late = weft::time::timeout(Duration::from_millis(50), writer.write(b"x")).await;
            stop.store(true, SeqCst);
            drop(writer);
            let read = reader.join().unwrap();
            drop(pinger);
            echo_task.await.unwrap();

            let (b50, b99) = (util::quantile(&mut base, 0.5), util::quantile(&mut base, 0.99));
            let (l50, l99) = (
                util::quantile(&mut loaded, 0.5),
                util::quantile(&mut loaded, 0.99),
            );
            figure!(
                name,
                "writer timed out after {timed_out_after:.2?}; CPU over {wall:.2?}: {pct:.2}%; reader got {read} B; other connection RTT p50 {b50:.2?} -> {l50:.2?}, p99 {b99:.2?} -> {l99:.2?}; write after timeout: {}",
                match late { Ok(Ok(n)) => format!("{n} B"), Ok(Err(e)) => format!("error {e}"), Err(_) => "pending".into() }
            );
            assert!(
                timed_out_after >= Duration::from_millis(1500)
                    && timed_out_after < Duration::from_millis(1700),
                "timeout fired at {timed_out_after:?}"
            );
            assert!(pct < 5.0, "the blocked writer spins: {pct:.2}% CPU");
            assert!(
                l50 <= b50 * 2 + Duration::from_millis(1),
                "the other connection slowed: p50 {b50:?} -> {l50:?}"
            );
        });
    });
}
