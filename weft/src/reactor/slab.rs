//! The table of registered sources, indexed by the low half of their token.
//!
//! A token is `generation << 32 | index`. Freeing a slot bumps its generation, so a token that
//! outlives its source (an event fetched before a deregistration, a poll(2) entry replaced
//! during a wait, an fd number closed and reused by a new source) no longer matches anything:
//! the new source never gets the old one's events.
#![forbid(unsafe_code)]

use crate::loom::sync::Arc;

use super::backend::WAKE_TOKEN;
use super::scheduled_io::ScheduledIo;

#[derive(Debug)]
struct Slot {
    generation: u32,
    io: Option<Arc<ScheduledIo>>,
}

#[derive(Debug, Default)]
pub(crate) struct Slab {
    slots: Vec<Slot>,
    /// Indices of empty slots.
    free: Vec<u32>,
    len: usize,
}

/// The largest index a slot may have: `u32::MAX` is the index half of [`WAKE_TOKEN`].
const MAX_INDEX: u32 = u32::MAX - 1;

pub(crate) fn token(generation: u32, index: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(index)
}

fn split(token: u64) -> (u32, usize) {
    // Truncation is the point: the low half is the index, the high half the generation.
    let index = (token & u64::from(u32::MAX)) as u32;
    let generation = (token >> 32) as u32;
    (generation, index as usize)
}

impl Slab {
    pub(crate) fn new() -> Slab {
        Slab::default()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `io` and returns its token, or `None` when the table is full (4 billion sources).
    pub(crate) fn insert(&mut self, io: Arc<ScheduledIo>) -> Option<u64> {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&i| i <= MAX_INDEX)?;
                self.slots.push(Slot {
                    generation: 0,
                    io: None,
                });
                i
            }
        };
        let slot = self.slots.get_mut(index as usize)?;
        slot.io = Some(io);
        self.len += 1;
        let t = token(slot.generation, index);
        debug_assert_ne!(t, WAKE_TOKEN);
        Some(t)
    }

    /// The source `token` names, if it is still registered.
    pub(crate) fn get(&self, token: u64) -> Option<&Arc<ScheduledIo>> {
        let (generation, index) = split(token);
        let slot = self.slots.get(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.io.as_ref()
    }

    /// Frees the slot of `token` (if it still names it) and bumps its generation.
    pub(crate) fn remove(&mut self, token: u64) -> Option<Arc<ScheduledIo>> {
        let (generation, index) = split(token);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let io = slot.io.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        // `index` came from a u32 token half, so it fits.
        self.free.push(index as u32);
        self.len -= 1;
        Some(io)
    }

    /// Empties the table, returning every source (used at shutdown).
    pub(crate) fn drain(&mut self) -> Vec<Arc<ScheduledIo>> {
        let mut out = Vec::with_capacity(self.len);
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if let Some(io) = slot.io.take() {
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(i as u32);
                out.push(io);
            }
        }
        self.len = 0;
        out
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn reused_slot_gets_new_generation() {
        let mut slab = Slab::new();
        let a = slab.insert(Arc::new(ScheduledIo::new())).unwrap();
        assert!(slab.get(a).is_some());
        assert!(slab.remove(a).is_some());
        assert!(slab.get(a).is_none());
        assert!(slab.remove(a).is_none());
        let b = slab.insert(Arc::new(ScheduledIo::new())).unwrap();
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "same slot");
        assert_ne!(a, b, "new generation");
        assert!(slab.get(a).is_none());
        assert!(slab.get(b).is_some());
        assert_eq!(slab.len(), 1);
        assert_eq!(slab.drain().len(), 1);
        assert!(slab.get(b).is_none());
        assert_eq!(slab.len(), 0);
    }
}
