//! The poller contract, below the driver: event flags, tokens, the wakeup, one-shot directions.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::Duration;

use super::support::*;
use crate::reactor::backend::{Event, Events, Poller, EVENTS_CAPACITY};
use crate::reactor::{Interest, IoBackend};

fn wait_for(poller: &Poller, events: &mut Events, token: u64) -> Option<Event> {
    for _ in 0..50 {
        poller
            .wait(events, Some(Duration::from_millis(20)))
            .unwrap();
        if let Some(ev) = events.iter().find(|e| e.token() == token) {
            return Some(*ev);
        }
    }
    None
}

fn each_poller(mut f: impl FnMut(IoBackend, Poller)) {
    let _guard = serial();
    for backend in BACKENDS {
        for wakeup in wakeup_kinds() {
            let poller = Poller::new(backend, wakeup).unwrap();
            assert_eq!(poller.backend(), backend);
            assert_eq!(poller.wakeup().kind(), wakeup);
            f(backend, poller);
        }
    }
}

#[test]
fn events_carry_token_and_flags() {
    each_poller(|backend, poller| {
        let mut events = Events::with_capacity(EVENTS_CAPACITY);
        let (a, mut b) = pair();
        let fd = a.as_raw_fd();
        poller.register(fd, 42, Interest::BOTH).unwrap();
        poller.arm(fd, 42, Interest::BOTH).unwrap();
        let ev = wait_for(&poller, &mut events, 42).expect("writable");
        assert!(ev.is_writable(), "{backend:?}: {ev:?}");
        assert!(!ev.is_readable() && !ev.is_error(), "{backend:?}: {ev:?}");

        b.write_all(b"x").unwrap();
        poller.arm(fd, 42, Interest::READABLE).unwrap();
        let ev = wait_for(&poller, &mut events, 42).expect("readable");
        assert!(ev.is_readable(), "{backend:?}: {ev:?}");

        drop(b);
        poller.arm(fd, 42, Interest::BOTH).unwrap();
        let ev = wait_for(&poller, &mut events, 42).expect("hang-up");
        assert!(ev.is_read_closed(), "{backend:?}: {ev:?}");
        assert!(ev.is_write_closed(), "{backend:?}: {ev:?}");
        poller.deregister(fd, 42).unwrap();
        assert!(poller.deregister(fd, 42).is_err());
    });
}

#[test]
fn poll_backend_drops_a_reported_direction_until_armed() {
    each_poller(|backend, poller| {
        let mut events = Events::with_capacity(EVENTS_CAPACITY);
        let (a, mut b) = pair();
        let fd = a.as_raw_fd();
        poller.register(fd, 7, Interest::BOTH).unwrap();
        poller.arm(fd, 7, Interest::READABLE).unwrap();
        b.write_all(b"level").unwrap();
        assert!(wait_for(&poller, &mut events, 7).is_some(), "{backend:?}");
        // The data is never read; the level stays high. No second report either way.
        for _ in 0..3 {
            poller
                .wait(&mut events, Some(Duration::from_millis(5)))
                .unwrap();
            assert_eq!(events.iter().filter(|e| e.token() == 7).count(), 0);
        }
        if backend == IoBackend::Poll {
            // Re-arming reports the level again (nothing is lost).
            poller.arm(fd, 7, Interest::READABLE).unwrap();
            let ev = wait_for(&poller, &mut events, 7).expect("re-armed level");
            assert!(ev.is_readable());
            // A wrong token is refused.
            assert!(poller.arm(fd, 8, Interest::READABLE).is_err());
            assert!(poller.deregister(fd, 8).is_err());
        }
        poller.deregister(fd, 7).unwrap();
    });
}

#[test]
fn wake_ends_a_wait_and_is_drained() {
    each_poller(|backend, poller| {
        let mut events = Events::with_capacity(EVENTS_CAPACITY);
        poller.wake().unwrap();
        poller
            .wait(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        assert!(events.woken(), "{backend:?}");
        assert_eq!(events.len(), 0);
        // Drained: the next wait times out.
        poller
            .wait(&mut events, Some(Duration::from_millis(5)))
            .unwrap();
        assert!(!events.woken(), "{backend:?}: wakeup not drained");
    });
}
