//! Tests of `twinmint_progress` (src/lib.rs).
use twinmint_progress::*;

#[test]
fn a_token_cancels_every_clone_and_flag_holder() {
    let t = CancelToken::new();
    let other = CancelToken::from_flag(t.flag());
    assert_eq!(other.check(), Ok(()));
    t.clone().cancel();
    assert!(t.is_cancelled());
    assert_eq!(other.check(), Err(Cancelled));
}
