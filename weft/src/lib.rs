//! weft: an async runtime.
#![warn(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub(crate) mod loom;
pub(crate) mod sys;
pub(crate) mod util;

pub mod blocking;
pub mod executor;
pub mod io;
pub mod net;
pub mod reactor;
pub mod task;
pub mod time;

pub use weft_macros::{main, test};
