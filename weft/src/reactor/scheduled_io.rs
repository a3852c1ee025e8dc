//! The reactor's state for one registered source: cached readiness and one waker per direction.
//!
//! # The readiness word
//!
//! One `AtomicUsize` holds, from the low bits up:
//! - bits 0..5: the [`Ready`] flags (readable, writable, read_closed, write_closed, error);
//! - bit 7: `SHUTDOWN`, set when the driver is dropped (every later poll returns an error);
//! - bits 16..: the *tick* of the driver dispatch that last set flags here; 0 (never stamped
//!   by a dispatch) while the flags are still the initial assumption below.
//!
//! The driver sets flags (never clears them) and stamps its tick. A task that saw a direction
//! ready and then got `WouldBlock` clears the flags it saw *only if the tick is unchanged*
//! ([`ScheduledIo::clear_readiness`]). So an event that arrives between the failed system call
//! and the clear is never lost: its dispatch changed the tick, the clear does nothing, and the
//! next poll tries the system call again. (With edge-triggered epoll that event would not be
//! reported a second time.) The closed flags are never cleared: a source at EOF stays readable.
//!
//! A new source starts readable and writable ("maybe ready"), so the first operation tries the
//! system call instead of waiting for an event that an edge-triggered poller may never send.
//! Where that guess is known to be wrong (a socket whose connect is in progress),
//! [`ScheduledIo::forget_assumed`] drops it, which is sound only while the tick is still 0.
//!
//! # Wakers
//!
//! One slot per direction, under one small mutex, so a reader and a writer on two tasks each
//! get their own wakeups. The waiting side stores its waker and then re-reads the readiness
//! *while holding the mutex*; the driver sets readiness *before* taking the mutex to take the
//! wakers. Whichever takes the mutex first, either the waiter sees the new readiness or the
//! driver sees the waker: no lost wakeup (modelled with loom in `reactor/tests/loom_park.rs`).
//!
//! Orderings: the readiness word is written with `AcqRel` read-modify-writes and read with
//! `Acquire`; the cross-thread guarantee above comes from the waiters mutex, and the
//! acquire/release pairs only make what the driver saw (and the tick) visible with the flags.
#![forbid(unsafe_code)]

use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};

use super::ready::{Direction, Ready};

const READY_MASK: usize = Ready::ALL.bits() as usize;
const SHUTDOWN: usize = 1 << 7;
const TICK_SHIFT: u32 = 16;
/// Ticks wrap at this mask (2^48 on 64-bit targets, 2^16 on 32-bit ones). A wrong clear needs
/// exactly that many dispatches between one failed system call and its clear.
pub(crate) const TICK_MASK: usize = usize::MAX >> TICK_SHIFT;

/// What [`ScheduledIo::poll_readiness`] saw: the ready flags of one direction and the tick
/// they were stamped with. Handed back to [`ScheduledIo::clear_readiness`] after `WouldBlock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    pub(crate) tick: usize,
    pub(crate) ready: Ready,
}

/// The driver that owned this source is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shutdown;

