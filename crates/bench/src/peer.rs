//! The peer: pandas + scikit-learn in a Python venv the harness creates, running `bench/peer.py`
//! and printing JSON that is parsed here.

use crate::error::BenchError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The exact scikit-learn version the peer installs.
pub const SKLEARN_VERSION: &str = "1.9.1";

/// The exact python polars version the per-format peer installs (when PyPI has it for this
/// machine; without it the per-format table shows pandas only).
pub const POLARS_VERSION: &str = "2.1.0";

/// What `bench/peer.py` prints for one data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerOutput {
    /// Versions of python, pandas, numpy and scikit-learn.
    pub versions: PeerVersions,
    /// Data rows read.
    pub rows: usize,
    /// Seconds of every repetition of every measured stage.
    pub timings: Vec<PeerTiming>,
    /// ROC AUC of IsolationForest per feature count (1 thread).
    pub roc_auc: Vec<PeerAuc>,
    /// Column means of the unscaled feature matrix per feature count (to check both sides
    /// computed the same features).
    pub feature_means: Vec<PeerMeans>,
    /// Metrics of the last end-to-end repetition.
    pub end_to_end_metrics: PeerMetrics,
    /// Peak RSS of the python process (`ru_maxrss`), bytes.
    pub peak_rss_bytes: u64,
}

/// Library versions of the peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerVersions {
    /// Python.
    pub python: String,
    /// pandas.
    pub pandas: String,
    /// numpy.
    pub numpy: String,
    /// scikit-learn.
    pub sklearn: String,
}

/// One stage measured by the peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerTiming {
    /// `ingest`, `features`, `iforest fit`, `iforest score` or `end-to-end`.
    pub stage: String,
    /// Feature count (none for ingest).
    pub features: Option<usize>,
    /// Threads.
    pub threads: usize,
    /// Seconds per repetition.
    pub seconds: Vec<f64>,
}

/// ROC AUC for one feature count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerAuc {
    /// Feature count.
    pub features: usize,
    /// ROC AUC.
    pub value: f64,
}

/// Feature column means for one feature count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerMeans {
    /// Feature count.
    pub features: usize,
    /// One mean per feature, in our column order.
    pub means: Vec<f64>,
}

/// Detection metrics of the peer's end-to-end run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerMetrics {
    /// ROC AUC.
    pub roc_auc: f64,
    /// Average precision.
    pub pr_auc: f64,
    /// Precision at 5% contamination.
    pub precision: f64,
    /// Recall at 5% contamination.
    pub recall: f64,
    /// F1 at 5% contamination.
    pub f1: f64,
}

impl PeerOutput {
    /// Parses the script's stdout (the last non-empty line holds the JSON object).
    pub fn parse(stdout: &str) -> Result<Self, BenchError> {
        last_json_line(stdout)
    }

    /// The repetitions of one stage.
    pub fn seconds(&self, stage: &str, features: Option<usize>, threads: usize) -> Option<&[f64]> {
        self.timings
            .iter()
            .find(|t| t.stage == stage && t.features == features && t.threads == threads)
            .map(|t| t.seconds.as_slice())
    }

    /// ROC AUC for a feature count.
    pub fn auc(&self, features: usize) -> Option<f64> {
        self.roc_auc
            .iter()
            .find(|a| a.features == features)
            .map(|a| a.value)
    }

    /// Feature means for a feature count.
    pub fn means(&self, features: usize) -> Option<&[f64]> {
        self.feature_means
            .iter()
            .find(|m| m.features == features)
            .map(|m| m.means.as_slice())
    }
}

/// Library versions of the per-format peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatPeerVersions {
    /// Python.
    pub python: String,
    /// pandas.
    pub pandas: String,
    /// python polars, when installed.
    pub polars: Option<String>,
}

/// The peer's reads of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerFormatRead {
    /// The case name (`crate::formats::Case::name`).
    pub format: String,
    /// Records pandas read (VPC NODATA records included).
    pub rows: usize,
    /// Seconds of each pandas repetition.
    pub pandas: Vec<f64>,
    /// Seconds of each python polars repetition (none without polars).
    pub polars: Option<Vec<f64>>,
}

