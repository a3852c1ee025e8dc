//! `sleep`: the seed series' headline. 1,000,000 tasks each `sleep(1 s)`,
//! spawned from inside `block_on`, then every handle awaited — wall time,
//! CPU time, peak RSS and RSS bytes per task.
//!
//! Peak RSS is a per-process high-water mark, so each measurement runs in a
//! fresh process: the benchmark re-executes itself (`current_exe()`, see
//! `child`) with the hidden arguments `--child sleep RUNTIME N`; the child runs the workload
//! once and prints one line with its own figures. CPU time is the whole
//! child's (`getrusage(RUSAGE_SELF)`: user + system, every thread), over the
//! same span as the wall time: from the first spawn to the last join. Peak
//! RSS is the child's `VmHWM` (`/proc/self/status`), not `ru_maxrss`: Linux
//! folds the high-water RSS of the address space a process replaces at
//! `exec` into its `ru_maxrss`, so a child spawned by a benchmark that has
//! grown to hundreds of MB would start with the parent's figure (measured
//! here: 7.3 MB at start from the test harness, 3.9 MB from a shell).
//! Bytes per task is the peak RSS minus the child's RSS before it built the
//! runtime, over N.

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{Config, Sample, Workload};
use crate::runtimes::Runtime;

/// How long each task sleeps.
const SLEEP: Duration = Duration::from_secs(1);

/// The prefix of the child's result line.
const RESULT_TAG: &str = "weft-bench-sleep-child:";

pub(crate) struct Sleep;

impl Workload for Sleep {
    const NAME: &'static str = "sleep";
    const ABOUT: &'static str =
        "1,000,000 tasks each sleep(1 s), all joined, each runtime in a fresh \
         process (wall s, CPU s, peak RSS MB, RSS bytes per task)";

    fn run<R: Runtime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(1_000_000, 10_000);
        let f = match run_child(R::NAME, n) {
            Ok(f) => f,
            Err(e) => panic!("sleep on {}: the child measurement failed: {e}", R::NAME),
        };
        let mb = |kib: u64| kib as f64 * 1024.0 / 1e6;
        vec![
            Sample::new("sleep wall", "s", f.wall.as_secs_f64()),
            Sample::new("sleep cpu", "s", f.cpu.as_secs_f64()),
            Sample::new("sleep peak rss", "MB", mb(f.peak_kib)),
            Sample::new(
                "sleep rss/task",
                "bytes/task",
                f.peak_kib.saturating_sub(f.base_kib) as f64 * 1024.0 / n as f64,
            ),
        ]
    }
}

/// What one child measured.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Figures {
    wall: Duration,
    cpu: Duration,
    /// `VmHWM` at the end, KiB.
    peak_kib: u64,
    /// `VmHWM` before the runtime was built, KiB.
    base_kib: u64,
}

impl Figures {
    fn to_line(self) -> String {
        format!(
            "{RESULT_TAG} {} {} {} {}",
            self.wall.as_nanos(),
            self.cpu.as_nanos(),
            self.peak_kib,
            self.base_kib
        )
    }

    /// The figures from the child's output: the line starting with [`RESULT_TAG`].
    fn from_output(out: &str) -> Option<Figures> {
        let v = crate::child::result_numbers(out, RESULT_TAG)?;
        match v[..] {
            [wall, cpu, peak_kib, base_kib] => Some(Figures {
                wall: Duration::from_nanos(wall),
                cpu: Duration::from_nanos(cpu),
                peak_kib,
                base_kib,
            }),
            _ => None,
        }
    }
}

/// Runs the workload for `runtime` in a fresh process and reads its figures.
fn run_child(runtime: &str, n: usize) -> Result<Figures, String> {
    let args = ["sleep".to_string(), runtime.to_string(), n.to_string()];
    let mut cmd = crate::child::command(&[], &args)?;
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Figures::from_output(&stdout).ok_or_else(|| format!("no result line in its output: {stdout}"))
}

/// The child side (`--child sleep RUNTIME N`, given the arguments after
/// `sleep`): run the measurement, print its line and return the exit code.
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    crate::child::finish("sleep", child(args).map(Figures::to_line))
}

/// `RUNTIME N`: measure `N` sleeping tasks on `RUNTIME`.
fn child(args: &[String]) -> Result<Figures, String> {
    let [runtime, n] = args else {
        return Err(format!("expected RUNTIME N, got {args:?}"));
    };
    let n: usize = n.parse().map_err(|_| format!("N: '{n}' is not a number"))?;
    let base_kib = crate::child::peak_rss_kib()?;
    let (wall, cpu) = match runtime.as_str() {
        "weft" => on_weft(n)?,
        "tokio" => on_tokio(n)?,
        "smol" => on_smol(n),
        other => return Err(format!("no runtime named '{other}' (weft, tokio, smol)")),
    };
    Ok(Figures {
        wall,
        cpu,
        peak_kib: crate::child::peak_rss_kib()?,
        base_kib,
    })
}

/// Times `spawn_all` (which spawns every task and returns a future joining them) on the
/// wall clock and the process's CPU clock.
async fn timed<J: Future<Output = ()>>(spawn_all: impl FnOnce() -> J) -> (Duration, Duration) {
    let cpu0 = crate::epoll::process_cpu_time();
    let wall0 = Instant::now();
    spawn_all().await;
    (
        wall0.elapsed(),
        crate::epoll::process_cpu_time().saturating_sub(cpu0),
    )
}

fn on_weft(n: usize) -> Result<(Duration, Duration), String> {
    let rt = weft::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("building weft's runtime: {e}"))?;
    Ok(rt.block_on(timed(|| {
        let handles: Vec<_> = (0..n)
            .map(|_| weft::spawn(weft::time::sleep(SLEEP)))
            .collect();
        async move {
            for h in handles {
                if let Err(e) = h.await {
                    panic!("a weft sleeper failed: {e}");
                }
            }
        }
    })))
}

fn on_tokio(n: usize) -> Result<(Duration, Duration), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("building tokio's runtime: {e}"))?;
    Ok(rt.block_on(timed(|| {
        let handles: Vec<_> = (0..n)
            .map(|_| tokio::spawn(tokio::time::sleep(SLEEP)))
            .collect();
        async move {
            for h in handles {
                if let Err(e) = h.await {
                    panic!("a tokio sleeper failed: {e}");
                }
            }
        }
    })))
}

fn on_smol(n: usize) -> (Duration, Duration) {
    let ex = async_executor::LocalExecutor::new();
    async_io::block_on(ex.run(timed(|| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                ex.spawn(async {
                    async_io::Timer::after(SLEEP).await;
                })
            })
            .collect();
        async move {
            for h in handles {
                h.await;
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_round_trip() {
        let f = Figures {
            wall: Duration::from_millis(1_234),
            cpu: Duration::from_micros(567),
            peak_kib: 89_000,
            base_kib: 3_000,
        };
        let out = format!("running 1 test\n{}\ntest ok\n", f.to_line());
        assert_eq!(Figures::from_output(&out), Some(f));
        assert_eq!(Figures::from_output("nothing here"), None);
        assert_eq!(Figures::from_output(&format!("{RESULT_TAG} 1 2 x 4")), None);
    }

    #[test]
    fn bad_child_arguments_are_refused() {
        let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(child_main(&args("sundial 1")), ExitCode::from(2));
        assert_eq!(child_main(&args("weft many")), ExitCode::from(2));
        assert_eq!(child_main(&args("weft")), ExitCode::from(2));
    }
}
