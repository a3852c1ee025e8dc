//! The runtimes under test, behind one trait so that every workload is
//! written once and monomorphized for each runtime.
//!
//! Each `block_on` builds a fresh runtime, runs the future on it and drops
//! the runtime, so no run inherits another's queues or task slabs. Building
//! and dropping are outside the timed part (workloads take their own
//! `Instant`s inside the future).
//!
//! To add a runtime: implement [`Runtime`] for a new unit struct and add it
//! to [`RUNTIMES`] and [`instantiate`].
//!
//! The TCP part of the trait (`bind`, `accept`, `connect`, and [`Conn`] for
//! each runtime's stream) uses each runtime's own calls, so `bind` listens
//! with the backlog that runtime picks by default ([`Runtime::BACKLOG`]).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::servers::conn::Conn;
use crate::workloads::{RunFn, Workload};

/// What a workload needs from a runtime. Associated functions, not methods:
/// like `weft::spawn` and `tokio::spawn`, spawning finds the current runtime
/// from the thread it runs on.
pub(crate) trait Runtime: 'static {
    /// The name printed in the table's header.
    const NAME: &'static str;

    /// A handle that resolves to the task's output (a failed task panics
    /// the benchmark: no workload expects one).
    type Join<T: Send + 'static>: Future<Output = T> + Send;

    /// Build a fresh current-thread runtime, run `fut` to completion on it,
    /// and drop the runtime.
    fn block_on<F: Future>(fut: F) -> F::Output;

    /// Spawn a task on the runtime of the current `block_on`.
    fn spawn<F>(fut: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// The runtime's own timer: complete after `d`.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// A listening TCP socket of the runtime.
    type Listener: Send + Sync + 'static;

    /// A connected TCP socket of the runtime.
    type Stream: Conn;

    /// The backlog the runtime's own `bind` passes to `listen(2)` (the
    /// kernel caps it at `net.core.somaxconn`).
    const BACKLOG: i32;

    /// Bind `addr` and listen, the runtime's default way (its backlog).
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// Adopt a bound, listening std socket (inside `block_on`).
    fn from_std(listener: std::net::TcpListener) -> io::Result<Self::Listener>;

    /// The address `listener` is bound to.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;

    /// Accept one connection.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;

    /// Connect to `addr`.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// The runtimes, in the order they run in each round and appear in the table.
pub(crate) const RUNTIMES: [&str; 3] = [Weft::NAME, Tokio::NAME, Smol::NAME];

/// The runtime every other is compared with (the table's ratio columns).
pub(crate) const REFERENCE: usize = 1;

/// `W::run` for each runtime of [`RUNTIMES`], in the same order.
pub(crate) fn instantiate<W: Workload>() -> [RunFn; RUNTIMES.len()] {
    [W::run::<Weft>, W::run::<Tokio>, W::run::<Smol>]
}

/// weft's current-thread runtime.
pub(crate) struct Weft;

/// A weft `JoinHandle` that unwraps the task's result.
pub(crate) struct WeftJoin<T>(weft::task::JoinHandle<T>);

impl<T> Future for WeftJoin<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(v),
            Poll::Ready(Err(e)) => panic!("a weft task failed: {e}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Runtime for Weft {
    const NAME: &'static str = "weft";
    type Join<T: Send + 'static> = WeftJoin<T>;

    fn block_on<F: Future>(fut: F) -> F::Output {
        let rt = match weft::runtime::Builder::new_current_thread().build() {
            Ok(rt) => rt,
            Err(e) => panic!("cannot build weft's current-thread runtime: {e}"),
        };
        rt.block_on(fut)
    }

    fn spawn<F>(fut: F) -> WeftJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        WeftJoin(weft::spawn(fut))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        weft::task::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        weft::time::sleep(d)
    }

    type Listener = weft::net::TcpListener;
    type Stream = weft::net::TcpStream;

    /// `weft::net::BACKLOG`: as deep as the kernel allows.
    const BACKLOG: i32 = 65535;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<weft::net::TcpListener>> + Send {
        weft::net::TcpListener::bind(addr)
    }

    fn from_std(listener: std::net::TcpListener) -> io::Result<weft::net::TcpListener> {
        weft::net::TcpListener::from_std(listener)
    }

    fn local_addr(listener: &weft::net::TcpListener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &weft::net::TcpListener) -> io::Result<weft::net::TcpStream> {
        listener.accept().await.map(|(s, _)| s)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<weft::net::TcpStream>> + Send {
        weft::net::TcpStream::connect(addr)
    }
}

impl Conn for weft::net::TcpStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncRead::poll_read(Pin::new(self), cx, buf)
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncWrite::poll_write(Pin::new(self), cx, buf)
    }
}

/// tokio's current-thread runtime with every driver enabled, as
/// `#[tokio::main(flavor = "current_thread")]` builds it.
pub(crate) struct Tokio;

