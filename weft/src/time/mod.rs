//! Timers: the time driver and (soon) `sleep`, `timeout`, `interval`.
#![forbid(unsafe_code)]

pub(crate) mod driver;
