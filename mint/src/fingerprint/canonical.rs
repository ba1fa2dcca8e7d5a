//! The canonical point encoding: one byte string per *set of points*, whatever file format
//! carried them and in whatever order.
//!
//! # Quantisation
//! Every position becomes integer millimetres in the project CRS:
//! `q = round((origin + position as f64) × 1000)` (round half away from zero), kept as `i64`.
//! LiDAR ranging noise is centimetres, so a millimetre grid loses nothing a surveyor could
//! defend, and it absorbs the float noise of formats that store doubles (PLY) or a different
//! origin. Coordinates must be finite and within ±2^53 mm (±9·10^12 m) so the arithmetic is
//! exact. Caveat: a source whose own grid is finer than 1 mm (LAS scale 0.0001) can have points
//! within float noise of a half-millimetre; such a point may round differently after a format
//! change. Sources on 1 mm or coarser grids (nearly every LAS/LAZ in practice; TwinMint's
//! default for other formats) round identically: an `f32` offset from the origin is off by at
//! most half an ulp — 0.004 mm at 100 m, 0.12 mm at 2 km, 0.24 mm only beyond 4 km — so even two
//! re-encodings through different origins keep a grid point within half a millimetre of itself.
//!
//! # Order
//! Records are sorted by a Morton (Z-order) key of the quantised position, so spatially close
//! points land in the same Merkle leaf and a proof covers a compact region:
//! - offsets `d = q − q_min` from the quantised bounds minimum (per axis, `u64`);
//! - when the largest extent fits 21 bits (2^21 mm ≈ 2.1 km per axis) the key interleaves the
//!   full offsets: bit `3i` = x bit `i`, `3i+1` = y bit `i`, `3i+2` = z bit `i` (63 bits);
//! - beyond that, every axis is shifted right by the same `s = bits(max extent) − 21`, so the key
//!   is the Morton code of `2^s`-mm cubes — still spatially coherent, still 63 bits;
//! - ties (equal keys: duplicate cells, or points sharing a coarse cube) are broken by the
//!   canonical record bytes compared lexicographically. A record starts with the full quantised
//!   x, y, z and then holds every hashed attribute, so the order is total over distinct records,
//!   and records that compare equal are byte-identical — swapping them cannot change a hash.
//!
//! `q_min` and `s` depend only on the quantised point set, so the order does too.
//!
//! # Record schemas
//! [`Schema::Portable`] (the fingerprint that goes on chain) hashes only what every supported
//! format keeps: LAS/LAZ keep everything, but PLY drops return numbers, classification, flags,
//! GPS time and scan angle, and stores colour in 8 bits. Fixed 28 bytes, little-endian:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | x, integer mm, `i64` |
//! | 8 | 8 | y, integer mm, `i64` |
//! | 16 | 8 | z, integer mm, `i64` |
//! | 24 | 1 | 1 when the cloud has colour, else 0 |
//! | 25 | 3 | red, green, blue: the high byte of the 16-bit LAS value (`v >> 8`), 0 when absent |
//!
//! The high byte survives every path: an 8-bit source is stored as `k × 257`, whose high byte is
//! `k`; PLY writes `v >> 8` and reads back `k × 257`.
//!
//! [`Schema::Las`] additionally hashes the LAS attributes, for comparing LAS/LAZ files with each
//! other (not with PLY). Fixed `53 + Σ extra widths` bytes, little-endian:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 24 | x, y, z as above |
//! | 24 | 2 | presence bits `u16`: 0 rgb, 1 nir, 2 intensity, 3 return number, 4 number of returns, 5 classification, 6 flags, 7 scan angle, 8 user data, 9 point source id, 10 gps time |
//! | 26 | 6 | red, green, blue `u16` (full 16 bits) |
//! | 32 | 2 | nir `u16` |
//! | 34 | 2 | intensity `u16` |
//! | 36 | 1 | return number |
//! | 37 | 1 | number of returns |
//! | 38 | 1 | classification |
//! | 39 | 1 | flags (LAS 1.4 flag byte) |
//! | 40 | 2 | scan angle `i16` (0.006° units) |
//! | 42 | 1 | user data |
//! | 43 | 2 | point source id `u16` |
//! | 45 | 8 | gps time, the `f64` bit pattern as `u64` |
//! | 53 | … | extra columns' raw bytes, columns in byte-wise name order |
//!
//! Absent attributes are zero with their presence bit clear. The extra columns' names and types
//! are not in the records; they are in the schema id ([`CanonicalCloud::schema_id`]), which is
//! reported with every fingerprint. Normals are never hashed (derived data).

