//! The driver, registrations and both backends, driven by hand.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use super::support::*;
use crate::reactor::wakeup::WakeupKind;
use crate::reactor::{msg, ready::Ready, Direction, Driver, Interest, IoBackend};

#[test]
fn read_readiness_wakes_the_reader() {
    for_each_backend(|backend, driver, handle| {
        let (a, mut b) = pair();
        let reg = register(handle, &a);
        let (count, waker) = counter();
        assert_eq!(read_until_pending(&reg, &a, &waker), 0);
        settle(driver, handle, Duration::from_millis(20));
        assert_eq!(count.count(), 0, "{backend:?}: woken with nothing to read");

        b.write_all(b"hello").unwrap();
        assert!(
            park_until(driver, handle, || count.count() > 0),
            "{backend:?}"
        );
        assert_eq!(count.count(), 1, "{backend:?}");
        assert!(matches!(poll_read(&reg, &a, &waker), Poll::Ready(Ok(5))));
    });
}

#[test]
fn write_readiness_wakes_the_writer() {
    for_each_backend(|backend, driver, handle| {
        let (a, b) = pair();
        let reg = register(handle, &a);
        let (count, waker) = counter();
        assert!(write_until_pending(&reg, &a, &waker) > 0);
        settle(driver, handle, Duration::from_millis(20));
        assert_eq!(count.count(), 0, "{backend:?}: woken with a full buffer");

        assert!(drain(&b) > 0);
        assert!(
            park_until(driver, handle, || count.count() > 0),
            "{backend:?}"
        );
        assert_eq!(count.count(), 1, "{backend:?}");
        assert!(matches!(poll_write(&reg, &a, &waker), Poll::Ready(Ok(_))));
    });
}

#[test]
fn reader_and_writer_are_woken_separately() {
    for_each_backend(|backend, driver, handle| {
        let (a, mut b) = pair();
        let reg = register(handle, &a);
        let (reader, reader_waker) = counter();
        let (writer, writer_waker) = counter();
        read_until_pending(&reg, &a, &reader_waker);
        write_until_pending(&reg, &a, &writer_waker);

        // Data arrives: only the reader.
        b.write_all(b"x").unwrap();
        assert!(
            park_until(driver, handle, || reader.count() > 0),
            "{backend:?}"
        );
        settle(driver, handle, Duration::from_millis(20));
        assert_eq!((reader.count(), writer.count()), (1, 0), "{backend:?}");

        // Buffer space appears: only the writer.
        assert!(drain(&b) > 0);
        assert!(
            park_until(driver, handle, || writer.count() > 0),
            "{backend:?}"
        );
        settle(driver, handle, Duration::from_millis(20));
        assert_eq!((reader.count(), writer.count()), (1, 1), "{backend:?}");
    });
}

#[test]
fn a_direction_is_reported_once_per_edge() {
    for_each_backend(|backend, driver, handle| {
        let (a, mut b) = pair();
        let reg = register(handle, &a);
        let (count, waker) = counter();
        read_until_pending(&reg, &a, &waker);
        b.write_all(b"abc").unwrap();
        assert!(
            park_until(driver, handle, || count.count() > 0),
            "{backend:?}"
        );

        // The data stays unread: the level is still high, but no further event may come for
        // this source (epoll: no new edge; poll(2): the direction was dropped until re-armed).
        for _ in 0..5 {
            driver.park(handle, Some(Duration::from_millis(5))).unwrap();
            let mine = driver
                .events()
                .iter()
                .filter(|e| e.token() == reg.token())
                .count();
            assert_eq!(mine, 0, "{backend:?}: level reported again");
        }
        // The cached readiness still says readable, so the task would try the read.
        assert!(reg.scheduled_io().ready().is_readable());

        // Consume, wait again: no wake without a new event ...
        assert_eq!(read_until_pending(&reg, &a, &waker), 3);
        settle(driver, handle, Duration::from_millis(20));
        assert_eq!(count.count(), 1, "{backend:?}: woken without a new event");
        // ... and exactly one with one.
        b.write_all(b"d").unwrap();
        assert!(
            park_until(driver, handle, || count.count() > 1),
            "{backend:?}"
        );
        settle(driver, handle, Duration::from_millis(20));
        assert_eq!(count.count(), 2, "{backend:?}");
    });
}

