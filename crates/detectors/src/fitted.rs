//! The fitted detector every later stage works with: scoring, flags, severity, explanations
//! and a changeable threshold rule. [`crate::train`] builds one; [`crate::model_file`] reads and
//! writes it as JSON.

use crate::checked_config::CheckedConfig;
use crate::error::DetectorError;
use crate::explain::{self, Explanation};
use crate::kinds::Model;
use crate::stats;
use crate::threshold::{self, SeverityScale, ThresholdRule};
use webthreat_core::FeatureMatrix;

/// A fitted detector: checked config, model, threshold, severity scale and the training
/// context explanations need. Serializes to JSON (`models/<name>.json` in a run directory,
/// see [`crate::model_file`]); a loaded detector scores bit-identically.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedDetector {
    pub(crate) config: CheckedConfig,
    pub(crate) features: Vec<String>,
    pub(crate) medians: Vec<f64>,
    pub(crate) threshold: f64,
    pub(crate) severity: SeverityScale,
    pub(crate) model: Model,
}

impl FittedDetector {
    /// The detector's name in outputs.
    pub fn name(&self) -> &str {
        self.config.name()
    }

    /// `iforest`, `zscore` or `autoencoder`.
    pub fn kind(&self) -> &'static str {
        self.config.kind()
    }

    /// The checked config (current threshold rule); [`CheckedConfig::to_config`] gives it in
    /// its resolved YAML form.
    pub fn config(&self) -> &CheckedConfig {
        &self.config
    }

    /// Training feature names, in column order.
    pub fn feature_names(&self) -> &[String] {
        &self.features
    }

    /// Training median of every feature (the "typical" value in explanations).
    pub fn medians(&self) -> &[f64] {
        &self.medians
    }

    /// The fitted model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The rule the current threshold came from.
    pub fn threshold_rule(&self) -> ThresholdRule {
        self.config.rule()
    }

    /// Score threshold: rows with a score strictly above it are flagged.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    fn check_features(&self, data: &FeatureMatrix) -> Result<(), DetectorError> {
        if data.names() != self.features.as_slice() {
            return Err(DetectorError::FeatureMismatch {
                detector: self.name().to_string(),
                expected: self.features.clone(),
                got: data.names().to_vec(),
            });
        }
        Ok(())
    }

    /// Anomaly score of every row (higher = more anomalous). The matrix must have the training
    /// features in the training order and at least one row.
    ///
    /// Scales: Isolation Forest 2^(-E\[h\]/c(psi)) in (0, 1]; z-score max |z| or sum z^2;
    /// autoencoder mean squared reconstruction error in standardized units.
    pub fn score(&self, data: &FeatureMatrix) -> Result<Vec<f64>, DetectorError> {
        self.check_features(data)?;
        stats::require_rows(data, "score", self.name())?;
        stats::require_finite(data)?;
        Ok(self.model.score(data.values()))
    }

    /// Flags: `score > threshold` (strict, as scikit-learn's `predict`).
    pub fn flags(&self, scores: &[f64]) -> Vec<bool> {
        scores.iter().map(|&s| s > self.threshold).collect()
    }

    /// Replaces the threshold rule without refitting: `training_scores` are the scores of the
    /// training rows (as returned by [`crate::train`] or [`FittedDetector::score`] on the
    /// training matrix; rules that do not use them accept `&[]`). An invalid rule leaves the
    /// detector unchanged.
    pub fn set_threshold(
        &mut self,
        rule: ThresholdRule,
        training_scores: &[f64],
    ) -> Result<(), DetectorError> {
        let config =
            self.config
                .with_rule(rule)
                .map_err(|message| DetectorError::InvalidThreshold {
                    rule: rule.to_string(),
                    message,
                })?;
        let sorted = if rule.uses_training_scores() {
            threshold::sorted(training_scores)
        } else {
            Vec::new()
        };
        self.threshold = rule.apply(&self.model, &sorted)?;
        self.config = config;
        Ok(())
    }

    /// Severity 0-100 of a score: its percentile rank among the training scores, interpolated
    /// between the training quantiles at every 0.1 % (0 at or below the training minimum, 100
    /// at or above the training maximum; continuous and non-decreasing). See
    /// [`SeverityScale`].
    pub fn severity(&self, score: f64) -> f64 {
        self.severity.severity(score)
    }

    /// The `top_k` features behind row `row` of `data`, largest contribution first, each with
    /// the row's value and the training median.
    ///
    /// Contribution per detector:
    /// * Isolation Forest: mean over trees of the isolation credit log2(node samples / child
    ///   samples) of every split on the feature along the row's path (see
    ///   [`IsolationForestModel::contributions`](crate::iforest::IsolationForestModel::contributions)); credits of one tree sum to
    ///   log2(psi / leaf size).
    /// * z-score: the feature's |z| (0 for features constant in training).
    /// * autoencoder: the feature's squared reconstruction error (standardized units); their
    ///   mean is the row's score.
    pub fn explain(
        &self,
        data: &FeatureMatrix,
        row: usize,
        top_k: usize,
    ) -> Result<Vec<Explanation>, DetectorError> {
        Ok(self
            .explain_rows(data, &[row], top_k)?
            .pop()
            .unwrap_or_default())
    }

    /// [`FittedDetector::explain`] of each of `rows` of `data` (the same explanations),
    /// computed together: faster for many rows.
    pub fn explain_rows(
        &self,
        data: &FeatureMatrix,
        rows: &[usize],
        top_k: usize,
    ) -> Result<Vec<Vec<Explanation>>, DetectorError> {
        self.check_features(data)?;
        let values = rows
            .iter()
            .map(|&row| {
                if row >= data.n_rows() {
                    return Err(DetectorError::RowOutOfRange {
                        row,
                        rows: data.n_rows(),
                    });
                }
                let values = data.row(row);
                match values.iter().position(|v| !v.is_finite()) {
                    Some(j) => Err(DetectorError::NonFinite {
                        feature: self.features[j].clone(),
                        row,
                        value: values[j],
                    }),
                    None => Ok(values),
                }
            })
            .collect::<Result<Vec<&[f64]>, _>>()?;
        let contributions = self.model.contributions_of_rows(&values);
        Ok(values
            .iter()
            .zip(&contributions)
            .map(|(values, c)| explain::rank(&self.features, values, &self.medians, c, top_k))
            .collect())
    }
}
