//! The poll(2) backend: the seed's mechanism done right.
//!
//! One entry per registered fd, holding the union of the directions someone waits on (its
//! *armed* events). A wait copies the armed entries into the caller's scratch array, releases
//! the lock, and calls `poll`; then it re-takes the lock and, for each fd named in `revents`,
//! reports an event and drops the reported directions from the entry, until `arm` adds them
//! again. That makes a level-triggered `poll` behave like one-shot edges: unread data is
//! reported once per arm, never on every wait.
//!
//! The wakeup descriptor is entry 0, always armed for reading and never dropped.
//!
//! Concurrency: all state is under one mutex. `polling` is set while a wait is between copying
//! the set and re-taking the lock; an `arm` that changes an entry then tells the caller to write
//! the wakeup, so the blocked `poll` returns and the next one sees the new interest. A change
//! made before the copy is in the copy, so no arm is ever missed. Entries removed or replaced
//! during a wait are recognised by their token and their stale `revents` are dropped.

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{Event, Events, WAKE_TOKEN};
use crate::reactor::ready::{Direction, Interest, Ready};
use crate::sys;

#[cfg(any(target_os = "linux", target_os = "android"))]
const POLLRDHUP: libc::c_short = libc::POLLRDHUP;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const POLLRDHUP: libc::c_short = 0;

const READ_EVENTS: libc::c_short = libc::POLLIN | POLLRDHUP;
const WRITE_EVENTS: libc::c_short = libc::POLLOUT;

#[derive(Debug)]
struct Entry {
    fd: RawFd,
    token: u64,
    /// The directions someone waits on (`POLLIN | POLLRDHUP`, `POLLOUT`), or 0.
    armed: libc::c_short,
}

#[derive(Debug)]
struct State {
    entries: Vec<Entry>,
    /// fd -> position in `entries`.
    index: HashMap<RawFd, usize>,
    /// A wait has copied the set and not yet re-taken the lock.
    polling: bool,
}

#[derive(Debug)]
pub(super) struct Poll {
    state: Mutex<State>,
}

