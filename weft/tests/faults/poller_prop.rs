//! The poller against a model: random sequences of register (wrap a
//! socket), modify (wait for the other direction), deregister (`into_std`),
//! re-register, close, and reuse of the closed numbers, on sockets of every
//! kind, checked after each step against what the model says is readable.
//! The poller is crate-private, so this goes through the public sockets.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use proptest::prelude::*;
use weft::net::{TcpStream, UdpSocket, UnixStream};

use crate::util::{self, figure, test_name};

const SLOTS: usize = 4;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Tcp,
    Udp,
    Unix,
}

#[derive(Debug, Clone)]
enum Op {
    /// Close what the slot holds (if anything) and open a new source: the
    /// kernel hands out the lowest free numbers, so this reuses them.
    Open(usize, Kind),
    PeerWrite(usize, usize),
    PeerClose(usize),
    Drain(usize),
    CheckReadable(usize),
    CheckWritable(usize),
    Deregister(usize),
    Reregister(usize),
    Close(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let kind = prop_oneof![Just(Kind::Tcp), Just(Kind::Udp), Just(Kind::Unix)];
    prop_oneof![
        2 => (slot.clone(), kind).prop_map(|(s, k)| Op::Open(s, k)),
        3 => (slot.clone(), 1..200usize).prop_map(|(s, n)| Op::PeerWrite(s, n)),
        1 => slot.clone().prop_map(Op::PeerClose),
        2 => slot.clone().prop_map(Op::Drain),
        4 => slot.clone().prop_map(Op::CheckReadable),
        1 => slot.clone().prop_map(Op::CheckWritable),
        1 => slot.clone().prop_map(Op::Deregister),
        1 => slot.clone().prop_map(Op::Reregister),
        1 => slot.prop_map(Op::Close),
    ]
}

enum Ours {
    Tcp(TcpStream),
    Udp(UdpSocket),
    Unix(UnixStream),
    /// Deregistered: the std socket, still open.
    StdTcp(std::net::TcpStream),
    StdUdp(std::net::UdpSocket),
    StdUnix(std::os::unix::net::UnixStream),
}

enum Peer {
    Tcp(std::net::TcpStream),
    Udp(std::net::UdpSocket),
    Unix(std::os::unix::net::UnixStream),
}

struct Slot {
    kind: Kind,
    ours: Ours,
    peer: Option<Peer>,
    /// Bytes (streams) or datagrams (UDP) the peer sent and we did not read.
    pending: usize,
    peer_closed: bool,
}

impl Slot {
    fn kind_is_udp(&self) -> bool {
        matches!(self.kind, Kind::Udp)
    }

