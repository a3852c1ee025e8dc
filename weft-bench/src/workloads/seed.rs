//! `seed`: the essay's client/server program with N clients in one
//! process, each runtime in a fresh child (`--child seed ...`), so the
//! CPU time and peak RSS are that process's own.
//!
//! The server binds 127.0.0.1:0 with the runtime's own `bind` (so its
//! default backlog, [`Runtime::BACKLOG`]), accepts N connections and, for
//! each, writes `start K\n`, sleeps one second, writes `end K\n` and closes.
//! The N clients are spawned at once; each connects, reads to end of stream
//! and checks it got exactly those two lines (nothing is printed).
//!
//! Two shapes:
//! - split (`seed N`): the harness's rule, server on one CPU and load on
//!   the other. The server runs on a current-thread runtime on a thread
//!   pinned to the benchmark's CPU (1 under `run.sh`), the clients on a
//!   second current-thread runtime of the same kind on a thread pinned to
//!   another CPU (0).
//! - one loop (`seed 1-loop`): server and clients on one runtime on one
//!   thread pinned to the benchmark's CPU, exactly the essay's program
//!   (and `weft/examples/client_server`).
//!
//! Figures: wall time from just before the first connect to the last
//! client's end of stream; the process's CPU time (user + system, every
//! thread); the server thread's CPU time; peak RSS (`VmHWM`); and, from
//! `/proc/net/netstat` read before and after the child (runs are serial, so
//! the deltas are the run's): `ListenOverflows` (a SYN or handshake-ending
//! ACK met a full accept queue), `ListenDrops` (segments the listener
//! dropped, those included: a dropped SYN is retried by the client after 1 s,
//! then 3 s) and `TCPSynRetrans` (SYNs and SYN-ACKs sent again).
//!
//! The child raises `RLIMIT_NOFILE` to its hard limit and refuses to start
//! with fewer than 2N + [`SPARE_FDS`] descriptors; it gives up after
//! [`DEADLINE`].

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::{Config, Sample, Workload};
use crate::clock::thread_cpu_time;
use crate::epoll::process_cpu_time;
use crate::runtimes::{Runtime, Smol, Tokio, Weft};
use crate::servers::conn;

/// The prefix of the child's result line.
const RESULT_TAG: &str = "weft-bench-seed-child:";

/// After this long the child reports the clients not yet done as failed,
/// whatever is still running. A client whose SYN the kernel dropped retries
/// after 1, 3, 7 and 15 s, so a run not done by 20 s is stuck (a client
/// whose handshake's last ACK was dropped waits for data forever).
const DEADLINE: Duration = Duration::from_secs(20);

/// Descriptors needed beside two per client (stdio, the listener, the
/// runtimes' epoll and wake-up descriptors, ...).
const SPARE_FDS: u64 = 64;

/// The longest reply a client accepts (`start K\nend K\n` is at most 28 bytes).
const MAX_REPLY: usize = 64;

pub(crate) struct Seed;

impl Workload for Seed {
    const NAME: &'static str = "seed";
    const ABOUT: &'static str =
        "the essay's client/server, N = 1,000 and 9,000 clients in one process: server \
         on a current-thread runtime pinned to one CPU, clients on a second one pinned to \
         the other; and N = 9,000 on one loop; \"deep\" rows give every runtime \
         listen(65535) (wall s, CPU s, peak RSS, listen overflows)";

