//! The park/unpark protocol shared by every driver: a wake from another
//! thread costs a system call (or a condvar signal) only when the loop is
//! really asleep.
//!
//! `state` is one of:
//! - `EMPTY`: the loop is running (or about to check for work);
//! - `PARKED`: the loop is blocked, or is about to block, in the driver;
//! - `NOTIFIED`: an unpark arrived that the loop has not consumed yet.
//!
//! `unpark` swaps in `NOTIFIED` and signals only if it replaced `PARKED`.
//! `park` first consumes a pending `NOTIFIED` (returning at once), then moves
//! `EMPTY -> PARKED` and blocks; whoever wakes it, it resets to `EMPTY`.
//! An unpark that lands between the loop's last check for work and its
//! `EMPTY -> PARKED` step leaves `NOTIFIED`, which makes that step fail, so
//! the loop never sleeps through a wake.

use crate::loom::sync::atomic::{AtomicU8, Ordering::*};
use crate::loom::sync::{Condvar, Mutex};
use std::time::Duration;

const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// The atomic half of the protocol, used by both the condvar parker and
/// the IO driver.
#[derive(Debug)]
pub(crate) struct ParkState {
    state: AtomicU8,
}

/// What `ParkState::begin_park` tells the parking thread.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BeginPark {
    /// An unpark is pending: don't block (but do look at IO and timers).
    Notified,
    /// Now `PARKED`: block, then call `end_park`.
    Block,
}

impl ParkState {
    pub(crate) fn new() -> ParkState {
        ParkState {
            state: AtomicU8::new(EMPTY),
        }
    }

    /// SeqCst on these three operations keeps the protocol a simple total
    /// order: "push work, then unpark" against "set PARKED, then block".
    pub(crate) fn begin_park(&self) -> BeginPark {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return BeginPark::Notified;
        }
        match self.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => BeginPark::Block,
            Err(_) => {
                // Only an unpark can have changed it: consume it.
                self.state.store(EMPTY, SeqCst);
                BeginPark::Notified
            }
        }
    }

    pub(crate) fn end_park(&self) {
        self.state.store(EMPTY, SeqCst);
    }

    /// True if the caller must signal the parked thread.
    pub(crate) fn unpark(&self) -> bool {
        self.state.swap(NOTIFIED, SeqCst) == PARKED
    }
}

/// A parker made of a mutex and a condvar, for drivers without IO and for
/// threads waiting outside a runtime.
#[derive(Debug)]
pub(crate) struct ParkThread {
    state: ParkState,
    lock: Mutex<()>,
    cvar: Condvar,
}

impl ParkThread {
    pub(crate) fn new() -> ParkThread {
        ParkThread {
            state: ParkState::new(),
            lock: Mutex::new(()),
            cvar: Condvar::new(),
        }
    }

    /// Block until `unpark` (or the timeout). Spurious returns are allowed.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        if self.state.begin_park() == BeginPark::Notified {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            self.state.end_park();
            return;
        }
        let guard = crate::loom::lock_model(&self.lock);
        // Re-check under the lock: an unpark that swapped out PARKED before
        // we took the lock has already tried to notify.
        if self.state.state.load(SeqCst) == PARKED {
            let _guard = match timeout {
                None => self.cvar.wait(guard).map_err(|_| ()),
                #[cfg(not(loom))]
                Some(t) => self
                    .cvar
                    .wait_timeout(guard, t)
                    .map(|(g, _)| g)
                    .map_err(|_| ()),
                #[cfg(loom)]
                Some(_) => self.cvar.wait(guard).map_err(|_| ()),
            };
        }
        self.state.end_park();
    }

    pub(crate) fn unpark(&self) {
        if self.state.unpark() {
            // Taking the lock orders this notify after the parker's check.
            drop(crate::loom::lock_model(&self.lock));
            self.cvar.notify_one();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;

    /// Work pushed before an unpark is always seen by the parker: it either
    /// sees the flag before parking, or is woken.
    #[test]
    fn no_lost_wakeup() {
        loom::model(|| {
            let p = Arc::new(ParkThread::new());
            let work = Arc::new(AtomicBool::new(false));
            let (p2, w2) = (p.clone(), work.clone());
            let th = loom::thread::spawn(move || {
                w2.store(true, SeqCst);
                p2.unpark();
            });
            while !work.load(SeqCst) {
                p.park(None);
            }
            th.join().unwrap();
        });
    }
}
