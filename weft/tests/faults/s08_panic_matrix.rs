//! Scenario 8: panics in `poll`, in the future's `Drop` and in the
//! output's `Drop`, crossed with when the `JoinHandle` is dropped and when
//! `abort` is called (the shape of tokio's `task_combinations.rs`). For
//! each of the 3 x 4 x 4 = 48 cases (plus the no-panic baseline, 64 in
//! all): the runtime survives, the `JoinError` is the right one, and the
//! future and the output are each dropped exactly once.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::util::{self, figure, test_name};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bomb {
    None,
    InPoll,
    InFutureDrop,
    InOutputDrop,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Handle {
    /// Awaited to the end.
    Await,
    /// Dropped before the task was first polled.
    DropBeforePoll,
    /// Dropped while the task waits.
    DropWhilePending,
    /// Dropped after the task completed, unjoined.
    DropAfterComplete,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Abort {
    Never,
    BeforePoll,
    WhilePending,
    AfterComplete,
}

/// Panics when dropped if armed; counts its drops either way.
struct DropBomb {
    armed: Arc<AtomicBool>,
    drops: Arc<AtomicUsize>,
    what: &'static str,
}

impl Drop for DropBomb {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.armed.load(SeqCst) && !std::thread::panicking() {
            panic!("{}", self.what);
        }
    }
}

/// The task's future: pending until `gate`, then panics or returns an
/// output holding a bomb.
struct Subject {
    gate: Arc<AtomicBool>,
    polls: Arc<AtomicUsize>,
    bomb: Bomb,
    _fut_bomb: DropBomb,
    /// What the output is made of; it is built only when the task
    /// completes, so an unfinished task has no output to drop.
    output: Option<(Arc<AtomicBool>, Arc<AtomicUsize>)>,
}

impl Future for Subject {
    type Output = DropBomb;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropBomb> {
        self.polls.fetch_add(1, SeqCst);
        if !self.gate.load(SeqCst) {
            // Woken by the test through this waker clone.
            GATE_WAKER.with(|w| *w.borrow_mut() = Some(cx.waker().clone()));
            return Poll::Pending;
        }
        if self.bomb == Bomb::InPoll {
            panic!("panic in poll");
        }
        let (armed, drops) = self.output.take().expect("polled after completion");
        Poll::Ready(DropBomb {
            armed,
            drops,
            what: "panic in the output's drop",
        })
    }
}

thread_local! {
    static GATE_WAKER: std::cell::RefCell<Option<std::task::Waker>> =
        const { std::cell::RefCell::new(None) };
}

async fn yields(n: usize) {
    for _ in 0..n {
        weft::task::yield_now().await;
    }
}

#[derive(Debug, Default)]
struct Outcome {
    ok: usize,
    panics: usize,
    cancelled: usize,
    detached: usize,
}

