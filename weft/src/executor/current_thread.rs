//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`.
//!
//! - `Core` (the run queue, the list of live tasks, the driver) belongs to
//!   the thread driving the runtime; it sits in the thread-local context
//!   while `block_on` runs, so a wake or spawn on that thread is a plain
//!   `VecDeque::push_back`: no lock, no atomic RMW, no system call.
//! - `Shared` is reachable from any thread (each task holds an `Arc` of it):
//!   a wake from elsewhere pushes to the `inject` queue under a mutex and
//!   unparks the driver, which costs a system call only if it is asleep.
//! - Fairness: the loop polls the driver (IO, timers, the inject queue)
//!   at least every `EVENT_INTERVAL` task polls, and takes from the inject
//!   queue first every `INJECT_INTERVAL` polls.
//! - Tasks woken by the driver (IO readiness, timers) wait in a queue of
//!   their own, and the loop takes from the two local queues in turn. A task
//!   that IO just made ready (an accept loop, a reader) therefore runs
//!   within a poll or two instead of behind every task spawned or yielded
//!   since, and neither queue can starve the other: each gets at least
//!   every other poll while both hold work. This is what lets 9,000
//!   clients that connect at once be accepted as fast as they connect, so
//!   the kernel's listen queue never overflows.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

use super::context::{self, CONTEXT};
use super::coop;
use super::driver::{self, Driver};
use crate::loom::lock;
use crate::task::list::OwnedList;
use crate::task::{new_task, JoinHandle, Notified, Schedule, Task};

/// Task polls between two looks at the driver (IO and timers), as tokio.
pub(crate) const EVENT_INTERVAL: u32 = 61;
/// Task polls between two looks at the inject queue ahead of the local one.
pub(crate) const INJECT_INTERVAL: u32 = 31;

type Queued = Notified<Arc<Shared>>;

pub(crate) struct Shared {
    inject: Mutex<Inject>,
    /// Length of `inject`, readable without the lock (a hint, exact under it).
    inject_len: AtomicUsize,
    pub(crate) driver: driver::Handle,
    pub(crate) blocking: Arc<crate::blocking::Pool>,
    /// The thread `spawn_local` was first used on: from then on the only
    /// thread that may drive or drop the runtime.
    pub(crate) local_thread: std::sync::OnceLock<std::thread::ThreadId>,
}

struct Inject {
    /// A task spawned from another thread carries its owner ref, which the
    /// core links into its owner list when it takes the task.
    queue: VecDeque<(Queued, Option<Task<Arc<Shared>>>)>,
    closed: bool,
}

pub(crate) struct Core {
    /// Tasks spawned, yielded or woken by other tasks.
    queue: VecDeque<Queued>,
    /// Tasks woken by the driver while it dispatched IO and timer events.
    io_queue: VecDeque<Queued>,
    /// True while the driver dispatches: wakes then go to `io_queue`.
    in_driver: bool,
    /// Which local queue the next poll prefers (flips every poll).
    prefer_io: bool,
    owned: OwnedList,
    tick: u32,
    pub(crate) driver: Option<Driver>,
    closed: bool,
    /// The address of the runtime's [`Shared`], compared (never dereferenced)
    /// by `context::with_core` to tell this core from another runtime's.
    owner: usize,
}

impl Shared {
    pub(crate) fn new(driver: driver::Handle, blocking: crate::blocking::pool::Config) -> Shared {
        Shared {
            inject: Mutex::new(Inject {
                queue: VecDeque::new(),
                closed: false,
            }),
            inject_len: AtomicUsize::new(0),
            driver,
            blocking: crate::blocking::Pool::new(blocking),
            local_thread: std::sync::OnceLock::new(),
        }
    }
}

