//! Connecting: refused promptly, by name, and errors that name the address.

mod net_util;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// A loopback port with nothing listening on it.
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn connect_to_closed_port_is_refused_promptly() {
    net_util::each_backend("refused", Duration::from_secs(20), |_| async {
        let port = closed_port().await;
        let start = Instant::now();
        let err = TcpStream::connect(("127.0.0.1", port)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        let msg = err.to_string();
        assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
        let os = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .and_then(|e| e.raw_os_error());
        assert_eq!(os, Some(libc::ECONNREFUSED), "{err:?}");
    });
}

#[test]
fn connect_by_name_localhost() {
    net_util::each_backend("localhost", Duration::from_secs(20), |_| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = weft::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"hi").await.unwrap();
        });
        // "localhost" may resolve to ::1 first (refused: nothing listens
        // there) and then to 127.0.0.1: each address is tried in turn.
        let mut s = TcpStream::connect(("localhost", port)).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        assert_eq!(buf, b"hi");
        server.await.unwrap();
        // The "host:port" form too.
        let port2 = closed_port().await;
        let err = TcpStream::connect(format!("localhost:{port2}"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        assert!(err.to_string().contains(&format!(":{port2}")), "{err}");
    });
}

#[test]
fn unresolvable_name_is_an_error_naming_it() {
    net_util::each_backend("bad name", Duration::from_secs(30), |_| async {
        let err = TcpStream::connect("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
    });
}

#[test]
fn stream_options_and_addresses() {
    net_util::each_backend("options", Duration::from_secs(20), |_| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.set_ttl(42).unwrap();
        assert_eq!(listener.ttl().unwrap(), 42);
        let addr = listener.local_addr().unwrap();
        let (c, a) = futures_lite::future::zip(TcpStream::connect(addr), listener.accept()).await;
        let (c, (s, peer)) = (c.unwrap(), a.unwrap());
        assert_eq!(c.peer_addr().unwrap(), addr);
        assert_eq!(s.peer_addr().unwrap(), peer);
        assert_eq!(c.local_addr().unwrap(), peer);
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        c.set_ttl(17).unwrap();
        assert_eq!(c.ttl().unwrap(), 17);
        // peek does not consume.
        (&s).write_all(b"abc").await.unwrap();
        let mut buf = [0u8; 3];
        assert_eq!(c.peek(&mut buf).await.unwrap(), 3);
        let mut buf2 = [0u8; 3];
        (&c).read_exact(&mut buf2).await.unwrap();
        assert_eq!(&buf2, b"abc");
        // try_read on an empty socket would block.
        assert_eq!(
            c.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        // std round trip.
        let std_c = c.into_std().unwrap();
        let c = TcpStream::from_std(std_c).unwrap();
        (&s).write_all(b"z").await.unwrap();
        c.readable().await.unwrap();
        assert_eq!(c.try_read(&mut buf).unwrap(), 1);
        let std_l = listener.into_std().unwrap();
        let listener = TcpListener::from_std(std_l).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
    });
}

#[test]
fn bind_in_use_names_the_address() {
    net_util::each_backend("addr in use", Duration::from_secs(20), |_| async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}