    fn run<R: Runtime>(cfg: &Config) -> Vec<Sample> {
        // The essay's one second; --quick holds each connection 100 ms so
        // that its three runtimes x three rounds stay under 3 s.
        let hold = Duration::from_millis(cfg.size(1_000, 100) as u64);
        let shapes: &[(Shape, usize, Option<i32>)] = if cfg.quick {
            &[(Shape::Split, 50, None)]
        } else {
            &[
                (Shape::Split, 1_000, None),
                (Shape::Split, 9_000, None),
                (Shape::Split, 9_000, Some(DEEP_BACKLOG)),
                (Shape::OneLoop, 9_000, None),
                (Shape::OneLoop, 9_000, Some(DEEP_BACKLOG)),
            ]
        };
        let (server_cpus, client_cpu) = super::net::cpus();
        // One loop, one CPU: the first the server may use.
        let server_cpu = server_cpus.and_then(|c| c.first().copied());
        let mut out = Vec::new();
        for &(shape, n, backlog) in shapes {
            let spec = Spec {
                shape,
                n,
                hold,
                backlog,
                server_cpu,
                client_cpu,
            };
            let (f, net, stderr) = match run_child(R::NAME, &spec) {
                Ok(r) => r,
                Err(e) => panic!("seed {} on {}: {e}", spec.label(), R::NAME),
            };
            let name = |what: &str| format!("seed {} {what}", spec.label());
            let mb = |kib: u64| kib as f64 * 1024.0 / 1e6;
            if f.failed == 0 {
                out.extend([
                    Sample::new(name("wall"), "s", f.wall.as_secs_f64()),
                    Sample::new(name("cpu"), "s", f.cpu.as_secs_f64()),
                    Sample::new(name("server cpu"), "s", f.server_cpu.as_secs_f64()),
                    Sample::new(name("peak rss"), "MB", mb(f.peak_kib)),
                ]);
            } else {
                // Loudly, and without the times of a run that hit the
                // deadline: they would only measure the deadline.
                eprintln!(
                    "seed {} on {}: FAILED: {} of {n} clients did not get their reply: {}",
                    spec.label(),
                    R::NAME,
                    f.failed,
                    stderr.trim()
                );
            }
            out.extend([
                Sample::new(name("clients failed"), COUNT, f.failed as f64),
                Sample::new(name("listen overflows"), COUNT, net.overflows as f64),
                Sample::new(name("listen drops"), COUNT, net.drops as f64),
                Sample::new(name("SYN retransmits"), COUNT, net.syn_retrans as f64),
            ]);
        }
        // The backlog the runtime's bind asks for, as the kernel caps it.
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .unwrap_or(i32::MAX);
        out.push(Sample::new(
            "seed listen backlog",
            "conns",
            f64::from(R::BACKLOG.min(somaxconn)),
        ));
        out
    }
}

/// The backlog of the `deep` rows: weft's (the kernel caps it at
/// `net.core.somaxconn`), given to every runtime's listener.
const DEEP_BACKLOG: i32 = 65535;

/// The unit of the kernel counters' rows (which may well be zero).
pub(crate) const COUNT: &str = "count";

/// Where the server and the clients run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Server and clients on two runtimes, on two threads pinned to two CPUs.
    Split,
    /// Server and clients on one runtime on one thread.
    OneLoop,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Split => "split",
            Shape::OneLoop => "1-loop",
        }
    }

    fn parse(s: &str) -> Result<Shape, String> {
        match s {
            "split" => Ok(Shape::Split),
            "1-loop" => Ok(Shape::OneLoop),
            other => Err(format!("no shape named '{other}' (split, 1-loop)")),
        }
    }
}

/// One measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spec {
    shape: Shape,
    /// Clients (and connections).
    n: usize,
    /// How long the server holds each connection between its two lines.
    hold: Duration,
    /// The listen backlog: the runtime's default (its own `bind`) if `None`.
    backlog: Option<i32>,
    /// The server's CPU (and the one loop's), if pinned.
    server_cpu: Option<usize>,
    /// The clients' CPU, if pinned (split only).
    client_cpu: Option<usize>,
}

impl Spec {
    /// The row label: `9000`, `9000 deep` (backlog [`DEEP_BACKLOG`]), or
    /// `1-loop` (always N = 9,000).
    fn label(&self) -> String {
        match (self.shape, self.backlog) {
            (Shape::Split, None) => self.n.to_string(),
            (Shape::Split, Some(_)) => format!("{} deep", self.n),
            (Shape::OneLoop, None) => Shape::OneLoop.name().to_string(),
            (Shape::OneLoop, Some(_)) => format!("{} deep", Shape::OneLoop.name()),
        }
    }

    /// The child's arguments after `seed RUNTIME` (`-` for `None`).
    fn to_args(self) -> Vec<String> {
        let opt = |c: Option<String>| c.unwrap_or_else(|| "-".to_string());
        vec![
            self.shape.name().to_string(),
            self.n.to_string(),
            self.hold.as_millis().to_string(),
            opt(self.backlog.map(|b| b.to_string())),
            opt(self.server_cpu.map(|c| c.to_string())),
            opt(self.client_cpu.map(|c| c.to_string())),
        ]
    }

