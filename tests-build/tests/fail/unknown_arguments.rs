#[weft::main(flavour = "multi_thread", threads = 4)]
async fn main() {}

#[weft::test(multi_thread)]
async fn bare_flavor() {}

#[weft::test(start_paused)]
async fn bare_start_paused() {}
