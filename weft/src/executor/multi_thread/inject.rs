//! The global inject queue: tasks spawned or woken from outside the
//! workers, and the overflow of full local rings. A mutex around a
//! `VecDeque`, with its length mirrored in an atomic so that a worker can
//! see "empty" without the lock.
#![forbid(unsafe_code)]

use std::collections::VecDeque;

use crate::loom::lock_model;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;
use crate::task::Notified;

pub(crate) struct Inject<S: 'static> {
    synced: Mutex<Synced<S>>,
    /// `synced.queue.len()`, written under the lock. `SeqCst`: it is one
    /// half of the "no worker asleep while work waits" handshake (idle.rs).
    len: AtomicUsize,
}

struct Synced<S: 'static> {
    queue: VecDeque<Notified<S>>,
    closed: bool,
}

impl<S: 'static> Inject<S> {
    pub(crate) fn new() -> Inject<S> {
        Inject {
            synced: Mutex::new(Synced {
                queue: VecDeque::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(SeqCst)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queue a task; once closed, the task's ref is dropped instead (the
    /// task itself stays in the owner list, which shutdown empties).
    pub(crate) fn push(&self, task: Notified<S>) {
        let mut s = lock_model(&self.synced);
        if s.closed {
            drop(s);
            drop(task);
            return;
        }
        s.queue.push_back(task);
        self.len.store(s.queue.len(), SeqCst);
    }

    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified<S>>) {
        let mut s = lock_model(&self.synced);
        if s.closed {
            drop(s);
            tasks.for_each(drop);
            return;
        }
        s.queue.extend(tasks);
        self.len.store(s.queue.len(), SeqCst);
    }

    pub(crate) fn pop(&self) -> Option<Notified<S>> {
        if self.is_empty() {
            return None;
        }
        let mut s = lock_model(&self.synced);
        let task = s.queue.pop_front();
        self.len.store(s.queue.len(), SeqCst);
        task
    }

    /// Pop one task to run, and hand up to `more` others to `keep` (which
    /// must not take this lock), in one lock.
    pub(crate) fn pop_batch(
        &self,
        more: usize,
        mut keep: impl FnMut(Notified<S>) -> Result<(), Notified<S>>,
    ) -> Option<Notified<S>> {
        if self.is_empty() {
            return None;
        }
        let mut s = lock_model(&self.synced);
        let first = s.queue.pop_front();
        for _ in 0..more {
            let Some(task) = s.queue.pop_front() else {
                break;
            };
            if let Err(task) = keep(task) {
                s.queue.push_front(task);
                break;
            }
        }
        self.len.store(s.queue.len(), SeqCst);
        first
    }

    /// Refuse tasks from now on; returns what was queued.
    pub(crate) fn close(&self) -> VecDeque<Notified<S>> {
        let mut s = lock_model(&self.synced);
        s.closed = true;
        let all = std::mem::take(&mut s.queue);
        self.len.store(0, SeqCst);
        all
    }
}
