#[test]
fn smoke() {
    let v = weft::block_on(async {
        let h = weft::spawn(async { 5 });
        let p = weft::spawn(async { panic!("boom") });
        let e = p.await.unwrap_err();
        assert!(e.is_panic(), "{e}");
        h.await.unwrap()
    });
    assert_eq!(v, 5);
}
