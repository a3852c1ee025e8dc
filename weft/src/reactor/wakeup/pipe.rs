//! The pipe wakeup (portable; forced on Linux by `cfg(weft_force_poll)` or `WEFT_WAKEUP=pipe`).
//!
//! `wake` writes one byte to the write end; `drain` reads the read end until it is empty. A full
//! pipe (`EAGAIN` on write) is already readable, so `wake` treats it as done.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use crate::sys;

#[derive(Debug)]
pub(super) struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl Pipe {
    pub(super) fn new() -> io::Result<Pipe> {
        let (read, write) = sys::pipe()?;
        Ok(Pipe { read, write })
    }

    pub(super) fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    pub(super) fn wake(&self) -> io::Result<()> {
        match sys::write(self.write.as_fd(), &[1]) {
            Ok(_) => Ok(()),
            // The pipe is full, so it is already readable.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(sys::with_context(
                e,
                "write(wakeup pipe)",
                Some(self.write.as_raw_fd()),
            )),
        }
    }

    pub(super) fn drain(&self) {
        let mut buf = [0u8; 1024];
        // Bounded by the pipe's capacity: writers only add one byte per wake, and a concurrent
        // writer can at most refill what was read, so cap the rounds rather than spin.
        for _ in 0..1024 {
            match sys::read(self.read.as_fd(), &mut buf) {
                Ok(n) if n == buf.len() => continue,
                _ => return,
            }
        }
    }

    #[cfg(all(test, not(loom)))]
    pub(super) fn fill_for_test(&self) {
        let chunk = [0u8; 4096];
        loop {
            match sys::write(self.write.as_fd(), &chunk) {
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("filling the pipe: {e}"),
            }
        }
        // Top up the last few bytes a 4 KiB chunk could not fit.
        while sys::write(self.write.as_fd(), &[0]).is_ok() {}
    }
}
