//! A quick comparison of weft's multi-thread runtime with tokio's, with the
//! same worker count, on five workloads, run interleaved (weft, tokio,
//! weft, tokio, ...) on fresh runtimes; prints the median of each.
//!
//! ```sh
//! cargo run --release -p weft-bench --bin multi_quick -- [workers] [rounds]
//! ```
//!
//! - `spawn outside`: 200,000 empty tasks spawned from the `block_on`
//!   thread (not a worker), then joined: ns per task.
//! - `spawn inside`: the same from inside a task on a worker.
//! - `yield`: 1,000 tasks each calling `yield_now` 1,000 times: ns per yield.
//! - `ping-pong`: two tasks passing a token through two
//!   `async_channel::bounded(1)` 100,000 times: ns per round trip.
//! - `spawn chain`: each task spawns the next, 100,000 deep: ns per task.
//! - `echo`: 50 TCP clients on 127.0.0.1, each making 200 round trips of
//!   64 bytes to an echo server on the same runtime: ns per round trip
//!   (wall time over all of them, so it measures throughput).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// What a workload needs from a runtime.
trait Rt: 'static {
    const NAME: &'static str;
    fn block_on<F: Future + Send + 'static>(workers: usize, f: F) -> F::Output
    where
        F::Output: Send;
    fn spawn<F>(f: F) -> Pin<Box<dyn Future<Output = F::Output> + Send>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    fn yield_now() -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

struct Weft;
impl Rt for Weft {
    const NAME: &'static str = "weft";
    fn block_on<F: Future + Send + 'static>(workers: usize, f: F) -> F::Output
    where
        F::Output: Send,
    {
        let rt = weft::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .build()
            .expect("build weft's multi-thread runtime");
        rt.block_on(f)
    }
    fn spawn<F>(f: F) -> Pin<Box<dyn Future<Output = F::Output> + Send>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = weft::spawn(f);
        Box::pin(async move { h.await.expect("weft task failed") })
    }
    fn yield_now() -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(weft::task::yield_now())
    }
}

struct Tokio;
impl Rt for Tokio {
    const NAME: &'static str = "tokio";
    fn block_on<F: Future + Send + 'static>(workers: usize, f: F) -> F::Output
    where
        F::Output: Send,
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("build tokio's multi-thread runtime");
        rt.block_on(f)
    }
    fn spawn<F>(f: F) -> Pin<Box<dyn Future<Output = F::Output> + Send>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = tokio::spawn(f);
        Box::pin(async move { h.await.expect("tokio task failed") })
    }
    fn yield_now() -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::task::yield_now())
    }
}

const N: usize = 200_000;

async fn spawn_many<R: Rt>() -> Duration {
    let t = Instant::now();
    let hs: Vec<_> = (0..N).map(|_| R::spawn(async {})).collect();
    for h in hs {
        h.await;
    }
    t.elapsed()
}

fn spawn_outside<R: Rt>(w: usize) -> f64 {
    R::block_on(w, spawn_many::<R>()).as_nanos() as f64 / N as f64
}

fn spawn_inside<R: Rt>(w: usize) -> f64 {
    R::block_on(w, async { R::spawn(spawn_many::<R>()).await }).as_nanos() as f64 / N as f64
}

