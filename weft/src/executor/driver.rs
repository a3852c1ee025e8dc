//! What the run loop sleeps in when no task is ready: the IO driver (the
//! OS poller), with its timeout bounded by the nearest timer.

use std::time::Duration;

use crate::reactor::{self, IoBackend};

/// Owned by the thread that parks.
#[derive(Debug)]
pub(crate) struct Driver {
    io: reactor::Driver,
    /// Set after a poller error was reported, so it is reported once.
    reported_error: bool,
}

/// Shared, `Send + Sync`: wakes the parked loop; reaches the reactor.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    pub(crate) io: reactor::Handle,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Config {
    pub(crate) start_paused: bool,
    pub(crate) io_backend: IoBackend,
}

impl Driver {
    pub(crate) fn new(config: Config) -> std::io::Result<(Driver, Handle)> {
        let (io, io_handle) = reactor::Driver::new(config.io_backend)?;
        Ok((
            Driver {
                io,
                reported_error: false,
            },
            Handle { io: io_handle },
        ))
    }

    /// Sleep until IO arrives, an unpark, or `timeout` (`Some(ZERO)`: just
    /// look), then wake the tasks whose IO became ready.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        if let Err(e) = self.io.park(&handle.io, timeout) {
            // epoll_wait/poll fail only on a broken descriptor set (an OS
            // or weft bug). Say so once, and don't spin on it.
            if !std::mem::replace(&mut self.reported_error, true) {
                eprintln!("weft: the event loop's poller failed: {e}");
            }
            let pause = timeout.unwrap_or(Duration::from_millis(10));
            std::thread::sleep(pause.min(Duration::from_millis(10)));
        }
    }
}

impl Handle {
    pub(crate) fn unpark(&self) {
        self.io.unpark();
    }
}