    fn readable_expected(&self) -> bool {
        self.pending > 0 || (self.peer_closed && !matches!(self.kind, Kind::Udp))
    }
}

async fn open(kind: Kind) -> Slot {
    let (ours, peer) = match kind {
        Kind::Tcp => {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
            let (a, _) = l.accept().unwrap();
            (Ours::Tcp(TcpStream::from_std(c).unwrap()), Peer::Tcp(a))
        }
        Kind::Udp => {
            let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            a.connect(b.local_addr().unwrap()).unwrap();
            b.connect(a.local_addr().unwrap()).unwrap();
            (Ours::Udp(UdpSocket::from_std(a).unwrap()), Peer::Udp(b))
        }
        Kind::Unix => {
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            (Ours::Unix(UnixStream::from_std(a).unwrap()), Peer::Unix(b))
        }
    };
    Slot {
        kind,
        ours,
        peer: Some(peer),
        pending: 0,
        peer_closed: false,
    }
}

/// Read everything available without waiting; the count of bytes (or
/// datagrams) and whether EOF was seen.
fn drain(ours: &mut Ours) -> (usize, bool) {
    let mut buf = [0u8; 512];
    let mut total = 0;
    loop {
        let r = match ours {
            Ours::Tcp(s) => s.try_read(&mut buf),
            Ours::Unix(s) => s.try_read(&mut buf),
            Ours::Udp(s) => s.try_recv(&mut buf).map(|_| 1),
            Ours::StdTcp(s) => s.read(&mut buf),
            Ours::StdUnix(s) => s.read(&mut buf),
            Ours::StdUdp(s) => s.recv(&mut buf).map(|_| 1),
        };
        match r {
            Ok(0) => return (total, true),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return (total, false),
            Err(e) => panic!("drain: {e}"),
        }
    }
}

async fn readable(ours: &Ours, limit: Duration) -> Option<bool> {
    let r = match ours {
        Ours::Tcp(s) => weft::time::timeout(limit, s.readable()).await,
        Ours::Udp(s) => weft::time::timeout(limit, s.readable()).await,
        Ours::Unix(s) => weft::time::timeout(limit, s.readable()).await,
        _ => return None,
    };
    Some(r.is_ok())
}

async fn writable(ours: &Ours, limit: Duration) -> Option<bool> {
    let r = match ours {
        Ours::Tcp(s) => weft::time::timeout(limit, s.writable()).await,
        Ours::Udp(s) => weft::time::timeout(limit, s.writable()).await,
        Ours::Unix(s) => weft::time::timeout(limit, s.writable()).await,
        _ => return None,
    };
    Some(r.is_ok())
}

const READY_LIMIT: Duration = Duration::from_secs(1);
const PENDING_LIMIT: Duration = Duration::from_millis(3);

/// The model says `slot` has nothing to read. weft may report readiness it
/// only assumes (a new source starts readable and writable, so the first
/// try is made): that is allowed once, if a read then finds nothing
/// (`WouldBlock`, no EOF) and a second wait stays pending. Data or EOF that
/// belong to another socket are not.
async fn check_not_readable(
    slot: &mut Slot,
    at: &str,
    spurious: &std::cell::Cell<usize>,
) -> Result<(), String> {
    if readable(&slot.ours, PENDING_LIMIT).await != Some(true) {
        return Ok(());
    }
    spurious.set(spurious.get() + 1);
    let (got, eof) = drain(&mut slot.ours);
    if got > 0 || eof {
        return Err(format!(
            "{at}: read {got} bytes (EOF {eof}); the model says none"
        ));
    }
    if readable(&slot.ours, PENDING_LIMIT).await == Some(true) {
        return Err(format!(
            "{at}: still readable after a read found nothing (a stale readiness)"
        ));
    }
    Ok(())
}

async fn run(ops: Vec<Op>, spurious: &std::cell::Cell<usize>) -> Result<(), String> {
    let mut slots: Vec<Option<Slot>> = (0..SLOTS).map(|_| None).collect();
    for (i, op) in ops.iter().enumerate() {
        let at = format!("step {i} ({op:?})");
        match *op {
            Op::Open(s, kind) => {
                slots[s] = None;
                slots[s] = Some(open(kind).await);
                // A fresh source on a reused number: nothing to read, whatever
                // the old one had.
                let slot = slots[s].as_mut().unwrap();
                check_not_readable(slot, &at, spurious).await?;
            }
            Op::PeerWrite(s, n) => {
                let Some(slot) = slots[s].as_mut() else {
                    continue;
                };
                let data = vec![1u8; n];
                match slot.peer.as_mut() {
                    Some(Peer::Tcp(p)) => p.write_all(&data).map(|_| slot.pending += n),
                    Some(Peer::Unix(p)) => p.write_all(&data).map(|_| slot.pending += n),
                    Some(Peer::Udp(p)) => p.send(&data).map(|_| slot.pending += 1),
                    None => Ok(()),
                }
                .map_err(|e| format!("{at}: peer write: {e}"))?;
            }
            Op::PeerClose(s) => {
                let Some(slot) = slots[s].as_mut() else {
                    continue;
                };
                if slot.peer.take().is_some() {
                    slot.peer_closed = true;
                }
            }
            Op::Drain(s) => {
                let Some(slot) = slots[s].as_mut() else {
                    continue;
                };
                // `try_read` trusts the cached readiness: wait for the
                // event before each round, as a reader would.
                let (mut got, mut eof) = (0, false);
                for _ in 0..100 {
                    if got >= slot.pending && (eof || !slot.peer_closed || slot.kind_is_udp()) {
                        break;
                    }
                    if readable(&slot.ours, READY_LIMIT).await == Some(false) {
                        break;
                    }
                    let (g, e) = drain(&mut slot.ours);
                    got += g;
                    eof |= e;
                    if matches!(
                        slot.ours,
                        Ours::StdTcp(_) | Ours::StdUdp(_) | Ours::StdUnix(_)
                    ) {
                        break;
                    }
                }
                if got != slot.pending {
                    return Err(format!(
                        "{at}: drained {got}, the model says {}",
                        slot.pending
                    ));
                }
                if eof && !slot.peer_closed {
                    return Err(format!("{at}: EOF before the peer closed"));
                }
                slot.pending = 0;
            }
            Op::CheckReadable(s) => {
                let Some(slot) = slots[s].as_mut() else {
                    continue;
                };
                if slot.readable_expected() {
                    if readable(&slot.ours, READY_LIMIT).await == Some(false) {
                        return Err(format!(
                            "{at}: not readable; the model says it is (pending {}, peer closed {})",
                            slot.pending, slot.peer_closed
                        ));
                    }
                } else {
                    check_not_readable(slot, &at, spurious).await?;
                }
            }
            Op::CheckWritable(s) => {
                let Some(slot) = slots[s].as_ref() else {
                    continue;
                };
                if writable(&slot.ours, READY_LIMIT).await == Some(false) {
                    return Err(format!("{at}: an idle socket is not writable"));
                }
            }
            Op::Deregister(s) => {
                let Some(slot) = slots[s].as_mut() else {
                    continue;
                };
                let ours = std::mem::replace(&mut slot.ours, Ours::StdUdp(placeholder()));
                slot.ours = match ours {
                    Ours::Tcp(x) => Ours::StdTcp(x.into_std().map_err(|e| format!("{at}: {e}"))?),
                    Ours::Udp(x) => Ours::StdUdp(x.into_std().map_err(|e| format!("{at}: {e}"))?),
                    Ours::Unix(x) => Ours::StdUnix(x.into_std().map_err(|e| format!("{at}: {e}"))?),
                    other => other,
                };
            }
            Op::Reregister(s) => {
                let Some(slot) = slots[s].as_mut() else {
                    continue;
                };
                let ours = std::mem::replace(&mut slot.ours, Ours::StdUdp(placeholder()));
                slot.ours = match ours {
                    Ours::StdTcp(x) => {
                        Ours::Tcp(TcpStream::from_std(x).map_err(|e| format!("{at}: {e}"))?)
                    }
                    Ours::StdUdp(x) => {
                        Ours::Udp(UdpSocket::from_std(x).map_err(|e| format!("{at}: {e}"))?)
                    }
                    Ours::StdUnix(x) => {
                        Ours::Unix(UnixStream::from_std(x).map_err(|e| format!("{at}: {e}"))?)
                    }
                    other => other,
                };
            }
            Op::Close(s) => slots[s] = None,
        }
    }
    Ok(())
}

/// A throwaway socket to stand in a slot while its source moves.
fn placeholder() -> std::net::UdpSocket {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap()
}

#[test]
fn poller_against_a_model() {
    let name = test_name!(poller_against_a_model);
    util::isolated(name, Duration::from_secs(60), || {
        let mut config = ProptestConfig::with_cases(48);
        config.failure_persistence = None;
        let mut runner = proptest::test_runner::TestRunner::new(config);
        let rt = util::rt();
        let steps = std::cell::Cell::new(0usize);
        let spurious = std::cell::Cell::new(0usize);
        let start = std::time::Instant::now();
        let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
            steps.set(steps.get() + ops.len());
            rt.block_on(run(ops, &spurious))
                .map_err(TestCaseError::fail)
        });
        drop(rt);
        figure!(
            name,
            "48 random sequences, {} steps (with shrinking) in {:.2?}; {} assumed readinesses cleared by one empty read",
            steps.get(),
            start.elapsed(),
            spurious.get()
        );
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}
