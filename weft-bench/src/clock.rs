//! Timing a run by wall clock and by this thread's CPU clock.
//!
//! Every workload here runs on the calling thread and never blocks, so on
//! a quiet machine the two agree. On a shared one, wall time also counts
//! the time other processes had the CPU; `--clock cpu` reports the
//! thread's CPU time (user + system, `CLOCK_THREAD_CPUTIME_ID`) instead,
//! which leaves that out (but not their effect on the caches).

use std::time::{Duration, Instant};

/// Which clock the table reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    Wall,
    Cpu,
}

impl Clock {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Clock::Wall => "wall",
            Clock::Cpu => "cpu",
        }
    }
}

/// Both clocks at the start of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopwatch {
    wall: Instant,
    cpu: Duration,
    /// The CPU clock is the whole process's, not this thread's.
    process: bool,
}

/// What a run took on each clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed {
    pub(crate) wall: Duration,
    pub(crate) cpu: Duration,
}

impl Elapsed {
    pub(crate) fn on(self, clock: Clock) -> Duration {
        match clock {
            Clock::Wall => self.wall,
            Clock::Cpu => self.cpu,
        }
    }
}

impl Stopwatch {
    pub(crate) fn start() -> Stopwatch {
        // CPU first, wall last: the wall interval then lies inside the CPU one.
        let cpu = thread_cpu_time();
        Stopwatch {
            wall: Instant::now(),
            cpu,
            process: false,
        }
    }

    /// The same with the CPU time of every thread of the process (user +
    /// system, `getrusage(RUSAGE_SELF)`, microsecond resolution): the
    /// multi-thread flavour's CPU clock, where the work runs on worker
    /// threads and one thread's clock would see none of it.
    pub(crate) fn start_process() -> Stopwatch {
        let cpu = crate::epoll::process_cpu_time();
        Stopwatch {
            wall: Instant::now(),
            cpu,
            process: true,
        }
    }

    pub(crate) fn elapsed(&self) -> Elapsed {
        let wall = self.wall.elapsed();
        let cpu = if self.process {
            crate::epoll::process_cpu_time()
        } else {
            thread_cpu_time()
        };
        Elapsed {
            wall,
            cpu: cpu.saturating_sub(self.cpu),
        }
    }
}

/// CPU time the calling thread has used, user and system (zero if the
/// clock cannot be read, which Linux never refuses for this clock).
pub(crate) fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live, writable `timespec`, and
    // CLOCK_THREAD_CPUTIME_ID is a clock every Linux kernel provides.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// How many times the calling thread has been preempted (involuntary
/// context switches, `getrusage(RUSAGE_THREAD)`): a run that another
/// process interrupted often is a noisy one. Zero if it cannot be read.
pub(crate) fn preemptions() -> u64 {
    // SAFETY: `rusage` is plain integers and `timeval`s; all zeroes is a
    // valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a live, writable `rusage`; RUSAGE_THREAD asks about
    // the calling thread only.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(ru.ru_nivcsw).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_on_both_clocks_and_sleep_only_on_the_wall() {
        let sw = Stopwatch::start();
        let mut x = 0u64;
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        std::thread::sleep(Duration::from_millis(50));
        let e = sw.elapsed();
        assert!(e.wall >= Duration::from_millis(70), "{e:?}");
        assert!(e.cpu > Duration::from_millis(1), "{e:?}");
        assert!(e.cpu < e.wall - Duration::from_millis(40), "{e:?}");
        assert_eq!(e.on(Clock::Wall), e.wall);
        assert_eq!(e.on(Clock::Cpu), e.cpu);
    }

    #[test]
    fn the_process_clock_sees_other_threads() {
        let sw = Stopwatch::start_process();
        let thread_sw = Stopwatch::start();
        std::thread::spawn(|| {
            // 30 ms of this thread's CPU, however busy the machine is.
            let until = thread_cpu_time() + Duration::from_millis(30);
            let mut x = 0u64;
            while thread_cpu_time() < until {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        })
        .join()
        .unwrap();
        let (e, mine) = (sw.elapsed(), thread_sw.elapsed());
        // Other tests run meanwhile too: only a lower bound holds.
        assert!(e.cpu >= Duration::from_millis(25), "{e:?}");
        assert!(mine.cpu < Duration::from_millis(10), "{mine:?}");
    }

    #[test]
    fn preemptions_never_go_backwards() {
        let a = preemptions();
        std::thread::yield_now();
        assert!(preemptions() >= a);
    }
}
