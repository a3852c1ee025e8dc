//! This crate only carries the hyper examples: see `examples/hello_hyper.rs` and `examples/hyper_client.rs`.
