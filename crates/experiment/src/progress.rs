//! Stage spinners on stderr (indicatif). indicatif draws nothing when stderr is not a
//! terminal, so logs, pipes and CI stay clean.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A spinner for one pipeline stage; cleared when dropped.
pub(crate) struct StageProgress {
    bar: ProgressBar,
}

impl StageProgress {
    /// Starts a spinner with the stage's message.
    pub(crate) fn start(message: impl Into<String>) -> Self {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar }
    }
}

impl Drop for StageProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
