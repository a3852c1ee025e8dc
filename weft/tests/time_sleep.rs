//! `sleep` and `sleep_until` on the real runtime: deadline order, cancel
//! before and after expiry, `Sleep::reset` (also from another thread while
//! the loop is parked), absurd durations, every level of the wheel, a
//! `Sleep` moved between runtimes, and a runtime dropped while tasks sleep.

// Some tests hand a registered `Sleep` out of `block_on` on purpose.
#![allow(clippy::async_yields_async)]

mod support;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use support::{pending_forever, plain_block_on, watchdog, yield_n, Counters, Track, WakerSlot};
use weft::time::{sleep, sleep_until, Instant, Sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused_rt() -> weft::Runtime {
    weft::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Poll `sleep` once with the current task's waker (registering its timer).
async fn poll_once(sleep: &mut Sleep) -> Poll<()> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *sleep).poll(cx))).await
}

/// A fixed permutation of `0..n` (multiplication by a unit mod a prime).
fn shuffled(n: u64) -> Vec<u64> {
    const P: u64 = 1_009;
    assert!(n <= P);
    (1..=P).map(|i| (i * 617) % P).filter(|&v| v < n).collect()
}

#[test]
fn many_deadlines_complete_in_deadline_order_paused() {
    let _w = watchdog("many_deadlines_complete_in_deadline_order_paused", 20);
    let rt = paused_rt();
    let wall = std::time::Instant::now();
    let order = rt.block_on(async {
        let start = Instant::now();
        let done = Arc::new(Mutex::new(Vec::new()));
        // 500 tasks, deadlines 0..250 ms (each twice), spawned in shuffled order.
        let handles: Vec<_> = shuffled(500)
            .into_iter()
            .map(|i| {
                let done = done.clone();
                let d = ms(i / 2);
                weft::spawn(async move {
                    sleep(d).await;
                    let late = Instant::now() - start;
                    assert!(late >= d, "{d:?} sleep woke early at {late:?}");
                    assert!(late < d + ms(1), "{d:?} sleep woke late at {late:?}");
                    done.lock().unwrap().push(d);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        Arc::try_unwrap(done).unwrap().into_inner().unwrap()
    });
    assert_eq!(order.len(), 500);
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert!(wall.elapsed() < Duration::from_secs(5));
}

#[test]
fn many_deadlines_complete_in_deadline_order_real_clock() {
    let _w = watchdog("many_deadlines_complete_in_deadline_order_real_clock", 20);
    let rt = weft::Runtime::new().unwrap();
    let order = rt.block_on(async {
        let done = Arc::new(Mutex::new(Vec::new()));
        // Deadlines 2 ms apart, from 1 to 79 ms, spawned in shuffled order.
        let handles: Vec<_> = shuffled(40)
            .into_iter()
            .map(|i| {
                let done = done.clone();
                let deadline = Instant::now() + ms(1 + 2 * i);
                weft::spawn(async move {
                    sleep_until(deadline).await;
                    let now = std::time::Instant::now();
                    assert!(now >= deadline.into_std(), "woke before its deadline");
                    done.lock().unwrap().push(deadline);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        Arc::try_unwrap(done).unwrap().into_inner().unwrap()
    });
    assert_eq!(order.len(), 40);
    assert!(order.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn timers_at_every_level_of_the_wheel_fire_exactly_on_time() {
    let _w = watchdog(
        "timers_at_every_level_of_the_wheel_fire_exactly_on_time",
        20,
    );
    const HOUR: u64 = 3_600_000;
    // Level 0 (< 64 ms) to level 5 (< about 2 years), and the edges between levels.
    let delays = [
        1,
        63,
        64,
        100,
        4_095,
        4_096,
        10_000,
        262_143,
        262_144,
        HOUR,
        5 * HOUR,
        48 * HOUR,
        100 * 24 * HOUR,
    ];
    let rt = paused_rt();
    let wall = std::time::Instant::now();
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = delays
            .iter()
            .rev()
            .map(|&d| {
                weft::spawn(async move {
                    sleep(ms(d)).await;
                    Instant::now() - start
                })
            })
            .collect();
        for (h, &d) in handles.into_iter().zip(delays.iter().rev()) {
            assert_eq!(h.await.unwrap(), ms(d), "a {d} ms sleep");
        }
        // One at a time too: each alone in the wheel, armed at a non-zero clock.
        for &d in &delays {
            let before = Instant::now();
            sleep(ms(d)).await;
            assert_eq!(Instant::now() - before, ms(d), "a lone {d} ms sleep");
        }
    });
    assert!(
        wall.elapsed() < Duration::from_secs(2),
        "{:?}",
        wall.elapsed()
    );
}

#[test]
fn a_sleep_dropped_before_expiry_never_wakes_its_task() {
    let _w = watchdog("a_sleep_dropped_before_expiry_never_wakes_its_task", 20);
    for rt in [weft::Runtime::new().unwrap(), paused_rt()] {
        rt.block_on(async {
            let c = Counters::new();
            let task = weft::spawn(Track::new(
                async {
                    let mut s = sleep(ms(5));
                    assert!(poll_once(&mut s).await.is_pending());
                    drop(s);
                    pending_forever().await;
                },
                &c,
            ));
            sleep(ms(30)).await;
            assert_eq!(c.polls(), 1, "woken by a dropped sleep");
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert_eq!(c.drops(), 1);
        });
    }
}

#[test]
fn a_fired_sleep_dropped_unpolled_and_a_completed_sleep_dropped() {
    let _w = watchdog(
        "a_fired_sleep_dropped_unpolled_and_a_completed_sleep_dropped",
        20,
    );
    let rt = paused_rt();
    rt.block_on(async {
        let c = Counters::new();
        let slot = WakerSlot::new();
        let task = weft::spawn(Track::new(
            {
                let slot = slot.clone();
                async move {
                    let mut s = sleep(ms(5));
                    assert!(poll_once(&mut s).await.is_pending());
                    // Woken by the timer (second poll): wait for the slot instead; the
                    // fired sleep is dropped here without being polled again.
                    slot.wait().await;
                    drop(s);
                    // A completed sleep, dropped after completion.
                    let mut done = sleep(ms(1));
                    (&mut done).await;
                    assert!(done.is_elapsed());
                    drop(done);
                    pending_forever().await;
                }
            },
            &c,
        ));
        sleep(ms(10)).await;
        assert_eq!(c.polls(), 2, "one poll at spawn, one from the timer");
        slot.set_ready();
        sleep(ms(10)).await;
        // 3: the slot; 4: the 1 ms sleep. Nothing after.
        assert_eq!(c.polls(), 4);
        sleep(ms(100)).await;
        assert_eq!(c.polls(), 4, "woken by a sleep already dropped");
        task.abort();
        let _ = task.await;
    });
}

#[test]
fn a_dropped_long_sleep_leaves_nothing_for_the_paused_clock_to_jump_to() {
    let _w = watchdog("a_dropped_long_sleep_leaves_nothing", 20);
    let rt = paused_rt();
    let slot = WakerSlot::new();
    let waker_thread = {
        let slot = slot.clone();
        std::thread::spawn(move || {
            std::thread::sleep(ms(50));
            slot.set_ready();
        })
    };
    let jumped = rt.block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(3_600));
        assert!(poll_once(&mut s).await.is_pending());
        drop(s);
        // Idle with no timer: the paused clock must not move while we wait for the thread.
        slot.wait().await;
        Instant::now() - start
    });
    waker_thread.join().unwrap();
    assert_eq!(
        jumped,
        Duration::ZERO,
        "the clock jumped to a dropped timer"
    );
}

#[test]
fn reset_moves_the_deadline_earlier_later_and_after_completion() {
    let _w = watchdog(
        "reset_moves_the_deadline_earlier_later_and_after_completion",
        20,
    );
    let rt = paused_rt();
    rt.block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(3_600));
        assert!(poll_once(&mut s).await.is_pending());
        // Earlier, while registered.
        Pin::new(&mut s).reset(start + ms(5));
        assert_eq!(s.deadline(), start + ms(5));
        (&mut s).await;
        assert_eq!(Instant::now() - start, ms(5));
        assert!(s.is_elapsed());
        // After completion: it can be awaited again.
        Pin::new(&mut s).reset(Instant::now() + ms(10));
        assert!(!s.is_elapsed());
        (&mut s).await;
        assert_eq!(Instant::now() - start, ms(15));
        // Later, while registered: the old deadline does not complete it.
        Pin::new(&mut s).reset(Instant::now() + ms(5));
        assert!(poll_once(&mut s).await.is_pending());
        Pin::new(&mut s).reset(start + ms(50));
        let probe = weft::spawn(async move {
            sleep_until(start + ms(30)).await;
        });
        probe.await.unwrap();
        assert!(
            poll_once(&mut s).await.is_pending(),
            "completed at the old deadline"
        );
        (&mut s).await;
        assert_eq!(Instant::now() - start, ms(50));
        // Into the past: ready at once.
        Pin::new(&mut s).reset(start);
        assert!(poll_once(&mut s).await.is_ready());
    });
}

#[test]
fn reset_from_another_thread_wakes_the_parked_loop() {
    let _w = watchdog("reset_from_another_thread_wakes_the_parked_loop", 20);
    let rt = weft::Runtime::new().unwrap();
    let shared = Arc::new(Mutex::new(sleep(Duration::from_secs(3_600))));
    let resetter = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            std::thread::sleep(ms(50));
            let deadline = Instant::now() + ms(10);
            Pin::new(&mut *shared.lock().unwrap()).reset(deadline);
            deadline
        })
    };
    let woke = rt.block_on(poll_fn(|cx| {
        let mut s = shared.lock().unwrap();
        Pin::new(&mut *s)
            .poll(cx)
            .map(|()| std::time::Instant::now())
    }));
    let deadline = resetter.join().unwrap();
    assert!(
        woke >= deadline.into_std(),
        "completed before the new deadline"
    );
    let late = woke - deadline.into_std();
    assert!(
        late < Duration::from_secs(2),
        "late by {late:?}: the loop slept on"
    );
}

