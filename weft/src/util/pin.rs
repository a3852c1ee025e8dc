//! The pin projections weft needs outside the unsafe perimeter, so that the layers that use
//! them (`time`) stay `#![forbid(unsafe_code)]`.
//!
//! [`Timeout`] is defined here, not in `time/`, because projecting `Pin<&mut Timeout<F>>` to
//! its future takes `unsafe`; its constructors, docs and `Future` impl live in
//! `time/timeout.rs`, and it is exported as `weft::time::Timeout`.

use std::pin::Pin;

use crate::time::Sleep;

/// The future returned by [`timeout`](crate::time::timeout) and
/// [`timeout_at`](crate::time::timeout_at): `Ok(output)` if the wrapped future completes
/// before the deadline, else `Err(Elapsed)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// weft::block_on(async {
///     let t = weft::time::timeout(Duration::from_secs(1), std::future::ready("done"));
///     let _inner: &std::future::Ready<&str> = t.get_ref();
///     assert_eq!(t.await.unwrap(), "done");
/// });
/// ```
//
// Pinning invariant, relied on by `project`: once a `Timeout` is pinned, `value` is never
// moved out of it or through a `&mut` to it. It holds because nothing here hands out
// `&mut F` from a pinned `Timeout` (only `Pin<&mut F>`; `get_mut` takes `&mut self`, which
// exists only before pinning or when `Timeout: Unpin`), there is no `Drop` impl that could
// move it, the struct is not `repr(packed)`, and `Timeout<F>` is `Unpin` only when `F` is
// (the auto trait: `Sleep` is `Unpin`).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    value: F,
    delay: Sleep,
}

impl<F> Timeout<F> {
    pub(crate) fn from_parts(value: F, delay: Sleep) -> Timeout<F> {
        Timeout { value, delay }
    }

    /// The wrapped future, pinned, and the deadline's `Sleep`.
    pub(crate) fn project(self: Pin<&mut Self>) -> (Pin<&mut F>, &mut Sleep) {
        // SAFETY: the pinning invariant above: `value` is structurally pinned and never
        // moved while `self` is pinned; `delay` is `Unpin`, so `&mut Sleep` moves nothing
        // pinned. `get_unchecked_mut` itself moves nothing.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `this.value` lives inside the pinned `self` and, by the invariant, stays
        // there until it is dropped in place.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        (value, &mut this.delay)
    }

    pub(crate) fn delay(&self) -> &Sleep {
        &self.delay
    }

    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The wrapped future, mutably (a `&mut Timeout` exists only before it is pinned, or
    /// when `F: Unpin`).
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// The wrapped future, giving up the deadline.
    pub fn into_inner(self) -> F {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::marker::PhantomPinned;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Noop;

    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    /// A `!Unpin` future that checks it is not moved between polls.
    struct AddressCheck {
        seen: Option<usize>,
        _pin: PhantomPinned,
    }

    impl Future for AddressCheck {
        type Output = usize;

        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<usize> {
            let addr = &*self as *const Self as usize;
            // SAFETY: test only: `seen` is not structurally pinned.
            let this = unsafe { self.get_unchecked_mut() };
            match this.seen {
                None => {
                    this.seen = Some(addr);
                    Poll::Pending
                }
                Some(seen) => {
                    assert_eq!(seen, addr, "moved while pinned");
                    Poll::Ready(addr)
                }
            }
        }
    }

    #[test]
    fn projects_a_not_unpin_future() {
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let timeout = Timeout::from_parts(
            AddressCheck {
                seen: None,
                _pin: PhantomPinned,
            },
            crate::time::sleep(std::time::Duration::from_secs(1)),
        );
        let mut timeout = std::pin::pin!(timeout);
        let (fut, _delay) = timeout.as_mut().project();
        assert!(fut.poll(&mut cx).is_pending());
        let (fut, delay) = timeout.as_mut().project();
        assert!(!delay.is_elapsed());
        assert!(fut.poll(&mut cx).is_ready());
    }
}
