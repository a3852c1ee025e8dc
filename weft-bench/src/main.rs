//! weft-bench: the same workloads on weft's current-thread runtime, tokio's
//! current-thread runtime and smol (`LocalExecutor` + `async_io::block_on`),
//! or with `--flavor multi` on their multi-thread runtimes, interleaved round
//! by round (weft tokio smol, weft tokio smol, ...), then a markdown table of
//! the medians and their ratios to tokio's (the median of each round's ratio).
//!
//! Run it with `weft-bench/run.sh [ARGS]`, which builds in release mode and
//! pins the process with `taskset` (CPU 1; CPUs 0..N-1 for `--flavor multi
//! --workers N`). `--help` lists the options.

mod affinity;
mod alloc;
mod child;
mod clock;
mod epoll;
mod http;
mod net_load;
mod report;
mod runtimes;
mod runtimes_mt;
mod servers;
mod workloads;

use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clock::Clock;
use report::{fmt_value, Results, COLUMNS};
use workloads::{Config, Entry, Flavor};

#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

const USAGE: &str = "\
usage: weft-bench [--rounds N] [--warmup N] [--quick] [--only NAME[,NAME...]] [--pin CPUS]
                  [--clock wall|cpu] [--flavor current|multi] [--workers N]
                  [--markdown-out FILE] [--list]

Runs each workload on weft, tokio and smol (current-thread each, or their
multi-thread runtimes with --flavor multi), interleaved, and prints a markdown
table of the medians with their ratios to tokio's (the median of each round's
ratio). The network workloads (echo, http) add a hand-written epoll loop
(epoll-ref) and weft's ratio to it. `syscalls` and `callgrind` run only when
--only names them.

  --rounds N   measured rounds per workload (default 3, at least 1)
  --warmup N   unmeasured rounds run first (default 1; 0 with --quick)
  --quick      tiny sizes, a smoke run of a few seconds
  --only NAMES run only these workloads (comma-separated, or repeat --only)
  --pin CPUS   pin to these CPUs (1, or 0,1 or 0-1) with sched_setaffinity
               (run.sh uses taskset: CPU 1, or CPUs 0..N-1 for --workers N)
  --clock C    report per-operation times on the wall clock (default) or
               on this thread's CPU clock (cpu: leaves out the time other
               processes held the CPU, for a busy machine); the multi
               flavour reports both, its CPU rows the whole process's
  --flavor F   current (default): each library's current-thread runtime;
               multi: weft's and tokio's multi-thread runtimes and smol's
               Executor on N threads, the in-process workloads spawn,
               spawn-inside, yield, ping-pong, chain, echo-inproc, and the
               echo and http servers on N workers (epoll-ref stays one thread)
  --workers N  worker threads of the multi flavour (default: the CPUs online)
  --markdown-out FILE
               also write the header line, the table and the command to FILE
  --list       list the workloads and exit
";

