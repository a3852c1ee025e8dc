//! Helpers shared by the task and runtime integration tests.
//!
//! Each test file does `mod support;` and uses what it needs, so some
//! helpers are unused in a given file.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Aborts the whole test process if the guard is not dropped within the
/// limit: a hung test then fails loudly instead of hanging the suite.
#[must_use = "the watchdog stops watching when the guard is dropped"]
pub struct Watchdog {
    _stop: mpsc::Sender<()>,
}

/// Start a watchdog for the test `name`: after `secs` seconds it prints
/// which test hung and aborts the process. Dropping the guard (also by a
/// panic unwinding) stops it.
pub fn watchdog(name: &'static str, secs: u64) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    thread::Builder::new()
        .name(format!("watchdog-{name}"))
        .spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(secs)) {
                eprintln!(
                    "\nwatchdog: test `{name}` did not finish within {secs} s; \
                     aborting the test process"
                );
                std::process::abort();
            }
        })
        .expect("spawn the watchdog thread");
    Watchdog { _stop: tx }
}

/// Counters of what happened to an instrumented future.
#[derive(Debug, Default)]
pub struct Counters {
    pub polls: AtomicUsize,
    pub drops: AtomicUsize,
}

impl Counters {
    pub fn new() -> Arc<Counters> {
        Arc::new(Counters::default())
    }
    pub fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }
    pub fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }
}

/// Wraps a future: counts its polls and its drop (once, whether it completed
/// or not).
pub struct Track<F> {
    inner: Pin<Box<F>>,
    counters: Arc<Counters>,
}

impl<F> Track<F> {
    pub fn new(inner: F, counters: &Arc<Counters>) -> Track<F> {
        Track {
            inner: Box::pin(inner),
            counters: counters.clone(),
        }
    }
}

impl<F: Future> Future for Track<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.counters.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

impl<F> Drop for Track<F> {
    fn drop(&mut self) {
        self.counters.drops.fetch_add(1, SeqCst);
    }
}

/// A value that counts its drops (for outputs and captured state).
#[derive(Debug)]
pub struct DropCount(pub Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future that is never ready and never wakes anyone.
pub fn pending_forever() -> std::future::Pending<()> {
    std::future::pending()
}

/// A slot where a future parks its waker, so that a test can wake it from
/// elsewhere (another task, another thread).
#[derive(Default)]
pub struct WakerSlot {
    waker: Mutex<Option<Waker>>,
    ready: AtomicBool,
}

impl WakerSlot {
    pub fn new() -> Arc<WakerSlot> {
        Arc::new(WakerSlot::default())
    }

    /// Pending (storing the waker) until `set_ready`.
    pub fn wait(self: &Arc<Self>) -> WaitSlot {
        WaitSlot(self.clone())
    }

    pub fn set_ready(&self) {
        self.ready.store(true, SeqCst);
        self.wake();
    }

    /// Wake the stored waker, if any (it stays stored).
    pub fn wake(&self) {
        let w = self.waker.lock().unwrap().clone();
        if let Some(w) = w {
            w.wake();
        }
    }

    pub fn waker(&self) -> Option<Waker> {
        self.waker.lock().unwrap().clone()
    }

    /// Store `waker` (as a future's poll would).
    pub fn register(&self, waker: &Waker) {
        *self.waker.lock().unwrap() = Some(waker.clone());
    }

    pub fn has_waker(&self) -> bool {
        self.waker.lock().unwrap().is_some()
    }

    pub fn clear(&self) {
        *self.waker.lock().unwrap() = None;
    }
}

pub struct WaitSlot(Arc<WakerSlot>);

impl Future for WaitSlot {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.0.ready.load(SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Poll `f` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(Noop));
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

struct ThreadUnpark(thread::Thread);

impl Wake for ThreadUnpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A tiny executor that is not weft: polls `f` on this thread, parking
/// between polls. Used to await weft handles from outside any runtime.
pub fn plain_block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::from(Arc::new(ThreadUnpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park_timeout(Duration::from_millis(100));
    }
}

/// Run `f` on a new thread with a stack of `size` bytes; resume its panic.
pub fn with_stack<R: Send + 'static>(size: usize, f: impl FnOnce() -> R + Send + 'static) -> R {
    let h = thread::Builder::new()
        .stack_size(size)
        .spawn(f)
        .expect("spawn a thread with a small stack");
    match h.join() {
        Ok(r) => r,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Spin (with short sleeps) until `cond` holds or `limit` passes; true if it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > limit {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// The message of a panic payload, if it is a string.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some((*s).to_string())
    } else {
        payload.downcast_ref::<String>().cloned()
    }
}

/// Yield to the weft scheduler `n` times.
pub async fn yield_n(n: usize) {
    for _ in 0..n {
        weft::task::yield_now().await;
    }
}
