//! Helpers shared by the end-to-end tests: repository paths and one-call experiment runs.

use std::path::{Path, PathBuf};
use webthreat_experiment::{ExperimentConfig, ExperimentError, RunOptions, RunOutcome, run};

/// The repository root (where `configs/` and `data/` live).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the read-only shared data set beside the repository (relative path).
pub fn shared(rel: &str) -> PathBuf {
    Path::new("../shared/data").join(rel)
}

/// The real CloudWatch seed export.
pub fn seed_csv() -> PathBuf {
    shared("cloudwatch/CloudWatch_Traffic_Web_Attack.csv")
}

/// Loads `configs/<name>` plus overrides. Test binaries run in the repository root, so the
/// configs' relative data paths (and `../shared/...`) resolve as they do for a user.
pub fn config(name: &str, overrides: &[&str], data: Option<&Path>) -> ExperimentConfig {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    ExperimentConfig::load(&repo().join("configs").join(name), &overrides, data)
        .expect("shipped config loads")
}

/// Runs a config into a store rooted at `store`.
pub fn run_in(
    store: &Path,
    config: &ExperimentConfig,
    data_overridden: bool,
) -> Result<RunOutcome, ExperimentError> {
    run(
        config,
        &RunOptions {
            store_root: store.to_path_buf(),
            data_overridden,
            record_git: false,
        },
    )
}

/// Reads a file of a run directory as text.
pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// `alerts.jsonl` of a finished run with its run id blanked (`"run":""`): the one value that
/// differs between runs of one config and data in one store.
pub fn alerts_of(run: &RunOutcome) -> String {
    read(&run.dir, "alerts.jsonl").replace(
        &format!("\"webthreat\":{{\"run\":\"{}\",", run.id),
        "\"webthreat\":{\"run\":\"\",",
    )
}
