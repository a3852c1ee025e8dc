//! `UnixDatagram`.
#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use socket2::{Socket, Type};

use crate::net::error::{context, retry};
use crate::net::source::Source;
use crate::reactor::{Direction, Interest};

/// A Unix-domain datagram socket.
///
/// # Examples
///
/// ```no_run
/// # weft::block_on(async {
/// let (a, b) = weft::net::UnixDatagram::pair()?;
/// a.send(b"ping").await?;
/// let mut buf = [0u8; 8];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub struct UnixDatagram {
    source: Source<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    fn new(socket: Socket) -> io::Result<UnixDatagram> {
        let s: std::os::unix::net::UnixDatagram = socket.into();
        Ok(UnixDatagram {
            source: Source::new(s, Interest::BOTH, "Unix datagram socket")?,
        })
    }

    /// A socket bound to `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `socket` or `bind`, naming the path.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = super::socket(Type::DGRAM, "a datagram socket")?;
        let addr = super::sock_addr(path)?;
        retry(|| socket.bind(&addr)).map_err(|e| context(e, "bind to", path.display()))?;
        UnixDatagram::new(socket)
    }

    /// A socket bound to no address.
    ///
    /// # Errors
    ///
    /// The OS error of `socket`.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::new(super::socket(Type::DGRAM, "a datagram socket")?)
    }

    /// A pair of connected sockets (`socketpair`).
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = Socket::pair(
            socket2::Domain::UNIX,
            Type::DGRAM.nonblocking().cloexec(),
            None,
        )
        .map_err(|e| context(e, "socketpair", "(Unix datagram)"))?;
        Ok((UnixDatagram::new(a)?, UnixDatagram::new(b)?))
    }

    /// Wrap a socket made elsewhere (switched to non-blocking mode).
    ///
    /// # Errors
    ///
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket
            .set_nonblocking(true)
            .map_err(|e| context(e, "set non-blocking on datagram fd", socket.as_raw_fd()))?;
        Ok(UnixDatagram {
            source: Source::new(socket, Interest::BOTH, "Unix datagram socket")?,
        })
    }

    /// Deregister and return the std socket; it stays non-blocking.
    ///
    /// # Errors
    ///
    /// If the reactor refuses the deregistration.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.source.into_inner()
    }

    /// Connect to the socket at `path`: the default destination of `send`.
    ///
    /// # Errors
    ///
    /// The OS error of `connect`, naming the path.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        retry(|| self.source.get_ref().connect(path))
            .map_err(|e| context(e, "connect to", path.display()))
    }

    fn describe(&self) -> String {
        format!("Unix datagram fd {}", self.source.fd())
    }

    /// Send a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `send`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.source
                .poll_io(cx, Direction::Write, |s| s.send(buf))
                .map_err(|e| context(e, "send on", self.describe()))
        })
        .await
    }

    /// Receive a datagram.
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.source
                .poll_io(cx, Direction::Read, |s| s.recv(buf))
                .map_err(|e| context(e, "recv on", self.describe()))
        })
        .await
    }

    /// Send a datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`, naming the path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| {
            self.source
                .poll_io(cx, Direction::Write, |s| s.send_to(buf, path))
                .map_err(|e| context(e, "send_to", path.display()))
        })
        .await
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
        poll_fn(|cx| {
            self.source
                .poll_io(cx, Direction::Read, |s| s.recv_from(buf))
                .map_err(|e| context(e, "recv_from on", self.describe()))
        })
        .await
    }

    /// This socket's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("fd", &self.source.fd())
            .finish()
    }
}
