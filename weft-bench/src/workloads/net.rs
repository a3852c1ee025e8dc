//! `echo` and `http`: a server in one process, pinned to the benchmark's
//! CPU, and the load generator ([`crate::net_load`]) in another, pinned to
//! a different CPU; each server column ([`SERVERS`]) in turn. Under
//! `--flavor multi --workers N` the runtime servers run their multi-thread
//! runtime with N workers, pinned to the benchmark's N CPUs (the load
//! shares them when no other CPU is online); `epoll-ref` stays the
//! single-thread loop. Also
//! `syscalls` and `callgrind` (opt-in): the `echo` server at C = 64 under
//! `strace -f -c` or `valgrind --tool=callgrind` for a fixed number of
//! round trips, counting system calls or user-space instructions per
//! message.
//!
//! Per (workload, C) the rows are: the server's CPU time per message
//! (user + system, its whole process, over the load's measured window),
//! throughput, p50 and p99 latency as the load saw them, and the load
//! generator's own CPU use over the window (when it nears 100 % the load,
//! not the server, limits throughput).

#![forbid(unsafe_code)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::Duration;

use super::{Config, Entry, RunFn, Sample};
use crate::net_load::{Proto, Spec, Window};
use crate::report::COLUMNS;
use crate::servers::SERVERS;

/// The workloads of this module.
pub(crate) fn entries() -> Vec<Entry> {
    let e = |name, about, runs: [RunFn; 4], opt_in| Entry {
        name,
        about,
        runs: runs
            .into_iter()
            .enumerate()
            .map(|(i, r)| (column(i), r))
            .collect(),
        self_warming: true,
        opt_in,
    };
    vec![
        e(
            "echo",
            "64-byte echo over loopback, C = 1, 64, 1000 connections, server and load \
             in their own processes on different CPUs (server CPU us/msg, msg/s, p50/p99)",
            [echo::<0>, echo::<1>, echo::<2>, echo::<3>],
            false,
        ),
        e(
            "http",
            "keep-alive GET / -> 200 \"Hello, World!\", C = 64, 512 (server CPU us/req, \
             req/s, p50/p99)",
            [http::<0>, http::<1>, http::<2>, http::<3>],
            false,
        ),
        e(
            "syscalls",
            "(opt-in) system calls per echo message at C = 64: the server under \
             strace -f -c for 20,000 round trips",
            [syscalls::<0>, syscalls::<1>, syscalls::<2>, syscalls::<3>],
            true,
        ),
        e(
            "callgrind",
            "(opt-in) user-space instructions per echo message at C = 64: the server \
             under valgrind --tool=callgrind for 20,000 round trips",
            [
                callgrind::<0>,
                callgrind::<1>,
                callgrind::<2>,
                callgrind::<3>,
            ],
            true,
        ),
    ]
}

/// The table column of server number `i`.
fn column(i: usize) -> usize {
    COLUMNS
        .iter()
        .position(|c| *c == SERVERS[i])
        .unwrap_or(COLUMNS.len() - 1)
}

fn echo<const S: usize>(cfg: &Config) -> Vec<Sample> {
    let conns: &[usize] = if cfg.quick { &[8] } else { &[1, 64, 1000] };
    throughput(cfg, SERVERS[S], Proto::Echo, conns)
}

fn http<const S: usize>(cfg: &Config) -> Vec<Sample> {
    let conns: &[usize] = if cfg.quick { &[8] } else { &[64, 512] };
    throughput(cfg, SERVERS[S], Proto::Http, conns)
}

fn syscalls<const S: usize>(cfg: &Config) -> Vec<Sample> {
    match count_syscalls(cfg, SERVERS[S]) {
        Ok(v) => v,
        Err(e) => panic!("syscalls on {}: {e}", SERVERS[S]),
    }
}

fn callgrind<const S: usize>(cfg: &Config) -> Vec<Sample> {
    match count_instructions(cfg, SERVERS[S]) {
        Ok(v) => v,
        Err(e) => panic!("callgrind on {}: {e}", SERVERS[S]),
    }
}

