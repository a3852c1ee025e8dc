//! Scenario 5: 10,000 idle connections plus one active. The idle clients
//! live in a second process (this binary again, running
//! `s05_client_process`); the active client is a plain thread here doing
//! one-byte round trips to an echo task.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::TcpListener;

use crate::util::{self, figure, test_name};

const IDLE: usize = 10_000;
const ADDR_ENV: &str = "WEFT_FAULTS_S05_ADDR";

/// The second process: open `IDLE` connections to the address in
/// `WEFT_FAULTS_S05_ADDR`, say `READY`, hold them until stdin closes.
/// Without that variable (a normal test run) it does nothing.
#[test]
fn s05_client_process() {
    let Ok(addr) = std::env::var(ADDR_ENV) else {
        return;
    };
    let mut conns = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        conns.push(std::net::TcpStream::connect(&addr).expect("idle client connect"));
    }
    println!("READY");
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(conns);
}

#[test]
fn s05_ten_thousand_idle_connections_and_one_active() {
    let name = test_name!(s05_ten_thousand_idle_connections_and_one_active);
    util::isolated(name, Duration::from_secs(120), || {
        util::rt().block_on(scenario(name))
    });
}

async fn scenario(name: &str) {
    // The echo server of the active connection.
    let echo_l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo_l.local_addr().unwrap();
    let echo = weft::spawn(async move {
        let (mut s, _) = echo_l.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 64];
        loop {
            match s.read(&mut b).await {
                Ok(0) | Err(_) => break,
                Ok(n) => s.write_all(&b[..n]).await.unwrap(),
            }
        }
    });
    // The idle server: every accepted connection gets a task waiting to read.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let live = Arc::new(AtomicUsize::new(0));
    let acceptor = weft::spawn({
        let (accepted, live) = (accepted.clone(), live.clone());
        async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                accepted.fetch_add(1, SeqCst);
                live.fetch_add(1, SeqCst);
                let live = live.clone();
                weft::spawn(async move {
                    let mut b = [0u8; 1];
                    let _ = s.read(&mut b).await;
                    live.fetch_sub(1, SeqCst);
                });
            }
        }
    });

    // Unloaded and loaded figures come from the same thread's connection.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (rtx, rrx) = std::sync::mpsc::channel::<Vec<Duration>>();
    let active = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(echo_addr).unwrap();
        s.set_nodelay(true).unwrap();
        let mut round = || {
            let mut out = Vec::new();
            let mut b = [0u8; 1];
            for i in 0..310 {
                let t = Instant::now();
                s.write_all(b"p").unwrap();
                s.read_exact(&mut b).unwrap();
                if i >= 10 {
                    out.push(t.elapsed());
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            out
        };
        rtx.send(round()).unwrap();
        rx.recv().unwrap();
        rtx.send(round()).unwrap();
    });
    let mut unloaded = recv_async(&rrx).await;
    let rss0 = util::rss_bytes();

    let t0 = Instant::now();
    let mut client = Command::new(std::env::current_exe().unwrap())
        .args([
            "s05_idle_conns::s05_client_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ADDR_ENV, addr.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Read all of the client's output (it must not die of a closed pipe);
    // say when it is ready.
    let stdout = client.stdout.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let client_out = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("READY") {
                let _ = ready_tx.send(());
            }
        }
    });
    recv_async(&ready_rx).await;
    while accepted.load(SeqCst) < IDLE {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "accepted only {}",
            accepted.load(SeqCst)
        );
        weft::time::sleep(Duration::from_millis(5)).await;
    }
    let setup = t0.elapsed();
    // Let the idle tasks all reach their first `Pending`.
    weft::time::sleep(Duration::from_millis(100)).await;
    let rss1 = util::rss_bytes();

    tx.send(()).unwrap();
    let mut loaded = recv_async(&rrx).await;
    active.join().unwrap();

    let (u50, u99) = (
        util::quantile(&mut unloaded, 0.5),
        util::quantile(&mut unloaded, 0.99),
    );
    let (l50, l99) = (
        util::quantile(&mut loaded, 0.5),
        util::quantile(&mut loaded, 0.99),
    );
    let per_conn = (rss1.saturating_sub(rss0)) as f64 / IDLE as f64;
    figure!(
        name,
        "{IDLE} idle connections accepted in {setup:.2?}; active RTT p50 {u50:.1?} -> {l50:.1?} ({:.2}x), p99 {u99:.1?} -> {l99:.1?}; RSS +{} KiB = {per_conn:.0} B per idle connection",
        l50.as_secs_f64() / u50.as_secs_f64(),
        (rss1.saturating_sub(rss0)) / 1024
    );

    // Close the idle clients: every idle task sees EOF and ends.
    drop(client.stdin.take());
    let t1 = Instant::now();
    while live.load(SeqCst) > 0 {
        assert!(
            t1.elapsed() < Duration::from_secs(30),
            "{} idle tasks never saw EOF",
            live.load(SeqCst)
        );
        weft::time::sleep(Duration::from_millis(5)).await;
    }
    figure!(
        name,
        "all {IDLE} idle tasks saw EOF within {:.2?} of the clients closing",
        t1.elapsed()
    );
    let _ = client.wait();
    client_out.join().unwrap();
    acceptor.abort();
    let _ = acceptor.await;
    echo.await.unwrap();
    if util::backend() == weft::runtime::IoBackend::Poll {
        // poll(2) rescans every descriptor on each call: with 10,000 idle
        // sockets one call costs milliseconds in the kernel (8.6 ms for 9k
        // sockets on the 2-core CI machine, measured apart from weft), so
        // the 2x bound cannot hold there. The active connection must still
        // be served, within a few scans.
        assert!(
            l50 < Duration::from_millis(100),
            "the active connection starves on poll(2): p50 {u50:?} -> {l50:?}"
        );
    } else {
        assert!(
            l50 <= u50 * 2 + Duration::from_micros(50),
            "the active connection's RTT more than doubled: p50 {u50:?} -> {l50:?}"
        );
    }
}

/// Wait for a message from a plain thread without blocking the runtime.
async fn recv_async<T>(rx: &std::sync::mpsc::Receiver<T>) -> T {
    loop {
        match rx.try_recv() {
            Ok(v) => return v,
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                weft::time::sleep(Duration::from_millis(2)).await
            }
            Err(e) => panic!("the other side hung up: {e}"),
        }
    }
}
