//! The paused clock on the real runtime: `start_paused`, `pause`, `resume`,
//! `advance`, and the idle runtime jumping straight to the next deadline.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use support::{watchdog, WakerSlot};
use weft::time::{advance, pause, resume, sleep, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused_rt() -> weft::Runtime {
    weft::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn a_paused_clock_stands_still_while_tasks_run() {
    let _w = watchdog("a_paused_clock_stands_still_while_tasks_run", 20);
    paused_rt().block_on(async {
        let start = Instant::now();
        std::thread::sleep(ms(20));
        weft::spawn(async {}).await.unwrap();
        assert_eq!(Instant::now(), start);
    });
}

#[test]
fn advance_fires_what_became_due_and_runs_it_before_returning() {
    let _w = watchdog("advance_fires_what_became_due", 20);
    paused_rt().block_on(async {
        let fired = Arc::new(AtomicUsize::new(0));
        for d in [10, 20, 20, 30] {
            let fired = fired.clone();
            weft::spawn(async move {
                sleep(ms(d)).await;
                fired.fetch_add(1, SeqCst);
            });
        }
        weft::task::yield_now().await; // let them register
        advance(ms(9)).await;
        assert_eq!(fired.load(SeqCst), 0);
        advance(ms(1)).await;
        assert_eq!(fired.load(SeqCst), 1);
        advance(ms(10)).await;
        assert_eq!(fired.load(SeqCst), 3);
        advance(Duration::from_secs(3_600)).await;
        assert_eq!(fired.load(SeqCst), 4);
    });
}

#[test]
fn an_idle_runtime_jumps_to_each_deadline_in_turn() {
    let _w = watchdog("an_idle_runtime_jumps_to_each_deadline_in_turn", 20);
    let wall = std::time::Instant::now();
    paused_rt().block_on(async {
        let start = Instant::now();
        // A day of hourly sleeps, each exactly on time.
        for hour in 1..=24u64 {
            sleep(Duration::from_secs(3_600)).await;
            assert_eq!(Instant::now() - start, Duration::from_secs(3_600 * hour));
        }
    });
    assert!(wall.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_paused_runtime_waits_for_io_and_wakes_from_other_threads_before_jumping() {
    let _w = watchdog("a_paused_runtime_waits_for_other_threads", 20);
    // With no timer pending, the paused runtime sleeps until the cross-thread wake
    // (the clock does not move), and then keeps time as before.
    let rt = paused_rt();
    let slot = WakerSlot::new();
    let t = {
        let slot = slot.clone();
        std::thread::spawn(move || {
            std::thread::sleep(ms(30));
            slot.set_ready();
        })
    };
    rt.block_on(async {
        let start = Instant::now();
        slot.wait().await;
        assert_eq!(Instant::now(), start);
        sleep(ms(5)).await;
        assert_eq!(Instant::now() - start, ms(5));
    });
    t.join().unwrap();
}

#[test]
fn pause_and_resume_inside_a_running_runtime() {
    let _w = watchdog("pause_and_resume_inside_a_running_runtime", 20);
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        pause();
        pause(); // twice is fine
        let frozen = Instant::now();
        std::thread::sleep(ms(5));
        assert_eq!(Instant::now(), frozen);
        // A long sleep on the paused clock completes at once.
        let wall = std::time::Instant::now();
        sleep(Duration::from_secs(600)).await;
        assert!(Instant::now() - frozen >= Duration::from_secs(600));
        assert!(wall.elapsed() < Duration::from_secs(1));
        resume();
        resume();
        // Real time again, from where the clock stood.
        let t0 = Instant::now();
        let wall = std::time::Instant::now();
        sleep(ms(10)).await;
        assert!(wall.elapsed() >= ms(10), "a real 10 ms sleep after resume");
        assert!(Instant::now() - t0 >= ms(10));
    });
}

#[test]
fn advance_on_a_running_clock_waits_instead() {
    let _w = watchdog("advance_on_a_running_clock_waits_instead", 20);
    weft::Runtime::new().unwrap().block_on(async {
        let wall = std::time::Instant::now();
        advance(ms(10)).await;
        assert!(wall.elapsed() >= ms(10));
    });
}

#[test]
fn clocks_are_per_runtime() {
    let _w = watchdog("clocks_are_per_runtime", 20);
    let real = weft::Runtime::new().unwrap();
    let (paused_now, std_then) = paused_rt().block_on(async {
        sleep(Duration::from_secs(86_400)).await;
        (Instant::now(), std::time::Instant::now())
    });
    real.block_on(async {
        // The other runtime's day did not reach this one.
        let now = Instant::now();
        assert!(now.into_std() < std_then + Duration::from_secs(60));
        assert!(paused_now > now + Duration::from_secs(80_000));
    });
}

#[test]
fn clock_functions_outside_a_runtime_panic_with_a_clear_message() {
    for f in [pause as fn(), resume as fn()] {
        let err = std::panic::catch_unwind(f).expect_err("must panic outside a runtime");
        let msg = support::panic_message(&*err).unwrap_or_default();
        assert!(msg.contains("outside a weft runtime"), "{msg}");
    }
}
