use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::executor::context;
use crate::executor::context::Handle;
use crate::loom::lock;
use crate::task::{new_task, JoinHandle, Notified, Schedule, Task};

type Job = Notified<Arc<Pool>>;

/// The pool's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_threads: 512,
            keep_alive: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Pool {
    state: Mutex<State>,
    /// Signals idle threads (a job arrived, or shutdown).
    work: Condvar,
    /// Signals `shutdown` (a thread exited).
    exited: Condvar,
    config: Config,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    /// Wakeups handed to idle threads and not yet taken.
    notified: usize,
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(config: Config) -> Arc<Pool> {
        Arc::new(Pool {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                notified: 0,
                shutdown: false,
            }),
            work: Condvar::new(),
            exited: Condvar::new(),
            config,
        })
    }

    pub(crate) fn spawn<F, R>(self: Arc<Self>, f: F, rt: Handle) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let job = BlockingTask {
            f: Some(f),
            rt: Some(rt),
        };
        // The pool keeps no owner list: a job's owner ref is dropped here,
        // and the queue (or the running thread) keeps it alive.
        let (owner, notified, join) = new_task(job, self.clone());
        drop(owner);
        self.schedule(notified);
        join
    }

    /// Called by `Runtime` shutdown: cancel queued jobs, wait for running ones
    /// up to `timeout`. True if every thread exited in time.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let queued = {
            let mut st = lock(&self.state);
            st.shutdown = true;
            std::mem::take(&mut st.queue)
        };
        self.work.notify_all();
        for job in queued {
            job.0.shutdown();
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = lock(&self.state);
        while st.threads > 0 {
            match deadline {
                None => {
                    st = self.exited.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    st = self
                        .exited
                        .wait_timeout(st, d - now)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
        }
        true
    }

    fn run_thread(self: Arc<Self>) {
        let mut st = lock(&self.state);
        loop {
            if let Some(job) = st.queue.pop_front() {
                drop(st);
                job.run();
                st = lock(&self.state);
                continue;
            }
            if st.shutdown {
                break;
            }
            st.idle += 1;
            let idle_since = Instant::now();
            loop {
                let waited = idle_since.elapsed();
                if waited >= self.config.keep_alive {
                    break;
                }
                st = self
                    .work
                    .wait_timeout(st, self.config.keep_alive - waited)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
                if st.notified > 0 {
                    st.notified -= 1;
                    break;
                }
                if st.shutdown {
                    break;
                }
            }
            st.idle -= 1;
            if st.queue.is_empty() && !st.shutdown && idle_since.elapsed() >= self.config.keep_alive
            {
                break;
            }
        }
        st.threads -= 1;
        drop(st);
        self.exited.notify_all();
    }
}

impl Schedule for Arc<Pool> {
    fn schedule(&self, job: Job) {
        let mut st = lock(&self.state);
        if st.shutdown {
            drop(st);
            job.0.shutdown();
            return;
        }
        st.queue.push_back(job);
        if st.idle > st.notified {
            st.notified += 1;
            drop(st);
            self.work.notify_one();
        } else if st.threads < self.config.max_threads {
            st.threads += 1;
            let id = st.threads;
            drop(st);
            let pool = self.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("weft-blocking-{id}"))
                .spawn(move || pool.run_thread());
            if let Err(e) = spawned {
                // The job stays queued for a thread that exists, if any;
                // with none, it is cancelled so its JoinHandle does not hang.
                let mut st = lock(&self.state);
                st.threads -= 1;
                if st.threads == 0 {
                    let queued = std::mem::take(&mut st.queue);
                    drop(st);
                    eprintln!("weft: could not start a blocking-pool thread: {e}");
                    for job in queued {
                        job.0.shutdown();
                    }
                }
            }
        }
    }

    fn release(&self, _task: &Task<Self>) -> bool {
        false
    }
}

/// The future of a blocking job: runs the closure in its one poll, inside
/// the runtime's context so that `weft::spawn` works from it.
struct BlockingTask<F> {
    f: Option<F>,
    rt: Option<Handle>,
}

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = match self.f.take() {
            Some(f) => f,
            None => unreachable!("weft bug: blocking task polled twice"),
        };
        let _enter = self.rt.take().map(context::enter);
        Poll::Ready(f())
    }
}
