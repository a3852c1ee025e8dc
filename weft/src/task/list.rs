//! The list of a scheduler's live tasks, so that a runtime going away can
//! cancel every one. Intrusive (the links live in each task's `Header`), so
//! linking and unlinking allocate nothing and take O(1).
//!
//! Rule: the list and the links of the tasks in it are touched only by the
//! thread that owns the list (the scheduler's core travels with it).

use std::ptr::NonNull;

use super::raw::Header;
use super::{Schedule, Task};

pub(crate) struct OwnedList {
    head: Option<NonNull<Header>>,
    len: usize,
}

// SAFETY: the list is only used by the thread holding the scheduler core it
// lives in; moving the core to another thread moves the whole list, and the
// tasks' links are touched only through it.
unsafe impl Send for OwnedList {}

impl OwnedList {
    pub(crate) const fn new() -> OwnedList {
        OwnedList { head: None, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Link a task; the list takes over the task's owner ref.
    pub(crate) fn push<S: Schedule>(&mut self, task: Task<S>) {
        let ptr = task.into_raw();
        // SAFETY: the owner ref keeps the task alive while linked; links are
        // only touched by this list's thread (module rule).
        unsafe {
            let h = ptr.as_ref();
            debug_assert!(!*h.owned_linked.get());
            *h.owned_prev.get() = None;
            *h.owned_next.get() = self.head;
            if let Some(old) = self.head {
                *old.as_ref().owned_prev.get() = Some(ptr);
            }
            *h.owned_linked.get() = true;
        }
        self.head = Some(ptr);
        self.len += 1;
    }

    /// Unlink `ptr` if it is linked; true if it was (the caller then owns the
    /// owner ref and must drop it).
    pub(crate) fn remove(&mut self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller holds a ref, so the task is alive; links are
        // ours (module rule).
        unsafe {
            let h = ptr.as_ref();
            if !*h.owned_linked.get() {
                return false;
            }
            let prev = *h.owned_prev.get();
            let next = *h.owned_next.get();
            match prev {
                Some(p) => *p.as_ref().owned_next.get() = next,
                None => self.head = next,
            }
            if let Some(n) = next {
                *n.as_ref().owned_prev.get() = prev;
            }
            *h.owned_prev.get() = None;
            *h.owned_next.get() = None;
            *h.owned_linked.get() = false;
        }
        self.len -= 1;
        true
    }

    /// Unlink the first task and hand over its owner ref.
    pub(crate) fn pop<S: Schedule>(&mut self) -> Option<Task<S>> {
        let ptr = self.head?;
        self.remove(ptr);
        Some(Task::from_raw(ptr))
    }
}

impl std::fmt::Debug for OwnedList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedList").field("len", &self.len).finish()
    }
}
