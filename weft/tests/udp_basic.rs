//! UDP: send_to/recv_from, connected send/recv, a refused peer, empty and
//! truncated datagrams.

mod net_util;

use std::io::ErrorKind;
use std::time::Duration;

use weft::net::UdpSocket;

#[test]
fn send_to_and_recv_from() {
    net_util::each_backend("udp send_to", Duration::from_secs(20), |_| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let rx = weft::spawn(async move {
            let mut buf = [0u8; 64];
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            (buf[..n].to_vec(), from, b)
        });
        assert_eq!(a.send_to(b"hello", ba).await.unwrap(), 5);
        let (got, from, b) = rx.await.unwrap();
        assert_eq!((got.as_slice(), from), (&b"hello"[..], aa));
        // peek_from leaves the datagram queued.
        b.send_to(b"again", aa).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, _) = a.peek_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"again");
        let (n, _) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"again");
        assert_eq!(
            a.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

#[test]
fn connected_socket_refused_then_still_works() {
    net_util::each_backend("udp refused", Duration::from_secs(20), |_| async {
        let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.connect(closed_addr).await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), closed_addr);
        s.send(b"anyone?").await.unwrap();
        // The ICMP port unreachable comes back as ConnectionRefused.
        let mut buf = [0u8; 16];
        let err = s.recv(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        // The socket still works once a peer exists.
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.connect(peer.local_addr().unwrap()).await.unwrap();
        s.send(b"ok").await.unwrap();
        let (n, from) = peer.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ok"[..], s.local_addr().unwrap()));
        peer.send_to(b"back", from).await.unwrap();
        assert_eq!(s.recv(&mut buf).await.unwrap(), 4);
    });
}

#[test]
fn empty_and_truncated_datagrams() {
    net_util::each_backend("udp sizes", Duration::from_secs(20), |_| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.send(b"").await.unwrap(), 0);
        let mut buf = [0u8; 4];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 0, "empty datagram");
        a.send(b"0123456789").await.unwrap();
        a.send(b"next").await.unwrap();
        assert_eq!(
            b.recv(&mut buf).await.unwrap(),
            4,
            "truncated to the buffer"
        );
        assert_eq!(&buf, b"0123");
        assert_eq!(b.recv(&mut buf).await.unwrap(), 4, "the rest was discarded");
        assert_eq!(&buf, b"next");
    });
}
