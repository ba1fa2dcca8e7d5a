//! Height above ground for every point, and terrain statistics from the DTM.
//!
//! Heights are `z − DTM(x, y)` with the DTM bilinearly interpolated between cell centres
//! ([`Raster::sample`]) — lidR's `normalize_height` with a raster DTM (Roussel et al. 2020).
//! Points outside the DTM or over nodata get NaN.

use capture::PointCloud;
use rayon::prelude::*;

use crate::model::{Raster, TerrainStats};

/// Height above ground of every point (NaN where the DTM is undefined).
pub fn height_above_ground(cloud: &PointCloud, dtm: &Raster) -> Vec<f32> {
    let o = cloud.origin;
    cloud
        .positions
        .par_iter()
        .map(|p| {
            let (x, y) = (o[0] + p[0] as f64, o[1] + p[1] as f64);
            match dtm.sample(x, y) {
                Some(g) => (o[2] + p[2] as f64 - g) as f32,
                None => f32::NAN,
            }
        })
        .collect()
}

/// A copy of `cloud` with z replaced by height above ground (origin z = 0), for canopy and
/// tree steps that expect normalised heights. Points without a DTM value keep NaN heights.
pub fn normalized(cloud: &PointCloud, dtm: &Raster) -> PointCloud {
    let hag = height_above_ground(cloud, dtm);
    let mut out = cloud.clone();
    out.origin[2] = 0.0;
    for (p, h) in out.positions.iter_mut().zip(hag) {
        p[2] = h;
    }
    out.quantization = None;
    out
}

/// The cloud the tree step reads, lean: the kept points' positions with z replaced by height
/// above ground (origin z = 0) and their return numbers (first returns make the CHM) — not a
/// copy of every attribute, which the tree step never reads. Built straight from `cloud` (no
/// intermediate selection), so a 1 M-point project or a survey tile holds one full cloud, not
/// three. `keep` drops points (noise); the lean cloud's points are the kept ones in order
/// (no index list is made: [`scatter_kept`] maps per-point results back through `keep`).
pub fn normalized_for_trees(cloud: &PointCloud, keep: Option<&[bool]>, dtm: &Raster) -> PointCloud {
    let keep = keep.filter(|k| k.iter().any(|&x| !x));
    let o = cloud.origin;
    let pick = |i: usize| normalized_position(cloud, dtm, i);
    let positions: Vec<[f32; 3]> = match keep {
        // rayon's filter-collect keeps the order.
        Some(k) => (0..cloud.len())
            .into_par_iter()
            .filter(|&i| k[i])
            .map(pick)
            .collect(),
        None => (0..cloud.len()).into_par_iter().map(pick).collect(),
    };
    let column = |c: &Option<Vec<u8>>| -> Option<Vec<u8>> {
        c.as_ref().map(|v| match keep {
            Some(k) => v
                .iter()
                .zip(k)
                .filter(|(_, k)| **k)
                .map(|(v, _)| *v)
                .collect(),
            None => v.clone(),
        })
    };
    PointCloud {
        origin: [o[0], o[1], 0.0],
        positions,
        return_number: column(&cloud.return_number),
        number_of_returns: column(&cloud.number_of_returns),
        crs: cloud.crs.clone(),
        ..Default::default()
    }
}

/// Point `i` of `cloud` as [`normalized_for_trees`] stores it: local x, y (the cloud's origin)
/// and height above `dtm` (NaN where undefined). The one formula, so a step that computes heights
/// on the fly (the CHM from the terrain) gets the normalised cloud's values bit for bit.
pub fn normalized_position(cloud: &PointCloud, dtm: &Raster, i: usize) -> [f32; 3] {
    let o = cloud.origin;
    let p = cloud.positions[i];
    let (x, y) = (o[0] + p[0] as f64, o[1] + p[1] as f64);
    let h = match dtm.sample(x, y) {
        Some(g) => (o[2] + p[2] as f64 - g) as f32,
        None => f32::NAN,
    };
    [p[0], p[1], h]
}

/// Per-point values of the kept points (`kept_values`, in the order of
/// [`normalized_for_trees`]) spread over the whole cloud; dropped points get `T::default()`.
pub fn scatter_kept<T: Copy + Default>(keep: Option<&[bool]>, kept_values: &[T]) -> Vec<T> {
    let Some(k) = keep else {
        return kept_values.to_vec();
    };
    let mut it = kept_values.iter().copied();
    k.iter()
        .map(|&kept| {
            if kept {
                it.next().unwrap_or_default()
            } else {
                T::default()
            }
        })
        .collect()
}

/// Terrain statistics: heights over the DTM's defined cells, slope by Horn's (1981) 3×3
/// finite differences ("Hill shading and the reflectance map", *Proc. IEEE* 69(1)), the
/// method of GDAL `gdaldem slope`, over cells whose 8 neighbours are all defined.
pub fn terrain_stats(dtm: &Raster, ground_points: u64) -> TerrainStats {
    let (w, h) = (dtm.width, dtm.height);
    let defined = |c: usize, r: usize| !dtm.is_nodata(dtm.get(c, r));
    let (mut min_z, mut max_z, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
    for r in 0..h {
        for c in 0..w {
            if defined(c, r) {
                let z = dtm.get(c, r) as f64;
                min_z = min_z.min(z);
                max_z = max_z.max(z);
                sum += z;
                n += 1;
            }
        }
    }
    let res = dtm.resolution_m;
    let (mut slope_sum, mut slope_max, mut slopes) = (0.0, 0.0f64, 0usize);
    for r in 1..h.saturating_sub(1) {
        for c in 1..w.saturating_sub(1) {
            if !(r - 1..=r + 1).all(|rr| (c - 1..=c + 1).all(|cc| defined(cc, rr))) {
                continue;
            }
            let z = |dc: isize, dr: isize| {
                dtm.get((c as isize + dc) as usize, (r as isize + dr) as usize) as f64
            };
            // Row 0 is north: +row is south, so dz/dy = −(south − north).
            let dzdx = ((z(1, -1) + 2.0 * z(1, 0) + z(1, 1))
                - (z(-1, -1) + 2.0 * z(-1, 0) + z(-1, 1)))
                / (8.0 * res);
            let dzdy = ((z(-1, -1) + 2.0 * z(0, -1) + z(1, -1))
                - (z(-1, 1) + 2.0 * z(0, 1) + z(1, 1)))
                / (8.0 * res);
            let deg = dzdx.hypot(dzdy).atan().to_degrees();
            slope_sum += deg;
            slope_max = slope_max.max(deg);
            slopes += 1;
        }
    }
    TerrainStats {
        ground_points,
        min_z: if n > 0 { min_z } else { 0.0 },
        max_z: if n > 0 { max_z } else { 0.0 },
        mean_z: if n > 0 { sum / n as f64 } else { 0.0 },
        mean_slope_deg: if slopes > 0 {
            slope_sum / slopes as f64
        } else {
            0.0
        },
        max_slope_deg: slope_max,
        area_m2: n as f64 * res * res,
    }
}
