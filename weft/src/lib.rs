//! weft: an async runtime.
#![warn(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub(crate) mod loom;
pub(crate) mod util;

pub mod blocking;
pub(crate) mod executor;
pub mod task;

pub mod runtime {
    //! The runtime and its builder.
    pub use crate::executor::{Builder, Runtime};
}

pub use executor::{block_on, spawn, spawn_local, Runtime};
pub use task::spawn_blocking;