/// The server's CPUs and the load's: the CPUs the benchmark is pinned to
/// (one, or `0..N` for `--workers N`), and the first online CPU outside
/// them; `None` for the load when there is none (then it runs where the
/// benchmark may, sharing the server's CPUs: `--workers 2` on a 2-CPU
/// machine). Both unpinned when the benchmark is not pinned at all (e.g.
/// under `cargo test`).
pub(crate) fn cpus() -> (Option<Vec<usize>>, Option<usize>) {
    let allowed = crate::affinity::allowed_cpus().unwrap_or_default();
    let online = crate::affinity::online_cpus();
    if allowed.is_empty() || (allowed.len() > 1 && allowed.len() >= online) {
        return (None, None);
    }
    let load = (0..online).find(|c| !allowed.contains(c));
    (Some(allowed), load)
}

fn throughput(cfg: &Config, server: &str, proto: Proto, conns: &[usize]) -> Vec<Sample> {
    let mut out = Vec::new();
    for &c in conns {
        let timing = Timing {
            warmup: Duration::from_millis(cfg.size(300, 20) as u64),
            max_time: Duration::from_millis(cfg.size(2_000, 100) as u64),
            max_count: 5_000_000,
        };
        let m = match measure(cfg, server, proto, c, timing, &[]) {
            Ok(m) => m,
            Err(e) => panic!("{} c={c} on {server}: {e}", proto.name()),
        };
        let w = m.window;
        let n = w.count.max(1) as f64;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let (op, ops) = match proto {
            Proto::Echo => ("msg", "msg/s"),
            Proto::Http => ("req", "req/s"),
        };
        let name = |what: &str| format!("{} c={c} {what}", proto.name());
        out.push(
            Sample::new(
                name(&format!("server CPU/{op}")),
                "µs",
                us(m.server_cpu) / n,
            )
            .vs_floor(),
        );
        out.push(Sample::new(
            name(ops),
            ops,
            n / w.elapsed.as_secs_f64().max(1e-9),
        ));
        out.push(Sample::new(name("p50"), "µs", us(w.p50)));
        out.push(Sample::new(name("p99"), "µs", us(w.p99)));
        out.push(Sample::new(
            name("load CPU"),
            "%",
            100.0 * w.cpu.as_secs_f64() / w.elapsed.as_secs_f64().max(1e-9),
        ));
    }
    out
}

/// How long the load warms up and runs.
#[derive(Debug, Clone, Copy)]
struct Timing {
    warmup: Duration,
    max_time: Duration,
    max_count: u64,
}

/// What one server and load pair measured.
#[derive(Debug, Clone, Copy)]
struct Measured {
    window: Window,
    /// The server's CPU time over the window.
    server_cpu: Duration,
    /// Every response the load received, warm-up and all.
    total: u64,
}

/// A child process spoken to by lines.
struct Proc {
    what: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Proc {
    fn start(what: String, wrapper: &[String], args: &[String]) -> Result<Proc, String> {
        let mut cmd = crate::child::command(wrapper, args)?;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting the {what} ({cmd:?}): {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(format!("the {what} has no stdin or stdout pipe"));
        };
        Ok(Proc {
            what,
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
        })
    }

    fn send(&mut self, line: &str) -> Result<(), String> {
        let w = self
            .stdin
            .as_mut()
            .ok_or_else(|| format!("the {}'s stdin is closed", self.what))?;
        writeln!(w, "{line}")
            .and_then(|()| w.flush())
            .map_err(|e| format!("telling the {} '{line}': {e}", self.what))
    }

    /// The rest of the next line starting with `tag` (other lines, such as
    /// the test harness's, are skipped).
    fn expect(&mut self, tag: &str) -> Result<String, String> {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self
                .stdout
                .read_line(&mut line)
                .map_err(|e| format!("reading the {}'s output: {e}", self.what))?;
            if n == 0 {
                let status = self
                    .child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                return Err(format!(
                    "the {} ended ({status}) before saying '{tag}'",
                    self.what
                ));
            }
            if let Some(rest) = line.trim_end().strip_prefix(tag) {
                if rest.is_empty() || rest.starts_with(' ') {
                    return Ok(rest.trim().to_string());
                }
            }
        }
    }

