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
use super::multi_thread;
use super::park::ParkThread;
use crate::loom::lock;
use crate::task::JoinHandle;
use crate::util::error::{
    LOCAL_TASKS_LEAKED, LOCAL_TASKS_PIN_THE_RUNTIME, NESTED_BLOCK_ON, NO_RUNTIME_HANDLE,
    NO_RUNTIME_SPAWN_LOCAL, SPAWN_LOCAL_MULTI_THREAD,
};

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
    /// `Some(n)`: the multi-thread runtime with `n` workers (0: one per CPU).
    workers: Option<usize>,
}

impl Builder {
    /// A builder for the single-threaded runtime: every task runs on the
    /// thread that calls [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder {
            config: driver::Config::default(),
            blocking: crate::blocking::pool::Config::default(),
            workers: None,
        }
    }

    /// A builder for the multi-thread runtime: `Send` tasks run on a pool
    /// of worker threads (one per CPU unless
    /// [`worker_threads`](Builder::worker_threads) says otherwise), which
    /// steal work from each other.
    ///
    /// ```
    /// let rt = weft::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
    /// let n = rt.block_on(async { weft::spawn(async { 20 + 22 }).await.unwrap() });
    /// assert_eq!(n, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder {
            workers: Some(0),
            ..Builder::new_current_thread()
        }
    }

    /// Alias of [`Builder::new_multi_thread`].
    pub fn multi_thread() -> Builder {
        Builder::new_multi_thread()
    }

    /// The number of worker threads of a multi-thread runtime (default: the
    /// number of CPUs). A value of 0 is taken as 1. Has no effect on the
    /// current-thread runtime.
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        if self.workers.is_some() {
            self.workers = Some(n.max(1));
        }
        self
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
    /// On the multi-thread runtime, fails also if a worker thread cannot be
    /// started, and with `InvalidInput` if `start_paused` was set (a paused
    /// clock needs the current-thread runtime).
    pub fn build(&mut self) -> io::Result<Runtime> {
        if let Some(workers) = self.workers {
            if self.config.start_paused {
                // An idle driver-holder would jump the clock while other
                // workers still run tasks.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "weft: `start_paused` needs the current-thread runtime \
                     (Builder::new_current_thread)",
                ));
            }
            let workers = match workers {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            };
            let (shared, threads) = multi_thread::start(multi_thread::Config {
                workers,
                driver: self.config,
                blocking: self.blocking,
            })?;
            return Ok(Runtime {
                flavor: Flavor::MultiThread {
                    shared,
                    threads: Mutex::new(Some(threads)),
                },
                shut_down: false,
            });
        }
        let (driver, handle) = Driver::new(self.config)?;
        let shared = Arc::new(Shared::new(handle, self.blocking));
        let core = Core::new(driver, &shared);
        Ok(Runtime {
            flavor: Flavor::CurrentThread(CurrentThread {
                shared,
                core: Mutex::new(Some(core)),
                core_waiters: Mutex::new(Vec::new()),
            }),
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
    flavor: Flavor,
    /// Set once shut down, so `Drop` after `shutdown_timeout` does nothing.
    shut_down: bool,
}

enum Flavor {
    CurrentThread(CurrentThread),
    MultiThread {
        shared: Arc<multi_thread::Shared>,
        /// The workers, until shutdown joins them.
        threads: Mutex<Option<multi_thread::Threads>>,
    },
}

struct CurrentThread {
    shared: Arc<Shared>,
    /// The core, while no thread is driving the runtime.
    core: Mutex<Option<Box<Core>>>,
    /// Threads in `block_on` waiting for the core to come back.
    core_waiters: Mutex<Vec<Waker>>,
}

/// A handle to a runtime: spawns onto it from any thread.
///
/// # Examples
///
/// ```
/// let rt = weft::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
/// let handle = rt.handle();
/// let join = std::thread::spawn(move || handle.spawn(async { 7 })).join().unwrap();
/// assert_eq!(rt.block_on(join).unwrap(), 7);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Handle {
    inner: context::Handle,
}

