//! Tests of `resurvey::assign` (src/assign.rs).
use resurvey::assign::*;

#[test]
fn hungarian_finds_the_optimum_not_the_greedy_choice() {
    // Greedy takes (0,0)=1 then (1,1)=10: 11. The optimum is (0,1)+(1,0) = 2+2 = 4.
    let cost = [1.0, 2.0, 2.0, 10.0];
    assert_eq!(hungarian(&cost, 2, 2), vec![1, 0]);
}

#[test]
fn sparse_assignment_leaves_ungated_rows_unmatched() {
    let pairs = [(0, 0, 1.0), (1, 0, 0.5), (1, 1, 3.0), (3, 2, 0.1)];
    assert_eq!(assign_sparse(4, 3, &pairs), vec![(0, 0), (1, 1), (3, 2)]);
    // Row 2 has no allowed partner; a rectangular component (2 rows, 1 column) keeps the
    // cheaper row.
    assert_eq!(
        assign_sparse(2, 1, &[(0, 0, 1.0), (1, 0, 0.5)]),
        vec![(1, 0)]
    );
}
