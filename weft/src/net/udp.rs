//! `UdpSocket`: datagrams through the reactor.
#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Socket, Type};

use super::addr::{resolve, ToSocketAddrs};
use super::error::{context, retry, try_context};
use super::source::Source;
use crate::reactor::{Direction, Interest};

/// A UDP socket.
///
/// All methods take `&self`: one task may receive while another sends
/// (put the socket in an `Arc`). A datagram larger than the buffer given to
/// `recv` is truncated (the rest is discarded); an empty datagram is
/// received as 0 bytes.
///
/// # Examples
///
/// ```no_run
/// # weft::block_on(async {
/// use weft::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"hi", b.local_addr()?).await?;
/// let mut buf = [0u8; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub struct UdpSocket {
    source: Source<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Bind a socket to `addr`; each resolved address is tried in turn.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, naming it; resolution errors;
    /// an error outside a runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let addrs = resolve(addr).await?;
        let mut last = None;
        for addr in addrs {
            match bind_one(addr) {
                Ok(s) => return UdpSocket::new(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("bind: no address to bind")))
    }

    fn new(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            source: Source::new(socket, Interest::BOTH, "UDP socket")?,
        })
    }

    /// Wrap a socket made elsewhere (it is switched to non-blocking mode).
    ///
    /// # Errors
    ///
    /// If it cannot be made non-blocking or registered, or outside a runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket
            .set_nonblocking(true)
            .map_err(|e| context(e, "set non-blocking on UDP fd", socket.as_raw_fd()))?;
        UdpSocket::new(socket)
    }

    /// Deregister and return the std socket; it stays non-blocking.
    ///
    /// # Errors
    ///
    /// If the reactor refuses the deregistration.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.source.into_inner()
    }

    /// Set the default destination of `send` and the only source `recv`
    /// accepts; the first resolved address that works is used.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, naming it.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let addrs = resolve(addr).await?;
        let mut last = None;
        for addr in addrs {
            match retry(|| self.source.get_ref().connect(addr)) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(context(e, "connect UDP socket to", addr)),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("connect: no address to connect to")))
    }

    fn describe(&self) -> String {
        match self.source.get_ref().local_addr() {
            Ok(a) => format!("UDP socket {a}"),
            Err(_) => format!("UDP socket fd {}", self.source.fd()),
        }
    }

    /// Send a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `send` (`ConnectionRefused` after an ICMP
    /// unreachable from the peer; the socket stays usable).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent whole or not at all.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Poll form of [`send`](UdpSocket::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.source
            .poll_io(cx, Direction::Write, |s| s.send(buf))
            .map_err(|e| context(e, "send on", self.describe()))
    }

    /// Receive a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `recv` (`ConnectionRefused` after an ICMP
    /// unreachable; the socket stays usable).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Poll form of [`recv`](UdpSocket::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source
            .poll_io(cx, Direction::Read, |s| s.recv(buf))
            .map_err(|e| context(e, "recv on", self.describe()))
    }

    /// Send a datagram to `target` (the first address it resolves to).
    ///
    /// # Errors
    ///
    /// Resolution errors; the OS error of `sendto`, naming `target`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let addrs = resolve(target).await?;
        // `resolve` never returns an empty list.
        let Some(&addr) = addrs.first() else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        poll_fn(|cx| self.poll_send_to(cx, buf, addr)).await
    }

    /// Poll form of [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.source
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
            .map_err(|e| context(e, "send_to", target))
    }

    /// Receive a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Poll form of [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.source
            .poll_io(cx, Direction::Read, |s| s.recv_from(buf))
            .map_err(|e| context(e, "recv_from on", self.describe()))
    }

    /// Receive a datagram without removing it from the queue.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom(MSG_PEEK)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            self.source
                .poll_io(cx, Direction::Read, |s| s.peek_from(buf))
                .map_err(|e| context(e, "peek_from on", self.describe()))
        })
        .await
    }

    /// Send without waiting: `WouldBlock` if the send buffer is full.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `send`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.source
            .try_io(Direction::Write, |s| s.send(buf))
            .map_err(|e| try_context(e, "send on", || self.describe()))
    }

    /// Receive without waiting: `WouldBlock` if no datagram is queued.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `recv`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.source
            .try_io(Direction::Read, |s| s.recv(buf))
            .map_err(|e| try_context(e, "recv on", || self.describe()))
    }

    /// Wait until a datagram (or an error) can be received.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.source.ready(Direction::Read).await
    }

    /// Wait until a datagram can be sent.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.source.ready(Direction::Write).await
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the socket is not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// The address this socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// Set `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.source.get_ref().set_broadcast(on)
    }

    /// Set `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.get_ref().set_ttl(ttl)
    }

    /// The socket's `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.get_ref().ttl()
    }
}

fn bind_one(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::DGRAM.nonblocking().cloexec(),
        Some(Protocol::UDP),
    )
    .map_err(|e| context(e, "create a UDP socket for", addr))?;
    retry(|| socket.bind(&addr.into())).map_err(|e| context(e, "bind to", addr))?;
    Ok(socket.into())
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("fd", &self.source.fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
