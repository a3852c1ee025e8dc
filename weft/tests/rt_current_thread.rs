//! The current-thread runtime: `block_on`, `spawn`, `spawn_local`, the
//! misuse panics, spawning from tasks and other threads, several threads
//! calling `block_on`, the coop budget and fairness.

// Some tests return a JoinHandle out of `block_on` on purpose.
#![allow(clippy::async_yields_async)]

mod support;

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use support::{
    panic_message, pending_forever, watchdog, with_stack, yield_n, Counters, Track, WakerSlot,
};

// ----- block_on and the runtime's constructors -----

#[test]
fn block_on_returns_the_output() {
    let _w = watchdog("block_on_returns_the_output", 20);
    assert_eq!(weft::block_on(async { 40 + 2 }), 42);
    let rt = weft::Runtime::new().unwrap();
    assert_eq!(rt.block_on(async { "rt" }), "rt");
    let rt = weft::runtime::Builder::current_thread().build().unwrap();
    assert_eq!(rt.block_on(async { 1 }), 1);
    let rt = weft::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(async { 2 }), 2);
}

#[test]
fn block_on_can_be_called_again_and_tasks_carry_over() {
    let _w = watchdog("block_on_can_be_called_again_and_tasks_carry_over", 20);
    let rt = weft::Runtime::new().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let h = rt.block_on({
        let n = n.clone();
        async move {
            weft::spawn(async move {
                for _ in 0..10 {
                    n.fetch_add(1, SeqCst);
                    weft::task::yield_now().await;
                }
                "carried"
            })
        }
    });
    // Tasks only run while some thread is inside block_on.
    let before = n.load(SeqCst);
    thread::sleep(Duration::from_millis(20));
    assert_eq!(n.load(SeqCst), before, "a task ran outside block_on");
    assert_eq!(rt.block_on(h).unwrap(), "carried");
    assert_eq!(n.load(SeqCst), 10);
    for i in 0..5 {
        assert_eq!(
            rt.block_on(async move { weft::spawn(async move { i }).await })
                .unwrap(),
            i
        );
    }
}

#[test]
fn block_on_resumes_a_panic_of_its_future_and_the_runtime_survives() {
    let _w = watchdog(
        "block_on_resumes_a_panic_of_its_future_and_the_runtime_survives",
        20,
    );
    let rt = weft::Runtime::new().unwrap();
    let c = Counters::new();
    let h = rt.block_on(async { weft::spawn(async { 8 }) });
    let err = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on({
            let c = c.clone();
            async move {
                weft::spawn(Track::new(yield_n(3), &c));
                weft::task::yield_now().await;
                panic!("main future fails");
            }
        })
    }))
    .unwrap_err();
    assert_eq!(panic_message(&*err).as_deref(), Some("main future fails"));
    // Usable again; the task spawned before the panic is still there.
    assert_eq!(rt.block_on(h).unwrap(), 8);
    rt.block_on(async {
        while c.drops() == 0 {
            weft::task::yield_now().await;
        }
    });
    assert_eq!(c.polls(), 4);
    // And block_on is allowed on this thread again.
    assert_eq!(weft::block_on(async { 1 }), 1);
}

// ----- misuse -----

#[test]
#[should_panic(expected = "outside a weft runtime")]
fn spawn_outside_a_runtime_panics() {
    let _w = watchdog("spawn_outside_a_runtime_panics", 20);
    drop(weft::spawn(async {}));
}

#[test]
#[should_panic(expected = "outside a thread that is driving a weft runtime")]
fn spawn_local_outside_a_runtime_panics() {
    let _w = watchdog("spawn_local_outside_a_runtime_panics", 20);
    drop(weft::spawn_local(async {}));
}

#[test]
fn spawn_outside_a_runtime_after_block_on_returned_panics() {
    let _w = watchdog("spawn_outside_a_runtime_after_block_on_returned_panics", 20);
    weft::block_on(async {});
    let err = catch_unwind(|| drop(weft::spawn(async {}))).unwrap_err();
    let msg = panic_message(&*err).unwrap();
    assert!(msg.contains("outside a weft runtime"), "{msg}");
}

