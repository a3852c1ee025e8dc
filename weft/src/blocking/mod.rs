//! The blocking pool: `spawn_blocking` runs closures on threads of their
//! own, so that blocking work (file IO, name resolution, heavy computing)
//! never stalls the event loop.
//!
//! A job is an ordinary task (so its `JoinHandle`, `abort` and `JoinError`
//! work as for any task) whose future runs the closure in one poll, and
//! whose scheduler is the pool: queuing it hands it to an idle thread, or
//! starts a new one while fewer than `max_threads` exist. Idle threads exit
//! after `keep_alive`. On runtime shutdown queued jobs are cancelled and
//! never started; running ones are waited for (up to a timeout).
#![forbid(unsafe_code)]

pub(crate) mod pool;

pub(crate) use pool::Pool;

use crate::executor::context;
use crate::task::JoinHandle;
use crate::util::error::NO_RUNTIME_SPAWN_BLOCKING;

/// Run a blocking closure on the runtime's blocking pool and await its
/// result.
///
/// The closure starts on a pool thread at once (a new thread if none is
/// idle, up to the pool's limit; beyond it, jobs wait in a queue).
/// [`JoinHandle::abort`] cancels it only if it has not started.
/// Inside the closure, [`weft::spawn`](crate::spawn) spawns onto the same
/// runtime.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// weft::block_on(async {
///     let sum = weft::spawn_blocking(|| (1..=100u32).sum::<u32>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match context::with_handle(|h| h.cloned()) {
        Some(handle) => {
            let pool = handle.blocking().clone();
            pool.spawn(f, handle)
        }
        None => panic!("{}", NO_RUNTIME_SPAWN_BLOCKING),
    }
}
