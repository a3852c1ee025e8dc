#[weft::main]
async fn main() {
    let = 5;
}
