//! loom models of the multi-thread scheduler's parts, driven through the
//! real code: the local ring (push, pop, steal and overflow racing), the
//! inject queue, the parker (condvar and driver paths), and the idle
//! protocol (no worker asleep while work waits).
//!
//! Run: `LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg loom" cargo test -p weft
//! --release --lib multi_thread::loom` (the ring holds 4 tasks under loom).

use std::sync::Arc as StdArc;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::idle::Idle;
use super::inject::Inject;
use super::park::Parker;
use super::queue;
use crate::executor::park::ParkThread;
use crate::task::{new_task, Notified, Schedule, Task};

/// A scheduler that is never asked for anything: tasks here are only moved
/// between queues and run by the test.
struct Nop;

impl Schedule for StdArc<Nop> {
    fn schedule(&self, _task: Notified<Self>) {
        unreachable!("nothing wakes these tasks")
    }
    fn release(&self, _task: &Task<Self>) -> bool {
        false
    }
}

type T = Notified<StdArc<Nop>>;

/// A queued task whose future counts its poll in `runs`.
fn task(runs: &Arc<AtomicUsize>) -> T {
    let runs = runs.clone();
    let (owner, notified, join) = new_task(
        async move {
            runs.fetch_add(1, SeqCst);
        },
        StdArc::new(Nop),
    );
    drop(owner);
    drop(join);
    notified
}

fn run(task: T) -> usize {
    task.run();
    1
}

/// The owner pops while a thief steals: every task is run exactly once.
#[test]
fn loom_queue_pop_and_steal() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        let (mut local, steal) = queue::local::<StdArc<Nop>>();
        for _ in 0..3 {
            local.push_back(task(&runs), &inject);
        }
        let th = thread::spawn(move || {
            let (mut mine, _) = queue::local();
            let mut n = 0;
            if let Some(t) = steal.steal_into(&mut mine) {
                n += run(t);
                while let Some(t) = mine.pop() {
                    n += run(t);
                }
            }
            n
        });
        let mut n = 0;
        while let Some(t) = local.pop() {
            n += run(t);
        }
        n += th.join().unwrap();
        assert_eq!(n, 3);
        assert_eq!(runs.load(SeqCst), 3);
        assert!(inject.is_empty());
    });
}

/// The owner pushes past capacity (overflowing half the ring to the inject
/// queue) while a thief steals: nothing is lost or run twice.
#[test]
fn loom_queue_overflow_and_steal() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let inject = Arc::new(Inject::new());
        let (mut local, steal) = queue::local::<StdArc<Nop>>();
        for _ in 0..3 {
            local.push_back(task(&runs), &inject);
        }
        let th = thread::spawn(move || {
            let (mut mine, _) = queue::local();
            let mut n = 0;
            if let Some(t) = steal.steal_into(&mut mine) {
                n += run(t);
                while let Some(t) = mine.pop() {
                    n += run(t);
                }
            }
            n
        });
        local.push_back(task(&runs), &inject);
        local.push_back(task(&runs), &inject);
        let mut n = 0;
        while let Some(t) = local.pop() {
            n += run(t);
        }
        n += th.join().unwrap();
        while let Some(t) = inject.pop() {
            n += run(t);
        }
        assert_eq!(n, 5);
        assert_eq!(runs.load(SeqCst), 5);
    });
}

/// Two thieves race each other and the owner's pops and pushes.
#[test]
fn loom_queue_two_thieves() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        let (mut local, steal) = queue::local::<StdArc<Nop>>();
        for _ in 0..2 {
            local.push_back(task(&runs), &inject);
        }
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let steal = steal.clone();
                thread::spawn(move || {
                    let (mut mine, _) = queue::local();
                    let mut n = 0;
                    if let Some(t) = steal.steal_into(&mut mine) {
                        n += run(t);
                        while let Some(t) = mine.pop() {
                            n += run(t);
                        }
                    }
                    n
                })
            })
            .collect();
        local.push_back(task(&runs), &inject);
        let mut n = 0;
        while let Some(t) = local.pop() {
            n += run(t);
        }
        for th in thieves {
            n += th.join().unwrap();
        }
        while let Some(t) = inject.pop() {
            n += run(t);
        }
        assert_eq!(n, 3);
        assert_eq!(runs.load(SeqCst), 3);
    });
}

