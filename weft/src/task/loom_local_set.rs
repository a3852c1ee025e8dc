//! loom models of a `LocalSet`'s remote path, driven through the real
//! `Shared` code: a wake from another thread racing the set's poll is never
//! lost, and one racing the set's drop never strands a task.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p weft --release --lib loom_local_set`

use std::collections::VecDeque;
use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;

use super::{Queued, Shared};
use crate::task::{new_task, JoinHandle, Task};

/// Counts its wakes (stands for the waker of the task polling the set).
struct CountWakes(Arc<AtomicUsize>);

impl Wake for CountWakes {
    fn wake(self: StdArc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn set_with_one_task() -> (StdArc<Shared>, Task<StdArc<Shared>>, Queued, JoinHandle<()>) {
    let shared = StdArc::new(Shared::new());
    let (owner, notified, join) = new_task(async {}, shared.clone());
    (shared, owner, notified, join)
}

/// Cancel the never-run task so its memory is freed within the model.
fn finish(shared: &Shared, owner: Task<StdArc<Shared>>, queued: VecDeque<Queued>) {
    drop(queued);
    drop(shared.take_remote());
    owner.shutdown();
}

#[test]
fn a_remote_wake_racing_the_poll_is_seen_or_wakes_the_poller() {
    loom::model(|| {
        let (shared, owner, notified, join) = set_with_one_task();
        let wakes = Arc::new(AtomicUsize::new(0));
        let waker = Waker::from(StdArc::new(CountWakes(wakes.clone())));

        let s = shared.clone();
        let th = loom::thread::spawn(move || s.push_remote(notified));

        // One poll of the set: register, then look at the remote queue.
        shared.register(&waker);
        let mut queue = VecDeque::new();
        shared.drain_remote_into(&mut queue);
        let seen = queue.len();

        th.join().unwrap();
        // Either this poll took the task, or the push woke the poller
        // (which then polls again and takes it).
        assert!(seen == 1 || wakes.load(SeqCst) == 1, "lost wake");
        if seen == 0 {
            shared.drain_remote_into(&mut queue);
            assert_eq!(queue.len(), 1);
        }
        finish(&shared, owner, queue);
        drop(join);
    });
}

#[test]
fn a_remote_wake_racing_the_drop_is_taken_or_dropped() {
    loom::model(|| {
        let (shared, owner, notified, join) = set_with_one_task();
        let s = shared.clone();
        let th = loom::thread::spawn(move || s.push_remote(notified));

        // The set's drop: close, then take what the remote queue holds.
        shared.close();
        let taken = shared.take_remote();

        th.join().unwrap();
        // Whatever the order, nothing is left queued after the close.
        assert_eq!(shared.take_remote().len(), 0);
        finish(&shared, owner, taken);
        drop(join);
    });
}
