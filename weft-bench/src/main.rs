//! weft-bench: weft beside tokio and smol (the workloads come next).

fn main() {
    println!("weft-bench: no workloads yet");
}