/// Two threads push to the inject queue while a third pops a batch.
#[test]
fn loom_inject_push_and_pop() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let inject = Arc::new(Inject::new());
        let ths: Vec<_> = (0..2)
            .map(|_| {
                let (inject, runs) = (inject.clone(), runs.clone());
                thread::spawn(move || inject.push(task(&runs)))
            })
            .collect();
        let (mut mine, _) = queue::local::<StdArc<Nop>>();
        let mut n = 0;
        if let Some(t) = inject.pop_batch(1, |t| mine.try_push_back(t)) {
            n += run(t);
        }
        for th in ths {
            th.join().unwrap();
        }
        while let Some(t) = mine.pop().or_else(|| inject.pop()) {
            n += run(t);
        }
        assert_eq!(n, 2);
        assert_eq!(runs.load(SeqCst), 2);
    });
}

/// An unpark racing a condvar park is never lost.
#[test]
fn loom_parker_condvar_no_lost_wakeup() {
    loom::model(|| {
        let p = Arc::new(Parker::new());
        let work = Arc::new(AtomicBool::new(false));
        let (p2, w2) = (p.clone(), work.clone());
        let th = thread::spawn(move || {
            w2.store(true, SeqCst);
            p2.unpark(|| unreachable!("not parked in the driver"));
        });
        while !work.load(SeqCst) {
            p.park_condvar();
        }
        th.join().unwrap();
    });
}

/// An unpark racing a park in the driver reaches the driver.
#[test]
fn loom_parker_driver_no_lost_wakeup() {
    loom::model(|| {
        let p = Arc::new(Parker::new());
        let driver = Arc::new(ParkThread::new());
        let work = Arc::new(AtomicBool::new(false));
        let (p2, d2, w2) = (p.clone(), driver.clone(), work.clone());
        let th = thread::spawn(move || {
            w2.store(true, SeqCst);
            p2.unpark(|| d2.unpark());
        });
        while !work.load(SeqCst) {
            p.park_driver(|| driver.park(None));
        }
        th.join().unwrap();
    });
}

/// The worker's sleep path against a producer's wake path, with the real
/// idle counts: the worker never sleeps while the task it must run waits
/// in the inject queue (loom reports a deadlock if it does).
#[test]
fn loom_idle_no_worker_asleep_while_work_waits() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let inject = Arc::new(Inject::new());
        let idle = Arc::new(Idle::new(1));
        let parker = Arc::new(Parker::new());
        let producer = {
            let (inject, idle, parker, runs) =
                (inject.clone(), idle.clone(), parker.clone(), runs.clone());
            thread::spawn(move || {
                inject.push(task(&runs));
                loom::sync::atomic::fence(SeqCst);
                if let Some(0) = idle.worker_to_notify(None) {
                    parker.unpark(|| unreachable!());
                }
            })
        };
        // The worker: look for work, search, park as the last searcher.
        let mut searching = false;
        loop {
            if let Some(t) = inject.pop() {
                run(t);
                break;
            }
            if !searching && idle.transition_worker_to_searching() {
                searching = true;
                continue;
            }
            if idle.transition_worker_to_parked(0, std::mem::take(&mut searching)) {
                loom::sync::atomic::fence(SeqCst);
                if !inject.is_empty() {
                    if let Some(0) = idle.worker_to_notify(None) {
                        parker.unpark(|| unreachable!());
                    }
                }
            }
            parker.park_condvar();
            if !idle.transition_worker_from_parked(0) {
                searching = true;
            }
        }
        producer.join().unwrap();
        assert_eq!(runs.load(SeqCst), 1);
    });
}
