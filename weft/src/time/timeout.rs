#![forbid(unsafe_code)]

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::time::error::Elapsed;
use crate::time::{sleep_until, Instant};
pub use crate::util::pin::Timeout;

/// Runs `future` for at most `duration`: `Ok(output)` if it completes first, else
/// `Err(Elapsed)` (and `future` is dropped with the `Timeout`).
///
/// The future is polled before the deadline is checked, so a future that is ready at once
/// wins even with `Duration::ZERO`. A duration too long to represent never times out (about
/// 30 years).
///
/// # Cancel safety
///
/// As cancel safe as `future`: dropping the `Timeout` drops it.
///
/// # Panics
///
/// If `future` is still pending, polling outside a weft runtime panics, as [`sleep`] does.
///
/// [`sleep`]: crate::time::sleep
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::timeout;
///
/// weft::block_on(async {
///     assert_eq!(timeout(Duration::ZERO, async { 7 }).await, Ok(7));
///     let slow = std::future::pending::<()>();
///     assert!(timeout(Duration::from_millis(2), slow).await.is_err());
/// });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    let deadline = Instant::now().add_or_far_future(duration);
    Timeout::from_parts(future.into_future(), sleep_until(deadline))
}

/// Runs `future` until `deadline`: `Ok(output)` if it completes first, else `Err(Elapsed)`.
///
/// # Cancel safety
///
/// As cancel safe as `future`: dropping the `Timeout` drops it.
///
/// # Panics
///
/// If `future` is still pending, polling outside a weft runtime panics, as
/// [`sleep`](crate::time::sleep) does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::time::{timeout_at, Instant};
///
/// weft::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(2);
///     let res = timeout_at(deadline, std::future::pending::<()>()).await;
///     assert!(res.is_err());
/// });
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout::from_parts(future.into_future(), sleep_until(deadline))
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The inner future first: a future that is ready wins even at a passed deadline.
        let (future, delay) = self.project();
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("value", self.get_ref())
            .field("deadline", &self.delay().deadline())
            .finish()
    }
}
