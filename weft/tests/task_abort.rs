//! `abort()` before the first poll, during a run, after completion, and
//! from `AbortHandle`s and other threads.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::{pending_forever, watchdog, yield_n, Counters, Track, WakerSlot};
use weft::task::AbortHandle;

#[test]
fn abort_before_first_poll() {
    let _w = watchdog("abort_before_first_poll", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let h = weft::spawn(Track::new(async { 1 }, &c));
            h.abort();
            let e = h.await.unwrap_err();
            assert!(e.is_cancelled(), "{e:?}");
            assert!(!e.is_panic());
            assert!(e.to_string().contains("cancelled"), "{e}");
            assert_eq!(c.polls(), 0, "an aborted task is never polled");
            assert_eq!(c.drops(), 1, "its future is dropped at once");
        }
    });
    assert_eq!(c.drops(), 1);
}

#[test]
fn abort_before_first_poll_of_a_task_spawned_from_another_thread() {
    let _w = watchdog(
        "abort_before_first_poll_of_a_task_spawned_from_another_thread",
        20,
    );
    let rt = weft::Runtime::new().unwrap();
    let c = Counters::new();
    let h = thread::scope(|s| {
        s.spawn(|| rt.spawn(Track::new(async { 1 }, &c)))
            .join()
            .unwrap()
    });
    h.abort();
    let e = rt.block_on(h).unwrap_err();
    assert!(e.is_cancelled());
    assert_eq!(c.polls(), 0);
    assert_eq!(c.drops(), 1);
}

#[test]
fn task_aborts_itself_while_running() {
    let _w = watchdog("task_aborts_itself_while_running", 20);
    let c = Counters::new();
    let after = Arc::new(AtomicBool::new(false));
    weft::block_on({
        let (c, after) = (c.clone(), after.clone());
        async move {
            let slot: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
            let s = slot.clone();
            let a = after.clone();
            let h = weft::spawn(Track::new(
                async move {
                    let me = s.lock().unwrap().take().unwrap();
                    me.abort();
                    // Cancelled: the task is not polled again past here.
                    weft::task::yield_now().await;
                    a.store(true, SeqCst);
                },
                &c,
            ));
            *slot.lock().unwrap() = Some(h.abort_handle());
            let e = h.await.unwrap_err();
            assert!(e.is_cancelled(), "{e:?}");
        }
    });
    assert!(!after.load(SeqCst), "ran past the abort");
    assert_eq!(c.polls(), 1);
    assert_eq!(c.drops(), 1);
}

#[test]
fn task_that_aborts_itself_and_completes_in_the_same_poll_keeps_its_value() {
    let _w = watchdog(
        "task_that_aborts_itself_and_completes_in_the_same_poll_keeps_its_value",
        20,
    );
    weft::block_on(async {
        let slot: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
        let s = slot.clone();
        let h = weft::spawn(async move {
            s.lock().unwrap().take().unwrap().abort();
            5
        });
        *slot.lock().unwrap() = Some(h.abort_handle());
        // Completed before the runtime could act on the abort.
        assert_eq!(h.await.unwrap(), 5);
    });
}

#[test]
fn task_aborted_by_another_task_while_in_progress() {
    let _w = watchdog("task_aborted_by_another_task_while_in_progress", 20);
    let c = Counters::new();
    let progressed = Arc::new(AtomicUsize::new(0));
    weft::block_on({
        let (c, progressed) = (c.clone(), progressed.clone());
        async move {
            let p = progressed.clone();
            let victim = weft::spawn(Track::new(
                async move {
                    loop {
                        p.fetch_add(1, SeqCst);
                        weft::task::yield_now().await;
                    }
                },
                &c,
            ));
            let abort = victim.abort_handle();
            let p = progressed.clone();
            let killer = weft::spawn(async move {
                while p.load(SeqCst) < 10 {
                    weft::task::yield_now().await;
                }
                abort.abort();
                p.load(SeqCst)
            });
            let at_abort = killer.await.unwrap();
            let e = victim.await.unwrap_err();
            assert!(e.is_cancelled());
            // The victim was queued when aborted: it may not run again.
            assert_eq!(progressed.load(SeqCst), at_abort);
        }
    });
    assert_eq!(c.drops(), 1);
}

#[test]
fn abort_from_another_thread_during_a_poll() {
    // The task is inside `poll` when another thread aborts it: it finishes
    // that poll, is not polled again, and its future is dropped on the
    // runtime thread.
    let _w = watchdog("abort_from_another_thread_during_a_poll", 20);
    let c = Counters::new();
    let in_poll = Arc::new(AtomicBool::new(false));
    let aborted = Arc::new(AtomicBool::new(false));
    let dropped_on = Arc::new(Mutex::new(None));
    let (tx, rx) = mpsc::channel::<AbortHandle>();
    let killer = {
        let (in_poll, aborted) = (in_poll.clone(), aborted.clone());
        thread::spawn(move || {
            let a = rx.recv().unwrap();
            assert!(support::wait_until(Duration::from_secs(10), || in_poll.load(SeqCst)));
            a.abort();
            aborted.store(true, SeqCst);
        })
    };
    let runtime_thread = thread::current().id();
    weft::block_on({
        let (c, in_poll, aborted, dropped_on) = (
            c.clone(),
            in_poll.clone(),
            aborted.clone(),
            dropped_on.clone(),
        );
        async move {
            struct OnDrop(Arc<Mutex<Option<thread::ThreadId>>>);
            impl Drop for OnDrop {
                fn drop(&mut self) {
                    *self.0.lock().unwrap() = Some(thread::current().id());
                }
            }
            let guard = OnDrop(dropped_on);
            let h = weft::spawn(Track::new(
                std::future::poll_fn(move |_cx| {
                    let _keep = &guard;
                    in_poll.store(true, SeqCst);
                    let start = Instant::now();
                    while !aborted.load(SeqCst) && start.elapsed() < Duration::from_secs(10) {
                        std::hint::spin_loop();
                    }
                    std::task::Poll::<()>::Pending
                }),
                &c,
            ));
            tx.send(h.abort_handle()).unwrap();
            let e = h.await.unwrap_err();
            assert!(e.is_cancelled(), "{e:?}");
        }
    });
    killer.join().unwrap();
    assert_eq!(c.polls(), 1, "not polled after the abort");
    assert_eq!(c.drops(), 1);
    assert_eq!(*dropped_on.lock().unwrap(), Some(runtime_thread));
}

