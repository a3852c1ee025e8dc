//! The executor: tasks go in, the run loop polls the ones that were woken,
//! and sleeps in the driver when none is ready.
//!
//! `current_thread` is the single-threaded scheduler, `multi_thread` the
//! work-stealing one; `context` is the
//! thread-local "current runtime"; `driver` is what the loop sleeps in;
//! `park` is the unpark protocol; `coop` is the cooperative budget.

pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod current_thread;
pub(crate) mod driver;
pub(crate) mod multi_thread;
pub(crate) mod park;
pub(crate) mod runtime;

use std::future::Future;

pub use self::runtime::{Builder, Handle, Runtime};
use crate::task::JoinHandle;
use crate::util::error::NO_RUNTIME_SPAWN;

/// Spawn a task onto the current runtime.
///
/// The task starts running at the runtime's next chance, whether or not
/// the returned [`JoinHandle`] is awaited; dropping the handle detaches it.
///
/// # Panics
///
/// Panics if called outside a weft runtime (outside `block_on`, a task, or
/// a blocking thread of a runtime).
///
/// # Examples
///
/// ```
/// weft::block_on(async {
///     let handle = weft::spawn(async { "hello" });
///     assert_eq!(handle.await.unwrap(), "hello");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match context::with_handle(|h| h.map(|h| h.spawn(future))) {
        Some(join) => join,
        None => panic!("{}", NO_RUNTIME_SPAWN),
    }
}

/// Spawn a future that is not `Send` onto the current runtime's thread.
///
/// Inside a poll of a [`LocalSet`](crate::task::LocalSet) (its
/// `run_until`, `block_on`, or the set awaited), the task goes to that
/// set, on either runtime flavour. Elsewhere it goes to the current-thread
/// runtime this thread is driving.
///
/// # Panics
///
/// Panics if called outside a thread that is driving a weft runtime, and
/// on the multi-thread runtime outside a `LocalSet` (its tasks move
/// between workers, so it cannot hold a `!Send` one).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// weft::block_on(async {
///     let shared = Rc::new(5);
///     let s = shared.clone();
///     let handle = weft::spawn_local(async move { *s + 1 });
///     assert_eq!(handle.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    runtime::spawn_local_inner(future)
}

/// Run `future` to completion on a new current-thread runtime, and drop
/// the runtime (cancelling any task still running) before returning.
///
/// # Panics
///
/// Panics if the runtime cannot be created (the OS refused its poller or
/// wakeup descriptor) or if called from inside a runtime.
///
/// # Examples
///
/// ```
/// let n = weft::block_on(async { 40 + 2 });
/// assert_eq!(n, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    match Runtime::new() {
        Ok(rt) => rt.block_on(future),
        Err(e) => panic!("weft::block_on: failed to create the runtime: {e}"),
    }
}
