//! The growth time-lapse: which simulated year is on screen, play/pause/speed, and each tree's
//! shape in that year (interpolated between simulated years so playback is smooth). Trees come
//! from `simulation.json`'s representative run; dead trees disappear in the year they die.

use bevy::prelude::*;
use growth_model::output::Simulation;
use reconstruct::model::Tree;

/// Time-lapse state. `position` is an index into `years`, fractional while playing.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct Timelapse {
    pub years: Vec<i32>,
    pub position: f32,
    pub playing: bool,
    /// Simulated years per second of playback.
    pub speed: f32,
    /// Start again from the first year at the end instead of stopping.
    pub looping: bool,
}

impl Default for Timelapse {
    fn default() -> Self {
        Timelapse {
            years: Vec::new(),
            position: 0.0,
            playing: false,
            speed: 2.0,
            looping: false,
        }
    }
}

impl Timelapse {
    /// Start over for a (new) simulation: survey year, paused.
    pub fn reset_for(&mut self, sim: Option<&Simulation>) {
        self.years = sim.map(|s| s.stand.year.clone()).unwrap_or_default();
        self.position = 0.0;
        self.playing = false;
    }

    pub fn is_available(&self) -> bool {
        self.years.len() > 1
    }

    fn last(&self) -> f32 {
        self.years.len().saturating_sub(1) as f32
    }

    /// The calendar year on screen (rounded down while between years).
    pub fn year(&self) -> Option<i32> {
        self.years.get(self.position.floor() as usize).copied()
    }

    /// Index of the year on screen and the fraction towards the next.
    pub fn index_frac(&self) -> (usize, f32) {
        let p = self.position.clamp(0.0, self.last());
        let i = p.floor() as usize;
        (i, p - i as f32)
    }

    /// Jump to a calendar year (clamped to the simulated span).
    pub fn set_year(&mut self, year: i32) {
        if let (Some(&first), true) = (self.years.first(), self.is_available()) {
            self.position = ((year - first) as f32).clamp(0.0, self.last());
        }
    }

    pub fn toggle_play(&mut self) {
        if !self.is_available() {
            return;
        }
        if !self.playing && self.position >= self.last() {
            self.position = 0.0;
        }
        self.playing = !self.playing;
    }

    /// Move time forward by `dt` seconds of playback.
    pub fn advance(&mut self, dt: f32) {
        if !self.playing || !self.is_available() {
            return;
        }
        self.position += self.speed.max(0.0) * dt;
        if self.position >= self.last() {
            if self.looping {
                self.position %= self.last();
            } else {
                self.position = self.last();
                self.playing = false;
            }
        }
    }
}

/// A tree's drawn shape in the year on screen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TreeShape {
    pub height_m: f32,
    pub dbh_m: f32,
    pub crown_diameter_m: f32,
    pub crown_base_m: f32,
    pub alive: bool,
    pub conifer: bool,
}

/// Crown base as a share of height when the survey measured none (a typical live-crown ratio).
const DEFAULT_CROWN_BASE_RATIO: f64 = 0.35;

/// Shape of `tree` in the time-lapse's year; the survey's own values without a simulation.
pub fn tree_shape(
    tree: &Tree,
    sim_index: Option<usize>,
    conifer: bool,
    sim: Option<&Simulation>,
    tl: &Timelapse,
) -> TreeShape {
    let base_ratio = tree
        .crown_base_height_m
        .filter(|_| tree.height_m > 0.0)
        .map(|b| (b / tree.height_m).clamp(0.05, 0.9))
        .unwrap_or(DEFAULT_CROWN_BASE_RATIO) as f32;
    let survey = TreeShape {
        height_m: tree.height_m as f32,
        dbh_m: tree.dbh_cm.unwrap_or(tree.height_m * 1.2) as f32 / 100.0,
        crown_diameter_m: tree.crown_diameter_m as f32,
        crown_base_m: (tree.height_m as f32) * base_ratio,
        alive: true,
        conifer,
    };
    let (Some(k), Some(states)) = (sim_index, sim.and_then(|s| s.trees.as_ref())) else {
        return survey;
    };
    if states.years.is_empty() {
        return survey;
    }
    let (i, f) = tl.index_frac();
    let i = i.min(states.years.len() - 1);
    let j = (i + 1).min(states.years.len() - 1);
    let (a, b) = (&states.years[i], &states.years[j]);
    let lerp = |x: &[f32], y: &[f32]| x[k] + (y[k] - x[k]) * f;
    let height = lerp(&a.height_m.0, &b.height_m.0);
    TreeShape {
        height_m: height,
        dbh_m: lerp(&a.dbh_cm.0, &b.dbh_cm.0) / 100.0,
        crown_diameter_m: lerp(&a.crown_diameter_m.0, &b.crown_diameter_m.0),
        crown_base_m: height * base_ratio,
        alive: a.alive.get(k),
        conifer,
    }
}

pub struct TimelapsePlugin;

impl Plugin for TimelapsePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Timelapse>()
            .add_systems(Update, advance_timelapse);
    }
}

fn advance_timelapse(time: Res<Time>, mut tl: ResMut<Timelapse>) {
    if tl.playing {
        tl.advance(time.delta_secs());
    }
}
