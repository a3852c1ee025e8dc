//! The old quick comparison of weft's multi-thread runtime with tokio's,
//! now a thin alias of the harness's multi-thread flavour:
//!
//! ```sh
//! target/release/multi_quick [WORKERS] [ROUNDS]
//! # runs, next to it:
//! target/release/weft-bench --flavor multi --workers WORKERS --rounds ROUNDS \
//!     --pin 0-(WORKERS-1) --only spawn,spawn-inside,yield,ping-pong,chain,echo-inproc
//! ```
//!
//! (defaults: 2 workers, 5 rounds). The workloads, their sizes and the
//! table are the harness's (`weft-bench/README.md`); build both binaries
//! with `cargo build --release -p weft-bench` (or `weft-bench/run.sh`).

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let harness = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("weft-bench"),
        Err(e) => {
            eprintln!("multi_quick: current_exe: {e}");
            return ExitCode::FAILURE;
        }
    };
    let online = std::thread::available_parallelism().map_or(1, |n| n.get());
    let last = workers.min(online).max(1) - 1;
    let status = Command::new(&harness)
        .args(["--flavor", "multi", "--workers", &workers.to_string()])
        .args([
            "--rounds",
            &rounds.to_string(),
            "--pin",
            &format!("0-{last}"),
        ])
        .args([
            "--only",
            "spawn,spawn-inside,yield,ping-pong,chain,echo-inproc",
        ])
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("multi_quick: {} exited with {s}", harness.display());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!(
                "multi_quick: cannot run {} ({e}); build it with \
                 `cargo build --release -p weft-bench`",
                harness.display()
            );
            ExitCode::FAILURE
        }
    }
}
