//! A worker's parker: it sleeps either in the shared IO driver (if it got
//! the driver lock) or on its own condvar, and an unpark reaches it in
//! either place.
//!
//! States: `EMPTY` (awake), `PARKED_CONDVAR`, `PARKED_DRIVER`, `NOTIFIED`
//! (an unpark arrived while awake: the next park returns at once).
//! `unpark` swaps in `NOTIFIED` and acts on what it replaced: a condvar
//! sleeper is signalled (after taking the mutex, so the signal cannot fall
//! between the sleeper's check and its wait); a driver sleeper is woken
//! through the driver's own unpark, whose protocol (`util::park`) keeps a
//! wake that comes before the sleep. Modelled in `loom_tests.rs`.
#![forbid(unsafe_code)]

use crate::loom::lock_model;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    cvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            cvar: Condvar::new(),
        }
    }

    /// Consume a pending unpark, if any.
    fn take_notified(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    /// Sleep in the driver: `wait` blocks in it (and returns on the
    /// driver's unpark). Returns at once if an unpark is pending.
    pub(crate) fn park_driver(&self, wait: impl FnOnce()) {
        if self.take_notified() {
            return;
        }
        if self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
            .is_err()
        {
            // An unpark came in between.
            self.state.swap(EMPTY, SeqCst);
            return;
        }
        wait();
        // Whatever woke us, we are awake now; consume any unpark.
        self.state.swap(EMPTY, SeqCst);
    }

    /// Sleep on the condvar until unparked. Returns at once if an unpark is
    /// pending.
    pub(crate) fn park_condvar(&self) {
        if self.take_notified() {
            return;
        }
        let mut guard = lock_model(&self.mutex);
        if self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
            .is_err()
        {
            drop(guard);
            self.state.swap(EMPTY, SeqCst);
            return;
        }
        loop {
            guard = match self.cvar.wait(guard) {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            if self.take_notified() {
                return;
            }
            // Spurious wakeup: still PARKED_CONDVAR, wait again.
        }
    }

    /// Wake the worker wherever it sleeps; `wake_driver` unparks the driver.
    pub(crate) fn unpark(&self, wake_driver: impl FnOnce()) {
        match self.state.swap(NOTIFIED, SeqCst) {
            PARKED_CONDVAR => {
                drop(lock_model(&self.mutex));
                self.cvar.notify_one();
            }
            PARKED_DRIVER => wake_driver(),
            _ => {}
        }
    }
}
