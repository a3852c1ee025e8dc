#[weft::main]
#[test]
async fn a_test() {}

fn main() {}
