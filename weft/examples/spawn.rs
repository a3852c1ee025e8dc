//! Spawn a few tasks that hand values to each other, and join them.
//!
//! `cargo run --release --example spawn`

fn main() {
    let total = weft::block_on(async {
        let handles: Vec<_> = (1..=10u64)
            .map(|i| {
                weft::spawn(async move {
                    for _ in 0..i {
                        weft::task::yield_now().await;
                    }
                    i * i
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.expect("task failed");
        }
        total
    });
    println!("sum of squares 1..=10 = {total}");
}
