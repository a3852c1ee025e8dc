#[weft::main(worker_threads = 2)]
async fn main() {}

#[weft::test(flavor = "current_thread", worker_threads = 2)]
async fn explicit_current_thread() {}
