//! The eventfd wakeup (Linux).
//!
//! `wake` adds 1 to the counter; `drain` reads it back to zero. The counter saturates at
//! `u64::MAX - 1`: a write that would pass it fails with `EAGAIN`, which can only happen while
//! the counter is non-zero, i.e. while the descriptor is readable, so `wake` treats it as done.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use crate::sys;

#[derive(Debug)]
pub(super) struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    pub(super) fn new() -> io::Result<EventFd> {
        Ok(EventFd {
            fd: sys::eventfd()?,
        })
    }

    pub(super) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub(super) fn wake(&self) -> io::Result<()> {
        match sys::write(self.fd.as_fd(), &1u64.to_ne_bytes()) {
            Ok(_) => Ok(()),
            // The counter is about to overflow: it is non-zero, so the fd is already readable.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(sys::with_context(e, "write(eventfd)", Some(self.fd()))),
        }
    }

    pub(super) fn drain(&self) {
        let mut buf = [0u8; 8];
        // One read returns the whole counter and resets it to zero; EAGAIN means it was zero.
        let _ = sys::read(self.fd.as_fd(), &mut buf);
    }

    #[cfg(all(test, not(loom)))]
    pub(super) fn fill_for_test(&self) {
        let max = u64::MAX - 1;
        sys::write(self.fd.as_fd(), &max.to_ne_bytes()).unwrap();
        // A plain write of 1 would now fail with EAGAIN.
        let err = sys::write(self.fd.as_fd(), &1u64.to_ne_bytes()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}
