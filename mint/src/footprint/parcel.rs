//! Footprints from a parcel boundary: a GeoJSON area, in longitude/latitude (RFC 7946) or in the
//! UTM CRS the file names.
//!
//! Read: `Polygon`, `MultiPolygon`, `GeometryCollection`, `Feature` and `FeatureCollection`
//! (points and lines are skipped, an area is required). Rings follow the even-odd rule within
//! each polygon, so holes subtract whatever their winding; the closing position may be repeated
//! (RFC 7946 §3.1.6) or not. Self-intersections are not repaired: an edge crossing the parcel
//! simply excludes the cells it touches.
//!
//! CRS: RFC 7946 coordinates are longitude, latitude (WGS 84). Files from older tools carry the
//! 2008 GeoJSON `"crs"` member (`{"type": "name", "properties": {"name":
//! "urn:ogc:def:crs:EPSG::32633"}}`, or `"EPSG:32633"`, `…/def/crs/EPSG/0/32633`, `{"type":
//! "EPSG", "properties": {"code": 32633}}`); it is honoured, with GeoJSON's x-then-y order even
//! for EPSG:4326. A file without one whose coordinates cannot be degrees (|x| > 180 or |y| > 90)
//! is an export that dropped its CRS: it is read in the project's CRS when that is UTM, and
//! refused otherwise.
//!
//! Geometry: a parcel in UTM is used as is; a parcel in degrees is densified (RFC 7946 §3.1.1:
//! edges are straight in longitude/latitude) to ≤ 0.0005° steps, about 50 m, and projected into
//! the UTM zone of its centre. The same parcel in either form gives the same cells: the two edge
//! interpretations differ by well under a millimetre at parcel scale.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use capture::Crs;
use h3o::CellIndex;
use serde_json::Value;

use super::cells::{self, Bbox, Region};
use super::error::FootprintError;
use super::plane::{Georef, Plane, georef};

/// A polygon in file coordinates: outer ring first, then holes (each without its closing
/// repeat).
type Rings = Vec<Vec<[f64; 2]>>;

/// A parsed parcel: polygons in file coordinates and the CRS to read them in.
pub struct Parcel {
    pub polygons: Vec<Rings>,
    pub georef: Georef,
    /// Label of the CRS used, recorded in the footprint (`EPSG:32633`, `OGC:CRS84`).
    pub crs_label: String,
}

/// Parse a GeoJSON parcel file's bytes.
pub fn parse(path: &Path, bytes: &[u8], project_crs: &Crs) -> Result<Parcel, FootprintError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|source| FootprintError::NotJson {
        path: path.into(),
        source,
    })?;
    if !value.is_object() {
        return Err(FootprintError::geojson(
            path,
            "the top level is not a JSON object",
        ));
    }
    let mut polygons = Vec::new();
    let mut found = BTreeSet::new();
    collect(path, &value, &mut polygons, &mut found, 0)?;
    if polygons.is_empty() {
        return Err(FootprintError::NoPolygon {
            path: path.into(),
            found: if found.is_empty() {
                "no geometry".into()
            } else {
                found.into_iter().collect::<Vec<_>>().join(", ")
            },
        });
    }
    let (georef, crs_label) = parcel_crs(path, &value, project_crs, &polygons)?;
    if georef == Georef::LonLat
        && let Some(p) = polygons
            .iter()
            .flatten()
            .flatten()
            .find(|p| p[0].abs() > 180.0 || p[1].abs() > 90.0)
    {
        return Err(FootprintError::geojson(
            path,
            format!(
                "position [{}, {}] is not longitude, latitude although the file is in {crs_label}",
                p[0], p[1]
            ),
        ));
    }
    Ok(Parcel {
        polygons,
        georef,
        crs_label,
    })
}

