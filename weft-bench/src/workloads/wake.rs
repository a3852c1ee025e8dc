//! `wake`: two tasks hand a token back and forth through a pair of
//! `async_channel::bounded(1)` channels a million times — ns per round trip.
//!
//! The channel crate is the same for every runtime, so only the runtime's
//! wake (a same-thread `Waker::wake` into its run queue) and scheduling
//! differ. A round trip is two sends, two receives and two task switches.

use super::{Config, Sample, Workload};
use crate::clock::Stopwatch;
use crate::runtimes::Runtime;

pub(crate) struct Wake;

impl Workload for Wake {
    const NAME: &'static str = "wake";
    const ABOUT: &'static str =
        "two tasks passing a token through async-channel bounded(1) pairs 1,000,000 times (ns per round trip)";

    fn run<R: Runtime>(cfg: &Config) -> Vec<Sample> {
        let n = cfg.size(1_000_000, 10_000);
        let (elapsed, last) = R::block_on(async move {
            let (to_pong, from_ping) = async_channel::bounded::<u64>(1);
            let (to_ping, from_pong) = async_channel::bounded::<u64>(1);
            let sw = Stopwatch::start();
            let ping = R::spawn(async move {
                let mut token = 0u64;
                for _ in 0..n {
                    if to_pong.send(token).await.is_err() {
                        panic!("wake: pong hung up");
                    }
                    token = match from_pong.recv().await {
                        Ok(t) => t,
                        Err(_) => panic!("wake: pong hung up"),
                    };
                }
                token
                // `to_pong` drops here: pong's `recv` fails and it returns.
            });
            let pong = R::spawn(async move {
                while let Ok(token) = from_ping.recv().await {
                    if to_ping.send(token + 1).await.is_err() {
                        break;
                    }
                }
            });
            let last = ping.await;
            pong.await;
            (sw.elapsed(), last)
        });
        assert_eq!(last, n as u64, "wake: the token was lost on the way");
        vec![Sample::ns_per_op(cfg, "wake", "ns/round trip", elapsed, n)]
    }
}
