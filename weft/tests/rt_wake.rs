//! Wakers: from other threads while the runtime is parked, during a poll,
//! many times between two polls, and under a flood of ready tasks.

// `waker.clone().wake()` is on purpose: it exercises wake-by-value.
#![allow(clippy::waker_clone_wake)]
// Some tests return a JoinHandle out of `block_on` on purpose.
#![allow(clippy::async_yields_async)]

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use support::{watchdog, yield_n, Counters, Track, WakerSlot};

/// A task future that is pending until `slot` is ready, counting polls.
fn waiting_task(slot: &Arc<WakerSlot>, c: &Arc<Counters>) -> impl std::future::Future<Output = ()> {
    Track::new(slot.wait(), c)
}

#[test]
fn wake_from_another_thread_while_parked() {
    let _w = watchdog("wake_from_another_thread_while_parked", 30);
    let mut latencies = Vec::new();
    let rt = weft::Runtime::new().unwrap();
    for _ in 0..20 {
        let slot = WakerSlot::new();
        let c = Counters::new();
        let (tx, rx) = mpsc::channel::<()>();
        let woken_at = Arc::new(Mutex::new(None));
        let waker_thread = {
            let (slot, woken_at) = (slot.clone(), woken_at.clone());
            thread::spawn(move || {
                rx.recv().unwrap();
                // Give the runtime time to go to sleep.
                thread::sleep(Duration::from_millis(10));
                *woken_at.lock().unwrap() = Some(Instant::now());
                slot.set_ready();
            })
        };
        let polled_at = rt.block_on({
            let (slot, c) = (slot.clone(), c.clone());
            async move {
                let h = weft::spawn(async move {
                    waiting_task(&slot, &c).await;
                    Instant::now()
                });
                weft::task::yield_now().await;
                tx.send(()).unwrap();
                h.await.unwrap()
            }
        });
        waker_thread.join().unwrap();
        assert_eq!(c.polls(), 2, "one poll before the wake, one after");
        let woken_at = woken_at.lock().unwrap().unwrap();
        latencies.push(polled_at.saturating_duration_since(woken_at));
    }
    latencies.sort();
    let worst = *latencies.last().unwrap();
    eprintln!(
        "remote wake -> poll latency over {} runs: median {:?}, worst {:?}",
        latencies.len(),
        latencies[latencies.len() / 2],
        worst
    );
    assert!(worst < Duration::from_secs(1), "{latencies:?}");
}

#[test]
fn wake_of_the_main_future_from_another_thread_while_parked() {
    let _w = watchdog(
        "wake_of_the_main_future_from_another_thread_while_parked",
        20,
    );
    let slot = WakerSlot::new();
    let s = slot.clone();
    let t = thread::spawn(move || {
        assert!(support::wait_until(Duration::from_secs(10), || s.has_waker()));
        thread::sleep(Duration::from_millis(20));
        s.set_ready();
    });
    let start = Instant::now();
    weft::block_on(slot.wait());
    t.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn task_that_wakes_itself_during_poll_is_polled_again() {
    let _w = watchdog("task_that_wakes_itself_during_poll_is_polled_again", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let mut left = 10;
            weft::spawn(Track::new(
                std::future::poll_fn(move |cx| {
                    if left == 0 {
                        return Poll::Ready(());
                    }
                    left -= 1;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }),
                &c,
            ))
            .await
            .unwrap();
        }
    });
    assert_eq!(c.polls(), 11);
    assert_eq!(c.drops(), 1);
}

#[test]
fn many_wakes_during_one_poll_give_exactly_one_more_poll() {
    let _w = watchdog("many_wakes_during_one_poll_give_exactly_one_more_poll", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let mut first = true;
            let h = weft::spawn(Track::new(
                std::future::poll_fn(move |cx| {
                    if !first {
                        return Poll::Pending; // and no more wakes
                    }
                    first = false;
                    for _ in 0..5 {
                        cx.waker().wake_by_ref();
                        cx.waker().clone().wake();
                    }
                    let kept = cx.waker().clone();
                    kept.wake_by_ref();
                    drop(kept);
                    Poll::<()>::Pending
                }),
                &c,
            ));
            yield_n(10).await;
            assert_eq!(c.polls(), 2, "woken 11 times in one poll, polled once more");
            drop(h);
        }
    });
    assert_eq!(c.drops(), 1);
}