/// Gather the polygons of any GeoJSON object; `found` collects the other geometry types met.
fn collect(
    path: &Path,
    v: &Value,
    out: &mut Vec<Rings>,
    found: &mut BTreeSet<String>,
    depth: usize,
) -> Result<(), FootprintError> {
    if depth > 16 {
        return Err(FootprintError::geojson(
            path,
            "objects nested more than 16 deep",
        ));
    }
    let Some(kind) = v.get("type").and_then(Value::as_str) else {
        return Err(FootprintError::geojson(
            path,
            "an object has no \"type\" member",
        ));
    };
    let member = |name: &str| {
        v.get(name)
            .ok_or_else(|| FootprintError::geojson(path, format!("a {kind} has no \"{name}\"")))
    };
    let array = |name: &str| -> Result<&Vec<Value>, FootprintError> {
        member(name)?.as_array().ok_or_else(|| {
            FootprintError::geojson(path, format!("\"{name}\" of a {kind} is not an array"))
        })
    };
    match kind {
        "FeatureCollection" => {
            for f in array("features")? {
                collect(path, f, out, found, depth + 1)?;
            }
        }
        "Feature" => match member("geometry")? {
            Value::Null => {}
            g => collect(path, g, out, found, depth + 1)?,
        },
        "GeometryCollection" => {
            for g in array("geometries")? {
                collect(path, g, out, found, depth + 1)?;
            }
        }
        "Polygon" => out.push(polygon(path, member("coordinates")?, out.len())?),
        "MultiPolygon" => {
            for p in array("coordinates")? {
                out.push(polygon(path, p, out.len())?);
            }
        }
        "Point" | "MultiPoint" | "LineString" | "MultiLineString" => {
            found.insert(kind.to_string());
        }
        other => {
            return Err(FootprintError::geojson(
                path,
                format!("unknown GeoJSON type {other:?}"),
            ));
        }
    }
    Ok(())
}

/// One polygon's rings (`index` numbers it in messages, from 1).
fn polygon(path: &Path, v: &Value, index: usize) -> Result<Rings, FootprintError> {
    let bad =
        |reason: String| FootprintError::geojson(path, format!("polygon {}: {reason}", index + 1));
    let rings = v
        .as_array()
        .ok_or_else(|| bad("coordinates are not an array of rings".into()))?;
    if rings.is_empty() {
        return Err(bad("no rings".into()));
    }
    let mut out = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let positions = ring
            .as_array()
            .ok_or_else(|| bad(format!("ring {} is not an array of positions", r + 1)))?;
        let mut pts = Vec::with_capacity(positions.len());
        for p in positions {
            let xy = p.as_array().and_then(|a| {
                let x = a.first()?.as_f64()?;
                let y = a.get(1)?.as_f64()?;
                (x.is_finite() && y.is_finite()).then_some([x, y])
            });
            pts.push(xy.ok_or_else(|| {
                bad(format!(
                    "ring {}: position {p} is not [x, y, …] numbers",
                    r + 1
                ))
            })?);
        }
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        pts.dedup();
        if pts.len() < 3 {
            return Err(bad(format!(
                "ring {} has fewer than 3 distinct positions",
                r + 1
            )));
        }
        out.push(pts);
    }
    Ok(out)
}

