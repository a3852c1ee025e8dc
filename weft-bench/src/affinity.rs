//! Which CPUs this process may run on, and pinning it to one, or to a set
//! for the multi-thread flavour (`sched_getaffinity`/`sched_setaffinity`),
//! so every runtime is measured on the same cores. `run.sh` pins with
//! `taskset` instead (CPU 1, or CPUs 0..N-1 for `--workers N`); `--pin CPUS`
//! does the same from inside.

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
    pin_to_set(&[cpu])
}

/// Pin the calling thread (and the threads it starts later) to `cpus`
/// (the multi-thread servers and benchmarks run on several).
pub(crate) fn pin_to_set(cpus: &[usize]) -> io::Result<()> {
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    if cpus.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "sched_setaffinity: no CPU to pin to",
        ));
    }
    if let Some(&cpu) = cpus.iter().find(|&&c| c >= max) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("sched_setaffinity: CPU {cpu} is out of range (< {max})"),
        ));
    }
    // SAFETY: as in `allowed_cpus`, all zeroes is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: every `cpu < max` was checked above, so the bit is inside `set`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is a live `cpu_set_t` of the size we pass; pid 0 means
    // the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("sched_setaffinity to CPUs {}: {e}", format_cpus(cpus)),
        ));
    }
    Ok(())
}

/// A CPU list as `taskset -c` and the child arguments write it: `0,1,3`.
pub(crate) fn format_cpus(cpus: &[usize]) -> String {
    let v: Vec<String> = cpus.iter().map(usize::to_string).collect();
    v.join(",")
}

/// A CPU list `0,1,3` or with ranges, `0-2,5`.
pub(crate) fn parse_cpus(s: &str) -> Result<Vec<usize>, String> {
    let num = |v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("'{v}' in the CPU list '{s}' is not a CPU number"))
    };
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("'{part}' in the CPU list '{s}' is an empty range"));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    if out.is_empty() {
        return Err(format!("the CPU list '{s}' names no CPU"));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
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
    fn pinning_to_a_set_allows_each_of_them() {
        let cpus = allowed_cpus().unwrap();
        let after = std::thread::spawn(move || {
            pin_to_set(&cpus).unwrap();
            allowed_cpus().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(after, allowed_cpus().unwrap());
        assert!(pin_to_set(&[]).is_err());
    }

    #[test]
    fn cpu_lists_are_read_and_written() {
        assert_eq!(parse_cpus("1").unwrap(), [1]);
        assert_eq!(parse_cpus("3,0-1").unwrap(), [0, 1, 3]);
        assert_eq!(format_cpus(&[0, 1, 3]), "0,1,3");
        assert!(parse_cpus("").is_err());
        assert!(parse_cpus("2-1").is_err());
        assert!(parse_cpus("x").is_err());
    }

    #[test]
    fn an_impossible_cpu_is_an_error() {
        let e = pin_to(1 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
