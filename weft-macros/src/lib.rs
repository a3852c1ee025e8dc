//! Procedural macros for weft: `#[weft::main]` and `#[weft::test]`.
//!
//! Use them through the `weft` crate, which re-exports both; this crate is an
//! implementation detail and its paths may change.
//!
//! Layout: `args` parses the attribute arguments, `item` the annotated
//! function (its body left as tokens), `expand` writes the sync function
//! that builds the runtime, and the errors.
#![forbid(unsafe_code)]

mod args;
mod expand;
mod item;

use proc_macro::TokenStream;

/// Runs an `async fn` on a weft runtime built for it: the program's entry point.
///
/// ```ignore
/// #[weft::main]
/// async fn main() -> std::io::Result<()> {
///     let answer = weft::spawn(async { 42 }).await;
///     println!("{answer:?}");
///     Ok(())
/// }
/// ```
///
/// expands to a plain `fn main() -> std::io::Result<()>` that builds a runtime
/// with `weft::runtime::Builder`, runs the body on it with `block_on`, and
/// returns the body's value. The function keeps its attributes, visibility
/// and return type; any return type `main` may have works (`()`,
/// `Result<(), E>`, ...). The attribute also works on functions not named
/// `main`, which become sync functions that each build their own runtime;
/// those may take arguments.
///
/// # Arguments
///
/// - `flavor = "current_thread"` (the default) or `"multi_thread"`: which
///   runtime to build (`Builder::new_current_thread()` or
///   `Builder::new_multi_thread()`).
/// - `worker_threads = N` (N ≥ 1, only with `flavor = "multi_thread"`): the
///   number of worker threads (`.worker_threads(N)`).
/// - `start_paused = true | false`: start with the clock paused
///   (`.start_paused(b)`), so that an idle runtime jumps to the next timer.
/// - `crate = "path"`: reach the runtime through `path` instead of `::weft`,
///   for crates that rename weft or re-export it.
///
/// ```ignore
/// #[weft::main(flavor = "multi_thread", worker_threads = 4)]
/// async fn main() { /* ... */ }
/// ```
///
/// # Errors
///
/// Compile errors, at the offending token, for a function that is not
/// `async`, a `main` with arguments or generic parameters, a test attribute
/// on the same function (use [`macro@test`]), unknown arguments, bad values,
/// and `worker_threads` without `flavor = "multi_thread"`.
///
/// # Panics
///
/// The generated `main` panics with "weft: failed to build the runtime" and
/// the cause if the runtime cannot be built (for example when the OS refuses
/// to create the event loop).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args::Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh weft runtime.
///
/// ```ignore
/// #[weft::test]
/// async fn adds() {
///     assert_eq!(weft::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
///
/// #[weft::test(start_paused = true)]
/// async fn ten_minutes_in_no_time() {
///     weft::time::sleep(std::time::Duration::from_secs(600)).await;
/// }
/// ```
///
/// Expands like [`macro@main`] and adds `#[test]` (do not add it yourself).
/// Other attributes such as `#[should_panic]` and `#[ignore]` work as on any
/// test, and the test may return a `Result`. Each test gets its own runtime,
/// dropped when the test ends.
///
/// # Arguments
///
/// The same as [`macro@main`]: `flavor`, `worker_threads`, `start_paused`
/// and `crate`.
///
/// # Errors
///
/// As for [`macro@main`], plus: test functions cannot take arguments or
/// have generic parameters, cannot be named `main`, and cannot carry a
/// second test attribute.
///
/// # Panics
///
/// The test panics with "weft: failed to build the runtime" if the runtime
/// cannot be built.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args::Kind::Test, args.into(), item.into()).into()
}