    /// Close its stdin and wait for it to exit.
    fn finish(mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let status = self
            .child
            .wait()
            .map_err(|e| format!("waiting for the {}: {e}", self.what))?;
        if !status.success() {
            return Err(format!("the {} exited with {status}", self.what));
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Only reached with the child still running on an error path
        // (`finish` has reaped it otherwise): stop it.
        drop(self.stdin.take());
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn number<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{what}: '{s}' is not a number"))
}

/// Run `server` (under `wrapper`, if any) and the load against it once.
fn measure(
    cfg: &Config,
    server: &str,
    proto: Proto,
    conns: usize,
    t: Timing,
    wrapper: &[String],
) -> Result<Measured, String> {
    let (server_cpus, load_cpu) = cpus();
    let workers = cfg.flavor.workers();
    let what = match workers {
        0 => format!("{server} server"),
        n => format!("{server} server ({n} workers)"),
    };
    let mut srv = Proc::start(
        what,
        wrapper,
        &[
            "server".into(),
            proto.name().into(),
            server.into(),
            server_cpus.map_or_else(|| "-".to_string(), |c| crate::affinity::format_cpus(&c)),
            workers.to_string(),
        ],
    )?;
    let port: u16 = number("port", &srv.expect("listening")?)?;
    let spec = Spec {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        proto,
        conns,
        warmup: t.warmup,
        max_time: t.max_time,
        max_count: t.max_count,
        cpu: load_cpu,
    };
    let mut load = Proc::start("load generator".into(), &[], &spec.to_args())?;
    load.expect("warm")?;
    srv.send("mark")?;
    let cpu0: u64 = number("cpu", &srv.expect("cpu")?)?;
    load.send("go")?;
    let end = load.expect("end")?;
    srv.send("mark")?;
    let cpu1: u64 = number("cpu", &srv.expect("cpu")?)?;
    load.send("quit")?;
    let total: u64 = number("total", &load.expect("total")?)?;
    load.finish()?;
    srv.finish()?;
    let window = Window::from_fields(&end).ok_or_else(|| format!("a bad 'end' line: '{end}'"))?;
    Ok(Measured {
        window,
        server_cpu: Duration::from_nanos(cpu1.saturating_sub(cpu0)),
        total,
    })
}

/// The fixed run of the counting workloads: C = 64 (8 quick), 20,000
/// round trips (1,000 quick), no warm-up; `WEFT_BENCH_COUNT_CONNS` and
/// `WEFT_BENCH_COUNT_MSGS` override both.
fn counted_run(cfg: &Config, server: &str, wrapper: &[String]) -> Result<(usize, u64), String> {
    let conns = env_count("WEFT_BENCH_COUNT_CONNS", cfg.size(64, 8))?;
    let timing = Timing {
        warmup: Duration::ZERO,
        max_time: Duration::from_secs(120),
        max_count: env_count("WEFT_BENCH_COUNT_MSGS", cfg.size(20_000, 1_000))? as u64,
    };
    let m = measure(cfg, server, Proto::Echo, conns, timing, wrapper)?;
    Ok((conns, m.total))
}

/// The positive count in the environment variable `name`, or `default` when it is unset.
fn env_count(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => match number::<usize>(name, &v)? {
            0 => Err(format!("{name}: must be at least 1")),
            n => Ok(n),
        },
    }
}

fn temp_file(what: &str, server: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "weft-bench-{what}-{}-{server}.out",
        std::process::id()
    ))
}

/// Per-syscall call counts from `strace -c` output, and the total.
pub(crate) fn parse_strace(summary: &str) -> Option<(u64, Vec<(String, u64)>)> {
    let mut calls = Vec::new();
    let mut total = None;
    for line in summary.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // % time, seconds, usecs/call, calls, [errors,] syscall
        if f.len() < 5 || f[0].parse::<f64>().is_err() {
            continue;
        }
        let (Ok(n), Some(name)) = (f[3].parse::<u64>(), f.last()) else {
            continue;
        };
        if *name == "total" {
            total = Some(n);
        } else {
            calls.push((name.to_string(), n));
        }
    }
    Some((total?, calls))
}

