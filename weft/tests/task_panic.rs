//! Panics inside tasks: captured into `JoinError`, payload kept, the
//! runtime goes on with the other tasks.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use support::{panic_message, pending_forever, watchdog, yield_n, Counters, Track};

#[derive(Debug, PartialEq)]
struct Custom(u32);

#[test]
fn panic_is_captured_with_its_str_payload() {
    let _w = watchdog("panic_is_captured_with_its_str_payload", 20);
    weft::block_on(async {
        let h = weft::spawn(async {
            panic!("boom");
        });
        let id = h.id();
        let e = h.await.unwrap_err();
        assert!(e.is_panic());
        assert!(!e.is_cancelled());
        assert_eq!(e.id(), id);
        let text = e.to_string();
        assert!(text.contains("panicked"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert!(text.contains(&id.to_string()), "{text}");
        let dbg = format!("{e:?}");
        assert!(dbg.contains("boom"), "{dbg}");
        let payload = e.into_panic();
        assert_eq!(*payload.downcast_ref::<&'static str>().unwrap(), "boom");
    });
}

#[test]
fn panic_with_a_formatted_message_keeps_the_string() {
    let _w = watchdog("panic_with_a_formatted_message_keeps_the_string", 20);
    weft::block_on(async {
        let e = weft::spawn(async {
            weft::task::yield_now().await;
            let n = 42;
            panic!("bad value {n}");
        })
        .await
        .unwrap_err();
        assert!(e.to_string().contains("bad value 42"), "{e}");
        let payload = e.into_panic();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "bad value 42");
    });
}

#[test]
fn panic_with_a_custom_payload() {
    let _w = watchdog("panic_with_a_custom_payload", 20);
    weft::block_on(async {
        let e = weft::spawn(async { std::panic::panic_any(Custom(7)) })
            .await
            .unwrap_err();
        assert!(e.is_panic());
        // No message to show, but the text still says what happened.
        assert!(e.to_string().contains("panicked"), "{e}");
        let payload = e.try_into_panic().unwrap();
        assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(7)));
    });
}

#[test]
fn into_panic_can_resume_the_panic() {
    let _w = watchdog("into_panic_can_resume_the_panic", 20);
    let caught = std::panic::catch_unwind(|| {
        weft::block_on(async {
            let e = weft::spawn(async { panic!("resume me") })
                .await
                .unwrap_err();
            std::panic::resume_unwind(e.into_panic());
        })
    })
    .unwrap_err();
    assert_eq!(panic_message(&*caught).as_deref(), Some("resume me"));
}

#[test]
#[should_panic(expected = "did not panic")]
fn into_panic_on_a_cancelled_task_panics() {
    let _w = watchdog("into_panic_on_a_cancelled_task_panics", 20);
    let e = weft::block_on(async {
        let h = weft::spawn(pending_forever());
        h.abort();
        h.await.unwrap_err()
    });
    let _ = e.into_panic();
}

#[test]
fn try_into_panic_on_a_cancelled_task_gives_the_error_back() {
    let _w = watchdog(
        "try_into_panic_on_a_cancelled_task_gives_the_error_back",
        20,
    );
    weft::block_on(async {
        let h = weft::spawn(pending_forever());
        let id = h.id();
        h.abort();
        let e = h.await.unwrap_err().try_into_panic().unwrap_err();
        assert!(e.is_cancelled());
        assert_eq!(e.id(), id);
    });
}

#[test]
fn join_error_converts_into_io_error() {
    let _w = watchdog("join_error_converts_into_io_error", 20);
    weft::block_on(async {
        let e = weft::spawn(async { panic!("io boom") }).await.unwrap_err();
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
        assert!(io.to_string().contains("io boom"), "{io}");
    });
}

