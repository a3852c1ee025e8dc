#[weft::main(crate = "tests_build::mock")]
async fn main() {
    let = 5;
}