#[test]
fn thousand_wakes_from_another_task_between_two_polls_give_one_poll() {
    let _w = watchdog(
        "thousand_wakes_from_another_task_between_two_polls_give_one_poll",
        20,
    );
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let slot = WakerSlot::new();
            let target = weft::spawn(waiting_task(&slot, &c));
            yield_n(2).await;
            assert_eq!(c.polls(), 1);
            let s = slot.clone();
            // The waker task runs (and wakes 1000 times) without yielding,
            // so the target cannot be polled in between.
            weft::spawn(async move {
                let w = s.waker().unwrap();
                let clones: Vec<Waker> = (0..500).map(|_| w.clone()).collect();
                for _ in 0..500 {
                    w.wake_by_ref();
                }
                for cl in clones {
                    cl.wake();
                }
            })
            .await
            .unwrap();
            yield_n(10).await;
            assert_eq!(c.polls(), 2, "1000 wakes between two polls");
            // Once more, to check the dedup state was reset.
            let s = slot.clone();
            weft::spawn(async move {
                for _ in 0..1000 {
                    s.wake();
                }
            })
            .await
            .unwrap();
            yield_n(10).await;
            assert_eq!(c.polls(), 3);
            slot.set_ready();
            target.await.unwrap();
            assert_eq!(c.polls(), 4);
        }
    });
    assert_eq!(c.drops(), 1);
}

#[test]
fn thousand_wakes_from_another_thread_while_not_driven_give_one_poll() {
    // Nobody drives the runtime while the other thread wakes: every wake
    // goes through the cross-thread queue, which must hold the task once.
    let _w = watchdog(
        "thousand_wakes_from_another_thread_while_not_driven_give_one_poll",
        20,
    );
    let rt = weft::Runtime::new().unwrap();
    let c = Counters::new();
    let slot = WakerSlot::new();
    let h = rt.block_on({
        let (c, slot) = (c.clone(), slot.clone());
        async move {
            let h = weft::spawn(waiting_task(&slot, &c));
            weft::task::yield_now().await;
            h
        }
    });
    assert_eq!(c.polls(), 1);
    let s = slot.clone();
    thread::spawn(move || {
        let w = s.waker().unwrap();
        for i in 0..1000 {
            if i % 2 == 0 {
                w.wake_by_ref();
            } else {
                w.clone().wake();
            }
        }
    })
    .join()
    .unwrap();
    rt.block_on(yield_n(10));
    assert_eq!(c.polls(), 2);
    slot.set_ready();
    rt.block_on(h).unwrap();
    assert_eq!(c.polls(), 3);
    drop(rt);
    assert_eq!(c.drops(), 1);
}

#[test]
fn wakes_from_many_threads_at_once() {
    let _w = watchdog("wakes_from_many_threads_at_once", 30);
    let c = Counters::new();
    let slot = WakerSlot::new();
    let rt = weft::Runtime::new().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    rt.block_on({
        let (c, slot, stop) = (c.clone(), slot.clone(), stop.clone());
        async move {
            let target = weft::spawn(waiting_task(&slot, &c));
            weft::task::yield_now().await;
            let wakers: Vec<_> = (0..4)
                .map(|_| {
                    let w = slot.waker().unwrap();
                    let stop = stop.clone();
                    thread::spawn(move || {
                        for _ in 0..2000 {
                            if stop.load(SeqCst) {
                                break;
                            }
                            w.wake_by_ref();
                            w.clone().wake();
                        }
                    })
                })
                .collect();
            // Let the runtime serve the wakes while they arrive.
            for _ in 0..200 {
                weft::task::yield_now().await;
            }
            for t in wakers {
                // Joining blocks this thread briefly; the wakers are bounded.
                t.join().unwrap();
            }
            slot.set_ready();
            target.await.unwrap();
        }
    });
    stop.store(true, SeqCst);
    // At most one poll per wake, plus the first and the last.
    assert!(c.polls() >= 2 && c.polls() <= 16_002, "{}", c.polls());
    drop(rt);
    assert_eq!(c.drops(), 1);
}

