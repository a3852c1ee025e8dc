//! `yield`: one spawned task calling the runtime's `yield_now` ten million
//! times — ns per yield. Nothing else is ready, so this is the cost of a
//! self-wake, a trip through the run queue and a poll.

use super::{Config, Sample, Workload};
use crate::clock::Stopwatch;
use crate::runtimes::Runtime;

pub(crate) struct Yield;

impl Workload for Yield {
    const NAME: &'static str = "yield";
    const ABOUT: &'static str = "one spawned task yielding 10,000,000 times (ns per yield)";

    fn run<R: Runtime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(10_000_000, 100_000);
        let elapsed = R::block_on(async move {
            let sw = Stopwatch::start();
            R::spawn(async move {
                for _ in 0..n {
                    R::yield_now().await;
                }
            })
            .await;
            sw.elapsed()
        });
        vec![Sample::ns_per_op(cfg, "yield", "ns/yield", elapsed, n)]
    }
}
