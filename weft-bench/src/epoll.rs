//! A few raw system calls for the two pieces of this crate that use no
//! runtime: the load generator and the hand-written epoll server. Each
//! retries `EINTR` and turns -1 into an `io::Error` naming the call.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn err(call: &str, fd: RawFd) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{call} on fd {fd}: {e}"))
}

/// An epoll instance.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; it returns a new descriptor or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(err("epoll_create1", -1));
        }
        // SAFETY: `fd` was just returned by epoll_create1 and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Epoll { fd })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, data: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: data };
        // SAFETY: `ev` is a live epoll_event for the duration of the call; the
        // kernel copies it and keeps no pointer.
        let rc = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) };
        if rc < 0 {
            return Err(err("epoll_ctl", fd));
        }
        Ok(())
    }

    /// Watch `fd` for `events`, reported with `data`.
    pub(crate) fn add(&self, fd: RawFd, events: u32, data: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, data)
    }

    /// Change what `fd` is watched for.
    pub(crate) fn modify(&self, fd: RawFd, events: u32, data: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, data)
    }

    /// Wait up to `timeout_ms` (-1: forever) for events; how many were written.
    pub(crate) fn wait(
        &self,
        events: &mut [libc::epoll_event],
        timeout_ms: i32,
    ) -> io::Result<usize> {
        let max = i32::try_from(events.len()).unwrap_or(i32::MAX);
        loop {
            // SAFETY: `events` is a live, writable buffer of at least `max` entries.
            let n = unsafe {
                libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms)
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = err("epoll_wait", self.fd.as_raw_fd());
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

/// An empty event, to fill an array with.
pub(crate) const NO_EVENT: libc::epoll_event = libc::epoll_event { events: 0, u64: 0 };

/// What one `read` or `write` on a non-blocking socket gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Io {
    /// This many bytes (0 from `read` is end of stream).
    Done(usize),
    /// `EAGAIN`: nothing now.
    WouldBlock,
}

fn io_result(rc: isize, call: &str, fd: RawFd) -> Option<io::Result<Io>> {
    if rc >= 0 {
        return Some(Ok(Io::Done(rc as usize)));
    }
    let e = err(call, fd);
    match e.kind() {
        io::ErrorKind::Interrupted => None,
        io::ErrorKind::WouldBlock => Some(Ok(Io::WouldBlock)),
        _ => Some(Err(e)),
    }
}

/// `read(2)` on `fd`, retrying `EINTR`.
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<Io> {
    loop {
        // SAFETY: `buf` is live and writable for `buf.len()` bytes.
        let rc = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if let Some(r) = io_result(rc, "read", fd) {
            return r;
        }
    }
}

/// `write(2)` on `fd`, retrying `EINTR`.
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<Io> {
    loop {
        // SAFETY: `buf` is live and readable for `buf.len()` bytes.
        let rc = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if let Some(r) = io_result(rc, "write", fd) {
            return r;
        }
    }
}

/// `accept4(2)` a non-blocking, close-on-exec connection from `listener`;
/// `None` on `EAGAIN`.
pub(crate) fn accept(listener: RawFd) -> io::Result<Option<OwnedFd>> {
    loop {
        // SAFETY: null address pointers ask for no peer address.
        let fd = unsafe {
            libc::accept4(
                listener,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if fd >= 0 {
            // SAFETY: accept4 returned a new descriptor that nothing else owns.
            return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
        }
        let e = err("accept4", listener);
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// Set `TCP_NODELAY` on `fd`.
pub(crate) fn set_nodelay(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a live c_int and we pass its exact size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(err("setsockopt(TCP_NODELAY)", fd));
    }
    Ok(())
}

/// `listen(2)` again with `backlog` (Linux updates the backlog of a
/// listening socket), so every server has the same accept queue.
pub(crate) fn set_backlog(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: listen takes no pointers.
    if unsafe { libc::listen(fd, backlog) } < 0 {
        return Err(err("listen", fd));
    }
    Ok(())
}

/// CPU time of this whole process so far, user + system, every thread
/// (`getrusage(RUSAGE_SELF)`); zero if it cannot be read.
pub(crate) fn process_cpu_time() -> std::time::Duration {
    // SAFETY: `rusage` is plain integers and `timeval`s; all zeroes is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a live, writable `rusage`.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return std::time::Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        std::time::Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_usec).unwrap_or(0) * 1_000,
        )
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}