#[test]
fn wake_after_completion_does_nothing() {
    let _w = watchdog("wake_after_completion_does_nothing", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            let slot = WakerSlot::new();
            let h = weft::spawn(waiting_task(&slot, &c));
            weft::task::yield_now().await;
            slot.set_ready();
            h.await.unwrap();
            assert_eq!(c.polls(), 2);
            let w = slot.waker().unwrap();
            for _ in 0..10 {
                w.wake_by_ref();
            }
            w.wake();
            yield_n(5).await;
            assert_eq!(c.polls(), 2);
        }
    });
}

#[test]
fn task_waker_clones_will_wake_each_other() {
    let _w = watchdog("task_waker_clones_will_wake_each_other", 20);
    weft::block_on(async {
        let out = weft::spawn(std::future::poll_fn(|cx| {
            let a = cx.waker().clone();
            let b = a.clone();
            Poll::Ready(a.will_wake(&b) && cx.waker().will_wake(&a))
        }))
        .await
        .unwrap();
        assert!(out);
    });
}

#[test]
fn remote_wake_is_served_during_a_flood_of_ready_tasks() {
    // 1000 tasks are always ready (they yield in a loop). A task woken from
    // another thread must still be polled after a bounded number of task
    // polls, not after the whole flood has cycled.
    let _w = watchdog("remote_wake_is_served_during_a_flood_of_ready_tasks", 60);
    const FLOOD: usize = 1000;
    let flood_polls = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let slot = WakerSlot::new();
    let c = Counters::new();
    let at_wake = Arc::new(AtomicUsize::new(usize::MAX));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let remote = {
        let (slot, flood_polls, at_wake) = (slot.clone(), flood_polls.clone(), at_wake.clone());
        thread::spawn(move || {
            go_rx.recv().unwrap();
            at_wake.store(flood_polls.load(SeqCst), SeqCst);
            slot.set_ready();
        })
    };
    let start = Instant::now();
    let served_after = weft::block_on({
        let (flood_polls, stop, slot, c) =
            (flood_polls.clone(), stop.clone(), slot.clone(), c.clone());
        async move {
            let target = weft::spawn({
                let flood_polls = flood_polls.clone();
                async move {
                    waiting_task(&slot, &c).await;
                    flood_polls.load(SeqCst)
                }
            });
            let flood: Vec<_> = (0..FLOOD)
                .map(|_| {
                    let (flood_polls, stop) = (flood_polls.clone(), stop.clone());
                    weft::spawn(async move {
                        while !stop.load(SeqCst) {
                            flood_polls.fetch_add(1, SeqCst);
                            weft::task::yield_now().await;
                        }
                    })
                })
                .collect();
            // Let the flood spin up: every task polled a few times.
            while flood_polls.load(SeqCst) < 3 * FLOOD {
                weft::task::yield_now().await;
            }
            go_tx.send(()).unwrap();
            let polled_at = target.await.unwrap();
            stop.store(true, SeqCst);
            for h in flood {
                h.await.unwrap();
            }
            polled_at
        }
    });
    remote.join().unwrap();
    let at_wake = at_wake.load(SeqCst);
    let waited = served_after.saturating_sub(at_wake);
    eprintln!("remote wake served after {waited} flood polls ({FLOOD} ready tasks)");
    assert!(
        waited < FLOOD / 2,
        "the remote wake waited {waited} task polls behind {FLOOD} ready tasks"
    );
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn main_future_is_served_during_a_flood_of_ready_tasks() {
    let _w = watchdog("main_future_is_served_during_a_flood_of_ready_tasks", 60);
    let stop = Arc::new(AtomicBool::new(false));
    let slot = WakerSlot::new();
    let s = slot.clone();
    let t = thread::spawn(move || {
        assert!(support::wait_until(Duration::from_secs(10), || s.has_waker()));
        thread::sleep(Duration::from_millis(10));
        s.set_ready();
    });
    weft::block_on({
        let stop = stop.clone();
        async move {
            for _ in 0..1000 {
                let stop = stop.clone();
                weft::spawn(async move {
                    while !stop.load(SeqCst) {
                        weft::task::yield_now().await;
                    }
                });
            }
            slot.wait().await;
            stop.store(true, SeqCst);
        }
    });
    t.join().unwrap();
}