#[test]
fn sleep_zero_and_past_deadlines_complete_without_waiting() {
    let _w = watchdog("sleep_zero_and_past_deadlines_complete_without_waiting", 20);
    for rt in [weft::Runtime::new().unwrap(), paused_rt()] {
        rt.block_on(async {
            let start = Instant::now();
            assert!(poll_once(&mut sleep(Duration::ZERO)).await.is_ready());
            assert!(poll_once(&mut sleep_until(start)).await.is_ready());
            let past = start.checked_sub(Duration::from_secs(1)).unwrap_or(start);
            assert!(poll_once(&mut sleep_until(past)).await.is_ready());
            for _ in 0..1_000 {
                sleep(Duration::ZERO).await;
            }
        });
    }
}

#[test]
fn absurd_durations_sleep_until_dropped() {
    let _w = watchdog("absurd_durations_sleep_until_dropped", 20);
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let now = Instant::now();
        let thirty_years = Duration::from_secs(86_400 * 365 * 29);
        let mut forever = sleep(Duration::MAX);
        assert!(forever.deadline() - now > thirty_years);
        assert!(poll_once(&mut forever).await.is_pending());
        drop(forever);

        // Far beyond what the wheel's levels cover, and beyond u64 milliseconds.
        let far = [
            now.checked_add(Duration::from_secs(86_400 * 365 * 1_000)),
            now.checked_add(Duration::from_secs(u64::MAX / 4)),
        ];
        let mut tasks = Vec::new();
        for deadline in far.into_iter().flatten() {
            let mut s = sleep_until(deadline);
            assert!(poll_once(&mut s).await.is_pending());
            drop(s);
            tasks.push(weft::spawn(sleep_until(deadline)));
        }
        tasks.push(weft::spawn(sleep(Duration::MAX)));
        tasks.push(weft::spawn(sleep(Duration::new(u64::MAX, 999_999_999))));
        sleep(ms(20)).await;
        for t in tasks {
            assert!(!t.is_finished());
            t.abort();
            assert!(t.await.unwrap_err().is_cancelled());
        }
        // The runtime still keeps time after all that.
        let before = Instant::now();
        sleep(ms(2)).await;
        assert!(Instant::now() - before >= ms(2));
    });
}