#[test]
fn spawn_from_a_plain_thread_started_by_a_task_panics() {
    let _w = watchdog("spawn_from_a_plain_thread_started_by_a_task_panics", 20);
    let msg = weft::block_on(async {
        thread::spawn(|| {
            let err = catch_unwind(|| drop(weft::spawn(async {}))).unwrap_err();
            panic_message(&*err).unwrap()
        })
        .join()
        .unwrap()
    });
    assert!(msg.contains("outside a weft runtime"), "{msg}");
}

#[test]
#[should_panic(expected = "cannot start `block_on` from inside a weft runtime")]
fn block_on_inside_block_on_panics() {
    let _w = watchdog("block_on_inside_block_on_panics", 20);
    let rt = weft::Runtime::new().unwrap();
    let inner = weft::Runtime::new().unwrap();
    rt.block_on(async { inner.block_on(async {}) });
}

#[test]
fn block_on_inside_a_task_fails_that_task_with_a_clear_message() {
    let _w = watchdog(
        "block_on_inside_a_task_fails_that_task_with_a_clear_message",
        20,
    );
    let inner = Arc::new(weft::Runtime::new().unwrap());
    let i = inner.clone();
    let e =
        weft::block_on(async move { weft::spawn(async move { i.block_on(async { 1 }) }).await })
            .unwrap_err();
    assert!(e.is_panic());
    let text = e.to_string();
    assert!(text.contains("from inside a weft runtime"), "{text}");
    assert!(text.contains("block_on"), "{text}");
}

#[test]
fn nested_weft_block_on_panics_without_losing_the_outer_runtime() {
    // `weft::block_on` builds a fresh runtime, whose `block_on` refuses (as
    // it should); but dropping that fresh runtime installs its core into the
    // thread-local context, dropping the outer core that sat there. The outer
    // runtime then shuts down with no core: its tasks are never dropped.
    let _w = watchdog(
        "nested_weft_block_on_panics_without_losing_the_outer_runtime",
        20,
    );
    let c = Counters::new();
    let err = catch_unwind(AssertUnwindSafe(|| {
        weft::block_on({
            let c = c.clone();
            async move {
                weft::spawn(Track::new(pending_forever(), &c));
                weft::task::yield_now().await;
                weft::block_on(async {})
            }
        })
    }))
    .unwrap_err();
    let msg = panic_message(&*err).unwrap();
    assert!(msg.contains("from inside a weft runtime"), "{msg}");
    assert_eq!(c.polls(), 1);
    assert_eq!(c.drops(), 1, "the outer runtime's task was leaked");
}

#[test]
fn dropping_another_runtime_inside_a_task_leaves_ours_intact() {
    // `Runtime::drop` installs its own core into the thread-local context
    // (CoreGuard::install) without saving the one already there, so the
    // driving runtime loses its core (run queue, owned tasks) mid-run.
    let _w = watchdog(
        "dropping_another_runtime_inside_a_task_leaves_ours_intact",
        20,
    );
    let c = Counters::new();
    let res = catch_unwind(AssertUnwindSafe(|| {
        weft::block_on({
            let c = c.clone();
            async move {
                weft::spawn(Track::new(pending_forever(), &c));
                let h = weft::spawn(async {
                    let other = weft::Runtime::new().unwrap();
                    drop(other);
                    5
                });
                let v = h.await.unwrap();
                v + weft::spawn(async { 1 }).await.unwrap()
            }
        })
    }));
    match res {
        Ok(v) => assert_eq!(v, 6),
        Err(p) => panic!("outer runtime broke: {:?}", panic_message(&*p)),
    }
    assert_eq!(c.drops(), 1, "the outer runtime's task was leaked");
}

// ----- spawn_local -----

