//! Tests of `mint::footprint::coverage` (src/footprint/coverage.rs).
use mint::footprint::coverage::*;
use std::collections::HashSet;

fn raster_of(rows: &[&str], fill: usize) -> Vec<bool> {
    let (nx, ny) = (rows[0].len(), rows.len());
    let occ: Vec<bool> = rows
        .iter()
        .rev()
        .flat_map(|r| r.chars().map(|c| c == '#'))
        .collect();
    let mut c = morph(&morph(&occ, nx, ny, true), nx, ny, false);
    fill_holes(&mut c, nx, ny, fill);
    c
}

fn count(v: &[bool]) -> usize {
    v.iter().filter(|&&b| b).count()
}

#[test]
fn closing_fills_single_gaps_but_not_the_outline() {
    let rows = [
        "..........",
        ".########.",
        ".###.####.",
        ".########.",
        ".#######..",
        "..........",
    ];
    let c = raster_of(&rows, 0);
    // The single gap is filled; the outline, including the one-square notch at the
    // lower-right corner (a 3 × 3 square fits beside it), is unchanged.
    let expected: Vec<bool> = (0..60)
        .map(|k| {
            let (x, y) = (k % 10, k / 10);
            (1..=8).contains(&x) && (1..=4).contains(&y) && (x, y) != (8, 1)
        })
        .collect();
    assert_eq!(c, expected);
}

#[test]
fn enclosed_holes_fill_up_to_the_limit() {
    let mut rows = vec![".............".to_string()];
    rows.push(".###########.".into());
    for _ in 0..5 {
        rows.push(".###.....###.".into());
    }
    rows.push(".###########.".into());
    rows.push(".............".into());
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let small = raster_of(&rows, 24);
    let large = raster_of(&rows, 25);
    assert_eq!(count(&large) - count(&small), 25, "a 5 × 5 hole");
}

#[test]
fn groups_split_far_apart_points() {
    let occ: HashSet<(i64, i64)> = [(0, 0), (3, 3), (10, 0), (1000, 1000)].into();
    let g = groups(&occ);
    assert_eq!(g.len(), 3);
    assert_eq!(g[0].len(), 2);
}