#[test]
fn abort_from_another_thread_while_the_runtime_is_parked() {
    let _w = watchdog("abort_from_another_thread_while_the_runtime_is_parked", 20);
    let c = Counters::new();
    let (tx, rx) = mpsc::channel::<AbortHandle>();
    let killer = thread::spawn(move || {
        let a = rx.recv().unwrap();
        thread::sleep(Duration::from_millis(50));
        a.abort();
    });
    let start = Instant::now();
    weft::block_on({
        let c = c.clone();
        async move {
            let h = weft::spawn(Track::new(pending_forever(), &c));
            tx.send(h.abort_handle()).unwrap();
            assert!(h.await.unwrap_err().is_cancelled());
        }
    });
    killer.join().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(c.polls(), 1);
    assert_eq!(c.drops(), 1);
}

#[test]
fn abort_after_completion_has_no_effect() {
    let _w = watchdog("abort_after_completion_has_no_effect", 20);
    weft::block_on(async {
        let h = weft::spawn(async { 3 });
        let a = h.abort_handle();
        yield_n(3).await;
        assert!(h.is_finished());
        h.abort();
        a.abort();
        assert_eq!(h.await.unwrap(), 3);
        a.abort();
        assert!(a.is_finished());
    });
}

#[test]
fn abort_twice_and_from_both_handles() {
    let _w = watchdog("abort_twice_and_from_both_handles", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let h = weft::spawn(Track::new(pending_forever(), &c));
            yield_n(2).await;
            let a = h.abort_handle();
            let b = h.abort_handle();
            a.abort();
            b.abort();
            h.abort();
            drop(a);
            assert!(h.await.unwrap_err().is_cancelled());
            assert!(b.is_finished());
            b.abort();
        }
    });
    assert_eq!(c.drops(), 1);
}

#[test]
fn abort_a_detached_task_through_its_abort_handle() {
    let _w = watchdog("abort_a_detached_task_through_its_abort_handle", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let h = weft::spawn(Track::new(pending_forever(), &c));
            let a = h.abort_handle();
            drop(h);
            yield_n(2).await;
            assert!(!a.is_finished());
            a.abort();
            yield_n(2).await;
            assert!(a.is_finished());
            assert_eq!(c.drops(), 1, "dropped by the runtime, not at shutdown");
        }
    });
    assert_eq!(c.drops(), 1);
}

#[test]
fn abort_a_task_that_was_woken_but_not_yet_polled() {
    let _w = watchdog("abort_a_task_that_was_woken_but_not_yet_polled", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let slot = WakerSlot::new();
            let h = weft::spawn(Track::new(slot.wait(), &c));
            yield_n(2).await;
            assert_eq!(c.polls(), 1);
            slot.wake(); // queued now
            h.abort(); // before the queued poll runs
            assert!(h.await.unwrap_err().is_cancelled());
            assert_eq!(c.polls(), 1, "the queued poll became a cancel");
        }
    });
    assert_eq!(c.drops(), 1);
}

#[test]
fn aborting_a_parent_detaches_its_child() {
    let _w = watchdog("aborting_a_parent_detaches_its_child", 20);
    let child_done = Arc::new(AtomicBool::new(false));
    weft::block_on({
        let child_done = child_done.clone();
        async move {
            let gate = WakerSlot::new();
            let g = gate.clone();
            let d = child_done.clone();
            let parent = weft::spawn(async move {
                let child = weft::spawn(async move {
                    g.wait().await;
                    d.store(true, SeqCst);
                });
                child.await.unwrap();
            });
            yield_n(3).await;
            parent.abort();
            assert!(parent.await.unwrap_err().is_cancelled());
            gate.set_ready();
            yield_n(3).await;
        }
    });
    assert!(child_done.load(SeqCst));
}

#[test]
fn abort_handle_outlives_the_runtime() {
    let _w = watchdog("abort_handle_outlives_the_runtime", 20);
    let c = Counters::new();
    let (a, h) = weft::block_on({
        let c = c.clone();
        async move {
            let h = weft::spawn(Track::new(pending_forever(), &c));
            (h.abort_handle(), h)
        }
    });
    // Runtime gone: the task was cancelled by its shutdown.
    assert_eq!(c.drops(), 1);
    assert!(a.is_finished());
    a.abort();
    assert!(support::plain_block_on(h).unwrap_err().is_cancelled());
    drop(a);
}

#[test]
fn abort_many_tasks_at_once() {
    let _w = watchdog("abort_many_tasks_at_once", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let hs: Vec<_> = (0..1000)
                .map(|i| {
                    weft::spawn(Track::new(
                        async move {
                            if i % 2 == 0 {
                                pending_forever().await
                            } else {
                                loop {
                                    weft::task::yield_now().await;
                                }
                            }
                        },
                        &c,
                    ))
                })
                .collect();
            yield_n(3).await;
            for h in &hs {
                h.abort();
            }
            for h in hs {
                assert!(h.await.unwrap_err().is_cancelled());
            }
            assert_eq!(c.drops(), 1000);
        }
    });
}