#[test]
fn spawn_local_runs_a_non_send_future() {
    let _w = watchdog("spawn_local_runs_a_non_send_future", 20);
    let rt = weft::Runtime::new().unwrap();
    let shared = Rc::new(Cell::new(0));
    let v = rt.block_on({
        let shared = shared.clone();
        async move {
            let hs: Vec<_> = (1..=10)
                .map(|i| {
                    let s = shared.clone();
                    weft::spawn_local(async move {
                        weft::task::yield_now().await;
                        s.set(s.get() + i);
                        Rc::strong_count(&s)
                    })
                })
                .collect();
            let mut counts = Vec::new();
            for h in hs {
                counts.push(h.await.unwrap());
            }
            // The local task can spawn locally too, and hold a !Send output.
            let inner = weft::spawn_local(async { weft::spawn_local(async { Rc::new(3) }).await });
            assert_eq!(*inner.await.unwrap().unwrap(), 3);
            counts
        }
    });
    assert_eq!(shared.get(), 55);
    assert!(v.iter().all(|&n| n >= 2));
    assert_eq!(Rc::strong_count(&shared), 1, "every task's Rc dropped");
}

#[test]
fn spawn_local_pending_at_shutdown_is_dropped_on_the_runtime_thread() {
    let _w = watchdog(
        "spawn_local_pending_at_shutdown_is_dropped_on_the_runtime_thread",
        20,
    );
    let shared = Rc::new(());
    let rt = weft::Runtime::new().unwrap();
    rt.block_on({
        let s = shared.clone();
        async move {
            weft::spawn_local(async move {
                let _s = s;
                pending_forever().await
            });
            weft::task::yield_now().await;
        }
    });
    assert_eq!(Rc::strong_count(&shared), 2);
    drop(rt);
    assert_eq!(Rc::strong_count(&shared), 1);
}

/// Records on which threads a future is polled and dropped.
struct Where {
    polls: Arc<Mutex<Vec<ThreadId>>>,
    dropped: Arc<Mutex<Option<ThreadId>>>,
    _not_send: Rc<()>,
}

impl Drop for Where {
    fn drop(&mut self) {
        *self.dropped.lock().unwrap() = Some(thread::current().id());
    }
}

#[test]
fn spawn_local_task_never_leaves_its_thread() {
    // `Runtime` is Send + Sync and its core (run queue and owned tasks,
    // spawn_local ones included) could move to whichever thread calls
    // block_on next. Once spawn_local was used, only its thread may drive
    // the runtime (block_on elsewhere panics), and dropping the runtime
    // elsewhere leaks the local futures rather than dropping them there.
    let _w = watchdog("spawn_local_task_never_leaves_its_thread", 20);
    let rt = weft::Runtime::new().unwrap();
    let polls = Arc::new(Mutex::new(Vec::new()));
    let dropped = Arc::new(Mutex::new(None));
    let slot = WakerSlot::new();
    let home = thread::current().id();
    rt.block_on({
        let (polls, dropped, slot) = (polls.clone(), dropped.clone(), slot.clone());
        async move {
            weft::spawn_local(async move {
                let w = Where {
                    polls,
                    dropped,
                    _not_send: Rc::new(()),
                };
                std::future::poll_fn(move |cx| {
                    w.polls.lock().unwrap().push(thread::current().id());
                    slot.register(cx.waker());
                    std::task::Poll::<()>::Pending
                })
                .await
            });
            weft::task::yield_now().await;
        }
    });
    assert_eq!(*polls.lock().unwrap(), vec![home]);
    // Drive the same runtime from another thread, with the task woken.
    thread::scope(|s| {
        let res = s
            .spawn(|| {
                slot.wake();
                rt.block_on(yield_n(3));
            })
            .join();
        let msg = panic_message(&*res.expect_err("block_on on a foreign thread must refuse"))
            .unwrap_or_default();
        assert!(msg.contains("spawn_local"), "{msg}");
    });
    // Drop it on yet another thread.
    thread::scope(|s| {
        s.spawn(move || drop(rt)).join().unwrap();
    });
    let polls = polls.lock().unwrap().clone();
    assert!(
        polls.iter().all(|t| *t == home),
        "!Send future polled off its thread: {polls:?} (home {home:?})"
    );
    let dropped = *dropped.lock().unwrap();
    assert!(
        dropped.is_none() || dropped == Some(home),
        "!Send future dropped on {dropped:?}, home {home:?}"
    );
}

// ----- spawning -----

