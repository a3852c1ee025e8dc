use std::error::Error;

#[weft::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // `?` converts into the declared error type.
    let n: u32 = "42".parse()?;
    let doubled = weft::spawn(async move { n * 2 }).await?;
    assert_eq!(doubled, 84);
    Ok(())
}
