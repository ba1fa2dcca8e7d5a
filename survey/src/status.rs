//! Where a survey stands, from its folder alone (the plan, the tiles' done markers, the merged
//! project): what the studio's survey map and `twinmint survey run` show. Reading it costs a
//! file read per done tile, so a viewer can refresh it while tasks run elsewhere.

use std::path::{Path, PathBuf};

use capture::Crop;

use crate::error::Result;
use crate::merge::MERGED_DIR;
use crate::plan::Plan;
use crate::tile::{DONE_JSON, Done};

/// A tile's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileState {
    /// Committed with its done marker.
    Done,
    /// Not run yet, running, or failed (a failed task leaves no marker).
    Pending,
}

/// One tile on the map.
#[derive(Clone, Debug, PartialEq)]
pub struct TileStatus {
    pub index: usize,
    pub core: Crop,
    pub state: TileState,
    /// Trees in the core, once done.
    pub trees: Option<usize>,
    pub points_estimate: u64,
}

/// The survey's state.
#[derive(Clone, Debug, PartialEq)]
pub struct SurveyStatus {
    pub dir: PathBuf,
    pub tiles: Vec<TileStatus>,
    /// The merged project exists (`merged/manifest.json`).
    pub merged: bool,
}

impl SurveyStatus {
    /// Read the survey at `dir` (an error when it holds no valid plan).
    pub fn read(dir: &Path) -> Result<SurveyStatus> {
        let plan = Plan::read(dir)?;
        let mut status = SurveyStatus {
            dir: dir.to_path_buf(),
            tiles: plan
                .tiles
                .iter()
                .map(|t| TileStatus {
                    index: t.index,
                    core: t.core,
                    state: TileState::Pending,
                    trees: None,
                    points_estimate: t.points_estimate,
                })
                .collect(),
            merged: false,
        };
        status.refresh();
        Ok(status)
    }

    /// Bring the state up to date cheaply: only the markers of tiles still pending are looked
    /// for (a done tile stays done), and the merged project's manifest. What a viewer, or a
    /// merge waiting for tiles, calls every second on a survey of thousands of tiles.
    pub fn refresh(&mut self) {
        for t in &mut self.tiles {
            if t.state == TileState::Done {
                continue;
            }
            let marker = Plan::tile_dir(&self.dir, t.index).join(DONE_JSON);
            if let Some(done) = std::fs::read(&marker)
                .ok()
                .and_then(|b| serde_json::from_slice::<Done>(&b).ok())
            {
                t.state = TileState::Done;
                t.trees = Some(done.trees);
            }
        }
        self.merged = self
            .dir
            .join(MERGED_DIR)
            .join(capture::layout::MANIFEST)
            .is_file();
    }

    /// Tiles done.
    pub fn done(&self) -> usize {
        self.tiles
            .iter()
            .filter(|t| t.state == TileState::Done)
            .count()
    }

    /// Indices of the tiles not done.
    pub fn pending(&self) -> Vec<usize> {
        self.tiles
            .iter()
            .filter(|t| t.state == TileState::Pending)
            .map(|t| t.index)
            .collect()
    }

    /// The merged project's folder.
    pub fn merged_dir(&self) -> PathBuf {
        self.dir.join(MERGED_DIR)
    }

    /// The union of the tiles' cores: x min, y min, x max, y max.
    pub fn extent(&self) -> [f64; 4] {
        self.tiles
            .iter()
            .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |e, t| {
                [
                    e[0].min(t.core.min[0]),
                    e[1].min(t.core.min[1]),
                    e[2].max(t.core.max[0]),
                    e[3].max(t.core.max[1]),
                ]
            })
    }
}
