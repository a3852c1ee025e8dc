//! Unit tests and a model-based property test of the timer wheel.

use super::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// A waker that records its id into a shared log when woken.
struct Recorder {
    id: u64,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

fn recorder(id: u64, log: &Arc<Mutex<Vec<u64>>>) -> Waker {
    Waker::from(Arc::new(Recorder {
        id,
        log: log.clone(),
    }))
}

/// A waker that only counts wakes.
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

/// One wheel + log pair for the level tests.
struct Fixture {
    wheel: Wheel,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            wheel: Wheel::new(),
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn insert(&mut self, id: u64, when: u64) -> TimerKey {
        let w = recorder(id, &self.log);
        self.wheel.insert(when, w)
    }

    /// Advances and returns the ids woken, in order.
    fn advance(&mut self, now: u64) -> Vec<u64> {
        self.wheel.advance(now, &mut |w: Waker| w.wake());
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

#[test]
fn slot_is_small() {
    // 8 (when) + 16 (waker) + 4 * 3 (links, generation) + 2 (loc), padded to 8.
    assert_eq!(std::mem::size_of::<Slot>(), 40);
}

#[test]
fn new_wheel_is_empty() {
    let wheel = Wheel::new();
    assert_eq!(wheel.elapsed(), 0);
    assert_eq!(wheel.len(), 0);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn every_level_fires_exactly_on_time() {
    // 1 ms, 100 ms, 10 s, 1 h, 10 h, 30 days, 1 year, 2.5 years (overflow), 30 years.
    let deadlines = [
        1u64,
        100,
        10_000,
        3_600_000,
        36_000_000,
        2_592_000_000,
        31_536_000_000,
        78_840_000_000,
        946_080_000_000,
    ];
    for &when in &deadlines {
        let mut f = Fixture::new();
        f.insert(1, when);
        assert_eq!(f.advance(when - 1), Vec::<u64>::new(), "early at {when}");
        assert_eq!(f.wheel.elapsed(), when - 1);
        assert_eq!(f.wheel.next_expiration(), Some(when));
        assert_eq!(f.advance(when), vec![1], "on time at {when}");
        assert_eq!(f.wheel.next_expiration(), None);
    }
    // All together, from a non-zero start, in one jump.
    let mut f = Fixture::new();
    f.advance(12_345);
    for (id, &d) in deadlines.iter().enumerate().rev() {
        f.insert(id as u64, 12_345 + d);
    }
    assert_eq!(
        f.advance(u64::MAX - 1),
        (0..deadlines.len() as u64).collect::<Vec<_>>()
    );
}

#[test]
fn next_expiration_is_a_lower_bound_then_exact() {
    let mut f = Fixture::new();
    f.insert(1, 10_000);
    let mut steps = 0;
    let mut fired = Vec::new();
    while let Some(t) = f.wheel.next_expiration() {
        assert!(t <= 10_000);
        fired.extend(f.advance(t));
        steps += 1;
        assert!(steps <= LEVELS + 1, "too many cascades");
    }
    assert_eq!(fired, vec![1]);
    assert_eq!(f.wheel.elapsed(), 10_000);
}

#[test]
fn stepping_one_tick_at_a_time_never_fires_early() {
    let mut f = Fixture::new();
    for id in 0..200u64 {
        f.insert(id, id * 7 + 1);
    }
    for now in 0..=1500u64 {
        for id in f.advance(now) {
            assert_eq!(id * 7 + 1, now);
        }
    }
}

#[test]
fn many_deadlines_fire_in_order() {
    let mut f = Fixture::new();
    // A scrambled set of deadlines, some equal.
    let mut whens: Vec<u64> = (0..2000u64).map(|i| (i * 7919) % 50_000 + 1).collect();
    for (id, &w) in whens.iter().enumerate() {
        f.insert(id as u64, w);
    }
    let fired = f.advance(60_000);
    assert_eq!(fired.len(), whens.len());
    let fired_whens: Vec<u64> = fired.iter().map(|&id| whens[id as usize]).collect();
    // Sorted by deadline; equal deadlines keep insertion order.
    let mut expected: Vec<u64> = (0..whens.len() as u64).collect();
    expected.sort_by_key(|&id| whens[id as usize]);
    assert_eq!(fired, expected);
    whens.sort_unstable();
    assert_eq!(fired_whens, whens);
}

#[test]
fn equal_deadlines_fire_in_insertion_order() {
    let mut f = Fixture::new();
    f.insert(1, 5_000);
    f.advance(100);
    f.insert(2, 5_000);
    f.advance(4_990);
    f.insert(3, 5_000);
    assert_eq!(f.advance(5_000), vec![1, 2, 3]);
}

#[test]
fn cancel_before_expiry() {
    let mut f = Fixture::new();
    let a = f.insert(1, 50);
    let b = f.insert(2, 50);
    let c = f.insert(3, 70_000);
    assert_eq!(f.wheel.len(), 3);
    assert!(f.wheel.remove(a).is_some());
    assert!(f.wheel.remove(c).is_some());
    assert!(f.wheel.remove(a).is_none(), "second remove is stale");
    assert_eq!(f.wheel.len(), 1);
    assert_eq!(f.advance(100_000), vec![2]);
    assert!(f.wheel.is_fired(b));
    assert_eq!(f.wheel.next_expiration(), None);
}

#[test]
fn cancel_after_expiry() {
    let mut f = Fixture::new();
    let a = f.insert(1, 10);
    assert_eq!(f.advance(10), vec![1]);
    assert!(f.wheel.is_fired(a));
    assert_eq!(f.wheel.len(), 1, "fired entries stay until removed");
    let removed = f.wheel.remove(a);
    assert!(matches!(removed, Some(None)), "a fired entry has no waker");
    assert_eq!(f.wheel.len(), 0);
    assert!(!f.wheel.is_fired(a));
    assert!(!f.wheel.contains(a));
}

#[test]
fn removed_entry_wakes_nobody_and_slot_is_reused() {
    let mut f = Fixture::new();
    let a = f.insert(1, 10);
    let waker = f.wheel.remove(a).unwrap();
    assert!(waker.is_some());
    drop(waker);
    let b = f.insert(2, 20);
    assert_eq!(b.index, a.index, "the slot is reused");
    assert_ne!(b.generation, a.generation);
    // The stale key touches nothing.
    assert!(!f.wheel.reset(a, 5));
    assert!(f.wheel.remove(a).is_none());
    assert!(!f.wheel.is_fired(a));
    assert!(matches!(f.wheel.set_waker(a, &counter().1), Err(NotArmed)));
    assert_eq!(f.advance(30), vec![2]);
    assert_eq!(f.wheel.capacity(), 1);
}

#[test]
fn steady_state_reuses_slots() {
    let mut f = Fixture::new();
    let mut keys = Vec::new();
    for round in 0..50u64 {
        for i in 0..100u64 {
            keys.push(f.insert(i, round * 1000 + 500 + i));
        }
        f.advance(round * 1000 + 999);
        for k in keys.drain(..) {
            assert!(f.wheel.remove(k).is_some());
        }
    }
    assert_eq!(f.wheel.capacity(), 100);
}

#[test]
fn reset_moves_earlier_later_and_rearms_after_firing() {
    let mut f = Fixture::new();
    let a = f.insert(1, 10_000);
    assert!(f.wheel.reset(a, 20));
    assert_eq!(f.wheel.next_expiration(), Some(20));
    assert_eq!(f.advance(20), vec![1]);
    assert!(f.wheel.is_fired(a));
    // Re-arm after firing: it has no waker until one is set.
    assert!(f.wheel.reset(a, 3_000_000));
    assert!(!f.wheel.is_fired(a));
    let (count, waker) = counter();
    assert!(matches!(f.wheel.set_waker(a, &waker), Ok(None)));
    // Same waker again: nothing cloned, nothing displaced.
    assert!(matches!(f.wheel.set_waker(a, &waker), Ok(None)));
    f.advance(2_999_999);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    f.advance(3_000_000);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(f.wheel.set_waker(a, &waker), Err(NotArmed)));
}

#[test]
fn set_waker_displaces_the_old_one() {
    let mut f = Fixture::new();
    let a = f.insert(1, 10);
    let (count, waker) = counter();
    let old = f.wheel.set_waker(a, &waker).unwrap();
    assert!(old.is_some(), "the recorder waker comes back to be dropped");
    f.advance(10);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(f.log.lock().unwrap().is_empty());
}

#[test]
fn due_entries_fire_on_next_advance_in_insertion_order() {
    let mut f = Fixture::new();
    f.advance(1_000);
    f.insert(1, 2_000);
    f.insert(2, 999);
    f.insert(3, 0);
    f.insert(4, 1_000);
    assert_eq!(f.wheel.next_expiration(), Some(1_000));
    // Even an advance that does not move the clock fires them.
    assert_eq!(f.advance(1_000), vec![2, 3, 4]);
    assert_eq!(f.advance(500), Vec::<u64>::new(), "going back is a no-op");
    assert_eq!(f.wheel.elapsed(), 1_000);
    assert_eq!(f.advance(2_000), vec![1]);
}

#[test]
fn max_deadline_never_overflows() {
    let mut f = Fixture::new();
    let a = f.insert(1, u64::MAX);
    f.insert(2, u64::MAX - 1);
    f.insert(3, 1 << 40);
    assert_eq!(f.advance(1 << 39), Vec::<u64>::new());
    assert_eq!(f.advance(u64::MAX - 2), vec![3]);
    assert_eq!(f.advance(u64::MAX - 1), vec![2]);
    assert!(!f.wheel.is_fired(a));
    assert_eq!(f.wheel.next_expiration(), Some(u64::MAX));
    assert_eq!(f.advance(u64::MAX), vec![1]);
    assert_eq!(f.wheel.elapsed(), u64::MAX);
    // At the end of time, everything is due at once.
    f.insert(4, u64::MAX);
    assert_eq!(f.advance(u64::MAX), vec![4]);
}

#[test]
fn overflow_entries_cascade_across_blocks() {
    let mut f = Fixture::new();
    let block = 1u64 << SPAN_BITS;
    // Right before a block boundary, a 2 ms timer lands in the overflow list.
    f.advance(block - 1);
    f.insert(1, block + 1);
    f.insert(2, 3 * block + 5);
    let cancelled = f.insert(3, 2 * block);
    assert!(f.wheel.remove(cancelled).is_some());
    assert_eq!(f.advance(block), Vec::<u64>::new());
    assert_eq!(f.advance(block + 1), vec![1]);
    // The stale lower bound (the cancelled entry) costs one empty re-link, no firing.
    assert_eq!(f.advance(3 * block + 4), Vec::<u64>::new());
    assert_eq!(f.advance(3 * block + 5), vec![2]);
}

#[test]
fn batches_resume_where_they_stopped() {
    let mut f = Fixture::new();
    for id in 0..10u64 {
        f.insert(id, 5 + id / 4);
    }
    let mut fired = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        let done = f.wheel.advance_batch(100, 3, &mut |w: Waker| w.wake());
        fired.extend(std::mem::take(&mut *f.log.lock().unwrap()));
        if done {
            break;
        }
    }
    assert_eq!(fired, (0..10).collect::<Vec<_>>());
    assert!(rounds >= 4);
    assert_eq!(f.wheel.elapsed(), 100);
}

mod model {
    //! The wheel against a sorted map: same fired set, same order, never early.

    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        /// Insert at `elapsed + delta` (or `elapsed - delta` when `past`).
        Insert { delta: u64, past: bool },
        /// Insert exactly at the start of a slot of `level`, `ahead` slots after elapsed's one:
        /// the boundaries where an off-by-one in a cascade would show.
        InsertAligned { level: u32, ahead: u64 },
        /// Cancel the n-th live key (mod count).
        Cancel(usize),
        /// Reset the n-th live key to `elapsed + delta`.
        Reset(usize, u64),
        /// Advance by `delta`.
        Advance(u64),
        /// Advance to the next expiration.
        AdvanceToNext,
    }

