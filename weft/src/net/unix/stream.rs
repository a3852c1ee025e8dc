//! `UnixStream`.
#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use socket2::{SockRef, Socket, Type};

use crate::net::error::{connect_in_progress, context, try_context};
use crate::net::source::{total_len, total_len_mut, Source};
use crate::net::SEND_FLAGS;
use crate::reactor::{Direction, Interest};

/// A Unix-domain stream connection.
///
/// `AsyncRead` and `AsyncWrite` are implemented for `UnixStream` and for
/// `&UnixStream`, so a reader and a writer may share one stream. Writes
/// never raise `SIGPIPE` (`MSG_NOSIGNAL`).
///
/// # Examples
///
/// ```no_run
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// # weft::block_on(async {
/// let (mut a, mut b) = weft::net::UnixStream::pair()?;
/// a.write_all(b"hi").await?;
/// let mut buf = [0u8; 2];
/// b.read_exact(&mut buf).await?;
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub struct UnixStream {
    source: Source<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connect to the socket at `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `connect`, naming the path (`NotFound`,
    /// `ConnectionRefused`, `WouldBlock` if the listener's backlog is full).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let socket = super::socket(Type::STREAM, "a stream")?;
        let addr = super::sock_addr(path)?;
        let connected = match socket.connect(&addr) {
            Ok(()) => true,
            Err(e) if connect_in_progress(&e) => false,
            Err(e) => return Err(context(e, "connect to", path.display())),
        };
        let stream = UnixStream::from_socket(socket)
            .map_err(|e| context(e, "connect to", path.display()))?;
        if !connected {
            stream
                .source
                .connected()
                .await
                .map_err(|e| context(e, "connect to", path.display()))?;
        }
        Ok(stream)
    }

    fn from_socket(socket: Socket) -> io::Result<UnixStream> {
        UnixStream::from_connected(socket.into())
    }

    /// Register a non-blocking stream.
    pub(super) fn from_connected(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            source: Source::new(stream, Interest::BOTH, "Unix stream")?,
        })
    }

    /// A pair of connected streams (`socketpair`).
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`; an error outside a runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = Socket::pair(
            socket2::Domain::UNIX,
            Type::STREAM.nonblocking().cloexec(),
            None,
        )
        .map_err(|e| context(e, "socketpair", "(Unix stream)"))?;
        Ok((UnixStream::from_socket(a)?, UnixStream::from_socket(b)?))
    }

    /// Wrap a stream made elsewhere (switched to non-blocking mode).
    ///
    /// # Errors
    ///
    /// If it cannot be made non-blocking or registered, or outside a runtime.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream
            .set_nonblocking(true)
            .map_err(|e| context(e, "set non-blocking on stream fd", stream.as_raw_fd()))?;
        UnixStream::from_connected(stream)
    }

    /// Deregister and return the std stream; it stays non-blocking.
    ///
    /// # Errors
    ///
    /// If the reactor refuses the deregistration.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.source.into_inner()
    }

    fn describe(&self) -> String {
        format!("Unix stream fd {}", self.source.fd())
    }

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source
            .poll_stream_io(cx, Direction::Read, buf.len(), |s| {
                crate::sys::recv(s.as_fd(), buf)
            })
            .map_err(|e| context(e, "read from", self.describe()))
    }

    fn poll_read_vectored_priv(
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

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.source
            .poll_stream_io(cx, Direction::Write, buf.len(), |s| {
                crate::sys::send(s.as_fd(), buf, SEND_FLAGS)
            })
            .map_err(|e| context(e, "write to", self.describe()))
    }

    fn poll_write_vectored_priv(
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

    /// Shut down the read, write or both halves.
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source
            .get_ref()
            .shutdown(how)
            .map_err(|e| context(e, "shutdown of", self.describe()))
    }

    /// Wait until the stream is readable.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.source.ready(Direction::Read).await
    }

    /// Wait until the stream is writable.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.source.ready(Direction::Write).await
    }

    /// Read without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of `recv`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.source
            .try_io(Direction::Read, |s| crate::sys::recv(s.as_fd(), buf))
            .map_err(|e| try_context(e, "read from", || self.describe()))
    }

    /// Write without waiting.
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

    /// This end's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }
}

crate::net::stream_io_impls!(UnixStream, shutdown);
crate::net::stream_io_impls!(&UnixStream, shutdown);

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.source.fd())
            .finish()
    }
}
