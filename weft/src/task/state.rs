//! The task state word: every transition is one read-modify-write that
//! returns what the caller must do next. See the module doc of `task` for
//! what each bit means and which reference may touch which field.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

/// The task's future is being polled (or cancelled) by exactly one thread.
const RUNNING: usize = 1 << 0;
/// The future is gone; the stage holds the output (or has been consumed).
const COMPLETE: usize = 1 << 1;
/// A `Notified` reference exists (the task is queued), or it was woken while running.
const NOTIFIED: usize = 1 << 2;
/// `abort()` was called or the runtime is shutting down.
const CANCELLED: usize = 1 << 3;
/// The `JoinHandle` still exists.
const JOIN_INTEREST: usize = 1 << 4;
/// The join waker field holds a waker the runtime may read (set by the handle).
const JOIN_WAKER: usize = 1 << 5;

const REF_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// Refs held at spawn: the owner list's, the `JoinHandle`'s and the first `Notified`.
const INITIAL: usize = (3 * REF_ONE) | JOIN_INTEREST | NOTIFIED;

pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word with named getters.
#[derive(Copy, Clone)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// Poll the future.
    Success,
    /// Cancel the future instead of polling it.
    Cancelled,
    /// The task is already complete or running elsewhere; the caller's ref was dropped.
    Failed,
    /// As `Failed`, and that was the last ref: deallocate.
    Dealloc,
}

#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Idle; the running ref was dropped and others remain.
    Ok,
    /// Woken during the poll: the running ref becomes a `Notified`; schedule it.
    OkNotified,
    /// Idle, and the running ref was the last: deallocate.
    OkDealloc,
    /// Cancelled during the poll: still running; cancel the future now.
    Cancelled,
}

