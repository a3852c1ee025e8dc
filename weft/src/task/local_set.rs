//! `LocalSet`: a set of `!Send` tasks that all run on the thread that owns
//! the set, driven by whoever polls it, on either runtime flavour.
//!
//! The multi-thread runtime moves tasks between workers, so it cannot run a
//! future that is not `Send`. A `LocalSet` can: the set is itself `!Send`,
//! its tasks are polled only inside a poll of the set (of
//! [`LocalSet::run_until`], of the set awaited as a future, or of
//! [`LocalSet::block_on`]), and a future holding the set cannot leave its
//! thread. The set runs on the thread of the task or `block_on` that polls
//! it, and its tasks use that runtime's IO, timers and blocking pool.
//!
//! While a set is being polled, [`weft::spawn_local`](crate::spawn_local)
//! spawns onto it.
//!
//! # Examples
//!
//! A set awaited inside a task: it completes when its tasks have.
//!
//! ```
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use weft::task::LocalSet;
//!
//! weft::block_on(async {
//!     let hits = Rc::new(Cell::new(0));
//!     let local = LocalSet::new();
//!     for _ in 0..3 {
//!         let hits = hits.clone();
//!         local.spawn_local(async move { hits.set(hits.get() + 1) });
//!     }
//!     local.await;
//!     assert_eq!(hits.get(), 3);
//! });
//! ```
//!
//! # How it works
//!
//! - A `LocalContext` (behind an `Rc`, owned by the set) holds the run
//!   queue and the list of live tasks. While the set is polled it is this
//!   thread's `CURRENT` set, so a wake or spawn from one of its tasks is a
//!   plain `VecDeque` push: no lock, no atomic read-modify-write.
//! - `Shared` (behind an `Arc`, held by every task as its scheduler) is what
//!   other threads reach: a wake from elsewhere (a socket made ready by a
//!   worker polling the driver, a channel fed by a thread, a blocking job)
//!   pushes to its `remote` queue under a mutex and wakes the waker of the
//!   task polling the set, which the set stores on every poll. So does a
//!   wake on the owning thread while the set is not being polled; a spawn
//!   onto the set from outside its poll (another task holding it) queues
//!   locally and wakes that waker too.
//! - Budget: one poll of the set runs at most `MAX_TASKS_PER_TICK` task
//!   polls; if work is left it wakes its own waker and returns `Pending`, so
//!   a busy set never holds its host (a worker, a `block_on`) for long. It
//!   takes from the remote queue first every `REMOTE_INTERVAL` polls, and
//!   whenever the local queue is empty.
//! - Drop: dropping the set cancels every task still alive: each future is
//!   dropped there, on the owning thread, and each `JoinHandle` then reports
//!   a cancelled [`JoinError`](crate::task::JoinError). Wakes that arrive
//!   later are dropped by whichever thread makes them; by then only the
//!   task's counted memory is left, never a future.
//!
//! Why no `unsafe` here: a task's future is only reached through
//! `Notified::run` and `Task::shutdown`, which this module calls only from a
//! poll or the drop of the set, on the set's thread (the set is `!Send`),
//! which is the rule `Task`'s `Send` impl rests on.
#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::list::OwnedList;
use super::{new_task, JoinHandle, Notified, Schedule, Task};
use crate::executor::coop;
use crate::executor::Runtime;
use crate::loom::lock_model as lock;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Mutex;

/// Task polls in one poll of the set before it yields to its host.
pub(crate) const MAX_TASKS_PER_TICK: u32 = 61;
/// Task polls between two looks at the remote queue ahead of the local one.
pub(crate) const REMOTE_INTERVAL: u32 = 31;

type Queued = Notified<Arc<Shared>>;

#[cfg(all(test, loom))]
#[path = "loom_local_set.rs"]
mod loom_tests;

thread_local! {
    /// The set being polled on this thread right now, if any.
    static CURRENT: RefCell<Option<Rc<LocalContext>>> = const { RefCell::new(None) };
}

