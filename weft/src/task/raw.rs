//! The single allocation behind every task: a `#[repr(C)]` cell whose first
//! field is the `Header`, so a `NonNull<Header>` is a pointer to the whole
//! task and the monomorphised `Vtable` recovers the concrete type.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::error::JoinError;
use super::state::{State, TransitionToIdle, TransitionToNotified, TransitionToRunning};
use super::{Id, Notified, Schedule, Task};
use crate::loom::cell::UnsafeCell;

/// Hot fields, shared by every task type.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// Links of the scheduler's list of live tasks. Only the thread that
    /// owns that list reads or writes them (the list's documented rule).
    pub(crate) owned_prev: std::cell::UnsafeCell<Option<NonNull<Header>>>,
    pub(crate) owned_next: std::cell::UnsafeCell<Option<NonNull<Header>>>,
    /// Whether the task is linked into an owner list (owner thread only).
    pub(crate) owned_linked: std::cell::UnsafeCell<bool>,
    pub(crate) id: Id,
}

/// What the task holds in place of its future, over its life.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    /// Written by the `JoinHandle` while JOIN_WAKER is clear; read by the
    /// runtime after COMPLETE while JOIN_WAKER is set.
    join_waker: UnsafeCell<Option<Waker>>,
    /// Accessed only by the holder of RUNNING, or after COMPLETE by the
    /// holder of JOIN_INTEREST (or by the runtime if JOIN_INTEREST is clear).
    stage: UnsafeCell<Stage<F>>,
}

pub(crate) struct Vtable {
    pub(crate) poll: unsafe fn(NonNull<Header>),
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `dst` points at a `Poll<Result<F::Output, JoinError>>`.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

struct VtableFor<F, S>(std::marker::PhantomData<(F, S)>);

impl<F: Future + 'static, S: Schedule> VtableFor<F, S> {
    const VTABLE: Vtable = Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    };
}

/// Allocate a task. The returned pointer carries the three initial refs
/// (owner list, `JoinHandle`, first `Notified`; see `State::new`).
pub(crate) fn allocate<F, S>(future: F, scheduler: S, id: Id) -> NonNull<Header>
where
    F: Future + 'static,
    S: Schedule,
{
    let cell = Box::new(Cell {
        header: Header {
            state: State::new(),
            vtable: &VtableFor::<F, S>::VTABLE,
            owned_prev: std::cell::UnsafeCell::new(None),
            owned_next: std::cell::UnsafeCell::new(None),
            owned_linked: std::cell::UnsafeCell::new(false),
            id,
        },
        scheduler,
        join_waker: UnsafeCell::new(None),
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    NonNull::from(Box::leak(cell)).cast::<Header>()
}

/// Recover the typed cell.
///
/// # Safety
/// `ptr` must come from `allocate::<F, S>` and the task must not be freed.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: `Cell` is repr(C) with `header` first, so the header pointer is
    // the cell pointer; the caller guarantees the types and liveness.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

unsafe fn poll<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is only reached through a task of these types, and
    // the caller's Notified ref keeps it alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        TransitionToRunning::Success => {}
        TransitionToRunning::Cancelled => {
            // SAFETY: we hold RUNNING.
            unsafe { cancel_and_complete::<F, S>(ptr, cell) };
            return;
        }
        TransitionToRunning::Failed => return,
        TransitionToRunning::Dealloc => {
            // SAFETY: that was the last ref.
            unsafe { dealloc::<F, S>(ptr) };
            return;
        }
    }

    // A waker that borrows the running ref instead of taking one.
    // SAFETY: the vtable's functions only need a live task, which the
    // running ref guarantees for the duration of the poll.
    let waker = std::mem::ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(ptr)) });
    let mut cx = Context::from_waker(&waker);

    let polled = catch_unwind(AssertUnwindSafe(|| {
        cell.stage.with_mut(|stage| {
            // SAFETY: RUNNING gives exclusive access to the stage, and the
            // future never moves: it lives in the heap cell until dropped.
            let stage = unsafe { &mut *stage };
            match stage {
                // SAFETY: the future is never moved out of the cell until it
                // is dropped in place (pinning guarantee).
                Stage::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(&mut cx),
                _ => unreachable!("weft bug: polled a task whose future is gone"),
            }
        })
    }));

    let output = match polled {
        Ok(Poll::Pending) => match cell.header.state.transition_to_idle() {
            TransitionToIdle::Ok => return,
            TransitionToIdle::OkNotified => {
                cell.scheduler.schedule(Notified(Task::from_raw(ptr)));
                return;
            }
            TransitionToIdle::OkDealloc => {
                // SAFETY: that was the last ref.
                unsafe { dealloc::<F, S>(ptr) };
                return;
            }
            TransitionToIdle::Cancelled => {
                // SAFETY: we still hold RUNNING.
                unsafe { cancel_and_complete::<F, S>(ptr, cell) };
                return;
            }
        },
        Ok(Poll::Ready(out)) => Ok(out),
        Err(payload) => Err(JoinError::panic(cell.header.id, payload)),
    };
    // SAFETY: we hold RUNNING.
    let output = match unsafe { drop_future::<F, S>(cell) } {
        Ok(()) => output,
        Err(payload) => Err(JoinError::panic(cell.header.id, payload)),
    };
    // SAFETY: we hold RUNNING.
    unsafe { complete::<F, S>(ptr, cell, output) };
}

