//! The unpark protocol: one atomic state word that decides whether a wake from another thread
//! must write the wakeup descriptor.
//!
//! States:
//! - `RUNNING`: the driver's thread is busy (running tasks). An `unpark` only records itself.
//! - `PARKED`: the driver's thread is blocked in the poller, or is about to be: it set `PARKED`
//!   before calling wait. An `unpark` must write the wakeup descriptor.
//! - `NOTIFIED`: an `unpark` happened since the driver last returned from park. The next park
//!   does not block.
//!
//! Transitions (each one atomic read-modify-write):
//! - driver, before a blocking wait: `RUNNING -> PARKED` ([`ParkState::transition_to_parked`]);
//!   if it finds `NOTIFIED` instead it consumes it and does not block.
//! - driver, after any wait: `* -> RUNNING` ([`ParkState::transition_to_running`]), consuming a
//!   notification.
//! - any thread: `* -> NOTIFIED` ([`ParkState::notify`]); it writes the wakeup descriptor only if
//!   it replaced `PARKED`. So a burst of wakes while the driver is busy costs no system call, and
//!   one park costs at most one wakeup write.
//!
//! Why no wakeup is lost: the modification order of the word is total. If the driver's
//! `RUNNING -> PARKED` comes first, the unpark sees `PARKED` and writes the descriptor, which
//! stays readable until drained after a wait, so the wait returns (or the next one does, which
//! is a harmless spurious wake). If the unpark comes first, the driver's CAS fails and it does
//! not block.
//!
//! Orderings: `notify` is `AcqRel`, and so are the driver's transitions, so everything a thread
//! did before `notify` (e.g. pushing a task to an inject queue) is visible to the driver when it
//! returns from park. This is modelled with loom in `reactor/tests/loom_park.rs` and
//! `executor/park.rs`.
#![forbid(unsafe_code)]

use crate::loom::sync::atomic::{AtomicU8, Ordering};

const RUNNING: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

#[derive(Debug)]
pub(crate) struct ParkState(AtomicU8);

impl ParkState {
    pub(crate) fn new() -> ParkState {
        ParkState(AtomicU8::new(RUNNING))
    }

    /// Driver: about to block. Returns `true` if it may block (state is now `PARKED`), `false`
    /// if an unpark was pending (consumed; state is now `RUNNING`).
    #[must_use]
    pub(crate) fn transition_to_parked(&self) -> bool {
        match self
            .0
            .compare_exchange(RUNNING, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                // The only other state the driver can see here is NOTIFIED: consume it with a
                // swap (not a store) so that it synchronises with the latest notify.
                self.0.swap(RUNNING, Ordering::AcqRel);
                false
            }
        }
    }

    /// Driver: back from a wait (blocking or not). Returns whether an unpark had arrived.
    pub(crate) fn transition_to_running(&self) -> bool {
        self.0.swap(RUNNING, Ordering::AcqRel) == NOTIFIED
    }

    /// Any thread: records an unpark. Returns `true` if the caller must write the wakeup
    /// descriptor (the driver is parked or about to be).
    #[must_use]
    pub(crate) fn notify(&self) -> bool {
        self.0.swap(NOTIFIED, Ordering::AcqRel) == PARKED
    }

    /// Whether the state is `PARKED` right now (the condvar parker re-checks
    /// it under its lock before waiting).
    pub(crate) fn is_parked_now(&self) -> bool {
        self.0.load(Ordering::Acquire) == PARKED
    }
}
