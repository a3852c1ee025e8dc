//! `weft::task::LocalSet`: `!Send` tasks on either runtime flavour, woken
//! from other threads, doing IO and sleeps, awaited as a future, dropped
//! with tasks pending, and fair to the runtime that hosts it.

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use support::{pending_forever, watchdog, Counters, Track};
use weft::net::{TcpListener, TcpStream};
use weft::runtime::Builder;
use weft::task::LocalSet;

fn multi(workers: usize) -> weft::Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn current() -> weft::Runtime {
    Builder::new_current_thread().build().unwrap()
}

/// A one-shot channel whose sender may live on any thread.
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

struct Sender<T>(Arc<Mutex<Slot<T>>>);
struct Receiver<T>(Arc<Mutex<Slot<T>>>);

fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    fn send(self, value: T) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    async fn recv(self) -> T {
        std::future::poll_fn(|cx| {
            let mut slot = self.0.lock().unwrap();
            match slot.value.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    slot.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Records the thread it is dropped on.
struct DropOn(Rc<RefCell<Vec<ThreadId>>>);

impl Drop for DropOn {
    fn drop(&mut self) {
        self.0.borrow_mut().push(thread::current().id());
    }
}

#[test]
fn rc_tasks_on_the_multi_thread_runtime_via_run_until() {
    let _w = watchdog("rc_tasks_on_the_multi_thread_runtime_via_run_until", 30);
    let rt = multi(2);
    let local = LocalSet::new();
    let counters = Counters::new();
    let me = thread::current().id();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sum = rt.block_on(local.run_until(async {
        let handles: Vec<_> = (0..100u64)
            .map(|i| {
                let seen = seen.clone();
                weft::spawn_local(Track::new(
                    async move {
                        weft::task::yield_now().await;
                        seen.borrow_mut().push(thread::current().id());
                        i
                    },
                    &counters,
                ))
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    }));
    assert_eq!(sum, 99 * 100 / 2);
    assert_eq!(counters.drops(), 100);
    assert_eq!(seen.borrow().len(), 100);
    assert!(seen.borrow().iter().all(|t| *t == me));
}

#[test]
fn local_set_block_on_runs_tasks_spawned_before() {
    let _w = watchdog("local_set_block_on_runs_tasks_spawned_before", 30);
    for rt in [multi(1), current()] {
        let local = LocalSet::new();
        let hits = Rc::new(Cell::new(0));
        let h = hits.clone();
        let first = local.spawn_local(async move {
            h.set(h.get() + 1);
            7
        });
        let out = local.block_on(&rt, async { first.await.unwrap() + 1 });
        assert_eq!(out, 8);
        assert_eq!(hits.get(), 1);
    }
}

/// Without any weft runtime, a set still runs its tasks (those that need
/// no IO or timers) under another executor.
#[test]
fn a_set_runs_under_a_foreign_executor() {
    let _w = watchdog("a_set_runs_under_a_foreign_executor", 30);
    let local = LocalSet::new();
    let out = support::plain_block_on(local.run_until(async {
        let rc = Rc::new(2);
        let r = rc.clone();
        let (tx, rx) = oneshot::<u32>();
        thread::spawn(move || tx.send(3));
        weft::spawn_local(async move { *r * rx.recv().await })
            .await
            .unwrap()
    }));
    assert_eq!(out, 6);
}

#[test]
fn spawn_local_from_inside_a_local_task() {
    let _w = watchdog("spawn_local_from_inside_a_local_task", 30);
    for rt in [multi(2), current()] {
        let local = LocalSet::new();
        let depth = rt.block_on(local.run_until(async {
            // A chain of 50 tasks, each spawning the next from inside.
            fn chain(n: u32, rc: Rc<Cell<u32>>) -> weft::task::JoinHandle<u32> {
                weft::spawn_local(async move {
                    rc.set(rc.get() + 1);
                    if n == 0 {
                        0
                    } else {
                        chain(n - 1, rc).await.unwrap() + 1
                    }
                })
            }
            let rc = Rc::new(Cell::new(0));
            let d = chain(50, rc.clone()).await.unwrap();
            assert_eq!(rc.get(), 51);
            d
        }));
        assert_eq!(depth, 50);
    }
}

#[test]
fn wake_from_another_std_thread() {
    let _w = watchdog("wake_from_another_std_thread", 30);
    for rt in [multi(2), current()] {
        let local = LocalSet::new();
        let total = rt.block_on(local.run_until(async {
            let mut handles = Vec::new();
            let mut threads = Vec::new();
            for i in 0..20u64 {
                let (tx, rx) = oneshot::<u64>();
                let marker = Rc::new(i);
                handles.push(weft::spawn_local(async move {
                    let v = rx.recv().await;
                    v + *marker
                }));
                threads.push(thread::spawn(move || {
                    thread::sleep(Duration::from_millis(5 + i % 5));
                    tx.send(i);
                }));
            }
            let mut total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            for t in threads {
                t.join().unwrap();
            }
            total
        }));
        assert_eq!(total, 2 * (19 * 20 / 2));
    }
}

#[test]
fn wake_from_a_spawn_blocking_job() {
    let _w = watchdog("wake_from_a_spawn_blocking_job", 30);
    for rt in [multi(2), current()] {
        let local = LocalSet::new();
        let out = rt.block_on(local.run_until(async {
            let rc = Rc::new(5u64);
            let r = rc.clone();
            let a = weft::spawn_local(async move {
                // The blocking job's JoinHandle is woken from its thread.
                let v = weft::spawn_blocking(|| {
                    thread::sleep(Duration::from_millis(10));
                    10u64
                })
                .await
                .unwrap();
                v + *r
            });
            let (tx, rx) = oneshot::<u64>();
            let r = rc.clone();
            let b = weft::spawn_local(async move { rx.recv().await + *r });
            // A channel fed by a blocking job, awaited by a local task.
            drop(weft::spawn_blocking(move || {
                thread::sleep(Duration::from_millis(10));
                tx.send(1);
            }));
            a.await.unwrap() + b.await.unwrap()
        }));
        assert_eq!(out, 21);
    }
}

#[test]
fn abort_from_another_thread_cancels_on_the_owning_thread() {
    let _w = watchdog("abort_from_another_thread_cancels_on_the_owning_thread", 30);
    let rt = multi(2);
    let local = LocalSet::new();
    let dropped_on = Rc::new(RefCell::new(Vec::new()));
    let me = thread::current().id();
    let d = dropped_on.clone();
    let err = rt.block_on(local.run_until(async move {
        let guard = DropOn(d);
        let h = weft::spawn_local(async move {
            let _guard = guard;
            pending_forever().await;
        });
        weft::task::yield_now().await;
        let abort = h.abort_handle();
        thread::spawn(move || abort.abort()).join().unwrap();
        h.await.unwrap_err()
    }));
    assert!(err.is_cancelled());
    assert_eq!(*dropped_on.borrow(), vec![me]);
}

/// Echo one connection, counting bytes in an `Rc` shared with the client.
async fn echo_once(listener: TcpListener, count: Rc<Cell<usize>>) {
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        count.set(count.get() + n);
        stream.write_all(&buf[..n]).await.unwrap();
    }
}

#[test]
fn local_tasks_do_tcp_io_and_sleep() {
    let _w = watchdog("local_tasks_do_tcp_io_and_sleep", 30);
    for rt in [multi(2), current()] {
        let local = LocalSet::new();
        let echoed = rt.block_on(local.run_until(async {
            let count = Rc::new(Cell::new(0));
            let mut servers = Vec::new();
            let mut clients = Vec::new();
            for c in 0..4u8 {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                servers.push(weft::spawn_local(echo_once(listener, count.clone())));
                let count = count.clone();
                clients.push(weft::spawn_local(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    for round in 0..10u8 {
                        let msg = [c, round, 1, 2, 3];
                        stream.write_all(&msg).await.unwrap();
                        let mut back = [0u8; 5];
                        stream.read_exact(&mut back).await.unwrap();
                        assert_eq!(back, msg);
                        if round % 3 == 0 {
                            weft::time::sleep(Duration::from_millis(2)).await;
                        }
                    }
                    drop(stream);
                    count.get()
                }));
            }
            let started = Instant::now();
            weft::time::sleep(Duration::from_millis(20)).await;
            assert!(started.elapsed() >= Duration::from_millis(20));
            for c in clients {
                c.await.unwrap();
            }
            for s in servers {
                s.await.unwrap();
            }
            count.get()
        }));
        assert_eq!(echoed, 4 * 10 * 5);
    }
}

#[test]
fn local_set_awaited_as_a_future() {
    let _w = watchdog("local_set_awaited_as_a_future", 30);
    // In `block_on` of the multi-thread runtime.
    let rt = multi(2);
    let local = LocalSet::new();
    let done = Rc::new(Cell::new(0));
    for i in 0..10u64 {
        let done = done.clone();
        local.spawn_local(async move {
            weft::time::sleep(Duration::from_millis(i)).await;
            // Spawned from inside while the set is awaited: waited for too.
            let d = done.clone();
            weft::spawn_local(async move {
                weft::task::yield_now().await;
                d.set(d.get() + 1);
            });
            done.set(done.get() + 1);
        });
    }
    rt.block_on(local);
    assert_eq!(done.get(), 20);

    // Inside a task of the current-thread runtime.
    let rt = current();
    let done = Rc::new(Cell::new(0));
    let d = done.clone();
    rt.block_on(async move {
        let local = LocalSet::new();
        local.spawn_local(async move {
            weft::time::sleep(Duration::from_millis(5)).await;
            d.set(1);
        });
        weft::spawn_local(local).await.unwrap();
    });
    assert_eq!(done.get(), 1);
}

#[test]
fn an_empty_set_completes_at_once() {
    let _w = watchdog("an_empty_set_completes_at_once", 30);
    weft::block_on(LocalSet::new());
}

#[test]
fn dropping_the_set_drops_pending_tasks_once_and_cancels_handles() {
    let _w = watchdog(
        "dropping_the_set_drops_pending_tasks_once_and_cancels_handles",
        30,
    );
    let rt = multi(2);
    let counters = Counters::new();
    let dropped_on = Rc::new(RefCell::new(Vec::new()));
    let local = LocalSet::new();
    let mut handles = Vec::new();
    // Polled once and pending: forever, on a sleep, on a channel.
    let (_tx, rx) = oneshot::<()>();
    let guard = DropOn(dropped_on.clone());
    handles.push(local.spawn_local(Track::new(
        async move {
            let _guard = guard;
            pending_forever().await
        },
        &counters,
    )));
    handles.push(local.spawn_local(Track::new(
        async {
            weft::time::sleep(Duration::from_secs(3600)).await;
        },
        &counters,
    )));
    handles.push(local.spawn_local(Track::new(rx.recv(), &counters)));
    rt.block_on(local.run_until(async { weft::task::yield_now().await }));
    assert_eq!(counters.drops(), 0);
    assert!(counters.polls() >= 3);
    // Never polled.
    let guard = DropOn(dropped_on.clone());
    handles.push(local.spawn_local(Track::new(
        async move {
            let _guard = guard;
        },
        &counters,
    )));
    drop(local);
    assert_eq!(counters.drops(), 4);
    assert_eq!(
        *dropped_on.borrow(),
        vec![thread::current().id(), thread::current().id()]
    );
    for h in handles {
        assert!(h.is_finished());
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
    }
    assert_eq!(counters.drops(), 4);
}

#[test]
fn spawn_local_inside_a_set_on_current_thread_goes_to_the_set() {
    let _w = watchdog(
        "spawn_local_inside_a_set_on_current_thread_goes_to_the_set",
        30,
    );
    let rt = current();
    let counters = Counters::new();
    let local = LocalSet::new();
    rt.block_on(local.run_until(async {
        weft::spawn_local(Track::new(pending_forever(), &counters));
        weft::task::yield_now().await;
    }));
    assert_eq!(counters.polls(), 1);
    drop(local);
    // Dropped with the set, not with the runtime.
    assert_eq!(counters.drops(), 1);
    // Outside a set the current-thread runtime still takes it.
    rt.block_on(async {
        weft::spawn_local(Track::new(pending_forever(), &counters));
        weft::task::yield_now().await;
    });
    assert_eq!(counters.drops(), 1);
    drop(rt);
    assert_eq!(counters.drops(), 2);
}

#[test]
fn a_busy_set_lets_the_runtime_progress() {
    let _w = watchdog("a_busy_set_lets_the_runtime_progress", 30);
    for rt in [current(), multi(1)] {
        let local = LocalSet::new();
        let spins = Rc::new(Cell::new(0u64));
        let s = spins.clone();
        let yielder = local.spawn_local(async move {
            loop {
                s.set(s.get() + 1);
                weft::task::yield_now().await;
            }
        });
        let progressed = Arc::new(AtomicUsize::new(0));
        let p = progressed.clone();
        rt.block_on(local.run_until(async move {
            // A runtime task (not in the set) and a timer both progress
            // while the local task yields forever.
            let other = weft::spawn(async move {
                for _ in 0..100 {
                    p.fetch_add(1, SeqCst);
                    weft::task::yield_now().await;
                }
            });
            weft::time::sleep(Duration::from_millis(10)).await;
            other.await.unwrap();
        }));
        assert_eq!(progressed.load(SeqCst), 100);
        assert!(spins.get() > 0);
        yielder.abort();
        drop(local);
    }
}

#[test]
fn spawn_local_panics_on_multi_thread_without_a_set() {
    let _w = watchdog("spawn_local_panics_on_multi_thread_without_a_set", 30);
    let rt = multi(1);
    let msg = rt.block_on(async {
        let r = std::panic::catch_unwind(|| {
            weft::spawn_local(async {});
        });
        r.err()
            .and_then(|p| support::panic_message(&*p))
            .unwrap_or_default()
    });
    assert!(msg.contains("LocalSet"), "{msg}");
    assert!(msg.contains("multi-thread runtime"), "{msg}");
}

#[test]
fn sets_nest() {
    let _w = watchdog("sets_nest", 30);
    let rt = multi(1);
    let outer = LocalSet::new();
    let out = rt.block_on(outer.run_until(async {
        let outer_task = weft::spawn_local(async { 1 });
        let inner = LocalSet::new();
        let v = inner
            .run_until(async {
                // Goes to the inner set, and runs while it is polled.
                weft::spawn_local(async { 2 }).await.unwrap()
            })
            .await;
        // Back in the outer set.
        let after = weft::spawn_local(async { 3 });
        outer_task.await.unwrap() + v + after.await.unwrap()
    }));
    assert_eq!(out, 6);
}

#[test]
fn spawn_onto_a_set_polled_by_another_task_wakes_that_task() {
    let _w = watchdog(
        "spawn_onto_a_set_polled_by_another_task_wakes_that_task",
        30,
    );
    let rt = current();
    let local = Rc::new(LocalSet::new());
    let out = rt.block_on(async {
        let (tx, rx) = oneshot::<u32>();
        let l = local.clone();
        let host = weft::spawn_local(async move { l.run_until(rx.recv()).await });
        // The host polls the set, then waits on the channel.
        support::yield_n(3).await;
        // Spawned from outside the set's poll: the host must be woken.
        local.spawn_local(async move { tx.send(5) });
        host.await.unwrap()
    });
    assert_eq!(out, 5);
}

/// Many round trips between a local task and a std thread: every reply is
/// a wake from another thread racing the set's poll, and none may be lost.
#[test]
fn ping_pong_with_a_std_thread_loses_no_wake() {
    let _w = watchdog("ping_pong_with_a_std_thread_loses_no_wake", 60);
    for rt in [multi(2), current()] {
        let local = LocalSet::new();
        let (to_thread, from_task) = std::sync::mpsc::channel::<(u32, Sender<u32>)>();
        let echo = thread::spawn(move || {
            for (n, reply) in from_task {
                reply.send(n + 1);
            }
        });
        let last = rt.block_on(local.run_until(async move {
            let counter = Rc::new(Cell::new(0u32));
            let c = counter.clone();
            let pinger = weft::spawn_local(async move {
                for _ in 0..2000 {
                    let (tx, rx) = oneshot();
                    to_thread.send((c.get(), tx)).unwrap();
                    c.set(rx.recv().await);
                }
            });
            // A second local task keeps the set busy meanwhile.
            let busy = weft::spawn_local(async {
                for _ in 0..2000 {
                    weft::task::yield_now().await;
                }
            });
            pinger.await.unwrap();
            busy.await.unwrap();
            counter.get()
        }));
        echo.join().unwrap();
        assert_eq!(last, 2000);
    }
}

#[test]
fn a_panicking_local_task_is_reported_and_the_set_goes_on() {
    let _w = watchdog("a_panicking_local_task_is_reported_and_the_set_goes_on", 30);
    let rt = multi(1);
    let local = LocalSet::new();
    let out = local.block_on(&rt, async {
        let bad = weft::spawn_local(async {
            let _rc = Rc::new(());
            panic!("boom in a local task");
        });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        weft::spawn_local(async { 3 }).await.unwrap()
    });
    assert_eq!(out, 3);
}