#[test]
fn event_between_wouldblock_and_clear_is_not_lost() {
    for_each_backend(|backend, driver, handle| {
        let (mut a, mut b) = pair();
        let reg = register(handle, &a);
        let (count, waker) = counter();
        let mut cx = Context::from_waker(&waker);

        // The task sees "maybe ready", tries the read, and it would block ...
        let ev = match reg.poll_ready(&mut cx, Direction::Read) {
            Poll::Ready(Ok(ev)) => ev,
            other => panic!("{backend:?}: a new source must start ready, got {other:?}"),
        };
        let mut buf = [0u8; 16];
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        // ... then, before it clears the readiness, data arrives and the driver dispatches.
        b.write_all(b"late").unwrap();
        driver
            .park(handle, Some(Duration::from_millis(50)))
            .unwrap();
        reg.clear_readiness(ev);

        // Either the readiness survived (epoll: the tick changed), or the task waits and is
        // woken (poll(2): nothing was armed, so the event is reported once it is).
        match reg.poll_ready(&mut cx, Direction::Read) {
            Poll::Ready(Ok(_)) => {}
            Poll::Pending => {
                assert_ne!(
                    backend,
                    IoBackend::Epoll,
                    "the tick did not protect the event"
                );
                assert!(
                    park_until(driver, handle, || count.count() > 0),
                    "{backend:?}: lost"
                );
            }
            Poll::Ready(Err(e)) => panic!("{e}"),
        }
        assert_eq!(a.read(&mut buf).unwrap(), 4);
    });
}

#[test]
fn forget_assumed_only_drops_the_initial_assumption() {
    use crate::reactor::scheduled_io::ScheduledIo;
    let (_count, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    // Untouched by any dispatch: the assumed readable goes, writable stays.
    let io = ScheduledIo::new();
    io.forget_assumed(Ready::READABLE);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
    assert!(io.poll_readiness(&mut cx, Direction::Write).is_ready());
    // Once a dispatch stamped a real event, nothing is forgotten: with
    // edge-triggered epoll that event would not come again.
    let io = ScheduledIo::new();
    io.set_readiness(1, Ready::READABLE);
    io.forget_assumed(Ready::READABLE | Ready::WRITABLE);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_ready());
    assert!(io.poll_readiness(&mut cx, Direction::Write).is_ready());
}

#[test]
fn tick_guards_clear_readiness() {
    // The race above, at the ScheduledIo level, deterministically.
    let io = crate::reactor::scheduled_io::ScheduledIo::new();
    let (count, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    io.set_readiness(1, Ready::READABLE);
    let Poll::Ready(Ok(ev)) = io.poll_readiness(&mut cx, Direction::Read) else {
        panic!("readable");
    };
    io.set_readiness(2, Ready::READABLE); // the event in the window
    io.clear_readiness(ev);
    assert!(io.ready().is_readable(), "a newer event was cleared");
    let Poll::Ready(Ok(ev2)) = io.poll_readiness(&mut cx, Direction::Read) else {
        panic!("readable");
    };
    io.clear_readiness(ev2);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
    // Closed flags are final: EOF stays readable through clears.
    io.set_readiness(3, Ready::READ_CLOSED);
    let Poll::Ready(Ok(ev3)) = io.poll_readiness(&mut cx, Direction::Read) else {
        panic!("read closed");
    };
    io.clear_readiness(ev3);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_ready());
    assert!(io.poll_readiness(&mut cx, Direction::Write).is_ready()); // still maybe-writable
    assert_eq!(count.count(), 0);
}

#[test]
fn reused_fd_never_gets_the_old_sources_events() {
    for_each_backend(|backend, driver, handle| {
        let (a, mut b) = pair();
        let old_fd = a.as_raw_fd();
        let reg_a = register(handle, &a);
        let (_, waker_a) = counter();
        read_until_pending(&reg_a, &a, &waker_a);
        b.write_all(b"for a").unwrap();
        // Fetch A's event but do not dispatch it yet.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            driver.poll_events(Some(Duration::from_millis(20))).unwrap();
            if driver.events().iter().any(|e| e.token() == reg_a.token()) {
                break;
            }
            assert!(Instant::now() < deadline, "{backend:?}: no event for A");
        }
        let token_a = reg_a.token();
        drop(reg_a);
        drop(a);
        drop(b);

        // A new source, most likely on the same fd number, takes A's slot.
        let (c, _d) = pair();
        let reg_c = register(handle, &c);
        assert_eq!(
            reg_c.token() & 0xffff_ffff,
            token_a & 0xffff_ffff,
            "slot reused"
        );
        assert_ne!(reg_c.token(), token_a, "new generation");
        let _ = old_fd == c.as_raw_fd(); // usually true; the token check does not rely on it
        let (count_c, waker_c) = counter();
        read_until_pending(&reg_c, &c, &waker_c);

        // Dispatch A's stale event: it must not touch C.
        driver.dispatch();
        assert_eq!(count_c.count(), 0, "{backend:?}: C got A's event");
        assert!(!reg_c.scheduled_io().ready().is_readable(), "{backend:?}");
        settle(driver, handle, Duration::from_millis(20));
        assert_eq!(count_c.count(), 0, "{backend:?}");
    });
}

