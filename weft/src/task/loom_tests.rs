//! loom models of the task state machine, driven through the real task code
//! with a scheduler that records what it is given.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p weft --release --lib loom`

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;

use super::{new_task, Notified, Schedule, Task};

/// A scheduler that keeps queued tasks in a list, to be run by the test.
#[derive(Default)]
struct Queue {
    tasks: StdMutex<Vec<Notified<Arc<Queue>>>>,
}

impl Schedule for Arc<Queue> {
    fn schedule(&self, task: Notified<Self>) {
        self.tasks.lock().unwrap().push(task);
    }
    fn release(&self, _task: &Task<Self>) -> bool {
        false
    }
}

impl Queue {
    fn run_all(&self) -> usize {
        let mut n = 0;
        loop {
            let next = self.tasks.lock().unwrap().pop();
            match next {
                Some(t) => {
                    t.run();
                    n += 1;
                }
                None => return n,
            }
        }
    }
}

/// Pending until `ready` is set; stores its waker in `slot`.
struct Gate {
    ready: Arc<AtomicUsize>,
    slot: Arc<StdMutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
}

impl Future for Gate {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        if self.ready.load(SeqCst) == 1 {
            Poll::Ready(7)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

fn gate() -> (
    Gate,
    Arc<AtomicUsize>,
    Arc<StdMutex<Option<Waker>>>,
    Arc<AtomicUsize>,
) {
    let ready = Arc::new(AtomicUsize::new(0));
    let slot = Arc::new(StdMutex::new(None));
    let drops = Arc::new(AtomicUsize::new(0));
    let g = Gate {
        ready: ready.clone(),
        slot: slot.clone(),
        drops: drops.clone(),
    };
    (g, ready, slot, drops)
}

fn block_on_join<T>(mut join: super::JoinHandle<T>, q: &Queue) -> Result<T, super::JoinError> {
    let waker = futures_noop_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = Pin::new(&mut join).poll(&mut cx) {
            return v;
        }
        if q.run_all() == 0 {
            loom::thread::yield_now();
        }
    }
}

fn futures_noop_waker() -> Waker {
    Waker::noop().clone()
}

/// A wake from another thread races the task's completion: the output is
/// delivered once and the future dropped once.
#[test]
fn wake_races_completion() {
    loom::model(|| {
        let q = Arc::new(Queue::default());
        let (g, ready, slot, drops) = gate();
        let (owner, notified, join) = new_task(g, q.clone());
        drop(owner);
        notified.run(); // first poll: pending, waker stored
        let th = loom::thread::spawn(move || {
            ready.store(1, SeqCst);
            let w = slot.lock().unwrap().take();
            if let Some(w) = w {
                w.wake();
            }
        });
        let out = block_on_join(join, &q);
        th.join().unwrap();
        assert_eq!(out.unwrap(), 7);
        q.run_all();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// `abort` from another thread races a wake: the task ends cancelled or
/// completed, never both, and the future is dropped exactly once.
#[test]
fn abort_races_wake() {
    loom::model(|| {
        let q = Arc::new(Queue::default());
        let (g, ready, slot, drops) = gate();
        let (owner, notified, join) = new_task(g, q.clone());
        drop(owner);
        notified.run();
        let abort = join.abort_handle();
        let th = loom::thread::spawn(move || abort.abort());
        ready.store(1, SeqCst);
        let w = slot.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
        th.join().unwrap();
        let out = block_on_join(join, &q);
        match out {
            Ok(v) => assert_eq!(v, 7),
            Err(e) => assert!(e.is_cancelled()),
        }
        q.run_all();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// The `JoinHandle` is dropped on another thread while the task completes:
/// the output is dropped once, no waker leaks, memory is freed.
#[test]
fn join_handle_drop_races_completion() {
    loom::model(|| {
        let q = Arc::new(Queue::default());
        let out_drops = Arc::new(AtomicUsize::new(0));
        struct Out(Arc<AtomicUsize>);
        impl Drop for Out {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let od = out_drops.clone();
        let fut = async move { Out(od) };
        let (owner, notified, join) = new_task(fut, q.clone());
        drop(owner);
        let th = loom::thread::spawn(move || drop(join));
        notified.run();
        th.join().unwrap();
        assert_eq!(out_drops.load(SeqCst), 1);
    });
}

/// A JoinHandle polled (storing its waker) on one thread while the task
/// completes on another: the handle is either woken or sees the output.
#[test]
fn join_waker_races_completion() {
    loom::model(|| {
        let q = Arc::new(Queue::default());
        let (owner, notified, mut join) = new_task(async { 3 }, q.clone());
        drop(owner);
        let th = loom::thread::spawn(move || notified.run());
        let woken = Arc::new(AtomicUsize::new(0));
        struct Flag(Arc<AtomicUsize>);
        impl std::task::Wake for Flag {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let waker = Waker::from(std::sync::Arc::new(Flag(woken.clone())));
        let mut cx = Context::from_waker(&waker);
        let first = Pin::new(&mut join).poll(&mut cx);
        th.join().unwrap();
        match first {
            Poll::Ready(v) => assert_eq!(v.unwrap(), 3),
            Poll::Pending => {
                assert_eq!(woken.load(SeqCst), 1, "join waker not woken");
                match Pin::new(&mut join).poll(&mut cx) {
                    Poll::Ready(v) => assert_eq!(v.unwrap(), 3),
                    Poll::Pending => panic!("complete task still pending"),
                }
            }
        }
    });
}