/// What `bench/peer.py --formats` prints for one size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerFormats {
    /// Versions.
    pub versions: FormatPeerVersions,
    /// Why python polars did not run, when it did not.
    pub polars_error: Option<String>,
    /// Generated rows of the size (set by the harness, not printed by the script).
    #[serde(default)]
    pub rows: usize,
    /// One entry per file.
    pub reads: Vec<PeerFormatRead>,
}

impl PeerFormats {
    /// Parses the script's stdout (the last non-empty line holds the JSON object).
    pub fn parse(stdout: &str) -> Result<Self, BenchError> {
        last_json_line(stdout)
    }

    /// The reads of one case.
    pub fn read(&self, format: &str) -> Option<&PeerFormatRead> {
        self.reads.iter().find(|r| r.format == format)
    }
}

/// The JSON object on the last non-empty line of the peer script's stdout.
pub(crate) fn last_json_line<T: serde::de::DeserializeOwned>(
    stdout: &str,
) -> Result<T, BenchError> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| BenchError::PeerOutput("empty output".into()))?;
    serde_json::from_str(line).map_err(|e| BenchError::PeerOutput(e.to_string()))
}

/// The Python environment of the peer.
#[derive(Debug, Clone)]
pub struct Peer {
    /// `<root>/.venv/bin/python`.
    pub python: PathBuf,
    /// `<root>/bench/peer.py`.
    pub script: PathBuf,
}

