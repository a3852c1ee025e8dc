//! The wakeup descriptor: how another thread (or the poll(2) backend, after a change of
//! interest) interrupts a thread blocked in the poller.
//!
//! An eventfd on Linux; a non-blocking pipe elsewhere. On Linux the pipe can be forced, so that
//! CI tests it, by building with `RUSTFLAGS="--cfg weft_force_poll"` or by setting
//! `WEFT_WAKEUP=pipe` in the environment (read when a driver is created).
//!
//! Contract: [`Wakeup::wake`] makes [`Wakeup::fd`] readable until [`Wakeup::drain`] is called;
//! a full counter or pipe means it already is readable, so `wake` then succeeds without writing
//! (overflow is handled, never reported). `drain` empties it; the poller calls it each time it
//! reports the wakeup descriptor, so edge-triggered registration keeps working.

#[cfg(target_os = "linux")]
mod eventfd;
mod pipe;

use std::io;
use std::os::fd::RawFd;

#[cfg(test)]
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// Which kind of wakeup descriptor to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WakeupKind {
    /// `eventfd(2)`: one descriptor, an 8-byte counter (Linux only).
    EventFd,
    /// A non-blocking `pipe(2)`: portable.
    Pipe,
}

/// The environment variable that forces the pipe wakeup on Linux when set to `pipe`.
pub(crate) const WAKEUP_ENV: &str = "WEFT_WAKEUP";

impl WakeupKind {
    /// The kind a new driver uses: eventfd on Linux unless `cfg(weft_force_poll)` is set or the
    /// environment says `WEFT_WAKEUP=pipe`; the pipe everywhere else.
    pub(crate) fn from_env() -> WakeupKind {
        if cfg!(weft_force_poll) || !cfg!(target_os = "linux") {
            return WakeupKind::Pipe;
        }
        match std::env::var_os(WAKEUP_ENV) {
            Some(v) if v == "pipe" => WakeupKind::Pipe,
            _ => WakeupKind::EventFd,
        }
    }
}

#[derive(Debug)]
enum Inner {
    #[cfg(target_os = "linux")]
    EventFd(eventfd::EventFd),
    Pipe(pipe::Pipe),
}

/// A wakeup descriptor (see the module doc).
#[derive(Debug)]
pub(crate) struct Wakeup {
    inner: Inner,
    /// How many times `wake` issued a write system call (tests assert on it).
    #[cfg(test)]
    writes: AtomicUsize,
}

impl Wakeup {
    /// Creates a wakeup descriptor of `kind`.
    ///
    /// # Errors
    ///
    /// The creating system call's error (e.g. `EMFILE`), with its name; `Unsupported` for an
    /// eventfd off Linux.
    pub(crate) fn new(kind: WakeupKind) -> io::Result<Wakeup> {
        let inner = match kind {
            #[cfg(target_os = "linux")]
            WakeupKind::EventFd => Inner::EventFd(eventfd::EventFd::new()?),
            #[cfg(not(target_os = "linux"))]
            WakeupKind::EventFd => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the eventfd wakeup exists only on Linux",
                ))
            }
            WakeupKind::Pipe => Inner::Pipe(pipe::Pipe::new()?),
        };
        Ok(Wakeup {
            inner,
            #[cfg(test)]
            writes: AtomicUsize::new(0),
        })
    }

    /// The kind this is.
    #[cfg(test)]
    pub(crate) fn kind(&self) -> WakeupKind {
        match self.inner {
            #[cfg(target_os = "linux")]
            Inner::EventFd(_) => WakeupKind::EventFd,
            Inner::Pipe(_) => WakeupKind::Pipe,
        }
    }

    /// The descriptor to register with the poller for reading.
    pub(crate) fn fd(&self) -> RawFd {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::EventFd(e) => e.fd(),
            Inner::Pipe(p) => p.read_fd(),
        }
    }

    /// Makes the descriptor readable. Safe to call from any thread, any number of times.
    ///
    /// # Errors
    ///
    /// Only an unexpected OS error from `write` (e.g. `EBADF` would be a bug); a full counter or
    /// pipe is not an error, since the descriptor is then already readable.
    pub(crate) fn wake(&self) -> io::Result<()> {
        #[cfg(test)]
        self.writes.fetch_add(1, Ordering::Relaxed);
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::EventFd(e) => e.wake(),
            Inner::Pipe(p) => p.wake(),
        }
    }

    /// Empties the descriptor so that it is no longer readable. Errors are ignored: the only
    /// possible ones are "already empty" (`EAGAIN`) or bugs.
    pub(crate) fn drain(&self) {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::EventFd(e) => e.drain(),
            Inner::Pipe(p) => p.drain(),
        }
    }

    /// The number of `write` system calls `wake` has made.
    #[cfg(test)]
    pub(crate) fn writes(&self) -> usize {
        self.writes.load(Ordering::Relaxed)
    }

    /// Test hook: fills the counter or pipe to the point where a plain write would fail.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn fill_for_test(&self) {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::EventFd(e) => e.fill_for_test(),
            Inner::Pipe(p) => p.fill_for_test(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn kinds() -> Vec<WakeupKind> {
        if cfg!(target_os = "linux") {
            vec![WakeupKind::EventFd, WakeupKind::Pipe]
        } else {
            vec![WakeupKind::Pipe]
        }
    }

    fn readable(fd: RawFd) -> bool {
        let mut pfd = [libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: `pfd` is a valid array of one pollfd for the duration of the call.
        let n = unsafe { libc::poll(pfd.as_mut_ptr(), 1, 0) };
        n == 1 && pfd[0].revents & libc::POLLIN != 0
    }

    #[test]
    fn wake_then_drain() {
        for kind in kinds() {
            let w = Wakeup::new(kind).unwrap();
            assert_eq!(w.kind(), kind);
            assert!(!readable(w.fd()), "{kind:?}");
            w.wake().unwrap();
            w.wake().unwrap();
            assert!(readable(w.fd()), "{kind:?}");
            w.drain();
            assert!(!readable(w.fd()), "{kind:?}");
            w.drain(); // draining an empty one is fine
            assert_eq!(w.writes(), 2);
        }
    }

    #[test]
    fn overflow_is_not_an_error() {
        for kind in kinds() {
            let w = Wakeup::new(kind).unwrap();
            w.fill_for_test();
            assert!(readable(w.fd()), "{kind:?}");
            w.wake().unwrap();
            w.wake().unwrap();
            w.drain();
            assert!(!readable(w.fd()), "{kind:?}");
            w.wake().unwrap();
            assert!(readable(w.fd()), "{kind:?}");
        }
    }
}
