//! Writing clouds: the output format follows the extension.

use std::path::Path;

use crate::cloud::PointCloud;
use crate::error::{CaptureError, Result};
use crate::las_io::{self, LasWriteOptions};
use crate::progress::{CancelToken, Progress};
use crate::{ply, text};

/// Formats TwinMint writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFormat {
    Las,
    Laz,
    Ply,
    Xyz,
}

impl WriteFormat {
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        Ok(match ext.as_str() {
            "las" => WriteFormat::Las,
            "laz" => WriteFormat::Laz,
            "ply" => WriteFormat::Ply,
            "xyz" | "txt" | "csv" => WriteFormat::Xyz,
            _ => {
                return Err(CaptureError::Write {
                    path: path.into(),
                    reason: format!("cannot write extension {ext:?}; use .las, .laz, .ply or .xyz"),
                });
            }
        })
    }
}

/// Write `cloud` to `path` in the format its extension names, atomically.
pub fn write(
    cloud: &PointCloud,
    path: &Path,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<()> {
    match WriteFormat::from_path(path)? {
        WriteFormat::Las => las_io::write(
            cloud,
            path,
            &LasWriteOptions {
                compress: false,
                ..Default::default()
            },
            progress,
            cancel,
        ),
        WriteFormat::Laz => {
            las_io::write(cloud, path, &LasWriteOptions::default(), progress, cancel)
        }
        WriteFormat::Ply => ply::write(
            cloud,
            path,
            &format!("TwinMint {}", env!("CARGO_PKG_VERSION")),
        ),
        WriteFormat::Xyz => text::write(cloud, path),
    }
}
