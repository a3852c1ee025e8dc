//! A hierarchical hashed timer wheel: O(1) insert and cancel, O(levels) next deadline.
//!
//! # Shape
//!
//! Time is counted in ticks of 1 ms. The wheel has [`LEVELS`] levels of 64 slots; a slot of
//! level `L` spans `64^L` ticks, so level 0 holds the next 64 ms one tick per slot, level 1 the
//! next ~4 s in 64 ms slots, ... and level 5 the next ~2.2 years (2^36 ms) in ~12.7 day slots.
//!
//! An entry due at `when` lives in the level of the highest 6-bit group in which `when` and
//! `elapsed` differ, in the slot named by `when`'s bits of that group. Hence:
//!
//! * every entry of level 0 is due exactly at its slot's tick;
//! * the occupied slots of a level are all at or after the slot `elapsed` is in (never behind
//!   it), so the next occupied slot is one `trailing_zeros` on that level's bitmap, and the
//!   first non-empty level holds the earliest entry: [`Wheel::next_expiration`] is O(levels);
//! * when `elapsed` reaches the start of a slot of level `L > 0`, its entries are *cascaded*:
//!   re-linked by the same rule, which puts them in a lower level (or level 0's current slot).
//!   An entry is cascaded at most [`LEVELS`] times in its life.
//!
//! Entries due 2^36 ticks or more beyond `elapsed`'s 2^36-tick block sit in an unordered
//! *overflow* list with a lower bound of their deadlines; when `elapsed` reaches that bound's
//! block the list is re-linked. Entries inserted with `when <= elapsed` go to the *due* list and
//! fire on the next [`Wheel::advance`], before anything else.
//!
//! # Storage
//!
//! Entries live in a slab (`Vec<Slot>` + free list threaded through the vacant slots), so a
//! steady stream of timers allocates nothing. Every list (each wheel slot, due, overflow) is a
//! doubly linked list through slab indices, so unlinking a cancelled entry is O(1). A
//! [`TimerKey`] carries the slot's generation, bumped on every removal, so a stale key never
//! touches a reused slot (barring 2^32 reuses of one slot while an old key is kept).
//!
//! # Ordering
//!
//! [`Wheel::advance`] fires the due list first (insertion order), then entries in increasing
//! `when`; entries with the same `when` fire in the order they were inserted or last reset.
//! Nothing fires before its `when`.
#![forbid(unsafe_code)]

use std::fmt;
use std::task::Waker;

/// Number of levels.
const LEVELS: usize = 6;
/// log2 of the slots per level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// log2 of the ticks the levels cover: 64^6 = 2^36 ticks (~2.2 years at 1 ms).
const SPAN_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// "No entry" in a link.
const NIL: u32 = u32::MAX;

/// Where an entry is. `0..WHEEL_LISTS` is `level * SLOTS + slot`; the list index equals the
/// location for every location that is a list.
type Loc = u16;
const WHEEL_LISTS: Loc = (LEVELS * SLOTS) as Loc;
const LOC_DUE: Loc = WHEEL_LISTS;
const LOC_OVERFLOW: Loc = WHEEL_LISTS + 1;
const LIST_COUNT: usize = WHEEL_LISTS as usize + 2;
const LOC_FIRED: Loc = WHEEL_LISTS + 2;
const LOC_VACANT: Loc = WHEEL_LISTS + 3;

/// Names one timer in a [`Wheel`]. A key whose entry was removed is *stale*: every method
/// treats it as absent, even after its slot is reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

/// One slab slot: an armed, fired or vacant entry.
struct Slot {
    /// Tick at which the entry fires.
    when: u64,
    /// Who to wake; `None` once fired or while nobody waits.
    waker: Option<Waker>,
    /// Neighbours in the entry's list (`NIL` at the ends). `next` threads the free list while
    /// the slot is vacant.
    prev: u32,
    next: u32,
    /// Bumped whenever the slot is freed.
    generation: u32,
    /// Which list holds it, or `LOC_FIRED` / `LOC_VACANT`.
    loc: Loc,
}

/// Head and tail of one intrusive list.
#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

impl List {
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };
}

/// What [`Wheel::next_expiration`] found: the tick and which list to process there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Expiration {
    tick: u64,
    loc: Loc,
}

/// A hierarchical timer wheel of 1 ms ticks. See the module doc.
pub(crate) struct Wheel {
    /// Ticks processed: every entry with `when <= elapsed` that was in the wheel has fired.
    elapsed: u64,
    slab: Vec<Slot>,
    /// Head of the free list through vacant slots.
    free: u32,
    /// Armed and fired entries (keys that are not stale).
    live: usize,
    lists: [List; LIST_COUNT],
    /// Bit `s` of `occupied[L]`: slot `s` of level `L` is not empty.
    occupied: [u64; LEVELS],
    /// A lower bound of the `when` of every overflow entry (`u64::MAX` when there is none).
    overflow_min: u64,
}

