//! hyper 1.x on weft (feature `hyper`).
//!
//! hyper reaches its runtime through three traits of `hyper::rt`, and this module gives one
//! type for each:
//!
//! - [`WeftIo`]: `hyper::rt::Read` and `Write` over any `futures-io` stream, such as
//!   [`TcpStream`](crate::net::TcpStream) or [`UnixStream`](crate::net::UnixStream).
//! - [`WeftExecutor`] (spawns `Send` futures with [`spawn`](crate::spawn)) and
//!   [`LocalExecutor`] (any future, with [`spawn_local`](crate::spawn_local)): the
//!   `hyper::rt::Executor` that HTTP/2 connections need for their streams.
//! - [`WeftTimer`] and [`WeftSleep`]: `hyper::rt::Timer` and `Sleep` on weft's timer wheel,
//!   for hyper's header-read and keep-alive timeouts. They follow weft's clock, paused
//!   clock included.
//!
//! # Examples
//!
//! An HTTP/1.1 server and a client that asks it once:
//!
//! ```
//! use std::convert::Infallible;
//!
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::Bytes;
//! use hyper::{Request, Response};
//! use weft::compat::hyper::{WeftIo, WeftTimer};
//! use weft::net::{TcpListener, TcpStream};
//!
//! weft::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     weft::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         let service = hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("Hello, World!"))))
//!         });
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(WeftTimer::new())
//!             .serve_connection(WeftIo::new(stream), service)
//!             .await
//!             .map_err(std::io::Error::other)
//!     });
//!
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut sender, conn) = hyper::client::conn::http1::handshake(WeftIo::new(stream))
//!         .await
//!         .map_err(std::io::Error::other)?;
//!     weft::spawn(conn);
//!     let req = Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new())
//!         .map_err(std::io::Error::other)?;
//!     let res = sender.send_request(req).await.map_err(std::io::Error::other)?;
//!     assert_eq!(res.status(), 200);
//!     let body = res.into_body().collect().await.map_err(std::io::Error::other)?.to_bytes();
//!     assert_eq!(body, "Hello, World!");
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use ::hyper::rt::{self, ReadBufCursor};
use futures_io::{AsyncRead, AsyncWrite};

use crate::time::Instant;

/// How many bytes one read through [`WeftIo`] asks the stream for at most.
const SCRATCH_LEN: usize = 64 * 1024;

thread_local! {
    /// One zeroed read buffer per thread, shared by every [`WeftIo`] on it (see `poll_read`).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A `futures-io` stream seen through hyper's IO traits, `hyper::rt::Read` and
/// `hyper::rt::Write`.
///
/// Wrap a [`TcpStream`](crate::net::TcpStream) (or any `AsyncRead + AsyncWrite + Unpin`:
/// a [`UnixStream`](crate::net::UnixStream), a TLS stream, a `Pin<Box<T>>` for a `T` that
/// is not `Unpin`) and hand it to `hyper::server::conn::*::serve_connection` or
/// `hyper::client::conn::*::handshake`.
///
/// # Reads
///
/// hyper hands out buffers that may be uninitialised, and `futures-io` reads into `&mut [u8]`.
/// weft keeps this module free of `unsafe`, so a read goes through a zeroed buffer that each
/// thread allocates once (64 KiB) and is copied into hyper's buffer: one `memcpy` of the bytes
/// actually read, no memory per connection.
///
/// # Writes
///
/// Vectored writes are on by default: hyper then sends head and body with one `writev`,
/// which weft's sockets do for real. For a stream whose `poll_write_vectored` writes only the
/// first buffer (the `futures-io` default), turn them off with
/// [`set_write_vectored`](WeftIo::set_write_vectored) and hyper copies head and body into one
/// buffer instead.
///
/// # Examples
///
/// ```no_run
/// use weft::compat::hyper::WeftIo;
///
/// # weft::block_on(async {
/// let stream = weft::net::TcpStream::connect("127.0.0.1:3000").await?;
/// let (sender, conn) = hyper::client::conn::http1::handshake::<_, String>(WeftIo::new(stream))
///     .await
///     .map_err(std::io::Error::other)?;
/// # drop((sender, conn));
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub struct WeftIo<T> {
    inner: T,
    write_vectored: bool,
}

impl<T> WeftIo<T> {
    /// Wraps `inner`, with vectored writes on.
    pub fn new(inner: T) -> WeftIo<T> {
        WeftIo {
            inner,
            write_vectored: true,
        }
    }

    /// Whether hyper should use `poll_write_vectored` (see [Writes](WeftIo#writes)).
    pub fn set_write_vectored(&mut self, on: bool) {
        self.write_vectored = on;
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably. Reading from it directly can take bytes hyper expects.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for WeftIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeftIo")
            .field("inner", &self.inner)
            .field("write_vectored", &self.write_vectored)
            .finish()
    }
}

impl<T: AsyncRead + Unpin> rt::Read for WeftIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let want = buf.remaining().min(SCRATCH_LEN);
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        let inner = &mut self.get_mut().inner;
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => read_via(inner, cx, &mut scratch, want, &mut buf),
            // Only if `inner`'s own read re-entered a `WeftIo` on this thread: use a fresh
            // buffer rather than fail.
            Err(_) => read_via(inner, cx, &mut Vec::new(), want, &mut buf),
        })
    }
}

