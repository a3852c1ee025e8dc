//! The OS poller behind one small interface, with two backends: `epoll` (Linux, the default)
//! and `poll(2)` (portable). A kqueue or io_uring readiness backend would be a third file here and
//! a third arm of [`Poller`]'s enum; nothing outside this folder changes.
//!
//! # Contract every backend meets
//!
//! - [`Poller::new`]`(backend, wakeup)` creates the poller and its wakeup descriptor (see
//!   `reactor/wakeup`), and registers the wakeup for reading under [`WAKE_TOKEN`].
//! - [`Poller::register`]`(fd, token, interest)`: `fd` joins the set, once. Its events carry
//!   `token` (any value but [`WAKE_TOKEN`]). The caller keeps `fd` open until
//!   [`Poller::deregister`]; registering an fd twice is an error (`AlreadyExists`).
//! - [`Poller::arm`]`(fd, token, interest)`: someone now waits on `interest` of `fd`. epoll: a
//!   no-op (every fd is registered for both directions, edge-triggered, once). poll(2): adds the
//!   directions to the fd's `pollfd`; if another thread is blocked in [`Poller::wait`] it is woken
//!   through the wakeup descriptor so that its next `poll` sees the new interest.
//! - [`Poller::deregister`]`(fd, token)`: `fd` leaves the set; must be called before `fd` is
//!   closed. The token guards the poll(2) set against removing a newer registration of a reused
//!   fd number (epoll identifies the open file itself, so it needs no such guard).
//! - [`Poller::wait`]`(&mut events, timeout)`: blocks until an event, the wakeup, or the timeout
//!   (`None` = forever; rounded *up* to whole milliseconds, so a wait never ends early; zero =
//!   just poll). Fills `events` with one [`Event`] per descriptor that reported something,
//!   sets [`Events::woken`] if the wakeup fired (and drains it), and returns `Ok` with no events
//!   when interrupted by a signal (`EINTR`); the caller re-checks its timers and waits again.
//!   Only one thread waits at a time (the driver's owner); all other methods take `&self` and
//!   may be called from any thread, including while a wait is in progress.
//! - [`Poller::wake`]: makes a wait in progress (or the next one) return.
//!
//! # Edge semantics
//!
//! Both backends report a direction *once per readiness edge*: the reactor caches readiness per
//! source and direction, and asks again only after an operation returned `WouldBlock`.
//! - epoll: `EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`, registered once; no `epoll_ctl` on the hot
//!   path. The kernel queues a new event only when new data or buffer space arrives.
//! - poll(2): one `pollfd` per fd holding the union of the directions someone waits on. When the
//!   fd reports a direction, that direction is dropped from its `pollfd` until armed again, so a
//!   level that stays high (unread data) is reported once, not on every wait. Only the fds named
//!   in `revents` are reported; fds with no armed direction are not passed to `poll` at all
//!   (the kernel would otherwise keep reporting `POLLHUP` for them).
//!
//! # Event flags
//!
//! readable (`IN`), writable (`OUT`), read_closed (`RDHUP`, `HUP`), write_closed (`HUP`) and
//! error (`ERR`, `NVAL`). `ERR` is reported as `error` only, not as write_closed: closed flags
//! are final in the reactor, and a datagram socket's errors are transient, so a final flag there
//! could make a `WouldBlock` retry loop spin. TCP errors come with `HUP`, which closes both ways.

#[cfg(target_os = "linux")]
mod epoll;
mod poll;

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use super::ready::{Interest, Ready};
use super::wakeup::{Wakeup, WakeupKind};
use super::IoBackend;

/// The token reserved for the wakeup descriptor; never given to a source.
pub(crate) const WAKE_TOKEN: u64 = u64::MAX;

/// How many events one wait returns at most (epoll); more are left for the next wait.
pub(crate) const EVENTS_CAPACITY: usize = 1024;

/// One descriptor's report from a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    token: u64,
    ready: Ready,
}

impl Event {
    pub(crate) fn new(token: u64, ready: Ready) -> Event {
        Event { token, ready }
    }
    pub(crate) fn token(&self) -> u64 {
        self.token
    }
    pub(crate) fn ready(&self) -> Ready {
        self.ready
    }
    #[cfg(test)]
    pub(crate) fn is_readable(&self) -> bool {
        self.ready.is_readable()
    }
    #[cfg(test)]
    pub(crate) fn is_writable(&self) -> bool {
        self.ready.is_writable()
    }
    #[cfg(test)]
    pub(crate) fn is_read_closed(&self) -> bool {
        self.ready.is_read_closed()
    }
    #[cfg(test)]
    pub(crate) fn is_write_closed(&self) -> bool {
        self.ready.is_write_closed()
    }
    #[cfg(test)]
    pub(crate) fn is_error(&self) -> bool {
        self.ready.is_error()
    }
}

/// The output buffer of [`Poller::wait`], reused across waits (no allocation per wait once it
/// has grown), together with each backend's scratch space.
#[derive(Debug)]
pub(crate) struct Events {
    list: Vec<Event>,
    woken: bool,
    #[cfg(target_os = "linux")]
    epoll: Vec<libc::epoll_event>,
    poll_fds: Vec<libc::pollfd>,
    poll_tokens: Vec<u64>,
}

