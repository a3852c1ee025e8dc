//! A worker's local run queue: a bounded ring that only its worker pushes
//! to and pops from (`Local`), and that other workers steal half of when
//! they run dry (`Steal`).
//!
//! # Layout
//!
//! `head` and `tail` are free-running `u32` counters (they wrap); a slot's
//! index is the counter masked by `CAPACITY - 1`. The queue holds the tasks
//! at counters `head..tail`. Slots are `AtomicPtr`s holding the `Notified`
//! ref of each task, so a racing read of a slot is never undefined
//! behaviour, only a value that must not be used: no `unsafe` here.
//!
//! # Who writes what
//!
//! - `tail` and the slots: the owner only. It writes a slot, then publishes
//!   it with a `Release` store of `tail`.
//! - `head`: advanced with a compare-exchange by the owner (`pop`, and the
//!   overflow that moves half the ring to the inject queue) and by
//!   stealers. Whoever wins the exchange owns the tasks it stepped over.
//!
//! # Why a stealer's copy is sound
//!
//! A stealer reads `head = h`, `tail = t` (`Acquire`, so it sees the slots
//! the owner published), copies the slots of `h..h + n` into its own ring,
//! and only then tries `head: h -> h + n`. The owner overwrites the slot of
//! counter `h + k` only for counter `h + k + CAPACITY`, which it does only
//! after seeing `head > h + k`; so if the stealer copied an overwritten
//! slot, `head` was no longer `h` and its exchange fails (counters do not
//! come back to `h` before 2^32 pushes). The owner needs no copy-first: it
//! is the only writer of slots, so what it stepped over stays put.
//!
//! A stealer writes the copies into its own ring beyond its own `tail`, in
//! slots that no thief of its own ring reads successfully (it only steals
//! into a ring at most half full, and steals at most half a ring), and
//! publishes them with its `tail` after the exchange succeeded.
#![forbid(unsafe_code)]

use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use super::inject::Inject;
use crate::loom::sync::atomic::{AtomicPtr, AtomicU32, Ordering::*};
use crate::loom::sync::Arc;
use crate::task::raw::Header;
use crate::task::{Notified, Task};

/// Tasks a local ring holds (a power of two).
#[cfg(not(loom))]
pub(crate) const CAPACITY: u32 = 256;
#[cfg(loom)]
pub(crate) const CAPACITY: u32 = 4;
const MASK: u32 = CAPACITY - 1;

struct Inner {
    head: AtomicU32,
    tail: AtomicU32,
    slots: Box<[AtomicPtr<Header>]>,
}

/// The owner's handle: push and pop.
pub(crate) struct Local<S: 'static> {
    inner: Arc<Inner>,
    _s: PhantomData<S>,
}

/// Another worker's handle: steal.
pub(crate) struct Steal<S: 'static> {
    inner: Arc<Inner>,
    _s: PhantomData<S>,
}

impl<S: 'static> Clone for Steal<S> {
    fn clone(&self) -> Steal<S> {
        Steal {
            inner: self.inner.clone(),
            _s: PhantomData,
        }
    }
}

/// A new, empty ring.
pub(crate) fn local<S: 'static>() -> (Local<S>, Steal<S>) {
    let slots = (0..CAPACITY)
        .map(|_| AtomicPtr::new(ptr::null_mut()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU32::new(0),
        tail: AtomicU32::new(0),
        slots,
    });
    (
        Local {
            inner: inner.clone(),
            _s: PhantomData,
        },
        Steal {
            inner,
            _s: PhantomData,
        },
    )
}

fn into_ptr<S>(task: Notified<S>) -> *mut Header {
    task.0.into_raw().as_ptr()
}

fn from_ptr<S>(ptr: *mut Header) -> Option<Notified<S>> {
    // A slot read by its owner (or by the winner of `head`) always holds a
    // task; `None` only if that invariant is broken.
    NonNull::new(ptr).map(|p| Notified(Task::from_raw(p)))
}

impl Inner {
    fn slot(&self, counter: u32) -> &AtomicPtr<Header> {
        &self.slots[(counter & MASK) as usize]
    }

    fn len(&self) -> u32 {
        let head = self.head.load(Acquire);
        let tail = self.tail.load(Acquire);
        tail.wrapping_sub(head)
    }
}

