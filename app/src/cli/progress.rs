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

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
