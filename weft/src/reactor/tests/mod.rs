//! Reactor tests. No executor exists on this branch, so they drive the [`Driver`] by hand:
//! register a non-blocking socketpair, poll a [`Registration`] with a counting waker, `park`,
//! and check which wakers fired. Every test runs on both backends ([`for_each_backend`]).
//!
//! The tests take [`serial`] so that descriptor counts and timings are not disturbed by each
//! other; each loop is bounded and each wait has a deadline.
#![forbid(unsafe_code)]

#[cfg(loom)]
mod loom_park;

#[cfg(not(loom))]
mod backend;
#[cfg(not(loom))]
mod driver;

#[cfg(not(loom))]
mod support {
    use std::io::{self, Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard};
    use std::task::{Context, Poll, Wake, Waker};
    use std::time::{Duration, Instant};

    use crate::reactor::wakeup::WakeupKind;
    use crate::reactor::{Direction, Driver, Handle, Interest, IoBackend, Registration};

    static SERIAL: Mutex<()> = Mutex::new(());

    /// Serialises the reactor tests (fd counts, timings).
    pub(super) fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) const BACKENDS: [IoBackend; 2] = [IoBackend::Epoll, IoBackend::Poll];

    pub(super) fn wakeup_kinds() -> Vec<WakeupKind> {
        if cfg!(target_os = "linux") {
            vec![WakeupKind::EventFd, WakeupKind::Pipe]
        } else {
            vec![WakeupKind::Pipe]
        }
    }

    /// Runs `f` once per backend, with a fresh driver, naming the backend if it panics.
    pub(super) fn for_each_backend(mut f: impl FnMut(IoBackend, &mut Driver, &Handle)) {
        let _guard = serial();
        for backend in BACKENDS {
            if backend == IoBackend::Epoll && !cfg!(target_os = "linux") {
                continue;
            }
            let (mut driver, handle) = Driver::new(backend).unwrap();
            assert_eq!(driver.backend(), backend);
            assert_eq!(handle.backend(), backend);
            f(backend, &mut driver, &handle);
        }
    }

    /// A waker that counts its wakes.
    #[derive(Default)]
    pub(super) struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Counter {
        pub(super) fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    pub(super) fn counter() -> (Arc<Counter>, Waker) {
        let c = Arc::new(Counter::default());
        let w = Waker::from(c.clone());
        (c, w)
    }

    /// A connected, non-blocking socketpair.
    pub(super) fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    pub(super) fn register(handle: &Handle, s: &UnixStream) -> Registration {
        handle.register(s.as_raw_fd(), Interest::BOTH).unwrap()
    }

    /// One `poll_io` read of up to 64 KiB.
    pub(super) fn poll_read(
        reg: &Registration,
        mut s: &UnixStream,
        waker: &Waker,
    ) -> Poll<io::Result<usize>> {
        let mut cx = Context::from_waker(waker);
        let mut buf = [0u8; 65536];
        reg.poll_io(&mut cx, Direction::Read, || s.read(&mut buf))
    }

    /// One `poll_io` write of 64 KiB.
    pub(super) fn poll_write(
        reg: &Registration,
        mut s: &UnixStream,
        waker: &Waker,
    ) -> Poll<io::Result<usize>> {
        let mut cx = Context::from_waker(waker);
        let buf = [7u8; 65536];
        reg.poll_io(&mut cx, Direction::Write, || s.write(&buf))
    }

    /// Reads through the registration until it is `Pending` (the waker is then stored).
    pub(super) fn read_until_pending(reg: &Registration, s: &UnixStream, waker: &Waker) -> usize {
        let mut total = 0;
        for _ in 0..10_000 {
            match poll_read(reg, s, waker) {
                Poll::Ready(Ok(n)) => total += n,
                Poll::Ready(Err(e)) => panic!("read: {e}"),
                Poll::Pending => return total,
            }
        }
        panic!("read never blocked");
    }

    /// Writes through the registration until it is `Pending` (the send buffer is full).
    pub(super) fn write_until_pending(reg: &Registration, s: &UnixStream, waker: &Waker) -> usize {
        let mut total = 0;
        for _ in 0..10_000 {
            match poll_write(reg, s, waker) {
                Poll::Ready(Ok(n)) => total += n,
                Poll::Ready(Err(e)) => panic!("write: {e}"),
                Poll::Pending => return total,
            }
        }
        panic!("write never blocked");
    }

    /// Reads `s` directly (no reactor) until `WouldBlock`.
    pub(super) fn drain(mut s: &UnixStream) -> usize {
        let mut buf = [0u8; 65536];
        let mut total = 0;
        loop {
            match s.read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
                Err(e) => panic!("drain: {e}"),
            }
        }
    }

    /// Parks in short steps until `done()` or a 5 s deadline; returns whether `done()`.
    pub(super) fn park_until(
        driver: &mut Driver,
        handle: &Handle,
        mut done: impl FnMut() -> bool,
    ) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done() {
            if Instant::now() > deadline {
                return false;
            }
            driver
                .park(handle, Some(Duration::from_millis(20)))
                .unwrap();
        }
        true
    }

    /// Parks a few times for `total`, to let any (unwanted) event arrive.
    pub(super) fn settle(driver: &mut Driver, handle: &Handle, total: Duration) {
        let deadline = Instant::now() + total;
        while Instant::now() < deadline {
            driver.park(handle, Some(Duration::from_millis(5))).unwrap();
        }
    }

    /// The number of open descriptors of this process.
    pub(super) fn open_fds() -> usize {
        std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count())
            .unwrap_or(0)
    }
}
