//! The IO driver (owned by the thread that parks) and its handle (shared by everyone else).
#![forbid(unsafe_code)]

use std::io;
use std::os::fd::RawFd;
use std::sync::PoisonError;
use std::task::Waker;
use std::time::Duration;

use crate::loom::sync::{Arc, Mutex, MutexGuard};

use super::backend::{Events, Poller, EVENTS_CAPACITY};
use super::ready::Interest;
use super::registration::Registration;
use super::scheduled_io::{ScheduledIo, TICK_MASK};
use super::slab::Slab;
use super::wakeup::WakeupKind;
use super::{msg, IoBackend};
use crate::util::park::ParkState;

/// State shared by the driver, its handles and every registration.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(super) poller: Poller,
    park: ParkState,
    sources: Mutex<Sources>,
}

#[derive(Debug)]
struct Sources {
    slab: Slab,
    /// Set when the driver is dropped: no new registrations.
    shut_down: bool,
}

impl Inner {
    fn sources(&self) -> MutexGuard<'_, Sources> {
        // Every update of the table is a single slab operation; a panic cannot tear it.
        self.sources.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes a source's slot (its token is dead from now on).
    pub(super) fn release(&self, token: u64) {
        self.sources().slab.remove(token);
    }
}

/// The IO driver: waits in the OS poller and wakes the tasks whose sources became ready. Owned
/// by the one thread that parks; everything else goes through a [`Handle`].
#[derive(Debug)]
pub(crate) struct Driver {
    inner: Arc<Inner>,
    events: Events,
    /// Wakers collected under the sources lock, woken after it is released.
    wakers: Vec<Waker>,
    /// Dispatch count, stamped into the readiness of every source an event touches.
    tick: usize,
}

/// A handle to an IO driver: registers sources and unparks the driver from any thread.
/// Cheap to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub(crate) struct Handle {
    pub(super) inner: Arc<Inner>,
}

impl Driver {
    /// Creates a driver over `backend`, with the wakeup descriptor the environment selects
    /// (see `reactor/wakeup`).
    ///
    /// # Errors
    ///
    /// The OS error of creating the poller or the wakeup descriptor (e.g. `EMFILE`), naming the
    /// call; `Unsupported` for epoll off Linux.
    pub(crate) fn new(backend: IoBackend) -> io::Result<(Driver, Handle)> {
        Driver::with_wakeup(backend, WakeupKind::from_env())
    }

    /// Like [`Driver::new`] with an explicit wakeup kind.
    pub(crate) fn with_wakeup(
        backend: IoBackend,
        wakeup: WakeupKind,
    ) -> io::Result<(Driver, Handle)> {
        let inner = Arc::new(Inner {
            poller: Poller::new(backend, wakeup)?,
            park: ParkState::new(),
            sources: Mutex::new(Sources {
                slab: Slab::new(),
                shut_down: false,
            }),
        });
        let handle = Handle {
            inner: inner.clone(),
        };
        let driver = Driver {
            inner,
            events: Events::with_capacity(EVENTS_CAPACITY),
            wakers: Vec::new(),
            tick: 0,
        };
        Ok((driver, handle))
    }

