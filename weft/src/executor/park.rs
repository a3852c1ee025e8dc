//! A parker made of a mutex and a condvar, for threads that wait outside
//! the event loop (a `block_on` whose runtime is being driven by another
//! thread). It follows the same unpark protocol as the IO driver
//! (`util::park::ParkState`): an unpark signals only a parked thread.

use std::time::Duration;

use crate::loom::sync::{Condvar, Mutex};
use crate::util::park::ParkState;

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
        if timeout == Some(Duration::ZERO) || !self.state.transition_to_parked() {
            self.state.transition_to_running();
            return;
        }
        let guard = crate::loom::lock_model(&self.lock);
        // Under the lock, an unpark either already consumed PARKED (and will
        // take the lock before notifying, so it cannot notify before we
        // wait) or has not happened yet.
        if self.state.is_parked_now() {
            let _guard = match timeout {
                None => self.cvar.wait(guard).map(drop).map_err(drop),
                #[cfg(not(loom))]
                Some(t) => self.cvar.wait_timeout(guard, t).map(drop).map_err(drop),
                #[cfg(loom)]
                Some(_) => self.cvar.wait(guard).map(drop).map_err(drop),
            };
        }
        self.state.transition_to_running();
    }

    pub(crate) fn unpark(&self) {
        if self.state.notify() {
            // Taking the lock orders this notify after the parker's check.
            drop(crate::loom::lock_model(&self.lock));
            self.cvar.notify_one();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
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