    fn from_args(args: &[String]) -> Result<Spec, String> {
        let [shape, n, hold_ms, backlog, server_cpu, client_cpu] = args else {
            return Err(format!(
                "expected SHAPE N HOLD_MS BACKLOG SERVER_CPU CLIENT_CPU, got {args:?}"
            ));
        };
        let backlog = match backlog.as_str() {
            "-" => None,
            b => Some(
                b.parse::<i32>()
                    .map_err(|_| format!("BACKLOG: '{b}' is not a number"))?,
            ),
        };
        let number = |what: &str, v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{what}: '{v}' is not a number"))
        };
        let cpu = |what: &str, v: &str| match v {
            "-" => Ok(None),
            v => number(what, v).map(Some),
        };
        Ok(Spec {
            shape: Shape::parse(shape)?,
            n: number("N", n)?,
            hold: Duration::from_millis(number("HOLD_MS", hold_ms)? as u64),
            backlog,
            server_cpu: cpu("SERVER_CPU", server_cpu)?,
            client_cpu: cpu("CLIENT_CPU", client_cpu)?,
        })
    }
}

/// What one child measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Figures {
    /// First connect to the last client's end of stream.
    wall: Duration,
    /// The process's user + system time over the run.
    cpu: Duration,
    /// The server thread's (split) or the one loop's CPU time.
    server_cpu: Duration,
    /// `VmHWM` at the end, KiB.
    peak_kib: u64,
    /// Bytes the clients read, all together.
    bytes: u64,
    /// Clients that failed or had not finished by the deadline.
    failed: u64,
}

impl Figures {
    fn to_line(self) -> String {
        format!(
            "{RESULT_TAG} {} {} {} {} {} {}",
            self.wall.as_nanos(),
            self.cpu.as_nanos(),
            self.server_cpu.as_nanos(),
            self.peak_kib,
            self.bytes,
            self.failed
        )
    }

    /// The figures from the child's output: the line starting with [`RESULT_TAG`].
    fn from_output(out: &str) -> Option<Figures> {
        let v = crate::child::result_numbers(out, RESULT_TAG)?;
        match v[..] {
            [wall, cpu, server_cpu, peak_kib, bytes, failed] => Some(Figures {
                wall: Duration::from_nanos(wall),
                cpu: Duration::from_nanos(cpu),
                server_cpu: Duration::from_nanos(server_cpu),
                peak_kib,
                bytes,
                failed,
            }),
            _ => None,
        }
    }
}

/// The listen-queue counters of `/proc/net/netstat` (`TcpExt`), for this
/// network namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ListenStats {
    /// `ListenOverflows`: a SYN or a handshake's last ACK found the accept
    /// queue full.
    overflows: u64,
    /// `ListenDrops`: segments a listener dropped (overflows included).
    drops: u64,
    /// `TCPSynRetrans`: SYNs and SYN-ACKs retransmitted.
    syn_retrans: u64,
}

