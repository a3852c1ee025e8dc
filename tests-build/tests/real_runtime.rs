//! `#[weft::test]` on weft's real runtime: the tests run, each on its own
//! runtime, with the options of the attribute.

use std::time::Duration;

#[weft::test]
async fn spawn_and_join() {
    let h = weft::spawn(async { 6 * 7 });
    assert_eq!(h.await.ok(), Some(42));
}

#[weft::test]
async fn spawn_local_works_in_the_body() {
    let rc = std::rc::Rc::new(5);
    let h = weft::spawn_local(async move { *rc + 1 });
    assert_eq!(h.await.ok(), Some(6));
}

#[weft::test(start_paused = true)]
async fn start_paused_skips_idle_time() {
    let real = std::time::Instant::now();
    let virt = weft::time::Instant::now();
    weft::time::sleep(Duration::from_secs(3600)).await;
    assert!(virt.elapsed() >= Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(30));
}

#[weft::test(flavor = "current_thread", start_paused = false)]
async fn unpaused_clock_sleeps_for_real() {
    let real = std::time::Instant::now();
    weft::time::sleep(Duration::from_millis(5)).await;
    assert!(real.elapsed() >= Duration::from_millis(5));
}

#[weft::test]
#[should_panic(expected = "from the test body")]
async fn panics_reach_the_harness() {
    panic!("from the test body");
}

#[weft::test]
async fn result_tests_report_errors() -> Result<(), Box<dyn std::error::Error>> {
    let n: u8 = "7".parse()?;
    let m = weft::spawn(async move { n + 1 }).await?;
    assert_eq!(m, 8);
    Ok(())
}
