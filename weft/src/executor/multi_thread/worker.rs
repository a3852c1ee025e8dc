//! A worker thread: its `Core` (ring, LIFO slot, search state) and its run
//! loop.
//!
//! The core sits in a thread-local while the worker runs, so that a wake or
//! spawn on the worker's own thread pushes to its ring without a lock. The
//! loop borrows it only between polls: a task being polled finds it free.
//! It stays there while the worker sleeps in the driver (flagged `parked`),
//! so the tasks the driver wakes land in this worker's ring.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::queue::{Local, CAPACITY};
use super::{Queued, Shared, EVENT_INTERVAL, INJECT_INTERVAL, MAX_LIFO_POLLS};
use crate::executor::context::{self, Handle};
use crate::executor::coop;

pub(crate) struct Core {
    index: usize,
    /// Address of the `Shared` this core belongs to.
    shared_addr: usize,
    run_queue: Local<Arc<Shared>>,
    lifo: Option<Queued>,
    /// Tasks that yielded: they run again once the ring is empty and the
    /// driver has been looked at, so a yield lets IO and timers in too.
    defer: Vec<Queued>,
    lifo_polls: u32,
    /// Address of the task being polled now, 0 between polls (to tell a
    /// yield from a wake of another task). Only compared.
    running: usize,
    is_searching: bool,
    /// True while this worker polls the driver: wakes then go to the ring
    /// and other workers are told after the poll.
    parked: bool,
    tick: u32,
    rand: u32,
}

thread_local! {
    static CORE: RefCell<Option<Box<Core>>> = const { RefCell::new(None) };
}

impl Core {
    pub(crate) fn new(
        index: usize,
        run_queue: Local<Arc<Shared>>,
        shared: &Arc<Shared>,
    ) -> Box<Core> {
        Box::new(Core {
            index,
            shared_addr: Arc::as_ptr(shared) as usize,
            run_queue,
            lifo: None,
            defer: Vec::new(),
            lifo_polls: 0,
            running: 0,
            is_searching: false,
            parked: false,
            tick: 0,
            rand: (index as u32).wrapping_mul(0x9E37_79B9) | 1,
        })
    }

    fn next_rand(&mut self, n: usize) -> usize {
        // xorshift32
        let mut x = self.rand;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rand = x;
        (x as usize) % n.max(1)
    }

    /// Push to the ring; tell a sleeper if the work can be shared.
    fn push_and_notify(&mut self, shared: &Shared, task: Queued) {
        self.run_queue.push_back(task, &shared.inject);
        if !self.parked {
            shared.notify_parked();
        }
    }
}

/// Run `f` with this thread's core if it belongs to `shared` and is not
/// borrowed; hand `value` back otherwise.
fn with_core<T, R>(shared: &Shared, value: T, f: impl FnOnce(&mut Core, T) -> R) -> Result<R, T> {
    let addr = shared as *const Shared as usize;
    crate::util::local::lend(&CORE, value, |c, value| {
        let Ok(mut core) = c.try_borrow_mut() else {
            return Err(value);
        };
        match core.as_mut() {
            Some(core) if core.shared_addr == addr => Ok(f(core, value)),
            _ => Err(value),
        }
    })
}

fn task_addr(task: &Queued) -> usize {
    task.0.header_ptr().as_ptr() as usize
}

/// True if this thread is one of `shared`'s workers.
pub(crate) fn is_worker_of(shared: &Shared) -> bool {
    with_core(shared, (), |_, ()| ()).is_ok()
}

/// Borrow this worker's core (the run loop only).
fn core<R>(f: impl FnOnce(&mut Core) -> R) -> Option<R> {
    CORE.with(|c| c.try_borrow_mut().ok()?.as_mut().map(|core| f(core)))
}

/// A wake on this thread: to the LIFO slot (or the deferred list for a
/// yield).
pub(crate) fn schedule_local(shared: &Arc<Shared>, task: Queued) -> Result<(), Queued> {
    with_core(shared, task, |core, task| {
        if core.parked || core.running == 0 {
            // Woken by the driver, or outside any poll.
            core.push_and_notify(shared, task);
        } else if core.running == task_addr(&task) {
            // The running task woke itself: a yield waits for the ring to
            // empty and the driver to be polled.
            core.defer.push(task);
        } else if let Some(prev) = core.lifo.replace(task) {
            core.push_and_notify(shared, prev);
        }
    })
}

/// A spawn on this thread: to the back of the ring.
pub(crate) fn spawn_local(shared: &Arc<Shared>, task: Queued) -> Result<(), Queued> {
    with_core(shared, task, |core, task| {
        core.push_and_notify(shared, task)
    })
}

/// The worker thread's body.
pub(crate) fn run(shared: Arc<Shared>, core: Box<Core>) {
    let _enter = context::enter(Handle::MultiThread(shared.clone()));
    // A task may not block its worker in a nested `block_on`.
    context::CONTEXT.with(|c| c.in_block_on.set(true));
    CORE.with(|c| *c.borrow_mut() = Some(core));
    struct Exit<'a>(&'a Shared);
    impl Drop for Exit<'_> {
        fn drop(&mut self) {
            // Take the core out first: dropping queued refs may run
            // destructors that wake or spawn.
            let core = CORE.try_with(|c| c.borrow_mut().take()).ok().flatten();
            drop(core);
            self.0.worker_exited();
        }
    }
    let _exit = Exit(&shared);
    run_loop(&shared);
}

