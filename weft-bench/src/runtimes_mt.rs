//! The multi-thread flavour's runtimes (`--flavor multi --workers N`),
//! behind one trait so that every workload and server is written once:
//! weft's and tokio's multi-thread runtimes with `N` worker threads, and
//! smol's `async_executor::Executor` run by `N` threads, each in
//! `async_io::block_on(executor.run(..))`.
//!
//! In each, `block_on` runs its future on the calling thread, which is not
//! one of the `N` workers (tokio's and weft's `Runtime::block_on`; for smol
//! the caller only polls the future, with `futures_lite::future::block_on`,
//! and the `N` threads run the tasks and drive `async-io`'s reactor), so
//! a workload's "outside" spawns come from a thread that is not a worker
//! and the work itself runs on exactly `N` threads.
//!
//! Kept apart from [`crate::runtimes`] (the current-thread flavour): its
//! `block_on` takes the worker count, its join handles are `'static` (a
//! task may await another task's handle), and its sockets are set to
//! `TCP_NODELAY` where they are made.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::net_load::Proto;
use crate::runtimes::{Runtime, Tokio, TokioJoin, Weft, WeftJoin};
use crate::servers::conn::{self, Conn, SmolConn, TokioConn, WeftConn};
use crate::workloads::RunFn;

/// What a multi-thread workload needs from a runtime.
pub(crate) trait MultiRuntime: 'static {
    /// The column's name.
    const NAME: &'static str;

    /// A handle that resolves to the task's output (a failed task panics
    /// the benchmark). Dropping it detaches the task.
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// A listening socket of this runtime.
    type Listener: Send + Sync + 'static;

    /// A connected socket of this runtime.
    type Stream: Conn;

    /// Build a fresh runtime with `workers` worker threads, run `fut` on
    /// the calling thread until it completes, then shut the runtime down
    /// and join its threads.
    fn block_on<F: Future>(workers: usize, fut: F) -> F::Output;

    /// Spawn a task on the runtime of the current `block_on` (from the
    /// `block_on` thread or from a task).
    fn spawn<F>(fut: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Adopt a bound std listener (inside `block_on`).
    fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener>;

    /// Accept one connection, with `TCP_NODELAY` set.
    fn accept(listener: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Connect to `addr`, with `TCP_NODELAY` set.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// The runtimes, in column order (the same columns as the current-thread
/// flavour's [`crate::runtimes::RUNTIMES`]).
pub(crate) const RUNTIMES: [&str; 3] = [WeftMt::NAME, TokioMt::NAME, SmolMt::NAME];

/// A generic function instantiated for each runtime of [`RUNTIMES`].
pub(crate) trait MultiWorkload {
    /// One run on a fresh runtime `R`.
    fn run<R: MultiRuntime>(cfg: &crate::workloads::Config) -> Vec<crate::workloads::Sample>;
}

/// `W::run` for each runtime of [`RUNTIMES`], in the same order.
pub(crate) fn instantiate<W: MultiWorkload>() -> [RunFn; RUNTIMES.len()] {
    [W::run::<WeftMt>, W::run::<TokioMt>, W::run::<SmolMt>]
}

/// weft's multi-thread runtime.
pub(crate) struct WeftMt;

impl MultiRuntime for WeftMt {
    const NAME: &'static str = "weft-mt";
    type Join<T: Send + 'static> = WeftJoin<T>;
    type Listener = weft::net::TcpListener;
    type Stream = WeftConn;

    fn block_on<F: Future>(workers: usize, fut: F) -> F::Output {
        let rt = match weft::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("cannot build weft's multi-thread runtime ({workers} workers): {e}"),
        };
        rt.block_on(fut)
    }

    fn spawn<F>(fut: F) -> WeftJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Weft::spawn(fut)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        weft::task::yield_now()
    }

    fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener> {
        weft::net::TcpListener::from_std(listener)
    }

    async fn accept(listener: &Self::Listener) -> io::Result<WeftConn> {
        let (s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        Ok(WeftConn(s))
    }

    async fn connect(addr: SocketAddr) -> io::Result<WeftConn> {
        let s = weft::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(WeftConn(s))
    }
}

/// tokio's multi-thread runtime with every driver enabled, as
/// `#[tokio::main(flavor = "multi_thread", worker_threads = N)]` builds it.
pub(crate) struct TokioMt;

impl MultiRuntime for TokioMt {
    const NAME: &'static str = "tokio-mt";
    type Join<T: Send + 'static> = TokioJoin<T>;
    type Listener = tokio::net::TcpListener;
    type Stream = TokioConn;

    fn block_on<F: Future>(workers: usize, fut: F) -> F::Output {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("cannot build tokio's multi-thread runtime ({workers} workers): {e}"),
        };
        rt.block_on(fut)
    }

    fn spawn<F>(fut: F) -> TokioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Tokio::spawn(fut)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener> {
        listener.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(listener)
    }

    async fn accept(listener: &Self::Listener) -> io::Result<TokioConn> {
        let (s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        Ok(TokioConn(s))
    }

    async fn connect(addr: SocketAddr) -> io::Result<TokioConn> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(TokioConn(s))
    }
}

