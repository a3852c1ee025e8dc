//! The workloads: one module each, written once against
//! [`Runtime`] and run on every runtime.
//!
//! To add a workload: write a module with a unit struct implementing
//! [`Workload`], and add it to [`all`]. A workload may report several
//! metrics (each becomes a row of the table), e.g. wall time, CPU time and
//! peak RSS.

use crate::clock::{Clock, Elapsed};
use crate::runtimes::{self, Runtime};

pub(crate) mod multi;
mod net;
pub(crate) mod seed;
pub(crate) mod sleep;
mod spawn;
mod wake;
mod yield_now;

/// Which runtime of each library the columns run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// weft's and tokio's current-thread runtimes, smol's `LocalExecutor`.
    Current,
    /// weft's and tokio's multi-thread runtimes and smol's `Executor`, each
    /// with this many worker threads ([`multi`]).
    Multi { workers: usize },
}

impl Flavor {
    /// The worker count a child server is told: 0 for the current-thread
    /// flavour.
    pub(crate) fn workers(self) -> usize {
        match self {
            Flavor::Current => 0,
            Flavor::Multi { workers } => workers,
        }
    }
}

/// Settings shared by every workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config {
    /// Tiny sizes, for a smoke run in CI.
    pub(crate) quick: bool,
    /// The clock per-operation times are reported on.
    pub(crate) clock: Clock,
    /// Which runtimes run: `--flavor`, `--workers`.
    pub(crate) flavor: Flavor,
}

impl Config {
    /// `full` normally, `quick` under `--quick`.
    pub(crate) fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

/// One measured figure of one run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// The table row: the workload's name, or `workload what` when a
    /// workload reports several figures.
    pub(crate) metric: String,
    /// What `value` counts, e.g. `ns/task`.
    pub(crate) unit: &'static str,
    pub(crate) value: f64,
    /// Whether the table gives this row's ratio to the epoll reference
    /// (the CPU and system-call figures of the network workloads).
    pub(crate) vs_floor: bool,
}

impl Sample {
    pub(crate) fn new(metric: impl Into<String>, unit: &'static str, value: f64) -> Sample {
        Sample {
            metric: metric.into(),
            unit,
            value,
            vs_floor: false,
        }
    }

    /// The same, with a ratio to the epoll reference in the table.
    pub(crate) fn vs_floor(mut self) -> Sample {
        self.vs_floor = true;
        self
    }

    /// Nanoseconds per operation over `ops` operations that took
    /// `elapsed`, on the clock `cfg` asks for.
    pub(crate) fn ns_per_op(
        cfg: &Config,
        metric: &'static str,
        unit: &'static str,
        elapsed: Elapsed,
        ops: usize,
    ) -> Sample {
        Sample::new(
            metric,
            unit,
            elapsed.on(cfg.clock).as_nanos() as f64 / ops.max(1) as f64,
        )
    }
}

/// A benchmark, generic over the runtime.
pub(crate) trait Workload {
    /// Its name, for `--only` and the table.
    const NAME: &'static str;
    /// One line for `--list`.
    const ABOUT: &'static str;
    /// One run on a fresh runtime `R`: the figures it measured.
    fn run<R: Runtime>(cfg: &Config) -> Vec<Sample>;
}

/// A workload monomorphized for one runtime.
pub(crate) type RunFn = fn(&Config) -> Vec<Sample>;

/// A workload with its run function for every column it fills.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: &'static str,
    pub(crate) about: &'static str,
    /// `(column, run)`, columns indexed like [`crate::report::COLUMNS`].
    pub(crate) runs: Vec<(usize, RunFn)>,
    /// Each run warms itself up: no separate warm-up rounds.
    pub(crate) self_warming: bool,
    /// Runs only when `--only` names it (it needs a tool, or is slow).
    pub(crate) opt_in: bool,
}

fn entry<W: Workload>() -> Entry {
    Entry {
        name: W::NAME,
        about: W::ABOUT,
        runs: runtimes::instantiate::<W>()
            .into_iter()
            .enumerate()
            .collect(),
        self_warming: false,
        opt_in: false,
    }
}

/// Every workload, in the order they run.
pub(crate) fn all() -> Vec<Entry> {
    let mut v = vec![
        entry::<spawn::Spawn>(),
        entry::<yield_now::Yield>(),
        entry::<wake::Wake>(),
        entry::<sleep::Sleep>(),
        // Each run is a fresh process: nothing to warm up.
        Entry {
            self_warming: true,
            ..entry::<seed::Seed>()
        },
    ];
    v.extend(net::entries());
    v
}

/// Every workload of the multi-thread flavour (`--flavor multi`), in the
/// order they run: [`multi`]'s in-process ones, then `echo` and `http`
/// (whose servers follow the flavour).
pub(crate) fn all_multi() -> Vec<Entry> {
    let mut v = multi::entries();
    v.extend(net::entries());
    v
}

/// The workloads of a flavour.
pub(crate) fn for_flavor(flavor: Flavor) -> Vec<Entry> {
    match flavor {
        Flavor::Current => all(),
        Flavor::Multi { .. } => all_multi(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every workload runs on every runtime at quick sizes and reports
    /// finite, positive figures.
    #[test]
    fn every_workload_runs_on_every_runtime() {
        let cfg = Config {
            quick: true,
            clock: Clock::Cpu,
            flavor: Flavor::Current,
        };
        for w in all().into_iter().filter(|w| !w.opt_in) {
            for (col, run) in w.runs {
                let rt = crate::report::COLUMNS[col];
                let samples = run(&cfg);
                assert!(!samples.is_empty(), "{} on {rt}: no samples", w.name);
                for s in samples {
                    // Kernel counters (listen overflows...) may be zero.
                    let least = if s.unit == seed::COUNT {
                        0.0
                    } else {
                        f64::MIN_POSITIVE
                    };
                    assert!(
                        s.value.is_finite() && s.value >= least,
                        "{} on {rt}: {} = {}",
                        w.name,
                        s.metric,
                        s.value
                    );
                }
            }
        }
    }

    /// The same for the multi-thread flavour with two workers: the
    /// in-process workloads and the echo and http servers of each runtime.
    #[test]
    fn every_multi_thread_workload_runs_on_every_runtime() {
        let cfg = Config {
            quick: true,
            clock: Clock::Wall,
            flavor: Flavor::Multi { workers: 2 },
        };
        for w in all_multi().into_iter().filter(|w| !w.opt_in) {
            for (col, run) in w.runs {
                let rt = crate::report::COLUMNS[col];
                let samples = run(&cfg);
                assert!(!samples.is_empty(), "{} on {rt}: no samples", w.name);
                for s in samples {
                    assert!(
                        s.value.is_finite() && s.value > 0.0,
                        "{} on {rt} (multi): {} = {}",
                        w.name,
                        s.metric,
                        s.value
                    );
                }
            }
        }
    }

    #[test]
    fn names_are_unique() {
        for all in [all(), all_multi()] {
            for (i, a) in all.iter().enumerate() {
                assert!(all[i + 1..].iter().all(|b| b.name != a.name), "{}", a.name);
            }
        }
    }
}