impl Peer {
    /// Creates `<root>/.venv` with scikit-learn, pandas and numpy unless it already has the
    /// pinned scikit-learn.
    pub fn ensure(root: &Path) -> Result<Self, BenchError> {
        let venv = root.join(".venv");
        let python = venv.join("bin").join("python");
        let script = root.join("bench").join("peer.py");
        if !script.is_file() {
            return Err(BenchError::Options(format!(
                "{} is missing; it is the peer script of the benchmark",
                script.display()
            )));
        }
        let have = Command::new(&python)
            .args([
                "-c",
                "import pandas, numpy, sklearn; print(sklearn.__version__)",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        if have.as_deref() != Some(SKLEARN_VERSION) {
            if !python.exists() {
                eprintln!("bench: creating {}", venv.display());
                run_checked(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
            }
            eprintln!("bench: installing scikit-learn=={SKLEARN_VERSION}, pandas, numpy");
            run_checked(
                Command::new(venv.join("bin").join("pip"))
                    .args(["install", "--quiet"])
                    .arg(format!("scikit-learn=={SKLEARN_VERSION}"))
                    .args(["pandas", "numpy"]),
            )?;
        }
        Ok(Self { python, script })
    }

    /// Installs python polars [`POLARS_VERSION`] into the venv unless it is there; `Err` with
    /// the reason when pip cannot install it (the per-format table then shows pandas only).
    pub fn ensure_polars(&self) -> Result<(), String> {
        let have = Command::new(&self.python)
            .args(["-c", "import polars; print(polars.__version__)"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        if have.as_deref() == Some(POLARS_VERSION) {
            return Ok(());
        }
        eprintln!("bench: installing polars=={POLARS_VERSION}");
        let pip = self.python.with_file_name("pip");
        run_checked(
            Command::new(pip)
                .args(["install", "--quiet"])
                .arg(format!("polars=={POLARS_VERSION}")),
        )
        .map(drop)
        .map_err(|e| e.to_string())
    }

    /// Runs `peer.py --formats` on the files of one size (`(case name, path)`), with python
    /// polars when `polars` is set, and parses its output.
    pub fn measure_formats(
        &self,
        files: &[(&str, &Path)],
        reps: usize,
        polars: bool,
    ) -> Result<PeerFormats, BenchError> {
        let jobs: Vec<serde_json::Value> = files
            .iter()
            .map(|(name, path)| serde_json::json!({"format": name, "path": path}))
            .collect();
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script)
            .arg("--formats")
            .arg(serde_json::Value::Array(jobs).to_string())
            .arg("--reps")
            .arg(reps.to_string())
            .arg("--alb-fields")
            .arg(webthreat_synth::ALB_FIELDS.join(","));
        if !polars {
            cmd.arg("--no-polars");
        }
        PeerFormats::parse(&run_checked(&mut cmd)?)
    }

    /// Runs the peer script on one CSV and parses its output.
    pub fn measure(
        &self,
        csv: &Path,
        reps: usize,
        seed: u64,
        threads: &[usize],
    ) -> Result<PeerOutput, BenchError> {
        let threads: Vec<String> = threads.iter().map(usize::to_string).collect();
        let stdout = run_checked(
            Command::new(&self.python)
                .arg(&self.script)
                .arg("--csv")
                .arg(csv)
                .arg("--reps")
                .arg(reps.to_string())
                .arg("--seed")
                .arg(seed.to_string())
                .arg("--threads")
                .arg(threads.join(",")),
        )?;
        PeerOutput::parse(&stdout)
    }
}

/// Runs a command, returning its stdout; a failure carries the tail of stderr.
pub(crate) fn run_checked(cmd: &mut Command) -> Result<String, BenchError> {
    let command = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| BenchError::Command {
        command: command.clone(),
        message: e.to_string(),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(BenchError::Command {
            command,
            message: format!("{}\n{}", out.status, tail.join("\n")),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"some warning line
{"versions": {"python": "3.11.7", "pandas": "2.3.0", "numpy": "2.3.1", "sklearn": "1.9.1"},
 "rows": 10000,
 "timings": [{"stage": "ingest", "features": null, "threads": 1, "seconds": [0.5, 0.4]},
             {"stage": "iforest score", "features": 4, "threads": 2, "seconds": [1.0]}],
 "roc_auc": [{"features": 4, "value": 0.95}],
 "feature_means": [{"features": 4, "means": [1.0, 2.0, 3.0, 4.0]}],
 "end_to_end_metrics": {"roc_auc": 0.95, "pr_auc": 0.8, "precision": 0.5, "recall": 0.7, "f1": 0.6},
 "peak_rss_bytes": 1048576}
"#;

    #[test]
    fn parses_the_last_line_of_peer_output() {
        let one_line: String = SAMPLE
            .lines()
            .skip(1)
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let out = PeerOutput::parse(&format!("warning: something\n{one_line}\n\n")).unwrap();
        assert_eq!(out.rows, 10000);
        assert_eq!(out.versions.sklearn, "1.9.1");
        assert_eq!(out.seconds("ingest", None, 1), Some(&[0.5, 0.4][..]));
        assert_eq!(out.seconds("iforest score", Some(4), 2), Some(&[1.0][..]));
        assert_eq!(out.seconds("iforest score", Some(4), 1), None);
        assert_eq!(out.auc(4), Some(0.95));
        assert_eq!(out.auc(10), None);
        assert_eq!(out.means(4).unwrap().len(), 4);
        assert_eq!(out.peak_rss_bytes, 1 << 20);
    }

    #[test]
    fn parses_per_format_output() {
        let out = PeerFormats::parse(
            r#"{"versions": {"python": "3.11.7", "pandas": "3.1.1", "polars": null}, "polars_error": "no module", "reads": [{"format": "zeek.gz", "rows": 10, "pandas": [0.5], "polars": null}]}"#,
        )
        .unwrap();
        assert_eq!(out.versions.polars, None);
        assert_eq!(out.polars_error.as_deref(), Some("no module"));
        assert_eq!(out.read("zeek.gz").unwrap().pandas, [0.5]);
        assert!(out.read("zeek").is_none());
    }

    #[test]
    fn rejects_output_that_is_not_json() {
        assert!(matches!(
            PeerOutput::parse("Traceback ...\nValueError: x"),
            Err(BenchError::PeerOutput(_))
        ));
        assert!(PeerOutput::parse("").is_err());
    }
}