/// The command line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Args {
    rounds: usize,
    warmup: Option<usize>,
    quick: bool,
    only: Vec<String>,
    pin: Option<Vec<usize>>,
    clock: Clock,
    flavor: Flavor,
    markdown_out: Option<String>,
    list: bool,
    help: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        rounds: 3,
        warmup: None,
        quick: false,
        only: Vec::new(),
        pin: None,
        clock: Clock::Wall,
        flavor: Flavor::Current,
        markdown_out: None,
        list: false,
        help: false,
    };
    let mut multi = false;
    let mut workers = None;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |name: &str, v: String| -> Result<usize, String> {
            v.parse::<usize>()
                .map_err(|_| format!("{name}: '{v}' is not a non-negative integer"))
        };
        match flag.as_str() {
            "--rounds" => {
                out.rounds = number("--rounds", value("--rounds")?)?;
                if out.rounds == 0 {
                    return Err("--rounds must be at least 1".into());
                }
            }
            "--warmup" => out.warmup = Some(number("--warmup", value("--warmup")?)?),
            "--quick" => out.quick = true,
            "--only" => out.only.extend(
                value("--only")?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            "--pin" => out.pin = Some(affinity::parse_cpus(&value("--pin")?)?),
            "--flavor" => {
                multi = match value("--flavor")?.as_str() {
                    "current" | "current_thread" => false,
                    "multi" | "multi_thread" => true,
                    other => {
                        return Err(format!("--flavor: '{other}' is neither current nor multi"))
                    }
                }
            }
            "--workers" => {
                let n = number("--workers", value("--workers")?)?;
                if n == 0 {
                    return Err("--workers must be at least 1".into());
                }
                workers = Some(n);
            }
            "--clock" => {
                out.clock = match value("--clock")?.as_str() {
                    "wall" => Clock::Wall,
                    "cpu" => Clock::Cpu,
                    other => return Err(format!("--clock: '{other}' is neither wall nor cpu")),
                }
            }
            "--markdown-out" => out.markdown_out = Some(value("--markdown-out")?),
            "--list" => out.list = true,
            "-h" | "--help" => out.help = true,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    out.flavor = match (multi, workers) {
        (false, None) => Flavor::Current,
        (false, Some(_)) => return Err("--workers needs --flavor multi".into()),
        (true, n) => Flavor::Multi {
            workers: n.unwrap_or_else(|| affinity::online_cpus().max(1)),
        },
    };
    Ok(out)
}

/// The workloads `--only` names (all but the opt-in ones without it), in
/// the standard order.
fn select(all: Vec<Entry>, only: &[String]) -> Result<Vec<Entry>, String> {
    if let Some(bad) = only.iter().find(|n| all.iter().all(|w| w.name != *n)) {
        let names: Vec<&str> = all.iter().map(|w| w.name).collect();
        return Err(format!(
            "--only: no workload named '{bad}' (there are: {})",
            names.join(", ")
        ));
    }
    Ok(all
        .into_iter()
        .filter(|w| {
            if only.is_empty() {
                !w.opt_in
            } else {
                only.iter().any(|n| n == w.name)
            }
        })
        .collect())
}

/// First line of `/proc/cpuinfo`'s "model name", if any.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// The header's words on the multi flavour: workers, and where the
/// servers and the load generator run. Empty for the current flavour.
fn flavor_note(flavor: Flavor, cpus: &[usize]) -> String {
    let Flavor::Multi { workers } = flavor else {
        return String::new();
    };
    let load = match (0..affinity::online_cpus()).find(|c| !cpus.contains(c)) {
        Some(c) => format!("the load generator on CPU {c}"),
        None => "the load generator shares those CPUs (no other is online)".to_string(),
    };
    format!(
        "multi-thread flavour, {workers} workers (smol: an Executor run by {workers} threads); \
         in-process workloads and servers on CPUs {cpus:?}, {load}; epoll-ref single-threaded; "
    )
}

fn main() -> ExitCode {
    // A child measurement (`--child KIND ...`), run in its own process.
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = child::main(&argv) {
        return code;
    }
    let args = match parse_args(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("weft-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let selected = match select(workloads::for_flavor(args.flavor), &args.only) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("weft-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        for w in &selected {
            println!("{:<8} {}", w.name, w.about);
        }
        return ExitCode::SUCCESS;
    }
    if let Some(cpus) = &args.pin {
        if let Err(e) = affinity::pin_to_set(cpus) {
            eprintln!("weft-bench: cannot pin: {e}");
            return ExitCode::FAILURE;
        }
    }
    let cpus = match affinity::allowed_cpus() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("weft-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let want = match args.flavor {
        Flavor::Current => 1,
        Flavor::Multi { workers } => workers.min(affinity::online_cpus()).max(1),
    };
    if cpus.len() != want {
        let how = match args.flavor {
            Flavor::Current => "`taskset -c 1` or --pin 1".to_string(),
            Flavor::Multi { .. } => format!("--pin 0-{} for --workers {want}", want - 1),
        };
        eprintln!(
            "weft-bench: warning: pinned to {} CPUs (allowed: {cpus:?}), not {want}; \
             use run.sh, or {how}",
            cpus.len()
        );
    }

    let cfg = Config {
        quick: args.quick,
        clock: args.clock,
        flavor: args.flavor,
    };
    let warmup = args.warmup.unwrap_or(if args.quick { 0 } else { 1 });
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let header = format!(
        "weft-bench {}: {}{} rounds (+{warmup} warm-up), {} sizes, {} clock, {}, CPUs {cpus:?} of {}, {} ({})",
        report::utc_date(now),
        flavor_note(args.flavor, &cpus),
        args.rounds,
        if args.quick { "quick" } else { "full" },
        match args.flavor {
            Flavor::Current => args.clock.name(),
            Flavor::Multi { .. } => "wall and process-CPU",
        },
        if cfg!(debug_assertions) {
            "DEBUG BUILD"
        } else {
            "release"
        },
        affinity::online_cpus(),
        cpu_model(),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown kernel".to_string(), |s| s.trim().to_string()),
    );
    println!("{header}\n");

    let started = Instant::now();
    let mut results = Results::default();
    let mut preempted = [0u64; COLUMNS.len()];
    for w in &selected {
        let warm = if w.self_warming { 0 } else { warmup };
        for _ in 0..warm {
            for (_, run) in &w.runs {
                run(&cfg);
            }
        }
        for round in 1..=args.rounds {
            let mut line = format!("{} round {round}:", w.name);
            for &(col, run) in &w.runs {
                let before = clock::preemptions();
                let samples = run(&cfg);
                let switches = clock::preemptions().saturating_sub(before);
                preempted[col] += switches;
                results.record(col, &samples);
                if let Some(first) = samples.first() {
                    line.push_str(&format!(
                        " {} {} {} ({switches} preempted),",
                        COLUMNS[col],
                        fmt_value(first.value),
                        first.unit
                    ));
                }
            }
            eprintln!("{}", line.trim_end_matches(','));
        }
    }
    let table = match args.flavor {
        Flavor::Current => results.table(),
        Flavor::Multi { .. } => results.table_labeled([
            runtimes_mt::RUNTIMES[0],
            runtimes_mt::RUNTIMES[1],
            runtimes_mt::RUNTIMES[2],
            report::COLUMNS[report::FLOOR],
        ]),
    };
    print!("{table}");
    let noise: Vec<String> = COLUMNS
        .iter()
        .zip(preempted)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let noise = format!(
        "times this thread was preempted during the measured runs: {}",
        noise.join(", ")
    );
    println!("\n{noise}");
    if let Some(path) = &args.markdown_out {
        let command: Vec<String> = std::env::args().skip(1).collect();
        let text = format!(
            "{header}\n\n{table}\n{noise}\n\nCommand: `weft-bench/run.sh {}`\n",
            command.join(" ")
        );
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("weft-bench: writing {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "weft-bench: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn defaults() {
        let a = parse("").unwrap();
        assert_eq!(a.rounds, 3);
        assert_eq!(a.warmup, None);
        assert!(!a.quick && !a.list && a.only.is_empty() && a.pin.is_none());
        assert_eq!(a.clock, Clock::Wall);
    }

    #[test]
    fn flags_and_values() {
        let a = parse(
            "--rounds 5 --quick --only spawn,wake --only=yield --pin=1 --warmup 0 --clock cpu",
        )
        .unwrap();
        assert_eq!(a.clock, Clock::Cpu);
        assert_eq!(
            parse("--markdown-out x.md")
                .unwrap()
                .markdown_out
                .as_deref(),
            Some("x.md")
        );
        assert_eq!(a.rounds, 5);
        assert!(a.quick);
        assert_eq!(a.only, ["spawn", "wake", "yield"]);
        assert_eq!(a.pin, Some(vec![1]));
        assert_eq!(a.flavor, Flavor::Current);
        assert_eq!(a.warmup, Some(0));
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse("--rounds 0").is_err());
        assert!(parse("--rounds x").is_err());
        assert!(parse("--rounds").is_err());
        assert!(parse("--frobnicate").is_err());
        assert!(parse("--clock sundial").is_err());
        assert!(parse("--flavor tepid").is_err());
        assert!(parse("--workers 2").is_err());
        assert!(parse("--flavor multi --workers 0").is_err());
    }

    #[test]
    fn flavors_and_workers() {
        assert_eq!(
            parse("--flavor multi --workers 3").unwrap().flavor,
            Flavor::Multi { workers: 3 }
        );
        assert_eq!(
            parse("--workers=2 --flavor=multi_thread").unwrap().flavor,
            Flavor::Multi { workers: 2 }
        );
        let Flavor::Multi { workers } = parse("--flavor multi").unwrap().flavor else {
            panic!("not multi");
        };
        assert_eq!(workers, affinity::online_cpus().max(1));
        assert_eq!(parse("--flavor current").unwrap().flavor, Flavor::Current);
        assert_eq!(parse("--pin 0-1").unwrap().pin, Some(vec![0, 1]));
    }

    #[test]
    fn only_selects_known_workloads_in_order() {
        let s = select(workloads::all(), &["wake".into(), "spawn".into()]).unwrap();
        let names: Vec<&str> = s.iter().map(|w| w.name).collect();
        assert_eq!(names, ["spawn", "wake"]);
        let e = select(workloads::all(), &["nope".into()]).unwrap_err();
        assert!(e.contains("nope") && e.contains("spawn"), "{e}");
        let default: Vec<&str> = select(workloads::all(), &[])
            .unwrap()
            .iter()
            .map(|w| w.name)
            .collect();
        assert!(default.contains(&"echo") && !default.contains(&"syscalls"));
        let s = select(workloads::all(), &["syscalls".into()]).unwrap();
        assert_eq!(s.len(), 1);
        let multi: Vec<&str> = select(workloads::all_multi(), &[])
            .unwrap()
            .iter()
            .map(|w| w.name)
            .collect();
        assert_eq!(
            multi,
            [
                "spawn",
                "spawn-inside",
                "yield",
                "ping-pong",
                "chain",
                "echo-inproc",
                "echo",
                "http"
            ]
        );
    }
}
