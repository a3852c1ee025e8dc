//! A descriptor closed behind the runtime's back, and its number reused by
//! a new socket, while a task still waits on the old one: the new socket
//! works, and the old waiter never sees the new socket's readiness.

mod net_util;

use std::mem::ManuallyDrop;
use std::os::fd::AsRawFd;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::runtime::IoBackend;

/// Not `net_util::each_backend`: this test leaks the old stream on purpose
/// (its number now belongs to another socket), so the descriptor count of
/// the runtime it keeps alive would not balance.
#[test]
fn closed_and_reused_descriptor_never_wakes_the_old_waiter() {
    let _serial = net_util::serial();
    for backend in [IoBackend::Epoll, IoBackend::Poll] {
        let rt = net_util::runtime(backend);
        rt.block_on(weft::time::timeout(Duration::from_secs(20), scenario()))
            .unwrap_or_else(|_| panic!("fd reuse scenario hung on {backend:?}"));
    }
}

async fn scenario() {
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let old = TcpStream::connect(addr).await.unwrap();
        let (_old_peer, _) = listener.accept().await.unwrap();
        let fd = old.as_raw_fd();
        // The waiter owns the old stream but never drops it: its descriptor
        // is closed behind its back below, and dropping it would close the
        // number again, which then belongs to the new socket.
        let old = ManuallyDrop::new(old);
        let waiter = weft::spawn(async move {
            let mut old = old;
            let mut buf = [0u8; 16];
            let n = (*old).read(&mut buf).await;
            (n.map(|n| buf[..n].to_vec()), old)
        });
        for _ in 0..10 {
            weft::task::yield_now().await;
        }
        assert!(!waiter.is_finished());

        // SAFETY: `fd` is the old stream's open descriptor; closing it
        // behind the stream's back is the fault under test, and the stream
        // is never dropped, so the number is not closed twice.
        assert_eq!(unsafe { libc::close(fd) }, 0);
        let new = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            new.as_raw_fd(),
            fd,
            "the kernel reuses the lowest free number"
        );
        let (mut new_peer, _) = listener.accept().await.unwrap();
        new_peer.write_all(b"for the new one").await.unwrap();

        let mut new = new;
        let mut buf = [0u8; 32];
        let n = weft::time::timeout(Duration::from_secs(5), new.read(&mut buf))
            .await
            .expect("the new socket never became readable")
            .unwrap();
        assert_eq!(&buf[..n], b"for the new one");

        // Give a stray wakeup every chance to reach the old waiter.
        new_peer.write_all(b"more").await.unwrap();
        weft::time::sleep(Duration::from_millis(50)).await;
        if waiter.is_finished() {
            // The returned stream is a ManuallyDrop: never closed again.
            let (res, _old) = waiter.await.unwrap();
            // An error is acceptable; data from the new socket is not.
            if let Ok(data) = res {
                panic!("old waiter read the new socket's data: {data:?}");
            }
        } else {
            waiter.abort();
            // Its future is dropped on abort; the ManuallyDrop keeps the
            // stream (and its registration) from closing the new socket.
            let _ = waiter.await;
        }
        drop(new);
    }
}
