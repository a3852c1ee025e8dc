//! `JoinHandle`: values, detaching, `is_finished`, ids, and where outputs
//! are dropped.

// Some tests return a JoinHandle out of `block_on` on purpose.
#![allow(clippy::async_yields_async)]

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::time::Duration;

use support::{watchdog, yield_n, Counters, DropCount, Track, WakerSlot};
use weft::task::{AbortHandle, JoinError, JoinHandle};

#[allow(dead_code)]
fn _assert_auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<JoinHandle<u32>>();
    send_sync::<JoinHandle<String>>();
    send_sync::<AbortHandle>();
    send_sync::<JoinError>();
    send_sync::<weft::Runtime>();
    fn unpin<T: Unpin>() {}
    unpin::<JoinHandle<std::marker::PhantomPinned>>();
}

#[test]
fn join_returns_the_value() {
    let _w = watchdog("join_returns_the_value", 20);
    weft::block_on(async {
        assert_eq!(weft::spawn(async { 7u8 }).await.unwrap(), 7);
        assert_eq!(
            weft::spawn(async { String::from("weft") }).await.unwrap(),
            "weft"
        );
        let v = weft::spawn(async { vec![1u64; 1000] }).await.unwrap();
        assert_eq!(v.iter().sum::<u64>(), 1000);
        weft::spawn(async {}).await.unwrap();
        // A big output (bigger than the future) travels intact.
        let big = weft::spawn(async { [0xA5u8; 4096] }).await.unwrap();
        assert!(big.iter().all(|&b| b == 0xA5));
    });
}

#[test]
fn join_many_tasks_each_gets_its_own_value() {
    let _w = watchdog("join_many_tasks_each_gets_its_own_value", 20);
    let sum = weft::block_on(async {
        let handles: Vec<_> = (0..500u64)
            .map(|i| {
                weft::spawn(async move {
                    yield_n((i % 5) as usize).await;
                    i * 3
                })
            })
            .collect();
        let mut sum = 0;
        // Await in reverse: completion order differs from join order.
        for (i, h) in handles.into_iter().enumerate().rev() {
            let v = h.await.unwrap();
            assert_eq!(v, i as u64 * 3);
            sum += v;
        }
        sum
    });
    assert_eq!(sum, 3 * (0..500).sum::<u64>());
}

#[test]
fn join_after_task_already_completed() {
    let _w = watchdog("join_after_task_already_completed", 20);
    weft::block_on(async {
        let h = weft::spawn(async { 11 });
        assert!(!h.is_finished(), "not polled yet");
        while !h.is_finished() {
            weft::task::yield_now().await;
        }
        assert_eq!(h.await.unwrap(), 11);
    });
}

#[test]
fn join_waits_for_a_task_that_yields_many_times() {
    let _w = watchdog("join_waits_for_a_task_that_yields_many_times", 20);
    let c = Counters::new();
    let v = weft::block_on({
        let c = c.clone();
        async move {
            weft::spawn(Track::new(
                async {
                    yield_n(100).await;
                    5
                },
                &c,
            ))
            .await
            .unwrap()
        }
    });
    assert_eq!(v, 5);
    assert_eq!(c.polls(), 101, "one poll per yield, plus the last");
    assert_eq!(c.drops(), 1);
}

#[test]
fn join_handle_polled_in_one_task_then_awaited_in_another() {
    let _w = watchdog("join_handle_polled_in_one_task_then_awaited_in_another", 20);
    weft::block_on(async {
        let gate = WakerSlot::new();
        let g = gate.clone();
        let mut target = weft::spawn(async move {
            g.wait().await;
            99
        });
        // Task A polls the handle once (registering its waker), then hands
        // it to task B, which awaits it; A finishes.
        let (tx, rx) = mpsc::channel::<JoinHandle<i32>>();
        let a = weft::spawn(async move {
            let first = std::future::poll_fn(|cx| {
                Poll::Ready(std::pin::Pin::new(&mut target).poll(cx).is_pending())
            })
            .await;
            assert!(first, "target cannot be done yet");
            tx.send(target).unwrap();
        });
        a.await.unwrap();
        let h = rx.try_recv().unwrap();
        let b = weft::spawn(async move { h.await.unwrap() });
        weft::task::yield_now().await;
        gate.set_ready();
        assert_eq!(b.await.unwrap(), 99);
    });
}

#[test]
fn join_from_another_thread_with_a_plain_executor() {
    let _w = watchdog("join_from_another_thread_with_a_plain_executor", 20);
    let (tx, rx) = mpsc::channel::<JoinHandle<u32>>();
    let joiner = std::thread::spawn(move || {
        let h = rx.recv().unwrap();
        support::plain_block_on(h).unwrap()
    });
    weft::block_on(async move {
        let h = weft::spawn(async {
            yield_n(3).await;
            31
        });
        tx.send(h).unwrap();
        // Keep the runtime going until the task has had every chance to run.
        yield_n(50).await;
    });
    assert_eq!(joiner.join().unwrap(), 31);
}

#[test]
fn detached_task_runs_to_completion() {
    let _w = watchdog("detached_task_runs_to_completion", 20);
    let done = Arc::new(AtomicUsize::new(0));
    let c = Counters::new();
    weft::block_on({
        let (done, c) = (done.clone(), c.clone());
        async move {
            for _ in 0..10 {
                let done = done.clone();
                let h = weft::spawn(Track::new(
                    async move {
                        yield_n(5).await;
                        done.fetch_add(1, SeqCst);
                    },
                    &c,
                ));
                drop(h);
            }
            while done.load(SeqCst) < 10 {
                weft::task::yield_now().await;
            }
        }
    });
    assert_eq!(done.load(SeqCst), 10);
    assert_eq!(c.drops(), 10, "every future dropped exactly once");
    assert_eq!(c.polls(), 60);
}

