//! Bounded stress tests of the multi-thread runtime: many tasks spawned
//! from many tasks, wake storms from plain threads, ping-pong between
//! workers, IO beside CPU-bound tasks, and shutdown with all of it in
//! flight. Every test future counts its drop: no task is lost or leaked.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use support::{watchdog, Counters, Track};
use weft::net::{TcpListener, TcpStream};
use weft::runtime::Builder;

fn rt(workers: usize) -> weft::Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// 200k tasks in debug builds (1M in release), spawned by 1,000 tasks and
/// joined by them.
#[test]
fn many_tasks_spawned_from_many_tasks() {
    let _w = watchdog("many_tasks_spawned_from_many_tasks", 120);
    let per = if cfg!(debug_assertions) { 200 } else { 1000 };
    let c = Counters::new();
    let rt = rt(2);
    let t = Instant::now();
    let total = rt.block_on({
        let c = c.clone();
        async move {
            let spawners: Vec<_> = (0..1000)
                .map(|_| {
                    let c = c.clone();
                    weft::spawn(async move {
                        let hs: Vec<_> = (0..per)
                            .map(|_| weft::spawn(Track::new(async { 1usize }, &c)))
                            .collect();
                        let mut n = 0;
                        for h in hs {
                            n += h.await.unwrap();
                        }
                        n
                    })
                })
                .collect();
            let mut n = 0;
            for s in spawners {
                n += s.await.unwrap();
            }
            n
        }
    });
    eprintln!("{} tasks spawned and joined in {:?}", total, t.elapsed());
    assert_eq!(total, 1000 * per);
    assert_eq!(c.drops(), 1000 * per);
    drop(rt);
}

