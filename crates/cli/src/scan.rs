//! `webthreat scan`: the experiment config of a log scanned without one.

use anyhow::{Context, Result};
use std::path::Path;
use webthreat_experiment::ExperimentConfig;
use webthreat_experiment::plan::file_stem;
use webthreat_ingest::{Format, detect_format};

/// The config `scan` runs on `log`: experiment `scan-<file stem>`, the given or detected
/// format, the format's default features, standard scaling, and Isolation Forest and z-score
/// flagging 5% each; then `overrides` (`--set`), checked as any config is.
pub(crate) fn config(
    log: &Path,
    format: Option<Format>,
    overrides: &[String],
) -> Result<ExperimentConfig> {
    let format = match format {
        Some(f) => f,
        None => detect_format(log)
            .with_context(|| format!("detecting the format of {}", log.display()))?,
    };
    let yaml = serde_yaml::to_string(&serde_json::json!({
        "name": format!("scan-{}", name_part(log)),
        "data": { "path": log, "format": format.as_str() },
        "scaling": "standard",
        "detectors": [
            { "kind": "iforest", "contamination": 0.05 },
            { "kind": "zscore", "contamination": 0.05 },
        ],
    }))?;
    let config = ExperimentConfig::parse(&yaml, overrides)
        .map_err(anyhow::Error::msg)
        .context("the scan's config")?;
    config
        .validate()
        .map_err(anyhow::Error::msg)
        .context("the scan's config")?;
    Ok(config)
}

/// A file's name without extensions, as the characters an experiment name may hold (`log`
/// when none are left, as for `.` or `..`).
fn name_part(log: &Path) -> String {
    let part: String = file_stem(log)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    match part.trim_start_matches('-') {
        "" => "log".to_string(),
        part => part.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_names_its_experiment_after_the_log_and_takes_overrides() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let c = config(
            &root.join("data/sample.zeek.log"),
            None,
            &["detectors.0.contamination=0.01".into()],
        )
        .unwrap();
        assert_eq!(c.name, "scan-sample");
        assert_eq!(c.data.format, Format::Zeek);
        assert_eq!(c.detectors.len(), 2);
        assert!(c.to_yaml().unwrap().contains("contamination: 0.01"));
        assert_eq!(name_part(Path::new("/x/.hidden.log")), "hidden");
        assert_eq!(name_part(Path::new("/x/ünï code.csv")), "n--code");
        let err = config(&root.join("data/sample.csv"), None, &["seed=-1".into()]).unwrap_err();
        assert!(
            format!("{err:#}").contains("after --set `seed=-1`:"),
            "{err:#}"
        );
    }
}
