//! `JoinError`: why a task produced no value.

use std::any::Any;
use std::fmt;

use super::Id;

/// The error a [`JoinHandle`](super::JoinHandle) returns when its task did
/// not run to completion: it was cancelled (by [`abort`](super::JoinHandle::abort)
/// or by the runtime shutting down) or it panicked.
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(SyncPayload),
}

/// A panic payload, made `Sync` by allowing access only through `&mut` or by
/// value (a shared reference to it can do nothing).
///
/// Boxed once more (a thin pointer, one allocation per panic) so that a
/// `JoinError` is 16 bytes, not 24: a task stores its future and its result in
/// one enum, and with the wider error a task holding a `Sleep` (32 bytes)
/// needed a tag, 112 bytes of heap instead of 104.
struct SyncPayload(Box<Box<dyn Any + Send + 'static>>);

// SAFETY: no method reaches the payload through `&self`, so sharing a
// `&SyncPayload` across threads gives no access to the non-Sync payload.
unsafe impl Sync for SyncPayload {}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(SyncPayload(Box::new(payload))),
        }
    }

    /// True if the task was cancelled (aborted, or dropped by a runtime
    /// shutting down) before it completed.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic payload, to resume the panic with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the task did not panic (check [`is_panic`](Self::is_panic)
    /// first, or use [`try_into_panic`](Self::try_into_panic)).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(err) => {
                panic!("`JoinError::into_panic` called on a task that did not panic: {err}")
            }
        }
    }

    /// The panic payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(*p.0),
            Repr::Cancelled => Err(self),
        }
    }
}

/// The message of a panic payload, if it is a string.
pub(crate) fn panic_payload(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some(s)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(p) => match panic_payload(&**p.0) {
                Some(msg) => write!(f, "task {} panicked with message {:?}", self.id, msg),
                None => write!(f, "task {} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Panic(p) => match panic_payload(&**p.0) {
                Some(msg) => write!(f, "JoinError::Panic({:?}, {:?}, ..)", self.id, msg),
                None => write!(f, "JoinError::Panic({:?}, ..)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