#[test]
fn runtime_keeps_running_other_tasks_after_panics() {
    let _w = watchdog("runtime_keeps_running_other_tasks_after_panics", 20);
    let c = Counters::new();
    let finished = Arc::new(AtomicUsize::new(0));
    weft::block_on({
        let (c, finished) = (c.clone(), finished.clone());
        async move {
            let hs: Vec<_> = (0..20usize)
                .map(|i| {
                    let finished = finished.clone();
                    weft::spawn(Track::new(
                        async move {
                            yield_n(i % 4).await;
                            if i % 2 == 0 {
                                panic!("task {i} fails");
                            }
                            finished.fetch_add(1, SeqCst);
                            i
                        },
                        &c,
                    ))
                })
                .collect();
            for (i, h) in hs.into_iter().enumerate() {
                match h.await {
                    Ok(v) => assert_eq!(v, i),
                    Err(e) => {
                        assert_eq!(i % 2, 0);
                        assert!(e.to_string().contains(&format!("task {i} fails")), "{e}");
                    }
                }
            }
            // And the runtime still spawns and runs new work.
            assert_eq!(weft::spawn(async { 1 }).await.unwrap(), 1);
        }
    });
    assert_eq!(finished.load(SeqCst), 10);
    assert_eq!(c.drops(), 20);
}

#[test]
fn detached_task_panics_and_the_runtime_goes_on() {
    let _w = watchdog("detached_task_panics_and_the_runtime_goes_on", 20);
    let c = Counters::new();
    let v = weft::block_on({
        let c = c.clone();
        async move {
            drop(weft::spawn(Track::new(
                async {
                    weft::task::yield_now().await;
                    panic!("nobody listens")
                },
                &c,
            )));
            yield_n(5).await;
            weft::spawn(async { 9 }).await.unwrap()
        }
    });
    assert_eq!(v, 9);
    assert_eq!(c.polls(), 2);
    assert_eq!(c.drops(), 1);
}

struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

#[test]
fn panic_in_the_future_destructor_after_completion_is_captured() {
    let _w = watchdog(
        "panic_in_the_future_destructor_after_completion_is_captured",
        20,
    );
    weft::block_on(async {
        // A captured value lives in the future until the task drops it.
        let bomb = PanicOnDrop("drop of captured state");
        let h = weft::spawn(async move {
            let _keep = &bomb;
            weft::task::yield_now().await;
            2
        });
        let e = h.await.unwrap_err();
        assert!(e.is_panic(), "{e:?}");
        assert!(e.to_string().contains("drop of captured state"), "{e}");
    });
}

#[test]
fn panic_in_the_future_destructor_on_abort_is_captured() {
    let _w = watchdog("panic_in_the_future_destructor_on_abort_is_captured", 20);
    weft::block_on(async {
        let bomb = PanicOnDrop("drop on abort");
        let h = weft::spawn(async move {
            let _keep = &bomb;
            pending_forever().await
        });
        yield_n(2).await;
        h.abort();
        let e = h.await.unwrap_err();
        assert!(e.is_panic(), "the destructor's panic wins: {e:?}");
        assert!(e.to_string().contains("drop on abort"), "{e}");
        // The runtime is fine.
        assert_eq!(weft::spawn(async { 3 }).await.unwrap(), 3);
    });
}

#[test]
fn panic_in_a_destructor_during_shutdown_does_not_stop_it() {
    let _w = watchdog("panic_in_a_destructor_during_shutdown_does_not_stop_it", 20);
    let c = Counters::new();
    let rt = weft::Runtime::new().unwrap();
    rt.block_on({
        let c = c.clone();
        async move {
            for i in 0..10 {
                let bomb = PanicOnDrop("drop at shutdown");
                weft::spawn(Track::new(
                    async move {
                        let _keep = if i % 3 == 0 { Some(&bomb) } else { None };
                        pending_forever().await
                    },
                    &c,
                ));
            }
            yield_n(2).await;
        }
    });
    drop(rt);
    assert_eq!(c.drops(), 10, "every task dropped despite the panics");
}

#[test]
fn panic_in_a_dropped_output_is_contained() {
    let _w = watchdog("panic_in_a_dropped_output_is_contained", 20);
    weft::block_on(async {
        // Detached: the runtime drops the output.
        drop(weft::spawn(async {
            PanicOnDrop("output dropped by runtime")
        }));
        yield_n(3).await;
        // Completed, then the handle drops the output.
        let h = weft::spawn(async { PanicOnDrop("output dropped by handle") });
        yield_n(3).await;
        assert!(h.is_finished());
        drop(h);
        assert_eq!(weft::spawn(async { 4 }).await.unwrap(), 4);
    });
}