/// Drop the future, catching a panic from its destructor.
///
/// # Safety
/// The caller holds RUNNING.
unsafe fn drop_future<F: Future, S>(
    cell: &Cell<F, S>,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    catch_unwind(AssertUnwindSafe(|| {
        cell.stage.with_mut(|stage| {
            // SAFETY: RUNNING gives exclusive access to the stage.
            unsafe { *stage = Stage::Consumed };
        })
    }))
}

/// # Safety
/// The caller holds RUNNING.
unsafe fn cancel_and_complete<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    cell: &Cell<F, S>,
) {
    let id = cell.header.id;
    // SAFETY: forwarded from the caller.
    let output = match unsafe { drop_future::<F, S>(cell) } {
        Ok(()) => Err(JoinError::cancelled(id)),
        Err(payload) => Err(JoinError::panic(id, payload)),
    };
    // SAFETY: forwarded from the caller.
    unsafe { complete::<F, S>(ptr, cell, output) };
}

/// Store the output, publish COMPLETE, notify or drop as the state says,
/// leave the owner list and drop the running ref.
///
/// # Safety
/// The caller holds RUNNING and one ref (the running ref).
unsafe fn complete<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    cell: &Cell<F, S>,
    output: Result<F::Output, JoinError>,
) {
    cell.stage.with_mut(|stage| {
        // SAFETY: RUNNING gives exclusive access; the stage is Consumed, so
        // this assignment runs no destructor.
        unsafe { *stage = Stage::Finished(output) };
    });
    let prev = cell.header.state.transition_to_complete();
    if !prev.is_join_interested() {
        // Nobody will read the output: drop it here, on the runtime thread.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            cell.stage.with_mut(|stage| {
                // SAFETY: without JOIN_INTEREST the runtime owns the output.
                unsafe { *stage = Stage::Consumed };
            })
        }));
    } else if prev.is_join_waker_set() {
        cell.join_waker.with(|w| {
            // SAFETY: JOIN_WAKER is set, so the handle will not write the
            // field until we clear it below.
            if let Some(w) = unsafe { &*w } {
                let _ = catch_unwind(AssertUnwindSafe(|| w.wake_by_ref()));
            }
        });
        let after = cell.header.state.unset_join_waker_after_complete();
        if !after.is_join_interested() {
            // The handle was dropped meanwhile and left the waker to us.
            cell.join_waker.with_mut(|w| {
                // SAFETY: JOIN_INTEREST is gone and JOIN_WAKER cleared by us:
                // nobody else touches the field.
                drop(unsafe { (*w).take() });
            });
        }
    }
    let released = cell.scheduler.release(&Task::borrowed(ptr));
    let refs = if released { 2 } else { 1 };
    if cell.header.state.ref_dec_n(refs) {
        // SAFETY: those were the last refs.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller hands over a Notified ref, which keeps the task alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    cell.scheduler.schedule(Notified(Task::from_raw(ptr)));
}

unsafe fn dealloc<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: called once, when the ref count reached zero; the pointer came
    // from `Box::leak` in `allocate` with these types.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
}

unsafe fn try_read_output<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: the JoinHandle's ref keeps the task alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: the JoinHandle passes a `Poll<Result<F::Output, JoinError>>`.
    let dst = unsafe { &mut *dst.cast::<Poll<Result<F::Output, JoinError>>>() };
    if can_read_output(cell, waker) {
        cell.stage.with_mut(|stage| {
            // SAFETY: COMPLETE is set and we hold JOIN_INTEREST: the output
            // is ours to take.
            let stage = unsafe { &mut *stage };
            match std::mem::replace(stage, Stage::Consumed) {
                Stage::Finished(out) => *dst = Poll::Ready(out),
                _ => unreachable!("weft bug: JoinHandle polled after it returned Ready"),
            }
        });
    }
}

