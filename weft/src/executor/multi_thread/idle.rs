//! Which workers sleep, and how many search for work.
//!
//! One atomic word counts the workers that are awake ("unparked") and,
//! among them, those looking for work to steal ("searching"); a list under
//! a mutex names the sleepers.
//!
//! - A worker that runs dry may start searching only while fewer than half
//!   the workers search, so that N idle workers never all hammer each
//!   other's queues.
//! - New work wakes a sleeper only if nobody is searching (a searcher will
//!   find it) and someone sleeps; the woken worker starts as a searcher.
//!   So a wake unparks at most one worker.
//! - A searcher that finds work stops searching; if it was the last one, it
//!   wakes another sleeper, so that leftover work is always looked for.
//! - A searcher that parks as the last searcher looks at every queue once
//!   more after leaving the count; any work it sees wakes a sleeper.
//!
//! No worker sleeps while work waits: the producer publishes the work, then
//! (after a `SeqCst` fence) reads the counts; the last searcher decrements
//! the count (`SeqCst`), then reads the queues. One of them sees the other.
//! Modelled in `loom_tests.rs`.
#![forbid(unsafe_code)]

use crate::loom::lock_model;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

const UNPARK_SHIFT: usize = 16;
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;
const UNPARK_ONE: usize = 1 << UNPARK_SHIFT;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    fn should_notify(&self) -> bool {
        let s = self.state.load(SeqCst);
        searching(s) == 0 && unparked(s) < self.num_workers
    }

    /// Work was published: the sleeper to wake, if one should be, other
    /// than `avoid` when another sleeps (the worker sleeping in the driver
    /// stays there, so IO and timers stay watched while the woken worker
    /// runs). It is counted awake and searching from now on.
    pub(crate) fn worker_to_notify(&self, avoid: Option<usize>) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = lock_model(&self.sleepers);
        if !self.should_notify() {
            return None;
        }
        let last = sleepers.len().checked_sub(1)?;
        let pos = match avoid {
            Some(a) if sleepers[last] == a && last > 0 => last - 1,
            _ => last,
        };
        let index = sleepers.swap_remove(pos);
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        Some(index)
    }

    /// A worker ran dry: may it search? (Counted if so.)
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let s = self.state.load(SeqCst);
        if 2 * searching(s) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searcher found work. True if it was the last searcher (it should
    /// then wake another worker).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        searching(prev) == 1
    }

    /// A worker goes to sleep. True if it was the last searcher: it must
    /// then look at every queue once more.
    pub(crate) fn transition_worker_to_parked(&self, index: usize, is_searching: bool) -> bool {
        let mut sleepers = lock_model(&self.sleepers);
        let dec = UNPARK_ONE + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(index);
        is_searching && searching(prev) == 1
    }

    /// A worker woke up. If it is still listed as a sleeper (woken by IO,
    /// a timer or a spurious wakeup rather than by `worker_to_notify`), it
    /// takes itself off the list and is counted awake, not searching:
    /// returns true. False if a notifier already did that (it searches).
    pub(crate) fn transition_worker_from_parked(&self, index: usize) -> bool {
        let mut sleepers = lock_model(&self.sleepers);
        match sleepers.iter().position(|&i| i == index) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.state.fetch_add(UNPARK_ONE, SeqCst);
                true
            }
            None => false,
        }
    }

    /// (searching, unparked), for tests and debugging.
    #[allow(dead_code)]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let s = self.state.load(SeqCst);
        (searching(s), unparked(s))
    }
}
