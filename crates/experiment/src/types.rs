//! The types the run stages hand each other and the caller: run options and outcome, the
//! saved feature pipeline, and one detector's per-row results.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use webthreat_detectors::FittedDetector;
use webthreat_features::{FeatureSpec, Scaler};
use webthreat_report::DetectorSummary;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Root of the run store (`experiments/`).
    pub store_root: PathBuf,
    /// The data path was overridden (`--data`): a configured label column that the new data
    /// lacks is then dropped with a note instead of failing.
    pub data_overridden: bool,
    /// Record the HEAD commit, dirty flag and `git diff` of the repository the run starts in
    /// (`--record-git`); off by default: that repository is the analyst's, not the tool's.
    pub record_git: bool,
}

/// One detector's line in the run summary.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorLine {
    /// Detector name.
    pub name: String,
    /// Detector kind.
    pub kind: String,
    /// Rows flagged.
    pub flagged: usize,
    /// Score threshold.
    pub threshold: f64,
    /// ROC AUC, with labels.
    pub roc_auc: Option<f64>,
    /// Average precision, with labels.
    pub pr_auc: Option<f64>,
    /// F1 of the flags, with labels.
    pub f1: Option<f64>,
}

impl From<&DetectorSummary> for DetectorLine {
    fn from(d: &DetectorSummary) -> Self {
        Self {
            name: d.name.clone(),
            kind: d.kind.clone(),
            flagged: d.flagged as usize,
            threshold: d.threshold,
            roc_auc: d.metrics.map(|m| m.roc_auc),
            pr_auc: d.metrics.map(|m| m.pr_auc),
            f1: d.metrics.map(|m| m.f1),
        }
    }
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The committed run directory.
    pub dir: PathBuf,
    /// Run id.
    pub id: String,
    /// Rows analysed.
    pub rows: usize,
    /// Rows rejected by `on_bad_rows: skip`.
    pub rejected: usize,
    /// Per-detector summary.
    pub detectors: Vec<DetectorLine>,
    /// Things the user should know (e.g. labels ignored).
    pub notes: Vec<String>,
}

/// Feature spec and fitted scaler, saved as `models/features.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FeaturePipeline {
    pub spec: FeatureSpec,
    pub scaler: Scaler,
    /// Column medians of the unscaled fit rows (every column of the feature matrix): the
    /// typical values explanations show. Empty in runs written before they were saved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub typical: Vec<f64>,
}

impl FeaturePipeline {
    /// Checks a pipeline read from a file as strictly as a fitted one is built: a valid
    /// feature list and window, a vocabulary for every categorical feature, and a scaler over
    /// exactly the matrix's columns with finite centers and finite positive scales.
    pub(crate) fn check(&self) -> Result<(), String> {
        let spec = FeatureSpec::new(self.spec.names.clone(), self.spec.window_seconds)
            .map_err(|e| e.to_string())?;
        let rules: Vec<&str> = self.spec.rule_features.iter().map(String::as_str).collect();
        let spec = FeatureSpec {
            vocabularies: self.spec.vocabularies.clone(),
            ..spec.with_rule_features(&rules).map_err(|e| e.to_string())?
        };
        if spec.rule_features != self.spec.rule_features {
            return Err(format!(
                "rule_features: {:?} repeat listed features",
                self.spec.rule_features
            ));
        }
        let columns = spec.column_names().map_err(|e| e.to_string())?;
        if !self.typical.is_empty() && self.typical.len() != columns.len() {
            return Err(format!(
                "typical: {} values for {} feature columns",
                self.typical.len(),
                columns.len()
            ));
        }
        let listed = spec.listed_columns().map_err(|e| e.to_string())?;
        self.scaler
            .check(&columns[..listed])
            .map_err(|e| e.to_string())
    }
}

/// One detector's results on the rows of one batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DetectorScores {
    /// Scores, higher = more anomalous.
    pub scores: Vec<f64>,
    /// Severity 0-100 of each score.
    pub severity: Vec<f64>,
    /// Score at or above the threshold.
    pub flags: Vec<bool>,
    /// The scores sorted ascending, when the fit already sorted them (the batch is the
    /// training rows): exact ranking metrics then need not sort them again.
    pub sorted: Option<Vec<f64>>,
}

impl DetectorScores {
    /// Flags and severities of `scores` under `model`'s threshold.
    pub(crate) fn new(model: &FittedDetector, scores: Vec<f64>, sorted: Option<Vec<f64>>) -> Self {
        Self {
            flags: model.flags(&scores),
            severity: scores.par_iter().map(|s| model.severity(*s)).collect(),
            scores,
            sorted,
        }
    }

    /// Rows flagged.
    pub(crate) fn flagged(&self) -> u64 {
        self.flags.iter().filter(|f| **f).count() as u64
    }

    /// Severity of row `i` as the report shows it (a whole number 0-100).
    pub(crate) fn severity_u8(&self, i: usize) -> u8 {
        self.severity[i].round().clamp(0.0, 100.0) as u8
    }
}