impl Core {
    pub(crate) fn new(driver: Driver, owner: &Arc<Shared>) -> Box<Core> {
        Box::new(Core {
            owner: Arc::as_ptr(owner) as usize,
            queue: VecDeque::with_capacity(256),
            io_queue: VecDeque::with_capacity(256),
            in_driver: false,
            prefer_io: false,
            owned: OwnedList::new(),
            tick: 0,
            driver: Some(driver),
            closed: false,
        })
    }
}

impl Core {
    /// Whether this core belongs to the runtime of `shared`.
    #[inline]
    pub(crate) fn is_of(&self, shared: &Shared) -> bool {
        self.owner == shared as *const Shared as usize
    }

    /// Take from the two local queues in turn.
    fn pop_local(&mut self) -> Option<Queued> {
        self.prefer_io = !self.prefer_io;
        if self.prefer_io {
            self.io_queue.pop_front().or_else(|| self.queue.pop_front())
        } else {
            self.queue.pop_front().or_else(|| self.io_queue.pop_front())
        }
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Queued) {
        if let Err(task) = context::with_core(self, task, |core, task| {
            if core.in_driver {
                core.io_queue.push_back(task)
            } else {
                core.queue.push_back(task)
            }
        }) {
            // Not on the runtime's thread (or it is not driving now).
            self.push_remote(task, None);
        }
    }

    fn release(&self, task: &Task<Self>) -> bool {
        let ptr = task.header_ptr();
        context::with_core(self, (), |core, ()| core.owned.remove(ptr)).unwrap_or(false)
    }
}

impl Shared {
    /// Queue from another thread (or when the core is not reachable).
    fn push_remote(&self, task: Queued, owner: Option<Task<Arc<Shared>>>) {
        let mut inject = lock(&self.inject);
        if inject.closed {
            drop(inject);
            if let Some(owner) = owner {
                // Never reached the runtime: cancel it here.
                owner.shutdown();
            }
            return;
        }
        inject.queue.push_back((task, owner));
        self.inject_len.store(inject.queue.len(), Ordering::Release);
        drop(inject);
        self.driver.unpark();
    }

    fn pop_inject(&self, core: &mut Core) -> Option<Queued> {
        if self.inject_len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut inject = lock(&self.inject);
        let (task, owner) = inject.queue.pop_front()?;
        self.inject_len.store(inject.queue.len(), Ordering::Release);
        drop(inject);
        if let Some(owner) = owner {
            core.owned.push(owner);
        }
        Some(task)
    }

    fn next_task(&self, core: &mut Core) -> Option<Queued> {
        core.tick = core.tick.wrapping_add(1);
        if core.tick % INJECT_INTERVAL == 0 {
            self.pop_inject(core).or_else(|| core.pop_local())
        } else {
            core.pop_local().or_else(|| self.pop_inject(core))
        }
    }
}

/// Spawn onto `shared` from any thread.
pub(crate) fn spawn<F>(shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    let (owner, notified, join) = new_task(future, shared.clone());
    let res = context::with_core(shared, (owner, notified), |core, (owner, notified)| {
        if core.closed {
            return Some((owner, notified));
        }
        core.owned.push(owner);
        core.queue.push_back(notified);
        None
    });
    match res {
        Ok(None) => {}
        Ok(Some((owner, notified))) => {
            // The runtime is shutting down: the future is dropped now.
            drop(notified);
            owner.shutdown();
        }
        // Another thread, or the core is not here: take the remote path.
        Err((owner, notified)) => shared.push_remote(notified, Some(owner)),
    }
    join
}

/// The waker of the future passed to `block_on`.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.woken.swap(true, Ordering::AcqRel) {
            return;
        }
        // On the thread that drives this runtime (a task, or the driver
        // dispatching), the loop reads `woken` before it parks again: no
        // unpark, which would make its next park a needless zero-timeout
        // poll. From anywhere else, the loop may be asleep: unpark it.
        if context::with_core(&self.shared, (), |_, ()| ()).is_err() {
            self.shared.driver.unpark();
        }
    }
}

