//! A source's registration with the IO driver: what a socket type owns to wait for readiness.
//!
//! Typical use by a socket type (which owns both the fd and the registration, and declares the
//! registration first so that it is dropped, and so deregistered, before the fd is closed):
//!
//! ```ignore
//! fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
//!     self.registration.poll_io(cx, Direction::Read, || sys::read(self.fd.as_fd(), buf))
//! }
//! ```
#![forbid(unsafe_code)]

use std::io;
use std::os::fd::RawFd;
use std::task::{ready, Context, Poll};

use crate::loom::sync::Arc;

use super::driver::Handle;
use super::msg;
use super::ready::{Direction, Ready};
use super::scheduled_io::{ReadyEvent, ScheduledIo};
use crate::executor::coop;

/// One registered source. `Send + Sync`: a reader task and a writer task may share it (each
/// direction has its own waker slot).
#[derive(Debug)]
pub(crate) struct Registration {
    handle: Handle,
    io: Arc<ScheduledIo>,
    fd: RawFd,
    token: u64,
    registered: bool,
}

impl Registration {
    pub(super) fn new(handle: Handle, io: Arc<ScheduledIo>, fd: RawFd, token: u64) -> Registration {
        Registration {
            handle,
            io,
            fd,
            token,
            registered: true,
        }
    }

    /// Ready with the readiness of `dir` once it is ready; otherwise stores the task's waker
    /// for `dir` and returns `Pending`. Consumes one unit of the task's cooperative budget.
    ///
    /// # Errors
    ///
    /// The runtime's shutdown error if the driver was dropped; an error if this registration
    /// was deregistered; on poll(2), the error of re-arming the fd.
    #[inline]
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        // Cooperative budget: an always-ready socket must still let other tasks run.
        ready!(coop::poll_proceed(cx));
        if !self.registered {
            return Poll::Ready(Err(msg::deregistered()));
        }
        match self.io.poll_readiness(cx, dir) {
            Poll::Ready(Ok(ev)) => Poll::Ready(Ok(ev)),
            Poll::Ready(Err(_)) => Poll::Ready(Err(msg::shut_down())),
            Poll::Pending => {
                // The waker is stored and the direction is not ready: on poll(2), put the
                // direction back in the fd's pollfd (after a report it was dropped). epoll: no-op.
                if let Err(e) = self
                    .handle
                    .inner
                    .poller
                    .arm(self.fd, self.token, dir.interest())
                {
                    return Poll::Ready(Err(e));
                }
                Poll::Pending
            }
        }
    }

    /// Wait for real events on `ready` instead of assuming them (see
    /// `ScheduledIo::forget_assumed`); a no-op once any event arrived.
    pub(crate) fn forget_assumed(&self, ready: Ready) {
        self.io.forget_assumed(ready);
    }

    /// After an operation on `ev`'s direction returned `WouldBlock`: forget that readiness,
    /// unless an event arrived in between (see `scheduled_io`).
    #[inline]
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.io.clear_readiness(ev);
    }

    /// Runs `f` (one non-blocking system call) when `dir` is ready; on `WouldBlock` clears the
    /// readiness and waits again. Any other result, success or error, is returned.
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(cx, dir, f, |_| false)
    }

    /// [`poll_io`](Self::poll_io) for a byte-stream read or write of `len` bytes: a transfer
    /// shorter than asked (but not zero) means the socket's receive queue was drained, or its
    /// send buffer filled, at that moment, so the readiness is cleared at once instead of being
    /// discovered by one more system call that fails with `EAGAIN`. An event that arrived
    /// meanwhile is not lost: it carries a newer tick, which the clear leaves alone.
    #[inline]
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        f: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io_until_drained(cx, dir, f, |&n| n > 0 && n < len)
    }

    /// The loop of both: `drained(&result)` says a successful call also used up the readiness.
    #[inline]
    fn poll_io_until_drained<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut f: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(ev),
                Ok(r) if drained(&r) => {
                    self.clear_readiness(ev);
                    return Poll::Ready(Ok(r));
                }
                res => return Poll::Ready(res),
            }
        }
    }

    /// Runs `f` if `dir` looks ready, without storing a waker; `WouldBlock` if not ready or if
    /// `f` would block (which clears the readiness).
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        if !self.registered {
            return Err(msg::deregistered());
        }
        let ev = match self.io.readiness(dir) {
            Ok(Some(ev)) => ev,
            Ok(None) => return Err(io::ErrorKind::WouldBlock.into()),
            Err(_) => return Err(msg::shut_down()),
        };
        let res = f();
        if let Err(e) = &res {
            if e.kind() == io::ErrorKind::WouldBlock {
                self.clear_readiness(ev);
            }
        }
        res
    }

    /// Removes the source from the driver. Must be called before `fd` is closed (dropping the
    /// registration does it too). Calling it again is a no-op.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `fd` is not the registered fd; the OS error of `epoll_ctl(DEL)` naming
    /// the fd (e.g. `EBADF` if it was closed already).
    pub(crate) fn deregister(&mut self, fd: RawFd) -> io::Result<()> {
        if !self.registered {
            return Ok(());
        }
        if fd != self.fd {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "deregister of fd {fd} on the registration of fd {}",
                    self.fd
                ),
            ));
        }
        self.registered = false;
        let res = self.handle.inner.poller.deregister(fd, self.token);
        self.handle.inner.release(self.token);
        res
    }

    /// The token this source's events carry.
    #[cfg(test)]
    pub(crate) fn token(&self) -> u64 {
        self.token
    }

    #[cfg(test)]
    pub(crate) fn scheduled_io(&self) -> &ScheduledIo {
        &self.io
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; the slot is released either way.
        let _ = self.deregister(self.fd);
    }
}
