//! trybuild cases for `#[weft::main]` and `#[weft::test]`.
//!
//! Regenerate the `.stderr` snapshots with
//! `TRYBUILD=overwrite cargo test -p tests-build --test macros`, then read
//! every changed one: each must say what the user did wrong, at the token
//! where they did it, with nothing else around it.
//!
//! The `fail` cases that need type checking reach a stand-in runtime through
//! `crate = "tests_build::mock"`, so that their snapshots do not depend on
//! the state of weft's runtime.

#[test]
fn fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/fail/*.rs");
}

/// Programs that must build and run on the real runtime.
#[test]
fn pass() {
    let t = trybuild::TestCases::new();
    t.pass("tests/pass/*.rs");
}

/// `start_paused = true` on the real runtime.
#[test]
fn pass_time() {
    let t = trybuild::TestCases::new();
    t.pass("tests/pass_time/*.rs");
}
