//! hyper's hello-world on tokio's current-thread runtime: the tokio side of
//! `weft-bench/hyper.sh`, doing what `weft/examples/hello_hyper.rs` does on weft
//! (HTTP/1.1 with keep-alive, or HTTP/2 for a client that opens with its preface; a timer
//! for hyper's header-read timeout; `TCP_NODELAY`; one task per connection).
//!
//! ```text
//! target/release/hello_hyper_tokio --addr 127.0.0.1:3001
//! ```
//!
//! It prints `listening on ADDR` once bound, as hello_hyper does.

use std::convert::Infallible;
use std::io::{self, Write as _};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

async fn serve(addr: String) -> io::Result<()> {
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("hello_hyper_tokio: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let builder = builder.clone();
        tokio::spawn(async move {
            if stream.set_nodelay(true).is_err() {
                return;
            }
            // Errors are clients going away; the benchmark checks status codes itself.
            let _ = builder
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(hello))
                .await;
        });
    }
}

fn main() {
    let mut addr = "127.0.0.1:3001".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--addr", Some(v)) => addr = v,
            _ => {
                eprintln!("usage: hello_hyper_tokio [--addr HOST:PORT]");
                std::process::exit(2);
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hello_hyper_tokio: cannot build the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(serve(addr)) {
        eprintln!("hello_hyper_tokio: {e}");
        std::process::exit(1);
    }
}
