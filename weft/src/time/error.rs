//! Time errors, and the user-visible messages of the time layer (each defined once).
#![forbid(unsafe_code)]

use std::error::Error;
use std::fmt;
use std::io;

/// A [`timeout`](crate::time::timeout) ran out before its future completed.
///
/// Converts into an [`io::Error`] of kind [`io::ErrorKind::TimedOut`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// weft::block_on(async {
///     let never = std::future::pending::<()>();
///     let err = weft::time::timeout(Duration::from_millis(1), never).await.unwrap_err();
///     assert_eq!(err.to_string(), "deadline has elapsed");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(err: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, err)
    }
}

pub(crate) const NO_RUNTIME_SLEEP: &str =
    "`weft::time::sleep` polled outside a weft runtime: a timer needs a runtime to fire it; \
     await it inside `Runtime::block_on`, `weft::block_on`, a task, or `#[weft::main]`";

pub(crate) const RUNTIME_GONE_SLEEP: &str =
    "`weft::time::sleep` polled after the runtime it was registered with shut down, and \
     outside any other weft runtime: await it inside a running weft runtime";

pub(crate) const SHUTDOWN_SLEEP: &str =
    "`weft::time::sleep` polled inside a weft runtime that is shutting down: its timers no \
     longer fire";

pub(crate) const NO_RUNTIME_CLOCK: &str =
    "`weft::time::pause`, `resume` or `advance` called outside a weft runtime: the paused clock \
     belongs to a runtime; call it from inside `Runtime::block_on` or a task";