async fn case(bomb: Bomb, handle: Handle, abort: Abort, outcome: &mut Outcome) {
    let tag = format!("{bomb:?}/{handle:?}/{abort:?}");
    let gate = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicUsize::new(0));
    let fut_drops = Arc::new(AtomicUsize::new(0));
    let out_drops = Arc::new(AtomicUsize::new(0));
    let out_armed = Arc::new(AtomicBool::new(bomb == Bomb::InOutputDrop));
    let subject = Subject {
        gate: gate.clone(),
        polls: polls.clone(),
        bomb,
        _fut_bomb: DropBomb {
            armed: Arc::new(AtomicBool::new(bomb == Bomb::InFutureDrop)),
            drops: fut_drops.clone(),
            what: "panic in the future's drop",
        },
        output: Some((out_armed.clone(), out_drops.clone())),
    };
    GATE_WAKER.with(|w| *w.borrow_mut() = None);
    let h = weft::spawn(subject);
    let id = h.id();
    let ah = h.abort_handle();
    let mut h = Some(h);
    if abort == Abort::BeforePoll {
        ah.abort();
    }
    if handle == Handle::DropBeforePoll {
        h = None;
    }
    yields(3).await;
    let first_polled = polls.load(SeqCst) > 0;
    if abort == Abort::WhilePending {
        ah.abort();
    }
    if handle == Handle::DropWhilePending {
        h = None;
    }
    yields(3).await;
    gate.store(true, SeqCst);
    if let Some(w) = GATE_WAKER.with(|w| w.borrow_mut().take()) {
        w.wake();
    }
    yields(3).await;
    if abort == Abort::AfterComplete {
        ah.abort();
    }
    if handle == Handle::DropAfterComplete {
        h = None;
    }
    yields(3).await;
    let aborted_early = matches!(abort, Abort::BeforePoll | Abort::WhilePending);
    assert_eq!(
        first_polled,
        abort != Abort::BeforePoll,
        "{tag}: first poll happened={first_polled}"
    );
    assert!(ah.is_finished(), "{tag}: the task never finished");
    if let Some(h) = h {
        match h.await {
            Ok(out) => {
                outcome.ok += 1;
                assert!(
                    !aborted_early && matches!(bomb, Bomb::None | Bomb::InOutputDrop),
                    "{tag}: Ok, expected an error"
                );
                // Ours to drop now: disarm and drop it.
                out_armed.store(false, SeqCst);
                drop(out);
            }
            Err(e) => {
                assert_eq!(e.id(), id, "{tag}");
                if e.is_panic() {
                    outcome.panics += 1;
                    let msg = e.to_string();
                    let want_poll = bomb == Bomb::InPoll && !aborted_early;
                    let want_drop = bomb == Bomb::InFutureDrop;
                    assert!(want_poll || want_drop, "{tag}: unexpected panic {msg}");
                    if want_poll {
                        assert!(
                            msg.contains("panic in poll") || msg.contains("future's drop"),
                            "{tag}: {msg}"
                        );
                    } else {
                        assert!(msg.contains("future's drop"), "{tag}: {msg}");
                    }
                } else {
                    outcome.cancelled += 1;
                    assert!(e.is_cancelled(), "{tag}: {e:?}");
                    assert!(
                        aborted_early && bomb != Bomb::InFutureDrop,
                        "{tag}: cancelled, expected a value or a panic"
                    );
                }
            }
        }
    } else {
        outcome.detached += 1;
    }
    assert_eq!(fut_drops.load(SeqCst), 1, "{tag}: future drops");
    let produced = !aborted_early && bomb != Bomb::InPoll;
    assert_eq!(
        out_drops.load(SeqCst),
        usize::from(produced),
        "{tag}: output drops"
    );
    // The runtime goes on.
    assert_eq!(weft::spawn(async { 7 }).await.unwrap(), 7, "{tag}");
}

#[test]
fn s08_panic_and_abort_and_handle_drop_combinations() {
    let name = test_name!(s08_panic_and_abort_and_handle_drop_combinations);
    util::isolated(name, Duration::from_secs(60), || {
        // The expected panics would flood the output.
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.to_string();
            if !(msg.contains("panic in poll") || msg.contains("'s drop")) {
                default_hook(info);
            }
        }));
        let rt = util::rt();
        let mut outcome = Outcome::default();
        let mut n = 0;
        for bomb in [
            Bomb::None,
            Bomb::InPoll,
            Bomb::InFutureDrop,
            Bomb::InOutputDrop,
        ] {
            for handle in [
                Handle::Await,
                Handle::DropBeforePoll,
                Handle::DropWhilePending,
                Handle::DropAfterComplete,
            ] {
                for abort in [
                    Abort::Never,
                    Abort::BeforePoll,
                    Abort::WhilePending,
                    Abort::AfterComplete,
                ] {
                    rt.block_on(case(bomb, handle, abort, &mut outcome));
                    n += 1;
                }
            }
        }
        drop(rt);
        let _ = std::panic::take_hook();
        figure!(
            name,
            "{n} cases: {} Ok, {} panics, {} cancelled, {} detached; runtime alive after each",
            outcome.ok,
            outcome.panics,
            outcome.cancelled,
            outcome.detached
        );
    });
}