use std::cmp::Ordering;

use capture::{ExtraColumn, PointCloud};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::merkle::{self, MerkleTree};
use crate::error::{MintError, Result};

/// Points per Merkle leaf by default: 65,536 points × 28 bytes ≈ 1.8 MB per leaf — big enough
/// that a 100 M-point cloud has only ~1,500 leaves (a 11-hash proof), small enough that one
/// leaf is a quick download for a spot check.
pub const DEFAULT_CHUNK_POINTS: usize = 65_536;

/// Bits per axis in the Morton key (3 × 21 = 63).
pub const MORTON_BITS: u32 = 21;

/// Bytes per [`Schema::Portable`] record.
pub const PORTABLE_RECORD_BYTES: usize = 28;

/// Bytes of a [`Schema::Las`] record before the extra columns.
pub const LAS_RECORD_FIXED_BYTES: usize = 53;

/// Which attributes the canonical records hold (see the module docs for the byte layouts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schema {
    /// xyz in mm and 8-bit colour: equal for LAS, LAZ and PLY of the same scan. On chain.
    #[default]
    Portable,
    /// Every LAS attribute and extra column: equal for LAS and LAZ of the same scan.
    Las,
}

/// Options of the cloud fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintOptions {
    /// Points per Merkle leaf ([`DEFAULT_CHUNK_POINTS`]).
    pub chunk_points: usize,
    pub schema: Schema,
}

impl Default for FingerprintOptions {
    fn default() -> Self {
        FingerprintOptions {
            chunk_points: DEFAULT_CHUNK_POINTS,
            schema: Schema::Portable,
        }
    }
}

/// Quantised bounds in integer millimetres, exactly as the fingerprint sees the points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundsMm {
    pub min: [i64; 3],
    pub max: [i64; 3],
}

/// Millimetres of an absolute coordinate, before the range check.
#[inline(always)]
fn mm(origin: f64, p: f32) -> f64 {
    ((origin + p as f64) * 1000.0).round()
}

/// Limit of |q| in mm: every value is an exact double and every difference fits `u64`.
const MAX_MM: f64 = 9_007_199_254_740_992.0; // 2^53

/// `x.round() as i64` (half away from zero) for |x| < 2^53, without the libm call `f64::round`
/// costs on baseline x86-64: truncate, then step away from zero when the exact remainder is at
/// least one half. Same result as `f64::round` on that range (checked in the tests).
#[inline(always)]
pub fn round_i64(x: f64) -> i64 {
    let t = x as i64;
    let frac = x - t as f64; // exact: |x| < 2^53
    t + i64::from(frac >= 0.5) - i64::from(frac <= -0.5)
}

#[inline(always)]
fn quantise(origin: &[f64; 3], p: &[f32; 3]) -> [i64; 3] {
    // Range was checked on the bounds; quantisation is monotonic in `p`, so every point is
    // within it.
    [
        round_i64((origin[0] + p[0] as f64) * 1000.0),
        round_i64((origin[1] + p[1] as f64) * 1000.0),
        round_i64((origin[2] + p[2] as f64) * 1000.0),
    ]
}

/// Spread the low 21 bits of `v` to every third bit.
#[inline(always)]
pub fn split3(v: u64) -> u64 {
    let mut x = v & 0x1f_ffff;
    x = (x | x << 32) & 0x001f_0000_0000_ffff;
    x = (x | x << 16) & 0x001f_0000_ff00_00ff;
    x = (x | x << 8) & 0x100f_00f0_0f00_f00f;
    x = (x | x << 4) & 0x10c3_0c30_c30c_30c3;
    x = (x | x << 2) & 0x1249_2492_4924_9249;
    x
}

