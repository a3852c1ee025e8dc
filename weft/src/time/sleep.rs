#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::time::driver::wheel::TimerKey;
use crate::time::driver::Handle;
use crate::time::error::{NO_RUNTIME_SLEEP, RUNTIME_GONE_SLEEP, SHUTDOWN_SLEEP};
use crate::time::Instant;

/// Waits until `duration` has passed.
///
/// Equivalent to `sleep_until(Instant::now() + duration)`, without the overflow: a duration
/// too long to represent sleeps "forever" (about 30 years), until dropped. `Duration::ZERO`
/// completes at once. The timer has millisecond resolution and never completes early.
///
/// # Cancel safety
///
/// Cancel safe: dropping the `Sleep` cancels the timer.
///
/// # Panics
///
/// Polling it outside a weft runtime panics, unless its deadline has already passed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// weft::block_on(async {
///     let start = weft::time::Instant::now();
///     weft::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let mut sleep = Sleep::new(Instant::now().add_or_far_future(duration));
    if duration.is_zero() {
        // Due now: ready on its first poll, without waiting for the wheel to catch up.
        sleep.state = State::Elapsed;
    }
    sleep
}

/// Waits until `deadline` (by the runtime's clock).
///
/// A deadline in the past completes at once.
///
/// # Cancel safety
///
/// Cancel safe: dropping the `Sleep` cancels the timer.
///
/// # Panics
///
/// Polling it outside a weft runtime panics, unless `deadline` has already passed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::{sleep_until, Instant};
///
/// weft::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It registers with the runtime that first polls it and frees its timer when dropped. A
/// `Sleep` polled by a task of another runtime moves its timer to that runtime; one whose
/// runtime shut down moves to the runtime that polls it next (and panics if polled outside
/// any runtime, see [`sleep`]). `Sleep` is `Unpin`: it holds a key into the runtime's timer
/// wheel, not the timer itself.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::{sleep, Instant};
///
/// weft::block_on(async {
///     let mut delay = sleep(Duration::from_secs(3600));
///     // Too long: wait 5 ms instead.
///     std::pin::Pin::new(&mut delay).reset(Instant::now() + Duration::from_millis(5));
///     delay.await;
/// });
/// ```
pub struct Sleep {
    deadline: Instant,
    state: State,
}

enum State {
    /// Not registered with any runtime (yet, or since a reset after completion).
    Idle,
    /// Armed in `handle`'s wheel.
    Registered { handle: Handle, key: TimerKey },
    /// Completed; nothing registered.
    Elapsed,
}

impl Sleep {
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            state: State::Idle,
        }
    }

    /// The instant at which this `Sleep` completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the sleep has completed, or its timer fired and it was not reset since.
    pub fn is_elapsed(&self) -> bool {
        match &self.state {
            State::Idle => false,
            State::Registered { handle, key } => handle.is_fired(*key),
            State::Elapsed => true,
        }
    }

    /// Moves the deadline to `deadline`, also after completion: the `Sleep` can be awaited
    /// again. A task waiting on it is not woken by the reset itself, only by the new deadline.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.state = match std::mem::replace(&mut this.state, State::Idle) {
            State::Registered { handle, key } if handle.reset(key, deadline) => {
                State::Registered { handle, key }
            }
            State::Registered { handle, key } => {
                handle.remove(key);
                State::Idle
            }
            State::Idle | State::Elapsed => State::Idle,
        };
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut runtime_gone = false;
        if let State::Registered { handle, key } = &this.state {
            // Outside any runtime, a registered sleep stays with its runtime while it lives.
            let ours = crate::time::with_current(|c| c.map_or(true, |c| c.ptr_eq(handle)));
            if ours {
                match handle.poll_elapsed(*key, this.deadline, cx.waker()) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(())) => {
                        this.state = State::Elapsed;
                        return Poll::Ready(());
                    }
                    Poll::Ready(Err(_shutdown)) => runtime_gone = true,
                }
            }
            // Polled by another runtime, or ours shut down: move to the current one.
            handle.remove(*key);
            this.state = State::Idle;
        }
        if matches!(this.state, State::Elapsed) {
            return Poll::Ready(());
        }
        // Registering keeps a handle in the Sleep: only now is one cloned.
        let Some(handle) = crate::time::current_handle() else {
            if this.deadline <= Instant::now() {
                this.state = State::Elapsed;
                return Poll::Ready(());
            }
            if runtime_gone {
                panic!("{}", RUNTIME_GONE_SLEEP);
            }
            panic!("{}", NO_RUNTIME_SLEEP);
        };
        if this.deadline <= handle.now() {
            this.state = State::Elapsed;
            return Poll::Ready(());
        }
        match handle.register(this.deadline, cx.waker()) {
            Ok(key) => {
                this.state = State::Registered { handle, key };
                Poll::Pending
            }
            Err(_shutdown) => panic!("{}", SHUTDOWN_SLEEP),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Registered { handle, key } = &self.state {
            handle.remove(*key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Registered { .. } => "registered",
            State::Elapsed => "elapsed",
        };
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &state)
            .finish()
    }
}
