//! Asynchronous IO traits.
//!
//! weft's streams implement the runtime-independent
//! [`AsyncRead`] and [`AsyncWrite`] traits of the `futures-io` crate, so
//! any code written against them (codecs, TLS, HTTP) works on weft.
//!
//! weft does not copy the extension traits that give them `read`,
//! `read_exact`, `write_all`, `copy` and friends: take them from
//! `futures-lite` (`futures_lite::{AsyncReadExt, AsyncWriteExt}`,
//! `futures_lite::io::copy`) or `futures-util`
//! (`futures_util::io::{AsyncReadExt, AsyncWriteExt}`).
//!
//! # Examples
//!
//! ```no_run
//! use futures_lite::{AsyncReadExt, AsyncWriteExt};
//!
//! # weft::block_on(async {
//! let mut stream = weft::net::TcpStream::connect("127.0.0.1:7").await?;
//! stream.write_all(b"hello").await?;
//! let mut reply = Vec::new();
//! stream.read_to_end(&mut reply).await?;
//! # Ok::<(), std::io::Error>(())
//! # });
//! ```
#![forbid(unsafe_code)]

pub use futures_io::{AsyncRead, AsyncWrite};