/// A tokio `JoinHandle` that unwraps the task's result.
pub(crate) struct TokioJoin<T>(tokio::task::JoinHandle<T>);

impl<T> Future for TokioJoin<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(v),
            Poll::Ready(Err(e)) => panic!("a tokio task failed: {e}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Runtime for Tokio {
    const NAME: &'static str = "tokio";
    type Join<T: Send + 'static> = TokioJoin<T>;

    fn block_on<F: Future>(fut: F) -> F::Output {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("cannot build tokio's current-thread runtime: {e}"),
        };
        rt.block_on(fut)
    }

    fn spawn<F>(fut: F) -> TokioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioJoin(tokio::spawn(fut))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }

    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;

    /// mio's `TcpListener::bind`, which tokio's calls: std's value.
    const BACKLOG: i32 = 128;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<tokio::net::TcpListener>> + Send {
        tokio::net::TcpListener::bind(addr)
    }

    fn from_std(listener: std::net::TcpListener) -> io::Result<tokio::net::TcpListener> {
        listener.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(listener)
    }

    fn local_addr(listener: &tokio::net::TcpListener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &tokio::net::TcpListener) -> io::Result<tokio::net::TcpStream> {
        listener.accept().await.map(|(s, _)| s)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<tokio::net::TcpStream>> + Send {
        tokio::net::TcpStream::connect(addr)
    }
}

impl Conn for tokio::net::TcpStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // What tokio's own `read` future does: fill a ReadBuf over `buf`.
        let mut rb = tokio::io::ReadBuf::new(buf);
        match tokio::io::AsyncRead::poll_read(Pin::new(self), cx, &mut rb) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(rb.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(self), cx, buf)
    }
}

/// smol: an `async_executor::LocalExecutor` driven by `async_io::block_on`.
///
/// smol has no ambient "current executor", so `block_on` puts a fresh one
/// in a thread-local for `spawn` to find (tokio and weft look their context
/// up in a thread-local too; the lookup costs a few ns beside a spawn).
pub(crate) struct Smol;

thread_local! {
    static SMOL_EXECUTOR: RefCell<Option<Rc<async_executor::LocalExecutor<'static>>>> =
        const { RefCell::new(None) };
}

impl Runtime for Smol {
    const NAME: &'static str = "smol";
    type Join<T: Send + 'static> = async_executor::Task<T>;

    fn block_on<F: Future>(fut: F) -> F::Output {
        let ex = Rc::new(async_executor::LocalExecutor::new());
        let previous = SMOL_EXECUTOR.with(|slot| slot.replace(Some(ex.clone())));
        assert!(previous.is_none(), "Smol::block_on called inside itself");
        // Clear the slot even if the future panics, so the executor (and the
        // tasks it still holds) is dropped here rather than at thread exit.
        struct Clear;
        impl Drop for Clear {
            fn drop(&mut self) {
                let _ = SMOL_EXECUTOR.try_with(|slot| slot.borrow_mut().take());
            }
        }
        let _clear = Clear;
        async_io::block_on(ex.run(fut))
    }

    fn spawn<F>(fut: F) -> async_executor::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_EXECUTOR.with(|slot| match slot.borrow().as_ref() {
            Some(ex) => ex.spawn(fut),
            None => panic!("Smol::spawn called outside Smol::block_on"),
        })
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    async fn sleep(d: Duration) {
        async_io::Timer::after(d).await;
    }

    type Listener = async_io::Async<std::net::TcpListener>;
    type Stream = async_io::Async<std::net::TcpStream>;

    /// `std::net::TcpListener::bind`'s, which async-io's calls.
    const BACKLOG: i32 = 128;

    async fn bind(addr: SocketAddr) -> io::Result<async_io::Async<std::net::TcpListener>> {
        async_io::Async::<std::net::TcpListener>::bind(addr)
    }

    fn from_std(
        listener: std::net::TcpListener,
    ) -> io::Result<async_io::Async<std::net::TcpListener>> {
        async_io::Async::new(listener)
    }

    fn local_addr(listener: &async_io::Async<std::net::TcpListener>) -> io::Result<SocketAddr> {
        listener.get_ref().local_addr()
    }

    async fn accept(
        listener: &async_io::Async<std::net::TcpListener>,
    ) -> io::Result<async_io::Async<std::net::TcpStream>> {
        listener.accept().await.map(|(s, _)| s)
    }

    fn connect(
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<async_io::Async<std::net::TcpStream>>> + Send {
        async_io::Async::<std::net::TcpStream>::connect(addr)
    }
}

impl Conn for async_io::Async<std::net::TcpStream> {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncRead::poll_read(Pin::new(self), cx, buf)
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncWrite::poll_write(Pin::new(self), cx, buf)
    }
}
