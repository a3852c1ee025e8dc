//! The thread-local "current runtime": which scheduler `spawn` targets, and
//! the scheduler core while this thread drives it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::Arc;

use super::current_thread::{Core, Shared};
use super::{current_thread, driver, multi_thread};
use crate::task::JoinHandle;

/// Which scheduler a runtime is: what the thread-local context, tasks of
/// the blocking pool and `weft::runtime::Handle` point at.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    CurrentThread(Arc<Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Handle {
    pub(crate) fn driver(&self) -> &driver::Handle {
        match self {
            Handle::CurrentThread(h) => &h.driver,
            Handle::MultiThread(h) => &h.driver,
        }
    }

    pub(crate) fn blocking(&self) -> &Arc<crate::blocking::Pool> {
        match self {
            Handle::CurrentThread(h) => &h.blocking,
            Handle::MultiThread(h) => &h.blocking,
        }
    }

    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(h) => current_thread::spawn(h, future),
            Handle::MultiThread(h) => multi_thread::spawn(h, future),
        }
    }
}

pub(crate) struct Context {
    /// The runtime this thread is inside (`block_on`, a task, a blocking thread).
    pub(crate) handle: RefCell<Option<Handle>>,
    /// The scheduler core, while this thread drives the runtime.
    pub(crate) core: RefCell<Option<Box<Core>>>,
    /// Set while this thread runs `block_on`: a nested one is refused.
    pub(crate) in_block_on: Cell<bool>,
}

thread_local! {
    pub(crate) static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            core: RefCell::new(None),
            in_block_on: Cell::new(false),
        }
    };
}

/// Run `f` with the current runtime's shared state, if there is one.
pub(crate) fn with_handle<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    let res = CONTEXT.try_with(|c| {
        let h = c.handle.try_borrow().ok();
        let f = f.take()?;
        Some(f(h.as_ref().and_then(|h| h.as_ref())))
    });
    match (res, f) {
        (Ok(Some(r)), _) => r,
        // The thread is being torn down: there is no runtime.
        (_, Some(f)) => f(None),
        (_, None) => unreachable!("closure consumed without a result"),
    }
}

/// Run `f` on `value` with the core of `shared` if this thread is driving it
/// right now (and it is not already borrowed); otherwise hand `value` back.
#[inline]
pub(crate) fn with_core<T, R>(
    shared: &Shared,
    value: T,
    f: impl FnOnce(&mut Core, T) -> R,
) -> Result<R, T> {
    crate::util::local::lend(&CONTEXT, value, |c, value| {
        // The installed core says which runtime it belongs to; the entered
        // handle does not matter (a task of runtime A woken while A's core
        // is here goes to A's queue, whichever handle is entered).
        let Ok(mut core) = c.core.try_borrow_mut() else {
            return Err(value);
        };
        match core.as_mut() {
            Some(core) if core.is_of(shared) => Ok(f(core, value)),
            _ => Err(value),
        }
    })
}

/// Enter a runtime on this thread: `spawn` and friends now target it.
/// Restores the previous state on drop.
pub(crate) struct EnterGuard {
    prev: Option<Handle>,
}

pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let prev = CONTEXT.with(|c| c.handle.replace(Some(handle)));
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CONTEXT.try_with(|c| *c.handle.borrow_mut() = prev);
    }
}

/// The current runtime's IO driver handle, if this thread is inside a runtime.
pub(crate) fn io_handle() -> Option<crate::reactor::Handle> {
    with_handle(|h| h.map(|h| h.driver().io.clone()))
}

/// The current runtime's timer handle, if this thread is inside a runtime.
pub(crate) fn time_handle() -> Option<crate::time::driver::Handle> {
    with_handle(|h| h.map(|h| h.driver().time.clone()))
}