impl Poll {
    pub(super) fn new(wakeup_fd: RawFd) -> Poll {
        let mut index = HashMap::new();
        index.insert(wakeup_fd, 0);
        Poll {
            state: Mutex::new(State {
                entries: vec![Entry {
                    fd: wakeup_fd,
                    token: WAKE_TOKEN,
                    armed: libc::POLLIN,
                }],
                index,
                polling: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the set half-updated in a way that
        // matters (each update is a few field writes), so recover rather than propagate.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn register(&self, fd: RawFd, token: u64, _interest: Interest) -> io::Result<()> {
        let mut st = self.lock();
        if let Some(&pos) = st.index.get(&fd) {
            // The kernel hands out only free numbers, so the source that had `fd` closed it
            // without deregistering (a descriptor closed behind the runtime's back). Its entry is
            // stale: give the number to the new source. The old registration's token no longer
            // matches, so its later `arm`/`deregister` cannot touch the new entry.
            if let Some(entry) = st.entries.get_mut(pos) {
                entry.token = token;
                entry.armed = 0;
                return Ok(());
            }
        }
        let pos = st.entries.len();
        // Nobody waits yet: a new source starts "maybe ready" and arms only after WouldBlock.
        st.entries.push(Entry {
            fd,
            token,
            armed: 0,
        });
        st.index.insert(fd, pos);
        Ok(())
    }

    /// Adds `interest` to the armed directions of `fd`. Returns whether the caller must write the
    /// wakeup (a wait is in progress and did not have these directions).
    pub(super) fn arm(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<bool> {
        let mut bits: libc::c_short = 0;
        if interest.is_readable() {
            bits |= READ_EVENTS;
        }
        if interest.is_writable() {
            bits |= WRITE_EVENTS;
        }
        let mut st = self.lock();
        let polling = st.polling;
        let entry = find(&mut st, fd, token, "poll arm")?;
        if entry.armed & bits == bits {
            return Ok(false);
        }
        entry.armed |= bits;
        Ok(polling)
    }

    pub(super) fn deregister(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut st = self.lock();
        find(&mut st, fd, token, "poll deregister")?;
        let pos = st.index.remove(&fd).unwrap_or(0);
        if pos == 0 {
            // `find` never returns the wakeup entry, whose token no source can have.
            return Ok(());
        }
        st.entries.swap_remove(pos);
        if let Some(moved) = st.entries.get(pos) {
            let moved_fd = moved.fd;
            st.index.insert(moved_fd, pos);
        }
        Ok(())
    }

    pub(super) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let fds = &mut events.poll_fds;
        let tokens = &mut events.poll_tokens;
        fds.clear();
        tokens.clear();
        {
            let mut st = self.lock();
            st.polling = true;
            for e in st.entries.iter().filter(|e| e.armed != 0) {
                fds.push(libc::pollfd {
                    fd: e.fd,
                    events: e.armed,
                    revents: 0,
                });
                tokens.push(e.token);
            }
        }
        let nfds = libc::nfds_t::try_from(fds.len()).unwrap_or(libc::nfds_t::MAX);
        let res = poll_fds(fds, nfds, timeout);
        let mut st = self.lock();
        st.polling = false;
        match res {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(sys::with_context(e, "poll", None)),
        }
        for (pfd, &token) in fds.iter().zip(tokens.iter()) {
            if pfd.revents == 0 {
                continue;
            }
            if token == WAKE_TOKEN {
                events.woken = true;
                continue;
            }
            // Deregistered (or replaced by a new source on the same fd) during the wait: stale.
            let Some(entry) = lookup(&mut st, pfd.fd, token) else {
                continue;
            };
            let ready = from_poll(pfd.revents);
            if ready.intersects(Direction::Read.mask()) {
                entry.armed &= !READ_EVENTS;
            }
            if ready.intersects(Direction::Write.mask()) {
                entry.armed &= !WRITE_EVENTS;
            }
            events.list.push(Event::new(token, ready));
        }
        Ok(())
    }
}

/// The entry of `fd` if it is registered under `token` (never the wakeup's).
fn lookup(st: &mut State, fd: RawFd, token: u64) -> Option<&mut Entry> {
    let pos = st.index.get(&fd).copied()?;
    st.entries
        .get_mut(pos)
        .filter(|e| e.token == token && token != WAKE_TOKEN)
}

/// Like [`lookup`], but a missing entry is a `NotFound` error naming `op` and `fd`.
fn find<'a>(
    st: &'a mut State,
    fd: RawFd,
    token: u64,
    op: &'static str,
) -> io::Result<&'a mut Entry> {
    lookup(st, fd, token)
        .ok_or_else(|| sys::with_context(io::Error::from(io::ErrorKind::NotFound), op, Some(fd)))
}

fn from_poll(revents: libc::c_short) -> Ready {
    let has = |f: libc::c_short| f != 0 && revents & f != 0;
    let mut ready = Ready::EMPTY;
    if has(libc::POLLIN) || has(libc::POLLPRI) {
        ready |= Ready::READABLE;
    }
    if has(libc::POLLOUT) {
        ready |= Ready::WRITABLE;
    }
    if has(POLLRDHUP) {
        ready |= Ready::READ_CLOSED;
    }
    if has(libc::POLLHUP) {
        ready |= Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    }
    if has(libc::POLLERR) || has(libc::POLLNVAL) {
        ready |= Ready::ERROR;
    }
    ready
}

/// `ppoll` where it exists (Linux), so that a timer's deadline, already rounded up to a
/// millisecond tick, is not rounded up a second time; `poll`'s whole milliseconds elsewhere.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn poll_fds(
    fds: &mut [libc::pollfd],
    nfds: libc::nfds_t,
    timeout: Option<Duration>,
) -> io::Result<libc::c_int> {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(t.subsec_nanos() as i32),
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `fds` is a valid array of at least `nfds` pollfds, owned by this call's caller and
    // not touched by anyone else until `ppoll` returns; `ts` outlives the call (or is null for
    // no timeout); a null sigmask leaves the mask alone.
    sys::cvt(unsafe { libc::ppoll(fds.as_mut_ptr(), nfds, ts_ptr, std::ptr::null()) })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn poll_fds(
    fds: &mut [libc::pollfd],
    nfds: libc::nfds_t,
    timeout: Option<Duration>,
) -> io::Result<libc::c_int> {
    // SAFETY: `fds` is a valid array of at least `nfds` pollfds, not touched by anyone else
    // until `poll` returns.
    sys::cvt(unsafe { libc::poll(fds.as_mut_ptr(), nfds, super::timeout_ms(timeout)) })
}
