//! Helpers shared by the net tests: runtimes per backend, descriptor
//! counting, and a lock that keeps fd-counting tests of one binary apart.
#![allow(dead_code)]

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use weft::runtime::{Builder, IoBackend};

/// Every backend each test runs on.
pub(crate) const BACKENDS: [IoBackend; 2] = [IoBackend::Epoll, IoBackend::Poll];

/// Open descriptors of this process.
pub(crate) fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialise the tests of one binary, so descriptor counts are exact.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A current-thread runtime on `backend`.
pub(crate) fn runtime(backend: IoBackend) -> weft::Runtime {
    Builder::new_current_thread()
        .io_backend(backend)
        .build()
        .unwrap()
}

/// Run `f` on each backend, under the serial lock, with a watchdog, and
/// assert that no descriptor leaked (counted after the runtime is dropped).
pub(crate) fn each_backend<F, Fut>(name: &str, limit: Duration, f: F)
where
    F: Fn(IoBackend) -> Fut,
    Fut: Future<Output = ()>,
{
    let _serial = serial();
    warm_up();
    for backend in BACKENDS {
        let before = fd_count();
        let rt = runtime(backend);
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d = done.clone();
        let what = format!("{name} on {backend:?}");
        let w = what.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while !d.load(std::sync::atomic::Ordering::SeqCst) {
                if start.elapsed() > limit {
                    eprintln!("watchdog: {w} took over {limit:?}");
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        rt.block_on(f(backend));
        drop(rt);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let after = fd_count();
        assert_eq!(before, after, "{what}: descriptors leaked");
    }
}

/// Create the process-wide resources (the blocking pool's threads) before
/// descriptors are counted.
pub(crate) fn warm_up() {
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let l = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        drop(l);
        weft::spawn_blocking(|| ()).await.unwrap();
    });
}
