//! Scenario 7: a signal at 1 kHz, installed without `SA_RESTART`, hits the
//! runtime thread during `sleep(1 s)` and while it parks with no timer
//! (waiting on a socket): the poller's `EINTR` is retried with the time
//! left, so the sleep lasts 1 s ± 5 ms and the park ends when the data
//! comes, not before and not much after.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::util::{self, figure, test_name};

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, SeqCst);
}

fn install_handler() {
    // SAFETY: the handler only touches an atomic (async-signal-safe); the
    // sigaction struct is zeroed then filled, with an empty mask and no
    // SA_RESTART on purpose. This process runs only this test.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
}

/// Signal thread `target` at 1 kHz until the returned flag is set; join
/// the handle before `target` exits.
fn storm(target: libc::pthread_t) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        while !s.load(SeqCst) {
            // SAFETY: `target` is the test thread, which joins this thread
            // before it returns, so the id names a live thread.
            unsafe {
                libc::pthread_kill(target, libc::SIGUSR1);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    (stop, h)
}

fn off_by(d: Duration, want: Duration) -> Duration {
    if d > want {
        d - want
    } else {
        want - d
    }
}

#[test]
fn s07_signals_at_1khz_during_sleep_and_park() {
    let name = test_name!(s07_signals_at_1khz_during_sleep_and_park);
    util::isolated(name, Duration::from_secs(30), || {
        install_handler();
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        let rt = util::rt();
        let (stop, storm) = storm(me);
        let (sleep_off, park_off, park_late, sigs) = rt.block_on(async {
            weft::time::sleep(Duration::from_millis(20)).await;
            // A sleep.
            let s0 = SIGNALS.load(SeqCst);
            let (t0, q0) = (Instant::now(), util::run_delay());
            weft::time::sleep(Duration::from_secs(1)).await;
            let slept = t0.elapsed();
            // Lateness the OS caused (the thread waiting for a CPU) is not
            // the runtime's.
            let queued = util::run_delay() - q0;
            let sigs = SIGNALS.load(SeqCst) - s0;
            // A park with no timer: wait on a socket fed after 1 s.
            let sock = weft::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = sock.local_addr().unwrap();
            let t1 = Instant::now();
            let feeder = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(1));
                let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let sent = Instant::now();
                s.send_to(b"wake", addr).unwrap();
                sent
            });
            let mut b = [0u8; 8];
            let n = sock.recv(&mut b).await.unwrap();
            let got = Instant::now();
            let sent = feeder.join().unwrap();
            assert_eq!(&b[..n], b"wake");
            (
                off_by(
                    slept
                        .saturating_sub(queued)
                        .max(Duration::from_secs(1).min(slept)),
                    Duration::from_secs(1),
                ),
                off_by(got - t1, Duration::from_secs(1)),
                got.saturating_duration_since(sent),
                sigs,
            )
        });
        stop.store(true, SeqCst);
        storm.join().unwrap();
        drop(rt);
        figure!(
            name,
            "{sigs} signals during the 1 s sleep; sleep off by {sleep_off:.2?} (less time queued for a CPU); park off by {park_off:.2?} (woke {park_late:.2?} after the send)"
        );
        assert!(sigs >= 300, "the storm did not reach the thread: {sigs}");
        assert!(
            sleep_off <= Duration::from_millis(5),
            "sleep off by {sleep_off:?}"
        );
        assert!(
            park_off <= Duration::from_millis(5),
            "park off by {park_off:?}"
        );
    });
}
