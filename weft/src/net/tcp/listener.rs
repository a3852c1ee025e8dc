//! `TcpListener`: bind, accept (with the reserve-descriptor answer to
//! `EMFILE`), and conversions from and to std.
#![forbid(unsafe_code)]

use std::fmt;
use std::fs::File;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Mutex;
use std::task::{ready, Context, Poll};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::TcpStream;
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::error::{context, retry};
use crate::net::source::Source;
use crate::net::BACKLOG;
use crate::reactor::{Direction, Interest};

/// Pending connections shed at most per `EMFILE`, so one accept call is
/// bounded even under a flood.
const SHED_MAX: usize = 1024;

/// A TCP socket listening for connections.
///
/// # Running out of descriptors
///
/// When `accept` fails with `EMFILE` or `ENFILE` (the process or the system
/// has no descriptor left), a naive accept loop spins: the pending
/// connection keeps the listener readable and every retry fails the same
/// way. weft uses libuv's *reserve descriptor* trick: each listener keeps
/// one spare descriptor (`/dev/null`) open. On `EMFILE`/`ENFILE` it closes
/// the spare, accepts the pending connections one by one and closes each at
/// once (so their peers see the connection closed instead of hanging), then
/// reopens the spare. The error is still returned to the caller, and the
/// next `accept` waits for a new connection instead of spinning. If the
/// spare cannot be reopened, the pending connections stay queued and the
/// next `accept` waits for the next incoming connection to try again.
///
/// # Examples
///
/// ```no_run
/// use futures_lite::AsyncWriteExt;
/// use weft::net::TcpListener;
///
/// # weft::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// loop {
///     let (mut stream, peer) = listener.accept().await?;
///     weft::spawn(async move {
///         let _ = stream.write_all(format!("hello {peer}\n").as_bytes()).await;
///     });
/// }
/// # #[allow(unreachable_code)]
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub struct TcpListener {
    source: Source<std::net::TcpListener>,
    /// The reserve descriptor (see the type's docs).
    spare: Mutex<Option<File>>,
}

fn open_spare() -> Option<File> {
    // std opens with O_CLOEXEC.
    File::open("/dev/null").ok()
}

impl TcpListener {
    /// Bind a listener to `addr` (`SO_REUSEADDR`, backlog `somaxconn`). If `addr`
    /// resolves to several addresses, each is tried in turn.
    ///
    /// # Errors
    ///
    /// The error of the last address tried (`AddrInUse`, `PermissionDenied`,
    /// ...), naming it; resolution errors; an error outside a runtime.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # weft::block_on(async {
    /// let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// println!("listening on {}", listener.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let addrs = resolve(addr).await?;
        let mut last = None;
        for addr in addrs {
            match bind_one(addr) {
                Ok(l) => return TcpListener::new(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("bind: no address to bind")))
    }

    fn new(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            source: Source::new(listener, Interest::READABLE, "TCP listener")?,
            spare: Mutex::new(open_spare()),
        })
    }

    /// Wrap a listener made elsewhere (it is switched to non-blocking mode).
    ///
    /// # Errors
    ///
    /// If it cannot be made non-blocking or registered, or outside a runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener
            .set_nonblocking(true)
            .map_err(|e| context(e, "set non-blocking on listener fd", listener.as_raw_fd()))?;
        TcpListener::new(listener)
    }

    /// Deregister and return the std listener; it stays non-blocking.
    ///
    /// # Errors
    ///
    /// If the reactor refuses the deregistration.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.source.into_inner()
    }

    /// Accept a connection: the stream (non-blocking, close-on-exec from the
    /// start: `accept4`) and the peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `accept4`, naming the listener's address. On
    /// `EMFILE`/`ENFILE` see the type's docs: the error is returned, and the
    /// next call waits instead of spinning.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no
    /// connection was taken from the queue.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Poll for a connection; registers the task's waker when none is
    /// pending. See [`accept`](TcpListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        loop {
            let ev = ready!(self.source.poll_ready(cx, Direction::Read))?;
            let sock = SockRef::from(self.source.get_ref());
            match retry(|| sock.accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)) {
                Ok((socket, addr)) => {
                    let peer = match addr.as_socket() {
                        Some(a) => a,
                        None => {
                            return Poll::Ready(Err(io::Error::other(format!(
                                "accept on {}: the peer's address is not an IP address",
                                self.describe()
                            ))))
                        }
                    };
                    return Poll::Ready(
                        TcpStream::from_accepted(socket, peer).map(|stream| (stream, peer)),
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.source.clear_readiness(ev),
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    self.shed_pending();
                    // Wait for a new connection rather than retrying at once.
                    self.source.clear_readiness(ev);
                    return Poll::Ready(Err(context(e, "accept on", self.describe())));
                }
                Err(e) => return Poll::Ready(Err(context(e, "accept on", self.describe()))),
            }
        }
    }

    /// Out of descriptors: use the spare one to accept and close pending
    /// connections, then take the spare back.
    fn shed_pending(&self) {
        let mut spare = match self.spare.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(file) = spare.take() else {
            *spare = open_spare();
            return;
        };
        drop(file);
        let sock = SockRef::from(self.source.get_ref());
        for _ in 0..SHED_MAX {
            match retry(|| sock.accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)) {
                Ok((conn, _)) => drop(conn),
                Err(_) => break,
            }
        }
        *spare = open_spare();
    }

    fn describe(&self) -> String {
        match self.local_addr() {
            Ok(a) => a.to_string(),
            Err(_) => format!("listener fd {}", self.source.fd()),
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

    /// Set `IP_TTL` on the listener (inherited by accepted streams).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.get_ref().set_ttl(ttl)
    }

    /// The listener's `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.get_ref().ttl()
    }
}

/// Create, configure, bind and listen one socket for `addr`.
fn bind_one(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )
    .map_err(|e| context(e, "create a TCP socket for", addr))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| context(e, "set SO_REUSEADDR for", addr))?;
    retry(|| socket.bind(&addr.into())).map_err(|e| context(e, "bind to", addr))?;
    retry(|| socket.listen(BACKLOG)).map_err(|e| context(e, "listen on", addr))?;
    Ok(socket.into())
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("fd", &self.source.fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
