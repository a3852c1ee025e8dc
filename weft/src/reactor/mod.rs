//! The reactor: weft's event loop over the operating system's poller.
//!
//! The seed's loop pushed a `pollfd` and a waker on every `WouldBlock` and woke every task on
//! every wakeup. Here a source is registered once; the reactor keeps its readiness per
//! direction and wakes only the task waiting on the direction that became ready.
//!
//! ```text
//!  task ── Registration::poll_io(dir, syscall) ── WouldBlock ──> clear readiness, store waker
//!                 │                                                       ^
//!                 v (ScheduledIo: readiness word + tick, one waker per direction)
//!  Driver::park ──> Poller::wait (epoll | poll(2)) ──> events ──> set readiness, wake wakers
//!                          ^
//!  Handle::unpark ── (only if parked) ──> wakeup fd (eventfd | pipe)
//! ```
//!
//! - `Driver` is owned by the thread that parks; `Handle` is shared (`Send + Sync`):
//!   it registers sources and unparks the driver from any thread.
//! - `backend/`: the poller contract and its epoll and poll(2) implementations.
//! - `wakeup/`: the eventfd or pipe that interrupts a wait.
//! - `scheduled_io`: per-source readiness and wakers; `registration`: what a socket owns.
//! - `park`: the state word that makes an unpark cost a system call only when the driver sleeps.
//!
//! The unsafe code of the reactor is confined to `backend/` and `wakeup/`; every other module
//! here forbids it.

mod backend;
mod driver;
mod ready;
mod registration;
mod scheduled_io;
mod slab;
mod wakeup;

#[cfg(test)]
mod tests;

pub(crate) use self::{
    driver::{Driver, Handle},
    ready::{Direction, Interest, Ready},
    registration::Registration,
    scheduled_io::ReadyEvent,
};

/// Which operating-system poller a runtime's event loop sleeps in.
///
/// Both backends behave the same to the code above them: a source is registered once, and each
/// direction (read, write) is reported once per readiness change, waking only the task waiting
/// on it. They differ in cost: epoll's wait costs the same whatever the number of sources;
/// poll(2) passes every source someone waits on to the kernel on each wait.
///
/// # Portability
///
/// [`IoBackend::Epoll`] exists only on Linux; selecting it elsewhere makes runtime creation
/// fail with [`std::io::ErrorKind::Unsupported`]. [`IoBackend::Poll`] works on every Unix.
/// The default is `Epoll` on Linux and `Poll` elsewhere (and `Poll` when weft is built with
/// `--cfg weft_force_poll`, which CI uses to test it on Linux).
///
/// # Examples
///
/// ```
/// use weft::runtime::IoBackend;
///
/// let backend = IoBackend::default();
/// assert!(matches!(backend, IoBackend::Epoll | IoBackend::Poll));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IoBackend {
    /// Linux `epoll(7)`, edge-triggered: one `epoll_ctl` per source for its whole life.
    Epoll,
    /// POSIX `poll(2)`: portable; one `pollfd` per source holding the directions waited on.
    Poll,
}

impl Default for IoBackend {
    fn default() -> IoBackend {
        if cfg!(all(target_os = "linux", not(weft_force_poll))) {
            IoBackend::Epoll
        } else {
            IoBackend::Poll
        }
    }
}

/// The reactor's user-visible error messages, each defined once.
// Kept beside the reactor: these messages are built into io::Errors here.
pub(crate) mod msg {
    use std::io;

    /// A registration whose driver was dropped.
    pub(crate) const SHUT_DOWN: &str = "the weft runtime that owned this socket has shut down";
    /// A registration used after `deregister`.
    pub(crate) const DEREGISTERED: &str =
        "this socket was deregistered from the weft runtime's reactor";

    pub(crate) fn shut_down() -> io::Error {
        io::Error::other(SHUT_DOWN)
    }

    pub(crate) fn deregistered() -> io::Error {
        io::Error::other(DEREGISTERED)
    }
}
