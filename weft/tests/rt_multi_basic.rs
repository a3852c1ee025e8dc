//! The multi-thread runtime: spawning from inside and outside, handles,
//! work spreading across workers, timers, the blocking pool, `spawn_local`
//! refused, and shutdown.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use support::{pending_forever, watchdog, Counters, Track};
use weft::runtime::{Builder, Handle};

fn rt(workers: usize) -> weft::Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn spawn_and_join_from_block_on() {
    let _w = watchdog("spawn_and_join_from_block_on", 30);
    let rt = rt(2);
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..1000u64)
            .map(|i| weft::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 999 * 1000 / 2);
}

#[test]
fn tasks_run_on_named_worker_threads() {
    let _w = watchdog("tasks_run_on_named_worker_threads", 30);
    let rt = rt(2);
    let name = rt.block_on(async {
        weft::spawn(async { std::thread::current().name().map(String::from) })
            .await
            .unwrap()
    });
    assert!(name.unwrap().starts_with("weft-worker-"));
}

/// Two tasks spawned from one worker block until both run: the second can
/// only run if the other worker steals it.
#[test]
fn an_idle_worker_steals_from_a_busy_one() {
    let _w = watchdog("an_idle_worker_steals_from_a_busy_one", 30);
    let rt = rt(2);
    rt.block_on(async {
        weft::spawn(async {
            let barrier = Arc::new(Barrier::new(2));
            let b = barrier.clone();
            let other = weft::spawn(async move {
                b.wait();
                std::thread::current().id()
            });
            // Block this worker until the other task runs elsewhere.
            barrier.wait();
            let here = std::thread::current().id();
            assert_ne!(other.await.unwrap(), here);
        })
        .await
        .unwrap();
    });
}

#[test]
fn handle_spawns_from_a_plain_thread() {
    let _w = watchdog("handle_spawns_from_a_plain_thread", 30);
    let rt = rt(2);
    let handle = rt.handle();
    let joins: Vec<_> = std::thread::spawn(move || {
        (0..100)
            .map(|i| handle.spawn(async move { i * 2 }))
            .collect()
    })
    .join()
    .unwrap();
    let total: i32 = rt.block_on(async {
        let mut t = 0;
        for j in joins {
            t += j.await.unwrap();
        }
        t
    });
    assert_eq!(total, 99 * 100);
}

#[test]
fn handle_current_inside_a_task_is_the_runtime() {
    let _w = watchdog("handle_current_inside_a_task_is_the_runtime", 30);
    let rt = rt(2);
    let outer = rt.handle();
    let inner = rt.block_on(async { weft::spawn(async { Handle::current() }).await.unwrap() });
    assert!(outer.ptr_eq(&inner));
    assert!(Handle::try_current().is_none());
}

