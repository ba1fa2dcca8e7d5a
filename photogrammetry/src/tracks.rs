//! Tracks: the connected components of verified matches over (photo, feature) nodes, by
//! union–find. A component that holds two features of one photo is inconsistent and dropped
//! (COLMAP drops the conflicting observations; dropping the track is the simpler, stricter rule).

/// One track: (photo index, feature index) per observation, photos ascending.
pub type Track = Vec<(u32, u32)>;

/// Verified matches of one photo pair: (photo a, photo b, [(feature in a, feature in b)]).
pub type PairMatches<'a> = (usize, usize, &'a [(u32, u32)]);

struct Dsu {
    parent: Vec<u32>,
}

impl Dsu {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = (a.min(b), a.max(b));
            self.parent[hi as usize] = lo;
        }
    }
}

/// Tracks of at least two photos from pairwise matches `(photo a, photo b, [(fa, fb)])`;
/// `counts[i]` is photo i's number of features.
pub fn build(counts: &[usize], matches: &[PairMatches<'_>]) -> Vec<Track> {
    let mut base = Vec::with_capacity(counts.len() + 1);
    let mut acc = 0u32;
    for &c in counts {
        base.push(acc);
        acc += c as u32;
    }
    let mut dsu = Dsu {
        parent: (0..acc).collect(),
    };
    for (a, b, m) in matches {
        for &(fa, fb) in m.iter() {
            dsu.union(base[*a] + fa, base[*b] + fb);
        }
    }
    let mut used = vec![false; acc as usize];
    for (a, b, m) in matches {
        for &(fa, fb) in m.iter() {
            used[(base[*a] + fa) as usize] = true;
            used[(base[*b] + fb) as usize] = true;
        }
    }
    let mut groups: std::collections::BTreeMap<u32, Track> = std::collections::BTreeMap::new();
    for (photo, &b) in base.iter().enumerate() {
        for f in 0..counts[photo] as u32 {
            if used[(b + f) as usize] {
                let root = dsu.find(b + f);
                groups.entry(root).or_default().push((photo as u32, f));
            }
        }
    }
    groups
        .into_values()
        .filter(|t| t.len() >= 2 && t.windows(2).all(|w| w[0].0 != w[1].0))
        .collect()
}
