//! The essay's client_server program on tokio's current-thread runtime,
//! written the same way as `weft/examples/client_server.rs` (every client
//! spawned at once, same printer thread, same listen backlog), so the two
//! can be timed side by side:
//!
//! ```text
//! /usr/bin/time target/release/client_server_tokio --clients 9000 > /dev/null
//! ```

use std::io::{self, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn handle(mut socket: TcpStream, n: u64) -> io::Result<()> {
    socket.write_all(format!("start {n}\n").as_bytes()).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    socket.write_all(format!("end {n}\n").as_bytes()).await?;
    Ok(())
}

async fn server_main(listener: TcpListener) {
    let mut n = 1;
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                tokio::spawn(async move {
                    if let Err(e) = handle(socket, n).await {
                        eprintln!("server: connection {n}: {e}");
                    }
                });
                n += 1;
            }
            Err(e) => eprintln!("server: {e}"),
        }
    }
}

async fn client_main(addr: std::net::SocketAddr, out: mpsc::Sender<Vec<u8>>) -> io::Result<()> {
    let mut socket = TcpStream::connect(addr).await?;
    let mut buf = [0u8; 1024];
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 || out.send(buf[..n].to_vec()).is_err() {
            return Ok(());
        }
    }
}

async fn async_main(clients: usize) -> io::Result<()> {
    // tokio's `TcpListener::bind` listens with a backlog of 1024, which a
    // wave of connects overflows (clients then hang: the kernel forgets
    // connections they believe established); give it weft's depth.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind("127.0.0.1:0".parse().map_err(io::Error::other)?)?;
    let listener = socket.listen(65535)?;
    let addr = listener.local_addr()?;
    tokio::spawn(server_main(listener));
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
    // Spawn every client at once, as the essay (and weft's example) does.
    let handles: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client_main(addr, tx.clone())))
        .collect();
    let mut failed = 0;
    drop(tx);
    for h in handles {
        if !matches!(h.await, Ok(Ok(()))) {
            failed += 1;
        }
    }
    let _ = tokio::task::spawn_blocking(move || printer.join()).await;
    if failed > 0 {
        return Err(io::Error::other(format!(
            "{failed} of {clients} clients failed"
        )));
    }
    Ok(())
}

fn main() {
    let mut clients = 10;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--clients", Some(v)) => clients = v.parse().unwrap_or(10),
            _ => {
                eprintln!("usage: client_server_tokio [--clients N]");
                std::process::exit(2);
            }
        }
    }
    let start = Instant::now();
    let res = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|rt| rt.block_on(async_main(clients)));
    eprintln!(
        "{clients} clients on tokio current_thread: {:.3?}",
        start.elapsed()
    );
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