fn count_syscalls(cfg: &Config, server: &str) -> Result<Vec<Sample>, String> {
    let file = temp_file("strace", server);
    let wrapper: Vec<String> = ["strace", "-f", "-c", "-o"]
        .into_iter()
        .map(str::to_string)
        .chain([file.display().to_string(), "--".to_string()])
        .collect();
    let (conns, msgs) = counted_run(cfg, server, &wrapper)?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("reading strace's summary {}: {e}", file.display()))?;
    let _ = std::fs::remove_file(&file);
    let (total, calls) =
        parse_strace(&text).ok_or_else(|| format!("no total in strace's summary: {text}"))?;
    let per = |n: u64| n as f64 / msgs.max(1) as f64;
    // One row per kind of call, whichever variant a runtime uses.
    let mut kinds: Vec<(&'static str, u64)> = Vec::new();
    for (name, n) in &calls {
        let kind = syscall_kind(name);
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, sum)) => *sum += n,
            None => kinds.push((kind, *n)),
        }
    }
    let mut out =
        vec![Sample::new(format!("echo c={conns} syscalls"), "calls/msg", per(total)).vs_floor()];
    for (kind, n) in kinds {
        // Leave out the start-up calls that happen a few times in a run.
        if per(n) >= 0.01 {
            out.push(Sample::new(
                format!("echo c={conns} syscalls: {kind}"),
                "calls/msg",
                per(n),
            ));
        }
    }
    Ok(out)
}

/// The row a system call is counted in: the variants of reading, writing
/// and waiting each share one; others are "other".
fn syscall_kind(name: &str) -> &'static str {
    match name {
        "read" | "recvfrom" | "recvmsg" | "readv" => "read/recv",
        "write" | "sendto" | "sendmsg" | "writev" => "write/send",
        "epoll_wait" | "epoll_pwait" | "epoll_pwait2" | "poll" | "ppoll" => "epoll_wait",
        "epoll_ctl" => "epoll_ctl",
        "futex" => "futex",
        _ => "other",
    }
}

/// `totals:` (or `summary:`) of a callgrind output file: instructions.
pub(crate) fn parse_callgrind(out: &str) -> Option<u64> {
    let pick = |tag: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(tag))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    pick("totals:").or_else(|| pick("summary:"))
}

fn count_instructions(cfg: &Config, server: &str) -> Result<Vec<Sample>, String> {
    let file = temp_file("callgrind", server);
    let mut wrapper = vec![
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", file.display()),
    ];
    // More callgrind options, e.g. `--cache-sim=yes` to count simulated cache misses.
    if let Ok(extra) = std::env::var("WEFT_BENCH_CALLGRIND_ARGS") {
        wrapper.extend(extra.split_whitespace().map(str::to_string));
    }
    let (conns, msgs) = counted_run(cfg, server, &wrapper)?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("reading callgrind's output {}: {e}", file.display()))?;
    if std::env::var_os("WEFT_BENCH_KEEP_CALLGRIND").is_some() {
        eprintln!("callgrind output kept: {}", file.display());
    } else {
        let _ = std::fs::remove_file(&file);
    }
    let ir = parse_callgrind(&text).ok_or("no totals line in callgrind's output")?;
    Ok(vec![Sample::new(
        format!("echo c={conns} user instructions"),
        "Ir/msg",
        ir as f64 / msgs.max(1) as f64,
    )
    .vs_floor()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[test]
    fn strace_summaries_are_read() {
        let s = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 60.00    0.006000           2      3000           write
 30.00    0.003000           1      2000      1000 read
 10.00    0.001000           1       500           epoll_wait
------ ----------- ----------- --------- --------- ----------------
100.00    0.010000           1      5500      1000 total
";
        let (total, calls) = parse_strace(s).unwrap();
        assert_eq!(total, 5500);
        assert_eq!(calls[1], ("read".to_string(), 2000));
        assert_eq!(calls.len(), 3);
        assert_eq!(parse_strace("nothing"), None);
    }

    #[test]
    fn callgrind_totals_are_read() {
        assert_eq!(
            parse_callgrind("events: Ir\nfn=x\n1 2\ntotals: 12345\n"),
            Some(12345)
        );
        assert_eq!(parse_callgrind("summary: 77\n"), Some(77));
        assert_eq!(parse_callgrind("events: Ir\n"), None);
    }

    fn have(tool: &str) -> bool {
        std::process::Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The opt-in strace count at quick sizes, where strace is installed.
    #[test]
    fn syscalls_are_counted_where_strace_runs() {
        if !have("strace") {
            eprintln!("strace not installed: skipped");
            return;
        }
        let cfg = Config {
            quick: true,
            clock: Clock::Cpu,
            flavor: crate::workloads::Flavor::Current,
        };
        let v = count_syscalls(&cfg, "epoll-ref").unwrap();
        // At least a read and a write per message, and not hundreds.
        assert!(v[0].value >= 2.0 && v[0].value < 50.0, "{v:?}");
    }
}
