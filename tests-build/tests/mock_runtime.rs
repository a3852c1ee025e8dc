//! The macros run against `tests_build::mock`, a stand-in runtime that
//! records the builder calls, through the `crate = "..."` argument: checks
//! that each option becomes the right call, including the multi-thread
//! flavour the real runtime does not have yet, and that tests and `main`s
//! keep their return types and attributes.

use std::sync::atomic::{AtomicUsize, Ordering};
use tests_build::mock::runtime::current_calls;

fn calls() -> Vec<String> {
    current_calls().unwrap_or_default()
}

#[weft::test(crate = "tests_build::mock")]
async fn default_is_current_thread() {
    assert_eq!(calls(), ["new_current_thread"]);
}

#[weft::test(
    crate = "tests_build::mock",
    flavor = "current_thread",
    start_paused = true
)]
async fn start_paused_is_passed_on() {
    assert_eq!(calls(), ["new_current_thread", "start_paused(true)"]);
}

#[weft::test(
    flavor = "multi_thread",
    worker_threads = 3,
    start_paused = false,
    crate = "tests_build::mock"
)]
async fn multi_thread_with_workers() {
    assert_eq!(
        calls(),
        [
            "new_multi_thread",
            "worker_threads(3)",
            "start_paused(false)"
        ]
    );
}

#[weft::test(crate = "tests_build::mock", flavor = "multi_thread")]
async fn multi_thread_default_workers() {
    assert_eq!(calls(), ["new_multi_thread"]);
}

#[weft::test(crate = "tests_build::mock")]
#[should_panic(expected = "inside the body")]
async fn should_panic_still_applies() {
    panic!("inside the body");
}

#[weft::test(crate = "tests_build::mock")]
#[ignore = "checks that #[ignore] survives the expansion"]
async fn ignore_still_applies() {
    assert_eq!(calls(), ["new_current_thread"]);
}

#[derive(Debug)]
struct MyError;

impl From<std::num::ParseIntError> for MyError {
    fn from(_: std::num::ParseIntError) -> MyError {
        MyError
    }
}

#[weft::test(crate = "tests_build::mock")]
async fn result_test_with_question_mark() -> Result<(), MyError> {
    // `?` converts into the declared error type.
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[weft::test(crate = "tests_build::mock")]
async fn body_awaits() {
    async fn double(x: u32) -> u32 {
        x * 2
    }
    assert_eq!(double(21).await, 42);
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// `#[weft::main]` on a function not called `main`: a sync fn that builds
/// its own runtime and may take arguments.
#[weft::main(crate = "tests_build::mock")]
async fn run_once(add: usize) -> usize {
    #![allow(clippy::needless_return)]
    RUNS.fetch_add(add, Ordering::Relaxed);
    return calls().len();
}

#[test]
fn main_on_a_helper_fn() {
    assert_eq!(run_once(2), 1);
    assert_eq!(run_once(3), 1);
    assert_eq!(RUNS.load(Ordering::Relaxed), 5);
    // The runtime is gone once the generated fn returns.
    assert_eq!(current_calls(), None);
}

/// The body moves its captures: a non-main fn's arguments are owned by it.
#[weft::main(crate = "tests_build::mock")]
async fn takes_ownership(v: Vec<u8>) -> Vec<u8> {
    let mut v = v;
    v.push(1);
    v
}

#[test]
fn arguments_are_moved_in() {
    assert_eq!(takes_ownership(vec![0]), [0, 1]);
}

/// A body that never returns compiles without warnings (no unreachable
/// code after it in the expansion); CI's clippy runs with `-D warnings`.
#[weft::main(crate = "tests_build::mock")]
#[allow(dead_code)]
async fn serve_forever() {
    loop {
        std::future::pending::<()>().await;
    }
}
