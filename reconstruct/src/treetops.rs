//! Treetops: local maxima of the canopy height model with a height-dependent circular window.
//!
//! A cell is a treetop when it is at least `hmin_m` high and no other cell whose centre lies
//! within the window (a circle of diameter `ws(h)`, `h` = the cell's height) is higher — the
//! variable-window local maximum filter of Popescu & Wynne (2004, *Seeing the trees in the
//! forest*, PE&RS 70(5):589–604), as lidR's `lmf(ws, hmin = 2, shape = "circular")` runs it on a
//! CHM (lidR treats each cell centre as a point). Taller trees have wider crowns, so the window
//! grows with height and suppresses branch-level maxima inside large crowns while still
//! separating small trees.
//!
//! Equal heights inside one window (flat plateaus) resolve deterministically: the cell with the
//! lower index (northern row first, then western column) wins, as lidR's single-threaded run does.

use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};
use crate::model::Raster;

/// Window diameter as a function of height.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowSize {
    /// A fixed diameter in metres (lidR `lmf(ws = d)`).
    Fixed { diameter_m: f64 },
    /// `ws(h) = a + b·h` metres (lidR's documented example `h·0.07 + 3`), clamped to
    /// `[min_m, max_m]`.
    Linear {
        a: f64,
        b: f64,
        min_m: f64,
        max_m: f64,
    },
    /// The saturating curve of the lidR book (Roussel, Goodbody & Tompalski, *The lidR package*,
    /// chapter "Individual tree detection and segmentation"):
    /// `ws(h) = base_m + span_m·(1 − exp(−rate·(h − h0_m)))`, `base_m` below `h0_m`, capped at
    /// `max_m` above `h_max_m`. With the book's constants (3, 2.6, 0.08, 2 m, 5 m at 20 m) the
    /// window grows from 3 m at 2 m height to ≈ 4.2 m at 10 m and 5 m at 20 m and above.
    Saturating {
        base_m: f64,
        span_m: f64,
        rate: f64,
        h0_m: f64,
        h_max_m: f64,
        max_m: f64,
    },
}

impl WindowSize {
    /// The lidR book's curve (the default).
    pub const LIDR_BOOK: WindowSize = WindowSize::Saturating {
        base_m: 3.0,
        span_m: 2.6,
        rate: 0.08,
        h0_m: 2.0,
        h_max_m: 20.0,
        max_m: 5.0,
    };

    /// Window diameter at height `h`.
    pub fn diameter(&self, h: f64) -> f64 {
        match *self {
            WindowSize::Fixed { diameter_m } => diameter_m,
            WindowSize::Linear { a, b, min_m, max_m } => (a + b * h).clamp(min_m, max_m),
            WindowSize::Saturating {
                base_m,
                span_m,
                rate,
                h0_m,
                h_max_m,
                max_m,
            } => {
                if h < h0_m {
                    base_m
                } else if h > h_max_m {
                    max_m
                } else {
                    base_m + span_m * (1.0 - (-rate * (h - h0_m)).exp())
                }
            }
        }
    }
}

impl Default for WindowSize {
    fn default() -> Self {
        WindowSize::LIDR_BOOK
    }
}

/// Options of [`run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreetopOptions {
    /// Window diameter as a function of height (default: the lidR book curve, 3–5 m).
    pub window: WindowSize,
    /// Lowest treetop (default 2 m, lidR `hmin`: below that it is shrubs and ground clutter).
    pub hmin_m: f64,
}

impl Default for TreetopOptions {
    fn default() -> Self {
        TreetopOptions {
            window: WindowSize::default(),
            hmin_m: 2.0,
        }
    }
}

/// One local maximum of the CHM.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Treetop {
    /// Absolute cell-centre coordinates.
    pub x: f64,
    pub y: f64,
    /// CHM value of the cell.
    pub height_m: f64,
    pub col: usize,
    pub row: usize,
}

/// Local maxima of `chm`, ordered by cell index (north to south, west to east).
pub fn run(chm: &Raster, opts: &TreetopOptions) -> Result<Vec<Treetop>> {
    if !(opts.hmin_m.is_finite()) {
        return Err(ReconstructError::InvalidOption {
            option: "treetops hmin_m",
            reason: format!("{} is not finite", opts.hmin_m),
        });
    }
    let (w, h) = (chm.width, chm.height);
    let res = chm.resolution_m;
    let probe = [0.0, opts.hmin_m, 10.0, 20.0, 40.0, 80.0];
    if probe
        .iter()
        .any(|&z| !(opts.window.diameter(z).is_finite() && opts.window.diameter(z) > 0.0))
    {
        return Err(ReconstructError::InvalidOption {
            option: "treetops window",
            reason: "the window diameter must be positive and finite".into(),
        });
    }
    use rayon::prelude::*;
    let tops: Vec<Treetop> = (0..w * h)
        .into_par_iter()
        .filter_map(|i| {
            let z = chm.data[i];
            if chm.is_nodata(z) || (z as f64) < opts.hmin_m {
                return None;
            }
            let radius = 0.5 * opts.window.diameter(z as f64);
            let r2 = radius * radius;
            let k = (radius / res).floor() as isize;
            let (c, r) = ((i % w) as isize, (i / w) as isize);
            for dr in -k..=k {
                let rr = r + dr;
                if rr < 0 || rr >= h as isize {
                    continue;
                }
                for dc in -k..=k {
                    let cc = c + dc;
                    if cc < 0 || cc >= w as isize || (dr == 0 && dc == 0) {
                        continue;
                    }
                    let d2 = ((dr * dr + dc * dc) as f64) * res * res;
                    if d2 > r2 {
                        continue;
                    }
                    let j = rr as usize * w + cc as usize;
                    let q = chm.data[j];
                    if chm.is_nodata(q) {
                        continue;
                    }
                    if q > z || (q == z && j < i) {
                        return None;
                    }
                }
            }
            let (col, row) = (i % w, i / w);
            let (x, y) = chm.center(col, row);
            Some(Treetop {
                x,
                y,
                height_m: z as f64,
                col,
                row,
            })
        })
        .collect();
    Ok(tops)
}
