//! A counting `#[global_allocator]`: the system allocator, plus per-thread
//! counts of allocation calls and bytes while a [`Counter`] is running.
//!
//! Counts are per thread (a `const` thread-local `Cell`, which needs no
//! lazy initialisation and no destructor, so the allocator may touch it at
//! any time), so helper threads a runtime may start (async-io's reactor
//! thread, blocking pools) do not blur the figure. When no counter runs,
//! the cost is one thread-local load and a branch per allocation, the same
//! for every runtime.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator with counting.
pub(crate) struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

#[inline]
fn note(size: usize) {
    // `try_with`: never panic inside the allocator, even during thread
    // teardown.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
            let _ = BYTES.try_with(|b| b.set(b.get() + size as u64));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; `note` only updates
// thread-local cells and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract
        // (non-zero size), which is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator (that is,
        // `System`) returned, with the layout it was allocated with.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A realloc is an allocator call, counted as one allocation of
        // `new_size` bytes.
        note(new_size);
        // SAFETY: the caller passes a block `System` returned, its layout,
        // and a valid non-zero `new_size`, as `System.realloc` requires.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation calls and bytes requested on this thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) allocs: u64,
    pub(crate) bytes: u64,
}

/// Counts this thread's allocations from `start` to `stop`.
#[derive(Debug)]
pub(crate) struct Counter {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Counter {
    /// Reset this thread's counts and start counting.
    pub(crate) fn start() -> Counter {
        ALLOCS.with(|a| a.set(0));
        BYTES.with(|b| b.set(0));
        COUNTING.with(|on| on.set(true));
        Counter {
            _not_send: std::marker::PhantomData,
        }
    }

    /// Stop counting and return what was counted.
    pub(crate) fn stop(self) -> Counts {
        COUNTING.with(|on| on.set(false));
        Counts {
            allocs: ALLOCS.with(Cell::get),
            bytes: BYTES.with(Cell::get),
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        let _ = COUNTING.try_with(|on| on.set(false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_this_threads_allocations() {
        let counter = Counter::start();
        let v: Vec<u64> = Vec::with_capacity(8);
        let b = Box::new([0u8; 100]);
        let counts = counter.stop();
        drop((v, b));
        assert_eq!(counts.allocs, 2);
        assert_eq!(counts.bytes, 64 + 100);
    }

    #[test]
    fn other_threads_are_not_counted() {
        let counter = Counter::start();
        let t = std::thread::spawn(|| vec![0u8; 10].len());
        let before = ALLOCS.with(Cell::get);
        let n = t.join().unwrap_or(0);
        let counts = counter.stop();
        assert_eq!(n, 10);
        // Spawning the thread allocates here (its handle and name); the
        // vector inside it is not counted.
        assert!(counts.bytes < 10_000, "{counts:?}, before join: {before}");
    }

    #[test]
    fn nothing_is_counted_when_stopped() {
        let counts = Counter::start().stop();
        let _v = vec![1u8; 1000];
        assert_eq!(Counter::start().stop(), Counts::default());
        assert_eq!(counts, Counts::default());
    }
}