/// A set of tasks that need not be `Send`, run on the thread that owns
/// the set while it is polled.
///
/// Its tasks make progress only while the set is polled: inside
/// [`run_until`](LocalSet::run_until) or [`block_on`](LocalSet::block_on),
/// or while the set itself is awaited (it completes when every task of
/// the set has completed). Dropping the set cancels the tasks left.
///
/// # Examples
///
/// `Rc` (not `Send`) shared between tasks on the multi-thread runtime:
///
/// ```
/// use std::rc::Rc;
/// use weft::task::LocalSet;
///
/// let rt = weft::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
/// let local = LocalSet::new();
/// let total = local.block_on(&rt, async {
///     let shared = Rc::new(20);
///     let s = shared.clone();
///     // Runs on this thread, inside the set.
///     let a = weft::spawn_local(async move { *s + 1 });
///     // `Send` tasks still go to the workers.
///     let b = weft::spawn(async { 21 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(total, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// The set is neither `Send` nor `Sync`:
///
/// ```compile_fail
/// fn is_send<T: Send>() {}
/// is_send::<weft::task::LocalSet>();
/// ```
///
/// ```compile_fail
/// fn is_sync<T: Sync>() {}
/// is_sync::<weft::task::LocalSet>();
/// ```
///
/// So a future that holds a set cannot be spawned onto the multi-thread
/// runtime's workers, where it could move between threads; run the set in
/// `block_on` (or in a task of another set) instead:
///
/// ```compile_fail
/// let rt = weft::runtime::Builder::new_multi_thread().build().unwrap();
/// rt.block_on(async {
///     weft::spawn(async {
///         let local = weft::task::LocalSet::new();
///         local.run_until(async {}).await;
///     });
/// });
/// ```
///
/// Remote wakes reach the task that polled the set last: poll a set from
/// one place at a time.
pub struct LocalSet {
    context: Rc<LocalContext>,
}

/// The owning thread's half of a set.
struct LocalContext {
    shared: Arc<Shared>,
    state: RefCell<LocalState>,
    /// Task polls so far (drives `REMOTE_INTERVAL`).
    tick: Cell<u32>,
}

struct LocalState {
    /// Tasks spawned, or woken by the set's own tasks while it is polled.
    queue: VecDeque<Queued>,
    /// Every live task of the set.
    owned: OwnedList,
    /// Set by `Drop`: spawns from then on are cancelled at once.
    closed: bool,
}

/// The half of a set that other threads reach: each task's scheduler.
pub(crate) struct Shared {
    remote: Mutex<Remote>,
    /// Length of `remote.queue`, readable without the lock (a hint, exact
    /// under it).
    remote_len: AtomicUsize,
}

struct Remote {
    queue: VecDeque<Queued>,
    /// The waker of the task that polled the set last; taken by the first
    /// remote wake after that poll.
    waker: Option<Waker>,
    closed: bool,
}

impl LocalSet {
    /// An empty set.
    ///
    /// ```
    /// let local = weft::task::LocalSet::new();
    /// let join = local.spawn_local(async { 1 });
    /// weft::block_on(local.run_until(async move { assert_eq!(join.await.unwrap(), 1) }));
    /// ```
    pub fn new() -> LocalSet {
        LocalSet {
            context: Rc::new(LocalContext {
                shared: Arc::new(Shared::new()),
                state: RefCell::new(LocalState {
                    queue: VecDeque::with_capacity(64),
                    owned: OwnedList::new(),
                    closed: false,
                }),
                tick: Cell::new(0),
            }),
        }
    }

    /// Spawn a task that need not be `Send` onto this set. It runs the next
    /// time the set is polled; dropping the handle detaches it.
    ///
    /// Inside a poll of the set, [`weft::spawn_local`](crate::spawn_local)
    /// does the same.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let local = weft::task::LocalSet::new();
    /// let hits = Rc::new(Cell::new(0));
    /// let h = hits.clone();
    /// local.spawn_local(async move { h.set(h.get() + 1) });
    /// weft::block_on(local); // the set, awaited: runs until its tasks are done
    /// assert_eq!(hits.get(), 1);
    /// ```
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.context.spawn(future)
    }

    /// Run `future` to completion, running the set's tasks meanwhile.
    ///
    /// The returned future can be awaited anywhere on the set's thread: in
    /// `block_on` of either runtime flavour, or inside a task that stays on
    /// this thread. While it is polled, `weft::spawn_local` spawns onto this
    /// set. Tasks still running when `future` completes stay in the set.
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = weft::runtime::Builder::new_multi_thread().worker_threads(1).build()?;
    /// let local = weft::task::LocalSet::new();
    /// let n = rt.block_on(local.run_until(async {
    ///     let rc = Rc::new(41);
    ///     weft::spawn_local(async move { *rc + 1 }).await.unwrap()
    /// }));
    /// assert_eq!(n, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future drops `future`; the set's tasks are not
    /// affected.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| {
            let _enter = Enter::new(&self.context);
            self.context.shared.register(cx.waker());
            if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(cx)) {
                return Poll::Ready(out);
            }
            if self.context.run_tick() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }

    /// Run `future` to completion on `rt` (as
    /// [`Runtime::block_on`](crate::Runtime::block_on)), running the set's
    /// tasks on this thread meanwhile.
    ///
    /// # Panics
    ///
    /// As `Runtime::block_on`: panics if called from inside a runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

