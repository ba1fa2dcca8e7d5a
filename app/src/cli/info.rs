//! `twinmint info FILE`: what `pdal info` / `lasinfo` tell, for every format TwinMint reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::progress::Bar;
use super::{Ctx, LoadArgs};

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Scan file (LAS, LAZ, E57, PLY, XYZ/CSV/PTS/TXT, OBJ).
    file: PathBuf,
    #[command(flatten)]
    load: LoadArgs,
}

/// Everything `info` reports; also its `--json` schema.
#[derive(Serialize)]
struct InfoReport {
    schema_version: u32,
    file: String,
    format: String,
    format_version: Option<String>,
    sha256: String,
    size_bytes: u64,
    point_count: u64,
    points_loaded: u64,
    generating_software: Option<String>,
    device: Option<String>,
    capture_time: Option<capture::CaptureTime>,
    crs: capture::Crs,
    up_axis: capture::UpAxis,
    up_axis_reason: String,
    bounds: capture::Bounds,
    /// Points per square metre over the bounding box's horizontal area.
    density_per_m2: Option<f64>,
    class_counts: BTreeMap<u8, u64>,
    return_counts: BTreeMap<u8, u64>,
    attributes: Vec<String>,
    extra_columns: Vec<ExtraInfo>,
    mesh_triangles: usize,
    images: Vec<capture::provenance::ImageInfo>,
    /// The octree of a COPC file: what a streaming viewer will find.
    #[serde(skip_serializing_if = "Option::is_none")]
    copc: Option<CopcInfo>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct CopcInfo {
    nodes: usize,
    max_depth: i32,
    /// Edge of the octree's root cube, metres.
    cube_m: f64,
    /// Points in the root node (the coarsest level a viewer draws first).
    root_points: u64,
}

/// The COPC octree of `path`, when it is one.
fn copc_info(path: &std::path::Path) -> anyhow::Result<Option<CopcInfo>> {
    // Only LAS/LAZ can be COPC (the file has been read whole already, so it is valid).
    if !matches!(
        capture::read::Format::detect(path),
        Ok(capture::read::Format::Las | capture::read::Format::Laz)
    ) {
        return Ok(None);
    }
    let Some(f) = capture::copc::CopcFile::open_if_copc(path)? else {
        return Ok(None);
    };
    Ok(Some(CopcInfo {
        nodes: f.nodes.len(),
        max_depth: f.nodes.iter().map(|n| n.key[0]).max().unwrap_or(0),
        cube_m: f.cube_size,
        root_points: f
            .nodes
            .iter()
            .find(|n| n.key == [0, 0, 0, 0])
            .map_or(0, |n| n.points),
    }))
}

#[derive(Serialize)]
struct ExtraInfo {
    name: String,
    data_type: capture::ExtraType,
    min: f64,
    max: f64,
}

/// ASPRS class names for the table.
fn class_name(c: u8) -> &'static str {
    match c {
        0 => "never classified",
        1 => "unclassified",
        2 => "ground",
        3 => "low vegetation",
        4 => "medium vegetation",
        5 => "high vegetation",
        6 => "building",
        7 => "low point (noise)",
        9 => "water",
        10 => "rail",
        11 => "road surface",
        13 => "wire guard",
        14 => "wire conductor",
        15 => "transmission tower",
        17 => "bridge deck",
        18 => "high noise",
        64 => "pipe (TwinMint)",
        _ => "user / reserved",
    }
}

