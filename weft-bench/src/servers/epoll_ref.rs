//! The reference column: a hand-written single-threaded edge-triggered
//! epoll loop, no runtime, no tasks, no wakers.
//!
//! Every socket is registered once, `EPOLLIN | EPOLLET`. On a read event
//! it reads until the receive queue is empty and answers each read at once
//! with a direct `write`; only when a write would block does the rest wait
//! in a buffer and the socket add `EPOLLOUT` (one `epoll_ctl`), dropping it
//! again once the buffer is drained.
//!
//! "Until empty": `EAGAIN`, or a short read (fewer bytes than the buffer
//! holds). On Linux a short read from a stream socket means the receive
//! queue was empty when it returned, and with edge triggering any data that
//! arrives later raises a new event, so the extra `read` that would only
//! return `EAGAIN` is skipped — as tokio and weft skip it. This makes the
//! loop the fewest system calls per message epoll allows: one `read`, one
//! `write`, and a share of an `epoll_wait`.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::epoll::{self, Epoll, Io};
use crate::http;
use crate::net_load::Proto;

/// The listener's epoll token; connections use their descriptor number.
const LISTENER: u64 = u64::MAX;

const READ: u32 = (libc::EPOLLIN | libc::EPOLLET) as u32;
const READ_WRITE: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLET) as u32;

struct Conn {
    fd: OwnedFd,
    /// `http`: bytes of an incomplete request.
    input: Vec<u8>,
    /// Bytes a write could not take yet, from `sent` on.
    pending: Vec<u8>,
    sent: usize,
    /// Whether `EPOLLOUT` is registered.
    want_write: bool,
    /// Close once `pending` is written.
    close_after: bool,
}

/// What became of a connection after an event.
#[derive(PartialEq, Eq)]
enum After {
    Keep,
    Close,
}

struct Server {
    ep: Epoll,
    proto: Proto,
    /// Connections by descriptor number.
    conns: Vec<Option<Conn>>,
    buf: Vec<u8>,
    out: Vec<u8>,
}

impl Server {
    /// Write `data` now; keep what does not fit and ask for `EPOLLOUT`.
    fn send(ep: &Epoll, c: &mut Conn, data: &[u8]) -> io::Result<()> {
        let fd = c.fd.as_raw_fd();
        let mut done = 0;
        if c.pending.len() == c.sent {
            while done < data.len() {
                match epoll::write(fd, &data[done..])? {
                    Io::Done(n) => done += n,
                    Io::WouldBlock => break,
                }
            }
        }
        if done < data.len() {
            c.pending.extend_from_slice(&data[done..]);
            if !c.want_write {
                ep.modify(fd, READ_WRITE, fd as u64)?;
                c.want_write = true;
            }
        }
        Ok(())
    }

    /// Write what is pending; drop `EPOLLOUT` once it is all out.
    fn flush(ep: &Epoll, c: &mut Conn) -> io::Result<()> {
        let fd = c.fd.as_raw_fd();
        while c.sent < c.pending.len() {
            match epoll::write(fd, &c.pending[c.sent..])? {
                Io::Done(n) => c.sent += n,
                Io::WouldBlock => return Ok(()),
            }
        }
        c.pending.clear();
        c.sent = 0;
        if c.want_write {
            ep.modify(fd, READ, fd as u64)?;
            c.want_write = false;
        }
        Ok(())
    }

    /// Read until the queue is empty (or output backs up), answering each read.
    fn on_readable(&mut self, fd: RawFd) -> io::Result<After> {
        let Some(Some(c)) = self.conns.get_mut(fd as usize) else {
            return Ok(After::Keep);
        };
        loop {
            if c.sent < c.pending.len() || c.close_after {
                // Output backs up: read again once it drains (see `on_event`).
                return Ok(After::Keep);
            }
            let n = match epoll::read(fd, &mut self.buf)? {
                Io::WouldBlock => return Ok(After::Keep),
                Io::Done(0) => return Ok(After::Close),
                Io::Done(n) => n,
            };
            match self.proto {
                Proto::Echo => Server::send(&self.ep, c, &self.buf[..n])?,
                Proto::Http => {
                    let served = if c.input.is_empty() {
                        let s = http::serve(&self.buf[..n], &mut self.out);
                        c.input.extend_from_slice(&self.buf[s.consumed..n]);
                        s
                    } else {
                        c.input.extend_from_slice(&self.buf[..n]);
                        let s = http::serve(&c.input, &mut self.out);
                        c.input.drain(..s.consumed);
                        s
                    };
                    if !self.out.is_empty() {
                        Server::send(&self.ep, c, &self.out)?;
                        self.out.clear();
                    }
                    if served.close || c.input.len() > http::MAX_HEAD + 1024 {
                        c.close_after = true;
                        if c.sent == c.pending.len() {
                            return Ok(After::Close);
                        }
                    }
                }
            }
            if n < self.buf.len() {
                return Ok(After::Keep);
            }
        }
    }

    fn on_event(&mut self, fd: RawFd, events: u32) -> io::Result<After> {
        let Some(Some(c)) = self.conns.get_mut(fd as usize) else {
            return Ok(After::Keep);
        };
        if events & (libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 && c.want_write {
            let was_blocked = c.sent < c.pending.len();
            Server::flush(&self.ep, c)?;
            if c.sent == c.pending.len() {
                if c.close_after {
                    return Ok(After::Close);
                }
                if was_blocked {
                    // Reading stopped while output was stuck; the edge is gone.
                    return self.on_readable(fd);
                }
            }
        }
        if events & (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
            return self.on_readable(fd);
        }
        Ok(After::Keep)
    }

    fn accept_all(&mut self, listener: RawFd) {
        loop {
            let fd = match epoll::accept(listener) {
                Ok(Some(fd)) => fd,
                Ok(None) => return,
                Err(e) => {
                    eprintln!("weft-bench server: {e}");
                    return;
                }
            };
            let raw = fd.as_raw_fd();
            if let Err(e) =
                epoll::set_nodelay(raw).and_then(|()| self.ep.add(raw, READ, raw as u64))
            {
                eprintln!("weft-bench server: {e}");
                continue;
            }
            let i = raw as usize;
            if self.conns.len() <= i {
                self.conns.resize_with(i + 1, || None);
            }
            self.conns[i] = Some(Conn {
                fd,
                input: Vec::new(),
                pending: Vec::new(),
                sent: 0,
                want_write: false,
                close_after: false,
            });
        }
    }
}

/// Serve forever on the calling thread.
pub(crate) fn serve(listener: TcpListener, proto: Proto) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut s = Server {
        ep: Epoll::new()?,
        proto,
        conns: Vec::new(),
        buf: vec![0u8; 4096],
        out: Vec::with_capacity(4096),
    };
    s.ep.add(listener.as_raw_fd(), READ, LISTENER)?;
    let mut events = vec![epoll::NO_EVENT; 256];
    loop {
        let n = s.ep.wait(&mut events, -1)?;
        for ev in &events[..n] {
            let (token, bits) = (ev.u64, ev.events);
            if token == LISTENER {
                s.accept_all(listener.as_raw_fd());
                continue;
            }
            let fd = token as RawFd;
            let after = s.on_event(fd, bits).unwrap_or_else(|e| {
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ) {
                    eprintln!("weft-bench server: a connection failed: {e}");
                }
                After::Close
            });
            if after == After::Close {
                // Closing the descriptor also takes it out of the epoll set.
                if let Some(slot) = s.conns.get_mut(fd as usize) {
                    *slot = None;
                }
            }
        }
    }
}
