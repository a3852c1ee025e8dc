//! `Sleep`, `Timeout`, `Interval`, `Instant` and the clock functions against a driver polled by
//! hand: a paused `Handle` made current with `test_context`, a counting waker, `process`.

use super::driver::Handle;
use super::*;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker and how many times it was woken.
struct Probe {
    count: Arc<Counter>,
    waker: Waker,
}

impl Probe {
    fn new() -> Probe {
        let count = Arc::new(Counter(AtomicUsize::new(0)));
        Probe {
            waker: Waker::from(count.clone()),
            count,
        }
    }

    fn woken(&self) -> usize {
        self.count.0.load(Ordering::SeqCst)
    }

    fn poll<F: Future + Unpin>(&self, f: &mut F) -> Poll<F::Output> {
        Pin::new(f).poll(&mut Context::from_waker(&self.waker))
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused() -> (Handle, test_context::Guard) {
    let h = Handle::new(true);
    let g = test_context::enter(&h);
    (h, g)
}

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("should panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn sleep_zero_is_ready_at_once_without_a_timer() {
    let (h, _g) = paused();
    let p = Probe::new();
    let mut s = sleep(Duration::ZERO);
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
    assert!(s.is_elapsed());
    assert_eq!(h.timer_counts(), (0, 0));
}

#[test]
fn an_armed_sleep_whose_deadline_the_clock_passed_fires_on_the_next_turn() {
    let (h, _g) = paused();
    let p = Probe::new();
    let mut s = sleep_until(h.now() + ms(2));
    assert_eq!(p.poll(&mut s), Poll::Pending);
    // The clock moves past the deadline, but no turn of the loop has processed it yet: a
    // poll now (a spurious one, or one inside a `select`) does not read the clock.
    assert!(h.advance_clock_only(ms(5)));
    assert_eq!(p.poll(&mut s), Poll::Pending);
    assert_eq!(h.timer_counts().0, 1);
    assert_eq!(p.woken(), 0);
    assert_eq!(h.process(), 1, "the next turn fires it");
    assert_eq!(p.woken(), 1);
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
    assert_eq!(h.timer_counts().0, 0);
    // A new sleep for a past deadline is ready at once, without a timer.
    let mut late = sleep_until(h.now() - ms(1));
    assert_eq!(p.poll(&mut late), Poll::Ready(()));
    assert_eq!(h.timer_counts().0, 0);
}

#[test]
fn sleep_fires_on_time_and_frees_its_entry() {
    let (h, _g) = paused();
    let p = Probe::new();
    let mut s = sleep(ms(10));
    assert_eq!(s.deadline() - h.now(), ms(10));
    assert_eq!(p.poll(&mut s), Poll::Pending);
    assert_eq!(h.timer_counts(), (1, 1));
    h.advance_clock(ms(9));
    assert_eq!(p.woken(), 0);
    assert_eq!(p.poll(&mut s), Poll::Pending);
    h.advance_clock(ms(1));
    assert_eq!(p.woken(), 1);
    assert!(s.is_elapsed());
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
    assert_eq!(
        h.timer_counts(),
        (0, 1),
        "the entry is freed, its slot kept for reuse"
    );
    assert_eq!(p.poll(&mut s), Poll::Ready(()), "stays ready");
}

#[test]
fn dropping_a_sleep_cancels_it() {
    let (h, _g) = paused();
    let p = Probe::new();
    let mut s = sleep(ms(10));
    assert_eq!(p.poll(&mut s), Poll::Pending);
    drop(s);
    assert_eq!(h.timer_counts().0, 0);
    h.advance_clock(ms(20));
    assert_eq!(p.woken(), 0, "no stale wakeup");
    // The freed slot is reused by the next sleep.
    let mut s2 = sleep(ms(10));
    assert_eq!(p.poll(&mut s2), Poll::Pending);
    assert_eq!(h.timer_counts(), (1, 1));
}

#[test]
fn many_sleeps_complete_in_deadline_order() {
    let (h, _g) = paused();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Log(usize, Arc<std::sync::Mutex<Vec<usize>>>);
    impl Wake for Log {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }
    let mut sleeps: Vec<Sleep> = (0..300u64)
        .map(|i| sleep(ms((i * 7919) % 5_000 + 1)))
        .collect();
    for (i, s) in sleeps.iter_mut().enumerate() {
        let w = Waker::from(Arc::new(Log(i, order.clone())));
        assert!(Pin::new(s).poll(&mut Context::from_waker(&w)).is_pending());
    }
    while h.auto_advance() {}
    let order = order.lock().unwrap().clone();
    assert_eq!(order.len(), 300);
    let deadlines: Vec<_> = order.iter().map(|&i| sleeps[i].deadline()).collect();
    assert!(deadlines.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn reset_moves_the_deadline_and_rearms_after_completion() {
    let (h, _g) = paused();
    let p = Probe::new();
    let mut s = sleep(Duration::from_secs(3600));
    assert_eq!(p.poll(&mut s), Poll::Pending);
    Pin::new(&mut s).reset(h.now() + ms(5));
    h.advance_clock(ms(5));
    assert_eq!(p.woken(), 1);
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
    // Re-arm after completion.
    Pin::new(&mut s).reset(h.now() + ms(100));
    assert!(!s.is_elapsed());
    assert_eq!(p.poll(&mut s), Poll::Pending);
    h.advance_clock(ms(99));
    assert_eq!(p.poll(&mut s), Poll::Pending);
    h.advance_clock(ms(1));
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
    // Reset to the past: ready at once.
    Pin::new(&mut s).reset(h.now() - ms(1));
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
}

#[test]
fn absurd_durations_neither_overflow_nor_panic() {
    let (h, _g) = paused();
    let p = Probe::new();
    let mut forever = sleep(Duration::MAX);
    assert!(forever.deadline() - h.now() >= Duration::from_secs(86_400 * 365 * 29));
    assert_eq!(p.poll(&mut forever), Poll::Pending);
    let far = Instant::now()
        .checked_add(Duration::from_secs(86_400 * 365 * 1_000))
        .unwrap();
    let mut until_far = sleep_until(far);
    assert_eq!(p.poll(&mut until_far), Poll::Pending);
    h.advance_clock(Duration::from_secs(86_400 * 365));
    assert_eq!(p.woken(), 0);
    drop(until_far);
    drop(forever);
    assert_eq!(h.timer_counts().0, 0);
    // A paused idle runtime jumps even to "forever" (~30 years), as tokio does.
    let mut forever = sleep(Duration::MAX);
    assert_eq!(p.poll(&mut forever), Poll::Pending);
    assert!(h.auto_advance());
    assert_eq!(p.poll(&mut forever), Poll::Ready(()));
}

#[test]
fn polled_outside_a_runtime_panics_clearly() {
    let p = Probe::new();
    let msg = panic_message(|| {
        let _ = p.poll(&mut sleep(ms(10)));
    });
    assert!(
        msg.contains("`weft::time::sleep` polled outside a weft runtime"),
        "{msg}"
    );
    // Nothing to wait for: no runtime needed.
    assert_eq!(p.poll(&mut sleep(Duration::ZERO)), Poll::Ready(()));
}

#[test]
fn a_sleep_whose_runtime_shut_down_moves_to_the_current_one() {
    let p = Probe::new();
    let a = Handle::new(true);
    let mut s = {
        let _g = test_context::enter(&a);
        let mut s = sleep(Duration::from_secs(10));
        assert_eq!(p.poll(&mut s), Poll::Pending);
        s
    };
    a.shutdown();
    assert_eq!(p.woken(), 1, "shutdown wakes the waiter");
    // Outside any runtime: a clear panic.
    let msg = panic_message(|| {
        let _ = p.poll(&mut s);
    });
    assert!(
        msg.contains("after the runtime it was registered with shut down"),
        "{msg}"
    );
    // Inside another runtime: it re-registers there, keeping its deadline.
    let b = Handle::new(true);
    let _g = test_context::enter(&b);
    assert_eq!(p.poll(&mut s), Poll::Pending);
    assert_eq!(b.timer_counts().0, 1);
    assert!(b.auto_advance());
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
    // A new sleep inside a shut-down runtime panics clearly.
    let _g = test_context::enter(&a);
    let msg = panic_message(|| {
        let _ = p.poll(&mut sleep(ms(10)));
    });
    assert!(msg.contains("shutting down"), "{msg}");
}

#[test]
fn a_sleep_polled_by_another_runtime_moves_there() {
    let p = Probe::new();
    let a = Handle::new(true);
    let b = Handle::new(true);
    let mut s = {
        let _g = test_context::enter(&a);
        let mut s = sleep(ms(10));
        assert_eq!(p.poll(&mut s), Poll::Pending);
        s
    };
    // Outside any runtime it stays with `a`, which still fires it.
    assert_eq!(p.poll(&mut s), Poll::Pending);
    assert_eq!(a.timer_counts().0, 1);
    let _g = test_context::enter(&b);
    assert_eq!(p.poll(&mut s), Poll::Pending);
    assert_eq!(a.timer_counts().0, 0);
    assert_eq!(b.timer_counts().0, 1);
    assert!(b.auto_advance());
    assert_eq!(p.poll(&mut s), Poll::Ready(()));
}

#[test]
fn timeout_polls_the_future_first() {
    let (h, _g) = paused();
    let p = Probe::new();
    let mut t = timeout(Duration::ZERO, std::future::ready(5));
    assert_eq!(p.poll(&mut t), Poll::Ready(Ok(5)));
    let mut t = timeout(ms(5), std::future::pending::<()>());
    assert_eq!(p.poll(&mut t), Poll::Pending);
    h.advance_clock(ms(5));
    assert_eq!(p.woken(), 1);
    let err = p.poll(&mut t);
    assert_eq!(err, Poll::Ready(Err(error::Elapsed::new())));
    let io: std::io::Error = error::Elapsed::new().into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    // Accessors.
    let mut t = timeout_at(h.now() + ms(1), std::future::ready("x"));
    let _: &std::future::Ready<&str> = t.get_ref();
    let inner: &mut std::future::Ready<&str> = t.get_mut();
    assert_eq!(p.poll(inner), Poll::Ready("x"));
    let _inner: std::future::Ready<&str> = t.into_inner();
}

#[test]
fn timeout_wraps_a_not_unpin_future() {
    let (h, _g) = paused();
    let p = Probe::new();
    let inner = async {
        sleep(ms(3)).await;
        9
    };
    let mut t = Box::pin(timeout(ms(10), inner));
    assert!(t
        .as_mut()
        .poll(&mut Context::from_waker(&p.waker))
        .is_pending());
    h.advance_clock(ms(3));
    assert_eq!(
        t.as_mut().poll(&mut Context::from_waker(&p.waker)),
        Poll::Ready(Ok(9))
    );
}

/// Polls `interval.tick()` once.
fn poll_tick(p: &Probe, i: &mut Interval) -> Poll<Instant> {
    i.poll_tick(&mut Context::from_waker(&p.waker))
}

#[test]
fn interval_ticks_every_period_starting_now() {
    let (h, _g) = paused();
    let p = Probe::new();
    let start = h.now();
    let mut i = interval(ms(10));
    assert_eq!(poll_tick(&p, &mut i), Poll::Ready(start));
    assert_eq!(poll_tick(&p, &mut i), Poll::Pending);
    h.advance_clock(ms(10));
    assert_eq!(poll_tick(&p, &mut i), Poll::Ready(start + ms(10)));
    assert_eq!(i.period(), ms(10));
    assert_eq!(
        interval(Duration::ZERO).period(),
        ms(1),
        "zero period is raised"
    );
}

fn late_ticks(behavior: MissedTickBehavior) -> Vec<Duration> {
    let (h, _g) = paused();
    let p = Probe::new();
    let start = h.now();
    let mut i = interval(ms(10));
    i.set_missed_tick_behavior(behavior);
    assert_eq!(poll_tick(&p, &mut i), Poll::Ready(start));
    // The task is 35 ms late: ticks at 10, 20, 30 were due.
    h.advance_clock(ms(45));
    let mut ticks = Vec::new();
    while let Poll::Ready(t) = poll_tick(&p, &mut i) {
        ticks.push(t - start);
        assert!(ticks.len() < 10);
    }
    // And the next one, after the catch-up.
    assert!(h.auto_advance());
    if let Poll::Ready(t) = poll_tick(&p, &mut i) {
        ticks.push(t - start);
    }
    ticks
}

#[test]
fn interval_missed_tick_behaviours() {
    use MissedTickBehavior::*;
    assert_eq!(late_ticks(Burst), [10, 20, 30, 40, 50].map(ms));
    assert_eq!(late_ticks(Delay), [10, 55].map(ms));
    assert_eq!(late_ticks(Skip), [10, 50].map(ms));
}

#[test]
fn interval_reset_variants() {
    let (h, _g) = paused();
    let p = Probe::new();
    let start = h.now();
    let mut i = interval_at(start + ms(100), ms(10));
    i.reset_immediately();
    assert_eq!(poll_tick(&p, &mut i), Poll::Ready(start));
    i.reset_after(ms(3));
    h.advance_clock(ms(3));
    assert_eq!(poll_tick(&p, &mut i), Poll::Ready(start + ms(3)));
    i.reset();
    assert_eq!(poll_tick(&p, &mut i), Poll::Pending);
    h.advance_clock(ms(10));
    assert_eq!(poll_tick(&p, &mut i), Poll::Ready(start + ms(13)));
    i.reset_at(start + ms(20));
    h.advance_clock(ms(7));
    assert_eq!(poll_tick(&p, &mut i), Poll::Ready(start + ms(20)));
}

#[test]
fn instant_reads_the_paused_clock() {
    let (h, _g) = paused();
    let t0 = Instant::now();
    assert_eq!(t0, h.now());
    std::thread::sleep(ms(2));
    assert_eq!(Instant::now(), t0);
    h.advance_clock(ms(7));
    assert_eq!(t0.elapsed(), ms(7));
    assert_eq!(t0 - Instant::now(), Duration::ZERO, "saturates");
}

#[test]
fn pause_resume_and_advance() {
    let h = Handle::new(false);
    let _g = test_context::enter(&h);
    pause();
    pause(); // twice is fine
    assert!(h.is_paused());
    let t0 = Instant::now();
    let p = Probe::new();
    let mut s = sleep(ms(50));
    assert_eq!(p.poll(&mut s), Poll::Pending);
    let mut adv = Box::pin(advance(ms(50)));
    // First poll moves the clock and fires the timer, then yields once.
    assert!(adv
        .as_mut()
        .poll(&mut Context::from_waker(&p.waker))
        .is_pending());
    assert!(s.is_elapsed());
    assert!(adv
        .as_mut()
        .poll(&mut Context::from_waker(&p.waker))
        .is_ready());
    assert_eq!(Instant::now() - t0, ms(50));
    resume();
    resume();
    assert!(!h.is_paused());
    assert!(Instant::now() >= t0 + ms(50));
}

#[test]
fn clock_functions_outside_a_runtime_panic_clearly() {
    let msg = panic_message(pause);
    assert!(msg.contains("outside a weft runtime"), "{msg}");
}

#[test]
fn public_types_are_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin>() {}
    check::<Sleep>();
    check::<Interval>();
    check::<Timeout<std::future::Ready<()>>>();
    check::<Instant>();
    check::<error::Elapsed>();
}

#[test]
fn sleep_is_small() {
    assert!(
        std::mem::size_of::<Sleep>() <= 40,
        "{}",
        std::mem::size_of::<Sleep>()
    );
}

#[test]
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn a_sleep_is_32_bytes() {
    // The deadline and a state whose two unarmed cases share the handle's niche: a task
    // that only sleeps stays within 112 bytes of heap.
    assert_eq!(std::mem::size_of::<Sleep>(), 32);
}
