//! Facts about where a run came from: git state, data fingerprint, clock.

use crate::error::ExperimentError;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};
use webthreat_ingest::SourceSpec;

/// The repository state a run was made from.
#[derive(Debug, Clone, Default)]
pub(crate) struct GitState {
    /// HEAD commit, when inside a git work tree.
    pub commit: Option<String>,
    /// Whether tracked files differ from HEAD.
    pub dirty: bool,
    /// `git diff HEAD` when dirty.
    pub diff: Option<String>,
}

fn git_state() -> GitState {
    let run = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let Some(commit) = run(&["rev-parse", "HEAD"]) else {
        return GitState::default();
    };
    let status = run(&["status", "--porcelain", "--untracked-files=no"]).unwrap_or_default();
    let dirty = !status.trim().is_empty();
    GitState {
        commit: Some(commit.trim().to_string()),
        dirty,
        diff: if dirty { run(&["diff", "HEAD"]) } else { None },
    }
}

/// Where a run's inputs came from: the data file's blake3 hash, the repository state and, for
/// a scoring run, the run whose models it used.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    /// blake3 of the data file, hex.
    pub data_blake3: String,
    /// The repository state.
    pub git: GitState,
    /// The run whose saved models scored the data.
    pub source_run: Option<String>,
}

/// The [`Origin`] of a run on `data`. `data_blake3` is the data's hash when reading it
/// computed one; otherwise the log's files are hashed (while git runs, with `record_git`).
pub(crate) fn origin(
    data: &SourceSpec,
    data_blake3: Option<String>,
    source_run: Option<&Path>,
    record_git: bool,
) -> Result<Origin, ExperimentError> {
    let (data_blake3, git) = rayon::join(
        || match data_blake3 {
            Some(hash) => Ok(hash),
            None => webthreat_ingest::data_blake3(data).map_err(ExperimentError::from),
        },
        // the analyst's repository is theirs: looked at only when asked
        || {
            if record_git {
                git_state()
            } else {
                GitState::default()
            }
        },
    );
    Ok(Origin {
        data_blake3: data_blake3?,
        git,
        source_run: source_run.map(|p| p.display().to_string()),
    })
}

/// blake3 hash of a string, first 12 hex digits (for config fingerprints).
pub(crate) fn short_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex()[..12].to_string()
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
