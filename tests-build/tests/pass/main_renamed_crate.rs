//! `crate = "..."` for a crate that renames weft.
use weft as rt;

#[rt::main(crate = "rt")]
async fn main() {
    assert_eq!(rt::spawn(async { 1 }).await.ok(), Some(1));
}
