//! An echo server: every connection gets back what it sends.
//!
//! ```text
//! cargo run --release --example echo -- --addr 127.0.0.1:7000
//! ```
//!
//! The address defaults to 127.0.0.1:0 (a free port, printed at start).

use std::io;

use weft::net::{TcpListener, TcpStream};

async fn echo(stream: TcpStream) -> io::Result<u64> {
    let (mut r, mut w) = stream.into_split();
    futures_lite::io::copy(&mut r, &mut w).await
}

async fn serve(addr: String) -> io::Result<()> {
    let listener = TcpListener::bind(addr.as_str()).await?;
    eprintln!("echo: listening on {}", listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                weft::spawn(async move {
                    if let Err(e) = echo(stream).await {
                        eprintln!("echo: {peer}: {e}");
                    }
                });
            }
            Err(e) => eprintln!("echo: {e}"),
        }
    }
}

fn main() {
    let mut addr = "127.0.0.1:0".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--addr", Some(v)) => addr = v,
            _ => {
                eprintln!("usage: echo [--addr HOST:PORT]");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = weft::block_on(serve(addr)) {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
}