impl ListenStats {
    const NAMES: [&'static str; 3] = ["ListenOverflows", "ListenDrops", "TCPSynRetrans"];

    fn read() -> Result<ListenStats, String> {
        let text = std::fs::read_to_string("/proc/net/netstat")
            .map_err(|e| format!("reading /proc/net/netstat: {e}"))?;
        ListenStats::parse(&text).ok_or_else(|| {
            format!(
                "/proc/net/netstat has no TcpExt {} figures",
                Self::NAMES.join("/")
            )
        })
    }

    /// From the text of `/proc/net/netstat`: a `TcpExt:` line of names, then
    /// one of values.
    fn parse(text: &str) -> Option<ListenStats> {
        let mut ext = text.lines().filter(|l| l.starts_with("TcpExt:"));
        let names: Vec<&str> = ext.next()?.split_whitespace().collect();
        let values: Vec<&str> = ext.next()?.split_whitespace().collect();
        let get = |name: &str| -> Option<u64> {
            let i = names.iter().position(|n| *n == name)?;
            values.get(i)?.parse().ok()
        };
        Some(ListenStats {
            overflows: get(Self::NAMES[0])?,
            drops: get(Self::NAMES[1])?,
            syn_retrans: get(Self::NAMES[2])?,
        })
    }

    fn since(self, before: ListenStats) -> ListenStats {
        ListenStats {
            overflows: self.overflows.saturating_sub(before.overflows),
            drops: self.drops.saturating_sub(before.drops),
            syn_retrans: self.syn_retrans.saturating_sub(before.syn_retrans),
        }
    }
}

/// Runs `spec` for `runtime` in a fresh process: its figures, the listen
/// counters' change over it, and its stderr (why clients failed).
fn run_child(runtime: &str, spec: &Spec) -> Result<(Figures, ListenStats, String), String> {
    let mut args = vec!["seed".to_string(), runtime.to_string()];
    args.extend(spec.to_args());
    let mut cmd = crate::child::command(&[], &args)?;
    let before = ListenStats::read()?;
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    let after = ListenStats::read()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let f = Figures::from_output(&stdout)
        .ok_or_else(|| format!("no result line in its output: {stdout}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Ok((f, after.since(before), stderr))
}

/// The child side (`--child seed RUNTIME SHAPE N HOLD_MS BACKLOG SERVER_CPU
/// CLIENT_CPU`, given the arguments after `seed`): run the measurement,
/// print its line and return the exit code. Clients that fail are counted in
/// the line (and said why on stderr); only a run that cannot start fails.
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    crate::child::finish("seed", child(args).map(Figures::to_line))
}

fn child(args: &[String]) -> Result<Figures, String> {
    let [runtime, rest @ ..] = args else {
        return Err(format!("expected RUNTIME SHAPE N ..., got {args:?}"));
    };
    let spec = Spec::from_args(rest)?;
    let need = 2 * spec.n as u64 + SPARE_FDS;
    let have = raise_nofile()?;
    if have < need {
        return Err(format!(
            "{} clients need {need} descriptors (2 each and {SPARE_FDS} spare), \
             but RLIMIT_NOFILE allows only {have} (its hard limit)",
            spec.n
        ));
    }
    match runtime.as_str() {
        "weft" => measure::<Weft>(spec),
        "tokio" => measure::<Tokio>(spec),
        "smol" => measure::<Smol>(spec),
        other => Err(format!("no runtime named '{other}' (weft, tokio, smol)")),
    }
}

/// Raise the soft `RLIMIT_NOFILE` to the hard limit; the new soft limit.
fn raise_nofile() -> Result<u64, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live, writable `rlimit`; RLIMIT_NOFILE is a valid resource.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!(
            "getrlimit(RLIMIT_NOFILE): {}",
            std::io::Error::last_os_error()
        ));
    }
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a live `rlimit` whose soft limit does not exceed
        // its hard one, which an unprivileged process may always set.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(format!(
                "setrlimit(RLIMIT_NOFILE, {}): {}",
                lim.rlim_max,
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(lim.rlim_cur)
}

/// How far a run got, for the deadline's message.
#[derive(Debug, Default)]
struct Progress {
    accepted: AtomicUsize,
    served: AtomicUsize,
    done: AtomicUsize,
}

/// What the clients measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClientFigures {
    /// First connect to the last end of stream.
    wall: Duration,
    bytes: u64,
    failed: u64,
}

/// What a thread of the child reports when its runtime returns.
enum Report {
    /// The server thread's CPU time (its errors went to stderr).
    Server(Duration),
    /// The clients' figures.
    Clients(Result<ClientFigures, String>),
}

/// Pin the calling thread to `cpu`, if given; a failure is reported, not fatal.
fn pin(cpu: Option<usize>, who: &str) {
    if let Some(cpu) = cpu {
        if let Err(e) = crate::affinity::pin_to(cpu) {
            eprintln!("weft-bench --child seed: {who} not pinned: {e}");
        }
    }
}

