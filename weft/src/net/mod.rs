//! Non-blocking TCP, UDP and Unix-domain sockets on weft's reactor.
//!
//! Every socket here is created non-blocking and close-on-exec, registered
//! once with the reactor of the runtime it was made in, and waits for
//! readiness per direction: a task reading and a task writing the same
//! stream each get their own wakeups. Every operation spends one unit of
//! the task's cooperative budget, so a task on an always-ready socket
//! still lets the others run.
//!
//! Names follow tokio's (`TcpListener::bind(addr).await`,
//! `listener.accept().await`, `TcpStream::connect(addr).await`, ...).
//! Streams implement [`futures_io::AsyncRead`] and
//! [`futures_io::AsyncWrite`]; the `read`/`write_all`/`copy` helpers come
//! from `futures-util` or `futures-lite` (see [`crate::io`]).
//!
//! # Addresses
//!
//! `bind` and `connect` take anything that implements [`ToSocketAddrs`]:
//! a `SocketAddr`, an `(IpAddr, u16)` pair, a `"host:port"` string or a
//! `("host", port)` pair. Literal IP addresses are parsed in place; a
//! host name is resolved with the system resolver (`getaddrinfo`) on
//! [`spawn_blocking`](crate::spawn_blocking)'s threads, never on the event
//! loop.
//!
//! # Errors
//!
//! Errors keep the OS error's [`std::io::ErrorKind`] and carry the OS error
//! as their `source()`; their message names the operation and the address,
//! path or descriptor it was performed on (`connect to 127.0.0.1:9: ...`).
//! `EINTR` is retried; `EAGAIN` never surfaces (the operation waits).
//! Writes use `MSG_NOSIGNAL`: a reset peer is a `BrokenPipe` or
//! `ConnectionReset` error, never a `SIGPIPE`.
#![forbid(unsafe_code)]

mod addr;
pub(crate) mod error;
mod source;
mod tcp;
mod udp;
mod unix;

pub use self::addr::ToSocketAddrs;
pub use self::tcp::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpStream, WriteHalf,
};
pub use self::udp::UdpSocket;
pub use self::unix::{UnixDatagram, UnixListener, UnixStream};

/// The `send` flags of every stream write: never raise `SIGPIPE`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// The `send` flags of every stream write (`MSG_NOSIGNAL` does not exist
/// here; weft relies on the Rust runtime ignoring `SIGPIPE`).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// Listen backlog of every listener: as deep as the kernel allows (it caps
/// the value at `net.core.somaxconn`, 4096 on current Linux), so that a burst
/// of connects waits in the queue instead of being dropped and retried a
/// second later.
pub(crate) const BACKLOG: libc::c_int = 65535;

/// `futures_io::AsyncRead` and `AsyncWrite` for a byte stream (`$t`, or a
/// reference to it) that has the `poll_*_priv` methods and a
/// `$shutdown(&self, Shutdown)`. `poll_close` shuts the write side down
/// (the peer reads end of stream); `poll_flush` has nothing to do, as
/// writes go straight to the socket.
macro_rules! stream_io_impls {
    ($t:ty, $shutdown:ident) => {
        impl futures_io::AsyncRead for $t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_vectored_priv(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts the write side down (the peer reads end of stream).
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.$shutdown(std::net::Shutdown::Write))
            }
        }
    };
}
pub(crate) use stream_io_impls;
