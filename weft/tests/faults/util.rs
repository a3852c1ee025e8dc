//! The suite's harness: one process per test, a watchdog, the backend
//! from `WEFT_BACKEND`, leak counts, CPU time and figures.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use weft::runtime::{Builder, IoBackend};

/// Set in the child process to the name of the one test it runs.
const CHILD_ENV: &str = "WEFT_FAULTS_CHILD";

/// The libtest name of a test function in this crate: its module path
/// without the crate name, then the function name.
macro_rules! test_name {
    ($f:ident) => {
        $crate::util::strip_crate(concat!(module_path!(), "::", stringify!($f)))
    };
}
pub(crate) use test_name;

pub(crate) fn strip_crate(path: &'static str) -> &'static str {
    path.split_once("::").map_or(path, |(_, rest)| rest)
}

/// The backend this run tests, from `WEFT_BACKEND`.
pub(crate) fn backend() -> IoBackend {
    match std::env::var("WEFT_BACKEND").as_deref() {
        Ok("epoll") => IoBackend::Epoll,
        Ok("poll") => IoBackend::Poll,
        Ok("") | Err(_) => IoBackend::default(),
        Ok(other) => panic!("WEFT_BACKEND={other}: expected `epoll` or `poll`"),
    }
}

pub(crate) fn backend_name() -> &'static str {
    match backend() {
        IoBackend::Epoll => "epoll",
        IoBackend::Poll => "poll",
        _ => "other",
    }
}

/// A current-thread runtime on the backend under test. Blocking-pool
/// threads exit quickly when idle, so thread counts settle.
pub(crate) fn rt() -> weft::Runtime {
    Builder::new_current_thread()
        .io_backend(backend())
        .thread_keep_alive(Duration::from_millis(50))
        .build()
        .expect("build the runtime")
}

/// Print one measured figure, tagged with the backend and the scenario.
pub(crate) fn print_figure(scenario: &str, text: std::fmt::Arguments<'_>) {
    println!("FIGURE [{}] {scenario}: {text}", backend_name());
}

macro_rules! figure {
    ($scenario:expr, $($t:tt)*) => {
        $crate::util::print_figure($scenario, format_args!($($t)*))
    };
}
pub(crate) use figure;

/// Open descriptors of this process.
pub(crate) fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// Threads of this process.
pub(crate) fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .count()
}

/// Whether this process is the child running `name`.
pub(crate) fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).as_deref() == Ok(name)
}

/// Run the test `name` in a child process of this binary, with a watchdog
/// of `limit`: the child runs `body` and checks that no descriptor or
/// thread leaked (scenario 16). The parent kills a child that runs over
/// its limit, fails the test, and prints the child's output.
pub(crate) fn isolated(name: &'static str, limit: Duration, body: impl FnOnce()) {
    if is_child(name) {
        run_child(name, body);
    } else {
        run_parent(name, limit);
    }
}

fn run_child(name: &str, body: impl FnOnce()) {
    // libtest printed `test NAME ... ` without a newline.
    println!();
    let fds0 = fd_count();
    let threads0 = thread_count();
    let start = Instant::now();
    body();
    let took = start.elapsed();
    // Blocking-pool threads exit on their own once idle: give them a moment.
    let settle = Instant::now();
    while (fd_count() > fds0 || thread_count() > threads0)
        && settle.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (fds1, threads1) = (fd_count(), thread_count());
    figure!(
        name,
        "took {took:.2?}; fds {fds0} -> {fds1}, threads {threads0} -> {threads1}"
    );
    assert_eq!(fds1, fds0, "{name}: descriptors leaked");
    assert_eq!(threads1, threads0, "{name}: threads leaked");
}

fn run_parent(name: &'static str, limit: Duration) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let log = std::env::temp_dir().join(format!(
        "weft-faults-{}-{}.log",
        std::process::id(),
        name.replace("::", "-")
    ));
    let out = std::fs::File::create(&log).expect("create the child's log");
    let err = out.try_clone().expect("dup the child's log");
    let mut child = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .arg("--include-ignored")
        .env(CHILD_ENV, name)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start the child test process");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the child") {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(&log) {
        let _ = f.read_to_string(&mut text);
    }
    let _ = std::fs::remove_file(&log);
    // Only the child's own lines: drop libtest's chatter. (A first newline
    // ends libtest's `test NAME ... `.)
    println!();
    for line in text.lines() {
        if !(line.starts_with("running ")
            || line.starts_with("test result:")
            || line.starts_with("test ")
            || line.trim().is_empty())
        {
            println!("{line}");
        }
    }
    match status {
        None => panic!("watchdog: {name} ran over {limit:?} and was killed"),
        Some(s) if !s.success() => panic!("{name} failed in its process ({s})"),
        Some(_) => {
            // A filter that matched nothing would pass silently.
            assert!(
                text.contains("1 passed"),
                "{name}: the child ran no test:\n{text}"
            );
        }
    }
}

/// CPU time (user + system) of the whole process so far.
pub(crate) fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass, and
    // RUSAGE_SELF is a valid target.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time spent over wall time, in percent.
pub(crate) fn cpu_percent(cpu: Duration, wall: Duration) -> f64 {
    cpu.as_secs_f64() * 100.0 / wall.as_secs_f64()
}

/// Resident memory of this process, in bytes.
pub(crate) fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm's resident field");
    pages * 4096
}

/// The `q` quantile of `v` (sorted in place).
pub(crate) fn quantile(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// A connected TCP pair on 127.0.0.1.
pub(crate) async fn tcp_pair() -> (weft::net::TcpStream, weft::net::TcpStream) {
    let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (c, a) =
        futures_lite::future::zip(weft::net::TcpStream::connect(addr), listener.accept()).await;
    (c.unwrap(), a.unwrap().0)
}

/// Set the soft RLIMIT_NOFILE, returning the old one.
pub(crate) fn set_nofile(soft: u64) -> u64 {
    // SAFETY: get/setrlimit only read and write the struct we pass.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl), 0);
        let old = rl.rlim_cur;
        rl.rlim_cur = soft.min(rl.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &rl), 0);
        old
    }
}

/// How long this thread has waited on a run queue for a CPU (from
/// `/proc/thread-self/schedstat`): lateness the OS caused, not the runtime,
/// on a loaded machine.
pub(crate) fn run_delay() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}
