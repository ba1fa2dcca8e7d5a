//! Parcels: the units a lender takes as collateral. `merge --parcels PARCELS.geojson` cuts the
//! merged estate into one project per parcel — its points, the trees whose apex lies in it, the
//! DTM and CHM over its box — so each parcel is fingerprinted, packaged and minted as its own
//! token (and the contract's land-footprint claim keeps two parcels' tokens apart).
//!
//! Parcels are a GeoJSON FeatureCollection (RFC 7946 geometry objects) of `Polygon` or
//! `MultiPolygon` features in the survey's CRS (projected metres: the plan's CRS; GeoJSON's
//! WGS 84 default is not assumed, since a cadastre export in the survey's CRS is what a surveyor
//! has). A feature's name is its `name` property, else `id`, else `parcel-N`. Containment is the
//! even–odd rule over every ring (holes are rings). All parcel projects are written into a
//! staging folder and swapped in as `SURVEY/parcels/` in one step.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use capture::{CancelToken, PointCloud};
use reconstruct::model::{Raster, Tree};

use crate::error::{Result, SurveyError};
use crate::plan::Plan;

/// The parcel projects' folder in the survey.
pub const PARCELS_DIR: &str = "parcels";

/// One parcel: a name and its rings (outer boundaries and holes alike).
#[derive(Clone, Debug, PartialEq)]
pub struct Parcel {
    pub name: String,
    pub rings: Vec<Vec<[f64; 2]>>,
}

/// What a parcel's project holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParcelSummary {
    pub name: String,
    pub trees: usize,
    pub points: u64,
    /// The project folder, relative to the survey.
    pub project: PathBuf,
}

impl Parcel {
    /// Whether (x, y) lies inside (even–odd rule over all rings).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let mut inside = false;
        for ring in &self.rings {
            let n = ring.len();
            for i in 0..n {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0])
                {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// Bounding box: x min, y min, x max, y max.
    pub fn bbox(&self) -> [f64; 4] {
        self.rings
            .iter()
            .flatten()
            .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, p| {
                [
                    b[0].min(p[0]),
                    b[1].min(p[1]),
                    b[2].max(p[0]),
                    b[3].max(p[1]),
                ]
            })
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> SurveyError {
    SurveyError::Parcels {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// A ring's coordinates: at least three positions of two finite numbers.
fn ring(path: &Path, name: &str, v: &serde_json::Value) -> Result<Vec<[f64; 2]>> {
    let pts = v
        .as_array()
        .ok_or_else(|| bad(path, format!("parcel {name}: a ring is not an array")))?;
    let ring: Vec<[f64; 2]> = pts
        .iter()
        .map(|p| {
            let xy = p.as_array().filter(|a| a.len() >= 2).and_then(|a| {
                Some([a[0].as_f64()?, a[1].as_f64()?]).filter(|c| c.iter().all(|v| v.is_finite()))
            });
            xy.ok_or_else(|| bad(path, format!("parcel {name}: a position is not [x, y]")))
        })
        .collect::<Result<_>>()?;
    if ring.len() < 3 {
        return Err(bad(
            path,
            format!("parcel {name}: a ring has fewer than 3 positions"),
        ));
    }
    Ok(ring)
}

/// Read the parcels of a GeoJSON FeatureCollection (module docs); names must be unique and
/// usable as folder names.
pub fn read_parcels(path: &Path) -> Result<Vec<Parcel>> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(path, format!("not JSON: {e}")))?;
    let features = doc["features"]
        .as_array()
        .ok_or_else(|| bad(path, "not a GeoJSON FeatureCollection (no \"features\")"))?;
    let mut out: Vec<Parcel> = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let name = f["properties"]["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| f["id"].as_str().map(str::to_string))
            .or_else(|| f["id"].as_u64().map(|v| v.to_string()))
            .unwrap_or_else(|| format!("parcel-{}", i + 1));
        if name.is_empty()
            || name.starts_with('.')
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        {
            return Err(bad(
                path,
                format!(
                    "parcel name {name:?} cannot name a folder (letters, digits, - _ . and spaces)"
                ),
            ));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(bad(path, format!("two parcels are named {name:?}")));
        }
        let g = &f["geometry"];
        let polygons: Vec<&serde_json::Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["coordinates"]],
            Some("MultiPolygon") => g["coordinates"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            other => {
                return Err(bad(
                    path,
                    format!("parcel {name}: geometry {other:?} is not a Polygon or MultiPolygon"),
                ));
            }
        };
        let mut rings = Vec::new();
        for poly in polygons {
            for r in poly
                .as_array()
                .ok_or_else(|| bad(path, format!("parcel {name}: a polygon is not an array")))?
            {
                rings.push(ring(path, &name, r)?);
            }
        }
        if rings.is_empty() {
            return Err(bad(path, format!("parcel {name}: no rings")));
        }
        out.push(Parcel { name, rings });
    }
    if out.is_empty() {
        return Err(bad(path, "no parcels"));
    }
    Ok(out)
}

/// The cells of `r` that meet `bbox` (whole cells, on `r`'s grid).
pub fn crop_raster(r: &Raster, bbox: [f64; 4]) -> Option<Raster> {
    let res = r.resolution_m;
    let c0 = (((bbox[0] - r.x_min) / res).floor().max(0.0) as usize).min(r.width);
    let c1 = (((bbox[2] - r.x_min) / res).ceil().max(0.0) as usize).min(r.width);
    let r0 = (((r.y_max - bbox[3]) / res).floor().max(0.0) as usize).min(r.height);
    let r1 = (((r.y_max - bbox[1]) / res).ceil().max(0.0) as usize).min(r.height);
    if c1 <= c0 || r1 <= r0 {
        return None;
    }
    let (w, h) = (c1 - c0, r1 - r0);
    let mut data = Vec::with_capacity(w * h);
    for row in r0..r1 {
        data.extend_from_slice(&r.data[row * r.width + c0..row * r.width + c1]);
    }
    Some(Raster {
        x_min: r.x_min + c0 as f64 * res,
        y_max: r.y_max - r0 as f64 * res,
        resolution_m: res,
        width: w,
        height: h,
        data,
        nodata: r.nodata,
    })
}

/// The estate's parts the parcels are cut from.
pub struct Estate<'a> {
    pub cloud: &'a PointCloud,
    pub trees: &'a [Tree],
    pub dtm: &'a Raster,
    pub chm: Option<&'a Raster>,
    pub ground_points: u64,
}