    /// Waits for IO (at most `timeout`; `None` = until something happens; zero = just poll),
    /// then records the readiness of each source that reported and wakes the waker of each
    /// direction that became ready.
    ///
    /// Does not block if an unpark is pending, and every return consumes pending unparks: the
    /// caller re-checks its queues after each park. May return early (an unpark, a signal, or
    /// on poll(2) an `arm` from another thread); the caller computes its next timeout again.
    ///
    /// `handle` must be this driver's (it is the one its caller holds anyway). Returns how many
    /// wakers the IO events woke.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_wait`/`poll` (not `EINTR`), naming the call.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) -> io::Result<usize> {
        debug_assert!(
            Arc::ptr_eq(&handle.inner, &self.inner),
            "park with a foreign handle"
        );
        self.poll_events(timeout)?;
        Ok(self.dispatch())
    }

    /// The waiting half of [`park`](Self::park): fills `self.events`.
    pub(super) fn poll_events(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let inner = &*self.inner;
        let blocking = timeout != Some(Duration::ZERO) && inner.park.transition_to_parked();
        let wait_for = if blocking {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let res = inner.poller.wait(&mut self.events, wait_for);
        // Whether or not it blocked, consume any unpark: the caller checks its queues next.
        inner.park.transition_to_running();
        res
    }

    /// The dispatching half of [`park`](Self::park): sets readiness and wakes.
    /// Returns how many wakers it woke.
    pub(super) fn dispatch(&mut self) -> usize {
        if self.events.is_empty() {
            return 0;
        }
        // Tick 0 is never stamped: it marks a source no dispatch has touched yet, whose
        // readiness is still the initial assumption (see `ScheduledIo::forget_assumed`).
        self.tick = (self.tick.wrapping_add(1) & TICK_MASK).max(1);
        {
            let sources = self.inner.sources();
            for ev in self.events.iter() {
                // A token whose source is gone (or whose slot was reused) is stale: drop it.
                if let Some(io) = sources.slab.get(ev.token()) {
                    io.set_readiness(self.tick, ev.ready());
                    io.take_wakers(ev.ready(), &mut self.wakers);
                }
            }
        }
        let woken = self.wakers.len();
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
        woken
    }

    /// The backend this driver waits in.
    #[cfg(test)]
    pub(crate) fn backend(&self) -> IoBackend {
        self.inner.poller.backend()
    }

    #[cfg(test)]
    pub(super) fn events(&self) -> &Events {
        &self.events
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Every registration sees a shutdown error from now on instead of hanging, and every
        // task waiting on one is woken to see it.
        let ios = {
            let mut sources = self.inner.sources();
            sources.shut_down = true;
            sources.slab.drain()
        };
        for io in &ios {
            io.shutdown(&mut self.wakers);
        }
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
    }
}

impl Handle {
    /// Wakes the driver if it is parked (or about to park): from any thread. Writes the wakeup
    /// descriptor only then; an unpark while the driver is busy costs one atomic swap.
    pub(crate) fn unpark(&self) {
        if self.inner.park.notify() {
            // Only an OS bug (e.g. EBADF on our own fd) can fail here; a full eventfd counter or
            // pipe is already readable and is not reported. Nothing useful to do with it.
            let _ = self.inner.poller.wake();
        }
    }

    /// Registers `fd` for `interest`. The caller keeps `fd` open until the registration is
    /// deregistered or dropped.
    ///
    /// # Errors
    ///
    /// `Other` with "the weft runtime ... has shut down" if the driver is gone; the OS error of
    /// `epoll_ctl` naming the fd (e.g. `EPERM` for a regular file, `EEXIST`/`AlreadyExists` if
    /// `fd` is registered already).
    pub(crate) fn register(&self, fd: RawFd, interest: Interest) -> io::Result<Registration> {
        let io = Arc::new(ScheduledIo::new());
        let token = {
            let mut sources = self.inner.sources();
            if sources.shut_down {
                return Err(msg::shut_down());
            }
            match sources.slab.insert(io.clone()) {
                Some(t) => t,
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::OutOfMemory,
                        "the reactor's source table is full",
                    ))
                }
            }
        };
        if let Err(e) = self.inner.poller.register(fd, token, interest) {
            self.inner.release(token);
            return Err(e);
        }
        Ok(Registration::new(self.clone(), io, fd, token))
    }

    /// The backend of the driver.
    #[cfg(test)]
    pub(crate) fn backend(&self) -> IoBackend {
        self.inner.poller.backend()
    }

    /// Whether the driver is parked (or about to block).
    #[cfg(test)]
    pub(crate) fn is_parked(&self) -> bool {
        self.inner.park.is_parked_now()
    }

    /// How many sources are registered.
    #[cfg(test)]
    pub(crate) fn source_count(&self) -> usize {
        self.inner.sources().slab.len()
    }

    /// How many wakeup writes were made (unparks that found the driver parked, and poll(2)
    /// re-arms during a wait).
    #[cfg(test)]
    pub(crate) fn wakeup_writes(&self) -> usize {
        self.inner.poller.wakeup().writes()
    }
}

#[allow(dead_code)]
fn _assert_kinds() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Handle>();
    send_sync::<Registration>();
    send::<Driver>();
}
