//! The seed series' headline, scaled: a million tasks that each sleep one
//! second, all awaited; prints wall time, CPU time and peak memory.
//!
//! `cargo run --release --example million_sleeps -- [N]`

use std::time::{Duration, Instant};

fn cpu_and_rss() -> (Duration, u64) {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage into the pointer we own.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (
        tv(ru.ru_utime) + tv(ru.ru_stime),
        ru.ru_maxrss as u64 * 1024,
    )
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("N must be a number"))
        .unwrap_or(1_000_000);
    let start = Instant::now();
    weft::block_on(async move {
        let handles: Vec<_> = (0..n)
            .map(|_| weft::spawn(weft::time::sleep(Duration::from_secs(1))))
            .collect();
        for h in handles {
            h.await.expect("sleeper failed");
        }
    });
    let wall = start.elapsed();
    let (cpu, rss) = cpu_and_rss();
    println!(
        "weft: {n} tasks slept 1 s: wall {:.3} s, cpu {:.3} s, peak rss {:.1} MB ({:.0} bytes/task)",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        rss as f64 / 1e6,
        rss as f64 / n as f64
    );
}
