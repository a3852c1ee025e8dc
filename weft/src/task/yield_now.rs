use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yield to the scheduler: the current task goes to the back of the run
/// queue, so every other ready task runs before it is polled again.
///
/// # Examples
///
/// ```
/// weft::block_on(async {
///     let handle = weft::spawn(async { 1 });
///     weft::task::yield_now().await; // lets the spawned task run
///     assert!(handle.is_finished());
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Back of the run queue: every task already queued runs first.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
