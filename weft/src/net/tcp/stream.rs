//! `TcpStream`: non-blocking connect, reads and writes through the reactor.
#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::error::{connect_in_progress, context, try_context};
use crate::net::source::{total_len, total_len_mut, Source};
use crate::net::SEND_FLAGS;
use crate::reactor::{Direction, Interest, Ready};

/// A TCP connection.
///
/// Reads and writes take `&self` internally, so one task may read while
/// another writes: see [`split`](TcpStream::split) and
/// [`into_split`](TcpStream::into_split). `AsyncRead` and `AsyncWrite` are
/// also implemented for `&TcpStream`.
///
/// Writes never raise `SIGPIPE` (`MSG_NOSIGNAL`); a peer that reset the
/// connection makes them fail with `BrokenPipe` or `ConnectionReset`.
///
/// # Examples
///
/// ```no_run
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// # weft::block_on(async {
/// let mut stream = weft::net::TcpStream::connect("127.0.0.1:7").await?;
/// stream.write_all(b"ping").await?;
/// let mut buf = [0u8; 4];
/// stream.read_exact(&mut buf).await?;
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub struct TcpStream {
    source: Source<std::net::TcpStream>,
}

impl TcpStream {
    /// Open a connection to `addr`.
    ///
    /// A host name is resolved on the blocking pool; literal addresses are
    /// used at once. Each address is tried in turn with a non-blocking
    /// connect (`EINPROGRESS`, wait writable, read `SO_ERROR`).
    ///
    /// # Errors
    ///
    /// The error of the last address tried, naming it
    /// (`ConnectionRefused`, `TimedOut`, `HostUnreachable`, ...); resolution
    /// errors; an error outside a runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the half-open socket.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let addrs = resolve(addr).await?;
        let mut last = None;
        for addr in addrs {
            match connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("connect: no address to connect to")))
    }

    /// Register a socket that is already non-blocking.
    fn from_socket(socket: Socket) -> io::Result<TcpStream> {
        let stream: std::net::TcpStream = socket.into();
        Ok(TcpStream {
            source: Source::new(stream, Interest::BOTH, "TCP stream")?,
        })
    }

    pub(super) fn from_accepted(socket: Socket, peer: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::from_socket(socket)
            .map_err(|e| context(e, "accept: register the connection from", peer))
    }

    /// Wrap a connected stream made elsewhere (it is switched to
    /// non-blocking mode).
    ///
    /// # Errors
    ///
    /// If it cannot be made non-blocking or registered, or outside a runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream
            .set_nonblocking(true)
            .map_err(|e| context(e, "set non-blocking on stream fd", stream.as_raw_fd()))?;
        Ok(TcpStream {
            source: Source::new(stream, Interest::BOTH, "TCP stream")?,
        })
    }

    /// Deregister and return the std stream; it stays non-blocking.
    ///
    /// # Errors
    ///
    /// If the reactor refuses the deregistration.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.source.into_inner()
    }

    /// Names this stream in errors: the peer's address, or the descriptor.
    pub(crate) fn describe(&self) -> String {
        match self.source.get_ref().peer_addr() {
            Ok(a) => a.to_string(),
            Err(_) => format!("TCP stream fd {}", self.source.fd()),
        }
    }

    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.source
            .poll_stream_io(cx, Direction::Read, buf.len(), |s| {
                crate::sys::recv(s.as_fd(), buf)
            })
            .map_err(|e| context(e, "read from", self.describe()))
    }

    pub(crate) fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.source
            .poll_stream_io(cx, Direction::Read, total_len_mut(bufs), |s| {
                (&*s).read_vectored(bufs)
            })
            .map_err(|e| context(e, "read from", self.describe()))
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.source
            .poll_stream_io(cx, Direction::Write, buf.len(), |s| {
                crate::sys::send(s.as_fd(), buf, SEND_FLAGS)
            })
            .map_err(|e| context(e, "write to", self.describe()))
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.source
            .poll_stream_io(cx, Direction::Write, total_len(bufs), |s| {
                SockRef::from(s).send_vectored_with_flags(bufs, SEND_FLAGS)
            })
            .map_err(|e| context(e, "write to", self.describe()))
    }

    pub(crate) fn shutdown_priv(&self, how: Shutdown) -> io::Result<()> {
        self.source
            .get_ref()
            .shutdown(how)
            .map_err(|e| context(e, "shutdown of", self.describe()))
    }

    /// Receive data without removing it from the queue; waits until some
    /// arrives. Returns 0 at end of stream.
    ///
    /// # Errors
    ///
    /// The OS error of `recv(MSG_PEEK)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_peek(cx, buf)).await
    }

    /// Poll form of [`peek`](TcpStream::peek).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source
            .poll_io(cx, Direction::Read, |s| s.peek(buf))
            .map_err(|e| context(e, "peek at", self.describe()))
    }

    /// Shut down the read, write or both halves of the connection.
    ///
    /// After `Shutdown::Write` the peer reads end of stream; this side can
    /// still read.
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown` (`NotConnected` if the peer is gone).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown_priv(how)
    }

    /// Wait until the stream is readable (data, end of stream or an error).
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.source.ready(Direction::Read).await
    }

    /// Wait until the stream is writable.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.source.ready(Direction::Write).await
    }

    /// Read without waiting: `WouldBlock` if no data is ready.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `recv`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.source
            .try_io(Direction::Read, |s| crate::sys::recv(s.as_fd(), buf))
            .map_err(|e| try_context(e, "read from", || self.describe()))
    }

    /// Write without waiting: `WouldBlock` if the send buffer is full.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `send`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.source
            .try_io(Direction::Write, |s| {
                crate::sys::send(s.as_fd(), buf, SEND_FLAGS)
            })
            .map_err(|e| try_context(e, "write to", || self.describe()))
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername` (`NotConnected` after a reset).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// This end's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// Set `TCP_NODELAY` (disable Nagle's algorithm).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.source.get_ref().nodelay()
    }

    /// Set `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.get_ref().set_ttl(ttl)
    }

    /// The stream's `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.get_ref().ttl()
    }

    /// Set `SO_LINGER`. `Some(Duration::ZERO)` makes close send a reset
    /// instead of a FIN.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.source.get_ref()).set_linger(linger)
    }

    /// The stream's `SO_LINGER`.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.source.get_ref()).linger()
    }

    /// Borrow the stream as a read half and a write half, usable at once
    /// (say, in two branches of a `join`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Split the stream into owned halves that may move to two tasks.
    /// Dropping the write half shuts the write side down.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

/// Connect one socket to `addr` without blocking the loop.
async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )
    .map_err(|e| context(e, "create a TCP socket for", addr))?;
    let connected = match socket.connect(&addr.into()) {
        Ok(()) => true,
        Err(e) if connect_in_progress(&e) => false,
        Err(e) => return Err(context(e, "connect to", addr)),
    };
    let stream = TcpStream::from_socket(socket).map_err(|e| context(e, "connect to", addr))?;
    // A new source starts "maybe readable and writable", which saves an accepted socket one
    // event round trip. A connecting socket is neither: it becomes writable when the handshake
    // completes (`connected` drops that assumption), and the server cannot have sent anything
    // before it accepted. Waiting for the poller's real events spares the `getpeername` that
    // would tell an assumed writable from a real one, and the first read the `EAGAIN` it would
    // surely get.
    stream.source.forget_assumed(Ready::READABLE);
    if !connected {
        stream
            .source
            .connected()
            .await
            .map_err(|e| context(e, "connect to", addr))?;
    }
    Ok(stream)
}

crate::net::stream_io_impls!(TcpStream, shutdown_priv);
crate::net::stream_io_impls!(&TcpStream, shutdown_priv);

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.source.fd())
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
