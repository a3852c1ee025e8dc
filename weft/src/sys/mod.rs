//! The OS perimeter: every raw system call the runtime makes goes through here or through the
//! backend files under `reactor/{backend, wakeup}`, and all of them turn their result into an
//! `io::Result` with [`cvt`] or [`cvt_retry`].
//!
//! Rules this module enforces for the rest of the crate:
//! - `-1` becomes `io::Error::last_os_error()` at once (before anything else can clobber `errno`).
//! - `EINTR` is retried here ([`cvt_retry`]); callers never see it, except from the poller's
//!   wait, which reports it as "no events" so the caller can re-check its timers, and from the
//!   one-attempt socket calls [`recv`] and [`send`] (their caller, `Source`, retries).
//! - Exception to `cvt`: on x86_64 Linux, [`recv`] and [`send`] issue the `syscall`
//!   instruction themselves and turn the kernel's `-errno` into the error directly.
//! - Every descriptor is created with `CLOEXEC | NONBLOCK` (where it has a blocking mode) and is
//!   wrapped in an [`OwnedFd`] in the same statement, so no error path can leak it.
//! - Errors that leave the OS layer name the operation and the descriptor ([`with_context`]),
//!   keeping the `io::ErrorKind`, and the original error (with its raw OS code) as the source.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Integer results of libc calls that use `-1` to say "failed, see errno".
pub(crate) trait IsMinusOne: Copy {
    /// Whether this is the error sentinel.
    fn is_minus_one(self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => {$(
        impl IsMinusOne for $t {
            #[inline]
            fn is_minus_one(self) -> bool {
                self == -1
            }
        }
    )*};
}
impl_is_minus_one! { i32 i64 isize }

/// Converts a libc return value: `-1` becomes the current `errno` as an `io::Error`.
#[inline]
pub(crate) fn cvt<T: IsMinusOne>(t: T) -> io::Result<T> {
    if t.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(t)
    }
}

/// Runs `f` (one system call) until it fails with something other than `EINTR`.
#[inline]
pub(crate) fn cvt_retry<T: IsMinusOne>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// The error a failed system call becomes once it leaves the OS layer: which operation failed on
/// which descriptor, with the OS error as its source.
#[derive(Debug)]
pub(crate) struct OsError {
    op: &'static str,
    fd: Option<RawFd>,
    source: io::Error,
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fd {
            Some(fd) => write!(f, "{} on fd {} failed: {}", self.op, fd, self.source),
            None => write!(f, "{} failed: {}", self.op, self.source),
        }
    }
}

impl std::error::Error for OsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `err` so that its message names `op` (a syscall, e.g. `"epoll_ctl(ADD)"`) and `fd`.
///
/// The kind is kept; the original error (and so its raw OS code) stays reachable through
/// `source()`, and [`raw_os_error`] finds it.
pub(crate) fn with_context(err: io::Error, op: &'static str, fd: Option<RawFd>) -> io::Error {
    io::Error::new(
        err.kind(),
        OsError {
            op,
            fd,
            source: err,
        },
    )
}

/// The raw OS error code of `err`, looking through a [`with_context`] wrapper.
#[cfg(test)]
pub(crate) fn raw_os_error(err: &io::Error) -> Option<i32> {
    if let Some(code) = err.raw_os_error() {
        return Some(code);
    }
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<OsError>())
        .and_then(|os| os.source.raw_os_error())
}

/// Takes ownership of a descriptor a system call just returned.
///
/// # Safety
///
/// `fd` must be a freshly created, open descriptor that nothing else owns or will close.
unsafe fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller guarantees `fd` is open and unowned (this function's contract).
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Creates a close-on-exec epoll instance.
#[cfg(target_os = "linux")]
pub(crate) fn epoll_create() -> io::Result<OwnedFd> {
    // SAFETY: epoll_create1 takes no pointers; any flag value is memory safe.
    let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })
        .map_err(|e| with_context(e, "epoll_create1", None))?;
    // SAFETY: epoll_create1 succeeded, so `fd` is a new descriptor owned by no one else.
    Ok(unsafe { owned(fd) })
}

/// Creates a close-on-exec, non-blocking eventfd with a zero counter.
#[cfg(target_os = "linux")]
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers; any argument value is memory safe.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })
        .map_err(|e| with_context(e, "eventfd", None))?;
    // SAFETY: eventfd succeeded, so `fd` is a new descriptor owned by no one else.
    Ok(unsafe { owned(fd) })
}