/// Awaiting the set runs its tasks until all of them have completed
/// (including tasks they spawn meanwhile).
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _enter = Enter::new(&self.context);
        self.context.shared.register(cx.waker());
        if self.context.run_tick() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.context.state.borrow().owned.len() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        let _enter = Enter::new(&self.context);
        self.context.state.borrow_mut().closed = true;
        self.context.shared.close();
        loop {
            // Cancel every live task; its future is dropped here. A
            // destructor may spawn (cancelled at once) or wake other tasks
            // (queued, dropped below).
            loop {
                let task = self.context.state.borrow_mut().owned.pop::<Arc<Shared>>();
                match task {
                    Some(task) => task.shutdown(),
                    None => break,
                }
            }
            let local = std::mem::take(&mut self.context.state.borrow_mut().queue);
            let remote = self.context.shared.take_remote();
            if local.is_empty() && remote.is_empty() {
                break;
            }
            drop(local);
            drop(remote);
        }
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.context.state.try_borrow();
        let mut d = f.debug_struct("LocalSet");
        if let Ok(state) = state {
            d.field("tasks", &state.owned.len())
                .field("queued", &state.queue.len());
        }
        d.field(
            "remote_queued",
            &self.context.shared.remote_len.load(Ordering::Relaxed),
        )
        .finish()
    }
}

impl LocalContext {
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (owner, notified, join) = new_task(future, self.shared.clone());
        let mut state = self.state.borrow_mut();
        if state.closed {
            drop(state);
            // The set is being dropped: the future is dropped now, and the
            // handle reports it cancelled.
            drop(notified);
            owner.shutdown();
            return join;
        }
        state.owned.push(owner);
        state.queue.push_back(notified);
        drop(state);
        if !self.is_current() {
            // Spawned from outside a poll of the set (another task holding
            // it, say): whoever polls the set must look again.
            self.shared.wake_poller();
        }
        join
    }

    /// True if this set is the one being polled on this thread.
    fn is_current(&self) -> bool {
        CURRENT
            .try_with(|c| {
                c.try_borrow().is_ok_and(|c| {
                    c.as_ref()
                        .is_some_and(|ctx| Arc::ptr_eq(&ctx.shared, &self.shared))
                })
            })
            .unwrap_or(false)
    }

    /// Run up to `MAX_TASKS_PER_TICK` tasks. True if work is left. Must be
    /// called with the set entered (tasks it completes leave the owner list
    /// through `CURRENT`).
    fn run_tick(&self) -> bool {
        for _ in 0..MAX_TASKS_PER_TICK {
            match self.next_task() {
                Some(task) => coop::budget(|| task.run()),
                None => return false,
            }
        }
        !self.state.borrow().queue.is_empty() || self.shared.remote_len.load(Ordering::Acquire) > 0
    }

    fn next_task(&self) -> Option<Queued> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        let mut state = self.state.borrow_mut();
        if tick % REMOTE_INTERVAL == 0 || state.queue.is_empty() {
            self.shared.drain_remote_into(&mut state.queue);
        }
        state.queue.pop_front()
    }
}

impl Shared {
    fn new() -> Shared {
        Shared {
            remote: Mutex::new(Remote {
                queue: VecDeque::new(),
                waker: None,
                closed: false,
            }),
            remote_len: AtomicUsize::new(0),
        }
    }

