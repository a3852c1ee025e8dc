//! The time driver: a timer wheel behind a lock, and the runtime's clock.
#![forbid(unsafe_code)]
// Phase 1: the wheel alone; the driver that uses it comes next.
#![allow(dead_code)]

pub(crate) mod wheel;
