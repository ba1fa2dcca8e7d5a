//! Wavefront OBJ, as photogrammetry tools export meshes: vertices become points (with the
//! common `v x y z r g b` colour extension), faces become the cloud's mesh.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::cloud::{Mesh, PointCloud};
use crate::error::{CaptureError, Result};
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::Source;

/// Read an OBJ file. Vertices and faces are held together (faces index vertices globally), so the
/// whole mesh is emitted as one chunk.
pub fn read_chunks(
    path: &Path,
    _chunk_points: usize,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
    sink: &mut dyn FnMut(PointCloud) -> Result<()>,
) -> Result<(Source, Vec<String>)> {
    let f = File::open(path).map_err(|e| CaptureError::io(path, e))?;
    let size = f.metadata().map_err(|e| CaptureError::io(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut xyz: Vec<[f64; 3]> = Vec::new();
    let mut rgb: Vec<[u16; 3]> = Vec::new();
    let mut has_rgb = false;
    let mut faces: Vec<Vec<i64>> = Vec::new();
    let mut comments = Vec::new();
    let mut bytes = 0u64;
    let perr = |line: u64, reason: String| CaptureError::Parse {
        path: path.into(),
        line,
        reason,
    };
    let mut line = String::new();
    let mut no = 0u64;
    loop {
        no += 1;
        let n = crate::text::read_line_capped(&mut r, &mut line, path, no)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        let mut w = line.split_whitespace();
        match w.next() {
            Some("v") => {
                let v: Vec<f64> = w
                    .map(|t| t.parse::<f64>())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| perr(no, "non-numeric vertex".into()))?;
                if v.len() < 3 || !v[..3].iter().all(|x| x.is_finite()) {
                    return Err(perr(no, "vertex needs three finite coordinates".into()));
                }
                xyz.push([v[0], v[1], v[2]]);
                if v.len() >= 6 {
                    has_rgb = true;
                    rgb.push(
                        [v[3], v[4], v[5]].map(|c| (c.clamp(0.0, 1.0) * 65535.0).round() as u16),
                    );
                } else {
                    rgb.push([0; 3]);
                }
                if xyz.len().is_multiple_of(1 << 20) {
                    cancel.check()?;
                    progress.report(ProgressEvent {
                        points: xyz.len() as u64,
                        total_points: None,
                        bytes,
                        total_bytes: Some(size),
                    });
                }
            }
            Some("f") => {
                let idx: Vec<i64> = w
                    .map(|t| t.split('/').next().unwrap_or("").parse::<i64>())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| perr(no, "malformed face".into()))?;
                if idx.len() < 3 {
                    return Err(perr(no, "face with fewer than 3 vertices".into()));
                }
                // Negative indices are relative to the vertices defined so far.
                let n = xyz.len() as i64;
                let abs: Vec<i64> = idx
                    .iter()
                    .map(|&i| if i < 0 { n + i } else { i - 1 })
                    .collect();
                if abs.iter().any(|&i| i < 0) {
                    return Err(perr(no, format!("face index {idx:?} is invalid")));
                }
                faces.push(abs);
            }
            Some(c) if c.starts_with('#') => {
                let t = line.trim_start_matches('#').trim();
                if !t.is_empty() && comments.len() < 8 {
                    comments.push(t.to_string());
                }
            }
            _ => {}
        }
    }
    let n = xyz.len();
    let mut triangles = Vec::new();
    for f in &faces {
        if let Some(bad) = f.iter().find(|&&i| i as usize >= n) {
            return Err(CaptureError::invalid(
                path,
                "OBJ",
                format!("face refers to vertex {} but only {n} exist", bad + 1),
            ));
        }
        for t in 1..f.len() - 1 {
            triangles.push([f[0] as u32, f[t] as u32, f[t + 1] as u32]);
        }
    }
    if n > 0 {
        let o = xyz[0].map(|v| v.round());
        let mut c = PointCloud::new(o);
        c.positions = xyz
            .iter()
            .map(|p| {
                [
                    (p[0] - o[0]) as f32,
                    (p[1] - o[1]) as f32,
                    (p[2] - o[2]) as f32,
                ]
            })
            .collect();
        if has_rgb {
            c.rgb = Some(rgb);
        }
        if !triangles.is_empty() {
            c.mesh = Some(Mesh { triangles });
        }
        sink(c)?;
    }
    progress.report(ProgressEvent {
        points: n as u64,
        total_points: Some(n as u64),
        bytes: size,
        total_bytes: Some(size),
    });
    let mut src = Source::new(&path.display().to_string(), "OBJ");
    src.point_count = n as u64;
    src.generating_software = (!comments.is_empty()).then(|| comments.join("; "));
    Ok((src, Vec::new()))
}
