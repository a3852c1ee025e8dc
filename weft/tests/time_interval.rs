//! `interval` on the real runtime with a paused clock: the schedule, each
//! `MissedTickBehavior` after the task fell behind, the resets, and absurd
//! periods.

mod support;

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use support::watchdog;
use weft::time::{advance, interval, interval_at, Instant, Interval, MissedTickBehavior};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused_rt() -> weft::Runtime {
    weft::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Offsets from `start` in whole milliseconds.
fn off(start: Instant, t: Instant) -> u64 {
    u64::try_from((t - start).as_millis()).unwrap()
}

/// One tick: (its scheduled offset, the clock's offset when it completed).
async fn tick(i: &mut Interval, start: Instant) -> (u64, u64) {
    let at = i.tick().await;
    (off(start, at), off(start, Instant::now()))
}

#[test]
fn ticks_every_period_from_the_first_immediate_tick() {
    let _w = watchdog("ticks_every_period_from_the_first_immediate_tick", 20);
    paused_rt().block_on(async {
        let start = Instant::now();
        let mut i = interval(ms(10));
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(tick(&mut i, start).await);
        }
        assert_eq!(got, [(0, 0), (10, 10), (20, 20), (30, 30), (40, 40)]);

        let mut j = interval_at(start + ms(100), ms(7));
        assert_eq!(tick(&mut j, start).await, (100, 100));
        assert_eq!(tick(&mut j, start).await, (107, 107));
    });
}

/// Ticks at 0, then the task falls 35 ms behind a 10 ms interval, then ticks 4 more times.
fn late_ticks(behavior: MissedTickBehavior) -> Vec<(u64, u64)> {
    paused_rt().block_on(async {
        let start = Instant::now();
        let mut i = interval(ms(10));
        i.set_missed_tick_behavior(behavior);
        assert_eq!(i.missed_tick_behavior(), behavior);
        let mut got = vec![tick(&mut i, start).await];
        advance(ms(35)).await;
        for _ in 0..4 {
            got.push(tick(&mut i, start).await);
        }
        got
    })
}

#[test]
fn burst_fires_the_missed_ticks_at_once_then_keeps_the_schedule() {
    let _w = watchdog("burst_fires_the_missed_ticks", 20);
    assert_eq!(
        late_ticks(MissedTickBehavior::Burst),
        [(0, 0), (10, 35), (20, 35), (30, 35), (40, 40)]
    );
    assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    let _w = watchdog("delay_restarts_the_schedule", 20);
    assert_eq!(
        late_ticks(MissedTickBehavior::Delay),
        [(0, 0), (10, 35), (45, 45), (55, 55), (65, 65)]
    );
}

#[test]
fn skip_drops_the_missed_ticks_and_keeps_the_grid() {
    let _w = watchdog("skip_drops_the_missed_ticks", 20);
    assert_eq!(
        late_ticks(MissedTickBehavior::Skip),
        [(0, 0), (10, 35), (40, 40), (50, 50), (60, 60)]
    );
}

#[test]
fn a_tick_a_little_late_is_not_a_missed_tick() {
    let _w = watchdog("a_tick_a_little_late_is_not_a_missed_tick", 20);
    for behavior in [MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
        let got = paused_rt().block_on(async move {
            let start = Instant::now();
            let mut i = interval(ms(10));
            i.set_missed_tick_behavior(behavior);
            i.tick().await;
            advance(ms(13)).await; // 3 ms late: within the slack, the grid is kept
            vec![tick(&mut i, start).await, tick(&mut i, start).await]
        });
        assert_eq!(got, [(10, 13), (20, 20)], "{behavior:?}");
    }
}

#[test]
fn resets_move_the_next_tick() {
    let _w = watchdog("resets_move_the_next_tick", 20);
    paused_rt().block_on(async {
        let start = Instant::now();
        let mut i = interval(ms(10));
        assert_eq!(tick(&mut i, start).await, (0, 0));
        advance(ms(4)).await;
        i.reset(); // next at 4 + 10
        assert_eq!(tick(&mut i, start).await, (14, 14));
        i.reset_immediately();
        assert_eq!(tick(&mut i, start).await, (14, 14));
        i.reset_after(ms(3));
        assert_eq!(tick(&mut i, start).await, (17, 17));
        i.reset_at(start + ms(100));
        assert_eq!(tick(&mut i, start).await, (100, 100));
        assert_eq!(tick(&mut i, start).await, (110, 110));
    });
}

#[test]
fn a_pending_tick_dropped_consumes_nothing() {
    let _w = watchdog("a_pending_tick_dropped_consumes_nothing", 20);
    paused_rt().block_on(async {
        let start = Instant::now();
        let mut i = interval(ms(10));
        i.tick().await;
        // Poll the next tick once and drop it.
        let polled = poll_fn(|cx| Poll::Ready(i.poll_tick(cx))).await;
        assert!(polled.is_pending());
        assert_eq!(tick(&mut i, start).await, (10, 10));
    });
}

#[test]
fn absurd_periods_are_clamped_not_spun_or_overflowed() {
    let _w = watchdog("absurd_periods_are_clamped_not_spun_or_overflowed", 20);
    paused_rt().block_on(async {
        let start = Instant::now();
        // A zero period is raised to the 1 ms resolution.
        let mut zero = interval(Duration::ZERO);
        assert_eq!(zero.period(), ms(1));
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(tick(&mut zero, start).await);
        }
        assert_eq!(got, [(0, 0), (1, 1), (2, 2)]);
    });
    weft::Runtime::new().unwrap().block_on(async {
        // Duration::MAX: the first tick at once, the next one "never".
        let mut max = interval(Duration::MAX);
        assert_eq!(max.period(), Duration::MAX);
        max.tick().await;
        let second = poll_fn(|cx| Poll::Ready(max.poll_tick(cx))).await;
        assert!(second.is_pending());
        weft::time::sleep(ms(5)).await;
        let second = poll_fn(|cx| Poll::Ready(max.poll_tick(cx))).await;
        assert!(second.is_pending());
        // And with every behaviour after a late tick.
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let mut i = interval_at(Instant::now(), Duration::MAX);
            i.set_missed_tick_behavior(behavior);
            weft::time::sleep(ms(10)).await; // late for the first tick
            i.tick().await;
            let next = poll_fn(|cx| Poll::Ready(i.poll_tick(cx))).await;
            assert!(next.is_pending(), "{behavior:?}");
        }
    });
}
