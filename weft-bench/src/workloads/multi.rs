//! The multi-thread flavour's in-process workloads (`--flavor multi
//! --workers N`), each on weft's and tokio's multi-thread runtimes and on
//! smol's `Executor` run by N threads ([`crate::runtimes_mt`]):
//!
//! - `spawn`: 200,000 empty tasks spawned from the `block_on` thread (not
//!   a worker), then every handle awaited there — ns per task;
//! - `spawn-inside`: the same from inside a task on a worker;
//! - `yield`: 1,000 tasks each calling `yield_now` 1,000 times — ns per
//!   yield (the workers share the tasks: the queues, stealing, wakes);
//! - `ping-pong`: two tasks passing a token through two
//!   `async_channel::bounded(1)` 100,000 times — ns per round trip (with
//!   two workers they mostly run on different ones: cross-thread wakes);
//! - `chain`: each task spawns the next, 100,000 deep — ns per task;
//! - `echo-inproc`: 50 TCP clients on 127.0.0.1, each making 200 round
//!   trips of 64 bytes to an echo server on the same runtime — ns per round
//!   trip over all of them (a throughput figure).
//!
//! Each reports two rows: wall time per operation, and `... CPU`, the
//! process's CPU time (every thread, user + system) per operation. A
//! thread's own CPU clock would miss the workers' work, and wall time
//! alone hides workers that spin looking for work: the CPU row counts it.

#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::Pin;

use super::{Config, Entry, Sample};
use crate::clock::{Elapsed, Stopwatch};
use crate::runtimes_mt::{self, MultiRuntime, MultiWorkload};
use crate::servers::conn::{self, Conn};

/// The workloads of this module, in the order they run.
pub(crate) fn entries() -> Vec<Entry> {
    vec![
        entry::<SpawnOutside>(
            "spawn",
            "200,000 empty tasks spawned from the block_on thread, then joined (ns per task)",
        ),
        entry::<SpawnInside>(
            "spawn-inside",
            "200,000 empty tasks spawned from a task on a worker, then joined (ns per task)",
        ),
        entry::<Yield>(
            "yield",
            "1,000 tasks each yielding 1,000 times (ns per yield)",
        ),
        entry::<PingPong>(
            "ping-pong",
            "two tasks passing a token through async-channel bounded(1) pairs 100,000 times \
             (ns per round trip)",
        ),
        entry::<Chain>(
            "chain",
            "a chain of 100,000 tasks, each spawning the next (ns per task)",
        ),
        entry::<EchoInProc>(
            "echo-inproc",
            "50 TCP clients x 200 round trips of 64 bytes to an echo server on the same \
             runtime (ns per round trip)",
        ),
    ]
}

fn entry<W: MultiWorkload>(name: &'static str, about: &'static str) -> Entry {
    Entry {
        name,
        about,
        runs: runtimes_mt::instantiate::<W>()
            .into_iter()
            .enumerate()
            .collect(),
        self_warming: false,
        opt_in: false,
    }
}

/// The worker count of the flavour (1 if run outside the multi flavour,
/// as a unit test might).
fn workers(cfg: &Config) -> usize {
    cfg.flavor.workers().max(1)
}

/// The two rows of a run: wall time and process CPU time per operation.
fn rows(name: &'static str, unit: &'static str, e: Elapsed, ops: usize) -> Vec<Sample> {
    let per = |d: std::time::Duration| d.as_nanos() as f64 / ops.max(1) as f64;
    vec![
        Sample::new(name, unit, per(e.wall)),
        Sample::new(format!("{name} CPU"), unit, per(e.cpu)),
    ]
}

async fn spawn_many<R: MultiRuntime>(n: usize) -> Elapsed {
    let sw = Stopwatch::start_process();
    let handles: Vec<_> = (0..n).map(|_| R::spawn(async {})).collect();
    for h in handles {
        h.await;
    }
    sw.elapsed()
}

struct SpawnOutside;

impl MultiWorkload for SpawnOutside {
    fn run<R: MultiRuntime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(200_000, 2_000);
        let e = R::block_on(workers(cfg), spawn_many::<R>(n));
        rows("spawn", "ns/task", e, n)
    }
}

struct SpawnInside;

impl MultiWorkload for SpawnInside {
    fn run<R: MultiRuntime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(200_000, 2_000);
        let e = R::block_on(
            workers(cfg),
            async move { R::spawn(spawn_many::<R>(n)).await },
        );
        rows("spawn-inside", "ns/task", e, n)
    }
}