/// Drive the runtime until `future` completes. The core must already be in
/// this thread's context.
pub(crate) fn run<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let main = Arc::new(MainWaker {
        woken: AtomicBool::new(true),
        shared: shared.clone(),
    });
    let waker = Waker::from(main.clone());
    let mut cx = TaskContext::from_waker(&waker);

    loop {
        if main.woken.swap(false, Ordering::AcqRel) {
            if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                return out;
            }
        }
        let mut polled = 0;
        loop {
            if polled == EVENT_INTERVAL {
                park(shared, Some(Duration::ZERO));
                break;
            }
            let task = CONTEXT.with(|c| {
                let mut core = c.core.borrow_mut();
                // Invariant: `block_on` installed the core before calling `run`
                // and only takes it back after `run` returns.
                #[allow(clippy::expect_used)]
                let core = core.as_mut().expect("weft bug: run loop lost its core");
                shared.next_task(core)
            });
            match task {
                Some(task) => {
                    coop::budget(|| task.run());
                    polled += 1;
                }
                None => {
                    if !main.woken.load(Ordering::Acquire) {
                        park(shared, None);
                    } else if polled == 0 {
                        // Only the main future is busy: still look at IO.
                        park(shared, Some(Duration::ZERO));
                    }
                    break;
                }
            }
        }
    }
}

/// Park the driver: take it out of the core so that wakes it dispatches can
/// reach the run queue.
fn park(shared: &Arc<Shared>, timeout: Option<Duration>) {
    let driver = CONTEXT.with(|c| {
        c.core.borrow_mut().as_mut().and_then(|core| {
            core.in_driver = true;
            core.driver.take()
        })
    });
    let Some(mut driver) = driver else { return };
    driver.park(&shared.driver, timeout);
    CONTEXT.with(|c| {
        if let Some(core) = c.core.borrow_mut().as_mut() {
            core.in_driver = false;
            core.driver = Some(driver);
        }
    });
}

/// Shut the runtime down: cancel every task, drain the queues, stop the
/// drivers. The core must be in this thread's context.
pub(crate) fn shutdown(shared: &Arc<Shared>) {
    CONTEXT.with(|c| {
        if let Some(core) = c.core.borrow_mut().as_mut() {
            core.closed = true;
        }
    });
    lock(&shared.inject).closed = true;
    loop {
        // Cancel every live task. A task's destructor may spawn (refused
        // now) or wake others (queued, drained below).
        while let Some(task) = CONTEXT.with(|c| {
            c.core
                .borrow_mut()
                .as_mut()
                .and_then(|core| core.owned.pop::<Arc<Shared>>())
        }) {
            task.shutdown();
        }
        let local = CONTEXT.with(|c| {
            c.core
                .borrow_mut()
                .as_mut()
                .map(|core| {
                    let mut all = std::mem::take(&mut core.queue);
                    all.append(&mut core.io_queue);
                    all
                })
                .unwrap_or_default()
        });
        let remote: VecDeque<_> = std::mem::take(&mut lock(&shared.inject).queue);
        shared.inject_len.store(0, Ordering::Release);
        if local.is_empty() && remote.is_empty() {
            break;
        }
        drop(local);
        for (task, owner) in remote {
            drop(task);
            if let Some(owner) = owner {
                owner.shutdown();
            }
        }
    }
    // Drop the drivers: registrations and timers still held by someone
    // see "runtime shut down" errors from now on instead of hanging.
    let driver = CONTEXT.with(|c| {
        c.core
            .borrow_mut()
            .as_mut()
            .and_then(|core| core.driver.take())
    });
    drop(driver);
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("inject_len", &self.inject_len.load(Ordering::Relaxed))
            .finish()
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("queued", &(self.queue.len() + self.io_queue.len()))
            .field("owned", &self.owned.len())
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Shared>();
    fn is_send<T: Send>() {}
    is_send::<Core>();
}
