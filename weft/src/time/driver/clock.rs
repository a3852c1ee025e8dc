//! The runtime's clock: real time, or paused (for tests) and moved only by hand or by the
//! runtime jumping to the next deadline while idle.
//!
//! The clock is `base + (time since unfrozen)` while running and `base` while paused; before
//! it is first paused it is exactly `std::time::Instant::now()`, read without taking the lock.
//! Pausing and resuming never moves it backwards.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant as StdInstant};

// std, not the loom shim: the time layer is not model-checked, and loom's types would panic
// when a runtime is built outside a loom model.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[derive(Debug)]
pub(crate) struct Clock {
    /// 1 while paused. Read on every `now()` and `is_paused()`.
    paused: AtomicBool,
    /// 1 once the clock has been paused: from then on `now()` takes the lock.
    shifted: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The clock's reading at `unfrozen` (or its frozen reading while paused).
    base: StdInstant,
    /// When the clock last started running; `None` while paused.
    unfrozen: Option<StdInstant>,
}

impl Clock {
    /// A clock reading `std::time::Instant::now()`, paused there if `start_paused`.
    pub(crate) fn new(start_paused: bool) -> Clock {
        let now = StdInstant::now();
        Clock {
            paused: AtomicBool::new(start_paused),
            shifted: AtomicBool::new(start_paused),
            state: Mutex::new(State {
                base: now,
                unfrozen: if start_paused { None } else { Some(now) },
            }),
        }
    }

    pub(crate) fn now(&self) -> StdInstant {
        // Relaxed: `shifted` only guards a fast path; whoever pauses the clock holds the lock
        // while setting it, and a reader racing with the pause may still read the real time.
        if !self.shifted.load(Ordering::Relaxed) {
            return StdInstant::now();
        }
        let state = crate::loom::lock(&self.state);
        match state.unfrozen {
            Some(unfrozen) => state
                .base
                .checked_add(unfrozen.elapsed())
                .unwrap_or(state.base),
            None => state.base,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        // Relaxed: a hint for the run loop, re-checked under the lock where it matters.
        self.paused.load(Ordering::Relaxed)
    }

    /// Freezes the clock. Returns false if it was already paused.
    pub(crate) fn pause(&self) -> bool {
        let mut state = crate::loom::lock(&self.state);
        let Some(unfrozen) = state.unfrozen.take() else {
            return false;
        };
        state.base = state
            .base
            .checked_add(unfrozen.elapsed())
            .unwrap_or(state.base);
        self.shifted.store(true, Ordering::Relaxed);
        self.paused.store(true, Ordering::Relaxed);
        true
    }

    /// Lets the clock run again from its frozen reading. Returns false if it was running.
    pub(crate) fn resume(&self) -> bool {
        let mut state = crate::loom::lock(&self.state);
        if state.unfrozen.is_some() {
            return false;
        }
        state.unfrozen = Some(StdInstant::now());
        self.paused.store(false, Ordering::Relaxed);
        true
    }

    /// Moves a paused clock forward by `by` (as far as `std::time::Instant` can represent).
    /// Returns false, moving nothing, if the clock is running.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        let mut state = crate::loom::lock(&self.state);
        if state.unfrozen.is_some() {
            return false;
        }
        state.base = add_saturating(state.base, by);
        true
    }

    /// Moves a paused clock forward to `target` if it is behind it. Returns true if it moved.
    pub(crate) fn advance_to(&self, target: StdInstant) -> bool {
        let mut state = crate::loom::lock(&self.state);
        if state.unfrozen.is_some() || target <= state.base {
            return false;
        }
        state.base = target;
        true
    }
}

/// `at + by`, or the latest instant on the way there that the platform can represent.
pub(crate) fn add_saturating(at: StdInstant, by: Duration) -> StdInstant {
    if let Some(t) = at.checked_add(by) {
        return t;
    }
    // Binary search the largest representable step; 64 halvings cover any Duration.
    let (mut lo, mut hi) = (Duration::ZERO, by);
    for _ in 0..64 {
        let mid = lo + (hi - lo) / 2;
        if at.checked_add(mid).is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at.checked_add(lo).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_clock_is_real_time() {
        let clock = Clock::new(false);
        let before = StdInstant::now();
        let now = clock.now();
        assert!(now >= before && now <= StdInstant::now());
        assert!(!clock.is_paused());
        assert!(
            !clock.advance(Duration::from_secs(1)),
            "a running clock is not moved"
        );
    }

    #[test]
    fn paused_clock_moves_only_by_hand_and_never_back() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0);
        assert!(clock.advance(Duration::from_secs(600)));
        assert_eq!(clock.now(), t0 + Duration::from_secs(600));
        assert!(!clock.advance_to(t0), "never backwards");
        assert!(clock.advance_to(t0 + Duration::from_secs(601)));
        assert!(!clock.pause(), "already paused");
        assert!(clock.resume());
        assert!(!clock.resume());
        let resumed = clock.now();
        assert!(resumed >= t0 + Duration::from_secs(601));
        assert!(clock.pause());
        let frozen = clock.now();
        assert!(frozen >= resumed);
        // Absurd durations saturate instead of overflowing.
        assert!(clock.advance(Duration::MAX));
        assert!(clock.now() > frozen);
    }
}
