//! Scenarios 9-11: the runtime dropped under load, a waker that outlives
//! everything, and a sleeper beside an always-ready task.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt;

use crate::support::{Counters, Track};
use crate::util::{self, figure, test_name};

/// Runs its closure when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

#[test]
fn s09_runtime_dropped_while_tasks_wait_on_everything() {
    let name = test_name!(s09_runtime_dropped_while_tasks_wait_on_everything);
    util::isolated(name, Duration::from_secs(30), || {
        let c = Counters::new();
        let late = Counters::new();
        let spawned = Arc::new(AtomicUsize::new(0));
        let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let lock = Arc::new(Mutex::new(()));
        let rt = util::rt();
        rt.block_on({
            let (c, late, spawned, wakers, lock) = (
                c.clone(),
                late.clone(),
                spawned.clone(),
                wakers.clone(),
                lock.clone(),
            );
            async move {
                let track = |f| {
                    spawned.fetch_add(1, SeqCst);
                    Track::new(f, &c)
                };
                // IO: TCP read, accept, UDP recv, Unix read.
                let (mut a, b) = util::tcp_pair().await;
                weft::spawn(track(Box::pin(async move {
                    let mut buf = [0u8; 8];
                    let _ = a.read(&mut buf).await;
                    drop(b);
                })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>));
                let l = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                weft::spawn(track(Box::pin(async move {
                    let _ = l.accept().await;
                })));
                let u = weft::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                weft::spawn(track(Box::pin(async move {
                    let mut buf = [0u8; 8];
                    let _ = u.recv(&mut buf).await;
                })));
                let (mut x, y) = weft::net::UnixStream::pair().unwrap();
                weft::spawn(track(Box::pin(async move {
                    let mut buf = [0u8; 8];
                    let _ = x.read(&mut buf).await;
                    drop(y);
                })));
                // Timers, near and far.
                for ms in [5_000u64, 60_000, 86_400_000] {
                    weft::spawn(track(Box::pin(async move {
                        weft::time::sleep(Duration::from_millis(ms)).await;
                    })));
                }
                // Each other: a chain of joins ending in a pending task.
                let mut prev = weft::spawn(track(Box::pin(std::future::pending::<()>())));
                for _ in 0..10 {
                    let p = prev;
                    prev = weft::spawn(track(Box::pin(async move {
                        let _ = p.await;
                    })));
                }
                drop(prev);
                // Destructors that spawn, wake every task, and block on a
                // lock that another thread holds while it wakes tasks.
                for i in 0..9 {
                    let (late, all, lock) = (late.clone(), wakers.clone(), lock.clone());
                    let guard = OnDrop(move || match i % 3 {
                        0 => drop(weft::spawn(Track::new(async {}, &late))),
                        1 => {
                            let ws = all.lock().unwrap().clone();
                            ws.iter().for_each(Waker::wake_by_ref);
                        }
                        _ => drop(lock.lock().unwrap()),
                    });
                    let wakers = wakers.clone();
                    weft::spawn(track(Box::pin(async move {
                        let _g = guard;
                        std::future::poll_fn(|cx| {
                            wakers.lock().unwrap().push(cx.waker().clone());
                            std::task::Poll::<()>::Pending
                        })
                        .await
                    })));
                }
                weft::time::sleep(Duration::from_millis(20)).await;
            }
        });
        // Another thread holds the lock the destructors want and wakes the
        // tasks being dropped meanwhile.
        let holder = {
            let (lock, wakers) = (lock.clone(), wakers.clone());
            let (tx, rx) = std::sync::mpsc::channel();
            let h = std::thread::spawn(move || {
                let g = lock.lock().unwrap();
                tx.send(()).unwrap();
                for _ in 0..20 {
                    let ws = wakers.lock().unwrap().clone();
                    ws.iter().for_each(Waker::wake_by_ref);
                    std::thread::sleep(Duration::from_millis(2));
                }
                drop(g);
            });
            rx.recv().unwrap();
            h
        };
        let t0 = Instant::now();
        drop(rt);
        let took = t0.elapsed();
        holder.join().unwrap();
        // Wakers outliving the runtime: waking them does nothing.
        let ws = std::mem::take(&mut *wakers.lock().unwrap());
        ws.iter().for_each(Waker::wake_by_ref);
        drop(ws);
        let n = spawned.load(SeqCst);
        figure!(
            name,
            "runtime with {n} waiting tasks dropped in {took:.2?}; future drops {} of {n}; tasks spawned by destructors: {} dropped, {} polled",
            c.drops(),
            late.drops(),
            late.polls()
        );
        assert_eq!(c.drops(), n, "every future dropped exactly once");
        assert_eq!(late.drops(), 3);
        assert_eq!(late.polls(), 0, "nothing runs during shutdown");
    });
}

