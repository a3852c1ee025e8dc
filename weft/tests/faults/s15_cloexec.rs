//! Scenario 15: every descriptor weft opens is close-on-exec: a child
//! process started while the runtime holds sockets of every kind sees none
//! of them, nor the poller, the wakeup descriptor or the listener's
//! reserve descriptor.

use std::collections::HashMap;
use std::time::Duration;

use crate::util::{self, figure, test_name};

/// This process's descriptors above 2 and what each points to.
fn our_fds() -> HashMap<u32, String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let n: u32 = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some((n, target.to_string_lossy().into_owned()))
        })
        .filter(|(n, _)| *n > 2)
        .collect()
}

/// Flags of descriptor `fd` (FD_CLOEXEC among them).
fn fd_flags(fd: u32) -> i32 {
    // SAFETY: F_GETFD only reads the descriptor table; an fd that is not
    // open gives -1/EBADF, which we report as such.
    unsafe { libc::fcntl(fd as i32, libc::F_GETFD) }
}

/// The descriptors above 2 that a child shell sees, as `n -> target`.
fn child_fds() -> Vec<String> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("for f in /proc/$$/fd/*; do echo \"${f##*/} -> $(readlink $f)\"; done")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            l.split(' ')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n > 2)
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn s15_a_child_process_inherits_no_runtime_descriptor() {
    let name = test_name!(s15_a_child_process_inherits_no_runtime_descriptor);
    util::isolated(name, Duration::from_secs(30), || {
        let before = our_fds();
        // What a child sees of the shell's own doing, before weft opens anything.
        let control = child_fds();
        let dir = std::env::temp_dir().join(format!("weft-faults-cloexec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        util::rt().block_on(async {
            let tl = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (c, a) = futures_lite::future::zip(
                weft::net::TcpStream::connect(tl.local_addr().unwrap()),
                tl.accept(),
            )
            .await;
            let (c, a) = (c.unwrap(), a.unwrap().0);
            let udp = weft::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let ul = weft::net::UnixListener::bind(dir.join("l.sock")).unwrap();
            let (uc, ua) = futures_lite::future::zip(
                weft::net::UnixStream::connect(dir.join("l.sock")),
                ul.accept(),
            )
            .await;
            let (uc, ua) = (uc.unwrap(), ua.unwrap().0);
            let (p1, p2) = weft::net::UnixStream::pair().unwrap();
            let (d1, d2) = weft::net::UnixDatagram::pair().unwrap();
            let ud = weft::net::UnixDatagram::bind(dir.join("d.sock")).unwrap();
            weft::spawn_blocking(|| ()).await.unwrap();
            // Park once so the poller has every source registered.
            weft::time::sleep(Duration::from_millis(5)).await;

            let ours: HashMap<u32, String> = our_fds()
                .into_iter()
                .filter(|(n, _)| !before.contains_key(n))
                .collect();
            let not_cloexec: Vec<_> = ours
                .iter()
                .filter(|(n, _)| fd_flags(**n) & libc::FD_CLOEXEC == 0)
                .collect();
            // A line the control run did not have, naming one of weft's.
            let inherited: Vec<String> = child_fds()
                .into_iter()
                .filter(|l| !control.contains(l))
                .filter(|l| ours.values().any(|t| l.ends_with(&format!("-> {t}"))))
                .collect();
            let kinds: std::collections::BTreeSet<&str> = ours
                .values()
                .map(|t| t.split(':').next().unwrap_or(t.as_str()))
                .collect();
            figure!(
                name,
                "{} descriptors opened by weft ({kinds:?}); without FD_CLOEXEC: {}; seen by the child: {}",
                ours.len(),
                not_cloexec.len(),
                inherited.len()
            );
            assert!(not_cloexec.is_empty(), "not close-on-exec: {not_cloexec:?}");
            assert!(inherited.is_empty(), "the child inherited: {inherited:?}");
            drop((tl, c, a, udp, ul, uc, ua, p1, p2, d1, d2, ud));
        });
        let _ = std::fs::remove_dir_all(&dir);
    });
}
