//! The program of the essay "Async Rust, Part Three: IO", on weft.
//!
//! The server accepts connections, writes `start {n}`, sleeps one second
//! and writes `end {n}`; the clients connect and copy what they receive
//! to stdout. Ten clients (the default) finish in about one second, as in
//! the essay; `--clients 9000` shows what the essay's design could not do
//! (each client costs two descriptors in this one process).
//!
//! ```text
//! cargo run --release --example client_server [-- --clients N] [--workers N] [--backend poll|epoll]
//! ```
//!
//! All clients are spawned at once and connect at once. The kernel's listen
//! queue holds at most `somaxconn` pending connections (4096 here), so with
//! `--clients 9000` the server must accept as fast as the clients connect:
//! weft's loop runs a task that IO just woke (the accept loop) within a
//! poll or two, so the queue never overflows and no connect is retried.
//!
//! On one loop, 9,000 clients take about 2.2 s on a 2-CPU machine: the
//! connects, accepts and closes are some 0.8 s of kernel work on one core,
//! and the handlers only start once every client's connect has run (they
//! queue behind the clients, first in, first out). `--workers 2` runs the
//! same program on the multi-thread runtime, where the clients' and the
//! server's kernel work share both cores: about 1.6 s.
//!
//! Printing happens on a thread of its own (fed by a channel), so a slow
//! stdout never stalls the event loop. The elapsed time goes to stderr.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::runtime::{Builder, IoBackend};

async fn handle(mut socket: TcpStream, n: u64) -> io::Result<()> {
    socket.write_all(format!("start {n}\n").as_bytes()).await?;
    weft::time::sleep(Duration::from_secs(1)).await;
    socket.write_all(format!("end {n}\n").as_bytes()).await?;
    Ok(())
}

async fn server_main(listener: TcpListener) {
    let mut n = 1;
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                weft::spawn(async move {
                    if let Err(e) = handle(socket, n).await {
                        eprintln!("server: connection {n}: {e}");
                    }
                });
                n += 1;
            }
            // Out of descriptors and the like: say so and go on.
            Err(e) => eprintln!("server: {e}"),
        }
    }
}

async fn client_main(addr: SocketAddr, out: mpsc::Sender<Vec<u8>>) -> io::Result<()> {
    let mut socket = TcpStream::connect(addr).await?;
    let mut buf = [0u8; 1024];
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        // The printer thread is gone only if stdout failed; stop then.
        if out.send(buf[..n].to_vec()).is_err() {
            return Ok(());
        }
    }
}

async fn async_main(clients: usize) -> io::Result<()> {
    // Bind before spawning the clients, so they never race the server;
    // port 0 picks a free port, so two runs never collide.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    weft::spawn(server_main(listener));

    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let printer = std::thread::spawn(move || {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        for chunk in rx {
            if out.write_all(&chunk).is_err() {
                return;
            }
        }
        let _ = out.flush();
    });

    // Spawn every client at once, as the essay does.
    let handles: Vec<_> = (0..clients)
        .map(|_| weft::spawn(client_main(addr, tx.clone())))
        .collect();
    let mut failed = 0;
    drop(tx);
    for h in handles {
        match h.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failed += 1;
                eprintln!("client: {e}");
            }
            Err(e) => {
                failed += 1;
                eprintln!("client task: {e}");
            }
        }
    }
    let _ = weft::spawn_blocking(move || printer.join()).await;
    if failed > 0 {
        return Err(io::Error::other(format!(
            "{failed} of {clients} clients failed"
        )));
    }
    Ok(())
}

struct Args {
    clients: usize,
    backend: IoBackend,
    /// 0: the current-thread runtime (the essay's one loop); N: N workers.
    workers: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        clients: 10,
        backend: IoBackend::default(),
        workers: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--clients" => {
                let v = it.next().ok_or("--clients needs a number")?;
                args.clients = v.parse().map_err(|e| format!("--clients {v}: {e}"))?;
            }
            "--workers" => {
                let v = it.next().ok_or("--workers needs a number")?;
                args.workers = v.parse().map_err(|e| format!("--workers {v}: {e}"))?;
            }
            "--backend" => {
                args.backend = match it.next().as_deref() {
                    Some("poll") => IoBackend::Poll,
                    Some("epoll") => IoBackend::Epoll,
                    other => return Err(format!("--backend takes poll or epoll, not {other:?}")),
                };
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: client_server [--clients N] [--workers N] [--backend poll|epoll]"
                ))
            }
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let mut builder = if args.workers == 0 {
        Builder::new_current_thread()
    } else {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(args.workers);
        b
    };
    let res = builder
        .io_backend(args.backend)
        .build()
        .and_then(|rt| rt.block_on(async_main(args.clients)));
    let flavour = match args.workers {
        0 => "one loop".to_string(),
        n => format!("{n} workers"),
    };
    eprintln!(
        "{} clients on {:?}, {flavour}: {:.3?}",
        args.clients,
        args.backend,
        start.elapsed()
    );
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
