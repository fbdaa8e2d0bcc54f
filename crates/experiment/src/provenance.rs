//! Facts about where a run came from: git state, data fingerprint, clock.

use crate::error::ExperimentError;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

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

pub(crate) fn git_state() -> GitState {
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

/// blake3 hash of a file, hex.
pub(crate) fn file_hash(path: &Path) -> Result<String, ExperimentError> {
    let io = |source| ExperimentError::Io {
        path: path.to_path_buf(),
        error: source,
    };
    let mut hasher = blake3::Hasher::new();
    let file = std::fs::File::open(path).map_err(io)?;
    hasher.update_reader(file).map_err(io)?;
    Ok(hasher.finalize().to_hex().to_string())
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
