//! Which CPUs this process may run on, and pinning it to one
//! (`sched_getaffinity`/`sched_setaffinity`), so every runtime is measured
//! on one core. `run.sh` pins with `taskset -c 1` instead; `--pin CPU` does
//! the same from inside.

use std::io;

/// The CPUs the calling thread may run on.
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: `cpu_set_t` is a plain bit array; all zeroes is a valid
    // (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live, writable `cpu_set_t` and we pass its exact
    // size; pid 0 means the calling thread.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("sched_getaffinity: {e}")));
    }
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `CPU_ISSET` reads bit `cpu` of `set`, and `cpu < max` keeps it
    // inside the set.
    Ok((0..max)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

/// How many CPUs the machine has online (0 if it cannot tell).
pub(crate) fn online_cpus() -> usize {
    // SAFETY: `sysconf` only reads a system setting; any name is safe to
    // ask for, and an unknown one returns -1.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(0)
}

/// Pin the calling thread (and the threads it starts later) to `cpu`.
pub(crate) fn pin_to(cpu: usize) -> io::Result<()> {
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    if cpu >= max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("sched_setaffinity: CPU {cpu} is out of range (< {max})"),
        ));
    }
    // SAFETY: as in `allowed_cpus`, all zeroes is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu < max` was checked above, so the bit is inside `set`.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a live `cpu_set_t` of the size we pass; pid 0 means
    // the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("sched_setaffinity to CPU {cpu}: {e}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_thread_may_run_somewhere() {
        let cpus = allowed_cpus().unwrap();
        assert!(!cpus.is_empty());
    }

    #[test]
    fn pinning_a_thread_restricts_it() {
        let cpus = allowed_cpus().unwrap();
        let target = cpus[cpus.len() - 1];
        // On a helper thread: pinning is per thread, and the test harness
        // runs other tests on other threads.
        let after = std::thread::spawn(move || {
            pin_to(target).unwrap();
            allowed_cpus().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(after, vec![target]);
    }

    #[test]
    fn the_machine_has_cpus_online() {
        assert!(online_cpus() >= allowed_cpus().unwrap().len());
    }

    #[test]
    fn an_impossible_cpu_is_an_error() {
        let e = pin_to(1 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