    /// Deltas spread over every level, the overflow, and the very end of time.
    fn delta() -> impl Strategy<Value = u64> {
        prop_oneof![
            4 => 0u64..70,
            3 => 0u64..5_000,
            2 => 0u64..400_000,
            2 => 0u64..(1u64 << 30),
            1 => 0u64..(1u64 << 40),
            1 => Just(u64::MAX),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (delta(), proptest::bool::weighted(0.1))
                .prop_map(|(delta, past)| Op::Insert { delta, past }),
            2 => (1u32..7, 0u64..3).prop_map(|(level, ahead)| Op::InsertAligned { level, ahead }),
            2 => any::<usize>().prop_map(Op::Cancel),
            2 => (any::<usize>(), delta()).prop_map(|(i, d)| Op::Reset(i, d)),
            3 => delta().prop_map(Op::Advance),
            2 => Just(Op::AdvanceToNext),
        ]
    }

    /// Model state: armed timers ordered by (effective deadline, sequence number).
    #[derive(Default)]
    struct Model {
        elapsed: u64,
        seq: u64,
        /// (effective when, seq) -> id
        armed: BTreeMap<(u64, u64), u64>,
        /// id -> (key, (effective when, seq) if armed)
        live: BTreeMap<u64, (TimerKey, Option<(u64, u64)>)>,
    }

