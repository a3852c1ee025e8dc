//! TEMP(net-shim): the reactor is not wired into the run loop on `main` yet,
//! so `io_handle()` here drives one reactor per backend on a background
//! thread; its wakers wake tasks from that thread. Removed when the net
//! branch merges with the executor wiring: `source::io_handle` then calls
//! `crate::executor::context::io_handle()`.
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use crate::reactor::{Driver, Handle, IoBackend};

/// The backend the shim uses, from `WEFT_BACKEND=poll|epoll` (default: the
/// platform default).
fn backend() -> IoBackend {
    match std::env::var("WEFT_BACKEND").as_deref() {
        Ok("poll") => IoBackend::Poll,
        Ok("epoll") => IoBackend::Epoll,
        _ => IoBackend::default(),
    }
}

pub(crate) fn io_handle() -> Option<Handle> {
    static SHIM: OnceLock<Option<Handle>> = OnceLock::new();
    SHIM.get_or_init(|| {
        let (mut driver, handle) = Driver::new(backend()).ok()?;
        let h = handle.clone();
        std::thread::Builder::new()
            .name("weft-net-shim-reactor".into())
            .spawn(move || loop {
                if driver.park(&h, None).is_err() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
            .ok()?;
        Some(handle)
    })
    .clone()
}
