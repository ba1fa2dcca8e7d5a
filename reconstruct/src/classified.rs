//! The classified cloud: the input with the reconstruct stage's labels as ASPRS classes and a
//! `treeID` column, written as LAZ (`classified.laz`).
//!
//! Classes follow the ASPRS LAS 1.4 R15 standard classes (table 17): 2 ground, 5 high
//! vegetation (points assigned to a tree), 7 low noise; pipes and their supports get user class
//! 64 (ASPRS reserves 64–255 for user definitions), the code the scan simulator uses. The tree
//! id goes in a `u32` extra-bytes column named `treeID`, the name lidR's `segment_trees` uses,
//! so the file opens in lidR, PDAL and CloudCompare with the segmentation visible.

use std::path::Path;

use capture::las_io::LasWriteOptions;
use capture::{CancelToken, ExtraColumn, PointCloud, Progress};
use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};

/// Per-point labels from the reconstruct steps; each slice has one entry per point. Absent
/// labels leave the corresponding class unassigned.
#[derive(Clone, Copy, Debug, Default)]
pub struct PointLabels<'a> {
    /// Ground points (class 2).
    pub ground: Option<&'a [bool]>,
    /// Tree id per point, 0 for none (class 5 where non-zero).
    pub tree_id: Option<&'a [u32]>,
    /// Pipe run id per point, 0 for none ([`crate::pipes::PipeDetection::point_run`]).
    pub pipe_run: Option<&'a [u32]>,
    /// Post (support) index per point, 0 for none ([`crate::pipes::PipeDetection::point_post`]).
    pub post: Option<&'a [u32]>,
    /// Noise points (class 7).
    pub noise: Option<&'a [bool]>,
}

/// The labels of [`PointLabels`], owned: what the pipeline keeps instead of a classified copy
/// of the cloud, which is built only when written ([`crate::pipeline::ReconstructOutput::classified`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labels {
    pub ground: Vec<bool>,
    pub tree_id: Option<Vec<u32>>,
    pub pipe_run: Option<Vec<u32>>,
    pub post: Option<Vec<u32>>,
    pub noise: Option<Vec<bool>>,
}

impl Labels {
    /// Borrowed, for [`classified_cloud`].
    pub fn as_point_labels(&self) -> PointLabels<'_> {
        PointLabels {
            ground: Some(&self.ground),
            tree_id: self.tree_id.as_deref(),
            pipe_run: self.pipe_run.as_deref(),
            post: self.post.as_deref(),
            noise: self.noise.as_deref(),
        }
    }
}

/// Options of [`classified_cloud`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClassifyOptions {
    /// Keep the input's class where no label applies (default false: such points become
    /// `unassigned_class`, so stale provider classes do not mix with ours).
    pub keep_input_classes: bool,
    /// Class of points no label applies to (default 1, ASPRS "unclassified").
    pub unassigned_class: u8,
    /// Class of pipe and support points (default 64, user class).
    pub pipe_class: u8,
    /// Name of the tree id column (default `treeID`, as lidR).
    pub tree_id_column: String,
    /// Name of an optional pipe run id column (default `pipeID`; empty = none).
    pub pipe_id_column: String,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        ClassifyOptions {
            keep_input_classes: false,
            unassigned_class: 1,
            pipe_class: 64,
            tree_id_column: "treeID".into(),
            pipe_id_column: "pipeID".into(),
        }
    }
}

/// A copy of `cloud` with classes from `labels` — by increasing precedence: unassigned,
/// vegetation (tree id ≠ 0), ground, pipe/post, noise — and the tree id column (plus the pipe
/// id column unless disabled). No file I/O.
pub fn classified_cloud(
    cloud: &PointCloud,
    labels: &PointLabels,
    opts: &ClassifyOptions,
) -> Result<PointCloud> {
    classify_owned(cloud.clone(), labels, opts)
}

/// [`classified_cloud`] taking the cloud, so no copy of it is made: a project's outputs are
/// written after the input is no longer needed, and a copy of every column was the largest
/// allocation of a reconstruct run.
pub fn classify_owned(
    mut cloud: PointCloud,
    labels: &PointLabels,
    opts: &ClassifyOptions,
) -> Result<PointCloud> {
    let n = cloud.len();
    let check = |name: &'static str, len: Option<usize>| match len {
        Some(l) if l != n => Err(ReconstructError::Input {
            step: "classified cloud",
            reason: format!("{name} has {l} labels for {n} points"),
        }),
        _ => Ok(()),
    };
    check("ground", labels.ground.map(|v| v.len()))?;
    check("tree_id", labels.tree_id.map(|v| v.len()))?;
    check("pipe_run", labels.pipe_run.map(|v| v.len()))?;
    check("post", labels.post.map(|v| v.len()))?;
    check("noise", labels.noise.map(|v| v.len()))?;
    let mut class: Vec<u8> = match (cloud.classification.take(), opts.keep_input_classes) {
        (Some(c), true) => c,
        _ => vec![opts.unassigned_class; n],
    };
    for (i, c) in class.iter_mut().enumerate() {
        if labels.tree_id.is_some_and(|t| t[i] != 0) {
            *c = 5;
        }
        if labels.ground.is_some_and(|g| g[i]) {
            *c = 2;
        }
        if labels.pipe_run.is_some_and(|p| p[i] != 0) || labels.post.is_some_and(|p| p[i] != 0) {
            *c = opts.pipe_class;
        }
        if labels.noise.is_some_and(|g| g[i]) {
            *c = 7;
        }
    }
    cloud.classification = Some(class);
    let zeros;
    let tree: &[u32] = match labels.tree_id {
        Some(t) => t,
        None => {
            zeros = vec![0u32; n];
            &zeros
        }
    };
    let mut col = ExtraColumn::from_u32(&opts.tree_id_column, tree);
    col.description = "tree id (0 = none)".into();
    cloud.set_extra(col);
    if !opts.pipe_id_column.is_empty()
        && let Some(p) = labels.pipe_run
    {
        let mut col = ExtraColumn::from_u32(&opts.pipe_id_column, p);
        col.description = "pipe run id (0 = none)".into();
        cloud.set_extra(col);
    }
    Ok(cloud)
}

/// Write a (classified) cloud as LAZ — LAS 1.4 with extra bytes, compressed unless `path`
/// ends in `.las` — through a temporary file renamed into place.
pub fn write_classified(
    path: &Path,
    cloud: &PointCloud,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<()> {
    let las = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("las"));
    let opts = LasWriteOptions {
        compress: !las,
        ..Default::default()
    };
    capture::las_io::write(cloud, path, &opts, progress, cancel).map_err(|e| match e {
        capture::CaptureError::Cancelled => ReconstructError::Cancelled,
        e => ReconstructError::write(path, e),
    })
}