    impl Model {
        /// A timer armed at or before `elapsed` is due "now": it fires before anything later,
        /// in the order it was armed.
        fn arm(&mut self, id: u64, when: u64) -> (u64, u64) {
            self.seq += 1;
            let slot = (when.max(self.elapsed), self.seq);
            self.armed.insert(slot, id);
            slot
        }
    }

    fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::new();
        let mut model = Model::default();
        let mut next_id = 0u64;
        for op in ops {
            match op {
                Op::Insert { delta, past } => {
                    let when = if past {
                        model.elapsed.saturating_sub(delta)
                    } else {
                        model.elapsed.saturating_add(delta)
                    };
                    let id = next_id;
                    next_id += 1;
                    let key = wheel.insert(when, recorder(id, &log));
                    let slot = model.arm(id, when);
                    model.live.insert(id, (key, Some(slot)));
                }
                Op::InsertAligned { level, ahead } => {
                    let shift = SLOT_BITS * level;
                    let when = ((model.elapsed >> shift).saturating_add(ahead))
                        .checked_shl(shift)
                        .unwrap_or(u64::MAX);
                    let id = next_id;
                    next_id += 1;
                    let key = wheel.insert(when, recorder(id, &log));
                    let slot = model.arm(id, when);
                    model.live.insert(id, (key, Some(slot)));
                }
                Op::Cancel(n) => {
                    if model.live.is_empty() {
                        continue;
                    }
                    let id = *model.live.keys().nth(n % model.live.len()).unwrap();
                    let (key, slot) = model.live.remove(&id).unwrap();
                    if let Some(slot) = slot {
                        model.armed.remove(&slot);
                    }
                    prop_assert!(wheel.remove(key).is_some());
                    prop_assert!(wheel.remove(key).is_none());
                }
                Op::Reset(n, delta) => {
                    if model.live.is_empty() {
                        continue;
                    }
                    let id = *model.live.keys().nth(n % model.live.len()).unwrap();
                    let when = model.elapsed.saturating_add(delta);
                    let (key, old) = model.live[&id];
                    if let Some(old) = old {
                        model.armed.remove(&old);
                    }
                    let slot = model.arm(id, when);
                    model.live.insert(id, (key, Some(slot)));
                    prop_assert!(wheel.reset(key, when));
                    // A re-armed fired entry has no waker: give it its recorder again.
                    let displaced = wheel.set_waker(key, &recorder(id, &log));
                    prop_assert!(displaced.is_ok());
                }
                Op::Advance(_) | Op::AdvanceToNext => {
                    let now = match op {
                        Op::Advance(delta) => model.elapsed.saturating_add(delta),
                        _ => match wheel.next_expiration() {
                            Some(t) => t,
                            None => continue,
                        },
                    };
                    // The wheel's bound never skips past the model's earliest deadline.
                    if let (Some(bound), Some((&(first, _), _))) =
                        (wheel.next_expiration(), model.armed.first_key_value())
                    {
                        prop_assert!(bound <= first, "bound {} > earliest {}", bound, first);
                    }
                    wheel.advance(now, &mut |w: Waker| w.wake());
                    let fired = std::mem::take(&mut *log.lock().unwrap());
                    let mut expected = Vec::new();
                    while let Some(entry) = model.armed.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        let id = entry.remove();
                        model.live.get_mut(&id).unwrap().1 = None;
                        expected.push(id);
                    }
                    model.elapsed = model.elapsed.max(now);
                    prop_assert_eq!(&fired, &expected, "advance to {}", now);
                    prop_assert_eq!(wheel.elapsed(), model.elapsed);
                    for (id, (key, slot)) in &model.live {
                        prop_assert_eq!(wheel.is_fired(*key), slot.is_none(), "id {}", id);
                    }
                }
            }
            prop_assert_eq!(wheel.len(), model.live.len());
            prop_assert_eq!(wheel.next_expiration().is_some(), !model.armed.is_empty());
        }
        // Drain: everything left fires, in order, by the end of time.
        wheel.advance(u64::MAX, &mut |w: Waker| w.wake());
        let fired = std::mem::take(&mut *log.lock().unwrap());
        let expected: Vec<u64> = model.armed.values().copied().collect();
        prop_assert_eq!(fired, expected);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            ..ProptestConfig::default()
        })]

        #[test]
        fn wheel_matches_sorted_map(ops in proptest::collection::vec(op(), 1..200)) {
            run(ops)?;
        }
    }
}