/// True if the output can be read now; otherwise the waker is stored.
fn can_read_output<F: Future, S>(cell: &Cell<F, S>, waker: &Waker) -> bool {
    let state = &cell.header.state;
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    if snapshot.is_join_waker_set() {
        let same = cell.join_waker.with(|w| {
            // SAFETY: JOIN_WAKER is set and we are the handle: the runtime
            // only reads the field, and only after COMPLETE.
            unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker))
        });
        if same {
            return false;
        }
        if state.unset_join_waker().is_err() {
            return true;
        }
    }
    cell.join_waker.with_mut(|w| {
        // SAFETY: JOIN_WAKER is clear: the handle owns the field.
        unsafe { *w = Some(waker.clone()) };
    });
    if state.set_join_waker().is_err() {
        // Completed meanwhile; the field is still ours.
        cell.join_waker.with_mut(|w| {
            // SAFETY: as above, JOIN_WAKER is still clear.
            drop(unsafe { (*w).take() });
        });
        return true;
    }
    false
}

unsafe fn drop_join_handle<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the handle's ref keeps the task alive until the end.
    let cell = unsafe { cell::<F, S>(ptr) };
    let prev = cell.header.state.transition_to_join_handle_dropped();
    if prev.is_complete() {
        // The output is ours: drop it here, catching a panicking destructor.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            cell.stage.with_mut(|stage| {
                // SAFETY: COMPLETE and we held JOIN_INTEREST.
                unsafe { *stage = Stage::Consumed };
            })
        }));
    } else {
        cell.join_waker.with_mut(|w| {
            // SAFETY: we cleared JOIN_WAKER before COMPLETE, so the runtime
            // will never read the field.
            drop(unsafe { (*w).take() });
        });
    }
    if cell.header.state.ref_dec() {
        // SAFETY: last ref.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// Runtime shutdown, called by the owner list's thread holding the list's ref
/// (which it keeps: `complete` releases it through the scheduler).
unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's ref keeps the task alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    if !cell.header.state.transition_to_shutdown() {
        return;
    }
    // `complete` drops one "running" ref: take one to stand for it.
    cell.header.state.ref_inc();
    // SAFETY: transition_to_shutdown gave us RUNNING.
    unsafe { cancel_and_complete::<F, S>(ptr, cell) };
}

// ----- wakers -----

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

fn raw_waker(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)
}

/// # Safety
/// `data` is a live task's header pointer (every waker holds a ref).
unsafe fn header<'a>(data: *const ()) -> &'a Header {
    // SAFETY: per the function's contract.
    unsafe { &*(data as *const Header) }
}

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a ref.
    unsafe { header(data) }.state.ref_inc();
    // SAFETY: data is non-null, it came from a NonNull.
    raw_waker(unsafe { NonNull::new_unchecked(data as *mut Header) })
}

unsafe fn waker_wake(data: *const ()) {
    // SAFETY: data came from a NonNull header.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: the waker holds a ref, so the task is alive.
    let h = unsafe { header(data) };
    match h.state.transition_to_notified_by_val() {
        // SAFETY: our ref became the Notified ref.
        TransitionToNotified::Submit => unsafe { (h.vtable.schedule)(ptr) },
        TransitionToNotified::DoNothing => {}
        // SAFETY: our ref was the last.
        TransitionToNotified::Dealloc => unsafe { (h.vtable.dealloc)(ptr) },
    }
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: data came from a NonNull header.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: the waker holds a ref, so the task is alive.
    let h = unsafe { header(data) };
    match h.state.transition_to_notified_by_ref() {
        // SAFETY: a new Notified ref was counted for the scheduler.
        TransitionToNotified::Submit => unsafe { (h.vtable.schedule)(ptr) },
        TransitionToNotified::DoNothing | TransitionToNotified::Dealloc => {}
    }
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: the waker holds a ref.
    let h = unsafe { header(data) };
    if h.state.ref_dec() {
        // SAFETY: that was the last ref; data came from a NonNull.
        unsafe { (h.vtable.dealloc)(NonNull::new_unchecked(data as *mut Header)) };
    }
}

#[cfg(all(test, target_os = "linux", target_pointer_width = "64"))]
mod tests {
    use super::*;

    type Scheduler = std::sync::Arc<crate::executor::current_thread::Shared>;

    /// A task is one heap block: glibc's malloc rounds a request plus its
    /// 8-byte header up to 16, so 104 bytes is the last size in a 112-byte
    /// block. A task that only sleeps (the `sleep` benchmark's million) is
    /// there, and so is one that returns nothing.
    #[test]
    fn tasks_fit_in_112_byte_blocks() {
        assert_eq!(std::mem::size_of::<Header>(), 48);
        assert_eq!(std::mem::size_of::<super::super::JoinError>(), 16);
        assert_eq!(
            std::mem::size_of::<Cell<crate::time::Sleep, Scheduler>>(),
            104
        );
        assert!(std::mem::size_of::<Cell<std::future::Ready<()>, Scheduler>>() <= 104);
    }
}
