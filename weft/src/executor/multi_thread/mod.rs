//! The multi-thread scheduler: N worker threads run `Send` tasks, stealing
//! from each other when they run dry.
//!
//! # Pieces
//!
//! - Each worker owns a `Core`: a bounded local ring (`queue.rs`, 256
//!   tasks) and a LIFO slot. A task woken by the task running on the same
//!   worker goes to the LIFO slot and runs next (a message handed to a
//!   waiting receiver is processed while it is hot in cache); at most
//!   `MAX_LIFO_POLLS` LIFO tasks run in a row, then the slot's task goes to
//!   the back of the ring, so two tasks waking each other cannot starve the
//!   ring. A task that wakes itself (a yield) waits in a deferred list
//!   until the ring is empty, and the worker polls the driver (without
//!   blocking) before putting it back, so tasks that yield in a loop
//!   cannot keep IO and timers waiting for `EVENT_INTERVAL` polls. Spawned
//!   tasks go to the back of the ring.
//! - Wakes and spawns from other threads, and the older half of a full
//!   ring, go to one global inject queue (`inject.rs`). A worker looks at
//!   it first every `INJECT_INTERVAL` polls, and whenever its ring is
//!   empty and no yielded task waits in its deferred list (those go back
//!   first), taking a batch.
//! - A worker with nothing to do steals half of another worker's ring,
//!   starting from a random one; then parks. `idle.rs` keeps the count of
//!   searching workers (at most half of them search at once), and a wake
//!   unparks at most one sleeper, only if nobody is searching.
//! - Every live task is in one of `OWNED_SHARDS` owner lists (by address),
//!   each under its own mutex, so that shutdown can cancel each task and
//!   tasks completing on different workers rarely contend.
//!
//! # The event loop: one driver, shared
//!
//! There is one IO driver and one timer wheel per runtime. A worker going
//! to sleep takes the driver with `try_lock` and sleeps in the poller; the
//! others sleep on their own condvars (`park.rs`). A busy worker also polls
//! the driver without blocking every `EVENT_INTERVAL` polls, if it is free.
//! Tasks that the driver wakes go to the ring of the worker that polled it,
//! which then wakes a sleeper to share them. An unpark of the driver-holder
//! goes through the driver's wakeup descriptor.
//!
//! Why not one poller per worker: a socket registered with worker A's
//! poller can only be woken there, so a task that moved to worker B (by
//! stealing) would have its IO readiness delivered to A, and the reactor
//! would need per-worker sources and migration. One shared driver keeps the
//! reactor and the timer wheel exactly as the current-thread runtime uses
//! them, costs one `try_lock` per park, and on two cores (the machine this
//! was written on) one poller is enough to keep both workers fed. The
//! per-worker alternative was not built, so it was not measured.
//!
//! Known cost of sharing: the driver is only watched while some worker
//! sleeps in it or polls it (every `EVENT_INTERVAL` polls, and each time
//! tasks that yielded are put back). If the worker that held it goes on
//! to a long poll that never yields while the others sleep on their
//! condvars, IO and timers wait for that poll to end. New work wakes a
//! condvar sleeper rather than the driver's, so this happens only when
//! the driver's own wakeup hands its worker the long task. Handing the
//! driver to a condvar sleeper after every such wakeup would close the gap
//! at the price of an extra thread wakeup per IO event; not done.
//!
//! # Figures
//!
//! `weft-bench/run.sh --flavor multi --workers 2` (2 workers each, medians
//! of 3 interleaved rounds, 2-CPU machine otherwise quiet, 2026-11-28),
//! weft / tokio multi-thread, wall time (process CPU time in brackets):
//! spawn 200k from outside 367 / 816 ns per task (637 / 1373), from inside
//! a task 305 / 870 (475 / 1352); 1,000 tasks x 1,000 yields 60.5 / 58.1 ns
//! per yield (106 / 116); ping-pong over `async_channel` between tasks
//! 472 / 801 ns per round trip (473 / 1131); a spawn chain 211 / 517 ns per
//! task (260 / 734). The echo and http servers on 2 workers (the load
//! generator sharing both CPUs) cost the same server CPU per operation as
//! tokio's within noise: echo C=64 10.6 / 9.48 µs per message, C=1000
//! 13.0 / 13.7; http C=64 10.3 / 10.3 µs per request, C=512 12.1 / 11.5.
//! A million tasks spawned by 1,000 tasks and joined take about 1.1 s in
//! release (`rt_multi_stress`).
//!
//! # Shutdown
//!
//! Dropping the runtime closes the owner lists (new spawns are cancelled at
//! once) and the inject queue, sets the shutdown flag and unparks every
//! worker. Each worker finishes the poll it is in, drops its queued refs
//! and exits; the dropping thread joins them (up to the timeout of
//! `shutdown_timeout`), then cancels every task still in the owner lists
//! (their futures are `Send`, so this thread may drop them), and drops the
//! driver.

