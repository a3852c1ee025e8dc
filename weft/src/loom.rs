//! The one place atomics, cells and locks come from, so that loom can model the real code.
