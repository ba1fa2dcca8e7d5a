//! Tests of `capture::copc::write` (src/copc/write.rs).
use capture::copc::write::*;

#[test]
fn morton_interleaves_x_y_z_from_bit_zero() {
    assert_eq!(morton([1, 0, 0]), 1);
    assert_eq!(morton([0, 1, 0]), 2);
    assert_eq!(morton([0, 0, 1]), 4);
    assert_eq!(morton([3, 0, 0]), 0b1001);
    assert_eq!(morton([(1 << 21) - 1; 3]), (1u64 << 63) - 1);
}