#[derive(Debug, Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Waiters {
    fn slot(&mut self, dir: Direction) -> &mut Option<Waker> {
        match dir {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// See the module doc.
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

fn tick_of(word: usize) -> usize {
    word >> TICK_SHIFT
}

fn ready_of(word: usize) -> Ready {
    // READY_MASK fits in a u8.
    Ready::from_bits((word & READY_MASK) as u8)
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        let initial = (Ready::READABLE | Ready::WRITABLE).bits() as usize;
        ScheduledIo {
            readiness: AtomicUsize::new(initial),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        // Waker slots are replaced whole; a panic (in a waker's clone) cannot tear them.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Driver: ORs `ready` into the flags and stamps `tick`.
    #[inline]
    pub(crate) fn set_readiness(&self, tick: usize, ready: Ready) {
        let stamp = (tick & TICK_MASK) << TICK_SHIFT;
        let add = ready.bits() as usize;
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                Some((cur & (READY_MASK | SHUTDOWN)) | add | stamp)
            });
    }

    /// Driver: after [`set_readiness`](Self::set_readiness), moves the wakers of the directions
    /// `ready` makes ready into `out` (woken by the caller once it holds no lock).
    #[inline]
    pub(crate) fn take_wakers(&self, ready: Ready, out: &mut Vec<Waker>) {
        let read = ready.intersects(Direction::Read.mask());
        let write = ready.intersects(Direction::Write.mask());
        if !read && !write {
            return;
        }
        let (reader, writer) = {
            let mut w = self.waiters();
            (
                if read { w.reader.take() } else { None },
                if write { w.writer.take() } else { None },
            )
        };
        if let Some(r) = reader {
            out.push(r);
        }
        if let Some(w) = writer {
            out.push(w);
        }
    }

    /// Driver, when it is dropped: marks the source shut down and hands out every waker.
    pub(crate) fn shutdown(&self, out: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, Ordering::AcqRel);
        let mut w = self.waiters();
        out.extend(w.reader.take());
        out.extend(w.writer.take());
    }

    /// The current readiness of `dir`, without storing a waker: `Ok(None)` if not ready.
    #[inline]
    pub(crate) fn readiness(&self, dir: Direction) -> Result<Option<ReadyEvent>, Shutdown> {
        Self::event(self.readiness.load(Ordering::Acquire), dir)
    }

    #[inline]
    fn event(word: usize, dir: Direction) -> Result<Option<ReadyEvent>, Shutdown> {
        if word & SHUTDOWN != 0 {
            return Err(Shutdown);
        }
        let ready = ready_of(word).intersection(dir.mask());
        if ready.is_empty() {
            Ok(None)
        } else {
            Ok(Some(ReadyEvent {
                tick: tick_of(word),
                ready,
            }))
        }
    }

    /// Ready if `dir` is ready (or the driver shut down); otherwise stores the task's waker in
    /// the slot of `dir` and returns `Pending`.
    ///
    /// Inlined: the ready case is one load and a mask on every read and write, so it should not
    /// pay a call; the waiting case is out of line.
    #[inline]
    pub(crate) fn poll_readiness(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<Result<ReadyEvent, Shutdown>> {
        match self.readiness(dir) {
            Ok(Some(ev)) => Poll::Ready(Ok(ev)),
            Err(s) => Poll::Ready(Err(s)),
            Ok(None) => self.wait_readiness(cx, dir),
        }
    }

    /// The waiting half of [`poll_readiness`](Self::poll_readiness): store the waker, re-check.
    #[inline(never)]
    fn wait_readiness(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<Result<ReadyEvent, Shutdown>> {
        let mut w = self.waiters();
        let slot = w.slot(dir);
        match slot {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-check under the lock (see the module doc). If ready now, the stored waker may get
        // one spurious wake later, which is harmless.
        match self.readiness(dir) {
            Ok(Some(ev)) => Poll::Ready(Ok(ev)),
            Err(s) => Poll::Ready(Err(s)),
            Ok(None) => Poll::Pending,
        }
    }

    /// Drops the initial "maybe ready" assumption for `ready` (readable, writable) if no
    /// dispatch has touched this source yet (its tick is still 0), so that the next poll waits
    /// for the poller's real event. For a socket that is still connecting, or whose peer cannot
    /// have sent anything yet. Safe with both backends: epoll reports, when a source is added,
    /// a state that was already true; poll(2) reports it at the next poll once armed.
    pub(crate) fn forget_assumed(&self, ready: Ready) {
        self.clear_at_tick(0, ready);
    }

    /// After `WouldBlock`: clears the clearable flags of `ev` if no dispatch touched this
    /// source since `ev` was read (same tick).
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.clear_at_tick(ev.tick, ev.ready);
    }

    /// Clears the clearable flags of `ready` while the word still carries `tick`.
    fn clear_at_tick(&self, tick: usize, ready: Ready) {
        let clear = ready.intersection(Ready::CLEARABLE).bits() as usize;
        let mut cur = self.readiness.load(Ordering::Acquire);
        while tick_of(cur) == tick && cur & clear != 0 {
            match self.readiness.compare_exchange_weak(
                cur,
                cur & !clear,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The raw flags, for tests and debugging.
    #[cfg(test)]
    pub(crate) fn ready(&self) -> Ready {
        ready_of(self.readiness.load(Ordering::Acquire))
    }
}
