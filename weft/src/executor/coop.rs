//! Cooperative scheduling budget.
//!
//! A task that reads from a socket that is always ready would otherwise
//! never return `Pending`, and starve every other task. Each poll of a task
//! gets a budget of operations; every IO operation (and `JoinHandle` poll)
//! spends one through [`poll_proceed`], and when it is spent the operation
//! returns `Pending` after waking the task, which goes to the back of the
//! run queue.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may perform in one poll before it is made to yield.
pub(crate) const BUDGET: u8 = 128;

thread_local! {
    /// `None` outside a task poll: unconstrained.
    static CURRENT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Run `f` (one poll of a task) with a fresh budget.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(Option<u8>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let prev = self.0;
            let _ = CURRENT.try_with(|c| c.set(prev));
        }
    }
    let prev = CURRENT.with(|c| c.replace(Some(BUDGET)));
    let _reset = Reset(prev);
    f()
}

/// Spend one unit of the current task's budget. `Pending` (with the task
/// already woken) when the budget is spent.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let allowed = CURRENT
        .try_with(|c| match c.get() {
            None => true,
            Some(0) => false,
            Some(n) => {
                c.set(Some(n - 1));
                true
            }
        })
        .unwrap_or(true);
    if allowed {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Spend one unit of the task's budget, yielding to the scheduler if it is
/// spent. Call it in loops that make progress without ever returning
/// `Pending` (say, draining a channel that is never empty), so that they
/// leave room for other tasks as weft's own IO types do.
///
/// # Examples
///
/// ```
/// weft::block_on(async {
///     for _ in 0..1000 {
///         weft::task::consume_budget().await;
///     }
/// });
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(poll_proceed).await
}