#[test]
fn timers_fire_on_workers() {
    let _w = watchdog("timers_fire_on_workers", 30);
    let rt = rt(2);
    let start = Instant::now();
    rt.block_on(async {
        let hs: Vec<_> = (0..50)
            .map(|i| {
                weft::spawn(async move {
                    weft::time::sleep(Duration::from_millis(10 + i % 10)).await;
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(10), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_task_is_woken_from_spawn_blocking() {
    let _w = watchdog("a_task_is_woken_from_spawn_blocking", 30);
    let rt = rt(2);
    let n = rt.block_on(async {
        weft::spawn(async {
            let mut n = 0;
            for i in 0..20u32 {
                n += weft::spawn_blocking(move || {
                    std::thread::sleep(Duration::from_millis(1));
                    i
                })
                .await
                .unwrap();
            }
            n
        })
        .await
        .unwrap()
    });
    assert_eq!(n, 190);
}

#[test]
fn spawn_local_panics_with_a_clear_message() {
    let _w = watchdog("spawn_local_panics_with_a_clear_message", 30);
    let rt = rt(1);
    let res = rt.block_on(async {
        weft::spawn(async {
            let r = std::panic::catch_unwind(|| {
                weft::spawn_local(async {});
            });
            r.err()
                .and_then(|p| support::panic_message(&*p))
                .unwrap_or_default()
        })
        .await
        .unwrap()
    });
    assert!(res.contains("multi-thread runtime"), "{res}");
}

#[test]
fn dropping_the_runtime_drops_every_task() {
    let _w = watchdog("dropping_the_runtime_drops_every_task", 30);
    let c = Counters::new();
    let rt = rt(2);
    let handle = rt.handle();
    rt.block_on({
        let c = c.clone();
        async move {
            for _ in 0..100 {
                weft::spawn(Track::new(pending_forever(), &c));
            }
            // Some never polled: spawned from outside after the others.
            for _ in 0..100 {
                handle.spawn(Track::new(pending_forever(), &c));
            }
            while c.polls() < 100 {
                weft::task::yield_now().await;
            }
        }
    });
    drop(rt);
    assert_eq!(c.drops(), 200);
}

#[test]
fn spawn_after_shutdown_drops_the_future() {
    let _w = watchdog("spawn_after_shutdown_drops_the_future", 30);
    let c = Counters::new();
    let rt = rt(2);
    let handle = rt.handle();
    drop(rt);
    let j = handle.spawn(Track::new(async { 1 }, &c));
    assert_eq!(c.drops(), 1);
    assert_eq!(c.polls(), 0);
    assert!(support::plain_block_on(j).unwrap_err().is_cancelled());
}

#[test]
fn shutdown_timeout_bounds_a_blocked_worker() {
    let _w = watchdog("shutdown_timeout_bounds_a_blocked_worker", 30);
    let rt = rt(2);
    let release = Arc::new(Mutex::new(()));
    let hold = release.lock().unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    {
        let (release, started) = (release.clone(), started.clone());
        rt.spawn(async move {
            started.store(1, SeqCst);
            // Blocks its worker until the test lets go.
            drop(release.lock());
        });
    }
    assert!(support::wait_until(Duration::from_secs(10), || started
        .load(SeqCst)
        == 1));
    let t = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(100));
    let took = t.elapsed();
    drop(hold);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn default_worker_count_runs() {
    let _w = watchdog("default_worker_count_runs", 30);
    let rt = Builder::new_multi_thread().build().unwrap();
    assert_eq!(
        rt.block_on(async { weft::spawn(async { 3 }).await.unwrap() }),
        3
    );
}

#[weft::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_macro_builds_a_multi_thread_runtime() {
    let name = weft::spawn(async { std::thread::current().name().map(String::from) })
        .await
        .unwrap();
    assert!(name.unwrap().starts_with("weft-worker-"));
}

#[test]
fn block_on_inside_a_worker_panics() {
    let _w = watchdog("block_on_inside_a_worker_panics", 30);
    let rt = rt(2);
    let msg = rt.block_on(async {
        weft::spawn(async {
            let r = std::panic::catch_unwind(|| weft::block_on(async {}));
            r.err()
                .and_then(|p| support::panic_message(&*p))
                .unwrap_or_default()
        })
        .await
        .unwrap()
    });
    assert!(msg.contains("cannot start `block_on`"), "{msg}");
}

#[test]
fn dropping_the_runtime_inside_its_own_task_does_not_hang() {
    let _w = watchdog("dropping_the_runtime_inside_its_own_task_does_not_hang", 30);
    let rt = rt(2);
    let handle = rt.handle();
    let slot = Arc::new(Mutex::new(Some(rt)));
    let s2 = slot.clone();
    let done = Arc::new(AtomicUsize::new(0));
    let d2 = done.clone();
    handle.spawn(async move {
        let rt = s2.lock().unwrap().take();
        drop(rt);
        d2.store(1, SeqCst);
    });
    assert!(support::wait_until(Duration::from_secs(10), || done
        .load(SeqCst)
        == 1));
}

#[test]
fn start_paused_is_refused_on_the_multi_thread_runtime() {
    let err = Builder::new_multi_thread()
        .start_paused(true)
        .build()
        .err()
        .unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("current-thread"), "{err}");
}

/// A task that polls for 300 ms without yielding takes one worker; timers
/// keep firing on time on the other, which stays in the driver.
#[test]
fn timers_stay_on_time_beside_a_long_poll() {
    let _w = watchdog("timers_stay_on_time_beside_a_long_poll", 30);
    let rt = rt(2);
    let worst = rt.block_on(async {
        let ticker = weft::spawn(async {
            let mut worst = Duration::ZERO;
            for _ in 0..40 {
                let t = Instant::now();
                weft::time::sleep(Duration::from_millis(5)).await;
                worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(5)));
            }
            worst
        });
        // Let both workers go idle, then start the long poll from outside.
        std::thread::sleep(Duration::from_millis(20));
        let hog = weft::spawn(async {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(300) {
                std::hint::spin_loop();
            }
        });
        hog.await.unwrap();
        ticker.await.unwrap()
    });
    assert!(
        worst < Duration::from_millis(100),
        "worst lateness {worst:?}"
    );
}
