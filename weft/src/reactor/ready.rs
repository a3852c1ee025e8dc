//! Readiness flags, interests and directions: the small value types the reactor passes around.
#![forbid(unsafe_code)]

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// A set of readiness flags, as reported by the poller or cached per source.
///
/// `READ_CLOSED` and `WRITE_CLOSED` are final: once set on a source they are never cleared (a
/// peer that sent FIN stays at EOF), so a direction that is closed is always ready.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Ready(u8);

impl Ready {
    pub(crate) const EMPTY: Ready = Ready(0);
    pub(crate) const READABLE: Ready = Ready(1 << 0);
    pub(crate) const WRITABLE: Ready = Ready(1 << 1);
    pub(crate) const READ_CLOSED: Ready = Ready(1 << 2);
    pub(crate) const WRITE_CLOSED: Ready = Ready(1 << 3);
    pub(crate) const ERROR: Ready = Ready(1 << 4);
    /// Every flag.
    pub(crate) const ALL: Ready = Ready(0b1_1111);
    /// The flags that a `WouldBlock` may clear; the closed flags are final.
    pub(crate) const CLEARABLE: Ready = Ready(Self::READABLE.0 | Self::WRITABLE.0 | Self::ERROR.0);

    pub(crate) const fn from_bits(bits: u8) -> Ready {
        Ready(bits & Self::ALL.0)
    }
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }
    pub(crate) const fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub(crate) const fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
    pub(crate) const fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }
    pub(crate) const fn intersection(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
    #[cfg(test)]
    pub(crate) const fn is_readable(self) -> bool {
        self.intersects(Self::READABLE)
    }
    #[cfg(test)]
    pub(crate) const fn is_writable(self) -> bool {
        self.intersects(Self::WRITABLE)
    }
    #[cfg(test)]
    pub(crate) const fn is_read_closed(self) -> bool {
        self.intersects(Self::READ_CLOSED)
    }
    #[cfg(test)]
    pub(crate) const fn is_write_closed(self) -> bool {
        self.intersects(Self::WRITE_CLOSED)
    }
    #[cfg(test)]
    pub(crate) const fn is_error(self) -> bool {
        self.intersects(Self::ERROR)
    }
}

impl BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
        ];
        let mut first = true;
        for (flag, name) in names {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}

/// One direction of a source: a task waits to read or to write. Each direction has its own
/// waker slot, so a reader and a writer on two tasks are woken separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The flags that make this direction ready: its own flag, its closed flag, and an error.
    pub(crate) const fn mask(self) -> Ready {
        match self {
            Direction::Read => Ready(Ready::READABLE.0 | Ready::READ_CLOSED.0 | Ready::ERROR.0),
            Direction::Write => Ready(Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0 | Ready::ERROR.0),
        }
    }

    pub(crate) const fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }
}

/// The directions a source is registered for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interest(u8);

impl Interest {
    pub(crate) const READABLE: Interest = Interest(1);
    pub(crate) const WRITABLE: Interest = Interest(2);
    pub(crate) const BOTH: Interest = Interest(3);

    pub(crate) const fn is_readable(self) -> bool {
        self.0 & Self::READABLE.0 != 0
    }
    pub(crate) const fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE.0 != 0
    }
    pub(crate) const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("NONE"),
        }
    }
}