/// Listen on 127.0.0.1:0, with the runtime's own `bind` (its default
/// backlog) or with `backlog`.
async fn listen<R: Runtime>(backlog: Option<i32>) -> Result<(R::Listener, SocketAddr), String> {
    let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let listener = match backlog {
        None => R::bind(any)
            .await
            .map_err(|e| format!("binding {any}: {e}"))?,
        Some(b) => {
            let l = std::net::TcpListener::bind(any).map_err(|e| format!("binding {any}: {e}"))?;
            crate::epoll::set_backlog(l.as_raw_fd(), b).map_err(|e| e.to_string())?;
            R::from_std(l).map_err(|e| format!("adopting the listener: {e}"))?
        }
    };
    let addr = R::local_addr(&listener).map_err(|e| format!("local_addr of the listener: {e}"))?;
    Ok((listener, addr))
}

fn measure<R: Runtime>(spec: Spec) -> Result<Figures, String> {
    let cpu0 = process_cpu_time();
    let progress = Arc::new(Progress::default());
    let (tx, rx) = mpsc::channel::<Report>();
    let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(body)
            .map(drop)
            .map_err(|e| format!("spawning the {name} thread: {e}"))
    };
    match spec.shape {
        Shape::Split => {
            let (addr_tx, addr_rx) = mpsc::channel::<SocketAddr>();
            let (p, server_tx) = (progress.clone(), tx.clone());
            spawn(
                "seed-server",
                Box::new(move || {
                    pin(spec.server_cpu, "the server");
                    let r = R::block_on(async move {
                        let (listener, addr) = listen::<R>(spec.backlog).await?;
                        // The clients wait for this; they are gone only if
                        // the child is failing already.
                        let _ = addr_tx.send(addr);
                        // A spawned task, as in the essay (a `block_on`
                        // future is woken and scheduled differently).
                        R::spawn(serve::<R>(listener, spec.n, spec.hold, p)).await
                    });
                    if let Err(e) = r {
                        eprintln!("weft-bench --child seed: the server: {e}");
                    }
                    let _ = server_tx.send(Report::Server(thread_cpu_time()));
                }),
            )?;
            let p = progress.clone();
            spawn(
                "seed-clients",
                Box::new(move || {
                    pin(spec.client_cpu, "the clients");
                    let r = match addr_rx.recv() {
                        Ok(addr) => Ok(R::block_on(clients::<R>(addr, spec.n, p))),
                        Err(_) => Err("the server never listened".to_string()),
                    };
                    let _ = tx.send(Report::Clients(r));
                }),
            )?;
        }
        Shape::OneLoop => {
            let p = progress.clone();
            spawn(
                "seed-loop",
                Box::new(move || {
                    pin(spec.server_cpu, "the loop");
                    let r = R::block_on(async move {
                        let (listener, addr) = listen::<R>(spec.backlog).await?;
                        let server = R::spawn(serve::<R>(listener, spec.n, spec.hold, p.clone()));
                        let clients = clients::<R>(addr, spec.n, p).await;
                        if let Err(e) = server.await {
                            eprintln!("weft-bench --child seed: the server: {e}");
                        }
                        Ok(clients)
                    });
                    let _ = tx.send(Report::Server(thread_cpu_time()));
                    let _ = tx.send(Report::Clients(r));
                }),
            )?;
        }
    }

    let deadline = Instant::now() + DEADLINE;
    let (mut server_cpu, mut clients) = (None, None);
    while server_cpu.is_none() || clients.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Report::Server(cpu)) => server_cpu = Some(cpu),
            Ok(Report::Clients(r)) => clients = Some(r?),
            Err(_) => {
                let done = progress.done.load(Ordering::Relaxed);
                eprintln!(
                    "not done after {DEADLINE:?}: the server accepted {} and served {} \
                     connections, {done} of {} clients finished",
                    progress.accepted.load(Ordering::Relaxed),
                    progress.served.load(Ordering::Relaxed),
                    spec.n
                );
                // The threads are still running; the process ends with them.
                clients = Some(ClientFigures {
                    wall: DEADLINE,
                    bytes: 0,
                    failed: spec.n.saturating_sub(done) as u64,
                });
                break;
            }
        }
    }
    let Some(c) = clients else {
        return Err("the clients reported nothing".to_string());
    };
    Ok(Figures {
        wall: c.wall,
        cpu: process_cpu_time().saturating_sub(cpu0),
        server_cpu: server_cpu.unwrap_or_default(),
        peak_kib: crate::child::peak_rss_kib()?,
        bytes: c.bytes,
        failed: c.failed,
    })
}