impl fmt::Debug for Wheel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("live", &self.live)
            .field("capacity", &self.slab.len())
            .field("next_expiration", &self.next_expiration())
            .finish()
    }
}

impl Default for Wheel {
    fn default() -> Self {
        Wheel::new()
    }
}

/// Mask of the ticks below level `level`'s slot size times 64 (the span of one turn of it).
fn turn_mask(level: usize) -> u64 {
    (1u64 << (SLOT_BITS * (level as u32 + 1))) - 1
}

impl Wheel {
    /// An empty wheel with `elapsed() == 0`.
    pub(crate) fn new() -> Self {
        Wheel {
            elapsed: 0,
            slab: Vec::new(),
            free: NIL,
            live: 0,
            lists: [List::EMPTY; LIST_COUNT],
            occupied: [0; LEVELS],
            overflow_min: u64::MAX,
        }
    }

    /// Ticks processed so far.
    #[cfg(test)]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Live entries: armed plus fired-but-not-removed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Number of slab slots, live or vacant (the memory high-water mark, in entries).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slab.len()
    }

    /// Arms a new timer due at tick `when`, waking `waker` then. A `when <= elapsed()` is due at
    /// once: it fires on the next [`advance`](Self::advance).
    pub(crate) fn insert(&mut self, when: u64, waker: Waker) -> TimerKey {
        let slot = Slot {
            when,
            waker: Some(waker),
            prev: NIL,
            next: NIL,
            generation: 0,
            loc: LOC_FIRED,
        };
        let index = if self.free != NIL {
            let index = self.free;
            let entry = &mut self.slab[index as usize];
            self.free = entry.next;
            let generation = entry.generation;
            *entry = Slot { generation, ..slot };
            index
        } else {
            // More than 2^32 - 1 live timers cannot be addressed; the slab would need > 160 GiB
            // first, so treat it as the allocation failure it would be.
            let index = u32::try_from(self.slab.len())
                .ok()
                .filter(|&i| i != NIL)
                .unwrap_or_else(|| {
                    std::alloc::handle_alloc_error(std::alloc::Layout::new::<Slot>())
                });
            self.slab.push(slot);
            index
        };
        self.live += 1;
        let loc = self.loc_for_insert(when);
        self.link(index, loc);
        TimerKey {
            index,
            generation: self.slab[index as usize].generation,
        }
    }

    /// Stores `waker` as the one to wake when `key` fires, unless it already `will_wake` the
    /// same task (then nothing is cloned).
    ///
    /// Returns `Ok` with the displaced waker (drop it outside any lock: dropping a waker can
    /// run arbitrary code), or [`NotArmed`] if the timer fired or `key` is stale.
    pub(crate) fn set_waker(
        &mut self,
        key: TimerKey,
        waker: &Waker,
    ) -> Result<Option<Waker>, NotArmed> {
        let entry = self.entry_mut(key).ok_or(NotArmed)?;
        if entry.loc == LOC_FIRED {
            return Err(NotArmed);
        }
        match &entry.waker {
            Some(old) if old.will_wake(waker) => Ok(None),
            _ => Ok(entry.waker.replace(waker.clone())),
        }
    }

    /// Re-arms `key` to fire at `when` (also after it fired; it keeps its waker, if any).
    /// Returns false if `key` is stale.
    pub(crate) fn reset(&mut self, key: TimerKey, when: u64) -> bool {
        let Some(entry) = self.entry_mut(key) else {
            return false;
        };
        entry.when = when;
        let index = key.index;
        self.unlink(index);
        let loc = self.loc_for_insert(when);
        self.link(index, loc);
        true
    }

    /// Cancels `key` (armed or fired) and frees its slot. Returns `None` if `key` was stale,
    /// else the waker the entry still held, for the caller to drop outside any lock.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<Option<Waker>> {
        let entry = self.entry_mut(key)?;
        let waker = entry.waker.take();
        let index = key.index;
        self.unlink(index);
        let free = self.free;
        let entry = &mut self.slab[index as usize];
        entry.loc = LOC_VACANT;
        entry.generation = entry.generation.wrapping_add(1);
        entry.next = free;
        entry.prev = NIL;
        self.free = index;
        self.live -= 1;
        Some(waker)
    }

    /// True if `key` fired (and was not re-armed since). False if armed or stale.
    pub(crate) fn is_fired(&self, key: TimerKey) -> bool {
        self.entry(key).is_some_and(|e| e.loc == LOC_FIRED)
    }

    /// True if `key` has fired, or is due at a tick the wheel has already processed (re-armed
    /// in the past: it fires on the next [`advance`](Self::advance)).
    pub(crate) fn is_due(&self, key: TimerKey) -> bool {
        self.entry(key)
            .is_some_and(|e| e.loc == LOC_FIRED || e.when <= self.elapsed)
    }

    /// True if `key` names a live entry (armed or fired).
    pub(crate) fn contains(&self, key: TimerKey) -> bool {
        self.entry(key).is_some()
    }

    /// Consumes the wheel, yielding the waker of every armed entry (for shutdown).
    pub(crate) fn into_wakers(self) -> impl Iterator<Item = Waker> {
        self.slab.into_iter().filter_map(|slot| slot.waker)
    }

    /// The tick at which the wheel next has work: a **safe lower bound**, never later than the
    /// earliest armed `when`. It is exact when the earliest entry is due within the current 64
    /// ticks (level 0) or is in the due list (then it is `elapsed()`); otherwise it is the start
    /// of the slot that must be cascaded first, and advancing to it may fire nothing. `None` if
    /// no entry is armed.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next().map(|e| e.tick)
    }

    /// Fires every armed entry with `when <= now`, in deadline order (see the module doc),
    /// handing each waker to `wake`; fired entries stay live until removed. Afterwards
    /// `elapsed() == max(elapsed(), now)`.
    pub(crate) fn advance(&mut self, now: u64, wake: &mut impl FnMut(Waker)) {
        while !self.advance_batch(now, usize::MAX, wake) {}
    }

    /// Like [`advance`](Self::advance), but stops after firing `budget` entries, so that a
    /// caller holding a lock can release it to run the wakers. Returns true once caught up
    /// with `now`. A `budget` of 0 is treated as 1.
    pub(crate) fn advance_batch(
        &mut self,
        now: u64,
        budget: usize,
        wake: &mut impl FnMut(Waker),
    ) -> bool {
        let mut budget = budget.max(1);
        loop {
            let Some(exp) = self.next().filter(|e| e.tick <= now) else {
                self.elapsed = self.elapsed.max(now);
                return true;
            };
            if budget == 0 {
                return false;
            }
            debug_assert!(exp.tick >= self.elapsed, "the wheel never goes back");
            self.elapsed = exp.tick;
            if exp.loc == LOC_DUE || exp.loc < SLOTS as Loc {
                // Due list or a level-0 slot: every entry in it is due now. Fire in order.
                while budget > 0 {
                    let Some(index) = self.pop_front(exp.loc) else {
                        break;
                    };
                    let entry = &mut self.slab[index as usize];
                    entry.loc = LOC_FIRED;
                    if let Some(waker) = entry.waker.take() {
                        wake(waker);
                    }
                    budget -= 1;
                }
            } else {
                // A higher-level slot or the overflow list: re-link its entries from `elapsed`.
                if exp.loc == LOC_OVERFLOW {
                    self.overflow_min = u64::MAX;
                }
                // Detach the whole list first: overflow entries may go back into it.
                let mut cursor = self.take_list(exp.loc);
                while cursor != NIL {
                    let entry = &mut self.slab[cursor as usize];
                    let (index, when, next) = (cursor, entry.when, entry.next);
                    entry.prev = NIL;
                    entry.next = NIL;
                    entry.loc = LOC_FIRED;
                    cursor = next;
                    let loc = self.loc_from_elapsed(when);
                    self.link(index, loc);
                }
            }
        }
    }

    /// The earliest list with work, and when.
    fn next(&self) -> Option<Expiration> {
        if self.lists[LOC_DUE as usize].head != NIL {
            return Some(Expiration {
                tick: self.elapsed,
                loc: LOC_DUE,
            });
        }
        for level in 0..LEVELS {
            let shift = SLOT_BITS * level as u32;
            let current = (self.elapsed >> shift) & (SLOTS as u64 - 1);
            let occupied = self.occupied[level];
            debug_assert_eq!(
                occupied & !(u64::MAX << current),
                0,
                "slots behind elapsed must be empty"
            );
            let ahead = occupied & (u64::MAX << current);
            if ahead != 0 {
                let slot = u64::from(ahead.trailing_zeros());
                let tick = (self.elapsed & !turn_mask(level)) + (slot << shift);
                return Some(Expiration {
                    tick,
                    loc: (level * SLOTS) as Loc + slot as Loc,
                });
            }
        }
        if self.lists[LOC_OVERFLOW as usize].head != NIL {
            // Every overflow entry is due in a later 2^36 block than `elapsed`; re-link them
            // when `elapsed` reaches the block of the lowest bound.
            let block = self.overflow_min >> SPAN_BITS << SPAN_BITS;
            return Some(Expiration {
                tick: block.max(self.elapsed),
                loc: LOC_OVERFLOW,
            });
        }
        None
    }

    /// Where a timer armed now at `when` goes.
    fn loc_for_insert(&self, when: u64) -> Loc {
        if when <= self.elapsed {
            LOC_DUE
        } else {
            self.loc_from_elapsed(when)
        }
    }

    /// Where an entry with `when >= elapsed` belongs in the levels (or overflow).
    fn loc_from_elapsed(&self, when: u64) -> Loc {
        debug_assert!(when >= self.elapsed);
        let diff = when ^ self.elapsed;
        if diff >> SPAN_BITS != 0 {
            return LOC_OVERFLOW;
        }
        let level = if diff == 0 {
            0
        } else {
            (63 - diff.leading_zeros()) / SLOT_BITS
        };
        let slot = (when >> (SLOT_BITS * level)) & (SLOTS as u64 - 1);
        (level as usize * SLOTS) as Loc + slot as Loc
    }

    fn entry(&self, key: TimerKey) -> Option<&Slot> {
        self.slab
            .get(key.index as usize)
            .filter(|e| e.generation == key.generation && e.loc != LOC_VACANT)
    }

    fn entry_mut(&mut self, key: TimerKey) -> Option<&mut Slot> {
        self.slab
            .get_mut(key.index as usize)
            .filter(|e| e.generation == key.generation && e.loc != LOC_VACANT)
    }

    /// Appends slot `index` (not in any list) to list `loc`, or marks it fired.
    fn link(&mut self, index: u32, loc: Loc) {
        if loc == LOC_FIRED {
            self.slab[index as usize].loc = LOC_FIRED;
            return;
        }
        if loc == LOC_OVERFLOW {
            self.overflow_min = self.overflow_min.min(self.slab[index as usize].when);
        }
        let list = &mut self.lists[loc as usize];
        let tail = list.tail;
        list.tail = index;
        if tail == NIL {
            list.head = index;
        } else {
            self.slab[tail as usize].next = index;
        }
        let entry = &mut self.slab[index as usize];
        entry.prev = tail;
        entry.next = NIL;
        entry.loc = loc;
        if loc < WHEEL_LISTS {
            let (level, slot) = (loc as usize / SLOTS, loc as usize % SLOTS);
            self.occupied[level] |= 1 << slot;
        }
    }

    /// Takes slot `index` out of whatever list holds it (a no-op for a fired entry).
    fn unlink(&mut self, index: u32) {
        let entry = &self.slab[index as usize];
        let (loc, prev, next) = (entry.loc, entry.prev, entry.next);
        if loc >= LOC_FIRED {
            return;
        }
        let list = &mut self.lists[loc as usize];
        if prev == NIL {
            list.head = next;
        } else {
            self.slab[prev as usize].next = next;
        }
        if next == NIL {
            list.tail = prev;
        } else {
            self.slab[next as usize].prev = prev;
        }
        let empty = self.lists[loc as usize].head == NIL;
        if empty && loc < WHEEL_LISTS {
            let (level, slot) = (loc as usize / SLOTS, loc as usize % SLOTS);
            self.occupied[level] &= !(1 << slot);
        }
        let entry = &mut self.slab[index as usize];
        entry.prev = NIL;
        entry.next = NIL;
        entry.loc = LOC_FIRED;
    }

    /// Empties list `loc` and returns its old head; the chain through `next` is left intact
    /// for the caller to walk and re-link.
    fn take_list(&mut self, loc: Loc) -> u32 {
        let list = std::mem::replace(&mut self.lists[loc as usize], List::EMPTY);
        if loc < WHEEL_LISTS {
            let (level, slot) = (loc as usize / SLOTS, loc as usize % SLOTS);
            self.occupied[level] &= !(1 << slot);
        }
        list.head
    }

    /// Unlinks and returns the first entry of list `loc` (left marked fired, in no list).
    fn pop_front(&mut self, loc: Loc) -> Option<u32> {
        let head = self.lists[loc as usize].head;
        if head == NIL {
            return None;
        }
        self.unlink(head);
        Some(head)
    }
}

/// [`Wheel::set_waker`] on a timer that already fired, or on a stale key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NotArmed;

#[cfg(test)]
mod tests;
