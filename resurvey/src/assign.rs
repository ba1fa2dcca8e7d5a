//! Minimum-cost one-to-one assignment (the Hungarian method; Kuhn 1955, Munkres 1957), in the
//! O(n²m) shortest-augmenting-path form with potentials (Jonker & Volgenant 1987).
//!
//! Trees are matched within gated pairs only; [`assign_sparse`] splits the pairs into connected
//! components first, so a stand of thousands of trees is many small problems.

/// Rows matched to columns minimising the total cost of a dense `n × m` matrix (row-major,
/// `n ≤ m`); every row gets a column.
pub fn hungarian(cost: &[f64], n: usize, m: usize) -> Vec<usize> {
    debug_assert!(n <= m && cost.len() == n * m);
    // 1-based arrays as in the classic formulation; column 0 is the virtual start.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1]; // p[j]: row assigned to column j
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut row_to_col = vec![0usize; n];
    for j in 1..=m {
        if p[j] > 0 {
            row_to_col[p[j] - 1] = j - 1;
        }
    }
    row_to_col
}

/// Cost of a pair outside the gate: never chosen over leaving both unmatched.
const FORBIDDEN: f64 = 1e9;

/// One-to-one assignment of `rows` to `cols` over the allowed `pairs` (row, col, cost),
/// minimising the total cost; rows and columns without an allowed partner stay unmatched.
/// Returns (row, col) sorted by row.
pub fn assign_sparse(
    rows: usize,
    cols: usize,
    pairs: &[(usize, usize, f64)],
) -> Vec<(usize, usize)> {
    // Connected components of the bipartite gate graph (union-find over rows ∪ cols).
    let mut parent: Vec<usize> = (0..rows + cols).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for &(r, c, _) in pairs {
        let (a, b) = (find(&mut parent, r), find(&mut parent, rows + c));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (k, &(r, _, _)) in pairs.iter().enumerate() {
        let root = find(&mut parent, r);
        groups.entry(root).or_default().push(k);
    }
    let mut out = Vec::new();
    for ks in groups.values() {
        let mut rs: Vec<usize> = ks.iter().map(|&k| pairs[k].0).collect();
        let mut cs: Vec<usize> = ks.iter().map(|&k| pairs[k].1).collect();
        rs.sort_unstable();
        rs.dedup();
        cs.sort_unstable();
        cs.dedup();
        let transpose = rs.len() > cs.len();
        let (n, m) = if transpose {
            (cs.len(), rs.len())
        } else {
            (rs.len(), cs.len())
        };
        let mut cost = vec![FORBIDDEN; n * m];
        for &k in ks {
            let (r, c, w) = pairs[k];
            let ri = rs.binary_search(&r).expect("row of the component");
            let ci = cs.binary_search(&c).expect("column of the component");
            let (a, b) = if transpose { (ci, ri) } else { (ri, ci) };
            cost[a * m + b] = cost[a * m + b].min(w);
        }
        for (a, b) in hungarian(&cost, n, m).into_iter().enumerate() {
            if cost[a * m + b] >= FORBIDDEN {
                continue;
            }
            out.push(if transpose {
                (rs[b], cs[a])
            } else {
                (rs[a], cs[b])
            });
        }
    }
    out.sort_unstable();
    out
}
