//! `Runtime` and its `Builder`.

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use super::context::{self, CONTEXT};
use super::current_thread::{self, Core, Shared};
use super::driver::{self, Driver};
use super::park::ParkThread;
use crate::loom::lock;
use crate::task::JoinHandle;
use crate::util::error::{NESTED_BLOCK_ON, NO_RUNTIME_SPAWN_LOCAL};

/// Builds a [`Runtime`] with custom settings.
///
/// # Examples
///
/// ```
/// let rt = weft::runtime::Builder::new_current_thread().build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: driver::Config,
    blocking: crate::blocking::pool::Config,
}

impl Builder {
    /// A builder for the single-threaded runtime: every task runs on the
    /// thread that calls [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder {
            config: driver::Config::default(),
            blocking: crate::blocking::pool::Config::default(),
        }
    }

    /// Alias of [`Builder::new_current_thread`].
    pub fn current_thread() -> Builder {
        Builder::new_current_thread()
    }

    /// Start with the clock paused (for tests): see `weft::time::pause`.
    pub fn start_paused(&mut self, paused: bool) -> &mut Builder {
        self.config.start_paused = paused;
        self
    }

    /// Which OS poller the event loop sleeps in (default: epoll on Linux).
    pub fn io_backend(&mut self, backend: crate::reactor::IoBackend) -> &mut Builder {
        self.config.io_backend = backend;
        self
    }

    /// The most threads the blocking pool may run at once (default 512).
    /// Jobs beyond it wait in a queue. A value of 0 is taken as 1.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        self.blocking.max_threads = n.max(1);
        self
    }

    /// How long an idle blocking-pool thread waits for a job before it
    /// exits (default 10 s).
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.blocking.keep_alive = keep_alive;
        self
    }

    /// Create the runtime.
    ///
    /// # Errors
    ///
    /// Fails if the OS refuses the driver's resources (the poller, the
    /// wakeup descriptor); the error names which.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let (driver, handle) = Driver::new(self.config)?;
        Ok(Runtime {
            shared: Arc::new(Shared::new(handle, self.blocking)),
            core: Mutex::new(Some(Core::new(driver))),
            core_waiters: Mutex::new(Vec::new()),
            shut_down: false,
        })
    }
}

/// The weft runtime: a scheduler, an event loop and a timer wheel.
///
/// Tasks spawned on it run while some thread is inside
/// [`block_on`](Runtime::block_on). Dropping the runtime cancels every task
/// it still holds (their futures are dropped on the dropping thread).
///
/// # Examples
///
/// ```
/// let rt = weft::Runtime::new()?;
/// let answer = rt.block_on(async {
///     let handle = weft::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    shared: Arc<Shared>,
    /// The core, while no thread is driving the runtime.
    core: Mutex<Option<Box<Core>>>,
    /// Threads in `block_on` waiting for the core to come back.
    core_waiters: Mutex<Vec<Waker>>,
    /// Set once shut down, so `Drop` after `shutdown_timeout` does nothing.
    shut_down: bool,
}

impl Runtime {
    /// A current-thread runtime with default settings.
    ///
    /// # Errors
    ///
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Runtime> {
        Builder::new_current_thread().build()
    }

    /// Run `future` to completion on this thread, running the runtime's
    /// tasks meanwhile, and return its output.
    ///
    /// # Panics
    ///
    /// Panics if called from inside a runtime (from `block_on` or a task):
    /// blocking the thread there would stop every task of that runtime.
    /// Resumes a panic raised by `future` itself.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let nested = CONTEXT.with(|c| c.in_block_on.replace(true));
        if nested {
            panic!("{}", NESTED_BLOCK_ON);
        }
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                let _ = CONTEXT.try_with(|c| c.in_block_on.set(false));
            }
        }
        let _leave = Leave;
        let _enter = context::enter(self.shared.clone());

        let mut future = std::pin::pin!(future);
        let park = Arc::new(ThreadWaker(ParkThread::new()));
        let waker = Waker::from(park.clone());
        loop {
            // (Bound first: a guard in the `if let` would live through the block.)
            let core = lock(&self.core).take();
            if let Some(core) = core {
                let _guard = CoreGuard::install(self, core);
                return current_thread::run(&self.shared, future);
            }
            // Another thread drives the runtime: poll our future alone
            // until the core comes back.
            let mut cx = Context::from_waker(&waker);
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            lock(&self.core_waiters).push(waker.clone());
            if lock(&self.core).is_some() {
                continue;
            }
            park.0.park(None);
        }
    }

    /// Spawn a task onto this runtime (from any thread). It runs the next
    /// time a thread drives the runtime with `block_on`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        current_thread::spawn(&self.shared, future)
    }

    /// Shut down: cancel every task, then wait up to `timeout` for
    /// blocking-pool jobs that are running (queued ones never start).
    /// Returns without waiting further when the time is up; the threads
    /// still running then finish on their own.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shut down without waiting for running blocking-pool jobs.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO)
    }

    fn shutdown(&mut self, blocking_timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let core = lock(&self.core).take();
        if let Some(core) = core {
            let _enter = context::enter(self.shared.clone());
            let _guard = CoreGuard::install(self, core);
            current_thread::shutdown(&self.shared);
        }
        self.shared.blocking.shutdown(blocking_timeout);
    }
}

impl Drop for Runtime {
    /// Cancels every task, then waits for running blocking jobs to finish
    /// (use [`Runtime::shutdown_timeout`] to bound that wait).
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("shared", &self.shared)
            .finish()
    }
}

/// Puts the core into this thread's context; gives it back to the runtime
/// (and wakes threads waiting for it) when dropped, even by a panic.
struct CoreGuard<'a> {
    rt: &'a Runtime,
}

impl<'a> CoreGuard<'a> {
    fn install(rt: &'a Runtime, core: Box<Core>) -> CoreGuard<'a> {
        CONTEXT.with(|c| *c.core.borrow_mut() = Some(core));
        CoreGuard { rt }
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        let core = CONTEXT
            .try_with(|c| c.core.borrow_mut().take())
            .ok()
            .flatten();
        if let Some(core) = core {
            *lock(&self.rt.core) = Some(core);
        }
        for w in std::mem::take(&mut *lock(&self.rt.core_waiters)) {
            w.wake();
        }
    }
}

struct ThreadWaker(ParkThread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Spawn a `!Send` future onto the current runtime's thread.
pub(crate) fn spawn_local_inner<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let shared = context::with_handle(|h| h.cloned());
    let on_runtime_thread =
        CONTEXT.with(|c| matches!(c.core.try_borrow(), Ok(core) if core.is_some()));
    match shared {
        Some(shared) if on_runtime_thread => current_thread::spawn(&shared, future),
        _ => panic!("{}", NO_RUNTIME_SPAWN_LOCAL),
    }
}
