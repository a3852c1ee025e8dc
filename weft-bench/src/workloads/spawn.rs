//! `spawn`: spawn a million empty tasks from inside `block_on`, then await
//! every handle — ns per task; and, in a separate untimed run, the heap
//! allocations (and bytes) per spawned and joined task.

use super::{Config, Sample, Workload};
use crate::alloc;
use crate::clock::Stopwatch;
use crate::runtimes::Runtime;

pub(crate) struct Spawn;

impl Workload for Spawn {
    const NAME: &'static str = "spawn";
    const ABOUT: &'static str =
        "spawn 1,000,000 empty tasks, then await every handle (ns per task; allocations per task)";

    fn run<R: Runtime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(1_000_000, 10_000);
        let elapsed = R::block_on(async move {
            let mut handles = Vec::with_capacity(n);
            let sw = Stopwatch::start();
            for _ in 0..n {
                handles.push(R::spawn(async {}));
            }
            for h in handles {
                h.await;
            }
            sw.elapsed()
        });

        // Counting costs a branch and two adds per allocation: keep it out
        // of the timed run. A fresh runtime, so that queue growth counts.
        let m = cfg.size(100_000, 1_000);
        let counts = R::block_on(async move {
            let mut handles = Vec::with_capacity(m);
            let counter = alloc::Counter::start();
            for _ in 0..m {
                handles.push(R::spawn(async {}));
            }
            for h in handles {
                h.await;
            }
            counter.stop()
        });

        vec![
            Sample::ns_per_op(cfg, "spawn", "ns/task", elapsed, n),
            Sample::new(
                "spawn allocs",
                "allocs/task",
                counts.allocs as f64 / m as f64,
            ),
            Sample::new("spawn bytes", "bytes/task", counts.bytes as f64 / m as f64),
        ]
    }
}
