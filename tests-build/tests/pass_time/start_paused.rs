//! `start_paused = true`: the paused clock of issue 3.
use std::time::Duration;

#[weft::main(start_paused = true)]
async fn main() {
    let start = std::time::Instant::now();
    weft::time::sleep(Duration::from_secs(600)).await;
    assert!(start.elapsed() < Duration::from_secs(60));
}
