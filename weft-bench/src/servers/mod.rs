//! The `echo` and `http` servers, one per column: weft, tokio and smol
//! (each current-thread, running the same connection code from
//! [`conn`]) and [`epoll_ref`], a hand-written edge-triggered epoll loop
//! with no runtime, the reference none of them can beat.
//!
//! A server runs in its own process (`--child server PROTO SERVER CPUS
//! WORKERS`), pinned to `CPUS` (a list, or `-`). `WORKERS` 0 runs the
//! runtime's current-thread flavour; N > 0 its multi-thread one with N
//! workers ([`crate::runtimes_mt::serve`]); `epoll-ref` ignores it. It binds 127.0.0.1 on a free port with a backlog of
//! [`BACKLOG`], prints `listening PORT`, and serves until its stdin closes.
//! A control thread reads stdin: each `mark` line is answered with
//! `cpu NANOS`, the process's CPU time so far (`getrusage(RUSAGE_SELF)`,
//! user + system, every thread), which is how the benchmark measures the
//! server's CPU time over the load's window. At end of stdin the process
//! exits (so `strace -c` and `callgrind` write their summaries).

use std::io::{self, BufRead as _, Write as _};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::process::ExitCode;

use crate::epoll;
use crate::net_load::Proto;

pub(crate) mod conn;
pub(crate) mod epoll_ref;

/// The servers, in column order.
pub(crate) const SERVERS: [&str; 4] = ["weft", "tokio", "smol", "epoll-ref"];

/// Every server's accept queue.
const BACKLOG: i32 = 1024;

/// Answer `mark` lines on stdin until it closes, then end the process.
fn control() -> ! {
    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        match line {
            Ok(l) if l.trim() == "mark" => {
                let cpu = epoll::process_cpu_time();
                let mut out = io::stdout().lock();
                if writeln!(out, "cpu {}", cpu.as_nanos())
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    break;
                }
            }
            Ok(l) => eprintln!("weft-bench server: ignoring '{l}' on stdin"),
            Err(_) => break,
        }
    }
    std::process::exit(0)
}

fn run(args: &[String]) -> Result<(), String> {
    let [proto, server, cpus, workers] = args else {
        return Err(format!("expected PROTO SERVER CPUS WORKERS, got {args:?}"));
    };
    let proto = Proto::parse(proto)?;
    let workers: usize = workers
        .parse()
        .map_err(|_| format!("WORKERS: '{workers}' is not a number"))?;
    if cpus != "-" {
        let cpus = crate::affinity::parse_cpus(cpus)?;
        if let Err(e) = crate::affinity::pin_to_set(&cpus) {
            eprintln!("weft-bench server: not pinned: {e}");
        }
    }
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("binding 127.0.0.1:0: {e}"))?;
    epoll::set_backlog(listener.as_raw_fd(), BACKLOG).map_err(|e| e.to_string())?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))?
        .port();
    std::thread::Builder::new()
        .name("control".into())
        .spawn(|| control())
        .map_err(|e| format!("spawning the control thread: {e}"))?;
    {
        let mut out = io::stdout().lock();
        writeln!(out, "listening {port}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing to stdout: {e}"))?;
    }
    if workers > 0 && server != "epoll-ref" {
        return match crate::runtimes_mt::serve_named(server, listener, proto, workers) {
            Some(r) => {
                r.map_err(|e| format!("{server} {} server ({workers} workers): {e}", proto.name()))
            }
            None => Err(format!(
                "no server named '{server}' ({})",
                SERVERS.join(", ")
            )),
        };
    }
    let r = match server.as_str() {
        "weft" => conn::serve_weft(listener, proto),
        "tokio" => conn::serve_tokio(listener, proto),
        "smol" => conn::serve_smol(listener, proto),
        "epoll-ref" => epoll_ref::serve(listener, proto),
        other => {
            return Err(format!(
                "no server named '{other}' ({})",
                SERVERS.join(", ")
            ))
        }
    };
    r.map_err(|e| format!("{server} {} server: {e}", proto.name()))
}

/// The child side (`--child server ...`, given the arguments after `server`).
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    match run(args) {
        // The servers never return Ok: they serve until the control thread exits.
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weft-bench --child server: {e}");
            ExitCode::from(2)
        }
    }
}
