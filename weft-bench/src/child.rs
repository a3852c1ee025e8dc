//! Child measurements: the benchmark re-executes itself (`current_exe()`)
//! with the hidden arguments `--child KIND ARGS...` to run a measurement in
//! a fresh process (`sleep`'s and `seed`'s peak RSS, a network server, the load
//! generator).
//!
//! Under the test harness the binary is libtest's: [`command`] then runs the
//! one test that acts as the child (`child::tests::child`) and hands it the
//! arguments through the environment variable [`TEST_ENV`].

use std::process::{Command, ExitCode};

/// The first argument that makes the process a child measurement.
pub(crate) const CHILD_FLAG: &str = "--child";

/// Where a child run by the test binary finds its arguments (space-separated).
pub(crate) const TEST_ENV: &str = "WEFT_BENCH_CHILD";

/// A command running this binary as the child `args` (`KIND ARGS...`),
/// under `wrapper` when it is not empty (e.g. `strace -f -c -o FILE --`).
pub(crate) fn command(wrapper: &[String], args: &[String]) -> Result<Command, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut cmd = match wrapper.split_first() {
        Some((prog, rest)) => {
            let mut c = Command::new(prog);
            c.args(rest).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    if cfg!(test) {
        cmd.args(["child::tests::child", "--exact", "--nocapture"])
            .env(TEST_ENV, args.join(" "));
    } else {
        cmd.arg(CHILD_FLAG).args(args);
    }
    Ok(cmd)
}

/// If `args` (after the program name) are `--child KIND ...`, run that child
/// and return its exit code; `None` for any other command line.
pub(crate) fn main(args: &[String]) -> Option<ExitCode> {
    let [flag, kind, rest @ ..] = args else {
        return None;
    };
    if flag != CHILD_FLAG {
        return None;
    }
    Some(match kind.as_str() {
        "sleep" => crate::workloads::sleep::child_main(rest),
        "seed" => crate::workloads::seed::child_main(rest),
        "server" => crate::servers::child_main(rest),
        "load" => crate::net_load::child_main(rest),
        other => {
            eprintln!("weft-bench --child: no child named '{other}' (sleep, seed, server, load)");
            ExitCode::from(2)
        }
    })
}

/// The numbers of the line of `out` that starts with `tag` (a child's
/// result line): `None` if there is no such line or a field is not a number.
pub(crate) fn result_numbers(out: &str, tag: &str) -> Option<Vec<u64>> {
    let line = out.lines().find_map(|l| l.trim().strip_prefix(tag))?;
    line.split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()
}

/// The end of a measuring child (`--child WHAT ...`): its result line on
/// stdout and success, or why it could not run on stderr and exit code 2.
pub(crate) fn finish(what: &str, result: Result<String, String>) -> ExitCode {
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("weft-bench --child {what}: {e}");
            ExitCode::from(2)
        }
    }
}

/// This process's peak resident set size since its `exec`, KiB (`VmHWM`).
pub(crate) fn peak_rss_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("reading /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM line in /proc/self/status".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The child measurement when the parent is this test binary (see
    /// [`command`]); a no-op in an ordinary test run.
    #[test]
    fn child() {
        let Ok(spec) = std::env::var(TEST_ENV) else {
            return;
        };
        let args: Vec<String> = [CHILD_FLAG]
            .into_iter()
            .map(str::to_string)
            .chain(spec.split_whitespace().map(str::to_string))
            .collect();
        assert_eq!(main(&args), Some(ExitCode::SUCCESS));
    }

    #[test]
    fn other_command_lines_are_not_children() {
        let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(main(&args("--quick")), None);
        assert_eq!(main(&args("--child")), None);
        assert_eq!(main(&args("--child nope")), Some(ExitCode::from(2)));
    }
}