/// smol with several threads: one `async_executor::Executor` that `N`
/// threads run (`async_io::block_on(ex.run(..))` each, as smol's docs
/// suggest for a thread pool), `async-io`'s reactor driven by whichever of
/// them is idle.
///
/// smol has no ambient executor, so each of those threads, and the
/// `block_on` thread, keep it in a thread-local for `spawn` to find.
pub(crate) struct SmolMt;

thread_local! {
    static SMOL_MT: RefCell<Option<Arc<async_executor::Executor<'static>>>> =
        const { RefCell::new(None) };
}

/// Puts the executor in this thread's [`SMOL_MT`] until dropped.
struct SmolEnter;

impl SmolEnter {
    fn new(ex: &Arc<async_executor::Executor<'static>>) -> SmolEnter {
        let previous = SMOL_MT.with(|slot| slot.replace(Some(ex.clone())));
        assert!(previous.is_none(), "SmolMt::block_on called inside itself");
        SmolEnter
    }
}

impl Drop for SmolEnter {
    fn drop(&mut self) {
        let _ = SMOL_MT.try_with(|slot| slot.borrow_mut().take());
    }
}

/// A smol task that unwraps to its output and is detached, not
/// cancelled, when dropped (like tokio's and weft's handles).
pub(crate) struct SmolJoin<T>(Option<async_executor::Task<T>>);

impl<T> Future for SmolJoin<T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        match self.0.as_mut() {
            Some(t) => std::pin::Pin::new(t).poll(cx),
            None => panic!("a SmolJoin polled after it completed"),
        }
    }
}

impl<T> Drop for SmolJoin<T> {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.detach();
        }
    }
}

impl MultiRuntime for SmolMt {
    const NAME: &'static str = "smol-mt";
    type Join<T: Send + 'static> = SmolJoin<T>;
    type Listener = async_io::Async<std::net::TcpListener>;
    type Stream = SmolConn;

