//! The webthreat command line as a library: the subcommands analysts use (`run`, `scan`,
//! `list`, `show`, `compare`, `score`), their text and JSON output, and the exit codes. The
//! `webthreat` binary is this crate's `main.rs`; the developer tool `xtask` embeds the same
//! subcommands, so the two never differ.
//!
//! Exit codes: 0 success, 1 error, 2 usage error (bad arguments), 3 with `--exit-code` when a
//! detector flagged at least one row (as `git diff --exit-code` reports a difference).

mod commands;
mod output;
mod scan;

pub use commands::{Command, execute};

use std::process::ExitCode;
use webthreat_core::text::visible;

/// `webthreat --version`: the package version and the commit it was built from.
pub const VERSION: &str = webthreat_experiment::VERSION;

/// What a command ended with, beside errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Done.
    Done,
    /// Done, and `--exit-code` was given and some row was flagged.
    Flagged,
}

/// Exit code 3: with `--exit-code`, a detector flagged at least one row.
pub const EXIT_FLAGGED: u8 = 3;

/// Turns a command's result into the process's exit code, printing an error as its chain of
/// causes with every character that could act on a terminal escaped (log content reaches error
/// messages), and never with a backtrace.
pub fn exit(result: anyhow::Result<Finish>) -> ExitCode {
    match result {
        Ok(Finish::Done) => ExitCode::SUCCESS,
        Ok(Finish::Flagged) => ExitCode::from(EXIT_FLAGGED),
        Err(e) => {
            let mut causes = e.chain();
            let first = causes.next().map(ToString::to_string).unwrap_or_default();
            let mut text = format!("Error: {}", visible(&first));
            let rest: Vec<String> = causes
                .map(|c| visible(&c.to_string()).into_owned())
                .collect();
            if !rest.is_empty() {
                text.push_str("\n\nCaused by:");
                for cause in rest {
                    text.push_str("\n    ");
                    text.push_str(&cause);
                }
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

/// Sets the worker thread count (`--threads`); results do not depend on it.
pub fn set_threads(threads: Option<u16>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .context("setting the thread count")?;
    }
    Ok(())
}
