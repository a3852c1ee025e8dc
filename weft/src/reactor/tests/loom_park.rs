//! loom models of the reactor's two cross-thread protocols: the unpark state word
//! (`reactor/park.rs`) and the readiness/waker handshake (`reactor/scheduled_io.rs`).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p weft --release --lib reactor::tests::loom`.
//! The wakeup descriptor is modelled by a flag under a mutex with a condvar: `wait` blocks until
//! it is set, so a lost unpark shows up as a deadlock, which loom reports.

use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use crate::reactor::ready::{Direction, Ready};
use crate::reactor::scheduled_io::{ReadyEvent, ScheduledIo};
use crate::util::park::ParkState;

/// The wakeup descriptor: readable until drained; counts writes.
struct MockFd {
    readable: Mutex<bool>,
    cv: Condvar,
    writes: AtomicUsize,
}

impl MockFd {
    fn new() -> MockFd {
        MockFd {
            readable: Mutex::new(false),
            cv: Condvar::new(),
            writes: AtomicUsize::new(0),
        }
    }
    fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        *self.readable.lock().unwrap() = true;
        self.cv.notify_one();
    }
    /// A wait with no timeout, then the drain.
    fn wait_and_drain(&self) {
        let mut r = self.readable.lock().unwrap();
        while !*r {
            r = self.cv.wait(r).unwrap();
        }
        *r = false;
    }
}

/// The driver's loop: park until `done` is seen (the real `Driver::poll_events` sequence).
fn drive(state: &ParkState, fd: &MockFd, done: impl Fn() -> bool) {
    while !done() {
        if state.transition_to_parked() {
            fd.wait_and_drain();
        }
        state.transition_to_running();
    }
}

#[test]
fn loom_unpark_is_never_lost() {
    loom::model(|| {
        let state = Arc::new(ParkState::new());
        let fd = Arc::new(MockFd::new());
        let work = Arc::new(AtomicBool::new(false));
        let t = {
            let (state, fd, work) = (state.clone(), fd.clone(), work.clone());
            thread::spawn(move || {
                // Relaxed on purpose: notify's release must publish it.
                work.store(true, Ordering::Relaxed);
                if state.notify() {
                    fd.write();
                }
            })
        };
        drive(&state, &fd, || work.load(Ordering::Relaxed));
        t.join().unwrap();
        assert!(fd.writes.load(Ordering::Relaxed) <= 1);
    });
}

#[test]
fn loom_two_unparkers() {
    // Bounded preemptions keep this model to seconds; the unbounded one (minutes) passes too.
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(|| {
        let state = Arc::new(ParkState::new());
        let fd = Arc::new(MockFd::new());
        let work = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (state, fd, work) = (state.clone(), fd.clone(), work.clone());
                thread::spawn(move || {
                    work.fetch_add(1, Ordering::Relaxed);
                    if state.notify() {
                        fd.write();
                    }
                })
            })
            .collect();
        drive(&state, &fd, || work.load(Ordering::Relaxed) == 2);
        for t in threads {
            t.join().unwrap();
        }
    });
}

struct Flag(AtomicUsize);

impl Wake for Flag {
    fn wake(self: StdArc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn loom_readiness_and_waker_never_lose_a_wakeup() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        // Start "not ready": the task already saw WouldBlock.
        io.clear_readiness(ReadyEvent {
            tick: 0,
            ready: Ready::READABLE | Ready::WRITABLE,
        });
        let driver = {
            let io = io.clone();
            thread::spawn(move || {
                let mut wakers = Vec::new();
                io.set_readiness(1, Ready::READABLE);
                io.take_wakers(Ready::READABLE, &mut wakers);
                for w in wakers {
                    w.wake();
                }
            })
        };
        let flag = StdArc::new(Flag(AtomicUsize::new(0)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let pending = io.poll_readiness(&mut cx, Direction::Read).is_pending();
        driver.join().unwrap();
        if pending {
            assert_eq!(flag.0.load(Ordering::SeqCst), 1, "lost wakeup");
        }
        assert!(matches!(
            io.poll_readiness(&mut cx, Direction::Read),
            Poll::Ready(Ok(_))
        ));
    });
}