struct Yield;

impl MultiWorkload for Yield {
    fn run<R: MultiRuntime>(cfg: &Config) -> Vec<Sample> {
        let tasks = cfg.size(1_000, 20);
        let each = cfg.size(1_000, 100);
        let e = R::block_on(workers(cfg), async move {
            let sw = Stopwatch::start_process();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    R::spawn(async move {
                        for _ in 0..each {
                            R::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
            sw.elapsed()
        });
        rows("yield", "ns/yield", e, tasks * each)
    }
}

struct PingPong;

impl MultiWorkload for PingPong {
    fn run<R: MultiRuntime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(100_000, 1_000);
        let (e, last) = R::block_on(workers(cfg), async move {
            let (to_pong, from_ping) = async_channel::bounded::<u64>(1);
            let (to_ping, from_pong) = async_channel::bounded::<u64>(1);
            let sw = Stopwatch::start_process();
            let pong = R::spawn(async move {
                while let Ok(v) = from_ping.recv().await {
                    if to_ping.send(v + 1).await.is_err() {
                        break;
                    }
                }
            });
            let ping = R::spawn(async move {
                let mut token = 0;
                for _ in 0..n {
                    if to_pong.send(token).await.is_err() {
                        panic!("ping-pong: pong hung up");
                    }
                    token = match from_pong.recv().await {
                        Ok(t) => t,
                        Err(_) => panic!("ping-pong: pong hung up"),
                    };
                }
                token
            });
            let last = ping.await;
            pong.await;
            (sw.elapsed(), last)
        });
        assert_eq!(last, n as u64, "ping-pong lost a round trip");
        rows("ping-pong", "ns/round trip", e, n)
    }
}

/// Task `n` of a chain: spawns task `n - 1` (detached) or, at the end,
/// says so on `done`.
fn chain<R: MultiRuntime>(
    n: usize,
    done: async_channel::Sender<()>,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        if n == 0 {
            let _ = done.send(()).await;
        } else {
            drop(R::spawn(chain::<R>(n - 1, done)));
        }
    })
}

struct Chain;

impl MultiWorkload for Chain {
    fn run<R: MultiRuntime>(cfg: &Config) -> Vec<Sample> {
        let depth = cfg.size(100_000, 1_000);
        let e = R::block_on(workers(cfg), async move {
            let (tx, rx) = async_channel::bounded(1);
            let sw = Stopwatch::start_process();
            drop(R::spawn(chain::<R>(depth, tx)));
            if rx.recv().await.is_err() {
                panic!("chain: the chain ended without reaching its end");
            }
            sw.elapsed()
        });
        rows("chain", "ns/task", e, depth)
    }
}

/// Read exactly `buf.len()` bytes.
async fn read_exact<C: Conn>(c: &mut C, buf: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match conn::read(c, &mut buf[filled..]).await? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

struct EchoInProc;

impl MultiWorkload for EchoInProc {
    fn run<R: MultiRuntime>(cfg: &Config) -> Vec<Sample> {
        let clients = cfg.size(50, 4);
        let trips = cfg.size(200, 20);
        let r: std::io::Result<Elapsed> = R::block_on(workers(cfg), async move {
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let addr = std_listener.local_addr()?;
            let listener = R::listen(std_listener)?;
            let server = R::spawn(async move {
                for _ in 0..clients {
                    let s = R::accept(&listener).await?;
                    drop(R::spawn(conn::handle(crate::net_load::Proto::Echo, s)));
                }
                Ok::<(), std::io::Error>(())
            });
            let sw = Stopwatch::start_process();
            let handles: Vec<_> = (0..clients)
                .map(|_| {
                    R::spawn(async move {
                        let mut s = R::connect(addr).await?;
                        let mut buf = [7u8; crate::net_load::ECHO_SIZE];
                        for _ in 0..trips {
                            conn::write_all(&mut s, &buf).await?;
                            read_exact(&mut s, &mut buf).await?;
                        }
                        Ok::<(), std::io::Error>(())
                    })
                })
                .collect();
            for h in handles {
                h.await?;
            }
            let e = sw.elapsed();
            server.await?;
            Ok(e)
        });
        match r {
            Ok(e) => rows("echo-inproc", "ns/round trip", e, clients * trips),
            Err(err) => panic!("echo-inproc on {}: {err}", R::NAME),
        }
    }
}
