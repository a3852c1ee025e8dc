//! weft: an async runtime you can read.
//!
//! weft runs futures: an executor polls the tasks that were woken, and when
//! none is ready the loop sleeps in the operating system's poller until IO
//! arrives or the nearest timer is due. It is the event loop of the essay
//! "Async Rust, Part Three: IO" with every shortcut removed.
//!
//! ```
//! use std::rc::Rc;
//!
//! weft::block_on(async {
//!     // `spawn` takes `Send` futures, `spawn_local` any future.
//!     let a = weft::spawn(async { 20 });
//!     let b = weft::spawn_local({
//!         let local = Rc::new(22);
//!         async move { *local }
//!     });
//!     let sum = a.await.unwrap() + b.await.unwrap();
//!     assert_eq!(sum, 42);
//!
//!     // A panic in a task is caught and handed to whoever awaits it.
//!     let err = weft::spawn(async { panic!("oops") }).await.unwrap_err();
//!     assert!(err.is_panic());
//! });
//! ```
//!
//! # Layers
//!
//! - [`task`]: the task allocation, its state machine, `JoinHandle`.
//! - `executor`: the run queue and the loop ([`Runtime`], [`runtime::Builder`]).
//! - [`blocking`]: the thread pool behind [`spawn_blocking`].
#![warn(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub(crate) mod loom;
pub(crate) mod sys;
pub(crate) mod util;

pub mod blocking;
pub mod compat;
pub(crate) mod executor;
pub mod io;
pub mod net;
pub(crate) mod reactor;
pub mod task;
pub mod time;

pub mod runtime {
    //! The runtime and its builder.
    pub use crate::executor::{Builder, Handle, Runtime};
    pub use crate::reactor::IoBackend;
}

pub use executor::{block_on, spawn, spawn_local, Runtime};
pub use task::spawn_blocking;
pub use weft_macros::{main, test};
