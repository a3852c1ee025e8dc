//! What the run loop sleeps in when no task is ready: the stack of drivers.
//!
//! Until the reactor lands this is a condvar parker; the reactor replaces it
//! with the OS poller and the timer wheel bounds its timeout.

use std::sync::Arc;
use std::time::Duration;

use super::park::ParkThread;

/// Owned by the thread that parks.
#[derive(Debug)]
pub(crate) struct Driver {
    park: Arc<ParkThread>,
}

/// Shared, `Send + Sync`: wakes the parked loop.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    park: Arc<ParkThread>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Config {
    pub(crate) start_paused: bool,
}

impl Driver {
    pub(crate) fn new(_config: Config) -> std::io::Result<(Driver, Handle)> {
        let park = Arc::new(ParkThread::new());
        Ok((Driver { park: park.clone() }, Handle { park }))
    }

    /// Sleep until unparked or `timeout` passes (`Some(ZERO)`: just look).
    pub(crate) fn park(&mut self, _handle: &Handle, timeout: Option<Duration>) {
        self.park.park(timeout);
    }

    /// The runtime is going away.
    pub(crate) fn shutdown(&mut self, _handle: &Handle) {}
}

impl Handle {
    pub(crate) fn unpark(&self) {
        self.park.unpark();
    }
}
