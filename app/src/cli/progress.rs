//! indicatif progress bars fed by the core crates' progress events.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar that follows [`capture::ProgressEvent`]s: points when the total is known, else a spinner.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new(quiet: bool, message: impl Into<String>) -> Self {
        let bar = ProgressBar::new(0);
        if quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        } else {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>12} [{bar:40.cyan/blue}] {human_pos}/{human_len} pts ({per_sec}, {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(message.into());
        Bar { bar }
    }

    pub fn update(&self, e: capture::ProgressEvent) {
        if let Some(t) = e.total_points {
            self.bar.set_length(t);
        } else if self.bar.length().unwrap_or(0) < e.points {
            self.bar.set_length(e.points);
        }
        self.bar.set_position(e.points);
    }

    pub fn reset(&self, message: impl Into<String>) {
        self.bar.set_position(0);
        self.bar.set_length(0);
        self.bar.set_message(message.into());
    }

    /// Follow a staged fraction (0–1) instead of points.
    pub fn set(&self, stage: &str, fraction: f32) {
        if self.bar.length() != Some(1000) {
            self.bar.set_style(
                ProgressStyle::with_template("{msg:>16} [{bar:40.cyan/blue}] {percent}%")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            self.bar.set_length(1000);
        }
        self.bar.set_message(stage.to_string());
        self.bar
            .set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
