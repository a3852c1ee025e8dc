//! Scenario 13: absurd timers and timer accuracy on the real clock. Beside
//! `time_sleep::absurd_durations_sleep_until_dropped` and
//! `time_idle::a_thousand_sub_millisecond_sleeps_*` (default backend only),
//! this runs on the backend under test and measures.

use std::time::{Duration, Instant as StdInstant};

use weft::time::{interval, sleep, sleep_until, timeout, timeout_at, Instant};

use crate::util::{self, figure, test_name};

/// The latest instant `now + d` that does not overflow.
fn near_overflow(now: Instant) -> Instant {
    let (mut lo, mut hi) = (0u64, u64::MAX);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if now.checked_add(Duration::from_secs(mid)).is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    now.checked_add(Duration::from_secs(lo)).unwrap()
}

#[test]
fn s13_interval_of_10ms_for_10s_beside_absurd_timers() {
    let name = test_name!(s13_interval_of_10ms_for_10s_beside_absurd_timers);
    util::isolated(name, Duration::from_secs(40), || {
        util::rt().block_on(async {
            let now = Instant::now();
            let edge = near_overflow(now);
            let absurd = vec![
                weft::spawn(async { sleep(Duration::MAX).await }),
                weft::spawn(async { sleep(Duration::new(u64::MAX, 999_999_999)).await }),
                weft::spawn(async move { sleep_until(edge).await }),
                weft::spawn(async move {
                    sleep_until(edge.checked_sub(Duration::from_secs(1)).unwrap()).await
                }),
                weft::spawn(async {
                    let mut i = interval(Duration::MAX);
                    i.tick().await; // the first tick is at once
                    i.tick().await;
                }),
                weft::spawn(async {
                    // timeout(MAX) of a pending future, and at the edge.
                    let _ = timeout(Duration::MAX, std::future::pending::<()>()).await;
                }),
                weft::spawn(async move {
                    let _ = timeout_at(edge, std::future::pending::<()>()).await;
                }),
            ];
            // timeout(MAX) of a ready future is that future's value.
            assert_eq!(timeout(Duration::MAX, async { 3 }).await.unwrap(), 3);

            let cpu0 = util::cpu_time();
            let start = StdInstant::now();
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut iv = interval(Duration::from_millis(10));
            let mut ticks = 0u32;
            let mut max_late = Duration::ZERO;
            let mut first = None;
            while let Ok(t) = timeout_at(deadline, iv.tick()).await {
                let first = *first.get_or_insert(t);
                let scheduled = first + Duration::from_millis(10) * ticks;
                assert_eq!(t, scheduled, "tick {ticks} off the 10 ms grid");
                max_late = max_late.max(Instant::now().saturating_duration_since(scheduled));
                ticks += 1;
            }
            let wall = start.elapsed();
            let pct = util::cpu_percent(util::cpu_time() - cpu0, wall);
            let still_pending = absurd.iter().filter(|h| !h.is_finished()).count();
            for h in absurd {
                h.abort();
                assert!(h.await.unwrap_err().is_cancelled());
            }
            figure!(
                name,
                "interval(10 ms) over {wall:.2?}: {ticks} ticks (first at once), ticks observed late by at most {max_late:.2?}; CPU {pct:.2}%; {still_pending}/7 absurd timers still pending"
            );
            assert!((999..=1001).contains(&ticks), "{ticks} ticks");
            assert_eq!(still_pending, 7, "an absurd timer fired");
            assert!(pct < 5.0, "{pct:.2}% CPU while ticking every 10 ms");
        });
    });
}

#[test]
fn s13_thousand_sub_millisecond_sleeps() {
    let name = test_name!(s13_thousand_sub_millisecond_sleeps);
    util::isolated(name, Duration::from_secs(30), || {
        let rt = util::rt();
        let cpu0 = util::cpu_time();
        let start = StdInstant::now();
        let (early, mut late) = rt.block_on(async {
            let mut early = 0;
            let mut late = Vec::with_capacity(1000);
            for i in 0..1_000u64 {
                let d = Duration::from_micros((i * 337) % 1_000);
                let deadline = StdInstant::now() + d;
                sleep(d).await;
                let now = StdInstant::now();
                if now < deadline {
                    early += 1;
                }
                late.push(now.saturating_duration_since(deadline));
            }
            (early, late)
        });
        let wall = start.elapsed();
        let cpu = util::cpu_time() - cpu0;
        let (p50, p99) = (
            util::quantile(&mut late, 0.5),
            util::quantile(&mut late, 0.99),
        );
        figure!(
            name,
            "1000 sleeps of 0-999 us: {early} early, late-by p50 {p50:.1?} p99 {p99:.1?}; wall {wall:.2?}, CPU {cpu:.2?} ({:.1}%)",
            util::cpu_percent(cpu, wall)
        );
        assert_eq!(early, 0, "sleeps completed before their deadline");
        assert!(cpu < wall / 4, "{cpu:?} of CPU over {wall:?}: spinning");
    });
}
