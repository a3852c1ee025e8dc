//! Dropping the runtime: every task it still holds is dropped exactly once,
//! on the dropping thread, whatever state it is in; destructors that spawn
//! or wake during shutdown; wakers and handles that outlive the runtime.

// Some tests return JoinHandles out of `block_on` on purpose.
#![allow(clippy::async_yields_async)]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use support::{
    pending_forever, plain_block_on, watchdog, with_stack, yield_n, Counters, DropCount, Track,
    WakerSlot,
};
use weft::task::JoinHandle;

#[test]
fn weft_block_on_drops_pending_tasks_before_returning() {
    let _w = watchdog("weft_block_on_drops_pending_tasks_before_returning", 20);
    let c = Counters::new();
    weft::block_on({
        let c = c.clone();
        async move {
            for _ in 0..10 {
                weft::spawn(Track::new(pending_forever(), &c));
            }
            yield_n(2).await;
            assert_eq!(c.polls(), 10);
            assert_eq!(c.drops(), 0);
        }
    });
    assert_eq!(c.drops(), 10);
}

#[test]
fn dropping_the_runtime_drops_tasks_in_every_state() {
    let _w = watchdog("dropping_the_runtime_drops_tasks_in_every_state", 20);
    let forever = Counters::new(); // polled, pending, never woken
    let woken = Counters::new(); // polled, then woken: queued but not polled again
    let never = Counters::new(); // spawned, never polled
    let remote = Counters::new(); // spawned from another thread, never taken
    let remote_woken = Counters::new(); // woken from another thread after block_on returned
    let finished = Counters::new(); // ran to completion
    let aborted = Counters::new(); // aborted, cancel queued
    let slot = WakerSlot::new();
    let slot2 = WakerSlot::new();

    let rt = weft::Runtime::new().unwrap();
    let handles: Vec<JoinHandle<()>> = rt.block_on({
        let (forever, woken, never, finished, aborted, remote_woken) = (
            forever.clone(),
            woken.clone(),
            never.clone(),
            finished.clone(),
            aborted.clone(),
            remote_woken.clone(),
        );
        let (slot, slot2) = (slot.clone(), slot2.clone());
        async move {
            let mut hs = Vec::new();
            for _ in 0..3 {
                hs.push(weft::spawn(Track::new(pending_forever(), &forever)));
            }
            hs.push(weft::spawn(Track::new(slot.wait(), &woken)));
            hs.push(weft::spawn(Track::new(slot2.wait(), &remote_woken)));
            hs.push(weft::spawn(Track::new(async {}, &finished)));
            let a = weft::spawn(Track::new(pending_forever(), &aborted));
            yield_n(2).await;
            assert_eq!(woken.polls(), 1);
            slot.wake();
            a.abort(); // the cancel is queued, not run yet
            hs.push(a);
            for _ in 0..3 {
                hs.push(weft::spawn(Track::new(pending_forever(), &never)));
            }
            hs
        }
    });
    thread::scope(|s| {
        s.spawn(|| {
            drop(rt.spawn(Track::new(pending_forever(), &remote)));
            slot2.wake();
        });
    });
    assert_eq!(never.polls(), 0);
    for c in [&forever, &woken, &never, &remote, &remote_woken, &aborted] {
        assert_eq!(c.drops(), 0);
    }
    drop(rt);
    assert_eq!(forever.drops(), 3);
    assert_eq!(woken.drops(), 1);
    assert_eq!(woken.polls(), 1, "a queued task is not polled at shutdown");
    assert_eq!(never.drops(), 3);
    assert_eq!(never.polls(), 0);
    assert_eq!(remote.drops(), 1);
    assert_eq!(remote.polls(), 0);
    assert_eq!(remote_woken.drops(), 1);
    assert_eq!(remote_woken.polls(), 1);
    assert_eq!(aborted.drops(), 1);
    assert_eq!(finished.drops(), 1);
    assert_eq!(finished.polls(), 1);
    // The handles of unfinished tasks now say "cancelled".
    for h in handles {
        assert!(h.is_finished());
        match plain_block_on(h) {
            Ok(()) => {}
            Err(e) => assert!(e.is_cancelled(), "{e:?}"),
        }
    }
}