pub(crate) mod idle;
pub(crate) mod inject;
pub(crate) mod park;
pub(crate) mod queue;
pub(crate) mod worker;

#[cfg(all(test, loom))]
mod loom_tests;

use std::future::Future;
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use self::idle::Idle;
use self::inject::Inject;
use self::park::Parker;
use self::queue::Steal;
use super::context::{self, Handle};
use super::driver::{self, Driver};
use crate::loom::lock;
use crate::task::list::OwnedList;
use crate::task::raw::Header;
use crate::task::{new_task, JoinHandle, Notified, Schedule, Task};

/// Task polls between two non-blocking looks at the driver.
pub(crate) const EVENT_INTERVAL: u32 = 61;
/// Task polls between two looks at the inject queue ahead of the ring.
pub(crate) const INJECT_INTERVAL: u32 = 31;
/// LIFO-slot tasks run in a row before the slot yields to the ring.
pub(crate) const MAX_LIFO_POLLS: u32 = 3;
const OWNED_SHARDS: usize = 64;

pub(crate) type Queued = Notified<Arc<Shared>>;

pub(crate) struct Shared {
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) inject: Inject<Arc<Shared>>,
    pub(crate) idle: Idle,
    owned: Box<[Mutex<OwnedShard>]>,
    pub(crate) driver: driver::Handle,
    /// The driver, for whichever worker parks in it.
    pub(crate) driver_slot: Mutex<Option<Driver>>,
    /// Index + 1 of the worker sleeping in the driver; 0 if none.
    pub(crate) driver_sleeper: AtomicUsize,
    pub(crate) blocking: Arc<crate::blocking::Pool>,
    shutdown: AtomicBool,
    /// Worker threads still running, and a condvar signalled as they exit.
    running: Mutex<usize>,
    exited: Condvar,
    /// Tasks ever polled, by all workers (for tests and figures).
    pub(crate) polls: AtomicUsize,
}

pub(crate) struct Remote {
    pub(crate) steal: Steal<Arc<Shared>>,
    pub(crate) parker: Parker,
}

struct OwnedShard {
    list: OwnedList,
    closed: bool,
}

/// The settings of a multi-thread runtime.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) workers: usize,
    pub(crate) driver: driver::Config,
    pub(crate) blocking: crate::blocking::pool::Config,
}

/// The worker threads of a started runtime.
pub(crate) struct Threads {
    handles: Vec<std::thread::JoinHandle<()>>,
}

/// Create the shared state and start the workers.
pub(crate) fn start(config: Config) -> io::Result<(Arc<Shared>, Threads)> {
    let n = config.workers.max(1);
    let (driver, handle) = Driver::new(config.driver)?;
    let mut locals = Vec::with_capacity(n);
    let mut remotes = Vec::with_capacity(n);
    for _ in 0..n {
        let (local, steal) = queue::local();
        locals.push(local);
        remotes.push(Remote {
            steal,
            parker: Parker::new(),
        });
    }
    let shared = Arc::new(Shared {
        remotes: remotes.into_boxed_slice(),
        inject: Inject::new(),
        idle: Idle::new(n),
        owned: (0..OWNED_SHARDS)
            .map(|_| {
                Mutex::new(OwnedShard {
                    list: OwnedList::new(),
                    closed: false,
                })
            })
            .collect(),
        driver: handle,
        driver_slot: Mutex::new(Some(driver)),
        driver_sleeper: AtomicUsize::new(0),
        blocking: crate::blocking::Pool::new(config.blocking),
        shutdown: AtomicBool::new(false),
        running: Mutex::new(n),
        exited: Condvar::new(),
        polls: AtomicUsize::new(0),
    });
    let mut threads = Threads {
        handles: Vec::with_capacity(n),
    };
    for (index, local) in locals.into_iter().enumerate() {
        let core = worker::Core::new(index, local, &shared);
        let sh = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("weft-worker-{index}"))
            .spawn(move || worker::run(sh, core));
        match spawned {
            Ok(h) => threads.handles.push(h),
            Err(e) => {
                // Stop the ones started; those never started count as exited.
                *lock(&shared.running) -= n - index;
                shutdown(&shared, threads, None);
                return Err(io::Error::new(
                    e.kind(),
                    format!("weft: could not start worker thread {index} of {n}: {e}"),
                ));
            }
        }
    }
    Ok((shared, threads))
}

impl Shared {
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    fn shard(&self, ptr: NonNull<Header>) -> &Mutex<OwnedShard> {
        let a = ptr.as_ptr() as usize;
        &self.owned[((a >> 4) ^ (a >> 12)) % OWNED_SHARDS]
    }

    /// Link a new task in its owner list; hands it back if shut down.
    fn bind(&self, owner: Task<Arc<Shared>>) -> Result<(), Task<Arc<Shared>>> {
        let mut shard = lock(self.shard(owner.header_ptr()));
        if shard.closed {
            return Err(owner);
        }
        shard.list.push(owner);
        Ok(())
    }

