use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn spawn_blocking_returns_value_and_runs_off_thread() {
    let main_thread = std::thread::current().id();
    let (v, tid) = weft::block_on(async {
        weft::spawn_blocking(|| (42, std::thread::current().id()))
            .await
            .unwrap()
    });
    assert_eq!(v, 42);
    assert_ne!(tid, main_thread);
}

#[test]
fn blocking_jobs_run_in_parallel_and_threads_are_reused() {
    let rt = weft::runtime::Builder::new_current_thread()
        .max_blocking_threads(4)
        .build()
        .unwrap();
    let start = Instant::now();
    rt.block_on(async {
        let hs: Vec<_> = (0..4)
            .map(|_| weft::spawn_blocking(|| std::thread::sleep(Duration::from_millis(200))))
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert!(
        start.elapsed() < Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn panic_in_blocking_job_is_a_join_error() {
    let e = weft::block_on(async {
        weft::spawn_blocking(|| panic!("bad job"))
            .await
            .unwrap_err()
    });
    assert!(e.is_panic());
}

#[test]
fn spawn_from_blocking_thread_reaches_the_runtime() {
    let v = weft::block_on(async {
        let inner = weft::spawn_blocking(|| weft::spawn(async { 7 }))
            .await
            .unwrap();
        inner.await.unwrap()
    });
    assert_eq!(v, 7);
}

#[test]
fn queued_jobs_never_start_after_shutdown() {
    let started = Arc::new(AtomicUsize::new(0));
    let rt = weft::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let s = started.clone();
    let handles = rt.block_on(async move {
        let mut hs = Vec::new();
        for _ in 0..5 {
            let s = s.clone();
            hs.push(weft::spawn_blocking(move || {
                s.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
            }));
        }
        std::thread::sleep(Duration::from_millis(20));
        hs
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    assert_eq!(started.load(Ordering::SeqCst), 1);
    drop(handles);
}
