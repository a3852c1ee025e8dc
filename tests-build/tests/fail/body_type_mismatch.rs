// The body's type is checked against the declared return type, and the
// error points at the body's last statement.
#[weft::main(crate = "tests_build::mock")]
async fn main() {
    let x = 5;
    async { x }.await
}

#[derive(Debug)]
struct MyError;

#[weft::main(crate = "tests_build::mock")]
async fn returns_the_wrong_error() -> Result<(), MyError> {
    let _n: u32 = "x".parse()?;
    Ok(())
}

#[weft::main(crate = "tests_build::mock")]
async fn tail_statement() -> u32 {
    let x = 5;
    x + 1;
}
