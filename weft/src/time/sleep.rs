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
    Sleep {
        deadline: Instant::now().add_or_far_future(duration),
        // Due now: ready on its first poll without a look at the clock.
        state: if duration.is_zero() { ELAPSED } else { IDLE },
    }
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

/// Idle and Elapsed are one variant with a flag, not two: an enum with two variants
/// without data beside `Registered` needs a tag of its own (the handle's non-null pointer
/// offers one spare value), which made a `Sleep` 40 bytes instead of 32 and a task that
/// sleeps 128 bytes of heap instead of 112.
enum State {
    /// Nothing registered: not yet (or since a reset), or `elapsed`: completed.
    Unarmed { elapsed: bool },
    /// Armed in `handle`'s wheel.
    Registered { handle: Handle, key: TimerKey },
}

const IDLE: State = State::Unarmed { elapsed: false };
const ELAPSED: State = State::Unarmed { elapsed: true };

impl Sleep {
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            state: IDLE,
        }
    }

    /// The instant at which this `Sleep` completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the sleep has completed, or its timer fired and it was not reset since.
    pub fn is_elapsed(&self) -> bool {
        match &self.state {
            State::Unarmed { elapsed } => *elapsed,
            State::Registered { handle, key } => handle.is_fired(*key),
        }
    }

    /// Moves the deadline to `deadline`, also after completion: the `Sleep` can be awaited
    /// again. A task waiting on it is not woken by the reset itself, only by the new deadline.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.state = match std::mem::replace(&mut this.state, IDLE) {
            State::Registered { handle, key } if handle.reset(key, deadline) => {
                State::Registered { handle, key }
            }
            State::Registered { handle, key } => {
                handle.remove(key);
                IDLE
            }
            State::Unarmed { .. } => IDLE,
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
                match handle.poll_elapsed(*key, cx.waker()) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(())) => {
                        this.state = ELAPSED;
                        return Poll::Ready(());
                    }
                    Poll::Ready(Err(_shutdown)) => runtime_gone = true,
                }
            }
            // Polled by another runtime, or ours shut down: move to the current one.
            handle.remove(*key);
            this.state = IDLE;
        }
        if matches!(this.state, State::Unarmed { elapsed: true }) {
            return Poll::Ready(());
        }
        // Registering keeps a handle in the Sleep: only now is one cloned.
        let Some(handle) = crate::time::current_handle() else {
            if this.deadline <= Instant::now() {
                this.state = ELAPSED;
                return Poll::Ready(());
            }
            if runtime_gone {
                panic!("{}", RUNTIME_GONE_SLEEP);
            }
            panic!("{}", NO_RUNTIME_SLEEP);
        };
        if this.deadline <= handle.now() {
            this.state = ELAPSED;
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
            State::Unarmed { elapsed: false } => "idle",
            State::Registered { .. } => "registered",
            State::Unarmed { elapsed: true } => "elapsed",
        };
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &state)
            .finish()
    }
}
