//! Running code written for other runtimes' traits on weft.
//!
//! weft's own IO traits are `futures-io`'s ([`crate::io`]). Two other trait sets reach most
//! Rust network code, and each has an adapter here behind a cargo feature, so that nobody
//! pays for the ones they do not use:
//!
//! | feature | module | what runs on weft with it |
//! |---|---|---|
//! | `hyper` | `compat::hyper` | hyper 1.x servers and clients (`hyper::server::conn`, `hyper::client::conn`): IO, executor and timer |
//! | `tokio-io` | `compat::tokio_io` | crates written against `tokio::io::{AsyncRead, AsyncWrite}` (tokio-util codecs, tokio-rustls, ...) over weft's sockets, without a tokio runtime |
//!
//! ```toml
//! [dependencies]
//! weft = { version = "0.1", features = ["hyper", "tokio-io"] }
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
pub mod tokio_io;