#[test]
fn unpark_from_another_thread_while_parked() {
    let _guard = serial();
    for backend in BACKENDS {
        for wakeup in wakeup_kinds() {
            let (mut driver, handle) = Driver::with_wakeup(backend, wakeup).unwrap();
            let what = format!("{backend:?}/{wakeup:?}");
            let start = Instant::now();
            thread::scope(|s| {
                let h = handle.clone();
                s.spawn(move || {
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while !h.is_parked() && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(1));
                    }
                    h.unpark();
                });
                driver.park(&handle, Some(Duration::from_secs(10))).unwrap();
            });
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{what}: not woken"
            );
            assert_eq!(handle.wakeup_writes(), 1, "{what}");

            // While the driver runs, unparks cost no system call ...
            for _ in 0..3 {
                handle.unpark();
            }
            assert_eq!(handle.wakeup_writes(), 1, "{what}: wrote while not parked");
            // ... and the next park does not block.
            let t = Instant::now();
            driver.park(&handle, Some(Duration::from_secs(5))).unwrap();
            assert!(
                t.elapsed() < Duration::from_secs(1),
                "{what}: notification lost"
            );
            assert_eq!(handle.wakeup_writes(), 1, "{what}");
            // The notification was consumed: this park waits its full timeout.
            let t = Instant::now();
            driver
                .park(&handle, Some(Duration::from_millis(20)))
                .unwrap();
            assert!(t.elapsed() >= Duration::from_millis(20), "{what}");
        }
    }
}

#[test]
fn arm_from_another_thread_during_a_wait_is_seen() {
    for_each_backend(|backend, driver, handle| {
        let (a, mut b) = pair();
        let reg = register(handle, &a);
        let (count, waker) = counter();
        // Not ready, and (poll(2)) nothing armed.
        assert!(reg
            .try_io(Direction::Read, || (&a).read(&mut [0u8; 8]))
            .is_err());
        assert!(!reg.scheduled_io().ready().is_readable());

        let start = Instant::now();
        thread::scope(|s| {
            let h = handle.clone();
            let reg = &reg;
            let waker = waker.clone();
            s.spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(5);
                while !h.is_parked() && Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(1));
                }
                let mut cx = Context::from_waker(&waker);
                assert!(reg.poll_ready(&mut cx, Direction::Read).is_pending());
                b.write_all(b"!").unwrap();
            });
            let deadline = Instant::now() + Duration::from_secs(5);
            while count.count() == 0 && Instant::now() < deadline {
                // A long timeout: only the arm's wakeup can end the first wait in time.
                driver.park(handle, Some(Duration::from_secs(3))).unwrap();
            }
        });
        assert_eq!(count.count(), 1, "{backend:?}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{backend:?}: the wait did not see the new interest"
        );
    });
}

#[test]
fn read_closed_stays_ready() {
    for_each_backend(|backend, driver, handle| {
        let (a, b) = pair();
        let reg = register(handle, &a);
        let (count, waker) = counter();
        read_until_pending(&reg, &a, &waker);
        drop(b);
        assert!(
            park_until(driver, handle, || count.count() > 0),
            "{backend:?}"
        );
        assert!(reg.scheduled_io().ready().is_read_closed(), "{backend:?}");
        for _ in 0..3 {
            assert!(
                matches!(poll_read(&reg, &a, &waker), Poll::Ready(Ok(0))),
                "{backend:?}: EOF must stay readable"
            );
        }
    });
}

#[test]
fn dropped_driver_fails_registrations_instead_of_hanging() {
    let _guard = serial();
    for backend in BACKENDS {
        let (driver, handle) = Driver::new(backend).unwrap();
        let (a, _b) = pair();
        let reg = register(&handle, &a);
        let (count, waker) = counter();
        read_until_pending(&reg, &a, &waker);
        drop(driver);
        assert_eq!(count.count(), 1, "{backend:?}: waiting task not woken");
        let mut cx = Context::from_waker(&waker);
        match reg.poll_ready(&mut cx, Direction::Read) {
            Poll::Ready(Err(e)) => assert_eq!(e.to_string(), msg::SHUT_DOWN),
            other => panic!("{backend:?}: {other:?}"),
        }
        let err = handle.register(a.as_raw_fd(), Interest::BOTH).unwrap_err();
        assert_eq!(err.to_string(), msg::SHUT_DOWN);
        drop(reg);
    }
}

