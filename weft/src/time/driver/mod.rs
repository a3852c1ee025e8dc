//! The time driver: one timer wheel per runtime behind a lock, and the runtime's clock.
//!
//! # Contract with the run loop
//!
//! The executor owns a [`Handle`] per runtime and, on the thread that drives it:
//!
//! 1. right before parking, asks [`Handle::next_timeout`] and parks at most that long (when
//!    the clock [is paused](Handle::is_paused) and no task is ready, it calls
//!    [`Handle::auto_advance`] instead of parking on a timeout that would never pass);
//! 2. right after parking (whatever woke it: IO, another thread, the deadline) calls
//!    [`Handle::process`], which wakes every timer due by [`Handle::now`];
//! 3. when the runtime goes away calls [`Handle::shutdown`], which wakes every waiter and drops
//!    the wheel's wakers (they own tasks that own `Sleep`s that own this handle: the cycle
//!    is broken there).
//!
//! If a timer earlier than the one the loop parked for is armed from another thread while the
//! loop is parked, the driver calls the `unpark` function given to [`Handle::set_unpark`].
//!
//! # Ticks
//!
//! A tick is a whole millisecond since the handle was created. A deadline becomes the first
//! tick at or after it (rounded up) and the clock the last tick at or before it (rounded
//! down), so a timer never fires before its deadline. Deadlines past the last tick saturate
//! at `u64::MAX` (some 584 million years).
#![forbid(unsafe_code)]

mod clock;
pub(crate) mod wheel;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant as StdInstant};

pub(crate) use self::clock::add_saturating;
use self::clock::Clock;
use self::wheel::{TimerKey, Wheel};
use crate::time::Instant;

/// Wakers taken out of the wheel per lock hold: the lock is released to run them.
const WAKE_BATCH: usize = 32;
const NANOS_PER_TICK: u128 = 1_000_000;

/// A runtime's timer driver, shared by the run loop and every `Sleep` registered with it.
/// Cheap to clone.
#[derive(Clone)]
pub(crate) struct Handle {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tick 0.
    start: StdInstant,
    clock: Clock,
    state: Mutex<State>,
    /// Wakes the run loop when an earlier timer is armed while it is parked.
    unpark: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

struct State {
    wheel: Wheel,
    shutdown: bool,
    /// The tick the loop is parked until (`u64::MAX`: no timer), between `next_timeout` and
    /// `process`; `None` while the loop runs, when no unpark is needed.
    parked_until: Option<u64>,
}

/// The runtime that owned a timer has shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shutdown;

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("time::driver::Handle")
            .field("paused", &self.is_paused())
            .field("now_ticks", &self.tick_now())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// A driver whose clock starts now, paused if `start_paused`.
    pub(crate) fn new(start_paused: bool) -> Handle {
        let clock = Clock::new(start_paused);
        Handle {
            inner: Arc::new(Inner {
                start: clock.now(),
                clock,
                state: Mutex::new(State {
                    wheel: Wheel::new(),
                    shutdown: false,
                    parked_until: None,
                }),
                unpark: OnceLock::new(),
            }),
        }
    }

    /// Sets the function that wakes the parked run loop (once; later calls are ignored).
    pub(crate) fn set_unpark(&self, unpark: impl Fn() + Send + Sync + 'static) {
        let _ = self.inner.unpark.set(Box::new(unpark));
    }