#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Nothing to do (already queued, running or complete).
    DoNothing,
    /// A new `Notified` ref was created: hand it to the scheduler.
    Submit,
    /// (by value) The caller's ref was the last: deallocate.
    Dealloc,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// Apply `f` to the word until the compare-exchange succeeds. `f`
    /// returns the new word (or `None` to leave it) and the result.
    /// AcqRel: a successful transition both publishes this thread's writes
    /// to the stage (Release) and sees those of the previous owner (Acquire).
    fn fetch_update<R>(&self, mut f: impl FnMut(usize) -> (Option<usize>, R)) -> R {
        let mut curr = self.val.load(Acquire);
        loop {
            let (next, res) = f(curr);
            let Some(next) = next else { return res };
            match self.val.compare_exchange_weak(curr, next, AcqRel, Acquire) {
                Ok(_) => return res,
                Err(actual) => curr = actual,
            }
        }
    }

    /// Called with a `Notified` ref in hand, before polling.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update(|curr| {
            debug_assert!(curr & NOTIFIED != 0 || curr & (COMPLETE | RUNNING) != 0);
            if curr & (RUNNING | COMPLETE) != 0 {
                // Someone else owns the future (or it is gone): drop our ref.
                debug_assert!(curr >> REF_SHIFT > 0);
                let next = curr - REF_ONE;
                let res = if next >> REF_SHIFT == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (Some(next), res);
            }
            let next = (curr | RUNNING) & !NOTIFIED;
            let res = if curr & CANCELLED != 0 {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (Some(next), res)
        })
    }

    /// After a poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update(|curr| {
            debug_assert!(curr & RUNNING != 0);
            if curr & CANCELLED != 0 {
                return (None, TransitionToIdle::Cancelled);
            }
            let mut next = curr & !RUNNING;
            if curr & NOTIFIED != 0 {
                // The running ref is reused as the new Notified ref.
                return (Some(next), TransitionToIdle::OkNotified);
            }
            next -= REF_ONE;
            let res = if next >> REF_SHIFT == 0 {
                TransitionToIdle::OkDealloc
            } else {
                TransitionToIdle::Ok
            };
            (Some(next), res)
        })
    }

    /// The future is gone and the output stored. Returns the state before.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// A waker is woken by reference.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update(|curr| {
            if curr & (COMPLETE | NOTIFIED) != 0 {
                (None, TransitionToNotified::DoNothing)
            } else if curr & RUNNING != 0 {
                (Some(curr | NOTIFIED), TransitionToNotified::DoNothing)
            } else {
                (
                    Some((curr | NOTIFIED) + REF_ONE),
                    TransitionToNotified::Submit,
                )
            }
        })
    }

    /// A waker is woken by value: its ref is consumed.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update(|curr| {
            debug_assert!(curr >> REF_SHIFT > 0);
            if curr & (COMPLETE | NOTIFIED) != 0 {
                let next = curr - REF_ONE;
                let res = if next >> REF_SHIFT == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                };
                (Some(next), res)
            } else if curr & RUNNING != 0 {
                // The runner holds a ref, so ours is never the last.
                (
                    Some((curr | NOTIFIED) - REF_ONE),
                    TransitionToNotified::DoNothing,
                )
            } else {
                // Our ref becomes the Notified ref.
                (Some(curr | NOTIFIED), TransitionToNotified::Submit)
            }
        })
    }

    /// `abort()`: mark cancelled, and make sure someone will act on it.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> TransitionToNotified {
        self.fetch_update(|curr| {
            if curr & (CANCELLED | COMPLETE) != 0 {
                (None, TransitionToNotified::DoNothing)
            } else if curr & RUNNING != 0 {
                // The runner sees CANCELLED when the poll returns.
                (
                    Some(curr | NOTIFIED | CANCELLED),
                    TransitionToNotified::DoNothing,
                )
            } else if curr & NOTIFIED != 0 {
                // The queued Notified sees CANCELLED when it runs.
                (Some(curr | CANCELLED), TransitionToNotified::DoNothing)
            } else {
                let next = (curr | NOTIFIED | CANCELLED) + REF_ONE;
                (Some(next), TransitionToNotified::Submit)
            }
        })
    }

    /// Runtime shutdown: mark cancelled and, if the task is idle, claim it
    /// (set RUNNING) so the caller may drop its future. Returns true if claimed.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update(|curr| {
            let mut next = curr | CANCELLED;
            let claimed = curr & (RUNNING | COMPLETE) == 0;
            if claimed {
                next |= RUNNING;
            }
            (Some(next), claimed)
        })
    }

    /// `JoinHandle::drop` when the task may not be complete yet. Clears
    /// JOIN_INTEREST, and JOIN_WAKER too if not complete (the handle then owns
    /// the waker field). Returns the state before.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> Snapshot {
        self.fetch_update(|curr| {
            debug_assert!(curr & JOIN_INTEREST != 0);
            let mut next = curr & !JOIN_INTEREST;
            if curr & COMPLETE == 0 {
                next &= !JOIN_WAKER;
            }
            (Some(next), Snapshot(curr))
        })
    }

    /// The handle has written the join waker field: publish it. Fails (with
    /// the current snapshot) if the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr & JOIN_INTEREST != 0 && curr & JOIN_WAKER == 0);
            if curr & COMPLETE != 0 {
                return (None, Err(Snapshot(curr)));
            }
            (Some(curr | JOIN_WAKER), Ok(Snapshot(curr | JOIN_WAKER)))
        })
    }

    /// The handle wants to replace its waker: take the field back. Fails if
    /// the task completed meanwhile (the runtime may be reading it).
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr & JOIN_INTEREST != 0 && curr & JOIN_WAKER != 0);
            if curr & COMPLETE != 0 {
                return (None, Err(Snapshot(curr)));
            }
            (Some(curr & !JOIN_WAKER), Ok(Snapshot(curr & !JOIN_WAKER)))
        })
    }

    /// The runtime has woken the join waker after completing: give the field
    /// back. Returns the state before (if the handle is gone, the runtime
    /// drops the waker).
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel))
    }

    /// Fast path for dropping a `JoinHandle` of a task that only ever had its
    /// initial refs minus the Notified: nothing else to coordinate.
    pub(crate) fn ref_inc(&self) {
        // Relaxed: a new ref is made from an existing one, which keeps the
        // task alive; no data is published by the increment itself.
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drop one ref; true if it was the last (the caller deallocates).
    pub(crate) fn ref_dec(&self) -> bool {
        self.ref_dec_n(1)
    }

    /// Drop `n` refs; true if they were the last.
    pub(crate) fn ref_dec_n(&self, n: usize) -> bool {
        // AcqRel: the last decrement must see every other owner's writes
        // before it frees the memory.
        let prev = self.val.fetch_sub(n * REF_ONE, AcqRel);
        debug_assert!(prev >> REF_SHIFT >= n, "task ref count underflow");
        prev >> REF_SHIFT == n
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}
