//! An idle runtime with pending timers does not spin, and wakes on time:
//! CPU time (this thread's, by `getrusage(RUSAGE_THREAD)`) while sleeping,
//! sub-millisecond sleeps, and the lateness of `sleep(d)`.
//!
//! `cargo test --release -p weft --test time_idle -- --nocapture` prints the
//! lateness figures.

mod support;

use std::time::{Duration, Instant as StdInstant};

use support::watchdog;
use weft::time::{sleep, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// CPU time (user + system) of the calling thread so far.
fn thread_cpu() -> Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `ru` is a valid, writable `rusage`; RUSAGE_THREAD fills it for this thread
    // and returns 0, or -1 (checked) leaving it untouched but zeroed.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, ru.as_mut_ptr()) };
    assert_eq!(
        rc,
        0,
        "getrusage(RUSAGE_THREAD): {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: zero-initialised, and filled by the successful call above.
    let ru = unsafe { ru.assume_init() };
    let tv = |t: libc::timeval| {
        Duration::new(
            u64::try_from(t.tv_sec).unwrap(),
            u32::try_from(t.tv_usec).unwrap() * 1_000,
        )
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs `f` on the current thread; returns its output, wall time and this thread's CPU time.
fn measure<R>(f: impl FnOnce() -> R) -> (R, Duration, Duration) {
    let cpu0 = thread_cpu();
    let wall0 = StdInstant::now();
    let out = f();
    (out, wall0.elapsed(), thread_cpu() - cpu0)
}

#[test]
fn a_runtime_idle_on_one_300ms_sleep_uses_almost_no_cpu() {
    let _w = watchdog("a_runtime_idle_on_one_300ms_sleep_uses_almost_no_cpu", 20);
    let rt = weft::Runtime::new().unwrap();
    // In block_on's own future, and in a spawned task.
    let ((), wall, cpu) = measure(|| rt.block_on(sleep(ms(300))));
    assert!(wall >= ms(300));
    assert!(cpu < ms(50), "{cpu:?} of CPU for a 300 ms sleep");
    let ((), wall, cpu) = measure(|| {
        rt.block_on(async {
            weft::spawn(sleep(ms(300))).await.unwrap();
        })
    });
    assert!(wall >= ms(300));
    assert!(cpu < ms(50), "{cpu:?} of CPU for a task's 300 ms sleep");
}

#[test]
fn an_idle_runtime_with_many_pending_timers_does_not_spin() {
    let _w = watchdog("an_idle_runtime_with_many_pending_timers_does_not_spin", 20);
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        // 10,000 timers pending (far away), one 300 ms sleep measured.
        let far: Vec<_> = (0..10_000u64)
            .map(|i| weft::spawn(sleep(Duration::from_secs(3_600 + i))))
            .collect();
        sleep(ms(5)).await; // let them register
        let cpu0 = thread_cpu();
        sleep(ms(300)).await;
        let cpu = thread_cpu() - cpu0;
        assert!(cpu < ms(50), "{cpu:?} of CPU for a 300 ms sleep");
        for h in far {
            h.abort();
        }
    });
}

#[test]
fn a_thousand_sub_millisecond_sleeps_are_never_early_and_do_not_spin() {
    let _w = watchdog("a_thousand_sub_millisecond_sleeps", 30);
    let rt = weft::Runtime::new().unwrap();
    // One after another, 0..1000 µs each: the last millisecond before each deadline is
    // where a loop that rounds its park timeout down would spin.
    let (early, wall, cpu) = measure(|| {
        rt.block_on(async {
            let mut early = 0;
            for i in 0..1_000u64 {
                let d = Duration::from_micros((i * 337) % 1_000);
                let deadline = StdInstant::now() + d;
                sleep(d).await;
                if StdInstant::now() < deadline {
                    early += 1;
                }
            }
            early
        })
    });
    assert_eq!(early, 0, "sleeps completed before their deadline");
    println!("1000 sub-ms sleeps one after another: wall {wall:?}, cpu {cpu:?}");
    assert!(
        cpu < wall / 4,
        "{cpu:?} of CPU over {wall:?}: the loop spins while waiting"
    );

    // All at once, from 1000 tasks.
    let (early, _wall, cpu) = measure(|| {
        rt.block_on(async {
            let handles: Vec<_> = (0..1_000u64)
                .map(|i| {
                    let d = Duration::from_micros((i * 613) % 1_000);
                    let deadline = StdInstant::now() + d;
                    weft::spawn(async move {
                        sleep(d).await;
                        StdInstant::now() < deadline
                    })
                })
                .collect();
            let mut early = 0;
            for h in handles {
                early += usize::from(h.await.unwrap());
            }
            early
        })
    });
    assert_eq!(early, 0, "sleeps completed before their deadline");
    assert!(cpu < Duration::from_secs(1), "{cpu:?} of CPU");
}

/// The `q`-quantile (0..=1) of sorted `v`.
fn quantile(v: &[Duration], q: f64) -> Duration {
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

/// Lateness of 300 sleeps of 1..=50 ms on an idle runtime, sorted: 6 tasks, each sleeping
/// 50 times (a fixed pseudo-random sequence), about 1.3 s in all.
fn lateness_of_300_sleeps() -> Vec<Duration> {
    const CHAINS: u64 = 6;
    const PER_CHAIN: u64 = 50;
    let rt = weft::Runtime::new().unwrap();
    let mut late: Vec<Duration> = rt.block_on(async {
        let chains: Vec<_> = (0..CHAINS)
            .map(|c| {
                weft::spawn(async move {
                    let mut late = Vec::new();
                    for i in 0..PER_CHAIN {
                        let d = ms(1 + (c * 131 + i * 37) % 50);
                        let deadline = Instant::now() + d;
                        sleep(d).await;
                        let now = StdInstant::now();
                        assert!(now >= deadline.into_std(), "a {d:?} sleep woke early");
                        late.push(now - deadline.into_std());
                    }
                    late
                })
            })
            .collect();
        let mut all = Vec::new();
        for c in chains {
            all.extend(c.await.unwrap());
        }
        all
    });
    late.sort();
    late
}

#[test]
fn lateness_of_sleeps_on_an_idle_runtime() {
    let _w = watchdog("lateness_of_sleeps_on_an_idle_runtime", 30);
    let late = lateness_of_300_sleeps();
    let (p50, p99, max) = (
        quantile(&late, 0.5),
        quantile(&late, 0.99),
        late[late.len() - 1],
    );
    println!(
        "lateness of {} sleeps of 1..=50 ms on an idle runtime: p50 {p50:?}, p99 {p99:?}, max {max:?}",
        late.len()
    );
    // Wide bound: 1 ms of rounding plus scheduling delay on a busy CI machine.
    assert!(p99 < ms(20), "p99 lateness {p99:?}");
}

/// Issue 3: "a sleep is never late by more than 1 ms plus scheduling delay when the loop is
/// idle". The deadline is rounded up to the next 1 ms tick, and these sleeps start just after a
/// previous one woke on a tick boundary, so each is late by almost exactly 1 ms plus the
/// scheduling delay: the median sits just above 1 ms (measured 1.00-1.01 ms). The park itself
/// must not round again (ns timeouts via epoll_pwait2/ppoll): when it did, the median was
/// 1.15-1.21 ms, which the 1.1 ms bound catches while leaving 100 us for scheduling.
#[test]
fn lateness_is_within_one_millisecond_plus_scheduling() {
    let late = lateness_of_300_sleeps();
    let p50 = quantile(&late, 0.5);
    assert!(
        p50 < Duration::from_micros(1_100),
        "median lateness {p50:?}: more than the 1 ms tick plus 0.1 ms of scheduling"
    );
}