#[test]
fn futures_are_dropped_on_the_thread_that_drops_the_runtime() {
    let _w = watchdog(
        "futures_are_dropped_on_the_thread_that_drops_the_runtime",
        20,
    );
    let dropped_on: Arc<Mutex<Vec<ThreadId>>> = Arc::default();
    struct Rec(Arc<Mutex<Vec<ThreadId>>>);
    impl Drop for Rec {
        fn drop(&mut self) {
            self.0.lock().unwrap().push(thread::current().id());
        }
    }
    let rt = weft::Runtime::new().unwrap();
    rt.block_on({
        let d = dropped_on.clone();
        async move {
            for _ in 0..5 {
                let r = Rec(d.clone());
                weft::spawn(async move {
                    let _r = r;
                    pending_forever().await
                });
            }
            weft::task::yield_now().await;
        }
    });
    let dropper = thread::spawn(move || {
        drop(rt);
        thread::current().id()
    })
    .join()
    .unwrap();
    let d = dropped_on.lock().unwrap();
    assert_eq!(d.len(), 5);
    assert!(d.iter().all(|t| *t == dropper), "{d:?} vs {dropper:?}");
}

/// Runs `on_drop` when dropped (inside a task's future).
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

#[test]
fn destructor_that_spawns_during_shutdown() {
    let _w = watchdog("destructor_that_spawns_during_shutdown", 20);
    let spawned = Counters::new();
    let late: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
    let rt = weft::Runtime::new().unwrap();
    rt.block_on({
        let (spawned, late) = (spawned.clone(), late.clone());
        async move {
            for _ in 0..3 {
                let (spawned, late) = (spawned.clone(), late.clone());
                let guard = OnDrop(move || {
                    // The runtime is closing: the new task never runs.
                    let h = weft::spawn(Track::new(async {}, &spawned));
                    late.lock().unwrap().push(h);
                    let h = weft::spawn_local(Track::new(async {}, &spawned));
                    late.lock().unwrap().push(h);
                });
                weft::spawn(async move {
                    let _g = guard;
                    pending_forever().await
                });
            }
            weft::task::yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(spawned.drops(), 6);
    assert_eq!(spawned.polls(), 0);
    for h in late.lock().unwrap().drain(..) {
        assert!(h.is_finished());
        assert!(plain_block_on(h).unwrap_err().is_cancelled());
    }
}

#[test]
fn destructor_that_wakes_other_tasks_during_shutdown() {
    let _w = watchdog("destructor_that_wakes_other_tasks_during_shutdown", 20);
    let c = Counters::new();
    let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
    let rt = weft::Runtime::new().unwrap();
    rt.block_on({
        let (c, wakers) = (c.clone(), wakers.clone());
        async move {
            for _ in 0..20 {
                let (c, wakers) = (c.clone(), wakers.clone());
                let w2 = wakers.clone();
                let guard = OnDrop(move || {
                    // Wake every task (those already dropped and those not),
                    // by ref and by value.
                    let ws = w2.lock().unwrap().clone();
                    for w in ws {
                        w.wake_by_ref();
                        w.wake();
                    }
                });
                weft::spawn(Track::new(
                    async move {
                        let _g = guard;
                        std::future::poll_fn(|cx| {
                            wakers.lock().unwrap().push(cx.waker().clone());
                            Poll::<()>::Pending
                        })
                        .await
                    },
                    &c,
                ));
            }
            yield_n(2).await;
        }
    });
    assert_eq!(c.polls(), 20);
    drop(rt);
    assert_eq!(c.drops(), 20);
    assert_eq!(c.polls(), 20, "nothing is polled during shutdown");
    // The wakers outlive the runtime: waking them now does nothing.
    let ws = std::mem::take(&mut *wakers.lock().unwrap());
    for w in &ws {
        w.wake_by_ref();
    }
    drop(ws);
}

#[test]
fn destructor_that_aborts_another_task_during_shutdown() {
    let _w = watchdog("destructor_that_aborts_another_task_during_shutdown", 20);
    let c = Counters::new();
    let rt = weft::Runtime::new().unwrap();
    rt.block_on({
        let c = c.clone();
        async move {
            let victims: Vec<_> = (0..5)
                .map(|_| weft::spawn(Track::new(pending_forever(), &c)).abort_handle())
                .collect();
            let guard = OnDrop(move || victims.iter().for_each(|v| v.abort()));
            weft::spawn(Track::new(
                async move {
                    let _g = guard;
                    pending_forever().await
                },
                &c,
            ));
            weft::task::yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(c.drops(), 6);
}

#[test]
fn destructor_that_runs_block_on_during_shutdown() {
    // Shutdown runs outside `block_on`, so a nested `block_on` is allowed
    // there; but its runtime's CoreGuard overwrites the core that shutdown
    // has installed in the thread-local context, and shutdown stops early.
    let _w = watchdog("destructor_that_runs_block_on_during_shutdown", 20);
    let c = Counters::new();
    let rt = weft::Runtime::new().unwrap();
    rt.block_on({
        let c = c.clone();
        async move {
            for _ in 0..10 {
                let guard = OnDrop(|| assert_eq!(weft::block_on(async { 1 }), 1));
                weft::spawn(Track::new(
                    async move {
                        let _g = guard;
                        pending_forever().await
                    },
                    &c,
                ));
            }
            weft::task::yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(c.drops(), 10);
}

#[test]
fn waker_outlives_the_runtime() {
    let _w = watchdog("waker_outlives_the_runtime", 20);
    let c = Counters::new();
    let slot = WakerSlot::new();
    {
        let rt = weft::Runtime::new().unwrap();
        rt.block_on({
            let (c, slot) = (c.clone(), slot.clone());
            async move {
                weft::spawn(Track::new(slot.wait(), &c));
                weft::task::yield_now().await;
            }
        });
    }
    assert_eq!(c.drops(), 1);
    let w = slot.waker().unwrap();
    slot.clear();
    // From this thread and another, by ref and by value.
    w.wake_by_ref();
    let w2 = w.clone();
    thread::spawn(move || w2.wake()).join().unwrap();
    assert!(w.will_wake(&w.clone()));
    // The last reference to the task goes by a wake by value: it frees it.
    w.wake();
    assert_eq!(c.polls(), 1);
}

#[test]
fn remote_wakes_racing_with_the_runtime_drop() {
    let _w = watchdog("remote_wakes_racing_with_the_runtime_drop", 30);
    for _ in 0..20 {
        let c = Counters::new();
        let slot = WakerSlot::new();
        let rt = weft::Runtime::new().unwrap();
        rt.block_on({
            let (c, slot) = (c.clone(), slot.clone());
            async move {
                for _ in 0..4 {
                    weft::spawn(Track::new(slot.wait(), &c));
                }
                weft::task::yield_now().await;
            }
        });
        let stop = Arc::new(AtomicBool::new(false));
        let waker = {
            let (slot, stop) = (slot.clone(), stop.clone());
            thread::spawn(move || {
                let mut n = 0;
                while !stop.load(SeqCst) && n < 100_000 {
                    slot.wake();
                    n += 1;
                }
            })
        };
        thread::sleep(Duration::from_micros(200));
        drop(rt);
        stop.store(true, SeqCst);
        waker.join().unwrap();
        assert_eq!(c.drops(), 4);
        slot.clear();
    }
}

#[test]
fn outputs_of_unjoined_finished_tasks_are_freed_with_their_handles() {
    let _w = watchdog(
        "outputs_of_unjoined_finished_tasks_are_freed_with_their_handles",
        20,
    );
    let drops = Arc::new(AtomicUsize::new(0));
    let hs = weft::block_on({
        let drops = drops.clone();
        async move {
            let hs: Vec<_> = (0..10)
                .map(|_| {
                    let d = drops.clone();
                    weft::spawn(async move { DropCount(d) })
                })
                .collect();
            yield_n(2).await;
            hs
        }
    });
    assert_eq!(drops.load(SeqCst), 0);
    drop(hs);
    assert_eq!(drops.load(SeqCst), 10);
}

type BoxFut = Pin<Box<dyn Future<Output = ()> + Send>>;

fn pending_chain(depth: u32, reached: Arc<AtomicUsize>, drops: Arc<AtomicUsize>) -> BoxFut {
    Box::pin(async move {
        let _d = DropCount(drops.clone());
        reached.fetch_add(1, SeqCst);
        if depth == 0 {
            pending_forever().await
        } else {
            let _ = weft::spawn(pending_chain(depth - 1, reached, drops)).await;
        }
    })
}

#[test]
fn dropping_a_runtime_with_a_deep_pending_chain_on_a_small_stack() {
    let _w = watchdog(
        "dropping_a_runtime_with_a_deep_pending_chain_on_a_small_stack",
        120,
    );
    const DEPTH: u32 = 100_000;
    let reached = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let (r, d) = (reached.clone(), drops.clone());
    with_stack(256 * 1024, move || {
        let rt = weft::Runtime::new().unwrap();
        rt.block_on({
            let r2 = r.clone();
            async move {
                drop(weft::spawn(pending_chain(DEPTH, r2.clone(), d)));
                while r2.load(SeqCst) < DEPTH as usize + 1 {
                    weft::task::yield_now().await;
                }
            }
        });
        drop(rt);
    });
    assert_eq!(reached.load(SeqCst), DEPTH as usize + 1);
    assert_eq!(drops.load(SeqCst), DEPTH as usize + 1);
}