fn yields<R: Rt>(w: usize) -> f64 {
    let d = R::block_on(w, async {
        let t = Instant::now();
        let hs: Vec<_> = (0..1000)
            .map(|_| {
                R::spawn(async {
                    for _ in 0..1000 {
                        R::yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await;
        }
        t.elapsed()
    });
    d.as_nanos() as f64 / 1e6
}

fn ping_pong<R: Rt>(w: usize) -> f64 {
    const ROUNDS: usize = 100_000;
    let d = R::block_on(w, async {
        let (to_b, from_a) = async_channel::bounded::<u32>(1);
        let (to_a, from_b) = async_channel::bounded::<u32>(1);
        let t = Instant::now();
        let b = R::spawn(async move {
            while let Ok(v) = from_a.recv().await {
                if to_a.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let a = R::spawn(async move {
            for i in 0..ROUNDS as u32 {
                to_b.send(i).await.expect("pong alive");
                from_b.recv().await.expect("pong alive");
            }
        });
        a.await;
        b.await;
        t.elapsed()
    });
    d.as_nanos() as f64 / ROUNDS as f64
}

fn chain<R: Rt>(
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

fn spawn_chain<R: Rt>(w: usize) -> f64 {
    const DEPTH: usize = 100_000;
    let d = R::block_on(w, async {
        let (tx, rx) = async_channel::bounded(1);
        let t = Instant::now();
        drop(R::spawn(chain::<R>(DEPTH, tx)));
        rx.recv().await.expect("chain end");
        t.elapsed()
    });
    d.as_nanos() as f64 / DEPTH as f64
}

const CLIENTS: usize = 50;
const TRIPS: usize = 200;

fn echo_weft(w: usize) -> f64 {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let d = Weft::block_on(w, async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server = weft::spawn(async move {
            for _ in 0..CLIENTS {
                let (mut s, _) = listener.accept().await.expect("accept");
                s.set_nodelay(true).expect("nodelay");
                weft::spawn(async move {
                    let mut buf = [0u8; 64];
                    while s.read_exact(&mut buf).await.is_ok() {
                        if s.write_all(&buf).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let t = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                weft::spawn(async move {
                    let mut s = weft::net::TcpStream::connect(addr).await.expect("connect");
                    s.set_nodelay(true).expect("nodelay");
                    let mut buf = [7u8; 64];
                    for _ in 0..TRIPS {
                        s.write_all(&buf).await.expect("write");
                        s.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.expect("client");
        }
        let d = t.elapsed();
        server.await.expect("server");
        d
    });
    d.as_nanos() as f64 / (CLIENTS * TRIPS) as f64
}

fn echo_tokio(w: usize) -> f64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let d = Tokio::block_on(w, async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            for _ in 0..CLIENTS {
                let (mut s, _) = listener.accept().await.expect("accept");
                s.set_nodelay(true).expect("nodelay");
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while s.read_exact(&mut buf).await.is_ok() {
                        if s.write_all(&buf).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let t = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
                    s.set_nodelay(true).expect("nodelay");
                    let mut buf = [7u8; 64];
                    for _ in 0..TRIPS {
                        s.write_all(&buf).await.expect("write");
                        s.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.expect("client");
        }
        let d = t.elapsed();
        server.await.expect("server");
        d
    });
    d.as_nanos() as f64 / (CLIENTS * TRIPS) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    type W = fn(usize) -> f64;
    let workloads: [(&str, &str, W, W); 6] = [
        (
            "spawn outside",
            "ns/task",
            spawn_outside::<Weft>,
            spawn_outside::<Tokio>,
        ),
        (
            "spawn inside",
            "ns/task",
            spawn_inside::<Weft>,
            spawn_inside::<Tokio>,
        ),
        ("yield", "ns/yield", yields::<Weft>, yields::<Tokio>),
        (
            "ping-pong",
            "ns/round trip",
            ping_pong::<Weft>,
            ping_pong::<Tokio>,
        ),
        (
            "spawn chain",
            "ns/task",
            spawn_chain::<Weft>,
            spawn_chain::<Tokio>,
        ),
        ("echo", "ns/round trip", echo_weft, echo_tokio),
    ];
    println!("{workers} workers, median of {rounds} interleaved runs\n");
    println!(
        "| workload | unit | {} | {} | weft/tokio |",
        Weft::NAME,
        Tokio::NAME
    );
    println!("|---|---|---|---|---|");
    for (name, unit, w, t) in workloads {
        // One warm-up each.
        w(workers);
        t(workers);
        let (mut ws, mut ts) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ws.push(w(workers));
            ts.push(t(workers));
        }
        let (mw, mt) = (median(ws), median(ts));
        println!("| {name} | {unit} | {mw:.0} | {mt:.0} | {:.2} |", mw / mt);
    }
}
