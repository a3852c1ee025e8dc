//! The connection code of the runtime servers, written once over [`Conn`]
//! (a byte stream polled like any runtime's socket) and run unchanged on
//! weft, tokio and smol. Each runtime only accepts and spawns. (The
//! multi-thread flavour's servers, generic over the runtime, are
//! [`crate::runtimes_mt::serve`].)

#![forbid(unsafe_code)]

use std::future::poll_fn;
use std::io;
use std::net::TcpListener;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::http;
use crate::net_load::Proto;

/// A connected socket of some runtime.
pub(crate) trait Conn: Unpin + Send + 'static {
    /// Read into `buf` (0 at end of stream), or register the waker.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Write some of `buf`, or register the waker.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
}

/// Read into `buf`: the byte count, 0 at end of stream.
pub(crate) async fn read<C: Conn>(c: &mut C, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| c.poll_read(cx, buf)).await
}

/// Write all of `buf`.
pub(crate) async fn write_all<C: Conn>(c: &mut C, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| c.poll_write(cx, buf)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// Echo everything back until the peer closes.
async fn echo<C: Conn>(mut c: C) -> io::Result<()> {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = read(&mut c, &mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        write_all(&mut c, &buf[..n]).await?;
    }
}

/// Answer HTTP/1.1 requests ([`http::serve`]) until the peer closes or a
/// request asks to.
async fn http<C: Conn>(mut c: C) -> io::Result<()> {
    let mut buf = vec![0u8; http::MAX_HEAD + 1024];
    let mut filled = 0;
    let mut out = Vec::with_capacity(1024);
    loop {
        let n = read(&mut c, &mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        let served = http::serve(&buf[..filled], &mut out);
        buf.copy_within(served.consumed..filled, 0);
        filled -= served.consumed;
        if !out.is_empty() {
            write_all(&mut c, &out).await?;
            out.clear();
        }
        if served.close || filled == buf.len() {
            return Ok(());
        }
    }
}

/// One connection's task, on any runtime.
pub(crate) async fn handle<C: Conn>(proto: Proto, c: C) {
    let r = match proto {
        Proto::Echo => echo(c).await,
        Proto::Http => http(c).await,
    };
    if let Err(e) = r {
        if !matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ) {
            eprintln!("weft-bench server: a connection failed: {e}");
        }
    }
}

/// Accept errors (`EMFILE`...) are reported and the loop goes on.
pub(crate) fn accept_failed(e: &io::Error) {
    eprintln!("weft-bench server: accept: {e}");
}

/// weft's socket (current-thread and multi-thread runtimes alike).
pub(crate) struct WeftConn(pub(crate) weft::net::TcpStream);

impl Conn for WeftConn {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncRead::poll_read(Pin::new(&mut self.0), cx, buf)
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }
}

/// Serve forever on weft's current-thread runtime.
pub(crate) fn serve_weft(listener: TcpListener, proto: Proto) -> io::Result<()> {
    let rt = weft::runtime::Builder::new_current_thread().build()?;
    rt.block_on(async move {
        let listener = weft::net::TcpListener::from_std(listener)?;
        loop {
            match listener.accept().await {
                Ok((s, _)) => {
                    s.set_nodelay(true)?;
                    drop(weft::spawn(handle(proto, WeftConn(s))));
                }
                Err(e) => accept_failed(&e),
            }
        }
    })
}

/// tokio's socket.
pub(crate) struct TokioConn(pub(crate) tokio::net::TcpStream);

impl Conn for TokioConn {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // What tokio's own `read` future does: fill a ReadBuf over `buf`.
        let mut rb = tokio::io::ReadBuf::new(buf);
        match tokio::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, &mut rb) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(rb.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }
}

/// Serve forever on tokio's current-thread runtime (`enable_all`).
pub(crate) fn serve_tokio(listener: TcpListener, proto: Proto) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            match listener.accept().await {
                Ok((s, _)) => {
                    s.set_nodelay(true)?;
                    drop(tokio::spawn(handle(proto, TokioConn(s))));
                }
                Err(e) => accept_failed(&e),
            }
        }
    })
}

/// smol's socket (`async-io`).
pub(crate) struct SmolConn(pub(crate) async_io::Async<std::net::TcpStream>);

impl Conn for SmolConn {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncRead::poll_read(Pin::new(&mut self.0), cx, buf)
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        futures_lite::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }
}

/// Serve forever on smol: a `LocalExecutor` driven by `async_io::block_on`.
pub(crate) fn serve_smol(listener: TcpListener, proto: Proto) -> io::Result<()> {
    let ex = async_executor::LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let listener = async_io::Async::new(listener)?;
        loop {
            match listener.accept().await {
                Ok((s, _)) => {
                    s.get_ref().set_nodelay(true)?;
                    ex.spawn(handle(proto, SmolConn(s))).detach();
                }
                Err(e) => accept_failed(&e),
            }
        }
    }))
}