/// A counter of wakes a task must consume, and its waker.
#[derive(Default)]
struct Tickets {
    count: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Tickets {
    fn give(&self) {
        self.count.fetch_add(1, SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

/// Resolves once it has taken `want` tickets, one per poll at most.
struct TakeTickets {
    t: Arc<Tickets>,
    taken: usize,
    want: usize,
}

impl Future for TakeTickets {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        loop {
            let n = self.t.count.load(SeqCst);
            if n > 0 {
                if self
                    .t
                    .count
                    .compare_exchange(n, n - 1, SeqCst, SeqCst)
                    .is_ok()
                {
                    self.taken += 1;
                    if self.taken == self.want {
                        return Poll::Ready(self.taken);
                    }
                }
                continue;
            }
            *self.t.waker.lock().unwrap() = Some(cx.waker().clone());
            // A ticket given before the waker was stored is seen here.
            if self.t.count.load(SeqCst) == 0 {
                return Poll::Pending;
            }
        }
    }
}

#[test]
fn wake_storm_from_plain_threads() {
    let _w = watchdog("wake_storm_from_plain_threads", 60);
    const TASKS: usize = 64;
    const WAKES: usize = 64 * 32; // per waking thread: 32 per task
    const THREADS: usize = 4;
    let rt = rt(2);
    let tickets: Vec<Arc<Tickets>> = (0..TASKS).map(|_| Arc::default()).collect();
    let want = THREADS * WAKES / TASKS;
    let c = Counters::new();
    let joins: Vec<_> = tickets
        .iter()
        .map(|t| {
            rt.spawn(Track::new(
                TakeTickets {
                    t: t.clone(),
                    taken: 0,
                    want,
                },
                &c,
            ))
        })
        .collect();
    let threads: Vec<_> = (0..THREADS)
        .map(|k| {
            let tickets = tickets.clone();
            std::thread::spawn(move || {
                for i in 0..WAKES {
                    tickets[(i + k) % TASKS].give();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let total: usize = rt.block_on(async {
        let mut n = 0;
        for j in joins {
            n += j.await.unwrap();
        }
        n
    });
    assert_eq!(total, THREADS * WAKES);
    assert_eq!(c.drops(), TASKS);
}

/// Two tasks hand a turn back and forth 20,000 times; each waits on its own
/// ticket counter, so every hand-off is a cross-task wake. They start on
/// different workers (each blocks its worker at a barrier first); a wake
/// puts the woken task in the waker's LIFO slot, so they may then share
/// one worker, which is the point of the slot.
#[test]
fn ping_pong_across_workers() {
    let _w = watchdog("ping_pong_across_workers", 60);
    const ROUNDS: usize = 20_000;
    let rt = rt(2);
    let a: Arc<Tickets> = Arc::default();
    let b: Arc<Tickets> = Arc::default();
    let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let player = |me: Arc<Tickets>, other: Arc<Tickets>, first: bool| {
        let threads = threads.clone();
        let barrier = barrier.clone();
        async move {
            barrier.wait();
            threads.lock().unwrap().insert(std::thread::current().id());
            if first {
                other.give();
            }
            for i in 0..ROUNDS {
                TakeTickets {
                    t: me.clone(),
                    taken: 0,
                    want: 1,
                }
                .await;
                if i % 1000 == 0 {
                    threads.lock().unwrap().insert(std::thread::current().id());
                }
                if !(first && i == ROUNDS - 1) {
                    other.give();
                }
            }
        }
    };
    let t = Instant::now();
    rt.block_on(async {
        let pong = rt.spawn(player(b.clone(), a.clone(), false));
        let ping = rt.spawn(player(a.clone(), b.clone(), true));
        ping.await.unwrap();
        pong.await.unwrap();
    });
    eprintln!(
        "{ROUNDS} round trips in {:?} on {} worker thread(s)",
        t.elapsed(),
        threads.lock().unwrap().len()
    );
}

async fn echo_server(listener: TcpListener, conns: usize) {
    let mut hs = Vec::new();
    for _ in 0..conns {
        let (stream, _) = listener.accept().await.unwrap();
        hs.push(weft::spawn(async move {
            let (mut r, mut w) = stream.into_split();
            futures_lite::io::copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap();
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
}

/// Echo clients make progress while CPU-bound tasks (that yield now and
/// then) keep every worker busy.
#[test]
fn io_tasks_beside_cpu_bound_tasks() {
    let _w = watchdog("io_tasks_beside_cpu_bound_tasks", 60);
    let rt = rt(2);
    let stop = Arc::new(AtomicBool::new(false));
    let spins = Arc::new(AtomicUsize::new(0));
    let cpu: Vec<_> = (0..4)
        .map(|_| {
            let (stop, spins) = (stop.clone(), spins.clone());
            rt.spawn(async move {
                while !stop.load(SeqCst) {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(200) {
                        std::hint::spin_loop();
                    }
                    spins.fetch_add(1, SeqCst);
                    weft::task::yield_now().await;
                }
            })
        })
        .collect();
    let t = Instant::now();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(echo_server(listener, 8));
        let clients: Vec<_> = (0..8)
            .map(|_| {
                weft::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    let mut buf = [0u8; 64];
                    for i in 0..50u8 {
                        s.write_all(&[i; 64]).await.unwrap();
                        s.read_exact(&mut buf).await.unwrap();
                        assert_eq!(buf, [i; 64]);
                    }
                    s.close().await.unwrap();
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
    let took = t.elapsed();
    stop.store(true, SeqCst);
    rt.block_on(async {
        for c in cpu {
            c.await.unwrap();
        }
    });
    eprintln!(
        "400 echo round trips beside 4 spinning tasks: {took:?}, {} spin slices",
        spins.load(SeqCst)
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

/// Drop the runtime while spawners, wake storms, ping-pong, blocking jobs
/// and sleeping tasks are all in flight: every future is dropped once.
#[test]
fn shutdown_with_everything_in_flight() {
    let _w = watchdog("shutdown_with_everything_in_flight", 60);
    for round in 0..5 {
        let c = Counters::new();
        let rt = rt(2);
        let tickets: Vec<Arc<Tickets>> = (0..16).map(|_| Arc::default()).collect();
        for t in &tickets {
            rt.spawn(Track::new(
                TakeTickets {
                    t: t.clone(),
                    taken: 0,
                    want: usize::MAX,
                },
                &c,
            ));
        }
        let spawned = Arc::new(AtomicUsize::new(16));
        for _ in 0..20 {
            let (c2, spawned) = (c.clone(), spawned.clone());
            spawned.fetch_add(1, SeqCst);
            rt.spawn(Track::new(
                async move {
                    loop {
                        let c3 = c2.clone();
                        spawned.fetch_add(1, SeqCst);
                        weft::spawn(Track::new(
                            async move {
                                weft::time::sleep(Duration::from_millis(1)).await;
                                drop(c3);
                            },
                            &c2,
                        ));
                        drop(weft::spawn_blocking(|| {
                            std::thread::sleep(Duration::from_micros(50))
                        }));
                        weft::task::yield_now().await;
                    }
                },
                &c,
            ));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let waker = {
            let (tickets, stop) = (tickets.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(SeqCst) {
                    tickets[i % 16].give();
                    i += 1;
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20 + 10 * round));
        drop(rt);
        stop.store(true, SeqCst);
        waker.join().unwrap();
        // Every spawn was either run to the end, cancelled, or refused.
        assert_eq!(c.drops(), spawned.load(SeqCst), "round {round}");
    }
}
