//! The studio's view of a wall-to-wall survey (a folder made by `twinmint plan`): its tiles on
//! a map, coloured by state and re-read every second while tasks run anywhere (this machine,
//! Slurm, Kubernetes — the done markers are the state), the pending tiles run here with the
//! workflow's local executor as a job (progress bar, cancel), and the merged estate opened in
//! the viewer like any project.

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::prelude::Resource;
use bevy_egui::egui;
use survey::status::{SurveyStatus, TileState};

/// What the panel asks the studio to do.
#[derive(Clone, Debug, PartialEq)]
pub enum SurveyAction {
    /// Run the pending tiles (local processes), merge, open the merged estate.
    Run,
    /// Open the merged estate in the viewer.
    OpenMerged,
    /// Stop showing the survey.
    Close,
}

/// The open survey, if any.
#[derive(Resource, Default)]
pub struct SurveyPanel {
    pub status: Option<SurveyStatus>,
    /// When the tiles were last read; `None` reads them on the next refresh.
    pub read_at: Option<Instant>,
}

/// How often the map re-reads the survey folder.
const REFRESH: Duration = Duration::from_secs(1);

const DONE: egui::Color32 = egui::Color32::from_rgb(80, 170, 100);
const PENDING: egui::Color32 = egui::Color32::from_rgb(70, 74, 84);

impl SurveyPanel {
    /// Show the survey at `dir` (an error when it holds no plan).
    pub fn open(&mut self, dir: &Path) -> Result<(), survey::SurveyError> {
        self.status = Some(SurveyStatus::read(dir)?);
        self.read_at = Some(Instant::now());
        Ok(())
    }

    /// Look again at the open survey's pending tiles when the last look is older than a second
    /// ([`SurveyStatus::refresh`]: a done tile is not read again).
    pub fn refresh(&mut self) {
        let stale = self.read_at.is_none_or(|t| t.elapsed() >= REFRESH);
        if let (true, Some(s)) = (stale, &mut self.status) {
            s.refresh();
            self.read_at = Some(Instant::now());
        }
    }

    /// The panel; `busy`: a job is running (no second run).
    pub fn ui(&mut self, ui: &mut egui::Ui, busy: bool) -> Option<SurveyAction> {
        let s = self.status.as_ref()?;
        let mut action = None;
        ui.heading("Wall-to-wall survey");
        let name = s.dir.file_name().map_or_else(
            || s.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let trees: usize = s.tiles.iter().filter_map(|t| t.trees).sum();
        ui.label(format!(
            "{name}: {} of {} tiles done, {trees} trees in their cores",
            s.done(),
            s.tiles.len()
        ));
        tile_map(ui, s);
        ui.horizontal(|ui| {
            ui.colored_label(DONE, "■ done");
            ui.colored_label(PENDING, "■ pending");
        });
        let pending = s.pending().len();
        let run = if pending > 0 {
            format!("Run {pending} pending tile(s) here and merge")
        } else {
            "Merge the tiles".to_string()
        };
        if ui
            .add_enabled(!busy, egui::Button::new(run))
            .on_hover_text("twinmint survey run: 2 tile processes at once, then twinmint merge")
            .clicked()
        {
            action = Some(SurveyAction::Run);
        }
        if ui
            .add_enabled(s.merged, egui::Button::new("Open the merged estate"))
            .clicked()
        {
            action = Some(SurveyAction::OpenMerged);
        }
        if ui.small_button("Close survey").clicked() {
            action = Some(SurveyAction::Close);
        }
        ui.separator();
        action
    }
}

/// The tiles' cores, north up, scaled into the panel's width.
fn tile_map(ui: &mut egui::Ui, s: &SurveyStatus) {
    let e = s.extent();
    let (w, h) = ((e[2] - e[0]).max(1e-9), (e[3] - e[1]).max(1e-9));
    let side = ui.available_width().min(320.0);
    let scale = side as f64 / w.max(h);
    let size = egui::vec2((w * scale) as f32, (h * scale) as f32);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let to_screen = |x: f64, y: f64| {
        egui::pos2(
            rect.left() + ((x - e[0]) * scale) as f32,
            rect.top() + ((e[3] - y) * scale) as f32,
        )
    };
    let pointer = ui.ctx().pointer_hover_pos();
    let mut hovered = None;
    for t in &s.tiles {
        let r = egui::Rect::from_two_pos(
            to_screen(t.core.min[0], t.core.min[1]),
            to_screen(t.core.max[0], t.core.max[1]),
        );
        let fill = match t.state {
            TileState::Done => DONE,
            TileState::Pending => PENDING,
        };
        painter.rect_filled(r.shrink(0.5), 0.0, fill);
        if pointer.is_some_and(|p| r.contains(p)) {
            hovered = Some(t);
        }
    }
    if let Some(t) = hovered {
        egui::Tooltip::always_open(
            ui.ctx().clone(),
            ui.layer_id(),
            egui::Id::new("survey-tile"),
            egui::PopupAnchor::Pointer,
        )
        .show(|ui| {
            ui.label(format!(
                "tile {}: {}; ~{} points{}",
                t.index,
                if t.state == TileState::Done {
                    "done"
                } else {
                    "pending"
                },
                t.points_estimate,
                t.trees.map_or(String::new(), |n| format!(", {n} trees"))
            ));
        });
    }
}