/// The CRS the coordinates are in, and its label.
fn parcel_crs(
    path: &Path,
    v: &Value,
    project_crs: &Crs,
    polygons: &[Rings],
) -> Result<(Georef, String), FootprintError> {
    let unsupported = |crs: String, hint: &str| FootprintError::UnsupportedParcelCrs {
        path: path.into(),
        crs,
        hint: hint.into(),
    };
    const HINT: &str = "reproject the parcel to longitude/latitude (RFC 7946 GeoJSON) or to \
                        WGS 84 / UTM, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`";
    match v.get("crs") {
        None | Some(Value::Null) => {
            let degrees = polygons
                .iter()
                .flatten()
                .flatten()
                .all(|p| p[0].abs() <= 180.0 && p[1].abs() <= 90.0);
            if degrees {
                return Ok((Georef::LonLat, "OGC:CRS84".into()));
            }
            match georef(project_crs) {
                Some(g @ Georef::Utm { .. }) => Ok((g, project_crs.label())),
                _ => Err(unsupported(
                    format!("(none named; the project's is {})", project_crs.label()),
                    "the coordinates are not longitude/latitude and the file names no CRS; add a \
                     \"crs\" member (e.g. urn:ogc:def:crs:EPSG::32633) or reproject to \
                     longitude/latitude",
                )),
            }
        }
        Some(c) => {
            let props = c.get("properties");
            let name = match c.get("type").and_then(Value::as_str) {
                Some("name") => props
                    .and_then(|p| p.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                Some("EPSG") => props
                    .and_then(|p| p.get("code"))
                    .and_then(|c| c.as_u64().map(|n| format!("EPSG:{n}"))),
                _ => None,
            }
            .ok_or_else(|| {
                unsupported(
                    c.to_string(),
                    "only named (\"type\": \"name\") or EPSG CRSs are understood",
                )
            })?;
            if name.to_ascii_uppercase().ends_with("CRS84") {
                return Ok((Georef::LonLat, "OGC:CRS84".into()));
            }
            let code: Option<u32> = name
                .rsplit([':', '/'])
                .next()
                .and_then(|s| s.parse().ok())
                .filter(|_| name.to_ascii_uppercase().contains("EPSG"));
            let Some(code) = code else {
                return Err(unsupported(name, HINT));
            };
            let crs = Crs::epsg(code);
            match georef(&crs) {
                Some(g) => Ok((g, crs.label())),
                None => Err(unsupported(name, HINT)),
            }
        }
    }
}

/// Longest step, in degrees, of a densified lon/lat edge (≈ 55 m of latitude).
const DENSIFY_DEG: f64 = 0.0005;

impl Parcel {
    /// The plane to compute in and the polygons in it.
    pub fn to_plane(&self) -> (Plane, Vec<Rings>) {
        match self.georef {
            Georef::Utm { zone, north } => (Plane { zone, north }, self.polygons.clone()),
            Georef::LonLat => {
                let all: Vec<[f64; 2]> =
                    self.polygons.iter().flatten().flatten().copied().collect();
                let b = cells::bbox_of(&all);
                let plane = Plane::at(0.5 * (b[1] + b[3]), 0.5 * (b[0] + b[2]));
                let polygons = self
                    .polygons
                    .iter()
                    .map(|rings| {
                        rings
                            .iter()
                            .map(|ring| {
                                densify(ring)
                                    .into_iter()
                                    .map(|p| plane.forward(p[1], p[0]))
                                    .collect()
                            })
                            .collect()
                    })
                    .collect();
                (plane, polygons)
            }
        }
    }
}

/// Split each edge of a closed lon/lat ring into steps of at most [`DENSIFY_DEG`].
fn densify(ring: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut out = Vec::with_capacity(ring.len());
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        let n = ((b[0] - a[0]).abs().max((b[1] - a[1]).abs()) / DENSIFY_DEG)
            .ceil()
            .max(1.0) as usize;
        out.extend((0..n).map(|k| {
            let t = k as f64 / n as f64;
            [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
        }));
    }
    out
}

/// Planar area of a polygon (outer minus holes), m².
pub(crate) fn area(rings: &Rings) -> f64 {
    let ring_area = |r: &[[f64; 2]]| {
        0.5 * (0..r.len())
            .map(|i| {
                let (p, q) = (r[i], r[(i + 1) % r.len()]);
                p[0] * q[1] - q[0] * p[1]
            })
            .sum::<f64>()
            .abs()
    };
    let outer = ring_area(&rings[0]);
    (outer - rings[1..].iter().map(|r| ring_area(r)).sum::<f64>()).max(0.0)
}

/// Bucket size of the segment index (m): about two hexagon widths, so a hexagon query looks at
/// a handful of buckets.
const BUCKET_M: f64 = 32.0;

/// One polygon as a [`Region`]: a cell is held when its centre is inside (even-odd over the
/// rings) and no ring edge meets its closed hexagon — then the hexagon, being connected and
/// never crossing the boundary, lies wholly in the interior.
pub(crate) struct PolygonRegion {
    segments: Vec<[[f64; 2]; 2]>,
    /// Segments overlapping each horizontal band of buckets (for the centre's ray cast).
    rows: HashMap<i64, Vec<u32>>,
    /// Segments passing through each bucket (for the hexagon test).
    buckets: HashMap<(i64, i64), Vec<u32>>,
    pub bbox: Bbox,
}

impl PolygonRegion {
    pub fn new(rings: &Rings) -> Self {
        let mut segments = Vec::new();
        for ring in rings {
            for i in 0..ring.len() {
                segments.push([ring[i], ring[(i + 1) % ring.len()]]);
            }
        }
        let mut rows: HashMap<i64, Vec<u32>> = HashMap::new();
        let mut buckets: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
        for (k, &[p, q]) in segments.iter().enumerate() {
            let (r0, r1) = (bucket(p[1].min(q[1])), bucket(p[1].max(q[1])));
            for r in r0..=r1 {
                rows.entry(r).or_default().push(k as u32);
                // The segment's x-range within this band of rows (closed band).
                let (y0, y1) = (r as f64 * BUCKET_M, (r + 1) as f64 * BUCKET_M);
                let Some((xa, xb)) = cells::x_range_in_band(&[p, q], y0, y1) else {
                    continue;
                };
                for c in bucket(xa)..=bucket(xb) {
                    buckets.entry((c, r)).or_default().push(k as u32);
                }
            }
        }
        PolygonRegion {
            bbox: cells::bbox_of(&rings[0]),
            segments,
            rows,
            buckets,
        }
    }
}

fn bucket(v: f64) -> i64 {
    (v / BUCKET_M).floor() as i64
}

impl Region for PolygonRegion {
    fn may_hold(&self, c: [f64; 2]) -> bool {
        let Some(row) = self.rows.get(&bucket(c[1])) else {
            return false;
        };
        let mut inside = false;
        for &k in row {
            let [p, q] = self.segments[k as usize];
            if (p[1] > c[1]) != (q[1] > c[1]) {
                let x = p[0] + (c[1] - p[1]) / (q[1] - p[1]) * (q[0] - p[0]);
                if x > c[0] {
                    inside = !inside;
                }
            }
        }
        inside
    }

    fn holds(&self, hexagon: &[[f64; 2]]) -> bool {
        let b = cells::bbox_of(hexagon);
        for r in bucket(b[1])..=bucket(b[3]) {
            for c in bucket(b[0])..=bucket(b[2]) {
                if let Some(list) = self.buckets.get(&(c, r))
                    && list.iter().any(|&k| {
                        let [p, q] = self.segments[k as usize];
                        cells::segment_meets_convex(p, q, hexagon)
                    })
                {
                    return false;
                }
            }
        }
        true
    }
}

/// The cells wholly inside the parcel's polygons (sorted, unique), and its planar area in m².
pub fn claim(parcel: &Parcel, what: &str) -> Result<(Vec<CellIndex>, f64), FootprintError> {
    let (plane, polygons) = parcel.to_plane();
    let mut all = BTreeSet::new();
    let mut area_m2 = 0.0;
    for rings in &polygons {
        area_m2 += area(rings);
        let region = PolygonRegion::new(rings);
        all.extend(cells::claim(&plane, region.bbox, &region, what)?);
        if all.len() > super::MAX_FOOTPRINT_CELLS {
            return Err(cells::too_large(what, all.len() as u64));
        }
    }
    let mut cells: Vec<CellIndex> = all.into_iter().collect();
    cells.sort_unstable_by_key(|&c| u64::from(c));
    Ok((cells, area_m2))
}
