//! Timers: [`sleep`], [`timeout`], [`interval`], and the runtime's clock.
//!
//! Each runtime has a hierarchical timer wheel (`driver/wheel.rs`) with 1 ms resolution:
//! arming and cancelling a timer is O(1) and allocates nothing once the wheel has grown to
//! the number of timers alive at once. Deadlines are rounded up to the next millisecond and
//! never fire early. Durations too long to represent mean "about 30 years", never an
//! overflow.
//!
//! For tests the clock can be paused ([`pause`], `Builder::start_paused`): it then moves only
//! by [`advance`], or by the runtime jumping straight to the next deadline when no task can
//! run, so a test of a ten-minute timeout takes microseconds.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use weft::time::{sleep, timeout};
//!
//! weft::block_on(async {
//!     sleep(Duration::from_millis(1)).await;
//!     let res = timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
//!     assert!(res.is_err());
//! });
//! ```
#![forbid(unsafe_code)]

pub(crate) mod driver;
pub mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;

use std::time::Duration;

use self::error::NO_RUNTIME_CLOCK;
pub use self::instant::Instant;
pub use self::interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use self::sleep::{sleep, sleep_until, Sleep};
pub use self::timeout::{timeout, timeout_at, Timeout};

/// The current runtime's time driver, if this thread is inside a runtime.
pub(crate) fn current_handle() -> Option<driver::Handle> {
    #[cfg(test)]
    if let Some(handle) = test_context::get() {
        return Some(handle);
    }
    crate::executor::context::time_handle()
}

/// Runs `f` with the current runtime's timer handle, borrowed: the paths that only read it
/// (`Instant::now`, a registered `Sleep`'s poll) take no reference count.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&driver::Handle>) -> R) -> R {
    #[cfg(test)]
    if let Some(handle) = test_context::get() {
        return f(Some(&handle));
    }
    crate::executor::context::with_handle(|h| f(h.map(|h| &h.driver().time)))
}

fn current_or_panic() -> driver::Handle {
    match current_handle() {
        Some(handle) => handle,
        None => panic!("{}", NO_RUNTIME_CLOCK),
    }
}

/// Pauses the current runtime's clock: from now on it moves only by [`advance`], or by the
/// runtime jumping to the next timer's deadline when no task is ready. Pausing a paused
/// clock does nothing.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::{pause, sleep, Instant};
///
/// weft::block_on(async {
///     pause();
///     let start = Instant::now();
///     sleep(Duration::from_secs(600)).await; // returns at once: the idle runtime jumps
///     assert!(start.elapsed() >= Duration::from_secs(600));
/// });
/// ```
pub fn pause() {
    current_or_panic().pause();
}

/// Lets the current runtime's clock run again, from where it was paused. Resuming a running
/// clock does nothing.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// weft::block_on(async {
///     weft::time::pause();
///     weft::time::resume();
/// });
/// ```
pub fn resume() {
    current_or_panic().resume();
}

/// Moves the current runtime's paused clock forward by `duration`, fires the timers that
/// became due and lets their tasks run before returning.
///
/// On a running clock it cannot move time, so it waits `duration` instead (tokio panics).
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::{advance, pause, Instant};
///
/// weft::block_on(async {
///     pause();
///     let start = Instant::now();
///     advance(Duration::from_secs(5)).await;
///     assert_eq!(Instant::now() - start, Duration::from_secs(5));
/// });
/// ```
pub async fn advance(duration: Duration) {
    let handle = current_or_panic();
    if handle.advance_clock(duration) {
        crate::task::yield_now().await;
    } else {
        sleep(duration).await;
    }
}

/// A per-thread time driver for unit tests of this layer that run without an executor.
#[cfg(test)]
pub(crate) mod test_context {
    use super::driver::Handle;
    use std::cell::RefCell;

    thread_local! {
        static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    }

    pub(crate) fn get() -> Option<Handle> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Makes `handle` this thread's current time driver until the guard drops.
    pub(crate) fn enter(handle: &Handle) -> Guard {
        let prev = CURRENT.with(|c| c.replace(Some(handle.clone())));
        Guard { prev }
    }

    pub(crate) struct Guard {
        prev: Option<Handle>,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let prev = self.prev.take();
            CURRENT.with(|c| *c.borrow_mut() = prev);
        }
    }
}

#[cfg(test)]
mod tests;