impl<S: 'static> Local<S> {
    /// Tasks in the ring (exact for the owner, up to concurrent steals).
    pub(crate) fn len(&self) -> u32 {
        self.inner.len()
    }

    /// Free slots (a lower bound: steals only add room).
    pub(crate) fn remaining(&self) -> u32 {
        CAPACITY - self.len()
    }

    /// Push at the back; when the ring is full, move its older half and
    /// `task` to `inject` in one batch.
    pub(crate) fn push_back(&mut self, mut task: Notified<S>, inject: &Inject<S>) {
        loop {
            let head = self.inner.head.load(Acquire);
            // Only we write tail.
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(head) < CAPACITY {
                self.inner.slot(tail).store(into_ptr(task), Relaxed);
                self.inner.tail.store(tail.wrapping_add(1), Release);
                return;
            }
            match self.push_overflow(task, head, inject) {
                Ok(()) => return,
                // A thief made room meanwhile: try again.
                Err(t) => task = t,
            }
        }
    }

    /// Push only if there is room; hands `task` back otherwise. Never takes
    /// the inject lock (callers may hold it).
    pub(crate) fn try_push_back(&mut self, task: Notified<S>) -> Result<(), Notified<S>> {
        let head = self.inner.head.load(Acquire);
        let tail = self.inner.tail.load(Relaxed);
        if tail.wrapping_sub(head) < CAPACITY {
            self.inner.slot(tail).store(into_ptr(task), Relaxed);
            self.inner.tail.store(tail.wrapping_add(1), Release);
            Ok(())
        } else {
            Err(task)
        }
    }

    fn push_overflow(
        &mut self,
        task: Notified<S>,
        head: u32,
        inject: &Inject<S>,
    ) -> Result<(), Notified<S>> {
        let half = CAPACITY / 2;
        if self
            .inner
            .head
            .compare_exchange(head, head.wrapping_add(half), AcqRel, Relaxed)
            .is_err()
        {
            return Err(task);
        }
        // We own the slots stepped over; only we write slots, so they hold
        // what we put there.
        let inner = &self.inner;
        let batch = (0..half)
            .filter_map(|i| from_ptr::<S>(inner.slot(head.wrapping_add(i)).load(Relaxed)))
            .chain(std::iter::once(task));
        inject.push_batch(batch);
        Ok(())
    }

    /// Pop from the front (the oldest task).
    pub(crate) fn pop(&mut self) -> Option<Notified<S>> {
        let mut head = self.inner.head.load(Acquire);
        loop {
            let tail = self.inner.tail.load(Relaxed);
            if head == tail {
                return None;
            }
            match self
                .inner
                .head
                .compare_exchange_weak(head, head.wrapping_add(1), AcqRel, Acquire)
            {
                Ok(_) => return from_ptr(self.inner.slot(head).load(Relaxed)),
                Err(h) => head = h,
            }
        }
    }
}

impl<S: 'static> Drop for Local<S> {
    /// Drop the queued refs (the tasks themselves stay in the owner list).
    fn drop(&mut self) {
        while let Some(task) = self.pop() {
            drop(task);
        }
    }
}

impl<S: 'static> Steal<S> {
    /// True if the ring holds no task right now.
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// Move half of this ring (rounded up) into `dst`, returning one of the
    /// tasks to run at once. `None` if this ring is empty, or `dst` is more
    /// than half full.
    pub(crate) fn steal_into(&self, dst: &mut Local<S>) -> Option<Notified<S>> {
        let dst_tail = dst.inner.tail.load(Relaxed);
        let dst_head = dst.inner.head.load(Acquire);
        if dst_tail.wrapping_sub(dst_head) > CAPACITY / 2 {
            return None;
        }
        let src = &self.inner;
        let mut head = src.head.load(Acquire);
        loop {
            let tail = src.tail.load(Acquire);
            let len = tail.wrapping_sub(head);
            if len == 0 {
                return None;
            }
            if len > CAPACITY {
                // `head` is stale (the owner popped and pushed since).
                head = src.head.load(Acquire);
                continue;
            }
            let n = len - len / 2;
            for i in 0..n {
                let p = src.slot(head.wrapping_add(i)).load(Relaxed);
                dst.inner.slot(dst_tail.wrapping_add(i)).store(p, Relaxed);
            }
            match src
                .head
                .compare_exchange(head, head.wrapping_add(n), AcqRel, Acquire)
            {
                Ok(_) => {
                    let last = dst.inner.slot(dst_tail.wrapping_add(n - 1)).load(Relaxed);
                    if n > 1 {
                        dst.inner.tail.store(dst_tail.wrapping_add(n - 1), Release);
                    }
                    return from_ptr(last);
                }
                Err(h) => head = h,
            }
        }
    }
}
