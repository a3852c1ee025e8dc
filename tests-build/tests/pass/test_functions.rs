//! Test functions expand and type-check (trybuild builds a binary, where
//! #[test] functions are compiled out, so these are checked, not run).

#[weft::test]
async fn plain() {
    weft::task::yield_now().await;
}

#[weft::test]
#[should_panic(expected = "boom")]
async fn panics() {
    panic!("boom");
}

#[weft::test]
async fn returns_result() -> Result<(), std::num::ParseIntError> {
    let _: u8 = "7".parse()?;
    Ok(())
}

fn main() {}