/// Write one project per parcel into `survey/parcels/` (module docs); what each holds.
pub fn write_parcels(
    survey: &Path,
    plan: &Plan,
    parcels: &[Parcel],
    estate: &Estate<'_>,
    source: &Path,
    progress: &mut dyn FnMut(f32),
    cancel: &CancelToken,
) -> Result<Vec<ParcelSummary>> {
    let e = estate.dtm;
    let extent = [
        e.x_min,
        e.y_max - e.height as f64 * e.resolution_m,
        e.x_min + e.width as f64 * e.resolution_m,
        e.y_max,
    ];
    let dir = survey.join(PARCELS_DIR);
    let staging = tempfile::Builder::new()
        .prefix(&capture::commit::staging_prefix(PARCELS_DIR))
        .tempdir_in(survey)
        .map_err(|e| bad(survey, format!("cannot stage the parcels: {e}")))?;
    let mut out = Vec::new();
    for (k, p) in parcels.iter().enumerate() {
        progress(k as f32 / parcels.len() as f32);
        cancel.check().map_err(capture::CaptureError::from)?;
        let b = p.bbox();
        if b[2] <= extent[0] || b[0] >= extent[2] || b[3] <= extent[1] || b[1] >= extent[3] {
            return Err(bad(
                source,
                format!(
                    "parcel {} ({:.0}…{:.0}, {:.0}…{:.0}) lies outside the survey ({:.0}…{:.0}, {:.0}…{:.0}); are its coordinates in the survey's CRS ({})?",
                    p.name,
                    b[0],
                    b[2],
                    b[1],
                    b[3],
                    extent[0],
                    extent[2],
                    extent[1],
                    extent[3],
                    plan.crs.label()
                ),
            ));
        }
        // The box first: the ring walk only for points that can be inside.
        let inside: Vec<usize> = (0..estate.cloud.len())
            .filter(|&i| {
                let q = estate.cloud.absolute(i);
                q[0] >= b[0]
                    && q[0] <= b[2]
                    && q[1] >= b[1]
                    && q[1] <= b[3]
                    && p.contains(q[0], q[1])
            })
            .collect();
        if inside.is_empty() {
            return Err(bad(
                source,
                format!("parcel {} holds no surveyed point", p.name),
            ));
        }
        let cloud = estate.cloud.select(&inside);
        let trees: Vec<Tree> = estate
            .trees
            .iter()
            .filter(|t| p.contains(t.x, t.y))
            .cloned()
            .collect();
        let dtm = crop_raster(estate.dtm, b);
        let chm = estate.chm.and_then(|c| crop_raster(c, b));
        // The tiles count ground per core, not per parcel: the parcel's share of the estate's
        // points stands for its share of the ground returns.
        let ground = (estate.ground_points as f64 * inside.len() as f64
            / estate.cloud.len().max(1) as f64)
            .round() as u64;
        let summary = ParcelSummary {
            name: p.name.clone(),
            trees: trees.len(),
            points: inside.len() as u64,
            project: PathBuf::from(PARCELS_DIR).join(&p.name),
        };
        crate::project::write(
            plan,
            &staging.path().join(&p.name),
            &cloud,
            crate::project::MergedParts {
                trees: &trees,
                dtm: dtm.as_ref(),
                chm: chm.as_ref(),
                ground_points: ground,
                survey_files: vec![(
                    "parcel.json".into(),
                    serde_json::to_vec_pretty(&summary).map_err(|e| bad(survey, e.to_string()))?,
                )],
            },
            cancel,
        )?;
        out.push(summary);
    }
    let staged = staging.keep();
    if let Err(e) = capture::commit::swap_dir(&staged, &dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e.into());
    }
    Ok(out)
}