/// Creates a pipe whose two ends are close-on-exec and non-blocking: `(read end, write end)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
    ))]
    {
        // SAFETY: `fds` is a valid, writable array of two c_ints, as pipe2 requires.
        cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })
            .map_err(|e| with_context(e, "pipe2", None))?;
        // SAFETY: pipe2 succeeded, so both entries are new descriptors owned by no one else.
        Ok(unsafe { (owned(fds[0]), owned(fds[1])) })
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
    )))]
    {
        // SAFETY: `fds` is a valid, writable array of two c_ints, as pipe requires.
        cvt(unsafe { libc::pipe(fds.as_mut_ptr()) }).map_err(|e| with_context(e, "pipe", None))?;
        // SAFETY: pipe succeeded, so both entries are new descriptors owned by no one else;
        // wrapping them at once closes them on the error paths below.
        let (r, w) = unsafe { (owned(fds[0]), owned(fds[1])) };
        for fd in [&r, &w] {
            set_cloexec(std::os::fd::AsFd::as_fd(fd))?;
            set_nonblocking(std::os::fd::AsFd::as_fd(fd), true)?;
        }
        Ok((r, w))
    }
}

/// Sets or clears `O_NONBLOCK` on `fd`.
#[cfg(test)]
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL takes no pointer argument; `raw` is open for the borrow's lifetime.
    let flags = cvt_retry(|| unsafe { libc::fcntl(raw, libc::F_GETFL) })
        .map_err(|e| with_context(e, "fcntl(F_GETFL)", Some(raw)))?;
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        // SAFETY: F_SETFL takes an int argument; `raw` is open for the borrow's lifetime.
        cvt_retry(|| unsafe { libc::fcntl(raw, libc::F_SETFL, new) })
            .map_err(|e| with_context(e, "fcntl(F_SETFL)", Some(raw)))?;
    }
    Ok(())
}

/// Sets `FD_CLOEXEC` on `fd` (for platforms whose calls can't create descriptors with it).
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_SETFD takes an int argument; `raw` is open for the borrow's lifetime.
    cvt_retry(|| unsafe { libc::fcntl(raw, libc::F_SETFD, libc::FD_CLOEXEC) })
        .map_err(|e| with_context(e, "fcntl(F_SETFD)", Some(raw)))?;
    Ok(())
}

/// `read(2)` on `fd`, retrying `EINTR`. `WouldBlock` is returned as is, without context, since
/// callers treat it as "not ready".
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let raw = fd.as_raw_fd();
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call, and
    // `raw` is open for the borrow's lifetime.
    let n = cvt_retry(|| unsafe { libc::read(raw, buf.as_mut_ptr().cast(), buf.len()) })?;
    // `n` is non-negative after cvt and at most `buf.len()`.
    Ok(n.unsigned_abs())
}

/// `write(2)` on `fd`, retrying `EINTR`. `WouldBlock` is returned as is.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    let raw = fd.as_raw_fd();
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the duration of the call, and
    // `raw` is open for the borrow's lifetime.
    let n = cvt_retry(|| unsafe { libc::write(raw, buf.as_ptr().cast(), buf.len()) })?;
    Ok(n.unsigned_abs())
}

/// `recv(2)` on a connected socket, one attempt (`EINTR` and `WouldBlock` are returned as is:
/// the caller retries the one and waits on the other).
///
/// On Linux this enters the kernel directly ([`syscall6`]: the `syscall` instruction on
/// x86_64, `syscall(SYS_recvfrom, ...)` elsewhere) rather than through glibc's `recv`, which is
/// a thread-cancellation point and brackets every call with two calls into the cancellation
/// machinery (about 30 instructions of the ~90 a socket read cost in user space, measured with
/// callgrind), and then reports failure through `errno`. Rust code never uses
/// `pthread_cancel`, so nothing is lost.
#[inline]
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let raw = fd.as_raw_fd();
    #[cfg(target_os = "linux")]
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call, `raw`
    // is open for the borrow's lifetime, and null address pointers are what recv(2) passes.
    let n = unsafe {
        syscall6(
            libc::SYS_recvfrom,
            [raw as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }?;
    #[cfg(not(target_os = "linux"))]
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call and
    // `raw` is open for the borrow's lifetime.
    let n = cvt(unsafe { libc::recv(raw, buf.as_mut_ptr().cast(), buf.len(), 0) })?.unsigned_abs();
    Ok(n)
}

/// `send(2)` on a connected socket with `flags`, one attempt; see [`recv`] for why it does not
/// go through glibc on Linux.
#[inline]
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    let raw = fd.as_raw_fd();
    #[cfg(target_os = "linux")]
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the duration of the call, `raw`
    // is open for the borrow's lifetime; a null address with length 0 is what send(2) passes.
    let n = unsafe {
        syscall6(
            libc::SYS_sendto,
            [
                raw as usize,
                buf.as_ptr() as usize,
                buf.len(),
                flags as usize,
                0,
                0,
            ],
        )
    }?;
    #[cfg(not(target_os = "linux"))]
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the duration of the call and
    // `raw` is open for the borrow's lifetime.
    let n = cvt(unsafe { libc::send(raw, buf.as_ptr().cast(), buf.len(), flags) })?.unsigned_abs();
    Ok(n)
}

