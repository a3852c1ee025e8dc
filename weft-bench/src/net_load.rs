//! The load generator of the `echo` and `http` workloads, and the protocol
//! the benchmark uses to drive it and the server.
//!
//! It runs in its own process (`--child load ADDR PROTO C WARMUP_MS MAX_MS
//! MAX_COUNT CPU`), pinned to the CPU the server is not on, and uses no
//! runtime: one thread, `C` blocking-connected then non-blocking sockets
//! and one level-triggered epoll set. Every connection keeps exactly one
//! request in flight (a 64-byte message for `echo`, [`http::REQUEST`] for
//! `http`); when its response is complete the next request goes out at once.
//!
//! Phases, driven by lines on its stdin and stdout (the benchmark is on the
//! other end; stdin is in the same epoll set, so the load never pauses):
//! 1. warm up for `WARMUP_MS`, then print `warm`;
//! 2. on `go`, start the measured window: it ends after `MAX_COUNT`
//!    responses or `MAX_MS`, whichever comes first, and prints
//!    `end COUNT ELAPSED_NS P50_NS P99_NS CPU_NS` (CPU: this process's,
//!    over the window) — and keeps the load running;
//! 3. on `quit`, stop, print `total COUNT` (every response since the start,
//!    for per-message counts over a server's whole life) and exit.
//!
//! Latency is from just before a request's `write` to the `read` that
//! completes its response. Every phase is bounded in time: a load that
//! hears nothing from the benchmark for [`CONTROL_TIMEOUT`] gives up.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::epoll::{self, Epoll, Io};
use crate::http;

/// The size of an `echo` message.
pub(crate) const ECHO_SIZE: usize = 64;

/// How long the load waits for `go` or `quit` before giving up.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);

/// The epoll token of stdin.
const CONTROL: u64 = u64::MAX;

/// What the connections speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Echo,
    Http,
}

impl Proto {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Proto::Echo => "echo",
            Proto::Http => "http",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Proto, String> {
        match s {
            "echo" => Ok(Proto::Echo),
            "http" => Ok(Proto::Http),
            other => Err(format!("no protocol named '{other}' (echo, http)")),
        }
    }
}

/// What the load generator is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) addr: SocketAddr,
    pub(crate) proto: Proto,
    pub(crate) conns: usize,
    pub(crate) warmup: Duration,
    pub(crate) max_time: Duration,
    pub(crate) max_count: u64,
    pub(crate) cpu: Option<usize>,
}

impl Spec {
    /// The child's arguments, `load ...`.
    pub(crate) fn to_args(&self) -> Vec<String> {
        vec![
            "load".into(),
            self.addr.to_string(),
            self.proto.name().into(),
            self.conns.to_string(),
            self.warmup.as_millis().to_string(),
            self.max_time.as_millis().to_string(),
            self.max_count.to_string(),
            self.cpu.map_or_else(|| "-".to_string(), |c| c.to_string()),
        ]
    }

    /// The arguments after `load`.
    fn from_args(args: &[String]) -> Result<Spec, String> {
        let [addr, proto, conns, warmup, max_ms, max_count, cpu] = args else {
            return Err(format!(
                "expected ADDR PROTO C WARMUP_MS MAX_MS MAX_COUNT CPU, got {args:?}"
            ));
        };
        let num = |what: &str, v: &str| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{what}: '{v}' is not a number"))
        };
        Ok(Spec {
            addr: addr
                .parse()
                .map_err(|_| format!("'{addr}' is not a socket address"))?,
            proto: Proto::parse(proto)?,
            conns: num("C", conns)?.max(1) as usize,
            warmup: Duration::from_millis(num("WARMUP_MS", warmup)?),
            max_time: Duration::from_millis(num("MAX_MS", max_ms)?),
            max_count: num("MAX_COUNT", max_count)?,
            cpu: match cpu.as_str() {
                "-" => None,
                c => Some(num("CPU", c)? as usize),
            },
        })
    }
}

/// What the load measured in its window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    pub(crate) count: u64,
    pub(crate) elapsed: Duration,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    /// The load generator's own CPU time over the window.
    pub(crate) cpu: Duration,
}

impl Window {
    pub(crate) fn to_line(self) -> String {
        format!(
            "end {} {} {} {} {}",
            self.count,
            self.elapsed.as_nanos(),
            self.p50.as_nanos(),
            self.p99.as_nanos(),
            self.cpu.as_nanos()
        )
    }

