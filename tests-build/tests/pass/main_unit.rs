#[weft::main]
async fn main() {
    let handle = weft::spawn(async { 40 + 2 });
    assert_eq!(handle.await.ok(), Some(42));
}
