//! hyper on weft: an HTTP/1.1 and HTTP/2 server that answers every request with
//! "Hello, World!".
//!
//! ```text
//! cargo run --release --example hello_hyper -- --addr 127.0.0.1:3000
//! curl http://127.0.0.1:3000/
//! curl --http2-prior-knowledge http://127.0.0.1:3000/
//! ```
//!
//! `--addr` defaults to 127.0.0.1:3000; port 0 picks a free one. The server prints
//! `listening on ADDR` once bound. HTTP/2 is spoken to clients that open with its preface
//! ("prior knowledge", as `curl --http2-prior-knowledge` and `h2load` do); every other
//! connection is served as HTTP/1.1 with keep-alive.

use std::convert::Infallible;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::AsyncReadExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use weft::compat::hyper::{WeftExecutor, WeftIo, WeftTimer};
use weft::net::{TcpListener, TcpStream};

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

/// A stream with the bytes already read from it put back in front.
struct Prefixed {
    head: [u8; H2_PREFACE.len()],
    start: usize,
    end: usize,
    stream: TcpStream,
}

impl futures_io::AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.start < this.end {
            let n = buf.len().min(this.end - this.start);
            buf[..n].copy_from_slice(&this.head[this.start..this.start + n]);
            this.start += n;
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_close(cx)
    }
}

/// Reads until the first bytes either are the HTTP/2 preface or cannot become it. Returns
/// whether they are, and the stream with those bytes put back.
async fn sniff(mut stream: TcpStream) -> io::Result<(bool, Prefixed)> {
    let mut head = [0; H2_PREFACE.len()];
    let mut end = 0;
    while end < head.len() {
        let n = stream.read(&mut head[end..]).await?;
        if n == 0 {
            break;
        }
        end += n;
        if head[..end] != H2_PREFACE[..end] {
            break;
        }
    }
    let is_h2 = head[..end] == *H2_PREFACE;
    let stream = Prefixed {
        head,
        start: 0,
        end,
        stream,
    };
    Ok((is_h2, stream))
}

async fn serve_one(stream: TcpStream) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    stream.set_nodelay(true)?;
    let (is_h2, stream) = sniff(stream).await?;
    let service = hyper::service::service_fn(hello);
    if is_h2 {
        hyper::server::conn::http2::Builder::new(WeftExecutor::new())
            .timer(WeftTimer::new())
            .serve_connection(WeftIo::new(stream), service)
            .await?;
    } else {
        hyper::server::conn::http1::Builder::new()
            .timer(WeftTimer::new())
            .serve_connection(WeftIo::new(stream), service)
            .await?;
    }
    Ok(())
}

/// Whether `e` is only a client going away, which a server does not report.
fn is_disconnect(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(e) = e.downcast_ref::<hyper::Error>() {
        if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
            return true;
        }
    }
    if let Some(e) = e.downcast_ref::<io::Error>() {
        return matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe
                // hyper shuts the write side down after the peer has gone.
                | io::ErrorKind::NotConnected
                | io::ErrorKind::UnexpectedEof
        );
    }
    e.source().is_some_and(is_disconnect)
}

async fn serve(addr: String) -> io::Result<()> {
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                weft::spawn(async move {
                    if let Err(e) = serve_one(stream).await {
                        if !is_disconnect(&*e) {
                            eprintln!("hello_hyper: {peer}: {e}");
                        }
                    }
                });
            }
            Err(e) => {
                // Out of descriptors, most likely: say so, and let connections close.
                eprintln!("hello_hyper: {e}");
                weft::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

fn main() {
    let mut addr = "127.0.0.1:3000".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--addr", Some(v)) => addr = v,
            _ => {
                eprintln!("usage: hello_hyper [--addr HOST:PORT]");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = weft::block_on(serve(addr)) {
        eprintln!("hello_hyper: {e}");
        std::process::exit(1);
    }
}
