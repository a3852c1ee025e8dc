//! Tasks: the unit the executor schedules, and the handles to them.
//!
//! # How a task is laid out
//!
//! A spawned future lives in exactly one heap allocation (`raw::Cell`):
//! a `Header` (atomic state word, vtable, owner-list links, id), the
//! scheduler handle, the join waker slot, and a `Stage` that holds first
//! the future, then its output. A `Waker` is a pointer to that header; so
//! are `Notified` (a queued task), `Task` (the owner list's entry) and
//! `JoinHandle`. Each of them is a counted reference.
//!
//! # The state word (`state.rs`)
//!
//! | bit | meaning |
//! |---|---|
//! | `RUNNING` | one thread is polling or cancelling the future; it alone may touch the stage |
//! | `COMPLETE` | the future is gone and the output stored (or consumed) |
//! | `NOTIFIED` | a `Notified` ref exists, or the task was woken while running |
//! | `CANCELLED` | `abort()` or shutdown asked for the future to be dropped |
//! | `JOIN_INTEREST` | the `JoinHandle` exists; after `COMPLETE` it owns the output |
//! | `JOIN_WAKER` | the join waker slot is published to the runtime |
//!
//! The bits above them count references. At spawn there are three: the
//! owner list's, the `JoinHandle`'s and the first `Notified`.
//!
//! # Who may touch what
//!
//! - The stage: the holder of `RUNNING`; after `COMPLETE`, the holder of
//!   `JOIN_INTEREST`, or the runtime if the handle is gone.
//! - The join waker slot: the `JoinHandle` while `JOIN_WAKER` is clear; the
//!   runtime, read-only, while it is set and the task is complete.
//! - The owner-list links: the thread that owns the scheduler core.
//!
//! # Rules the state machine keeps
//!
//! - A wake never queues a task twice: only the transition that sets
//!   `NOTIFIED` from clear (and not running) submits it.
//! - A wake during a poll sets `NOTIFIED`; when the poll returns `Pending`
//!   the running ref becomes the new `Notified` and the task is queued
//!   again, so it runs once more after the current poll.
//! - A wake never polls inline: it only queues. Deep wake chains cannot
//!   overflow the stack.
//! - `abort()` only sets bits (and queues an idle task): the future is
//!   dropped by the runtime's thread, at its next chance.
//! - Panics in `poll`, in the future's destructor and in the output's
//!   destructor are caught; the first becomes `JoinError::is_panic`.

pub(crate) mod error;
pub(crate) mod list;
pub(crate) mod local_set;
pub(crate) mod raw;
pub(crate) mod state;
mod yield_now;

#[cfg(all(test, loom))]
mod loom_tests;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

pub use self::error::JoinError;
pub use self::local_set::LocalSet;
pub use self::yield_now::yield_now;
pub use crate::blocking::spawn_blocking;
pub use crate::executor::coop::consume_budget;
pub use crate::executor::{spawn, spawn_local};

use self::raw::Header;

/// A task's id, unique among the tasks of this process.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

impl Id {
    pub(crate) fn next() -> Id {
        /// Ids a thread takes from the shared counter at a time.
        const BLOCK: u64 = 256;
        // Relaxed: only uniqueness matters, not ordering with other memory.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            /// The rest of this thread's block: the next id and the end.
            static MINE: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
        }
        // One atomic add per 256 spawns instead of one per spawn (it was a third of
        // `spawn`'s own time); ids stay unique, but are no longer in spawn order across
        // threads. A thread whose locals are gone takes one id at a time.
        let id = MINE
            .try_with(|mine| {
                let (next, end) = mine.get();
                if next < end {
                    mine.set((next + 1, end));
                    next
                } else {
                    let base = NEXT.fetch_add(BLOCK, Ordering::Relaxed);
                    mine.set((base + 1, base + BLOCK));
                    base
                }
            })
            .unwrap_or_else(|_| NEXT.fetch_add(1, Ordering::Relaxed));
        Id(id)
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// What a task needs from the scheduler that runs it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queue a task to be polled (from a wake, on any thread).
    fn schedule(&self, task: Notified<Self>);

    /// The task completed: unlink it from the owner list if it is there.
    /// True if it was, and so the list's ref is now the caller's to drop.
    fn release(&self, task: &Task<Self>) -> bool;
}

/// A counted reference to a task, typed by its scheduler.
pub(crate) struct Task<S: 'static> {
    ptr: NonNull<Header>,
    _s: PhantomData<S>,
}

// SAFETY: a Task only reaches the future through the vtable's `poll` and
// `shutdown`, which the schedulers call on the thread that owns the task
// (for `!Send` futures, the thread they were spawned on); everything else a
// Task touches is atomic.
unsafe impl<S> Send for Task<S> {}
// SAFETY: as above; `&Task` exposes nothing but atomic state.
unsafe impl<S> Sync for Task<S> {}

