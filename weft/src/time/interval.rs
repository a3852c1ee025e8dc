#![forbid(unsafe_code)]

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::time::{sleep_until, Instant, Sleep};

/// The shortest period: the timer resolution. A zero period is raised to it.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// How late a tick may be before it counts as missed (as tokio).
const MISSED_SLACK: Duration = Duration::from_millis(5);

/// An [`Interval`] whose first tick completes at once, then every `period`.
///
/// A zero `period` is raised to 1 ms (the timer resolution) rather than spinning.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// weft::block_on(async {
///     let mut interval = weft::time::interval(Duration::from_millis(2));
///     let first = interval.tick().await;
///     let second = interval.tick().await;
///     assert!(second - first >= Duration::from_millis(2));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// An [`Interval`] whose first tick completes at `start`, then every `period`.
///
/// A zero `period` is raised to 1 ms (the timer resolution) rather than spinning.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::{interval_at, Instant};
///
/// weft::block_on(async {
///     let start = Instant::now() + Duration::from_millis(3);
///     let mut interval = interval_at(start, Duration::from_millis(2));
///     assert_eq!(interval.tick().await, start);
/// });
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval {
        delay: sleep_until(start),
        period: period.max(MIN_PERIOD),
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed (the task was late by more than a few
/// milliseconds to ask for one).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::{interval, MissedTickBehavior};
///
/// let mut ticker = interval(Duration::from_millis(10));
/// ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
/// assert_eq!(ticker.missed_tick_behavior(), MissedTickBehavior::Delay);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one per call, until caught up with the original
    /// schedule (the default).
    #[default]
    Burst,
    /// Start the schedule again from now: the next tick is `period` after the late one.
    Delay,
    /// Drop the missed ticks: the next tick is the next one of the original schedule that
    /// is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick scheduled at `timeout` that completed at `now`.
    fn next_timeout(self, timeout: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => timeout.add_or_far_future(period),
            MissedTickBehavior::Delay => now.add_or_far_future(period),
            MissedTickBehavior::Skip => {
                let late = now.saturating_duration_since(timeout).as_nanos();
                // `period` is at least 1 ms, so the division is defined.
                let into_period = late % period.as_nanos().max(1);
                let into_period = Duration::from_nanos(u64::try_from(into_period).unwrap_or(0));
                now.add_or_far_future(period.saturating_sub(into_period))
            }
        }
    }
}

/// Ticks every `period`: see [`interval`] and [`interval_at`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// weft::block_on(async {
///     let mut interval = weft::time::interval(Duration::from_millis(1));
///     for _ in 0..3 {
///         interval.tick().await;
///     }
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before completing, no tick is consumed.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready(scheduled instant)` once it is due, consuming it.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let timeout = self.delay.deadline();
        let now = Instant::now();
        let next = if now.saturating_duration_since(timeout) > MISSED_SLACK {
            self.missed_tick_behavior
                .next_timeout(timeout, now, self.period)
        } else {
            timeout.add_or_far_future(self.period)
        };
        Pin::new(&mut self.delay).reset(next);
        Poll::Ready(timeout)
    }

    /// Restarts the schedule: the next tick is one `period` from now.
    pub fn reset(&mut self) {
        let next = Instant::now().add_or_far_future(self.period);
        Pin::new(&mut self.delay).reset(next);
    }

    /// Restarts the schedule: the next tick completes at once.
    pub fn reset_immediately(&mut self) {
        Pin::new(&mut self.delay).reset(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        let next = Instant::now().add_or_far_future(after);
        Pin::new(&mut self.delay).reset(next);
    }

    /// Restarts the schedule: the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens when ticks are missed.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets what happens when ticks are missed.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}
