//! Unix-domain streams and datagrams.

mod net_util;

use std::net::Shutdown;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{UnixDatagram, UnixListener, UnixStream};

fn temp_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("weft-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn listener_accept_connect_echo() {
    net_util::each_backend(
        "unix stream",
        Duration::from_secs(20),
        |backend| async move {
            let path = temp_path(&format!("l-{backend:?}"));
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let server = weft::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                s.read_to_end(&mut buf).await.unwrap();
                s.write_all(&buf).await.unwrap();
            });
            let mut c = UnixStream::connect(&path).await.unwrap();
            c.write_all(&vec![5u8; 1 << 20]).await.unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            let mut back = Vec::new();
            c.read_to_end(&mut back).await.unwrap();
            assert_eq!(back.len(), 1 << 20);
            server.await.unwrap();
            std::fs::remove_file(&path).unwrap();
            // Nothing listens there any more.
            let err = UnixStream::connect(&path).await.unwrap_err();
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        },
    );
}

#[test]
fn stream_pair_shared_between_reader_and_writer() {
    net_util::each_backend("unix pair", Duration::from_secs(20), |_| async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = std::sync::Arc::new(a);
        let a2 = a.clone();
        let reader = weft::spawn(async move {
            let mut buf = [0u8; 3];
            (&*a2).read_exact(&mut buf).await.unwrap();
            buf
        });
        (&*a).write_all(b"out").await.unwrap();
        let mut buf = [0u8; 3];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"out");
        b.write_all(b"in!").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"in!");
    });
}

#[test]
fn datagrams() {
    net_util::each_backend(
        "unix datagram",
        Duration::from_secs(20),
        |backend| async move {
            let (a, b) = UnixDatagram::pair().unwrap();
            a.send(b"one").await.unwrap();
            let mut buf = [0u8; 8];
            assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
            let path = temp_path(&format!("d-{backend:?}"));
            let bound = UnixDatagram::bind(&path).unwrap();
            let anon = UnixDatagram::unbound().unwrap();
            anon.send_to(b"two", &path).await.unwrap();
            let (n, _from) = bound.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"two");
            std::fs::remove_file(&path).unwrap();
        },
    );
}