impl Events {
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        Events {
            list: Vec::with_capacity(capacity),
            woken: false,
            #[cfg(target_os = "linux")]
            epoll: Vec::new(),
            poll_fds: Vec::new(),
            poll_tokens: Vec::new(),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Event> + '_ {
        self.list.iter()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether the last wait was ended by the wakeup descriptor.
    #[cfg(test)]
    pub(crate) fn woken(&self) -> bool {
        self.woken
    }

    fn clear(&mut self) {
        self.list.clear();
        self.woken = false;
    }
}

#[derive(Debug)]
enum Sys {
    #[cfg(target_os = "linux")]
    Epoll(epoll::Epoll),
    Poll(poll::Poll),
}

/// The poller: one backend and the wakeup descriptor it watches. `Send + Sync`; see the module
/// doc for the contract.
#[derive(Debug)]
pub(crate) struct Poller {
    sys: Sys,
    wakeup: Wakeup,
}

impl Poller {
    /// Creates a poller of `backend` with a wakeup descriptor of `wakeup`.
    ///
    /// # Errors
    ///
    /// The OS error of creating the poller or the wakeup (named in the message), or
    /// `Unsupported` for epoll off Linux.
    pub(crate) fn new(backend: IoBackend, wakeup: WakeupKind) -> io::Result<Poller> {
        let wakeup = Wakeup::new(wakeup)?;
        let sys = match backend {
            #[cfg(target_os = "linux")]
            IoBackend::Epoll => Sys::Epoll(epoll::Epoll::new(wakeup.fd())?),
            #[cfg(not(target_os = "linux"))]
            IoBackend::Epoll => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the epoll IO backend exists only on Linux; use IoBackend::Poll",
                ))
            }
            IoBackend::Poll => Sys::Poll(poll::Poll::new(wakeup.fd())),
        };
        Ok(Poller { sys, wakeup })
    }

    /// Which backend this is.
    #[cfg(test)]
    pub(crate) fn backend(&self) -> IoBackend {
        match self.sys {
            #[cfg(target_os = "linux")]
            Sys::Epoll(_) => IoBackend::Epoll,
            Sys::Poll(_) => IoBackend::Poll,
        }
    }

    /// Adds `fd` to the set, reporting its events with `token`.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if `fd` is registered already; the OS error of `epoll_ctl` otherwise
    /// (e.g. `EPERM` for a regular file), naming the fd.
    pub(crate) fn register(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        debug_assert_ne!(token, WAKE_TOKEN);
        match &self.sys {
            #[cfg(target_os = "linux")]
            Sys::Epoll(e) => e.register(fd, token),
            Sys::Poll(p) => p.register(fd, token, interest),
        }
    }

    /// Says someone now waits on `interest` of `fd` (see the contract: a no-op on epoll).
    ///
    /// # Errors
    ///
    /// `NotFound` if `fd` is not registered under `token` (poll(2)); an error of the wakeup write.
    #[inline]
    pub(crate) fn arm(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        match &self.sys {
            #[cfg(target_os = "linux")]
            Sys::Epoll(_) => Ok(()),
            Sys::Poll(p) => {
                if p.arm(fd, token, interest)? {
                    self.wakeup.wake()?;
                }
                Ok(())
            }
        }
    }

    /// Removes `fd` from the set. Call it before closing `fd`.
    ///
    /// # Errors
    ///
    /// `NotFound` if `fd` is not registered (under `token`, for poll(2)); the OS error of
    /// `epoll_ctl` otherwise, naming the fd.
    pub(crate) fn deregister(&self, fd: RawFd, token: u64) -> io::Result<()> {
        match &self.sys {
            #[cfg(target_os = "linux")]
            Sys::Epoll(e) => e.deregister(fd),
            Sys::Poll(p) => p.deregister(fd, token),
        }
    }

    /// Waits for events (see the contract in the module doc).
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_wait`/`poll` other than `EINTR` (which returns `Ok`).
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        match &self.sys {
            #[cfg(target_os = "linux")]
            Sys::Epoll(e) => e.wait(events, timeout)?,
            Sys::Poll(p) => p.wait(events, timeout)?,
        }
        if events.woken {
            self.wakeup.drain();
        }
        Ok(())
    }

    /// Makes a wait in progress, or else the next one, return.
    ///
    /// # Errors
    ///
    /// Only an unexpected OS error of the wakeup write.
    pub(crate) fn wake(&self) -> io::Result<()> {
        self.wakeup.wake()
    }

    #[cfg(test)]
    pub(crate) fn wakeup(&self) -> &Wakeup {
        &self.wakeup
    }
}

/// A wait's timeout for `epoll_wait`/`poll`: `-1` for none, else whole milliseconds rounded
/// *up* (a 1.5 ms wait must not end after 1 ms), saturated at `i32::MAX` (about 24.8 days;
/// the caller waits again when it wakes early).
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn timeout_rounds_up() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(timeout_ms(Some(Duration::from_millis(7))), 7);
        assert_eq!(timeout_ms(Some(Duration::MAX)), libc::c_int::MAX);
    }
}
