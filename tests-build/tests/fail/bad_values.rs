#[weft::main(flavor = "threaded")]
async fn main() {}

#[weft::test(flavor = multi_thread)]
async fn flavor_not_a_string() {}

#[weft::test(flavor = "multi_thread", worker_threads = 0)]
async fn zero_workers() {}

#[weft::test(flavor = "multi_thread", worker_threads = "4")]
async fn workers_as_string() {}

#[weft::test(start_paused = "yes")]
async fn paused_as_string() {}

#[weft::test(crate = "not a path")]
async fn crate_not_a_path() {}

#[weft::test(start_paused = true, start_paused = false)]
async fn given_twice() {}
