//! `UnixListener`.
#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

use socket2::{SockRef, Type};

use super::UnixStream;
use crate::net::error::{context, retry};
use crate::net::source::Source;
use crate::net::BACKLOG;
use crate::reactor::{Direction, Interest};

/// A Unix-domain stream socket listening for connections.
///
/// Unlike [`TcpListener`](crate::net::TcpListener) it keeps no reserve
/// descriptor: on `EMFILE`/`ENFILE` the error is returned and the next
/// `accept` waits for the next incoming connection instead of spinning.
///
/// # Examples
///
/// ```no_run
/// # weft::block_on(async {
/// let listener = weft::net::UnixListener::bind("/tmp/weft.sock")?;
/// let (stream, _addr) = listener.accept().await?;
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub struct UnixListener {
    source: Source<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Bind a listener to `path` (which must not exist), backlog 1024.
    ///
    /// # Errors
    ///
    /// The OS error of `socket`, `bind` or `listen`, naming the path
    /// (`AddrInUse` if it exists); an error outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let socket = super::socket(Type::STREAM, "a listener")?;
        let addr = super::sock_addr(path)?;
        retry(|| socket.bind(&addr)).map_err(|e| context(e, "bind to", path.display()))?;
        retry(|| socket.listen(BACKLOG)).map_err(|e| context(e, "listen on", path.display()))?;
        let listener: std::os::unix::net::UnixListener = socket.into();
        Ok(UnixListener {
            source: Source::new(listener, Interest::READABLE, "Unix listener")?,
        })
    }

    /// Wrap a listener made elsewhere (switched to non-blocking mode).
    ///
    /// # Errors
    ///
    /// If it cannot be made non-blocking or registered, or outside a runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener
            .set_nonblocking(true)
            .map_err(|e| context(e, "set non-blocking on listener fd", listener.as_raw_fd()))?;
        Ok(UnixListener {
            source: Source::new(listener, Interest::READABLE, "Unix listener")?,
        })
    }

    /// Deregister and return the std listener; it stays non-blocking.
    ///
    /// # Errors
    ///
    /// If the reactor refuses the deregistration.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.source.into_inner()
    }

    /// Accept a connection (`accept4`, non-blocking and close-on-exec).
    ///
    /// # Errors
    ///
    /// The OS error of `accept4`, naming the listener's path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Poll form of [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        loop {
            let ev = ready!(self.source.poll_ready(cx, Direction::Read))?;
            let sock = SockRef::from(self.source.get_ref());
            match retry(|| sock.accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)) {
                Ok((socket, _)) => {
                    let stream: std::os::unix::net::UnixStream = socket.into();
                    let res = stream
                        .peer_addr()
                        .and_then(|peer| Ok((UnixStream::from_connected(stream)?, peer)))
                        .map_err(|e| context(e, "accept on", self.describe()));
                    return Poll::Ready(res);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.source.clear_readiness(ev),
                Err(e) => {
                    if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
                        // Wait for the next connection rather than spin.
                        self.source.clear_readiness(ev);
                    }
                    return Poll::Ready(Err(context(e, "accept on", self.describe())));
                }
            }
        }
    }

    fn describe(&self) -> String {
        match self
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
        {
            Some(p) => p,
            None => format!("Unix listener fd {}", self.source.fd()),
        }
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("fd", &self.source.fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
