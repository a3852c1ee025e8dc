//! tokio's IO traits on weft's streams (feature `tokio-io`).
//!
//! With this feature, [`TcpStream`], its split halves and [`UnixStream`] implement
//! `tokio::io::AsyncRead` and `tokio::io::AsyncWrite` beside `futures-io`'s traits, so crates
//! written against tokio's traits (tokio-util's codecs, tokio-rustls, the tokio side of
//! async-compression) take weft's sockets as they are. weft depends on tokio with no default
//! features: the traits and `ReadBuf` only, no tokio runtime is started, and nothing needs one.
//!
//! For any other `futures-io` type, `tokio_util::compat` (`FuturesAsyncReadCompatExt::compat`)
//! gives the same bridge as a wrapper.
//!
//! | tokio | weft (futures-io) |
//! |---|---|
//! | `poll_read(cx, &mut ReadBuf)` | `poll_read(cx, ReadBuf::initialize_unfilled())`, then `ReadBuf::advance` |
//! | `poll_write`, `poll_write_vectored` | the same; `is_write_vectored()` is `true` (`writev`) |
//! | `poll_flush` | `poll_flush`: nothing is buffered, ready at once |
//! | `poll_shutdown` | `poll_close`: `shutdown(SHUT_WR)`, the peer reads end of stream |
//!
//! Reading into a `ReadBuf` zeroes its not yet initialised part once (weft keeps this module
//! free of `unsafe`); a buffer that is reused, as codecs reuse theirs, is zeroed only the
//! first time.
//!
//! # Method names
//!
//! Both trait sets name their methods `poll_read`, `poll_write` and so on. With both traits
//! (or both extension traits, `futures_lite::AsyncReadExt` and `tokio::io::AsyncReadExt`)
//! imported in one scope, a call is ambiguous: import one set per module, or call through
//! the trait (`tokio::io::AsyncReadExt::read(&mut stream, &mut buf)`).
//!
//! # Examples
//!
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use weft::net::UnixStream;
//!
//! weft::block_on(async {
//!     let (mut a, mut b) = UnixStream::pair()?;
//!     a.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     b.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"ping");
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
#![forbid(unsafe_code)]

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead as FRead, AsyncWrite as FWrite};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[cfg(doc)]
use crate::net::{TcpStream, UnixStream};

/// Reads through `futures-io` into the unfilled part of a tokio `ReadBuf`.
fn read_into<T: FRead + Unpin + ?Sized>(
    io: &mut T,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let unfilled = buf.initialize_unfilled();
    let len = unfilled.len();
    let n = ready!(Pin::new(io).poll_read(cx, unfilled))?;
    // `advance` panics past the initialised part; a reader that claims more than it was
    // given must not make weft panic.
    buf.advance(n.min(len));
    Poll::Ready(Ok(()))
}

macro_rules! tokio_read {
    ($($t:ty),+ $(,)?) => {$(
        impl AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                read_into(self.get_mut(), cx, buf)
            }
        }
    )+};
}

macro_rules! tokio_write {
    ($($t:ty),+ $(,)?) => {$(
        impl AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                FWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                FWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                FWrite::poll_flush(self, cx)
            }

            /// Shuts the write side down (`shutdown(SHUT_WR)`): the peer reads end of stream.
            fn poll_shutdown(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                FWrite::poll_close(self, cx)
            }
        }
    )+};
}

tokio_read!(
    crate::net::TcpStream,
    &crate::net::TcpStream,
    crate::net::OwnedReadHalf,
    crate::net::ReadHalf<'_>,
    crate::net::UnixStream,
    &crate::net::UnixStream,
);

tokio_write!(
    crate::net::TcpStream,
    &crate::net::TcpStream,
    crate::net::OwnedWriteHalf,
    crate::net::WriteHalf<'_>,
    crate::net::UnixStream,
    &crate::net::UnixStream,
);