#[test]
fn spawn_from_inside_a_task() {
    let _w = watchdog("spawn_from_inside_a_task", 20);
    let v = weft::block_on(async {
        weft::spawn(async {
            let a = weft::spawn(async { 1 });
            let b = weft::spawn(async { weft::spawn(async { 2 }).await.unwrap() });
            a.await.unwrap() + b.await.unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 3);
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn chain(depth: u32) -> BoxFut<u32> {
    Box::pin(async move {
        if depth == 0 {
            0
        } else {
            weft::spawn(chain(depth - 1)).await.unwrap() + 1
        }
    })
}

fn tree(depth: u32, width: u32, count: Arc<AtomicUsize>) -> BoxFut<u64> {
    Box::pin(async move {
        count.fetch_add(1, SeqCst);
        if depth == 0 {
            return 1;
        }
        let hs: Vec<_> = (0..width)
            .map(|_| weft::spawn(tree(depth - 1, width, count.clone())))
            .collect();
        let mut n = 1;
        for h in hs {
            n += h.await.unwrap();
        }
        n
    })
}

#[test]
fn nested_spawn_chains() {
    let _w = watchdog("nested_spawn_chains", 30);
    assert_eq!(weft::block_on(chain(1000)), 1000);
    let count = Arc::new(AtomicUsize::new(0));
    // 1 + 4 + 16 + 64 + 256 + 1024 tasks.
    let n = weft::block_on(tree(5, 4, count.clone()));
    assert_eq!(n, 1365);
    assert_eq!(count.load(SeqCst), 1365);
}

#[test]
fn deep_spawn_and_await_chain_does_not_overflow_a_small_stack() {
    let _w = watchdog(
        "deep_spawn_and_await_chain_does_not_overflow_a_small_stack",
        120,
    );
    let v = with_stack(256 * 1024, || weft::block_on(chain(100_000)));
    assert_eq!(v, 100_000);
}

#[test]
fn runtime_spawn_from_another_thread_before_block_on() {
    let _w = watchdog("runtime_spawn_from_another_thread_before_block_on", 20);
    let rt = weft::Runtime::new().unwrap();
    let c = Counters::new();
    let hs = thread::scope(|s| {
        s.spawn(|| {
            (0..10u32)
                .map(|i| rt.spawn(Track::new(async move { i * 2 }, &c)))
                .collect::<Vec<_>>()
        })
        .join()
        .unwrap()
    });
    thread::sleep(Duration::from_millis(10));
    assert_eq!(c.polls(), 0, "nothing runs before block_on");
    let sum = rt.block_on(async move {
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 90);
    assert_eq!(c.drops(), 10);
}

#[test]
fn runtime_spawn_from_another_thread_while_block_on_is_parked() {
    let _w = watchdog(
        "runtime_spawn_from_another_thread_while_block_on_is_parked",
        20,
    );
    let rt = weft::Runtime::new().unwrap();
    let ran_on = Arc::new(Mutex::new(None));
    let home = thread::current().id();
    let start = Instant::now();
    thread::scope(|s| {
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        s.spawn(|| {
            thread::sleep(Duration::from_millis(50));
            let ran_on = ran_on.clone();
            let h = rt.spawn(async move {
                *ran_on.lock().unwrap() = Some(thread::current().id());
                7
            });
            // Await it from this (non-runtime) thread.
            assert_eq!(support::plain_block_on(h).unwrap(), 7);
            drop(done_tx);
        });
        // The runtime parks: nothing to do until the remote spawn arrives.
        let slot = WakerSlot::new();
        let s2 = slot.clone();
        let waiter = thread::spawn(move || {
            let _ = done_rx.recv();
            s2.set_ready();
        });
        rt.block_on(slot.wait());
        waiter.join().unwrap();
    });
    assert_eq!(*ran_on.lock().unwrap(), Some(home));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn many_threads_spawn_onto_a_running_runtime() {
    let _w = watchdog("many_threads_spawn_onto_a_running_runtime", 30);
    const THREADS: usize = 4;
    const PER_THREAD: usize = 250;
    let rt = weft::Runtime::new().unwrap();
    let c = Counters::new();
    let done = Arc::new(AtomicUsize::new(0));
    let total = thread::scope(|s| {
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let (rt, c, done) = (&rt, c.clone(), done.clone());
                s.spawn(move || {
                    let hs: Vec<_> = (0..PER_THREAD)
                        .map(|i| {
                            let done = done.clone();
                            rt.spawn(Track::new(
                                async move {
                                    weft::task::yield_now().await;
                                    done.fetch_add(1, SeqCst);
                                    t * PER_THREAD + i
                                },
                                &c,
                            ))
                        })
                        .collect();
                    support::plain_block_on(async move {
                        let mut sum = 0;
                        for h in hs {
                            sum += h.await.unwrap();
                        }
                        sum
                    })
                })
            })
            .collect();
        rt.block_on({
            let done = done.clone();
            async move {
                while done.load(SeqCst) < THREADS * PER_THREAD {
                    weft::task::yield_now().await;
                }
            }
        });
        spawners
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum::<usize>()
    });
    let n = THREADS * PER_THREAD;
    assert_eq!(total, n * (n - 1) / 2);
    assert_eq!(c.drops(), n);
    assert_eq!(c.polls(), 2 * n);
}

#[test]
fn two_threads_block_on_the_same_runtime() {
    // Thread A drives the runtime; thread B's block_on polls only its own
    // future (its spawned task runs on A), until A leaves and B takes the
    // core over.
    let _w = watchdog("two_threads_block_on_the_same_runtime", 30);
    let rt = weft::Runtime::new().unwrap();
    let gate_a = WakerSlot::new();
    let gate_t = WakerSlot::new();
    let a_in = Arc::new(AtomicBool::new(false));
    let t_polls: Arc<Mutex<Vec<ThreadId>>> = Arc::default();
    thread::scope(|s| {
        let a = s.spawn(|| {
            let a_in = a_in.clone();
            let gate = gate_a.clone();
            rt.block_on(async move {
                a_in.store(true, SeqCst);
                gate.wait().await;
            });
            thread::current().id()
        });
        assert!(support::wait_until(Duration::from_secs(10), || a_in.load(SeqCst)));
        let b = s.spawn(|| {
            let t_polls = t_polls.clone();
            let gate = gate_t.clone();
            let last = rt.block_on(async move {
                weft::spawn(async move {
                    t_polls.lock().unwrap().push(thread::current().id());
                    gate.wait().await;
                    // The thread of the poll that finished the task.
                    thread::current().id()
                })
                .await
                .unwrap()
            });
            (thread::current().id(), last)
        });
        // T's first poll happens on A, the thread holding the core.
        assert!(support::wait_until(Duration::from_secs(10), || !t_polls
            .lock()
            .unwrap()
            .is_empty()));
        gate_a.set_ready();
        let a_id = a.join().unwrap();
        assert_eq!(t_polls.lock().unwrap()[0], a_id);
        // A has left: the core is free, B takes it and runs T to the end.
        gate_t.set_ready();
        let (b_id, last) = b.join().unwrap();
        assert_eq!(last, b_id, "after A left, B drives the tasks");
    });
}

// ----- ordering, the coop budget and fairness -----

#[test]
fn tasks_first_run_in_spawn_order_and_yield_goes_to_the_back() {
    let _w = watchdog(
        "tasks_first_run_in_spawn_order_and_yield_goes_to_the_back",
        20,
    );
    let log = Arc::new(Mutex::new(Vec::new()));
    weft::block_on({
        let log = log.clone();
        async move {
            let hs: Vec<_> = (0..3)
                .map(|i| {
                    let log = log.clone();
                    weft::spawn(async move {
                        log.lock().unwrap().push((i, 0));
                        weft::task::yield_now().await;
                        log.lock().unwrap().push((i, 1));
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        }
    });
    assert_eq!(
        *log.lock().unwrap(),
        vec![(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    );
}

#[test]
fn consume_budget_lets_another_task_progress() {
    let _w = watchdog("consume_budget_lets_another_task_progress", 20);
    let spins = Arc::new(AtomicUsize::new(0));
    weft::block_on({
        let spins = spins.clone();
        async move {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            // Never returns Pending on its own: only the budget makes it yield.
            let spinner = weft::spawn(async move {
                while !f.load(SeqCst) {
                    spins.fetch_add(1, SeqCst);
                    weft::task::consume_budget().await;
                }
            });
            let setter = weft::spawn(async move { flag.store(true, SeqCst) });
            setter.await.unwrap();
            spinner.await.unwrap();
        }
    });
    let n = spins.load(SeqCst);
    assert!(n >= 1, "{n}");
    assert!(n <= 1000, "the spinner ran {n} times before yielding");
}

#[test]
fn consume_budget_in_the_main_future_lets_tasks_run() {
    let _w = watchdog("consume_budget_in_the_main_future_lets_tasks_run", 20);
    weft::block_on(async {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        weft::spawn(async move { f.store(true, SeqCst) });
        let mut spins = 0u32;
        while !flag.load(SeqCst) {
            spins += 1;
            weft::task::consume_budget().await;
        }
        assert!(spins <= 1000, "{spins}");
    });
}

#[test]
fn consume_budget_outside_a_runtime_is_unconstrained() {
    let _w = watchdog("consume_budget_outside_a_runtime_is_unconstrained", 20);
    support::plain_block_on(async {
        for _ in 0..10_000 {
            let mut f = Box::pin(weft::task::consume_budget());
            assert!(support::poll_once(&mut f).is_ready());
        }
    });
}

#[test]
fn an_always_yielding_task_does_not_starve_others() {
    let _w = watchdog("an_always_yielding_task_does_not_starve_others", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            for _ in 0..10 {
                weft::spawn(Track::new(
                    async {
                        loop {
                            weft::task::yield_now().await;
                        }
                    },
                    &c,
                ));
            }
            // Another task, and the main future itself, still progress.
            let h = weft::spawn(yield_n(100));
            yield_n(100).await;
            h.await.unwrap();
        }
    });
    assert_eq!(c.drops(), 10);
}

#[test]
fn spawn_blocking_runs_off_the_runtime_thread() {
    // Its doc says each call starts a thread; it spawns an async task
    // instead, so blocking work stalls every task of the runtime.
    let _w = watchdog("spawn_blocking_runs_off_the_runtime_thread", 20);
    let home = thread::current().id();
    let ran_on = weft::block_on(async {
        weft::task::spawn_blocking(|| thread::current().id())
            .await
            .unwrap()
    });
    assert_ne!(ran_on, home);
}

#[test]
fn core_is_handed_over_when_the_driving_thread_panics() {
    // A drives the runtime and its main future panics; B, waiting in
    // block_on for the core, must get it and run the tasks.
    let _w = watchdog("core_is_handed_over_when_the_driving_thread_panics", 30);
    let rt = weft::Runtime::new().unwrap();
    let a_in = Arc::new(AtomicBool::new(false));
    let gate = WakerSlot::new();
    thread::scope(|s| {
        let a = s.spawn(|| {
            let (a_in, gate) = (a_in.clone(), gate.clone());
            catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async move {
                    a_in.store(true, SeqCst);
                    gate.wait().await;
                    panic!("driver thread fails");
                })
            }))
            .is_err()
        });
        assert!(support::wait_until(Duration::from_secs(10), || a_in.load(SeqCst)));
        let b = s.spawn(|| {
            rt.block_on(async {
                // Needs the runtime's tasks to run, on whichever thread.
                let h = weft::spawn(yield_n(10));
                let pending_b = WakerSlot::new();
                let p = pending_b.clone();
                let h2 = weft::spawn(async move {
                    p.set_ready();
                });
                h.await.unwrap();
                h2.await.unwrap();
                pending_b.wait().await;
                thread::current().id()
            })
        });
        thread::sleep(Duration::from_millis(20));
        gate.set_ready();
        assert!(a.join().unwrap(), "A's block_on panicked");
        let b_thread = b.join().unwrap();
        assert_ne!(b_thread, thread::current().id());
    });
    // The runtime is still whole.
    assert_eq!(
        rt.block_on(async { weft::spawn(async { 2 }).await.unwrap() }),
        2
    );
}
