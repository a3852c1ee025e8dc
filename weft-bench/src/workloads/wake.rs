//! `wake`: two tasks hand a token back and forth a million times — ns per
//! round trip, through two kinds of channel, each the same for every runtime:
//!
//! - `wake`: a pair of `async_channel::bounded(1)` channels, what a program
//!   would use. The channel's own work (its queue, `event-listener`'s
//!   allocation per wait) is most of a round trip's instructions.
//! - `wake bare`: a pair of one-slot hand-offs ([`Handoff`]: a mutex over a
//!   value and a waker, no allocation), so that what is left is mostly the
//!   runtime's part: a same-thread `Waker::wake` into its run queue, and
//!   switching tasks.
//!
//! A round trip is two sends, two receives and two task switches.

use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use super::{Config, Sample, Workload};
use crate::clock::Stopwatch;
use crate::runtimes::Runtime;

pub(crate) struct Wake;

impl Workload for Wake {
    const NAME: &'static str = "wake";
    const ABOUT: &'static str =
        "two tasks passing a token back and forth 1,000,000 times, through async-channel \
         bounded(1) pairs (wake) and through one-slot hand-offs (wake bare) (ns per round trip)";

    fn run<R: Runtime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(1_000_000, 10_000);
        vec![
            Sample::ns_per_op(cfg, "wake", "ns/round trip", channel::<R>(n), n),
            Sample::ns_per_op(cfg, "wake bare", "ns/round trip", bare::<R>(n), n),
        ]
    }
}

/// The round trips through `async_channel`.
fn channel<R: Runtime>(n: usize) -> crate::clock::Elapsed {
    let (elapsed, last) = R::block_on(async move {
        let (to_pong, from_ping) = async_channel::bounded::<u64>(1);
        let (to_ping, from_pong) = async_channel::bounded::<u64>(1);
        let sw = Stopwatch::start();
        let ping = R::spawn(async move {
            let mut token = 0u64;
            for _ in 0..n {
                if to_pong.send(token).await.is_err() {
                    panic!("wake: pong hung up");
                }
                token = match from_pong.recv().await {
                    Ok(t) => t,
                    Err(_) => panic!("wake: pong hung up"),
                };
            }
            token
            // `to_pong` drops here: pong's `recv` fails and it returns.
        });
        let pong = R::spawn(async move {
            while let Ok(token) = from_ping.recv().await {
                if to_ping.send(token + 1).await.is_err() {
                    break;
                }
            }
        });
        let last = ping.await;
        pong.await;
        (sw.elapsed(), last)
    });
    assert_eq!(last, n as u64, "wake: the token was lost on the way");
    elapsed
}

/// The round trips through [`Handoff`]s.
fn bare<R: Runtime>(n: usize) -> crate::clock::Elapsed {
    let (elapsed, last) = R::block_on(async move {
        let to_pong = Handoff::new();
        let to_ping = Handoff::new();
        let sw = Stopwatch::start();
        let (ping_tx, ping_rx) = (to_pong.sender(), to_ping.clone());
        let ping = R::spawn(async move {
            let mut token = 0u64;
            for _ in 0..n {
                ping_tx.put(token);
                token = match ping_rx.take().await {
                    Some(t) => t,
                    None => panic!("wake bare: pong hung up"),
                };
            }
            token
            // `ping_tx` drops here: pong's `take` gets `None` and it returns.
        });
        let (pong_tx, pong_rx) = (to_ping.sender(), to_pong);
        let pong = R::spawn(async move {
            while let Some(token) = pong_rx.take().await {
                pong_tx.put(token + 1);
            }
        });
        let last = ping.await;
        pong.await;
        (sw.elapsed(), last)
    });
    assert_eq!(last, n as u64, "wake bare: the token was lost on the way");
    elapsed
}

/// A one-slot hand-off for a strict alternation of `put` and `take`: the
/// cheapest runtime-agnostic channel that is still a real one (a `Waker`
/// stored by the waiting side, woken by the other).
#[derive(Clone)]
struct Handoff {
    slot: Arc<Mutex<Slot>>,
}

#[derive(Default)]
struct Slot {
    value: Option<u64>,
    waiter: Option<Waker>,
    /// The sender is gone.
    closed: bool,
}

/// The sending side: dropping it closes the hand-off.
struct HandoffSender {
    slot: Arc<Mutex<Slot>>,
}

impl Handoff {
    fn new() -> Handoff {
        Handoff {
            slot: Arc::new(Mutex::new(Slot::default())),
        }
    }

    fn sender(&self) -> HandoffSender {
        HandoffSender {
            slot: self.slot.clone(),
        }
    }

    /// Waits for the next value; `None` once the sender is dropped.
    async fn take(&self) -> Option<u64> {
        poll_fn(|cx| {
            let mut slot = lock(&self.slot);
            if let Some(v) = slot.value.take() {
                return Poll::Ready(Some(v));
            }
            if slot.closed {
                return Poll::Ready(None);
            }
            match &slot.waiter {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => slot.waiter = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }
}

impl HandoffSender {
    /// Stores `value` and wakes the taker. The slot must be empty: the ping
    /// pong never puts twice without a `take` between.
    fn put(&self, value: u64) {
        let waiter = {
            let mut slot = lock(&self.slot);
            assert!(
                slot.value.is_none(),
                "wake bare: a put before the last take"
            );
            slot.value = Some(value);
            slot.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl Drop for HandoffSender {
    fn drop(&mut self) {
        let waiter = {
            let mut slot = lock(&self.slot);
            slot.closed = true;
            slot.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

/// The slot's lock; a poisoned one (a panicking task) still holds a usable
/// slot, and the panic is reported by the task's join.
fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}
