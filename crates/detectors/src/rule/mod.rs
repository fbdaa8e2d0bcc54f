//! Rule detectors: kinds whose score is one feature of the run's vocabulary, read unscaled,
//! whatever features the run lists for its other detectors. `kind: beacon` scores a row by
//! its connection pair's beacon score (`beacon_score`), `kind: intel` by whether an address
//! of the row is on a blocklist (`intel_match`). Nothing is learned: the model names the
//! feature, and the threshold rule (a fixed value by default) decides the flags.

mod params;

pub use params::{BeaconKeys, BeaconParams, Direction, IntelKeys, IntelParams};

use crate::detector::DetectorModel;
use serde::{Deserialize, Serialize};

/// A fitted rule detector: the feature it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureRule {
    feature: String,
}

impl FeatureRule {
    pub(crate) fn new(feature: &str) -> Self {
        Self {
            feature: feature.to_string(),
        }
    }

    /// The feature whose value is the score.
    pub fn feature(&self) -> &str {
        &self.feature
    }
}

impl DetectorModel for FeatureRule {
    /// The feature's value (the matrix has exactly that one column).
    fn score(&self, values: &[f64]) -> Vec<f64> {
        values.to_vec()
    }

    fn contributions(&self, row: &[f64]) -> Vec<f64> {
        row.to_vec()
    }

    fn check(&self, n_features: usize) -> Result<(), String> {
        if n_features != 1 {
            return Err(format!(
                "feature: a rule detector reads one feature, but the model was fitted on {n_features}"
            ));
        }
        Ok(())
    }
}
