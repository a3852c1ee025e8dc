//! `Source`: a socket together with its reactor registration, the one
//! place where the net types meet the reactor.
#![forbid(unsafe_code)]

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

use crate::reactor::{Direction, Interest, ReadyEvent, Registration};

use super::error::{context, retry};
use crate::util::error::NO_RUNTIME_IO;

/// An OS socket registered with the current runtime's reactor.
///
/// Field order matters: `reg` is dropped (so deregistered) before `io`
/// closes the descriptor, so the reactor never holds a dead fd.
#[derive(Debug)]
pub(crate) struct Source<T: AsRawFd> {
    reg: Registration,
    io: T,
}

/// The current runtime's reactor, or an error naming `what` was being made.
pub(crate) fn io_handle(what: &'static str) -> io::Result<crate::reactor::Handle> {
    match crate::executor::context::io_handle() {
        Some(h) => Ok(h),
        None => Err(io::Error::other(format!("{what}: {NO_RUNTIME_IO}"))),
    }
}

impl<T: AsRawFd> Source<T> {
    /// Register `io` (already non-blocking) with the current runtime's
    /// reactor for `interest`.
    pub(crate) fn new(io: T, interest: Interest, what: &'static str) -> io::Result<Source<T>> {
        let handle = io_handle(what)?;
        let fd = io.as_raw_fd();
        let reg = handle
            .register(fd, interest)
            .map_err(|e| context(e, "register with the reactor:", format!("{what} fd {fd}")))?;
        Ok(Source { reg, io })
    }

    pub(crate) fn get_ref(&self) -> &T {
        &self.io
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }

    /// Ready once `dir` is ready (or closed, or in error).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.reg.poll_ready(cx, dir)
    }

    /// Wait for the poller's real events on `ready` instead of the initial assumption.
    pub(crate) fn forget_assumed(&self, ready: crate::reactor::Ready) {
        self.reg.forget_assumed(ready);
    }

    /// Forget `ev`'s readiness after an operation hit `WouldBlock`.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.reg.clear_readiness(ev);
    }

    /// Wait until `dir` is ready (the readiness is not consumed).
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<()> {
        poll_fn(|cx| self.poll_ready(cx, dir).map_ok(|_| ())).await
    }

    /// Run `f` (one non-blocking syscall, `EINTR` retried) when `dir` is
    /// ready; wait again on `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.reg.poll_io(cx, dir, || retry(|| f(&self.io)))
    }

    /// [`poll_io`](Self::poll_io) for a stream read or write of `len` bytes (see
    /// `Registration::poll_stream_io`: a short transfer clears the readiness).
    #[inline]
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        mut f: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.reg
            .poll_stream_io(cx, dir, len, || retry(|| f(&self.io)))
    }

    /// Run `f` once if `dir` looks ready; `WouldBlock` otherwise.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg.try_io(dir, || retry(|| f(&self.io)))
    }

    /// Deregister and hand the socket back (still non-blocking).
    pub(crate) fn into_inner(self) -> io::Result<T> {
        let Source { mut reg, io } = self;
        let fd = io.as_raw_fd();
        reg.deregister(fd)
            .map_err(|e| context(e, "deregister from the reactor:", format!("fd {fd}")))?;
        drop(reg);
        Ok(io)
    }
}

/// Bytes a vectored write asks for.
pub(crate) fn total_len(bufs: &[std::io::IoSlice<'_>]) -> usize {
    bufs.iter().map(|b| b.len()).sum()
}

/// Bytes a vectored read has room for.
pub(crate) fn total_len_mut(bufs: &[std::io::IoSliceMut<'_>]) -> usize {
    bufs.iter().map(|b| b.len()).sum()
}

impl<T: AsRawFd + std::os::fd::AsFd> Source<T> {
    /// Wait until a socket whose non-blocking `connect` is in progress is connected (the
    /// poller reports it writable), then hand back the connect's outcome (`SO_ERROR`).
    ///
    /// The initial "maybe writable" assumption of a new source is dropped first: it would
    /// end the wait at once, before the handshake.
    pub(crate) async fn connected(&self) -> io::Result<()> {
        self.forget_assumed(crate::reactor::Ready::WRITABLE);
        poll_fn(|cx| {
            std::task::ready!(self.poll_ready(cx, Direction::Write))?;
            Poll::Ready(match socket2::SockRef::from(&self.io).take_error() {
                Ok(None) => Ok(()),
                Ok(Some(e)) | Err(e) => Err(e),
            })
        })
        .await
    }
}