/// Linux system call `nr` with six arguments (unused ones 0): the result, or the error the
/// kernel returned (as `-errno`, so `errno` is neither written nor read).
///
/// # Safety
///
/// The arguments must be valid for `nr` as the kernel reads them: pointers to memory valid for
/// what the call reads or writes, for the duration of the call.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[inline]
unsafe fn syscall6(nr: libc::c_long, args: [usize; 6]) -> io::Result<usize> {
    let ret: isize;
    // SAFETY: the x86_64 Linux system call ABI: number in rax, arguments in rdi, rsi, rdx, r10,
    // r8, r9, result in rax; the instruction overwrites rcx and r11 and nothing else, uses no
    // stack, and restores the flags on return. Memory is not marked untouched: the kernel
    // reads and writes what the arguments point at (the caller's obligation above).
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    syscall_result(ret)
}

/// As the x86_64 version, through glibc's `syscall` (which does write `errno`).
///
/// # Safety
///
/// As the x86_64 version.
#[cfg(all(target_os = "linux", not(target_arch = "x86_64")))]
#[inline]
unsafe fn syscall6(nr: libc::c_long, args: [usize; 6]) -> io::Result<usize> {
    let a = args.map(|a| a as libc::c_long);
    // SAFETY: the caller's obligation.
    let ret = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    cvt(ret).map(|n| n.unsigned_abs() as usize)
}

/// A raw system call's return value: the kernel returns `-errno` (-4095..=-1) on failure.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[inline]
fn syscall_result(ret: isize) -> io::Result<usize> {
    if (-4095..0).contains(&ret) {
        Err(io::Error::from_raw_os_error(-ret as i32))
    } else {
        Ok(ret.unsigned_abs())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn recv_and_send_report_data_and_errors_with_their_codes() {
        use std::os::unix::net::UnixStream;
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 16];
        let err = recv(a.as_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        assert_eq!(err.raw_os_error(), Some(libc::EAGAIN));
        assert_eq!(send(b.as_fd(), b"hello", libc::MSG_NOSIGNAL).unwrap(), 5);
        assert_eq!(recv(a.as_fd(), &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        drop(a);
        let err = send(b.as_fd(), b"x", libc::MSG_NOSIGNAL).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPIPE), "{err}");
        // End of stream is 0, not an error.
        let (c, d) = UnixStream::pair().unwrap();
        drop(d);
        assert_eq!(recv(c.as_fd(), &mut buf).unwrap(), 0);
    }

    #[test]
    fn cvt_maps_minus_one_to_errno() {
        assert_eq!(cvt(3i32).unwrap(), 3);
        // SAFETY: closing an fd that is certainly not open (-1) only sets errno to EBADF.
        let err = cvt(unsafe { libc::close(-1) }).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn context_keeps_kind_and_code() {
        let base = io::Error::from_raw_os_error(libc::EBADF);
        let kind = base.kind();
        let err = with_context(base, "epoll_ctl(ADD)", Some(42));
        assert_eq!(err.kind(), kind);
        assert_eq!(raw_os_error(&err), Some(libc::EBADF));
        let msg = err.to_string();
        assert!(
            msg.contains("epoll_ctl(ADD)") && msg.contains("fd 42"),
            "{msg}"
        );
    }

    #[test]
    fn pipe_is_nonblocking_and_cloexec() {
        let (r, w) = pipe().unwrap();
        for fd in [r.as_fd(), w.as_fd()] {
            let raw = fd.as_raw_fd();
            // SAFETY: F_GETFL/F_GETFD take no pointers; `raw` is open while `r`/`w` live.
            let fl = unsafe { libc::fcntl(raw, libc::F_GETFL) };
            // SAFETY: as above.
            let fd_fl = unsafe { libc::fcntl(raw, libc::F_GETFD) };
            assert_ne!(fl & libc::O_NONBLOCK, 0);
            assert_ne!(fd_fl & libc::FD_CLOEXEC, 0);
        }
        set_nonblocking(r.as_fd(), false).unwrap();
        // SAFETY: F_GETFL takes no pointer; `r` is open.
        let fl = unsafe { libc::fcntl(r.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(fl & libc::O_NONBLOCK, 0);
        set_nonblocking(r.as_fd(), true).unwrap();
        let mut buf = [0u8; 4];
        let err = read(r.as_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(write(w.as_fd(), b"hi").unwrap(), 2);
        assert_eq!(read(r.as_fd(), &mut buf).unwrap(), 2);
    }
}
