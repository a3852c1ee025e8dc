//! Scenario 1: out of descriptors during an accept loop. The error reaches
//! the loop, the loop does not spin (CPU over 2 s under 5 %), and accepting
//! resumes once descriptors are freed. The process lowers RLIMIT_NOFILE, so
//! it runs in its own process (as every test of this suite does).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::net::TcpListener;

use crate::util::{self, figure, test_name};

/// The highest descriptor number open now.
fn max_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap()
}

#[test]
fn s01_accept_loop_out_of_descriptors() {
    let name = test_name!(s01_accept_loop_out_of_descriptors);
    util::isolated(name, Duration::from_secs(60), || {
        util::rt().block_on(scenario(name))
    });
}

async fn scenario(name: &str) {
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(Mutex::new(Vec::new()));
    let server = weft::spawn({
        let (l, acc, errs, held) = (
            listener.clone(),
            accepted.clone(),
            errors.clone(),
            held.clone(),
        );
        async move {
            loop {
                match l.accept().await {
                    Ok((s, _)) => {
                        acc.fetch_add(1, SeqCst);
                        held.lock().unwrap().push(s);
                    }
                    Err(e) => {
                        let raw = e.raw_os_error().or_else(|| {
                            std::error::Error::source(&e)
                                .and_then(|s| s.downcast_ref::<std::io::Error>())
                                .and_then(|s| s.raw_os_error())
                        });
                        assert!(matches!(raw, Some(libc::EMFILE | libc::ENFILE)), "{e}");
                        errs.fetch_add(1, SeqCst);
                    }
                }
            }
        }
    });
    // The flood: 40 peers wait in the backlog, and 150 more sockets,
    // created now while descriptors are free, connect one every 10 ms
    // while the loop is out of descriptors.
    let mut peers: Vec<std::net::TcpStream> = (0..40)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let later: Vec<socket2::Socket> = (0..150)
        .map(|_| socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap())
        .collect();
    // Room for 5 more descriptors: fill every free number below the limit,
    // then free 5.
    let old = util::set_nofile(max_fd() + 1);
    let mut fillers = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        fillers.push(f);
    }
    fillers.truncate(fillers.len().saturating_sub(5));
    let flood = std::thread::spawn(move || {
        let mut connected = 0;
        for s in &later {
            if s.connect(&addr.into()).is_ok() {
                connected += 1;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (connected, later)
    });
    weft::time::sleep(Duration::from_millis(200)).await;
    let cpu0 = util::cpu_time();
    let wall0 = Instant::now();
    let errs0 = errors.load(SeqCst);
    weft::time::sleep(Duration::from_secs(2)).await;
    let (cpu, wall) = (util::cpu_time() - cpu0, wall0.elapsed());
    let pct = util::cpu_percent(cpu, wall);
    let errs_in_2s = errors.load(SeqCst) - errs0;
    figure!(
        name,
        "accepted {} at the limit, EMFILE errors {} ({} in the 2 s window), CPU over {wall:.2?}: {cpu:?} = {pct:.2}%",
        accepted.load(SeqCst),
        errors.load(SeqCst),
        errs_in_2s
    );
    assert!(errors.load(SeqCst) >= 1, "the accept loop never saw EMFILE");
    assert!(pct < 5.0, "spinning at the limit: {pct:.2}% CPU");
    // Free descriptors: accepting resumes.
    let (flooded, later) = flood.join().unwrap();
    figure!(
        name,
        "{flooded} flood connects completed while out of descriptors"
    );
    drop(later);
    drop(fillers);
    held.lock().unwrap().clear();
    peers.clear();
    let before = accepted.load(SeqCst);
    let t0 = Instant::now();
    let _c = std::net::TcpStream::connect(addr).unwrap();
    while accepted.load(SeqCst) == before {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "accepting did not resume"
        );
        weft::time::sleep(Duration::from_millis(1)).await;
    }
    figure!(
        name,
        "accepting resumed {:.2?} after descriptors were freed",
        t0.elapsed()
    );
    server.abort();
    let _ = server.await;
    held.lock().unwrap().clear();
    util::set_nofile(old);
}
