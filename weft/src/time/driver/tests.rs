//! The driver alone: ticks, rounding, process, auto-advance, shutdown, unpark.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex as StdMutex;
use std::task::Wake;

struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn woken(c: &Counter) -> usize {
    c.0.load(Ordering::SeqCst)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn next_timeout_is_the_time_to_the_rounded_up_tick_and_never_fires_early() {
    let h = Handle::new(true);
    assert_eq!(h.next_timeout(), None);
    let start = h.now();
    let (c, w) = counter();
    // 1.5 ms becomes tick 2.
    h.register(start + Duration::from_micros(1_500), &w)
        .unwrap();
    assert_eq!(h.next_timeout(), Some(ms(2)));
    // Move the clock alone (`advance_clock` would also process).
    assert!(h.inner.clock.advance(Duration::from_micros(1_999)));
    assert_eq!(
        h.next_timeout(),
        Some(Duration::from_micros(1)),
        "exactly the time left to the tick: the deadline is not rounded a second time"
    );
    assert_eq!(h.process(), 0);
    assert_eq!(woken(&c), 0, "never early");
    assert!(h.inner.clock.advance(Duration::from_micros(1)));
    assert_eq!(h.next_timeout(), Some(Duration::ZERO));
    assert_eq!(h.process(), 1);
    assert_eq!(woken(&c), 1);
    assert_eq!(h.next_timeout(), None);
}

#[test]
fn real_clock_fires_within_a_tick() {
    let h = Handle::new(false);
    let (c, w) = counter();
    let deadline = h.now() + ms(3);
    h.register(deadline, &w).unwrap();
    let mut rounds = 0;
    while woken(&c) == 0 {
        rounds += 1;
        assert!(rounds < 20, "a bounded number of parks");
        let timeout = h.next_timeout().unwrap();
        assert!(timeout <= ms(4));
        std::thread::sleep(timeout);
        h.process();
    }
    let now = h.now();
    assert!(now >= deadline);
}

#[test]
fn process_fires_in_batches_and_wakes_outside_the_lock() {
    let h = Handle::new(true);
    let start = h.now();
    let (c, w) = counter();
    for i in 0..100 {
        h.register(start + ms(1 + i % 7), &w).unwrap();
    }
    /// A waker that arms another timer when woken: would deadlock if woken under the lock.
    struct Rearm(Handle, Instant, StdMutex<usize>);
    impl Wake for Rearm {
        fn wake(self: Arc<Self>) {
            let (_, w) = counter();
            self.0.register(self.1, &w).unwrap();
            *self.2.lock().unwrap() += 1;
        }
    }
    let rearm = Arc::new(Rearm(h.clone(), start + ms(60_000), StdMutex::new(0)));
    h.register(start + ms(3), &Waker::from(rearm.clone()))
        .unwrap();
    h.advance_clock(ms(10));
    assert_eq!(woken(&c), 100);
    assert_eq!(*rearm.2.lock().unwrap(), 1);
    assert_eq!(
        h.timer_counts().0,
        102,
        "fired entries stay until their Sleep removes them"
    );
}

#[test]
fn auto_advance_jumps_to_the_exact_deadline_through_cascades() {
    let h = Handle::new(true);
    assert!(!h.auto_advance(), "nothing to jump to");
    let start = h.now();
    let (c, w) = counter();
    h.register(start + ms(10_000), &w).unwrap();
    h.register(start + ms(3_600_000), &w).unwrap();
    assert!(h.auto_advance());
    assert_eq!(woken(&c), 1);
    assert_eq!(
        h.now() - start,
        ms(10_000),
        "the clock stops at the deadline"
    );
    assert!(h.auto_advance());
    assert_eq!(woken(&c), 2);
    assert_eq!(h.now() - start, ms(3_600_000));
    assert!(!h.auto_advance());
}

#[test]
fn auto_advance_does_nothing_on_a_real_clock() {
    let h = Handle::new(false);
    let (_c, w) = counter();
    h.register(h.now() + ms(10_000), &w).unwrap();
    assert!(!h.is_paused());
    assert!(!h.auto_advance());
}

#[test]
fn far_deadlines_saturate() {
    let h = Handle::new(true);
    let (c, w) = counter();
    let far = Instant::from_std(add_saturating(h.now().into_std(), Duration::MAX));
    let key = h.register(far, &w).unwrap();
    let timeout = h.next_timeout().unwrap();
    assert!(timeout > Duration::from_secs(86_400 * 365 * 1_000));
    assert_eq!(h.process(), 0);
    h.remove(key);
    assert_eq!(h.next_timeout(), None);
    assert_eq!(woken(&c), 0);
}

#[test]
fn shutdown_wakes_everyone_and_refuses_new_timers() {
    let h = Handle::new(false);
    let (c, w) = counter();
    let key = h.register(h.now() + ms(60_000), &w).unwrap();
    h.register(h.now() + ms(1), &w).unwrap();
    h.shutdown();
    assert_eq!(woken(&c), 2);
    assert!(h.is_shutdown());
    assert_eq!(h.register(h.now() + ms(1), &w), Err(Shutdown));
    assert_eq!(
        h.poll_elapsed(key, &w),
        std::task::Poll::Ready(Err(Shutdown))
    );
    h.remove(key); // stale: a no-op
    assert_eq!(h.timer_counts(), (0, 0));
    assert_eq!(h.process(), 0);
}

#[test]
fn unpark_only_for_an_earlier_timer_while_parked() {
    let h = Handle::new(false);
    let unparks = Arc::new(AtomicUsize::new(0));
    let u = unparks.clone();
    h.set_unpark(move || {
        u.fetch_add(1, Ordering::SeqCst);
    });
    let (_c, w) = counter();
    let now = h.now();
    // Running (not parked): no unpark.
    h.register(now + ms(1_000), &w).unwrap();
    assert_eq!(unparks.load(Ordering::SeqCst), 0);
    // Parked until ~1 s: a later timer does not unpark, an earlier one does, once.
    let _ = h.next_timeout();
    let other = h.clone();
    std::thread::spawn(move || {
        let (_c, w) = counter();
        other.register(now + ms(5_000), &w).unwrap();
        other.register(now + ms(500), &w).unwrap();
        other.register(now + ms(600), &w).unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(unparks.load(Ordering::SeqCst), 1);
    // Awake again after `process`: no unpark.
    h.process();
    h.register(now + ms(1), &w).unwrap();
    assert_eq!(unparks.load(Ordering::SeqCst), 1);
}

#[test]
fn handle_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Handle>();
    assert_eq!(std::mem::size_of::<Handle>(), std::mem::size_of::<usize>());
}
