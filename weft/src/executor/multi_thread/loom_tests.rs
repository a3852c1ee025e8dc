//! Loom models of the multi-thread scheduler.
