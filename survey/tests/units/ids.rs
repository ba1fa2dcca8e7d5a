//! Tests of `survey::ids` (src/ids.rs).
use std::collections::BTreeSet;
use survey::ids::*;

#[test]
fn ids_do_not_depend_on_order_and_are_unique() {
    let keys = vec![(1, 2), (3, 4), (5, 6), (1, 3)];
    let a = assign(&keys);
    let mut rev = keys.clone();
    rev.reverse();
    let mut b = assign(&rev);
    b.reverse();
    assert_eq!(a, b);
    let set: BTreeSet<u32> = a.iter().copied().collect();
    assert_eq!(set.len(), 4);
    assert_eq!(apex_key(500000.004, 10.006), (50000000, 1001));
}
