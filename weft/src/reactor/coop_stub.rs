//! TEMP stand-in for `crate::executor::coop::poll_proceed`, which the executor layer provides.
//! Delete this file and point `registration.rs` at the real one once `main` has it.
#![forbid(unsafe_code)]

use std::task::{Context, Poll};

/// Consumes one unit of the running task's cooperative budget; `Pending` (after arranging a
/// wake) when the budget is spent. The stub never runs out.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let _ = cx;
    Poll::Ready(())
}