/// Inverse of [`split3`]: gather every third bit (from bit 0) into the low 21 bits.
#[inline(always)]
pub fn compact3(v: u64) -> u64 {
    let mut x = v & 0x1249_2492_4924_9249;
    x = (x ^ (x >> 2)) & 0x10c3_0c30_c30c_30c3;
    x = (x ^ (x >> 4)) & 0x100f_00f0_0f00_f00f;
    x = (x ^ (x >> 8)) & 0x001f_0000_ff00_00ff;
    x = (x ^ (x >> 16)) & 0x001f_0000_0000_ffff;
    x = (x ^ (x >> 32)) & 0x1f_ffff;
    x
}

/// 63-bit Morton key: x in bits 0, 3, 6…, y in 1, 4, 7…, z in 2, 5, 8….
#[inline(always)]
pub fn morton3(x: u64, y: u64, z: u64) -> u64 {
    split3(x) | split3(y) << 1 | split3(z) << 2
}

/// [`split3`] of every byte, for the table-driven [`morton3_fast`].
static SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut v = 0;
    while v < 256 {
        let mut x = 0u64;
        let mut b = 0;
        while b < 8 {
            x |= ((v as u64 >> b) & 1) << (3 * b);
            b += 1;
        }
        t[v] = x;
        v += 1;
    }
    t
};

/// [`split3`] by three table lookups (L1-resident), cheaper than the five mask steps.
#[inline(always)]
fn split3_fast(v: u64) -> u64 {
    SPREAD[(v & 0xff) as usize]
        | SPREAD[((v >> 8) & 0xff) as usize] << 24
        | SPREAD[((v >> 16) & 0x1f) as usize] << 48
}

/// [`morton3`] for offsets below 2^21, by table.
#[inline(always)]
pub fn morton3_fast(x: u64, y: u64, z: u64) -> u64 {
    split3_fast(x) | split3_fast(y) << 1 | split3_fast(z) << 2
}

/// Bit length of `v` (0 for 0).
fn bit_len(v: u64) -> u32 {
    u64::BITS - v.leading_zeros()
}

/// Quantised bounds of `cloud` (`None` when empty), checking every position is finite and in
/// range. Relies on quantisation being monotonic: the quantised minimum is the quantisation of
/// the minimum `f32` position.
pub fn quantised_bounds(cloud: &PointCloud) -> Result<Option<BoundsMm>> {
    let positions = &cloud.positions;
    if positions.is_empty() {
        return Ok(None);
    }
    #[derive(Clone, Copy)]
    struct Acc {
        lo: [f32; 3],
        hi: [f32; 3],
        bad: Option<usize>,
    }
    let init = Acc {
        lo: [f32::INFINITY; 3],
        hi: [f32::NEG_INFINITY; 3],
        bad: None,
    };
    let merge = |a: Acc, b: Acc| Acc {
        lo: [0, 1, 2].map(|k| a.lo[k].min(b.lo[k])),
        hi: [0, 1, 2].map(|k| a.hi[k].max(b.hi[k])),
        bad: match (a.bad, b.bad) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        },
    };
    const BLOCK: usize = 1 << 16;
    let acc = positions
        .par_chunks(BLOCK)
        .enumerate()
        .map(|(c, ps)| {
            // Branch-free min/max and finiteness; the index of a bad point is only looked for
            // when there is one.
            let mut a = init;
            let mut finite = true;
            for p in ps {
                for (k, &v) in p.iter().enumerate() {
                    a.lo[k] = if v < a.lo[k] { v } else { a.lo[k] };
                    a.hi[k] = if v > a.hi[k] { v } else { a.hi[k] };
                    finite &= v.is_finite();
                }
            }
            if !finite {
                a.bad = ps
                    .iter()
                    .position(|p| !p.iter().all(|v| v.is_finite()))
                    .map(|j| c * BLOCK + j);
            }
            a
        })
        .reduce(|| init, merge);
    if let Some(index) = acc.bad {
        return Err(MintError::NonFinitePoint {
            index,
            position: positions[index],
        });
    }
    let o = &cloud.origin;
    for k in 0..3 {
        for v in [acc.lo[k], acc.hi[k]] {
            let q = mm(o[k], v);
            // `is_nan` is unreachable here (finiteness was checked) but keeps the test total.
            if q.is_nan() || q.abs() > MAX_MM {
                let index = positions.iter().position(|p| p[k] == v).unwrap_or(0);
                return Err(MintError::CoordinateOutOfRange {
                    index,
                    axis: ['x', 'y', 'z'][k],
                    value_m: o[k] + v as f64,
                });
            }
        }
    }
    Ok(Some(BoundsMm {
        min: quantise(o, &acc.lo),
        max: quantise(o, &acc.hi),
    }))
}