#[test]
fn detached_output_is_dropped_once_by_the_runtime() {
    let _w = watchdog("detached_output_is_dropped_once_by_the_runtime", 20);
    let drops = Arc::new(AtomicUsize::new(0));
    weft::block_on({
        let drops = drops.clone();
        async move {
            let d = drops.clone();
            let h = weft::spawn(async move {
                weft::task::yield_now().await;
                DropCount(d)
            });
            drop(h);
            yield_n(5).await;
            assert_eq!(drops.load(SeqCst), 1, "output dropped on completion");
        }
    });
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn output_dropped_once_when_handle_dropped_after_completion() {
    let _w = watchdog(
        "output_dropped_once_when_handle_dropped_after_completion",
        20,
    );
    let drops = Arc::new(AtomicUsize::new(0));
    let h = weft::block_on({
        let drops = drops.clone();
        async move {
            let h = weft::spawn(async move { DropCount(drops) });
            while !h.is_finished() {
                weft::task::yield_now().await;
            }
            h
        }
    });
    // The runtime is gone; the output waits in the task for the handle.
    assert_eq!(drops.load(SeqCst), 0);
    assert!(h.is_finished());
    drop(h);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn completed_output_survives_the_runtime() {
    let _w = watchdog("completed_output_survives_the_runtime", 20);
    let h = weft::block_on(async {
        let h = weft::spawn(async { String::from("kept") });
        yield_n(2).await;
        h
    });
    assert_eq!(support::plain_block_on(h).unwrap(), "kept");
}

#[test]
fn is_finished_tracks_completion() {
    let _w = watchdog("is_finished_tracks_completion", 20);
    weft::block_on(async {
        let gate = WakerSlot::new();
        let g = gate.clone();
        let h = weft::spawn(async move { g.wait().await });
        let a = h.abort_handle();
        assert!(!h.is_finished());
        yield_n(3).await;
        assert!(!h.is_finished(), "waiting on the gate");
        assert!(!a.is_finished());
        gate.set_ready();
        yield_n(3).await;
        assert!(h.is_finished());
        assert!(a.is_finished());
        h.await.unwrap();
        assert!(a.is_finished(), "still finished after the output was taken");
    });
}

#[test]
fn ids_are_unique_and_match_the_join_error() {
    let _w = watchdog("ids_are_unique_and_match_the_join_error", 20);
    weft::block_on(async {
        let hs: Vec<_> = (0..100).map(|_| weft::spawn(async {})).collect();
        let mut ids: Vec<_> = hs.iter().map(|h| h.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 100);
        for h in hs {
            h.await.unwrap();
        }
        let h = weft::spawn(weft::task::yield_now());
        let id = h.id();
        h.abort();
        let e = h.await.unwrap_err();
        assert_eq!(e.id(), id);
        assert_eq!(e.id().as_u64(), id.as_u64());
        assert!(format!("{e}").contains(&id.to_string()), "{e}");
    });
}

#[test]
fn join_handle_debug_names_the_task() {
    let _w = watchdog("join_handle_debug_names_the_task", 20);
    weft::block_on(async {
        let h = weft::spawn(async {});
        let s = format!("{h:?}");
        assert!(s.contains("JoinHandle"), "{s}");
        assert!(s.contains(&h.id().as_u64().to_string()), "{s}");
        let a = format!("{:?}", h.abort_handle());
        assert!(a.contains("AbortHandle"), "{a}");
        h.await.unwrap();
    });
}

#[test]
fn join_handle_wakes_a_joiner_waiting_from_another_thread() {
    // The task completes on the runtime thread; the joiner is parked on a
    // plain thread and must be unparked by the join waker.
    let _w = watchdog("join_handle_wakes_a_joiner_waiting_from_another_thread", 20);
    let gate = WakerSlot::new();
    let (tx, rx) = mpsc::channel::<JoinHandle<&'static str>>();
    let g = gate.clone();
    let joiner = std::thread::spawn(move || support::plain_block_on(rx.recv().unwrap()));
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async move {
        let h = weft::spawn(async move {
            g.wait().await;
            "done"
        });
        tx.send(h).unwrap();
        weft::task::yield_now().await;
    });
    // The joiner has (most likely) polled the handle and is parked now.
    std::thread::sleep(Duration::from_millis(20));
    rt.block_on(async {
        gate.set_ready();
        yield_n(5).await;
    });
    assert_eq!(joiner.join().unwrap().unwrap(), "done");
}

#[test]
fn awaiting_ready_join_handles_spends_the_coop_budget() {
    // A task that joins 1000 finished tasks never returns Pending by itself;
    // if each JoinHandle poll spent one unit of the budget (as the coop
    // module's doc says), it would yield after 128 and let `other` run.
    let _w = watchdog("awaiting_ready_join_handles_spends_the_coop_budget", 20);
    weft::block_on(async {
        let hs: Vec<_> = (0..1000).map(|i| weft::spawn(async move { i })).collect();
        while !hs.iter().all(|h| h.is_finished()) {
            weft::task::yield_now().await;
        }
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = flag.clone();
        let joiner = weft::spawn(async move {
            let mut saw_other = false;
            for (i, h) in hs.into_iter().enumerate() {
                assert_eq!(h.await.unwrap(), i);
                saw_other |= f.load(SeqCst);
            }
            saw_other
        });
        let other = weft::spawn(async move { flag.store(true, SeqCst) });
        assert!(
            joiner.await.unwrap(),
            "joined 1000 handles in one poll without yielding"
        );
        other.await.unwrap();
    });
}