    /// Remember the waker of the task polling the set. Called before the
    /// set looks at its queues, so a remote wake after the look wakes it.
    fn register(&self, waker: &Waker) {
        let mut remote = lock(&self.remote);
        if !remote.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            remote.waker = Some(waker.clone());
        }
    }

    /// Queue a task from another thread (or from this one while the set is
    /// not being polled) and wake the set's poller.
    fn push_remote(&self, task: Queued) {
        let mut remote = lock(&self.remote);
        if remote.closed {
            drop(remote);
            // The set is gone or going: its tasks are cancelled (their
            // futures dropped on its thread), so this only drops a ref.
            drop(task);
            return;
        }
        remote.queue.push_back(task);
        self.remote_len.store(remote.queue.len(), Ordering::Release);
        let waker = remote.waker.take();
        drop(remote);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn drain_remote_into(&self, queue: &mut VecDeque<Queued>) {
        // Acquire pairs with the Release store in `push_remote`; a push that
        // this load misses wakes the poller, so the task is not lost.
        if self.remote_len.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut remote = lock(&self.remote);
        queue.append(&mut remote.queue);
        self.remote_len.store(0, Ordering::Release);
    }

    fn take_remote(&self) -> VecDeque<Queued> {
        let mut remote = lock(&self.remote);
        self.remote_len.store(0, Ordering::Release);
        std::mem::take(&mut remote.queue)
    }

    /// Wake the task that polled the set last, if no wake is owed it yet.
    fn wake_poller(&self) {
        let waker = lock(&self.remote).waker.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn close(&self) {
        let waker = {
            let mut remote = lock(&self.remote);
            remote.closed = true;
            remote.waker.take()
        };
        drop(waker);
    }
}

/// Run `f` on this thread's current set if it is the set of `shared` (and
/// its state is free); otherwise hand `value` back.
fn with_current<T, R>(
    shared: &Arc<Shared>,
    value: T,
    f: impl FnOnce(&mut LocalState, T) -> R,
) -> Result<R, T> {
    crate::util::local::lend(&CURRENT, value, |c, value| {
        let Ok(current) = c.try_borrow() else {
            return Err(value);
        };
        let Some(ctx) = current
            .as_ref()
            .filter(|ctx| Arc::ptr_eq(&ctx.shared, shared))
        else {
            return Err(value);
        };
        let res = match ctx.state.try_borrow_mut() {
            Ok(mut state) => Ok(f(&mut state, value)),
            Err(_) => Err(value),
        };
        res
    })
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Queued) {
        if let Err(task) = with_current(self, task, |state, task| state.queue.push_back(task)) {
            self.push_remote(task);
        }
    }

    fn release(&self, task: &Task<Self>) -> bool {
        let ptr = task.header_ptr();
        // Tasks complete only inside a poll or the drop of their set, with
        // the set entered. If it is not (it cannot be, today), the task stays
        // linked and the set's drop frees it.
        with_current(self, (), |state, ()| state.owned.remove(ptr)).unwrap_or(false)
    }
}

/// Makes a set this thread's current one; puts the previous back on drop
/// (sets nest: a task of one set may run another).
struct Enter {
    prev: Option<Option<Rc<LocalContext>>>,
}

impl Enter {
    fn new(context: &Rc<LocalContext>) -> Enter {
        let prev = CURRENT
            .try_with(|c| {
                c.try_borrow_mut()
                    .ok()
                    .map(|mut c| c.replace(context.clone()))
            })
            .ok()
            .flatten();
        Enter { prev }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        if let Some(prev) = self.prev.take() {
            let _ = CURRENT.try_with(|c| {
                if let Ok(mut c) = c.try_borrow_mut() {
                    *c = prev;
                }
            });
        }
    }
}

/// Spawn onto the set being polled on this thread; hands `future` back if
/// there is none.
pub(crate) fn try_spawn_current<F>(future: F) -> Result<JoinHandle<F::Output>, F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let current = CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten();
    match current {
        Some(ctx) => Ok(ctx.spawn(future)),
        None => Err(future),
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("local_set::Shared")
            .field("remote_queued", &self.remote_len.load(Ordering::Relaxed))
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_kinds() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Shared>();
}