/// Writes the canonical record of a point.
pub(crate) struct Encoder<'a> {
    cloud: &'a PointCloud,
    schema: Schema,
    record_len: usize,
    /// Extra columns in byte-wise name order (LAS schema only).
    extras: Vec<&'a ExtraColumn>,
    presence: u16,
}

impl<'a> Encoder<'a> {
    fn new(cloud: &'a PointCloud, schema: Schema) -> Self {
        let mut extras: Vec<&ExtraColumn> = cloud.extra.iter().collect();
        extras.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let c = cloud;
        let presence = [
            c.rgb.is_some(),
            c.nir.is_some(),
            c.intensity.is_some(),
            c.return_number.is_some(),
            c.number_of_returns.is_some(),
            c.classification.is_some(),
            c.flags.is_some(),
            c.scan_angle.is_some(),
            c.user_data.is_some(),
            c.point_source_id.is_some(),
            c.gps_time.is_some(),
        ]
        .iter()
        .enumerate()
        .fold(0u16, |m, (bit, on)| m | (u16::from(*on) << bit));
        let record_len = match schema {
            Schema::Portable => PORTABLE_RECORD_BYTES,
            Schema::Las => {
                LAS_RECORD_FIXED_BYTES + extras.iter().map(|e| e.data_type.width()).sum::<usize>()
            }
        };
        Encoder {
            cloud,
            schema,
            record_len,
            extras: if schema == Schema::Las {
                extras
            } else {
                Vec::new()
            },
            presence,
        }
    }

    fn schema_id(&self) -> String {
        match self.schema {
            Schema::Portable => "twinmint-points-v1-portable".to_string(),
            Schema::Las => {
                let mut s = "twinmint-points-v1-las".to_string();
                for e in &self.extras {
                    let ty = format!("{:?}", e.data_type).to_ascii_lowercase();
                    s += &format!("+{}:{ty}", e.name);
                }
                s
            }
        }
    }

    /// Write point `i`'s record into `out` (exactly `record_len` bytes).
    #[inline(always)]
    fn encode(&self, i: usize, out: &mut [u8]) {
        let c = self.cloud;
        let q = quantise(&c.origin, &c.positions[i]);
        out[0..8].copy_from_slice(&q[0].to_le_bytes());
        out[8..16].copy_from_slice(&q[1].to_le_bytes());
        out[16..24].copy_from_slice(&q[2].to_le_bytes());
        match self.schema {
            Schema::Portable => out[24..28].copy_from_slice(&self.colour(i)),
            Schema::Las => self.encode_las(i, out),
        }
    }

    /// Bytes 24..28 of a portable record: `[1, r >> 8, g >> 8, b >> 8]`, or zeros.
    #[inline(always)]
    fn colour(&self, i: usize) -> [u8; 4] {
        match &self.cloud.rgb {
            Some(rgb) if self.schema == Schema::Portable => {
                let v = rgb[i];
                [1, (v[0] >> 8) as u8, (v[1] >> 8) as u8, (v[2] >> 8) as u8]
            }
            _ => [0; 4],
        }
    }

    fn encode_las(&self, i: usize, out: &mut [u8]) {
        let c = self.cloud;
        out[24..26].copy_from_slice(&self.presence.to_le_bytes());
        let rgb = c.rgb.as_ref().map_or([0; 3], |v| v[i]);
        for (k, v) in rgb.iter().enumerate() {
            out[26 + 2 * k..28 + 2 * k].copy_from_slice(&v.to_le_bytes());
        }
        let u16_at = |col: &Option<Vec<u16>>| col.as_ref().map_or(0, |v| v[i]).to_le_bytes();
        let u8_at = |col: &Option<Vec<u8>>| col.as_ref().map_or(0, |v| v[i]);
        out[32..34].copy_from_slice(&u16_at(&c.nir));
        out[34..36].copy_from_slice(&u16_at(&c.intensity));
        out[36] = u8_at(&c.return_number);
        out[37] = u8_at(&c.number_of_returns);
        out[38] = u8_at(&c.classification);
        out[39] = u8_at(&c.flags);
        let angle = c.scan_angle.as_ref().map_or(0i16, |v| v[i]);
        out[40..42].copy_from_slice(&angle.to_le_bytes());
        out[42] = u8_at(&c.user_data);
        out[43..45].copy_from_slice(&u16_at(&c.point_source_id));
        let t = c.gps_time.as_ref().map_or(0u64, |v| v[i].to_bits());
        out[45..53].copy_from_slice(&t.to_le_bytes());
        let mut at = LAS_RECORD_FIXED_BYTES;
        for e in &self.extras {
            let w = e.data_type.width();
            out[at..at + w].copy_from_slice(&e.data[i * w..(i + 1) * w]);
            at += w;
        }
    }