    fn block_on<F: Future>(workers: usize, fut: F) -> F::Output {
        let ex = Arc::new(async_executor::Executor::new());
        // Never sent on: closed when `block_on` returns (or unwinds), which
        // ends every worker's `run`.
        let (stop, stopped) = async_channel::bounded::<()>(1);
        std::thread::scope(|scope| {
            for i in 0..workers.max(1) {
                let (ex, stopped) = (ex.clone(), stopped.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn_scoped(scope, move || {
                        let _enter = SmolEnter::new(&ex);
                        async_io::block_on(ex.run(async move {
                            let _ = stopped.recv().await;
                        }));
                    });
                if let Err(e) = spawned {
                    panic!("cannot start smol worker thread {i}: {e}");
                }
            }
            let _enter = SmolEnter::new(&ex);
            // Only polls `fut`: `futures_lite`'s `block_on`, unlike
            // `async_io`'s, never drives the reactor, so the IO work stays
            // on the N workers (as on tokio's and weft's `block_on` thread).
            let out = futures_lite::future::block_on(fut);
            drop(stop);
            out
        })
    }

    fn spawn<F>(fut: F) -> SmolJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_MT.with(|slot| match slot.borrow().as_ref() {
            Some(ex) => SmolJoin(Some(ex.spawn(fut))),
            None => panic!("SmolMt::spawn called outside SmolMt::block_on"),
        })
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener> {
        async_io::Async::new(listener)
    }

    async fn accept(listener: &Self::Listener) -> io::Result<SmolConn> {
        let (s, _) = listener.accept().await?;
        s.get_ref().set_nodelay(true)?;
        Ok(SmolConn(s))
    }

    async fn connect(addr: SocketAddr) -> io::Result<SmolConn> {
        let s = async_io::Async::<std::net::TcpStream>::connect(addr).await?;
        s.get_ref().set_nodelay(true)?;
        Ok(SmolConn(s))
    }
}

/// Serve `proto` forever on runtime `R` with `workers` workers: the accept
/// loop is a task like every connection, so the server's work runs on
/// exactly the `workers` threads (the `block_on` thread only waits).
pub(crate) fn serve<R: MultiRuntime>(
    listener: std::net::TcpListener,
    proto: Proto,
    workers: usize,
) -> io::Result<()> {
    R::block_on(workers, async move {
        let listener = R::listen(listener)?;
        R::spawn(async move {
            loop {
                match R::accept(&listener).await {
                    Ok(s) => drop(R::spawn(conn::handle(proto, s))),
                    Err(e) => conn::accept_failed(&e),
                }
            }
        })
        .await
    })
}

/// [`serve`] on the runtime named `server` (a column of [`RUNTIMES`] or
/// the current-thread names `weft`, `tokio`, `smol`).
pub(crate) fn serve_named(
    server: &str,
    listener: std::net::TcpListener,
    proto: Proto,
    workers: usize,
) -> Option<io::Result<()>> {
    Some(match server {
        "weft" | "weft-mt" => serve::<WeftMt>(listener, proto, workers),
        "tokio" | "tokio-mt" => serve::<TokioMt>(listener, proto, workers),
        "smol" | "smol-mt" => serve::<SmolMt>(listener, proto, workers),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Tasks spawned from outside and from inside run on worker threads,
    /// their handles can be awaited from other tasks, and dropping a
    /// handle detaches the task.
    fn spawns_run_on_workers<R: MultiRuntime>() {
        let detached = Arc::new(AtomicUsize::new(0));
        let ran = detached.clone();
        let main = std::thread::current().id();
        let (n, inner) = R::block_on(2, async move {
            let hs: Vec<_> = (0..100)
                .map(|i| R::spawn(async move { (i, std::thread::current().id()) }))
                .collect();
            let outer = R::spawn(async move {
                let mut n = 0;
                for h in hs {
                    let (i, id) = h.await;
                    assert_ne!(id, main);
                    n += i;
                }
                let (tx, rx) = async_channel::bounded(1);
                drop(R::spawn(async move {
                    R::yield_now().await;
                    ran.fetch_add(1, Ordering::SeqCst);
                    let _ = tx.send(()).await;
                }));
                let _ = rx.recv().await;
                (n, R::spawn(async { 7 }).await)
            });
            outer.await
        });
        assert_eq!(n, (0..100).sum::<i32>());
        assert_eq!(inner, 7);
        assert_eq!(detached.load(Ordering::SeqCst), 1, "{}", R::NAME);
    }

    #[test]
    fn weft_spawns_run_on_workers() {
        spawns_run_on_workers::<WeftMt>();
    }

    #[test]
    fn tokio_spawns_run_on_workers() {
        spawns_run_on_workers::<TokioMt>();
    }

    #[test]
    fn smol_spawns_run_on_workers() {
        spawns_run_on_workers::<SmolMt>();
    }
}
