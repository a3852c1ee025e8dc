//! The fault suite of issue 6: every scenario runs in its own process
//! (re-executing this binary on that one test), under a watchdog, on the
//! backend named by `WEFT_BACKEND` (`epoll` or `poll`; unset: the default),
//! and checks that it leaked no descriptor and no thread.
//!
//! `cargo test -p weft --test faults -- --nocapture` prints each scenario's
//! figures as `FIGURE` lines; `.ci/faults` runs it once per backend. See
//! `README.md` beside this file for the scenario → test table.

#[path = "../support/mod.rs"]
mod support;

mod util;

mod poller_prop;
mod s01_emfile;
mod s02_s04_peers;
mod s05_idle_conns;
mod s07_eintr;
mod s08_panic_matrix;
mod s09_s11_shutdown_fairness;
mod s13_timers;
mod s15_cloexec;