    /// Byte-wise comparison of two points' records (the tie-break of the order).
    fn compare(&self, a: usize, b: usize) -> Ordering {
        if self.record_len <= 256 {
            let (mut x, mut y) = ([0u8; 256], [0u8; 256]);
            self.encode(a, &mut x[..self.record_len]);
            self.encode(b, &mut y[..self.record_len]);
            x[..self.record_len].cmp(&y[..self.record_len])
        } else {
            let (mut x, mut y) = (vec![0u8; self.record_len], vec![0u8; self.record_len]);
            self.encode(a, &mut x);
            self.encode(b, &mut y);
            x.cmp(&y)
        }
    }
}

/// A point in the sort: `[key, index | colour << 32]` — its Morton key, its index, and, for the
/// portable schema, the colour bytes of its record (`[flag, r, g, b]`, little-endian), which
/// fill what would be padding after a `u32` index. With the key (when it holds the full
/// offsets) they are the whole record, so hashing reads the sorted items sequentially instead
/// of gathering points from all over the cloud. A plain `[u64; 2]` rather than a struct so
/// that `vec![[0; 2]; n]` is a zeroed allocation (fresh pages, no initialising write pass).
type Item = [u64; 2];

#[inline(always)]
fn item(key: u64, idx: usize, colour: [u8; 4]) -> Item {
    [
        key,
        idx as u64 | u64::from(u32::from_le_bytes(colour)) << 32,
    ]
}

#[inline(always)]
fn item_idx(it: &Item) -> usize {
    (it[1] & 0xffff_ffff) as usize
}

#[inline(always)]
fn item_colour(it: &Item) -> [u8; 4] {
    ((it[1] >> 32) as u32).to_le_bytes()
}

/// The portable record of an item whose key holds the full offsets from `min`.
#[inline(always)]
fn portable_from_item(min: &[i64; 3], it: &Item) -> [u8; PORTABLE_RECORD_BYTES] {
    let k = it[0];
    let mut r = [0u8; PORTABLE_RECORD_BYTES];
    r[0..8].copy_from_slice(&(min[0] + compact3(k) as i64).to_le_bytes());
    r[8..16].copy_from_slice(&(min[1] + compact3(k >> 1) as i64).to_le_bytes());
    r[16..24].copy_from_slice(&(min[2] + compact3(k >> 2) as i64).to_le_bytes());
    r[24..28].copy_from_slice(&item_colour(it));
    r
}

/// A cloud in canonical order, ready to be encoded, hashed or proven chunk by chunk.
pub struct CanonicalCloud<'a> {
    encoder: Encoder<'a>,
    /// Points in canonical order.
    items: Vec<Item>,
    /// The quantised minimum when records can be rebuilt from the items alone (portable
    /// schema, no Morton shift); `None` makes encoding read the cloud.
    from_items: Option<[i64; 3]>,
    chunk_points: usize,
    bounds: Option<BoundsMm>,
    shift: u32,
}