impl<S: 'static> Task<S> {
    /// Take over one ref.
    pub(crate) fn from_raw(ptr: NonNull<Header>) -> Task<S> {
        Task {
            ptr,
            _s: PhantomData,
        }
    }

    /// A `Task` that must not drop its ref (see `raw::complete`).
    pub(crate) fn borrowed(ptr: NonNull<Header>) -> std::mem::ManuallyDrop<Task<S>> {
        std::mem::ManuallyDrop::new(Task::from_raw(ptr))
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.ptr;
        std::mem::forget(self);
        ptr
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    fn header(&self) -> &Header {
        // SAFETY: our ref keeps the task alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Runtime shutdown: cancel the task if it is idle. Called by the owner
    /// thread with the task already unlinked from the owner list.
    pub(crate) fn shutdown(&self) {
        // SAFETY: our ref keeps the task alive; the vtable matches the task.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last ref.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
}

impl<S> fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: our ref keeps the task alive.
        let h = unsafe { self.ptr.as_ref() };
        write!(f, "Task({}, {:?})", h.id, h.state)
    }
}

/// A task that is queued to be polled; holds the `Notified` ref.
pub(crate) struct Notified<S: 'static>(pub(crate) Task<S>);

impl<S: 'static> Notified<S> {
    /// Poll the task (or cancel it, if asked). Must run on the thread that
    /// owns the task.
    pub(crate) fn run(self) {
        let ptr = self.0.into_raw();
        // SAFETY: the Notified ref is handed to `poll`, which consumes it.
        unsafe { (ptr.as_ref().vtable.poll)(ptr) }
    }
}

impl<S> fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Notified({:?})", self.0)
    }
}

/// Allocate a task for `future` on `scheduler`: returns the owner-list ref,
/// the first `Notified` and the `JoinHandle`.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let ptr = raw::allocate(future, scheduler, Id::next());
    (
        Task::from_raw(ptr),
        Notified(Task::from_raw(ptr)),
        JoinHandle::from_raw(ptr),
    )
}

/// An owned permission to await a task's output.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked or
/// was cancelled. Dropping it detaches the task: the task keeps running and
/// its output is dropped when it completes.
///
/// # Cancel safety
///
/// Awaiting a `JoinHandle` is cancel safe: dropping the `.await` leaves the
/// task running, and the output stays available to a later poll.
pub struct JoinHandle<T> {
    ptr: NonNull<Header>,
    _t: PhantomData<T>,
}

// SAFETY: the handle only reads the output (a `T`) and touches atomics and
// the join waker slot under the state protocol; sending it is sending a `T`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort`/`is_finished`/`id`, all atomic.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    fn from_raw(ptr: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            ptr,
            _t: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle's ref keeps the task alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Cancel the task. Its future is dropped on the runtime's thread at the
    /// next chance (at once if it is idle; after the current poll if it is
    /// running), and awaiting this handle then yields a cancelled
    /// [`JoinError`], unless the task completed first.
    pub fn abort(&self) {
        abort_task(self.ptr)
    }

    /// True if the task has completed (with a value, a panic or by
    /// cancellation). Does not consume the output.
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().id
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        self.header().state.ref_inc();
        AbortHandle { ptr: self.ptr }
    }
}

fn abort_task(ptr: NonNull<Header>) {
    // SAFETY: callers hold a ref.
    let h = unsafe { ptr.as_ref() };
    if h.state.transition_to_notified_and_cancel() == state::TransitionToNotified::Submit {
        // SAFETY: the transition counted a new Notified ref for the scheduler.
        unsafe { (h.vtable.schedule)(ptr) }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A task joining many finished tasks in a loop yields now and then.
        std::task::ready!(crate::executor::coop::poll_proceed(cx));
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: our ref keeps the task alive; `out` has the type the
        // task's vtable writes (the handle's T is the future's output).
        unsafe {
            (self.header().vtable.try_read_output)(
                self.ptr,
                &mut out as *mut _ as *mut (),
                cx.waker(),
            )
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's ref is handed over and consumed.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// A handle that can cancel a task but not await it (see
/// [`JoinHandle::abort_handle`]).
pub struct AbortHandle {
    ptr: NonNull<Header>,
}

// SAFETY: an AbortHandle only touches the task's atomic state and schedules
// it; it never reaches the future or output.
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Cancel the task, as [`JoinHandle::abort`].
    pub fn abort(&self) {
        abort_task(self.ptr)
    }

    /// True if the task has completed.
    pub fn is_finished(&self) -> bool {
        // SAFETY: our ref keeps the task alive.
        unsafe { self.ptr.as_ref() }.state.load().is_complete()
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: our ref keeps the task alive until this decrement.
        let h = unsafe { self.ptr.as_ref() };
        if h.state.ref_dec() {
            // SAFETY: that was the last ref.
            unsafe { (h.vtable.dealloc)(self.ptr) }
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: our ref keeps the task alive.
        let id = unsafe { self.ptr.as_ref() }.id;
        f.debug_struct("AbortHandle").field("id", &id).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod id_tests {
    use super::Id;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_across_threads_and_never_zero() {
        let threads: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| (0..1_000).map(|_| Id::next()).collect::<Vec<_>>()))
            .collect();
        let mut seen = HashSet::new();
        for t in threads {
            for id in t.join().unwrap() {
                assert_ne!(id.as_u64(), 0);
                assert!(seen.insert(id), "{id:?} handed out twice");
            }
        }
        assert_eq!(seen.len(), 8_000);
        // Within a thread, ids still increase.
        let (a, b) = (Id::next(), Id::next());
        assert!(a < b);
    }
}