#[test]
fn a_sleep_moved_to_another_runtimes_task_completes_there() {
    let _w = watchdog("a_sleep_moved_to_another_runtimes_task_completes_there", 20);
    let rt1 = weft::Runtime::new().unwrap();
    let rt2 = weft::Runtime::new().unwrap();
    // Registered with rt1, then awaited by a task of rt2 on another thread.
    let s = rt1.block_on(async {
        let mut s = sleep(ms(30));
        assert!(poll_once(&mut s).await.is_pending());
        s
    });
    let deadline = s.deadline();
    let other = std::thread::spawn(move || {
        rt2.block_on(async move {
            weft::spawn(s).await.unwrap();
            std::time::Instant::now()
        })
    });
    let done = other.join().unwrap();
    assert!(done >= deadline.into_std(), "completed early");
    // rt1 is still usable and has nothing left to fire.
    rt1.block_on(sleep(ms(1)));
}

#[test]
fn a_sleep_outliving_its_runtime_moves_to_the_next_one_or_panics_clearly() {
    let _w = watchdog("a_sleep_outliving_its_runtime", 20);
    let rt1 = weft::Runtime::new().unwrap();
    let (mut a, mut b) = rt1.block_on(async {
        let mut a = sleep(ms(20));
        let mut b = sleep(Duration::from_secs(3_600));
        assert!(poll_once(&mut a).await.is_pending());
        assert!(poll_once(&mut b).await.is_pending());
        (a, b)
    });
    drop(rt1);
    // Awaited inside another runtime: it moves there and completes on time.
    let rt2 = weft::Runtime::new().unwrap();
    rt2.block_on(async {
        (&mut a).await;
        assert!(Instant::now() >= a.deadline());
    });
    // Polled outside any runtime before its deadline: a clear panic, not a hang.
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| support::poll_once(&mut b)))
        .expect_err("polling a sleep with no runtime must panic");
    let msg = support::panic_message(&*err).unwrap_or_default();
    assert!(msg.contains("shut down"), "unclear message: {msg}");
}

#[test]
fn dropping_the_runtime_while_tasks_sleep_drops_their_futures() {
    let _w = watchdog(
        "dropping_the_runtime_while_tasks_sleep_drops_their_futures",
        20,
    );
    for rt in [weft::Runtime::new().unwrap(), paused_rt()] {
        let c = Counters::new();
        let handles = rt.block_on({
            let c = c.clone();
            async move {
                let handles: Vec<_> = (0..1_000u64)
                    .map(|i| weft::spawn(Track::new(sleep(Duration::from_secs(3_600 + i)), &c)))
                    .collect();
                // Let every task run once (the loop polls a bounded batch per turn).
                for _ in 0..1_000 {
                    if c.polls() == 1_000 {
                        break;
                    }
                    yield_n(1).await;
                }
                assert_eq!(c.polls(), 1_000);
                handles
            }
        });
        let start = std::time::Instant::now();
        drop(rt);
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(c.drops(), 1_000, "every sleeping future dropped once");
        for h in handles {
            assert!(plain_block_on(h).unwrap_err().is_cancelled());
        }
    }
}