/// Reads up to `want` bytes from `inner` into `scratch` (grown and zeroed on first use), then
/// copies them into `buf`.
fn read_via<T: AsyncRead + Unpin>(
    inner: &mut T,
    cx: &mut Context<'_>,
    scratch: &mut Vec<u8>,
    want: usize,
    buf: &mut ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    if scratch.len() < want {
        scratch.resize(SCRATCH_LEN.max(want), 0);
    }
    let n = ready!(Pin::new(inner).poll_read(cx, &mut scratch[..want]))?;
    // A reader that claims more than it was given is broken; never panic on it.
    let n = n.min(want);
    buf.put_slice(&scratch[..n]);
    Poll::Ready(Ok(()))
}

impl<T: AsyncWrite + Unpin> rt::Write for WeftIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.write_vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    /// `futures-io`'s `poll_close`: for weft's sockets, shuts the write side down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// `hyper::rt::Executor` for `Send` futures: each one becomes a weft task
/// ([`spawn`](crate::spawn)), detached.
///
/// HTTP/2 connections (server and client) spawn a task per stream through it; HTTP/1 needs
/// none. For a service whose futures are not `Send`, use [`LocalExecutor`].
///
/// # Panics
///
/// `execute` panics when called outside a weft runtime, as [`spawn`](crate::spawn) does.
/// hyper calls it while a connection is polled, so a connection driven by a weft task is
/// always inside one.
///
/// # Examples
///
/// ```
/// use weft::compat::hyper::{WeftExecutor, WeftTimer};
///
/// let mut builder = hyper::server::conn::http2::Builder::new(WeftExecutor::new());
/// builder.timer(WeftTimer::new());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WeftExecutor(());

impl WeftExecutor {
    /// The executor (it has no state: tasks go to the runtime that is current when hyper
    /// calls it).
    pub fn new() -> WeftExecutor {
        WeftExecutor(())
    }
}

impl<F> rt::Executor<F> for WeftExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        // Dropping the handle detaches the task: hyper tracks its streams itself.
        drop(crate::spawn(fut));
    }
}

/// `hyper::rt::Executor` for any future, `Send` or not: each one becomes a weft task on the
/// current thread ([`spawn_local`](crate::spawn_local)), detached.
///
/// With it, an HTTP/2 service may hold `Rc`s and `RefCell`s.
///
/// # Panics
///
/// `execute` panics when called outside a weft runtime, as [`spawn_local`](crate::spawn_local)
/// does.
///
/// # Examples
///
/// ```
/// use weft::compat::hyper::LocalExecutor;
///
/// let _builder = hyper::server::conn::http2::Builder::new(LocalExecutor::new());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalExecutor(());

impl LocalExecutor {
    /// The executor (it has no state: tasks go to the runtime of the thread that calls it).
    pub fn new() -> LocalExecutor {
        LocalExecutor(())
    }
}

impl<F> rt::Executor<F> for LocalExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, fut: F) {
        drop(crate::spawn_local(fut));
    }
}

/// `hyper::rt::Timer` on weft's timers: hyper's header-read timeout, HTTP/2 keep-alive pings
/// and the like arm a [`WeftSleep`] in the current runtime's timer wheel.
///
/// `now()` reads weft's clock ([`Instant::now`]), so hyper's timeouts follow a
/// [paused](crate::time::pause) clock in tests.
///
/// # Panics
///
/// A [`WeftSleep`] panics if polled outside a weft runtime before its deadline, as
/// [`Sleep`](crate::time::Sleep) does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::compat::hyper::WeftTimer;
///
/// let mut builder = hyper::server::conn::http1::Builder::new();
/// builder.timer(WeftTimer::new()).header_read_timeout(Duration::from_secs(5));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WeftTimer(());

impl WeftTimer {
    /// The timer (it has no state: sleeps register with the runtime that polls them).
    pub fn new() -> WeftTimer {
        WeftTimer(())
    }
}

impl rt::Timer for WeftTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(WeftSleep {
            inner: crate::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(WeftSleep {
            inner: crate::time::sleep_until(Instant::from_std(deadline)),
        })
    }

    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    /// Moves the timer in place when `sleep` is a [`WeftSleep`], which allocates nothing.
    fn reset(&self, sleep: &mut Pin<Box<dyn rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<WeftSleep>() {
            Some(weft_sleep) => weft_sleep.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The `hyper::rt::Sleep` that [`WeftTimer`] returns: a weft [`Sleep`](crate::time::Sleep).
///
/// # Cancel safety
///
/// Dropping it cancels the timer.
#[derive(Debug)]
pub struct WeftSleep {
    inner: crate::time::Sleep,
}

impl WeftSleep {
    /// Moves the deadline, as [`Sleep::reset`](crate::time::Sleep::reset).
    pub fn reset(self: Pin<&mut Self>, deadline: std::time::Instant) {
        Pin::new(&mut self.get_mut().inner).reset(Instant::from_std(deadline));
    }
}

impl Future for WeftSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}

impl rt::Sleep for WeftSleep {}