    /// The runtime's clock, paused or real.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_std(self.inner.clock.now())
    }

    /// How long the loop may park before the earliest pending timer is due: exactly the time
    /// to the start of its tick (deadlines were already rounded up to a tick, so the park must
    /// not round again: the poller takes nanoseconds where it can), `Some(ZERO)` if one is due
    /// now, `None` if no timer is pending. It may be shorter than the earliest deadline (see
    /// `Wheel::next_expiration`), never longer.
    pub(crate) fn next_timeout(&self) -> Option<Duration> {
        let next = {
            let mut state = self.lock();
            let next = state.wheel.next_expiration();
            state.parked_until = Some(next.unwrap_or(u64::MAX));
            next
        }?;
        let now = self
            .inner
            .clock
            .now()
            .saturating_duration_since(self.inner.start);
        let due = u128::from(next) * NANOS_PER_TICK;
        let left = due.saturating_sub(now.as_nanos());
        let secs = u64::try_from(left / 1_000_000_000).unwrap_or(u64::MAX);
        // The remainder is below 10^9, so it fits.
        let nanos = (left % 1_000_000_000) as u32;
        Some(Duration::new(secs, nanos))
    }

    /// Wakes every timer due by [`now`](Self::now), in deadline order, running the wakers
    /// outside the lock. Returns how many fired.
    pub(crate) fn process(&self) -> usize {
        let now = self.tick_now();
        let mut fired = 0;
        let mut batch: [Option<Waker>; WAKE_BATCH] = [const { None }; WAKE_BATCH];
        loop {
            let mut taken = 0;
            let done = {
                let mut state = self.lock();
                state.parked_until = None;
                if state.shutdown {
                    return fired;
                }
                if state.wheel.next_expiration().map_or(true, |t| t > now) {
                    // Still let the wheel's clock catch up, so that later inserts are placed
                    // relative to the present.
                    state.wheel.advance(now, &mut |_| {});
                    true
                } else {
                    state.wheel.advance_batch(now, WAKE_BATCH, &mut |waker| {
                        if let Some(slot) = batch.get_mut(taken) {
                            *slot = Some(waker);
                            taken += 1;
                        }
                    })
                }
            };
            for waker in batch.iter_mut().take(taken) {
                if let Some(waker) = waker.take() {
                    waker.wake();
                }
            }
            fired += taken;
            if done {
                return fired;
            }
        }
    }

    /// Whether the clock is paused.
    pub(crate) fn is_paused(&self) -> bool {
        self.inner.clock.is_paused()
    }

    /// For an idle runtime with a paused clock: jumps the clock to the next deadline and
    /// fires what is due there (looping over cascade points that fire nothing). Returns true
    /// if the clock moved or a timer fired; false if the clock runs or no timer is pending.
    pub(crate) fn auto_advance(&self) -> bool {
        if !self.is_paused() {
            return false;
        }
        let mut moved = false;
        // Each round either fires something or cascades a slot to a lower level, so this
        // ends within a few rounds; the bound only guards against a bug spinning forever.
        for _ in 0..64 {
            let next = self.lock().wheel.next_expiration();
            let Some(tick) = next else {
                return moved;
            };
            let target = add_saturating(self.inner.start, tick_duration(tick));
            moved |= self.inner.clock.advance_to(target);
            if self.process() > 0 {
                return true;
            }
            if self.tick_now() < tick {
                // The tick cannot be represented as an instant: it will never come.
                return moved;
            }
        }
        moved
    }

    /// Wakes every timer's waiter and refuses new timers: the runtime is going away. Timers
    /// still held by `Sleep`s become stale; polling such a `Sleep` re-registers it with the
    /// runtime that polls it, if any.
    pub(crate) fn shutdown(&self) {
        let old = {
            let mut state = self.lock();
            state.shutdown = true;
            std::mem::take(&mut state.wheel)
        };
        // Wake and drop outside the lock: a waker may own a task that owns a `Sleep`.
        old.into_wakers().for_each(Waker::wake);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    #[cfg(test)]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.lock().shutdown
    }

    /// Whether both handles drive the same wheel.
    pub(crate) fn ptr_eq(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Pauses the clock on a whole tick (moving it forward by less than 1 ms), so that
    /// sleeps of whole milliseconds armed while paused fire exactly when `advance` reaches
    /// their deadline. False if it was already paused.
    pub(crate) fn pause(&self) -> bool {
        if !self.inner.clock.pause() {
            return false;
        }
        let since = self
            .inner
            .clock
            .now()
            .saturating_duration_since(self.inner.start);
        let tick = u64::try_from(since.as_nanos().div_ceil(NANOS_PER_TICK)).unwrap_or(u64::MAX);
        self.inner
            .clock
            .advance_to(add_saturating(self.inner.start, tick_duration(tick)));
        true
    }

    pub(crate) fn resume(&self) -> bool {
        self.inner.clock.resume()
    }

    /// Moves a paused clock forward and fires what became due. False if the clock runs.
    pub(crate) fn advance_clock(&self, by: Duration) -> bool {
        let moved = self.inner.clock.advance(by);
        if moved {
            self.process();
        }
        moved
    }

    /// Moves a paused clock without processing timers (tests of what `Sleep` sees before the
    /// loop runs).
    #[cfg(test)]
    pub(crate) fn advance_clock_only(&self, by: Duration) -> bool {
        self.inner.clock.advance(by)
    }

    /// Arms a timer for `deadline` that wakes `waker`.
    pub(crate) fn register(&self, deadline: Instant, waker: &Waker) -> Result<TimerKey, Shutdown> {
        let tick = self.tick_for(deadline);
        let (key, unpark) = {
            let mut state = self.lock();
            if state.shutdown {
                return Err(Shutdown);
            }
            let key = state.wheel.insert(tick, waker.clone());
            (key, Self::note_earlier(&mut state, tick))
        };
        if unpark {
            self.unpark();
        }
        Ok(key)
    }

    /// Re-arms `key` for `deadline` (keeping its waker). False if `key` is stale.
    pub(crate) fn reset(&self, key: TimerKey, deadline: Instant) -> bool {
        let tick = self.tick_for(deadline);
        let (ok, unpark) = {
            let mut state = self.lock();
            let ok = state.wheel.reset(key, tick);
            (ok, ok && Self::note_earlier(&mut state, tick))
        };
        if unpark {
            self.unpark();
        }
        ok
    }

    /// `Ready(Ok)` if `key` fired, or its tick is one the wheel has already processed (the
    /// entry is then removed); otherwise stores `waker` and returns `Pending`. `Err` if the
    /// runtime shut down or `key` is stale.
    ///
    /// The clock is not read (clock reads were 14% of the CPU of a million one-second sleeps):
    /// a deadline the wheel has not reached yet fires on the loop's next turn, which reads the
    /// clock once for every timer.
    pub(crate) fn poll_elapsed(
        &self,
        key: TimerKey,
        waker: &Waker,
    ) -> std::task::Poll<Result<(), Shutdown>> {
        use std::task::Poll;
        let mut state = self.lock();
        if state.shutdown || !state.wheel.contains(key) {
            return Poll::Ready(Err(Shutdown));
        }
        let (result, displaced) = if state.wheel.is_due(key) {
            (Poll::Ready(Ok(())), state.wheel.remove(key).flatten())
        } else {
            match state.wheel.set_waker(key, waker) {
                Ok(old) => (Poll::Pending, old),
                Err(_) => (Poll::Ready(Err(Shutdown)), None),
            }
        };
        // Drop a displaced waker outside the lock: it may own a task that owns a `Sleep`.
        drop(state);
        drop(displaced);
        result
    }

    /// Whether `key` has fired.
    pub(crate) fn is_fired(&self, key: TimerKey) -> bool {
        self.lock().wheel.is_fired(key)
    }

    /// Cancels `key` (a no-op if stale).
    pub(crate) fn remove(&self, key: TimerKey) {
        let waker = self.lock().wheel.remove(key);
        drop(waker);
    }

    /// Live timers (armed or fired and not yet removed), and slab slots ever used.
    #[cfg(test)]
    pub(crate) fn timer_counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.wheel.len(), state.wheel.capacity())
    }

    /// The first tick at or after `deadline`.
    fn tick_for(&self, deadline: Instant) -> u64 {
        let since = deadline
            .into_std()
            .saturating_duration_since(self.inner.start);
        u64::try_from(since.as_nanos().div_ceil(NANOS_PER_TICK)).unwrap_or(u64::MAX)
    }

    /// The last tick at or before now.
    fn tick_now(&self) -> u64 {
        let since = self
            .inner
            .clock
            .now()
            .saturating_duration_since(self.inner.start);
        u64::try_from(since.as_nanos() / NANOS_PER_TICK).unwrap_or(u64::MAX)
    }

    /// Records that a timer at `tick` was armed; true if the parked loop must be woken for it.
    fn note_earlier(state: &mut State, tick: u64) -> bool {
        match state.parked_until {
            Some(until) if tick < until => {
                state.parked_until = Some(tick);
                true
            }
            _ => false,
        }
    }

    fn unpark(&self) {
        if let Some(unpark) = self.inner.unpark.get() {
            unpark();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::loom::lock(&self.inner.state)
    }
}

/// `tick` milliseconds.
fn tick_duration(tick: u64) -> Duration {
    Duration::from_millis(tick)
}

#[cfg(test)]
mod tests;
