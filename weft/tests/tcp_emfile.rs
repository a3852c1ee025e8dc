//! Running out of descriptors in an accept loop: the error reaches the
//! caller, the loop does not spin, pending peers are not left hanging, and
//! accepting resumes once descriptors are free. Its own binary, because it
//! lowers RLIMIT_NOFILE for the whole process.

mod net_util;

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use weft::net::TcpListener;

fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass; RUSAGE_SELF is valid.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn set_nofile(soft: u64) -> u64 {
    // SAFETY: get/setrlimit read and write the struct we pass.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl), 0);
        let old = rl.rlim_cur;
        rl.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &rl), 0);
        old
    }
}

/// The highest descriptor number open now.
fn max_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap()
}

#[test]
fn accept_loop_out_of_descriptors_does_not_spin() {
    net_util::each_backend("emfile", Duration::from_secs(60), |backend| async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Peers that connect before the limit drops: their connections wait
        // in the backlog.
        let mut peers: Vec<std::net::TcpStream> = (0..40)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        // Room for 5 more descriptors.
        // Fill every free descriptor number below the limit, then free 5.
        let old = set_nofile(max_fd() + 1);
        let mut fillers = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            fillers.push(f);
        }
        fillers.truncate(fillers.len().saturating_sub(5));
        let accepted = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let (acc, errs) = (accepted.clone(), errors.clone());
        let listener = Arc::new(listener);
        let l2 = listener.clone();
        let held = Arc::new(std::sync::Mutex::new(Vec::new()));
        let h2 = held.clone();
        let server = weft::spawn(async move {
            loop {
                match l2.accept().await {
                    Ok((s, _)) => {
                        acc.fetch_add(1, SeqCst);
                        h2.lock().unwrap().push(s);
                    }
                    Err(e) => {
                        assert!(
                            matches!(
                                e.raw_os_error().or_else(|| {
                                    std::error::Error::source(&e)
                                        .and_then(|s| s.downcast_ref::<std::io::Error>())
                                        .and_then(|s| s.raw_os_error())
                                }),
                                Some(libc::EMFILE | libc::ENFILE)
                            ),
                            "{e}"
                        );
                        errs.fetch_add(1, SeqCst);
                    }
                }
            }
        });
        // Let the loop hit the limit, then measure CPU over one second.
        let wait = weft::spawn_blocking(|| std::thread::sleep(Duration::from_millis(200)));
        wait.await.unwrap();
        let cpu0 = cpu_time();
        weft::spawn_blocking(|| std::thread::sleep(Duration::from_secs(1)))
            .await
            .unwrap();
        let cpu = cpu_time() - cpu0;
        eprintln!(
            "{backend:?}: accepted {}, EMFILE errors {}, CPU over 1 s: {cpu:?}",
            accepted.load(SeqCst),
            errors.load(SeqCst)
        );
        assert!(
            cpu < Duration::from_millis(100),
            "spinning: {cpu:?} CPU in 1 s"
        );
        assert!(errors.load(SeqCst) >= 1 && errors.load(SeqCst) < 10);
        assert!(accepted.load(SeqCst) <= 5);
        // The shed peers were closed, not left hanging.
        let mut closed = 0;
        for p in &mut peers {
            p.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            let mut b = [0u8; 1];
            if matches!(p.read(&mut b), Ok(0))
                || matches!(p.read(&mut b), Err(ref e) if e.kind() == ErrorKind::ConnectionReset)
            {
                closed += 1;
            }
        }
        assert!(
            closed >= 30,
            "only {closed} of 40 peers saw their connection closed"
        );
        // Free descriptors: accepting resumes.
        held.lock().unwrap().clear();
        peers.clear();
        let before = accepted.load(SeqCst);
        let _c = std::net::TcpStream::connect(addr).unwrap();
        let acc = accepted.clone();
        weft::spawn_blocking(move || {
            for _ in 0..200 {
                if acc.load(SeqCst) > before {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
        .await
        .unwrap();
        assert_eq!(
            accepted.load(SeqCst),
            before + 1,
            "accepting did not resume"
        );
        server.abort();
        let _ = server.await;
        held.lock().unwrap().clear();
        drop(fillers);
        set_nofile(old);
    });
}
