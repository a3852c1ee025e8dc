//! `start_paused = true`: the clock starts paused and an idle runtime jumps
//! to the next deadline, so ten minutes of sleep take no real time.
use std::time::Duration;

#[weft::main(start_paused = true)]
async fn main() {
    let real = std::time::Instant::now();
    let virt = weft::time::Instant::now();
    weft::time::sleep(Duration::from_secs(600)).await;
    assert!(virt.elapsed() >= Duration::from_secs(600));
    assert!(real.elapsed() < Duration::from_secs(60));
}
