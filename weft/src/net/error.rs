//! Errors of the net layer: each names the operation and the address,
//! path or descriptor it failed on, and keeps the OS error.
#![forbid(unsafe_code)]

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// An OS error with the operation and the resource it was performed on.
///
/// `io::Error::kind()` of the wrapping error is the OS error's kind, and
/// the OS error (with its raw code) is this error's `source()`;
/// [`raw_os_error`] looks through the wrapper.
#[derive(Debug)]
pub(crate) struct NetError {
    op: &'static str,
    target: String,
    source: io::Error,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.op, self.target, self.source)
    }
}

impl StdError for NetError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// Wrap `err` as "`op` `target`: `err`", keeping its kind.
///
/// An error that already carries context (a `NetError`) is returned as is,
/// so that nested helpers do not stack prefixes.
pub(crate) fn context(err: io::Error, op: &'static str, target: impl fmt::Display) -> io::Error {
    if err
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<NetError>().is_some())
    {
        return err;
    }
    io::Error::new(
        err.kind(),
        NetError {
            op,
            target: target.to_string(),
            source: err,
        },
    )
}

/// [`context`] for the error of a `try_` operation: `WouldBlock` (not ready yet) stays bare, so
/// callers match it cheaply and nothing is formatted for it; any other error names `op` and the
/// target, described only then.
pub(crate) fn try_context<D: fmt::Display>(
    err: io::Error,
    op: &'static str,
    target: impl FnOnce() -> D,
) -> io::Error {
    if err.kind() == io::ErrorKind::WouldBlock {
        err
    } else {
        context(err, op, target())
    }
}

/// The raw OS error code of `err`, looking through a [`context`] wrapper.
pub(crate) fn raw_os_error(err: &io::Error) -> Option<i32> {
    if let Some(code) = err.raw_os_error() {
        return Some(code);
    }
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<NetError>())
        .and_then(|e| e.source.raw_os_error())
}

/// Whether a non-blocking `connect` that failed with `err` is still going on in the kernel:
/// `EINPROGRESS`, or `EINTR` (which also leaves the connect running).
pub(crate) fn connect_in_progress(err: &io::Error) -> bool {
    matches!(raw_os_error(err), Some(libc::EINPROGRESS)) || err.kind() == io::ErrorKind::Interrupted
}

/// Run a non-blocking system call again while it fails with `EINTR`.
#[inline]
pub(crate) fn retry<R>(mut f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            res => return res,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_kind_and_code() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let e = context(e, "connect to", "127.0.0.1:1");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(raw_os_error(&e), Some(libc::ECONNREFUSED));
        assert!(e.to_string().starts_with("connect to 127.0.0.1:1: "), "{e}");
        // Not wrapped twice.
        let e = context(e, "bind", "x");
        assert!(e.to_string().starts_with("connect to"), "{e}");
    }

    #[test]
    fn retry_retries_eintr_only() {
        let mut n = 0;
        let r: io::Result<u8> = retry(|| {
            n += 1;
            if n < 3 {
                Err(io::ErrorKind::Interrupted.into())
            } else {
                Ok(7)
            }
        });
        assert_eq!(r.unwrap(), 7);
        assert_eq!(n, 3);
    }
}