impl<'a> CanonicalCloud<'a> {
    /// Quantise, key and sort `cloud` (parallel). Fails on inconsistent columns, non-finite or
    /// out-of-range positions, more than `u32::MAX` points, or `chunk_points == 0`.
    pub fn new(cloud: &'a PointCloud, options: &FingerprintOptions) -> Result<Self> {
        if options.chunk_points == 0 {
            return Err(MintError::InvalidOption {
                option: "chunk_points",
                reason: "must be at least 1".into(),
            });
        }
        cloud
            .check_columns()
            .map_err(|reason| MintError::InconsistentCloud { reason })?;
        let n = cloud.len();
        if n > u32::MAX as usize {
            return Err(MintError::TooManyPoints { points: n });
        }
        let encoder = Encoder::new(cloud, options.schema);
        let bounds = quantised_bounds(cloud)?;
        let (items, shift) = match bounds {
            None => (Vec::new(), 0),
            Some(b) => sort(&encoder, &b),
        };
        let from_items = bounds
            .filter(|_| shift == 0 && options.schema == Schema::Portable)
            .map(|b| b.min);
        Ok(CanonicalCloud {
            encoder,
            items,
            from_items,
            chunk_points: options.chunk_points,
            bounds,
            shift,
        })
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes per canonical record.
    pub fn record_len(&self) -> usize {
        self.encoder.record_len
    }

    /// Names the record layout, e.g. `twinmint-points-v1-portable`.
    pub fn schema_id(&self) -> String {
        self.encoder.schema_id()
    }

    /// Quantised bounds (`None` for an empty cloud).
    pub fn bounds(&self) -> Option<BoundsMm> {
        self.bounds
    }

    /// Right shift applied to every axis before interleaving (0 when the cloud spans less than
    /// 2^21 mm on every axis).
    pub fn morton_shift(&self) -> u32 {
        self.shift
    }

    /// Point indices (into the source cloud) in canonical order.
    pub fn order(&self) -> Vec<u32> {
        self.items.iter().map(|it| item_idx(it) as u32).collect()
    }

    /// Number of Merkle leaves: `ceil(points / chunk_points)`.
    pub fn leaf_count(&self) -> usize {
        self.items.len().div_ceil(self.chunk_points)
    }

    /// Whether records are rebuilt from the sorted items alone (the fast path), not read from
    /// the cloud's columns.
    pub fn rebuilds_from_items(&self) -> bool {
        self.from_items.is_some()
    }

    /// The record of the cloud's `index`-th point read from its columns (the slow path that
    /// [`Self::record`] must equal).
    pub fn record_from_columns(&self, index: usize) -> Vec<u8> {
        let mut out = vec![0u8; self.record_len()];
        self.encoder.encode(index, &mut out);
        out
    }

    /// The canonical record of the `rank`-th point in canonical order.
    pub fn record(&self, rank: usize) -> Vec<u8> {
        let mut out = vec![0u8; self.record_len()];
        self.encode(&self.items[rank], &mut out);
        out
    }

    /// The bytes of leaf `index`: its points' records, concatenated in canonical order. A
    /// verifier hashes these with [`merkle::leaf_hash`] and checks the proof.
    pub fn leaf_bytes(&self, index: usize) -> Result<Vec<u8>> {
        let leaves = self.leaf_count();
        if index >= leaves {
            return Err(MintError::LeafIndex {
                index: index as u64,
                leaves: leaves as u64,
            });
        }
        let ranks = self.leaf_range(index);
        let rl = self.record_len();
        let mut out = vec![0u8; ranks.len() * rl];
        out.par_chunks_mut(rl)
            .zip(&self.items[ranks])
            .for_each(|(dst, it)| self.encode(it, dst));
        Ok(out)
    }

    fn leaf_range(&self, index: usize) -> std::ops::Range<usize> {
        let start = index * self.chunk_points;
        start..(start + self.chunk_points).min(self.items.len())
    }

    /// Record of a sorted item: rebuilt from the key and colour bytes on the fast path (no
    /// access to the cloud), else encoded from the cloud's columns.
    #[inline(always)]
    fn encode(&self, it: &Item, out: &mut [u8]) {
        match self.from_items {
            Some(min) => out.copy_from_slice(&portable_from_item(&min, it)),
            None => self.encoder.encode(item_idx(it), out),
        }
    }

    /// Hash of leaf `index`, streamed: records are encoded in small blocks and fed to SHA-256
    /// without materialising the leaf.
    fn hash_leaf(&self, index: usize) -> [u8; 32] {
        const BLOCK: usize = 2048;
        let rl = self.record_len();
        let mut buf = vec![0u8; BLOCK * rl];
        let mut h = Sha256::new();
        h.update([merkle::LEAF_PREFIX]);
        let items = &self.items[self.leaf_range(index)];
        if let Some(min) = self.from_items {
            // Fast path: fixed-size records straight from the sorted items.
            for items in items.chunks(BLOCK) {
                let used = &mut buf[..items.len() * PORTABLE_RECORD_BYTES];
                for (dst, it) in used
                    .as_chunks_mut::<PORTABLE_RECORD_BYTES>()
                    .0
                    .iter_mut()
                    .zip(items)
                {
                    *dst = portable_from_item(&min, it);
                }
                h.update(&*used);
            }
            return h.finalize().into();
        }
        for items in items.chunks(BLOCK) {
            let used = &mut buf[..items.len() * rl];
            for (dst, it) in used.chunks_exact_mut(rl).zip(items) {
                self.encode(it, dst);
            }
            h.update(&*used);
        }
        h.finalize().into()
    }

    /// The Merkle tree over all leaves (leaves hashed in parallel).
    pub fn merkle_tree(&self) -> MerkleTree {
        let hashes: Vec<[u8; 32]> = (0..self.leaf_count())
            .into_par_iter()
            .map(|l| self.hash_leaf(l))
            .collect();
        MerkleTree::from_leaf_hashes(hashes)
    }

    /// The cloud fingerprint and its tree.
    pub fn digest(&self) -> (super::CloudFingerprint, MerkleTree) {
        let tree = self.merkle_tree();
        let fp = super::CloudFingerprint {
            root: tree.root(),
            leaves: tree.leaf_count(),
            points: self.len() as u64,
            chunk_points: self.chunk_points as u64,
            schema: self.schema_id(),
            record_bytes: self.record_len() as u32,
        };
        (fp, tree)
    }
}

/// Points per first-level bucket the sort aims at.
const FIRST_LEVEL_BUCKET: usize = 512;
/// Slices up to this length are insertion-sorted.
const SMALL_SORT: usize = 16;

/// Largest sub-bucket for which one insertion sort over the whole bucket is used.
const SMALL_RUN: usize = 8;

/// Insertion sort for tiny slices, pattern-defeating quicksort otherwise — so clustered or
/// duplicate-heavy clouds stay `n log n`.
fn sort_small_or_large(v: &mut [Item], cmp: &impl Fn(&Item, &Item) -> Ordering) {
    if v.len() > SMALL_SORT {
        v.sort_unstable_by(cmp);
    } else {
        insertion_sort(v, cmp);
    }
}

/// Linear on nearly sorted input: each item moves past only the items it is out of order with.
fn insertion_sort(v: &mut [Item], cmp: &impl Fn(&Item, &Item) -> Ordering) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &v[j]) == Ordering::Greater {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Canonical order of a non-empty cloud: a parallel two-level MSD radix sort on the Morton key,
/// finished by comparison sorts (key, then record bytes) of the tiny runs left.
///
/// 1. the input is cut into parts; each part computes `(key, index, colour)` items and
///    counting-sorts them locally into buckets by the top key bits (no shared writes);
/// 2. each output bucket (a disjoint `&mut` slice; buckets run in parallel) gathers its items
///    from every part with a second counting sort on the next key bits, then sorts each
///    sub-bucket — almost always 0–3 items, so no unpredictable comparison branches.
///
/// About 512 points per bucket keeps the second level in L1/L2 cache.
fn sort(enc: &Encoder<'_>, b: &BoundsMm) -> (Vec<Item>, u32) {
    let cloud = enc.cloud;
    let positions = &cloud.positions;
    let n = positions.len();
    let extent = (0..3)
        .map(|k| (b.max[k] - b.min[k]) as u64)
        .max()
        .unwrap_or(0);
    let shift = bit_len(extent).saturating_sub(MORTON_BITS);
    let key_bits = 3 * bit_len(extent >> shift);
    let bucket_bits = key_bits.min(bit_len((n / FIRST_LEVEL_BUCKET) as u64).min(16));
    let bucket_shift = key_bits - bucket_bits;
    let buckets = 1usize << bucket_bits;
    let origin = cloud.origin;
    let min = b.min;
    let key = move |p: &[f32; 3]| {
        let q = quantise(&origin, p);
        morton3_fast(
            (q[0].wrapping_sub(min[0]) as u64) >> shift,
            (q[1].wrapping_sub(min[1]) as u64) >> shift,
            (q[2].wrapping_sub(min[2]) as u64) >> shift,
        )
    };

    let threads = rayon::current_num_threads().max(1);
    let parts = (threads * 4).min(n.div_ceil(1 << 14)).max(1);
    let part_len = n.div_ceil(parts);
    let locals: Vec<(Vec<Item>, Vec<u32>)> = positions
        .par_chunks(part_len)
        .enumerate()
        .map(|(p, ps)| {
            let base = p * part_len;
            let mut starts = vec![0u32; buckets + 1];
            let items: Vec<Item> = ps
                .iter()
                .enumerate()
                .map(|(j, pos)| {
                    let k = key(pos);
                    starts[(k >> bucket_shift) as usize + 1] += 1;
                    item(k, base + j, enc.colour(base + j))
                })
                .collect();
            for i in 0..buckets {
                starts[i + 1] += starts[i];
            }
            let mut cursor = starts.clone();
            let mut local = vec![[0u64; 2]; items.len()];
            for it in items {
                let c = &mut cursor[(it[0] >> bucket_shift) as usize];
                local[*c as usize] = it;
                *c += 1;
            }
            (local, starts)
        })
        .collect();

    let mut sizes = vec![0usize; buckets];
    for (_, starts) in &locals {
        for (s, w) in sizes.iter_mut().zip(starts.windows(2)) {
            *s += (w[1] - w[0]) as usize;
        }
    }
    let mut sorted = vec![[0u64; 2]; n];
    let mut slices: Vec<&mut [Item]> = Vec::with_capacity(buckets);
    let mut rest = &mut sorted[..];
    for &s in &sizes {
        let (head, tail) = rest.split_at_mut(s);
        slices.push(head);
        rest = tail;
    }
    let cmp = |x: &Item, y: &Item| {
        x[0].cmp(&y[0])
            .then_with(|| enc.compare(item_idx(x), item_idx(y)))
    };
    slices
        .into_par_iter()
        .enumerate()
        .with_min_len(4)
        .for_each_init(Vec::new, |counts: &mut Vec<u32>, (bucket, dst)| {
            let srcs = || {
                locals.iter().map(move |(items, starts)| {
                    &items[starts[bucket] as usize..starts[bucket + 1] as usize]
                })
            };
            // Second level: counting sort on the next bits, fused with the gather.
            let m = dst.len();
            // About two items per sub-bucket: few counters to clear and scan.
            let sub_bits = (bit_len(m as u64).saturating_sub(1))
                .min(bucket_shift)
                .min(16);
            if m <= SMALL_SORT || sub_bits == 0 {
                let mut at = 0;
                for src in srcs() {
                    dst[at..at + src.len()].copy_from_slice(src);
                    at += src.len();
                }
                sort_small_or_large(dst, &cmp);
                return;
            }
            let sub_shift = bucket_shift - sub_bits;
            let mask = (1u64 << sub_bits) - 1;
            let sub = |it: &Item| ((it[0] >> sub_shift) & mask) as usize;
            counts.clear();
            counts.resize((1 << sub_bits) + 1, 0);
            for src in srcs() {
                for it in src {
                    counts[sub(it) + 1] += 1;
                }
            }
            let mut largest = 0;
            for j in 0..1 << sub_bits {
                largest = largest.max(counts[j + 1]);
                counts[j + 1] += counts[j];
            }
            for src in srcs() {
                for it in src {
                    let c = &mut counts[sub(it)];
                    dst[*c as usize] = *it;
                    *c += 1;
                }
            }
            // Sorted by the radix bits; only items sharing a sub-bucket can be out of order.
            // Small sub-buckets: one insertion sort over the bucket is linear. A large one
            // (clustered points, duplicates) gets its own n log n sort.
            if largest as usize <= SMALL_RUN {
                insertion_sort(dst, &cmp);
                return;
            }
            // Sub-bucket j ends at counts[j] and starts where j − 1 ended.
            let mut start = 0;
            for &end in &counts[..1 << sub_bits] {
                let end = end as usize;
                if end - start > 1 {
                    sort_small_or_large(&mut dst[start..end], &cmp);
                }
                start = end;
            }
        });
    (sorted, shift)
}
