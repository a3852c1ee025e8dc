//! Unix-domain sockets: stream listeners, streams and datagrams.
#![forbid(unsafe_code)]

mod datagram;
mod listener;
mod stream;

pub use self::datagram::UnixDatagram;
pub use self::listener::UnixListener;
pub use self::stream::UnixStream;

use std::io;
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::error::context;

/// A non-blocking, close-on-exec Unix socket of type `ty`.
pub(crate) fn socket(ty: Type, what: &'static str) -> io::Result<Socket> {
    Socket::new(Domain::UNIX, ty.nonblocking().cloexec(), None)
        .map_err(|e| context(e, "create a Unix socket for", what))
}

/// The socket address of `path`, with the path named in the error.
pub(crate) fn sock_addr(path: &Path) -> io::Result<SockAddr> {
    SockAddr::unix(path).map_err(|e| context(e, "make a Unix address of", path.display()))
}
