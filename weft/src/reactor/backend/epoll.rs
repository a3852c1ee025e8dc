//! The epoll backend (Linux): every fd registered once, edge-triggered, for both directions and
//! read hang-up; `arm` is a no-op, so the hot path makes no `epoll_ctl` call.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::{Event, Events, EVENTS_CAPACITY, WAKE_TOKEN};
use crate::reactor::ready::Ready;
use crate::sys;

const SOURCE_FLAGS: u32 =
    (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
// The wakeup descriptor is drained every time it is reported, so edge-triggered is enough.
const WAKEUP_FLAGS: u32 = (libc::EPOLLIN | libc::EPOLLET) as u32;

#[derive(Debug)]
pub(super) struct Epoll {
    epfd: OwnedFd,
}

impl Epoll {
    pub(super) fn new(wakeup_fd: RawFd) -> io::Result<Epoll> {
        let epoll = Epoll {
            epfd: sys::epoll_create()?,
        };
        epoll.ctl(
            libc::EPOLL_CTL_ADD,
            wakeup_fd,
            WAKEUP_FLAGS,
            WAKE_TOKEN,
            "epoll_ctl(ADD)",
        )?;
        Ok(epoll)
    }

    pub(super) fn register(&self, fd: RawFd, token: u64) -> io::Result<()> {
        self.ctl(
            libc::EPOLL_CTL_ADD,
            fd,
            SOURCE_FLAGS,
            token,
            "epoll_ctl(ADD)",
        )
    }

    pub(super) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0, "epoll_ctl(DEL)")
    }

    fn ctl(
        &self,
        op: libc::c_int,
        fd: RawFd,
        flags: u32,
        token: u64,
        what: &'static str,
    ) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: flags,
            u64: token,
        };
        let epfd = self.epfd.as_raw_fd();
        // SAFETY: `epfd` is the epoll descriptor this struct owns and keeps open; `ev` is a valid
        // epoll_event for the duration of the call (DEL ignores it, but kernels before 2.6.9
        // required it to be non-null). A bad `fd` only makes the call fail.
        sys::cvt_retry(|| unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) })
            .map_err(|e| sys::with_context(e, what, Some(fd)))?;
        Ok(())
    }

    pub(super) fn wait(&self, events: &mut Events, timeout_ms: libc::c_int) -> io::Result<()> {
        let buf = &mut events.epoll;
        buf.clear();
        buf.reserve(EVENTS_CAPACITY);
        let max = libc::c_int::try_from(buf.capacity()).unwrap_or(libc::c_int::MAX);
        let epfd = self.epfd.as_raw_fd();
        // SAFETY: `buf` has room for `capacity()` >= `max` epoll_events, which the kernel writes
        // at most `max` of; `epfd` is open while `self` lives.
        let res = sys::cvt(unsafe { libc::epoll_wait(epfd, buf.as_mut_ptr(), max, timeout_ms) });
        let n = match res {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(sys::with_context(e, "epoll_wait", Some(epfd))),
        };
        // SAFETY: epoll_wait initialised the first `n` entries, and `n <= max <= capacity`.
        unsafe { buf.set_len(n) };
        for ev in buf.iter() {
            // Copy the fields out: `epoll_event` is packed on x86_64, so no references to them.
            let (flags, token) = (ev.events, ev.u64);
            if token == WAKE_TOKEN {
                events.woken = true;
            } else {
                events.list.push(Event::new(token, from_epoll(flags)));
            }
        }
        Ok(())
    }
}

fn from_epoll(flags: u32) -> Ready {
    let has = |f: libc::c_int| flags & (f as u32) != 0;
    let mut ready = Ready::EMPTY;
    if has(libc::EPOLLIN) || has(libc::EPOLLPRI) {
        ready |= Ready::READABLE;
    }
    if has(libc::EPOLLOUT) {
        ready |= Ready::WRITABLE;
    }
    if has(libc::EPOLLRDHUP) {
        ready |= Ready::READ_CLOSED;
    }
    if has(libc::EPOLLHUP) {
        ready |= Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    }
    if has(libc::EPOLLERR) {
        ready |= Ready::ERROR;
    }
    ready
}
