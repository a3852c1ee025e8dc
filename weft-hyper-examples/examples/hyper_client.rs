//! hyper's client on weft: fetches one URL and prints the status line and the body.
//!
//! ```text
//! cargo run --release --example hello_hyper &
//! cargo run --release --example hyper_client -- http://127.0.0.1:3000/
//! cargo run --release --example hyper_client -- --http2 http://127.0.0.1:3000/
//! ```
//!
//! Plain `http://` only (no TLS); the URL defaults to `http://127.0.0.1:3000/`. `--http2`
//! speaks HTTP/2 with prior knowledge instead of HTTP/1.1.

use std::io::{self, Write as _};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, Uri};
use weft::compat::hyper::{WeftExecutor, WeftIo, WeftTimer};
use weft::net::TcpStream;

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn fetch(url: Uri, http2: bool) -> Result<(), Error> {
    if url.scheme_str().is_some_and(|s| s != "http") {
        return Err(format!("{url}: only http:// URLs are supported").into());
    }
    let host = url
        .host()
        .ok_or_else(|| format!("{url}: the URL has no host"))?;
    let port = url.port_u16().unwrap_or(80);
    // `TcpStream::connect` resolves names off the loop; an IPv6 literal comes bracketed.
    let host_bare = host.trim_start_matches('[').trim_end_matches(']');
    let stream = TcpStream::connect((host_bare, port))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    stream.set_nodelay(true)?;
    let io = WeftIo::new(stream);

    let authority = url
        .authority()
        .map_or_else(|| host.to_owned(), |a| a.as_str().to_owned());
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    let mut out = io::stdout().lock();
    if http2 {
        let (mut sender, conn) = hyper::client::conn::http2::Builder::new(WeftExecutor::new())
            .timer(WeftTimer::new())
            .handshake(io)
            .await?;
        weft::spawn(conn);
        let req = Request::get(url.clone()).body(Empty::<Bytes>::new())?;
        let res = sender.send_request(req).await?;
        writeln!(out, "{:?} {}", res.version(), res.status())?;
        let body = res.into_body().collect().await?.to_bytes();
        out.write_all(&body)?;
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        weft::spawn(conn);
        let req = Request::get(path)
            .header(hyper::header::HOST, authority)
            .body(Empty::<Bytes>::new())?;
        let res = sender.send_request(req).await?;
        writeln!(out, "{:?} {}", res.version(), res.status())?;
        let body = res.into_body().collect().await?.to_bytes();
        out.write_all(&body)?;
    }
    writeln!(out)?;
    Ok(())
}

fn main() {
    let mut url = "http://127.0.0.1:3000/".to_owned();
    let mut http2 = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--http2" => http2 = true,
            _ if !a.starts_with('-') => url = a,
            _ => {
                eprintln!("usage: hyper_client [--http2] [URL]");
                std::process::exit(2);
            }
        }
    }
    let url: Uri = match url.parse() {
        Ok(url) => url,
        Err(e) => {
            eprintln!("hyper_client: {url}: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = weft::block_on(fetch(url, http2)) {
        eprintln!("hyper_client: {e}");
        std::process::exit(1);
    }
}
