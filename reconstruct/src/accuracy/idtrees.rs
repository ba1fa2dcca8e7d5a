//! The IDTReeS 2020 plots (NEON MLBS and OSBS; Graves, Marconi et al. 2023, PeerJ): 20 m × 20 m
//! airborne LiDAR plots with hand-delineated crowns joined to field species, DBH and height.
//! See the data folder's PROVENANCE.md: crowns were drawn only for trees visible from above, so
//! the set measures recall, height, DBH and species of the crowns it lists — not precision.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{ReconstructError, Result};
use crate::model::SpeciesClass;

use super::ReferenceTree;

/// One crown record of `trees.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct CrownRecord {
    pub plot: String,
    pub tree: ReferenceTree,
    /// Bounding box of the delineated crown `[xmin, ymin, xmax, ymax]`.
    pub bbox: [f64; 4],
    pub species_code: String,
}

/// The plots of an IDTReeS folder: `(plot name, LAS path, crowns)`, sorted by name; only the
/// plots with a LAS file.
pub fn plots(dir: &Path) -> Result<Vec<(String, PathBuf, Vec<CrownRecord>)>> {
    let csv = dir.join("trees.csv");
    let text = std::fs::read_to_string(&csv).map_err(|source| ReconstructError::Read {
        path: csv.clone(),
        source,
    })?;
    let mut by_plot: BTreeMap<String, Vec<CrownRecord>> = BTreeMap::new();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| ReconstructError::Input {
                step: "idtrees",
                reason: format!("{}: no column {name:?}", csv.display()),
            })
    };
    let (cp, ci, cx, cy) = (col("plot")?, col("id")?, col("x")?, col("y")?);
    let (cx0, cy0, cx1, cy1) = (col("xmin")?, col("ymin")?, col("xmax")?, col("ymax")?);
    let (cs, cg, cd, ch) = (
        col("species")?,
        col("group")?,
        col("dbh_cm")?,
        col("height_m")?,
    );
    for (ln, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() < header.len() {
            continue;
        }
        let num = |i: usize| f[i].parse::<f64>().ok().filter(|v| v.is_finite());
        let (Some(x), Some(y)) = (num(cx), num(cy)) else {
            return Err(ReconstructError::Input {
                step: "idtrees",
                reason: format!("{} line {}: no position", csv.display(), ln + 2),
            });
        };
        let bbox = [
            num(cx0).unwrap_or(x),
            num(cy0).unwrap_or(y),
            num(cx1).unwrap_or(x),
            num(cy1).unwrap_or(y),
        ];
        by_plot
            .entry(f[cp].to_string())
            .or_default()
            .push(CrownRecord {
                plot: f[cp].to_string(),
                tree: ReferenceTree {
                    id: f[ci].to_string(),
                    x,
                    y,
                    height_m: num(ch).filter(|h| *h > 0.0),
                    dbh_cm: num(cd).filter(|d| *d > 0.0),
                    class: SpeciesClass::parse(f[cg]),
                    agb_kg: None,
                    suppressed: false,
                },
                bbox,
                species_code: f[cs].to_string(),
            });
    }
    let mut out = Vec::new();
    for (plot, crowns) in by_plot {
        let las = dir.join(format!("{plot}.las"));
        if las.exists() {
            out.push((plot, las, crowns));
        }
    }
    Ok(out)
}