    /// The figures from an `end` line's fields (after `end`).
    pub(crate) fn from_fields(s: &str) -> Option<Window> {
        let v: Vec<u64> = s
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let [count, elapsed, p50, p99, cpu] = v[..] else {
            return None;
        };
        Some(Window {
            count,
            elapsed: Duration::from_nanos(elapsed),
            p50: Duration::from_nanos(p50),
            p99: Duration::from_nanos(p99),
            cpu: Duration::from_nanos(cpu),
        })
    }
}

/// The `q`-quantile (0..=1) of sorted `v`, nearest rank; zero if empty.
pub(crate) fn quantile(sorted: &[u32], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Duration::from_nanos(u64::from(sorted[rank - 1]))
}

/// One connection and its request in flight.
struct Conn {
    stream: TcpStream,
    sent_at: Instant,
    /// Bytes of the response so far (`echo`), or the response so far (`http`).
    got: usize,
    buf: Vec<u8>,
}

impl Conn {
    fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    fn send(&mut self, req: &[u8], now: Instant) -> Result<(), String> {
        self.sent_at = now;
        match epoll::write(self.fd(), req) {
            Ok(Io::Done(n)) if n == req.len() => Ok(()),
            Ok(r) => Err(format!(
                "a {}-byte request to fd {} did not go out whole ({r:?})",
                req.len(),
                self.fd()
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Read what is there; whether the response is now complete.
    fn receive(&mut self, proto: Proto, scratch: &mut [u8]) -> Result<bool, String> {
        let n = match epoll::read(self.fd(), scratch).map_err(|e| e.to_string())? {
            Io::WouldBlock => return Ok(false),
            Io::Done(0) => return Err(format!("the server closed fd {}", self.fd())),
            Io::Done(n) => n,
        };
        match proto {
            Proto::Echo => {
                self.got += n;
                if self.got > ECHO_SIZE {
                    return Err(format!("{} bytes came back for {ECHO_SIZE}", self.got));
                }
                let done = self.got == ECHO_SIZE;
                if done {
                    self.got = 0;
                }
                Ok(done)
            }
            Proto::Http => {
                self.buf.extend_from_slice(&scratch[..n]);
                match http::parse_response(&self.buf)? {
                    None => Ok(false),
                    Some((status, len)) => {
                        if status != 200 {
                            return Err(format!("the server answered {status}"));
                        }
                        if self.buf.len() > len {
                            return Err("more came back than one response".into());
                        }
                        let done = self.buf.len() == len;
                        if done {
                            self.buf.clear();
                        }
                        Ok(done)
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Warmup { until: Instant },
    AwaitGo { since: Instant },
    Measure { start: Instant, cpu: Duration },
    AwaitQuit { since: Instant },
}

fn say(line: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))
}

/// Run the load generator to the end.
fn run(spec: &Spec) -> Result<(), String> {
    if let Some(cpu) = spec.cpu {
        if let Err(e) = crate::affinity::pin_to(cpu) {
            eprintln!("weft-bench load: not pinned: {e}");
        }
    }
    let ep = Epoll::new().map_err(|e| e.to_string())?;
    let mut conns = Vec::with_capacity(spec.conns);
    for i in 0..spec.conns {
        let stream = TcpStream::connect(spec.addr)
            .map_err(|e| format!("connection {i} to {}: {e}", spec.addr))?;
        stream
            .set_nodelay(true)
            .and_then(|()| stream.set_nonblocking(true))
            .map_err(|e| format!("setting up connection {i}: {e}"))?;
        ep.add(stream.as_raw_fd(), libc::EPOLLIN as u32, i as u64)
            .map_err(|e| e.to_string())?;
        conns.push(Conn {
            stream,
            sent_at: Instant::now(),
            got: 0,
            buf: Vec::with_capacity(256),
        });
    }
    ep.add(libc::STDIN_FILENO, libc::EPOLLIN as u32, CONTROL)
        .map_err(|e| e.to_string())?;

    let req: &[u8] = match spec.proto {
        Proto::Echo => &[b'x'; ECHO_SIZE],
        Proto::Http => http::REQUEST,
    };
    let start = Instant::now();
    for c in &mut conns {
        c.send(req, start)?;
    }
    let mut phase = Phase::Warmup {
        until: start + spec.warmup,
    };
    let mut total: u64 = 0;
    let mut count: u64 = 0;
    let cap = spec.max_count.min(4_000_000) as usize;
    let mut latencies: Vec<u32> = Vec::with_capacity(cap);
    let mut events = vec![epoll::NO_EVENT; 1024];
    let mut scratch = vec![0u8; 16 * 1024];
    let mut control = Vec::new();
    loop {
        let n = ep.wait(&mut events, 5).map_err(|e| e.to_string())?;
        let mut now = Instant::now();
        for ev in &events[..n] {
            let token = ev.u64;
            if token == CONTROL {
                match epoll::read(libc::STDIN_FILENO, &mut scratch).map_err(|e| e.to_string())? {
                    Io::Done(0) => return Err("stdin closed before `quit`".into()),
                    Io::Done(k) => control.extend_from_slice(&scratch[..k]),
                    Io::WouldBlock => {}
                }
                while let Some(nl) = control.iter().position(|&c| c == b'\n') {
                    let line: Vec<u8> = control.drain(..=nl).collect();
                    match (line.trim_ascii(), phase) {
                        (b"go", Phase::AwaitGo { .. }) => {
                            count = 0;
                            latencies.clear();
                            phase = Phase::Measure {
                                start: Instant::now(),
                                cpu: epoll::process_cpu_time(),
                            };
                        }
                        (b"quit", _) => {
                            say(&format!("total {total}"))?;
                            return Ok(());
                        }
                        (other, _) => {
                            return Err(format!(
                                "unexpected command '{}' in {phase:?}",
                                String::from_utf8_lossy(other)
                            ))
                        }
                    }
                }
                continue;
            }
            let c = conns
                .get_mut(token as usize)
                .ok_or_else(|| format!("an event for no connection ({token})"))?;
            if c.receive(spec.proto, &mut scratch)? {
                now = Instant::now();
                total += 1;
                if let Phase::Measure { .. } = phase {
                    count += 1;
                    let ns = now.saturating_duration_since(c.sent_at).as_nanos();
                    latencies.push(u32::try_from(ns).unwrap_or(u32::MAX));
                }
                c.send(req, now)?;
            }
        }
        match phase {
            Phase::Warmup { until } if now >= until => {
                say("warm")?;
                phase = Phase::AwaitGo { since: now };
            }
            Phase::Measure { start, cpu } => {
                let elapsed = now.saturating_duration_since(start);
                if count >= spec.max_count || elapsed >= spec.max_time {
                    let cpu = epoll::process_cpu_time().saturating_sub(cpu);
                    latencies.sort_unstable();
                    let w = Window {
                        count,
                        elapsed,
                        p50: quantile(&latencies, 0.50),
                        p99: quantile(&latencies, 0.99),
                        cpu,
                    };
                    say(&w.to_line())?;
                    phase = Phase::AwaitQuit {
                        since: Instant::now(),
                    };
                }
            }
            Phase::AwaitGo { since } | Phase::AwaitQuit { since }
                if now.saturating_duration_since(since) > CONTROL_TIMEOUT =>
            {
                return Err(format!("no command from the benchmark in {phase:?}"));
            }
            _ => {}
        }
    }
}

/// The child side (`--child load ...`, given the arguments after `load`).
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    match Spec::from_args(args).and_then(|spec| run(&spec)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weft-bench --child load: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_through_arguments() {
        let spec = Spec {
            addr: "127.0.0.1:8080".parse().unwrap(),
            proto: Proto::Http,
            conns: 64,
            warmup: Duration::from_millis(300),
            max_time: Duration::from_millis(2000),
            max_count: 400_000,
            cpu: Some(0),
        };
        let args = spec.to_args();
        assert_eq!(args[0], "load");
        assert_eq!(Spec::from_args(&args[1..]), Ok(spec.clone()));
        let mut unpinned = spec;
        unpinned.cpu = None;
        assert_eq!(Spec::from_args(&unpinned.to_args()[1..]), Ok(unpinned));
        assert!(Spec::from_args(&args[2..]).is_err());
    }

    #[test]
    fn windows_round_trip_through_lines() {
        let w = Window {
            count: 12345,
            elapsed: Duration::from_millis(2001),
            p50: Duration::from_micros(31),
            p99: Duration::from_micros(77),
            cpu: Duration::from_millis(1500),
        };
        let line = w.to_line();
        let fields = line.strip_prefix("end ").unwrap();
        assert_eq!(Window::from_fields(fields), Some(w));
        assert_eq!(Window::from_fields("1 2 3"), None);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_nanos(50));
        assert_eq!(quantile(&v, 0.99), Duration::from_nanos(99));
        assert_eq!(quantile(&v, 1.0), Duration::from_nanos(100));
        assert_eq!(quantile(&[7], 0.99), Duration::from_nanos(7));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
