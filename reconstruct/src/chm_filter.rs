//! Canopy height model filters before treetop detection: a morphological closing that fills
//! pits and empty cells, and a Gaussian smoother that merges branch-level maxima of one crown.
//!
//! This is the pre-processing of Monnet (2011, *Using airborne laser scanning for mountain
//! forests mapping*, PhD thesis, Univ. Grenoble, §6.2; Monnet et al. 2010, *Tree top detection
//! using local maxima filtering: a parameter sensitivity analysis*, SilviLaser 2010) as the
//! lidaRtRee package runs it (`dem_filtering`: closing with a disk of 5 cells, then a Gaussian of
//! σ = 0.3 m). On sparse airborne scans a point-to-raster CHM at 0.5 m has empty cells and
//! cells hit low inside a crown; the closing lifts them to the surrounding crown surface
//! without widening crowns (a dilation followed by an erosion), and the small Gaussian keeps
//! the tops of crowns that stand 2–3 m apart while removing single-return spikes.
//! Nodata cells count as 0 m (ground), as lidaRtRee replaces NA before filtering; the result
//! has no nodata.

use rayon::prelude::*;

use crate::model::Raster;

fn values(chm: &Raster) -> Vec<f32> {
    chm.data
        .iter()
        .map(|&v| if chm.is_nodata(v) { 0.0 } else { v })
        .collect()
}

/// Offsets of a disk of `diameter_px` cells (odd; even sizes are rounded up).
fn disk(diameter_px: usize) -> Vec<(isize, isize)> {
    let r = (diameter_px / 2) as isize;
    let mut out = Vec::new();
    for dr in -r..=r {
        for dc in -r..=r {
            if dr * dr + dc * dc <= r * r {
                out.push((dr, dc));
            }
        }
    }
    out
}

/// Cell-wise maximum (`max = true`, dilation) or minimum (erosion) over a structuring element;
/// edges are padded by repeating the edge cell.
fn morph(v: &[f32], w: usize, h: usize, se: &[(isize, isize)], max: bool) -> Vec<f32> {
    (0..w * h)
        .into_par_iter()
        .map(|i| {
            let (c, r) = ((i % w) as isize, (i / w) as isize);
            let mut acc = if max {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            };
            for &(dr, dc) in se {
                let rr = (r + dr).clamp(0, h as isize - 1) as usize;
                let cc = (c + dc).clamp(0, w as isize - 1) as usize;
                let q = v[rr * w + cc];
                acc = if max { acc.max(q) } else { acc.min(q) };
            }
            acc
        })
        .collect()
}

/// Morphological closing with a disk of `diameter_px` cells (0 or 1: no change except nodata →
/// 0).
pub fn close_disk(chm: &Raster, diameter_px: usize) -> Raster {
    let v = values(chm);
    let data = if diameter_px <= 1 {
        v
    } else {
        let se = disk(diameter_px);
        let d = morph(&v, chm.width, chm.height, &se, true);
        morph(&d, chm.width, chm.height, &se, false)
    };
    Raster {
        data,
        ..chm.clone()
    }
}

/// Separable Gaussian of standard deviation `sigma_m` (kernel cut at 3σ, edges padded by
/// repetition); `sigma_m ≤ 0` returns the raster with nodata → 0.
pub fn gaussian(chm: &Raster, sigma_m: f64) -> Raster {
    let mut v = values(chm);
    let sigma = sigma_m / chm.resolution_m;
    if sigma > 0.0 {
        let k = (3.0 * sigma).ceil().max(1.0) as isize;
        let mut kern: Vec<f64> = (-k..=k)
            .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
            .collect();
        let s: f64 = kern.iter().sum();
        kern.iter_mut().for_each(|x| *x /= s);
        let (w, h) = (chm.width as isize, chm.height as isize);
        let pass = |src: &[f32], horizontal: bool| -> Vec<f32> {
            (0..(w * h) as usize)
                .into_par_iter()
                .map(|i| {
                    let (c, r) = (i as isize % w, i as isize / w);
                    let mut acc = 0.0f64;
                    for (j, kv) in kern.iter().enumerate() {
                        let o = j as isize - k;
                        let (cc, rr) = if horizontal {
                            ((c + o).clamp(0, w - 1), r)
                        } else {
                            (c, (r + o).clamp(0, h - 1))
                        };
                        acc += kv * src[(rr * w + cc) as usize] as f64;
                    }
                    acc as f32
                })
                .collect()
        };
        v = pass(&v, true);
        v = pass(&v, false);
    }
    Raster {
        data: v,
        ..chm.clone()
    }
}