    /// Wake one sleeping worker, if the idle rules say one should wake.
    pub(crate) fn notify_parked(&self) {
        // Order the work just published before reading the idle counts.
        fence(Ordering::SeqCst);
        let avoid = self.driver_sleeper.load(Ordering::Relaxed).checked_sub(1);
        if let Some(index) = self.idle.worker_to_notify(avoid) {
            self.unpark_worker(index);
        }
    }

    pub(crate) fn unpark_worker(&self, index: usize) {
        if let Some(remote) = self.remotes.get(index) {
            remote.parker.unpark(|| self.driver.unpark());
        }
    }

    /// The last searcher went to sleep: wake someone if work is waiting.
    pub(crate) fn notify_if_work_pending(&self) {
        fence(Ordering::SeqCst);
        let pending = !self.inject.is_empty() || self.remotes.iter().any(|r| !r.steal.is_empty());
        if pending {
            self.notify_parked();
        }
    }

    fn push_remote(&self, task: Queued) {
        self.inject.push(task);
        self.notify_parked();
    }

    /// Stop the workers: refuse new tasks, wake everyone.
    fn close(&self) {
        for shard in self.owned.iter() {
            lock(shard).closed = true;
        }
        self.shutdown.store(true, Ordering::Release);
        for i in 0..self.remotes.len() {
            self.unpark_worker(i);
        }
        // A worker sleeping in the driver is woken by this too.
        self.driver.unpark();
    }

    pub(crate) fn worker_exited(&self) {
        *lock(&self.running) -= 1;
        self.exited.notify_all();
    }

    /// Number of live tasks (in the owner lists).
    #[allow(dead_code)]
    pub(crate) fn live_tasks(&self) -> usize {
        self.owned.iter().map(|s| lock(s).list.len()).sum()
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Queued) {
        if let Err(task) = worker::schedule_local(self, task) {
            self.push_remote(task);
        }
    }

    fn release(&self, task: &Task<Self>) -> bool {
        lock(self.shard(task.header_ptr()))
            .list
            .remove(task.header_ptr())
    }
}

/// Spawn onto `shared` from any thread.
pub(crate) fn spawn<F>(shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (owner, notified, join) = new_task(future, shared.clone());
    if let Err(owner) = shared.bind(owner) {
        // Shutting down: the future is dropped now.
        drop(notified);
        owner.shutdown();
        return join;
    }
    if let Err(task) = worker::spawn_local(shared, notified) {
        shared.push_remote(task);
    }
    join
}

/// Run `future` on the calling thread (not a worker) until it completes,
/// while the workers run the tasks.
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    let _enter = context::enter(Handle::MultiThread(shared.clone()));
    let park = Arc::new(super::runtime::ThreadWaker(super::park::ParkThread::new()));
    let waker = Waker::from(park.clone());
    let mut cx = TaskContext::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = super::coop::budget(|| future.as_mut().poll(&mut cx)) {
            return out;
        }
        park.0.park(None);
    }
}

/// Stop the workers, wait for them (up to `timeout`), cancel every task
/// left and drop the driver. Call on a thread that is not a worker.
pub(crate) fn shutdown(shared: &Arc<Shared>, threads: Threads, timeout: Option<Duration>) {
    // Dropped inside one of its own tasks: this worker cannot wait for
    // itself; the others are left to exit on their own.
    let timeout = if worker::is_worker_of(shared) {
        Some(Duration::ZERO)
    } else {
        timeout
    };
    shared.close();
    let deadline = timeout.map(|t| Instant::now() + t);
    {
        let mut running = lock(&shared.running);
        while *running > 0 {
            match deadline {
                None => {
                    running = shared
                        .exited
                        .wait(running)
                        .unwrap_or_else(|e| e.into_inner());
                }
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    running = shared
                        .exited
                        .wait_timeout(running, d - now)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
        }
        if *running == 0 {
            drop(running);
            for h in threads.handles {
                // A worker that panicked has already reported it.
                let _ = h.join();
            }
        }
        // Otherwise the late workers are left to finish on their own.
    }
    let _enter = context::enter(Handle::MultiThread(shared.clone()));
    loop {
        // Cancel every live task; a destructor may wake others (dropped
        // below) or spawn (refused).
        let mut cancelled = 0;
        for shard in shared.owned.iter() {
            while let Some(task) = {
                let mut s = lock(shard);
                s.list.pop::<Arc<Shared>>()
            } {
                task.shutdown();
                cancelled += 1;
            }
        }
        let queued = shared.inject.close();
        if cancelled == 0 && queued.is_empty() {
            break;
        }
        drop(queued);
    }
    // Registrations and timers held by someone now see "shut down".
    let driver = lock(&shared.driver_slot).take();
    drop(driver);
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("multi_thread::Shared")
            .field("workers", &self.remotes.len())
            .field("inject_len", &self.inject.len())
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Shared>();
    fn is_send<T: Send>() {}
    is_send::<worker::Core>();
}