static KEPT: Mutex<Option<Waker>> = Mutex::new(None);

#[test]
fn s10_static_waker_woken_after_task_handle_and_runtime_are_gone() {
    let name = test_name!(s10_static_waker_woken_after_task_handle_and_runtime_are_gone);
    util::isolated(name, Duration::from_secs(20), || {
        let c = Counters::new();
        let rt = util::rt();
        rt.block_on({
            let c = c.clone();
            async move {
                let h = weft::spawn(Track::new(
                    std::future::poll_fn(|cx| {
                        *KEPT.lock().unwrap() = Some(cx.waker().clone());
                        std::task::Poll::Ready(5)
                    }),
                    &c,
                ));
                assert_eq!(h.await.unwrap(), 5);
                // And one whose handle is dropped before it finishes.
                let h = weft::spawn(async {
                    weft::task::yield_now().await;
                });
                drop(h);
                weft::task::yield_now().await;
            }
        });
        drop(rt);
        assert_eq!(c.drops(), 1);
        let t = std::thread::spawn(|| {
            for _ in 0..100 {
                let w = KEPT.lock().unwrap().clone().unwrap();
                w.wake_by_ref();
                w.wake();
            }
            // The last reference goes from this thread: frees the task.
            KEPT.lock().unwrap().take().unwrap().wake();
        });
        t.join().unwrap();
        figure!(
            name,
            "200 wakes and the final drop from another thread: no effect, polls {}",
            c.polls()
        );
        assert_eq!(c.polls(), 1);
    });
}

#[test]
fn s11_sleeper_beside_an_always_ready_task() {
    let name = test_name!(s11_sleeper_beside_an_always_ready_task);
    util::isolated(name, Duration::from_secs(30), || {
        util::rt().block_on(async {
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let spinner = weft::spawn({
                let stop = stop.clone();
                async move {
                    let mut n = 0u64;
                    while !stop.load(SeqCst) {
                        // Always ready: never returns Pending on its own.
                        std::hint::black_box(&mut n);
                        n += 1;
                        weft::task::yield_now().await;
                    }
                    n
                }
            });
            // And one whose reads never return Pending: a socket at EOF.
            // Only the cooperative budget makes it yield.
            let (mut eof, peer) = util::tcp_pair().await;
            peer.shutdown(std::net::Shutdown::Write).unwrap();
            let reader = weft::spawn({
                let stop = stop.clone();
                async move {
                    let mut reads = 0u64;
                    let mut b = [0u8; 1];
                    while !stop.load(SeqCst) {
                        assert_eq!(eof.read(&mut b).await.unwrap(), 0);
                        reads += 1;
                    }
                    drop(peer);
                    reads
                }
            });
            let sleeper = weft::spawn(async {
                let (mut late, mut ours) = (Vec::new(), Vec::new());
                for _ in 0..50 {
                    let (t, q) = (Instant::now(), util::run_delay());
                    weft::time::sleep(Duration::from_millis(10)).await;
                    let l = t.elapsed().saturating_sub(Duration::from_millis(10));
                    late.push(l);
                    // Less the time the OS kept this thread off the CPU.
                    ours.push(l.saturating_sub(util::run_delay() - q));
                }
                (late, ours)
            });
            let (mut late, mut ours) = sleeper.await.unwrap();
            stop.store(true, SeqCst);
            let spins = spinner.await.unwrap();
            let reads = reader.await.unwrap();
            let (p50, max) = (util::quantile(&mut late, 0.5), util::quantile(&mut late, 1.0));
            let ours_max = util::quantile(&mut ours, 1.0);
            figure!(
                name,
                "50 sleeps of 10 ms beside a yielding task ({spins} polls) and an EOF reader ({reads} reads): late-by p50 {p50:.2?}, max {max:.2?} ({ours_max:.2?} without the time the OS kept the thread waiting for a CPU)"
            );
            assert!(ours_max < Duration::from_millis(50), "late by {max:?} ({ours_max:?} ours)");
        });
    });
}
