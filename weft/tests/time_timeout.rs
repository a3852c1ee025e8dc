//! `timeout` and `timeout_at` on the real runtime: elapsed, completed in
//! time, `Duration::ZERO` with a ready future, `into_inner`, absurd
//! durations, and what happens to the inner future.

mod support;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use support::{pending_forever, watchdog, Counters, Track, WakerSlot};
use weft::time::error::Elapsed;
use weft::time::{sleep, timeout, timeout_at, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused_rt() -> weft::Runtime {
    weft::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn a_pending_future_times_out_no_earlier_than_the_deadline() {
    let _w = watchdog(
        "a_pending_future_times_out_no_earlier_than_the_deadline",
        20,
    );
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let c = Counters::new();
        let start = std::time::Instant::now();
        let res = timeout(ms(20), Track::new(pending_forever(), &c)).await;
        let _: Elapsed = res.unwrap_err();
        assert!(start.elapsed() >= ms(20));
        assert_eq!(
            c.drops(),
            1,
            "the timed-out future is dropped with the Timeout"
        );
    });
}

#[test]
fn a_future_that_completes_in_time_wins() {
    let _w = watchdog("a_future_that_completes_in_time_wins", 20);
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let start = std::time::Instant::now();
        let res = timeout(Duration::from_secs(10), async {
            sleep(ms(5)).await;
            "done"
        })
        .await;
        assert_eq!(res, Ok("done"));
        assert!(start.elapsed() < Duration::from_secs(5));
        // A task's result, through its JoinHandle.
        let h = weft::spawn(async {
            sleep(ms(2)).await;
            7
        });
        assert_eq!(timeout(ms(500), h).await.unwrap().unwrap(), 7);
    });
    // Exactly, on a paused clock.
    paused_rt().block_on(async {
        let start = Instant::now();
        let res = timeout(ms(10), sleep(ms(9))).await;
        assert_eq!(res, Ok(()));
        assert_eq!(Instant::now() - start, ms(9));
        let res = timeout(ms(10), sleep(ms(11))).await;
        assert!(res.is_err());
        assert_eq!(Instant::now() - start, ms(19));
    });
}

#[test]
fn zero_and_past_deadlines_still_poll_the_future_first() {
    let _w = watchdog("zero_and_past_deadlines_still_poll_the_future_first", 20);
    for rt in [weft::Runtime::new().unwrap(), paused_rt()] {
        rt.block_on(async {
            assert_eq!(timeout(Duration::ZERO, async { 42 }).await, Ok(42));
            assert_eq!(timeout(Duration::ZERO, std::future::ready(1)).await, Ok(1));
            let past = Instant::now()
                .checked_sub(ms(10))
                .unwrap_or_else(Instant::now);
            assert_eq!(timeout_at(past, async { 3 }).await, Ok(3));
            // Pending at a passed deadline: elapsed at once, without a wait.
            let start = std::time::Instant::now();
            assert!(timeout(Duration::ZERO, pending_forever()).await.is_err());
            assert!(timeout_at(past, sleep(ms(1))).await.is_err());
            assert!(start.elapsed() < Duration::from_secs(1));
        });
    }
}

#[test]
fn into_inner_gives_back_the_future_after_the_deadline() {
    let _w = watchdog("into_inner_gives_back_the_future_after_the_deadline", 20);
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let slot = WakerSlot::new();
        let mut t = timeout(ms(5), slot.wait());
        let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut t).poll(cx))).await;
        assert!(first.is_pending());
        sleep(ms(10)).await;
        // The deadline passed; take the future back instead of seeing `Elapsed`.
        let mut inner = t.into_inner();
        slot.set_ready();
        (&mut inner).await;

        // `get_ref` and `get_mut` reach the same future.
        let mut t = timeout(Duration::from_secs(1), std::future::ready(5));
        let inner: &std::future::Ready<i32> = t.get_ref();
        assert!(format!("{inner:?}").contains('5'));
        let inner: &mut std::future::Ready<i32> = t.get_mut();
        *inner = std::future::ready(6);
        assert_eq!(t.await, Ok(6));
    });
}

#[test]
fn absurd_timeouts_never_fire_and_never_panic() {
    let _w = watchdog("absurd_timeouts_never_fire_and_never_panic", 20);
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(timeout(Duration::MAX, async { 1 }).await, Ok(1));
        let res = timeout(Duration::MAX, async {
            sleep(ms(2)).await;
            2
        })
        .await;
        assert_eq!(res, Ok(2));
        let h = weft::spawn(timeout(Duration::MAX, pending_forever()));
        sleep(ms(10)).await;
        assert!(!h.is_finished());
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_ten_minute_timeout_takes_microseconds_on_a_paused_clock() {
    let _w = watchdog(
        "a_ten_minute_timeout_takes_microseconds_on_a_paused_clock",
        20,
    );
    let rt = paused_rt();
    let wall = std::time::Instant::now();
    let (res, waited) = rt.block_on(async {
        let start = Instant::now();
        let res = timeout(Duration::from_secs(600), pending_forever()).await;
        (res, Instant::now() - start)
    });
    let wall = wall.elapsed();
    assert!(res.is_err());
    assert_eq!(waited, Duration::from_secs(600));
    assert!(wall < Duration::from_secs(1), "took {wall:?} of wall time");
}

#[test]
fn elapsed_is_an_io_timed_out_error() {
    let rt = paused_rt();
    let err = rt.block_on(timeout(ms(1), pending_forever())).unwrap_err();
    assert_eq!(err.to_string(), "deadline has elapsed");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}