fn run_loop(shared: &Arc<Shared>) {
    let mut polls = 0usize;
    while !shared.is_shutdown() {
        let task = core(|core| {
            core.tick = core.tick.wrapping_add(1);
            if core.tick % EVENT_INTERVAL == 0 {
                None
            } else {
                next_task(core, shared)
            }
        })
        .flatten();
        let task = match task {
            Some(t) => t,
            None => {
                let (event, deferred) =
                    core(|core| (core.tick % EVENT_INTERVAL == 0, !core.defer.is_empty()))
                        .unwrap_or((false, false));
                if event || deferred {
                    // Look at IO and timers without blocking.
                    maintenance(shared);
                }
                if deferred {
                    core(|core| undefer(core, shared));
                }
                match core(|core| next_task(core, shared).or_else(|| steal(core, shared))).flatten()
                {
                    Some(t) => t,
                    None => {
                        shared.polls.fetch_add(polls, Ordering::Relaxed);
                        polls = 0;
                        park(shared);
                        continue;
                    }
                }
            }
        };
        let notify = core(|core| {
            core.running = task_addr(&task);
            if core.is_searching {
                core.is_searching = false;
                shared.idle.transition_worker_from_searching()
            } else {
                false
            }
        })
        .unwrap_or(false);
        if notify {
            // We were the last searcher: someone else looks for the rest.
            shared.notify_parked();
        }
        coop::budget(|| task.run());
        polls += 1;
        core(|core| core.running = 0);
    }
    shared.polls.fetch_add(polls, Ordering::Relaxed);
}

fn next_task(core: &mut Core, shared: &Shared) -> Option<Queued> {
    if core.tick % INJECT_INTERVAL == 0 {
        if let Some(t) = shared.inject.pop() {
            return Some(t);
        }
    }
    if let Some(t) = core.lifo.take() {
        if core.lifo_polls < MAX_LIFO_POLLS {
            core.lifo_polls += 1;
            return Some(t);
        }
        core.run_queue.push_back(t, &shared.inject);
    }
    core.lifo_polls = 0;
    if let Some(t) = core.run_queue.pop() {
        return Some(t);
    }
    // Ring empty. Tasks that yielded (or spent their coop budget) go back
    // first: the run loop polls the driver and returns them to the ring.
    // Taking from the inject queue before them would let a long inject
    // queue (thousands of spawns from outside) starve them: an accept loop
    // that spent its budget then waits for every queued client, and the
    // kernel's listen queue overflows.
    if !core.defer.is_empty() {
        return None;
    }
    // Take a share of the inject queue.
    let workers = shared.remotes.len();
    let share = shared.inject.len() / workers + 1;
    let room = core.run_queue.remaining().min(CAPACITY / 2) as usize;
    let more = share.min(room).saturating_sub(1);
    let run_queue = &mut core.run_queue;
    shared
        .inject
        .pop_batch(more, |task| run_queue.try_push_back(task))
}

/// Put the tasks that yielded back in the ring.
fn undefer(core: &mut Core, shared: &Shared) {
    let mut deferred = std::mem::take(&mut core.defer);
    for task in deferred.drain(..) {
        core.run_queue.push_back(task, &shared.inject);
    }
    core.defer = deferred;
    if core.run_queue.len() > 1 {
        shared.notify_parked();
    }
}

fn steal(core: &mut Core, shared: &Shared) -> Option<Queued> {
    if !core.is_searching {
        if !shared.idle.transition_worker_to_searching() {
            return None;
        }
        core.is_searching = true;
    }
    let n = shared.remotes.len();
    let start = core.next_rand(n);
    for i in 0..n {
        let victim = (start + i) % n;
        if victim == core.index {
            continue;
        }
        if let Some(t) = shared.remotes[victim].steal.steal_into(&mut core.run_queue) {
            return Some(t);
        }
    }
    shared.inject.pop()
}

/// Poll the driver without blocking, if no other worker holds it.
fn maintenance(shared: &Arc<Shared>) {
    let Ok(mut slot) = shared.driver_slot.try_lock() else {
        return;
    };
    let Some(driver) = slot.as_mut() else { return };
    core(|core| core.parked = true);
    driver.park(&shared.driver, Some(Duration::ZERO));
    drop(slot);
    after_driver(shared);
}

/// The driver may have filled our ring: share it.
fn after_driver(shared: &Arc<Shared>) {
    let queued = core(|core| {
        core.parked = false;
        core.run_queue.len()
    })
    .unwrap_or(0);
    if queued > 1 {
        shared.notify_parked();
    }
}

/// Sleep until there is work: in the driver if it is free, else on our
/// condvar.
fn park(shared: &Arc<Shared>) {
    let Some((index, was_searching)) =
        core(|core| (core.index, std::mem::replace(&mut core.is_searching, false)))
    else {
        return;
    };
    if shared
        .idle
        .transition_worker_to_parked(index, was_searching)
    {
        shared.notify_if_work_pending();
    }
    let parker = &shared.remotes[index].parker;
    if !shared.is_shutdown() {
        match shared.driver_slot.try_lock() {
            Ok(mut slot) if slot.is_some() => {
                core(|core| core.parked = true);
                shared.driver_sleeper.store(index + 1, Ordering::Relaxed);
                parker.park_driver(|| {
                    if let Some(driver) = slot.as_mut() {
                        driver.park(&shared.driver, None);
                    }
                });
                shared.driver_sleeper.store(0, Ordering::Relaxed);
                drop(slot);
                after_driver(shared);
            }
            _ => parker.park_condvar(),
        }
    }
    if !shared.idle.transition_worker_from_parked(index) {
        // A notifier woke us and counted us as searching.
        core(|core| core.is_searching = true);
    }
}
