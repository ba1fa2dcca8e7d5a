//! Tree ids derived from apex coordinates: the same tree gets the same id whatever the tiling,
//! because the id depends only on where its top is (to the centimetre), never on which tile or
//! in which order it was found.

use std::collections::BTreeSet;

/// The centimetre grid key of an apex.
pub fn apex_key(x: f64, y: f64) -> (i64, i64) {
    ((x * 100.0).round() as i64, (y * 100.0).round() as i64)
}

/// FNV-1a 64 of the key's bytes, folded to 32 bits (ids are `u32` in the reconstruction), never 0.
fn hash(key: (i64, i64)) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.0.to_le_bytes().iter().chain(key.1.to_le_bytes().iter()) {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let v = ((h >> 32) ^ h) as u32;
    v.max(1)
}

/// Ids for apexes given in any order: each key's hash, the next free value on a collision,
/// collisions resolved in key order (so the result does not depend on the input order).
pub fn assign(keys: &[(i64, i64)]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| keys[i]);
    let mut used = BTreeSet::new();
    let mut ids = vec![0u32; keys.len()];
    for i in order {
        let mut id = hash(keys[i]);
        while !used.insert(id) {
            id = id.wrapping_add(1).max(1);
        }
        ids[i] = id;
    }
    ids
}
