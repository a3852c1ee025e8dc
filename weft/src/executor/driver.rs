//! What the run loop sleeps in when no task is ready: the IO driver (the
//! OS poller), with its timeout bounded by the nearest timer, and the
//! timers fired after every wakeup.
//!
//! The order each park follows (the time driver's contract):
//! 1. ask the timer wheel for the time to its nearest deadline (rounded up
//!    to whole milliseconds, so a loop never spins in its last millisecond);
//! 2. sleep in the poller for at most the smaller of that and the caller's
//!    timeout; the poller wakes the tasks whose IO became ready;
//! 3. fire every timer due by now, whatever ended the sleep.
//!
//! With a paused clock, an idle runtime does not sleep on timers: it looks
//! at IO without blocking and, if that woke nothing, jumps the clock to the
//! next deadline.

use std::time::Duration;

use crate::reactor::{self, IoBackend};
use crate::time::driver as time;

/// Owned by the thread that parks.
#[derive(Debug)]
pub(crate) struct Driver {
    io: reactor::Driver,
    time: time::Handle,
    /// Set after a poller error was reported, so it is reported once.
    reported_error: bool,
}

/// Shared, `Send + Sync`: wakes the parked loop; reaches the reactor and
/// the timer wheel.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    pub(crate) io: reactor::Handle,
    pub(crate) time: time::Handle,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Config {
    pub(crate) start_paused: bool,
    pub(crate) io_backend: IoBackend,
}

impl Driver {
    pub(crate) fn new(config: Config) -> std::io::Result<(Driver, Handle)> {
        let (io, io_handle) = reactor::Driver::new(config.io_backend)?;
        let time = time::Handle::new(config.start_paused);
        let unpark = io_handle.clone();
        time.set_unpark(move || unpark.unpark());
        let driver = Driver {
            io,
            time: time.clone(),
            reported_error: false,
        };
        Ok((
            driver,
            Handle {
                io: io_handle,
                time,
            },
        ))
    }

    /// Sleep until IO arrives, an unpark, the nearest timer or `timeout`
    /// (`Some(ZERO)`: just look), then wake the tasks whose IO became ready
    /// and whose timers expired.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        let time = &handle.time;
        let next_timer = time.next_timeout();
        let idle = timeout.is_none();
        if idle && next_timer.is_some() && time.is_paused() {
            let woken = self.park_io(handle, Some(Duration::ZERO));
            if woken == 0 {
                time.auto_advance();
            }
        } else {
            let t = match (timeout, next_timer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.park_io(handle, t);
        }
        time.process();
    }

    fn park_io(&mut self, handle: &Handle, timeout: Option<Duration>) -> usize {
        match self.io.park(&handle.io, timeout) {
            Ok(woken) => woken,
            Err(e) => {
                // epoll_wait/poll fail only on a broken descriptor set (an
                // OS or weft bug). Say so once, and don't spin on it.
                if !std::mem::replace(&mut self.reported_error, true) {
                    eprintln!("weft: the event loop's poller failed: {e}");
                }
                let pause = timeout.unwrap_or(Duration::from_millis(10));
                std::thread::sleep(pause.min(Duration::from_millis(10)));
                0
            }
        }
    }
}

impl Drop for Driver {
    /// The runtime is going away: wake every sleeper (they see the shutdown)
    /// and drop the wheel's wakers, which would otherwise keep tasks alive.
    fn drop(&mut self) {
        self.time.shutdown();
    }
}

impl Handle {
    pub(crate) fn unpark(&self) {
        self.io.unpark();
    }
}