/// Throughput figures for the report: `cargo test -p weft --release --lib wheel_million --
/// --ignored --nocapture`. Ignored by default (it is a measurement, not a check).
#[test]
#[ignore]
fn wheel_million_timers() {
    use std::time::Instant;
    let (count, waker) = counter();
    let mut wheel = Wheel::new();
    let n = 1_000_000u64;
    let t = Instant::now();
    let keys: Vec<TimerKey> = (0..n)
        .map(|i| wheel.insert(1_000 + i % 16, waker.clone()))
        .collect();
    let insert = t.elapsed();
    let t = Instant::now();
    wheel.advance(2_000, &mut |w: Waker| w.wake());
    let fire = t.elapsed();
    let t = Instant::now();
    for k in &keys {
        let _ = wheel.remove(*k);
    }
    let remove = t.elapsed();
    assert_eq!(count.0.load(Ordering::SeqCst), n as usize);
    // Steady state: arm and cancel through the free list.
    let t = Instant::now();
    for i in 0..n {
        let k = wheel.insert(3_000 + i % 5_000, waker.clone());
        let _ = wheel.remove(k);
    }
    let churn = t.elapsed();
    println!(
        "1M timers: insert {:.1} ns, fire {:.1} ns, remove {:.1} ns, insert+cancel {:.1} ns each; \
         slab {} slots x {} B",
        insert.as_nanos() as f64 / n as f64,
        fire.as_nanos() as f64 / n as f64,
        remove.as_nanos() as f64 / n as f64,
        churn.as_nanos() as f64 / n as f64,
        wheel.capacity(),
        std::mem::size_of::<Slot>(),
    );
}