pub fn run(a: InfoArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let bar = Bar::new(ctx.quiet, "reading");
    let cloud = capture::read(
        &a.file,
        &a.load.read_options()?,
        &mut |e| bar.update(e),
        &ctx.cancel,
    )?;
    bar.finish();
    let src = cloud.provenance.sources[0].clone();
    let bounds = cloud.bounds();
    let area = bounds.area_xy();
    let mut return_counts = BTreeMap::new();
    if let Some(r) = &cloud.return_number {
        r.iter()
            .for_each(|v| *return_counts.entry(*v).or_insert(0) += 1);
    }
    let report = InfoReport {
        schema_version: 1,
        file: a.file.display().to_string(),
        format: src.format.clone(),
        format_version: src.format_version.clone(),
        sha256: src.sha256.clone(),
        size_bytes: src.size_bytes,
        point_count: src.point_count,
        points_loaded: cloud.len() as u64,
        generating_software: src.generating_software.clone(),
        device: src.device.clone(),
        capture_time: src.capture_time.clone(),
        crs: cloud.crs.clone(),
        up_axis: src.up_axis,
        up_axis_reason: src.up_axis_reason.clone(),
        bounds,
        density_per_m2: (area > 0.0).then(|| cloud.len() as f64 / area),
        class_counts: cloud.class_counts(),
        return_counts,
        attributes: capture::project::attribute_names(&cloud),
        extra_columns: cloud
            .extra
            .iter()
            .map(|e| {
                // No-data markers (lidR writes NA trees as f64::MAX) are not data.
                let v: Vec<f64> = e
                    .values()
                    .into_iter()
                    .filter(|x| x.is_finite() && Some(*x) != e.no_data && x.abs() < f64::MAX)
                    .collect();
                ExtraInfo {
                    name: e.name.clone(),
                    data_type: e.data_type,
                    min: v.iter().copied().fold(f64::INFINITY, f64::min),
                    max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                }
            })
            .collect(),
        mesh_triangles: cloud.mesh.as_ref().map_or(0, |m| m.triangles.len()),
        images: src.images.clone(),
        copc: copc_info(&a.file)?,
        warnings: cloud.provenance.warnings.clone(),
    };
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let r = &report;
    println!("file          {}", r.file);
    println!(
        "format        {} {}",
        r.format,
        r.format_version.as_deref().unwrap_or("")
    );
    println!("sha256        {}", r.sha256);
    println!("size          {} bytes", r.size_bytes);
    println!(
        "points        {} (loaded {})",
        r.point_count, r.points_loaded
    );
    if let Some(s) = &r.generating_software {
        println!("software      {s}");
    }
    if let Some(d) = &r.device {
        println!("device        {d}");
    }
    match &r.capture_time {
        Some(t) => println!(
            "captured      {}{} ({:?})",
            t.start.to_rfc3339(),
            t.end
                .map(|e| format!(" … {}", e.to_rfc3339()))
                .unwrap_or_default(),
            t.source
        ),
        None => println!("captured      unknown"),
    }
    println!("crs           {}", r.crs.label());
    println!("up axis       {:?} ({})", r.up_axis, r.up_axis_reason);
    let b = &r.bounds;
    if !b.is_empty() {
        for (k, axis) in ["x", "y", "z"].iter().enumerate() {
            println!(
                "bounds {axis}      {:.3} … {:.3}  ({:.2} m)",
                b.min[k],
                b.max[k],
                b.max[k] - b.min[k]
            );
        }
    }
    if let Some(d) = r.density_per_m2 {
        println!("density       {d:.2} pts/m²");
    }
    println!("attributes    {}", r.attributes.join(", "));
    if r.mesh_triangles > 0 {
        println!("mesh          {} triangles", r.mesh_triangles);
    }
    println!("classes");
    for (c, n) in &r.class_counts {
        println!(
            "  {c:>3} {:<20} {n:>12} ({:.1}%)",
            class_name(*c),
            100.0 * *n as f64 / r.points_loaded.max(1) as f64
        );
    }
    if !r.return_counts.is_empty() {
        println!("returns");
        for (k, n) in &r.return_counts {
            println!("  {k:>3} {n:>12}");
        }
    }
    for e in &r.extra_columns {
        println!(
            "extra         {} {:?} [{} … {}]",
            e.name, e.data_type, e.min, e.max
        );
    }
    for im in &r.images {
        println!(
            "image         {} {} {}×{}",
            im.name,
            im.kind,
            im.width.unwrap_or(0),
            im.height.unwrap_or(0)
        );
    }
    if let Some(c) = &r.copc {
        println!(
            "copc          {} nodes, depth 0…{}, cube {:.1} m, {} points at the root",
            c.nodes, c.max_depth, c.cube_m, c.root_points
        );
    }
    for w in &r.warnings {
        println!("warning       {w}");
    }
    Ok(())
}
