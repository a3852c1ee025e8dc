//! Addresses that `bind` and `connect` accept, and their resolution: literal
//! addresses in place, host names on the blocking pool.
#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::error::context;

/// Types that `bind`, `connect` and `send_to` accept as an address.
///
/// Implemented for `SocketAddr` (and its V4/V6 forms), `(IpAddr, u16)`
/// pairs, `&[SocketAddr]`, `"host:port"` strings and `("host", port)`
/// pairs. It is sealed: weft resolves names itself, off the event loop.
///
/// # Examples
///
/// ```no_run
/// # weft::block_on(async {
/// use weft::net::TcpStream;
///
/// let a = TcpStream::connect("127.0.0.1:8080").await?; // parsed in place
/// let b = TcpStream::connect(("localhost", 8080)).await?; // resolved on a blocking thread
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::net::SocketAddr;

    /// What an address turns into before any socket is made.
    #[derive(Debug)]
    pub enum Resolve {
        /// Literal addresses: no lookup needed.
        Ready(Vec<SocketAddr>),
        /// A `"host:port"` string to hand to the system resolver.
        Name(String),
        /// A host and a port to hand to the system resolver.
        HostPort(String, u16),
    }

    /// The hidden half of [`super::ToSocketAddrs`].
    pub trait ToSocketAddrsPriv {
        /// Parse literal addresses, or say which name to resolve.
        #[doc(hidden)]
        fn to_resolve(&self) -> Resolve;
    }
}

use self::sealed::{Resolve, ToSocketAddrsPriv};

macro_rules! literal {
    ($($t:ty => |$s:ident| $e:expr;)*) => {$(
        impl ToSocketAddrs for $t {}
        impl ToSocketAddrsPriv for $t {
            fn to_resolve(&self) -> Resolve {
                let $s = self;
                Resolve::Ready(vec![$e])
            }
        }
    )*};
}

literal! {
    SocketAddr => |s| *s;
    SocketAddrV4 => |s| SocketAddr::V4(*s);
    SocketAddrV6 => |s| SocketAddr::V6(*s);
    (IpAddr, u16) => |s| SocketAddr::new(s.0, s.1);
    (Ipv4Addr, u16) => |s| SocketAddr::new(IpAddr::V4(s.0), s.1);
    (Ipv6Addr, u16) => |s| SocketAddr::new(IpAddr::V6(s.0), s.1);
    ([u8; 4], u16) => |s| SocketAddr::from(*s);
}

impl ToSocketAddrs for &[SocketAddr] {}
impl ToSocketAddrsPriv for &[SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolve::Ready(vec![addr]),
            Err(_) => Resolve::Name(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Resolve::HostPort(self.0.to_owned(), self.1),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// Turn `addr` into socket addresses: literal ones at once, names on the
/// blocking pool. Never returns an empty list.
pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    let (name, addrs) = match addr.to_resolve() {
        Resolve::Ready(addrs) => (None, addrs),
        Resolve::Name(name) => {
            let n = name.clone();
            let res = lookup(name.clone(), move || {
                std::net::ToSocketAddrs::to_socket_addrs(&n).map(|a| a.collect())
            })
            .await?;
            (Some(name), res)
        }
        Resolve::HostPort(host, port) => {
            let name = format!("{host}:{port}");
            let res = lookup(name.clone(), move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                    .map(|a| a.collect())
            })
            .await?;
            (Some(name), res)
        }
    };
    if addrs.is_empty() {
        let what = name.unwrap_or_else(|| "an empty address list".to_owned());
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("resolve {what}: no addresses to use"),
        ));
    }
    Ok(addrs)
}

async fn lookup(
    name: String,
    f: impl FnOnce() -> io::Result<Vec<SocketAddr>> + Send + 'static,
) -> io::Result<Vec<SocketAddr>> {
    match crate::spawn_blocking(f).await {
        Ok(res) => res.map_err(|e| context(e, "resolve", &name)),
        Err(join) => Err(io::Error::other(format!(
            "resolve {name}: the resolver thread failed: {join}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_need_no_lookup() {
        let cases: Vec<Box<dyn Fn() -> Resolve>> = vec![
            Box::new(|| "127.0.0.1:80".to_resolve()),
            Box::new(|| "[::1]:80".to_resolve()),
            Box::new(|| ("127.0.0.1", 80).to_resolve()),
            Box::new(|| ("::1", 80).to_resolve()),
            Box::new(|| ([127, 0, 0, 1], 80).to_resolve()),
        ];
        for c in cases {
            assert!(matches!(c(), Resolve::Ready(v) if v.len() == 1 && v[0].port() == 80));
        }
        assert!(matches!("localhost:80".to_resolve(), Resolve::Name(_)));
        assert!(matches!(
            ("localhost", 80).to_resolve(),
            Resolve::HostPort(_, 80)
        ));
    }
}
