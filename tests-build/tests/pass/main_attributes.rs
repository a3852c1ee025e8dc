//! Attributes, visibility and inner attributes survive the expansion.

/// The entry point.
#[weft::main(flavor = "current_thread")]
#[allow(clippy::needless_return)]
pub async fn main() {
    #![allow(unused_variables)]
    let unused = ();
    weft::task::yield_now().await;
    return;
}