/// Accept `n` connections, serve each on a task of its own, and return
/// when every one is served.
async fn serve<R: Runtime>(
    listener: R::Listener,
    n: usize,
    hold: Duration,
    progress: Arc<Progress>,
) -> Result<(), String> {
    let mut handlers = Vec::with_capacity(n);
    let mut accept_errors = 0;
    let mut first_error = None;
    while handlers.len() < n {
        match R::accept(&listener).await {
            Ok(s) => {
                progress.accepted.fetch_add(1, Ordering::Relaxed);
                let k = handlers.len() + 1;
                handlers.push(R::spawn(handle::<R>(s, k, hold, progress.clone())));
            }
            Err(e) => {
                accept_errors += 1;
                first_error.get_or_insert_with(|| format!("accept: {e}"));
                if accept_errors > n {
                    break;
                }
            }
        }
    }
    drop(listener);
    let mut failed = 0;
    for h in handlers {
        if let Err(e) = h.await {
            failed += 1;
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        None => Ok(()),
        Some(e) => Err(format!(
            "{accept_errors} accepts and {failed} connections failed; the first: {e}"
        )),
    }
}

/// One connection: the essay's two lines, `hold` apart.
async fn handle<R: Runtime>(
    mut s: R::Stream,
    k: usize,
    hold: Duration,
    progress: Arc<Progress>,
) -> Result<(), String> {
    conn::write_all(&mut s, format!("start {k}\n").as_bytes())
        .await
        .map_err(|e| format!("connection {k}: writing start: {e}"))?;
    R::sleep(hold).await;
    conn::write_all(&mut s, format!("end {k}\n").as_bytes())
        .await
        .map_err(|e| format!("connection {k}: writing end: {e}"))?;
    progress.served.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Spawn `n` clients at once and await them all. The first failure goes
/// to stderr.
async fn clients<R: Runtime>(addr: SocketAddr, n: usize, progress: Arc<Progress>) -> ClientFigures {
    let start = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|_| R::spawn(client::<R>(addr, progress.clone())))
        .collect();
    let (mut bytes, mut failed, mut first_error) = (0, 0, None);
    for h in handles {
        match h.await {
            Ok(b) => bytes += b,
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let wall = start.elapsed();
    if let Some(e) = first_error {
        eprintln!("{failed} of {n} clients failed; the first: {e}");
    }
    ClientFigures {
        wall,
        bytes,
        failed,
    }
}

/// Connect, read to end of stream, check the reply: the bytes read.
async fn client<R: Runtime>(addr: SocketAddr, progress: Arc<Progress>) -> Result<u64, String> {
    let mut s = R::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    let mut buf = [0u8; MAX_REPLY];
    let mut len = 0;
    loop {
        if len == buf.len() {
            return Err(format!("more than {MAX_REPLY} bytes from {addr}"));
        }
        let got = conn::read(&mut s, &mut buf[len..])
            .await
            .map_err(|e| format!("reading from {addr} after {len} bytes: {e}"))?;
        if got == 0 {
            break;
        }
        len += got;
    }
    check_reply(&buf[..len])?;
    progress.done.fetch_add(1, Ordering::Relaxed);
    Ok(len as u64)
}

/// A reply is `start K\nend K\n` for one number K.
fn check_reply(reply: &[u8]) -> Result<(), String> {
    let bad = || format!("unexpected reply {:?}", String::from_utf8_lossy(reply));
    let text = std::str::from_utf8(reply).map_err(|_| bad())?;
    let rest = text.strip_prefix("start ").ok_or_else(bad)?;
    let (k, rest) = rest.split_once('\n').ok_or_else(bad)?;
    let ok = !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_digit())
        && rest.strip_prefix("end ") == Some(&format!("{k}\n"));
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn result_lines_round_trip() {
        let f = Figures {
            wall: Duration::from_millis(1_234),
            cpu: Duration::from_micros(567),
            server_cpu: Duration::from_micros(89),
            peak_kib: 89_000,
            bytes: 22_000,
            failed: 3,
        };
        let out = format!("noise\n{}\nmore\n", f.to_line());
        assert_eq!(Figures::from_output(&out), Some(f));
        assert_eq!(Figures::from_output("nothing"), None);
        assert_eq!(
            Figures::from_output(&format!("{RESULT_TAG} 1 2 3 4 5")),
            None
        );
    }

    #[test]
    fn specs_round_trip_and_bad_ones_are_refused() {
        let s = Spec {
            shape: Shape::Split,
            n: 9_000,
            hold: Duration::from_millis(1_000),
            backlog: None,
            server_cpu: Some(1),
            client_cpu: None,
        };
        assert_eq!(Spec::from_args(&s.to_args()), Ok(s));
        assert_eq!(s.label(), "9000");
        let one = Spec {
            shape: Shape::OneLoop,
            ..s
        };
        assert_eq!(Spec::from_args(&one.to_args()), Ok(one));
        assert_eq!(one.label(), "1-loop");
        let deep = Spec {
            backlog: Some(DEEP_BACKLOG),
            ..s
        };
        assert_eq!(Spec::from_args(&deep.to_args()), Ok(deep));
        assert_eq!(deep.label(), "9000 deep");
        assert!(Spec::from_args(&args("split 10 100 - 1")).is_err());
        assert!(Spec::from_args(&args("both 10 100 - 1 0")).is_err());
        assert!(Spec::from_args(&args("split ten 100 - 1 0")).is_err());
        assert!(Spec::from_args(&args("split 10 100 - x 0")).is_err());
        assert!(Spec::from_args(&args("split 10 100 deep 1 0")).is_err());
    }

    #[test]
    fn bad_child_arguments_are_refused() {
        assert_eq!(
            child_main(&args("sundial split 1 1 - - -")),
            ExitCode::from(2)
        );
        assert_eq!(child_main(&args("weft split 1")), ExitCode::from(2));
        assert_eq!(child_main(&args("")), ExitCode::from(2));
    }

    #[test]
    fn too_many_clients_for_the_descriptor_limit_is_an_error() {
        let e = child(&args("weft split 1000000000 1 - - -")).unwrap_err();
        assert!(
            e.contains("descriptors") && e.contains("RLIMIT_NOFILE"),
            "{e}"
        );
    }

    /// Each shape and backlog on each runtime, in this process: every
    /// client served, its two lines read.
    #[test]
    fn every_shape_runs_on_every_runtime() {
        for (shape, backlog) in [
            (Shape::Split, None),
            (Shape::Split, Some(DEEP_BACKLOG)),
            (Shape::OneLoop, None),
        ] {
            let spec = Spec {
                shape,
                n: 20,
                hold: Duration::from_millis(10),
                backlog,
                server_cpu: None,
                client_cpu: None,
            };
            for (rt, f) in [
                ("weft", measure::<Weft>(spec)),
                ("tokio", measure::<Tokio>(spec)),
                ("smol", measure::<Smol>(spec)),
            ] {
                let f = f.unwrap_or_else(|e| panic!("{} on {rt}: {e}", spec.label()));
                assert_eq!(f.failed, 0, "{} on {rt}", spec.label());
                // "start K\nend K\n" is 12 bytes and K twice: K = 1..=9, 10..=20.
                assert_eq!(f.bytes, 9 * 14 + 11 * 16, "{} on {rt}", spec.label());
                assert!(f.wall >= spec.hold && f.peak_kib > 0, "{f:?}");
            }
        }
    }

    #[test]
    fn replies_are_checked() {
        assert_eq!(check_reply(b"start 12\nend 12\n"), Ok(()));
        for bad in [
            &b""[..],
            b"start 12\n",
            b"start 12\nend 13\n",
            b"start \nend \n",
            b"start 1\nend 1\nextra",
            b"\xff",
        ] {
            assert!(check_reply(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn listen_counters_are_read_by_name() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans\n\
                    TcpExt: 0 7 9 11\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        let s = ListenStats::parse(text).unwrap();
        assert_eq!(
            s,
            ListenStats {
                overflows: 7,
                drops: 9,
                syn_retrans: 11
            }
        );
        let later = ListenStats { overflows: 10, ..s };
        assert_eq!(later.since(s).overflows, 3);
        assert_eq!(ListenStats::parse("TcpExt: A\nTcpExt: 1\n"), None);
        assert!(ListenStats::read().is_ok());
    }
}