impl Handle {
    /// The handle of the runtime this thread is inside (in `block_on`, a
    /// task or a blocking closure).
    ///
    /// # Panics
    ///
    /// Panics outside a runtime; see [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(h) => h,
            None => panic!("{}", NO_RUNTIME_HANDLE),
        }
    }

    /// The handle of the runtime this thread is inside, if any.
    pub fn try_current() -> Option<Handle> {
        context::with_handle(|h| h.cloned()).map(|inner| Handle { inner })
    }

    /// Spawn a task onto the runtime. On a current-thread runtime it runs
    /// the next time a thread drives the runtime with `block_on`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Run a blocking closure on the runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.blocking().clone().spawn(f, self.inner.clone())
    }

    /// True if both handles point at the same runtime.
    pub fn ptr_eq(&self, other: &Handle) -> bool {
        match (&self.inner, &other.inner) {
            (context::Handle::CurrentThread(a), context::Handle::CurrentThread(b)) => {
                Arc::ptr_eq(a, b)
            }
            (context::Handle::MultiThread(a), context::Handle::MultiThread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
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
        let ct = match &self.flavor {
            Flavor::CurrentThread(ct) => ct,
            Flavor::MultiThread { shared, .. } => return multi_thread::block_on(shared, future),
        };
        if let Some(owner) = ct.shared.local_thread.get() {
            if *owner != std::thread::current().id() {
                panic!("{}", LOCAL_TASKS_PIN_THE_RUNTIME);
            }
        }
        let _enter = context::enter(context::Handle::CurrentThread(ct.shared.clone()));

        let mut future = std::pin::pin!(future);
        let park = Arc::new(ThreadWaker(ParkThread::new()));
        let waker = Waker::from(park.clone());
        loop {
            // (Bound first: a guard in the `if let` would live through the block.)
            let core = lock(&ct.core).take();
            if let Some(core) = core {
                let _guard = CoreGuard::install(ct, core);
                return current_thread::run(&ct.shared, future);
            }
            // Another thread drives the runtime: poll our future alone
            // until the core comes back.
            let mut cx = Context::from_waker(&waker);
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            {
                let mut waiters = lock(&ct.core_waiters);
                if !waiters.iter().any(|w| w.will_wake(&waker)) {
                    waiters.push(waker.clone());
                }
            }
            if lock(&ct.core).is_some() {
                continue;
            }
            park.0.park(None);
        }
    }

    /// Spawn a task onto this runtime (from any thread). On a
    /// current-thread runtime it runs the next time a thread drives the
    /// runtime with `block_on`; on a multi-thread one, at once.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.flavor {
            Flavor::CurrentThread(ct) => current_thread::spawn(&ct.shared, future),
            Flavor::MultiThread { shared, .. } => multi_thread::spawn(shared, future),
        }
    }

    /// A handle that spawns onto this runtime from any thread.
    pub fn handle(&self) -> Handle {
        let inner = match &self.flavor {
            Flavor::CurrentThread(ct) => context::Handle::CurrentThread(ct.shared.clone()),
            Flavor::MultiThread { shared, .. } => context::Handle::MultiThread(shared.clone()),
        };
        Handle { inner }
    }

    /// Shut down: cancel every task, then wait up to `timeout` for
    /// blocking-pool jobs that are running (queued ones never start). On a
    /// multi-thread runtime the wait for the workers (each finishes the
    /// poll it is in) is bounded by `timeout` too.
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
        let ct = match &self.flavor {
            Flavor::CurrentThread(ct) => ct,
            Flavor::MultiThread { shared, threads } => {
                let started = std::time::Instant::now();
                if let Some(threads) = lock(threads).take() {
                    multi_thread::shutdown(shared, threads, blocking_timeout);
                }
                let left = blocking_timeout.map(|t| t.saturating_sub(started.elapsed()));
                shared.blocking.shutdown(left);
                return;
            }
        };
        let core = lock(&ct.core).take();
        let foreign = ct
            .shared
            .local_thread
            .get()
            .is_some_and(|owner| *owner != std::thread::current().id());
        if foreign {
            // `!Send` futures from `spawn_local` may not be dropped here.
            // Leaking them is the only sound choice; say so.
            eprintln!("weft: {}", LOCAL_TASKS_LEAKED);
            std::mem::forget(core);
        } else if let Some(core) = core {
            let _enter = context::enter(context::Handle::CurrentThread(ct.shared.clone()));
            let _guard = CoreGuard::install(ct, core);
            current_thread::shutdown(&ct.shared);
        }
        ct.shared.blocking.shutdown(blocking_timeout);
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
        match &self.flavor {
            Flavor::CurrentThread(ct) => f
                .debug_struct("Runtime")
                .field("shared", &ct.shared)
                .finish(),
            Flavor::MultiThread { shared, .. } => {
                f.debug_struct("Runtime").field("shared", shared).finish()
            }
        }
    }
}

/// Puts the core into this thread's context; gives it back to the runtime
/// (and wakes threads waiting for it) when dropped, even by a panic.
/// A core already in the context (another runtime's, when this one is
/// dropped inside one of its tasks) is set aside and put back.
struct CoreGuard<'a> {
    rt: &'a CurrentThread,
    prev: Option<Box<Core>>,
}

impl<'a> CoreGuard<'a> {
    fn install(rt: &'a CurrentThread, core: Box<Core>) -> CoreGuard<'a> {
        let prev = CONTEXT.with(|c| c.core.borrow_mut().replace(core));
        CoreGuard { rt, prev }
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let core = CONTEXT
            .try_with(|c| std::mem::replace(&mut *c.core.borrow_mut(), prev))
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

pub(crate) struct ThreadWaker(pub(crate) ParkThread);

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
    // Inside a poll of a `LocalSet`, on either flavour: the set takes it.
    let future = match crate::task::local_set::try_spawn_current(future) {
        Ok(join) => return join,
        Err(future) => future,
    };
    let shared = context::with_handle(|h| h.cloned());
    let on_runtime_thread =
        CONTEXT.with(|c| matches!(c.core.try_borrow(), Ok(core) if core.is_some()));
    match shared {
        Some(context::Handle::MultiThread(_)) => panic!("{}", SPAWN_LOCAL_MULTI_THREAD),
        Some(context::Handle::CurrentThread(shared)) if on_runtime_thread => {
            // From now on only this thread may drive or drop the runtime.
            let me = std::thread::current().id();
            let _ = shared.local_thread.get_or_init(|| me);
            current_thread::spawn(&shared, future)
        }
        _ => panic!("{}", NO_RUNTIME_SPAWN_LOCAL),
    }
}