#[test]
fn deregister_checks_fd_and_is_idempotent() {
    for_each_backend(|backend, _driver, handle| {
        let (a, b) = pair();
        let mut reg = register(handle, &a);
        assert_eq!(handle.source_count(), 1);
        let err = reg.deregister(b.as_raw_fd()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{backend:?}");
        reg.deregister(a.as_raw_fd()).unwrap();
        reg.deregister(a.as_raw_fd()).unwrap();
        assert_eq!(handle.source_count(), 0);
        let (_, waker) = counter();
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(
            reg.poll_ready(&mut cx, Direction::Read),
            Poll::Ready(Err(_))
        ));
        // The fd can be registered again. Registering it twice: epoll refuses, naming the
        // fd; poll(2) cannot tell that from a number closed behind its back and reused (see
        // `tests/tcp_fd_reuse.rs`), so the newer registration takes the number over.
        let _reg2 = register(handle, &a);
        match backend {
            IoBackend::Epoll => {
                let err = handle.register(a.as_raw_fd(), Interest::BOTH).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{backend:?}");
                assert!(
                    err.to_string().contains(&format!("fd {}", a.as_raw_fd())),
                    "{backend:?}: {err}"
                );
                assert_eq!(handle.source_count(), 1);
            }
            _ => {
                let _reg3 = handle.register(a.as_raw_fd(), Interest::BOTH).unwrap();
            }
        }
    });
}

#[test]
fn nine_thousand_sockets() {
    const PAIRS: usize = 4500;
    for_each_backend(|backend, driver, handle| {
        let pairs: Vec<_> = (0..PAIRS).map(|_| pair()).collect();
        let regs: Vec<_> = pairs
            .iter()
            .map(|(a, b)| (register(handle, a), register(handle, b)))
            .collect();
        assert_eq!(handle.source_count(), 2 * PAIRS);
        let counters: Vec<_> = pairs
            .iter()
            .zip(&regs)
            .map(|((a, _), (ra, _))| {
                let (c, w) = counter();
                assert_eq!(read_until_pending(ra, a, &w), 0);
                c
            })
            .collect();
        for (_, b) in &pairs {
            (&*b).write_all(b"!").unwrap();
        }
        let done = park_until(driver, handle, || counters.iter().all(|c| c.count() > 0));
        let woken = counters.iter().filter(|c| c.count() == 1).count();
        assert!(done, "{backend:?}: only {woken} of {PAIRS} woken");
        assert_eq!(woken, PAIRS, "{backend:?}: some woken twice");
        drop(regs);
        assert_eq!(handle.source_count(), 0);
    });
}

#[test]
fn poll_timeout_never_returns_early() {
    for_each_backend(|backend, driver, handle| {
        for _ in 0..10 {
            let t = Instant::now();
            driver
                .park(handle, Some(Duration::from_micros(1500)))
                .unwrap();
            let waited = t.elapsed();
            assert!(
                waited >= Duration::from_micros(1500),
                "{backend:?}: returned after {waited:?}"
            );
        }
        // Zero means "just poll".
        let t = Instant::now();
        driver.park(handle, Some(Duration::ZERO)).unwrap();
        assert!(t.elapsed() < Duration::from_millis(500), "{backend:?}");
    });
}

#[test]
fn no_descriptor_leaks() {
    let _guard = serial();
    let before = open_fds();
    for _ in 0..16 {
        for backend in BACKENDS {
            for wakeup in wakeup_kinds() {
                let (mut driver, handle) = Driver::with_wakeup(backend, wakeup).unwrap();
                let (a, mut b) = pair();
                let reg = register(&handle, &a);
                let (_, waker) = counter();
                read_until_pending(&reg, &a, &waker);
                b.write_all(b"x").unwrap();
                handle.unpark();
                driver
                    .park(&handle, Some(Duration::from_millis(1)))
                    .unwrap();
                drop(driver);
                drop(reg);
            }
        }
    }
    let after = open_fds();
    // 64 drivers of 2-3 fds each: a leak of even one per driver would show as 64 or more.
    assert!(after < before + 16, "fds before {before}, after {after}");
}

#[test]
fn env_var_selects_the_pipe_wakeup() {
    // Reading the variable is tested without setting it (tests run in parallel threads and
    // setting the environment is racy): the default follows the build.
    let kind = WakeupKind::from_env();
    if cfg!(weft_force_poll) || !cfg!(target_os = "linux") {
        assert_eq!(kind, WakeupKind::Pipe);
    } else if std::env::var_os(crate::reactor::wakeup::WAKEUP_ENV).is_none() {
        assert_eq!(kind, WakeupKind::EventFd);
    }
    if cfg!(weft_force_poll) {
        assert_eq!(IoBackend::default(), IoBackend::Poll);
    }
}
