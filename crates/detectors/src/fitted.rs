//! Fitting a configured detector, and the fitted detector every later stage works with.

use crate::autoencoder::AutoencoderModel;
use crate::config::DetectorConfig;
use crate::error::DetectorError;
use crate::explain::{self, Explanation};
use crate::iforest::IsolationForestModel;
use crate::stats;
use crate::threshold::{self, SeverityScale, ThresholdRule};
use crate::zscore::ZScoreModel;
use serde::{Deserialize, Serialize};
use webthreat_core::FeatureMatrix;

/// Version of the JSON model layout written by [`FittedDetector::to_json`].
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The fitted model of one of the three detectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Isolation Forest.
    IsolationForest(IsolationForestModel),
    /// z-score baseline.
    ZScore(ZScoreModel),
    /// Autoencoder.
    Autoencoder(AutoencoderModel),
}

impl Model {
    fn score(&self, values: &[f64]) -> Vec<f64> {
        match self {
            Model::IsolationForest(m) => m.score(values),
            Model::ZScore(m) => m.score(values),
            Model::Autoencoder(m) => m.score(values),
        }
    }

    fn contributions(&self, row: &[f64]) -> Vec<f64> {
        match self {
            Model::IsolationForest(m) => m.contributions(row),
            Model::ZScore(m) => m.abs_z(row),
            Model::Autoencoder(m) => m.contributions(row),
        }
    }

    fn check(&self, n_features: usize) -> Result<(), String> {
        match self {
            Model::IsolationForest(m) => m.check(n_features),
            Model::ZScore(m) if m.n_features() != n_features => Err(format!(
                "z-score model has {} features, the detector lists {n_features}",
                m.n_features()
            )),
            Model::ZScore(_) => Ok(()),
            Model::Autoencoder(m) => m.check(n_features),
        }
    }
}

/// A fitted detector: model, threshold, severity scale and the training context explanations
/// need. Serializes to JSON (`models/<name>.json` in a run directory); a loaded detector scores
/// bit-identically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedDetector {
    format_version: u32,
    name: String,
    config: DetectorConfig,
    features: Vec<String>,
    #[serde(with = "crate::exact_f64::vec")]
    medians: Vec<f64>,
    rule: ThresholdRule,
    #[serde(with = "crate::exact_f64::scalar")]
    threshold: f64,
    severity: SeverityScale,
    model: Model,
}

/// Fits the detector described by `config` on `data`; every random choice derives from `seed`.
///
/// The threshold comes from the config's rule applied to the training scores.
pub fn fit(
    config: &DetectorConfig,
    data: &FeatureMatrix,
    seed: u64,
) -> Result<FittedDetector, DetectorError> {
    fit_with_scores(config, data, seed).map(|(fitted, _)| fitted)
}

/// Like [`fit`], also returning the training scores (the input of
/// [`FittedDetector::set_threshold`]).
pub fn fit_with_scores(
    config: &DetectorConfig,
    data: &FeatureMatrix,
    seed: u64,
) -> Result<(FittedDetector, Vec<f64>), DetectorError> {
    fit_with_sorted_scores(config, data, seed, None).map(|(fitted, scores, _)| (fitted, scores))
}

/// Like [`fit_with_scores`], also returning the training scores sorted ascending
/// ([`f64::total_cmp`]), which the fit sorts anyway (for rank metrics without a second sort).
/// `medians`: the column medians of `data` when the caller has them (e.g. from the unscaled
/// features' middle values); they are computed otherwise.
pub fn fit_with_sorted_scores(
    config: &DetectorConfig,
    data: &FeatureMatrix,
    seed: u64,
    medians: Option<Vec<f64>>,
) -> Result<(FittedDetector, Vec<f64>, Vec<f64>), DetectorError> {
    let config = config.resolved()?;
    let name = config.name().to_string();
    stats::require_rows(data, "fit", &name)?;
    stats::require_finite(data)?;
    let d = data.n_cols();
    let values = data.values();
    let model = match &config {
        DetectorConfig::IsolationForest(p) => {
            Model::IsolationForest(IsolationForestModel::fit(p, &name, values, d, seed)?)
        }
        DetectorConfig::ZScore(p) => Model::ZScore(ZScoreModel::fit(p, values, d)),
        DetectorConfig::Autoencoder(p) => {
            Model::Autoencoder(AutoencoderModel::fit(p, values, d, seed))
        }
    };
    let medians = medians.filter(|m| m.len() == d);
    let (scores, medians) = rayon::join(
        || model.score(values),
        || medians.unwrap_or_else(|| stats::column_medians(data)),
    );
    let sorted = threshold::sorted(&scores);
    let rule = config.threshold_rule()?;
    let mut fitted = FittedDetector {
        format_version: MODEL_FORMAT_VERSION,
        name,
        features: data.names().to_vec(),
        medians,
        rule,
        threshold: 0.0,
        severity: SeverityScale::from_sorted(&sorted),
        model,
        config,
    };
    fitted.threshold = fitted.threshold_for_sorted(rule, &sorted)?;
    Ok((fitted, scores, sorted))
}

impl FittedDetector {
    /// The detector's name in outputs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `iforest`, `zscore` or `autoencoder`.
    pub fn kind(&self) -> &'static str {
        self.config.kind()
    }

    /// The resolved config (defaults filled in, current threshold rule).
    pub fn config(&self) -> &DetectorConfig {
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
        self.rule
    }

    /// Score threshold: rows with a score strictly above it are flagged.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    fn check_features(&self, data: &FeatureMatrix) -> Result<(), DetectorError> {
        if data.names() != self.features.as_slice() {
            return Err(DetectorError::FeatureMismatch {
                detector: self.name.clone(),
                expected: self.features.clone(),
                got: data.names().to_vec(),
            });
        }
        Ok(())
    }

    /// Anomaly score of every row (higher = more anomalous). The matrix must have the training
    /// features in the training order and at least one row.
    ///
    /// Scales: Isolation Forest 2^(-E[h]/c(psi)) in (0, 1]; z-score max |z| or sum z^2;
    /// autoencoder mean squared reconstruction error in standardized units.
    pub fn score(&self, data: &FeatureMatrix) -> Result<Vec<f64>, DetectorError> {
        self.check_features(data)?;
        stats::require_rows(data, "score", &self.name)?;
        stats::require_finite(data)?;
        Ok(self.model.score(data.values()))
    }

    /// Flags: `score > threshold` (strict, as scikit-learn's `predict`).
    pub fn flags(&self, scores: &[f64]) -> Vec<bool> {
        scores.iter().map(|&s| s > self.threshold).collect()
    }

    /// The threshold `rule` would give on these training scores, without changing anything.
    pub fn threshold_for(
        &self,
        rule: ThresholdRule,
        training_scores: &[f64],
    ) -> Result<f64, DetectorError> {
        let sorted = if rule.uses_training_scores() {
            threshold::sorted(training_scores)
        } else {
            Vec::new()
        };
        self.threshold_for_sorted(rule, &sorted)
    }

    /// [`FittedDetector::threshold_for`] on the training scores sorted ascending.
    fn threshold_for_sorted(
        &self,
        rule: ThresholdRule,
        sorted: &[f64],
    ) -> Result<f64, DetectorError> {
        rule.check_for(self.kind())
            .map_err(|message| DetectorError::InvalidThreshold {
                rule: rule.to_string(),
                message,
            })?;
        if let ThresholdRule::KSigma(k) = rule {
            return match &self.model {
                Model::ZScore(m) => Ok(m.k_sigma_threshold(k)),
                _ => Err(DetectorError::InvalidThreshold {
                    rule: rule.to_string(),
                    message: format!("only applies to zscore, not {}", self.kind()),
                }),
            };
        }
        if rule.uses_training_scores() && sorted.is_empty() {
            return Err(DetectorError::InvalidThreshold {
                rule: rule.to_string(),
                message: "needs the training scores, but none were given".into(),
            });
        }
        threshold::from_training(rule, sorted).ok_or_else(|| DetectorError::InvalidThreshold {
            rule: rule.to_string(),
            message: "cannot be computed from training scores".into(),
        })
    }

    /// Replaces the threshold rule without refitting: `training_scores` are the scores of the
    /// training rows (as returned by [`fit_with_scores`] or [`FittedDetector::score`] on the
    /// training matrix). The stored config is updated to the new rule.
    pub fn set_threshold(
        &mut self,
        rule: ThresholdRule,
        training_scores: &[f64],
    ) -> Result<(), DetectorError> {
        self.threshold = self.threshold_for(rule, training_scores)?;
        self.rule = rule;
        self.config.set_threshold_rule(rule);
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
    ///   [`IsolationForestModel::contributions`]); credits of one tree sum to
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
        self.check_features(data)?;
        if row >= data.n_rows() {
            return Err(DetectorError::RowOutOfRange {
                row,
                rows: data.n_rows(),
            });
        }
        let values = data.row(row);
        if let Some(j) = values.iter().position(|v| !v.is_finite()) {
            return Err(DetectorError::NonFinite {
                feature: self.features[j].clone(),
                row,
                value: values[j],
            });
        }
        let contributions = self.model.contributions(values);
        Ok(explain::rank(
            &self.features,
            values,
            &self.medians,
            &contributions,
            top_k,
        ))
    }

    /// The detector as JSON (model parameters bit-exact).
    pub fn to_json(&self) -> Result<String, DetectorError> {
        Ok(serde_json::to_string(self)?)
    }

    /// Reads a detector written by [`FittedDetector::to_json`] and checks its consistency.
    pub fn from_json(json: &str) -> Result<Self, DetectorError> {
        let fitted: FittedDetector = serde_json::from_str(json)?;
        if fitted.format_version != MODEL_FORMAT_VERSION {
            return Err(DetectorError::InvalidModel(format!(
                "format_version is {}, this build reads {MODEL_FORMAT_VERSION}",
                fitted.format_version
            )));
        }
        fitted.config.validate()?;
        if fitted.config.name() != fitted.name {
            return Err(DetectorError::InvalidModel(format!(
                "name `{}` differs from the config's `{}`",
                fitted.name,
                fitted.config.name()
            )));
        }
        let d = fitted.features.len();
        if d == 0 || fitted.medians.len() != d {
            return Err(DetectorError::InvalidModel(format!(
                "{} features but {} medians",
                d,
                fitted.medians.len()
            )));
        }
        if !fitted.severity.is_consistent() {
            return Err(DetectorError::InvalidModel(
                "severity scale is not ascending".into(),
            ));
        }
        fitted.model.check(d).map_err(DetectorError::InvalidModel)?;
        Ok(fitted)
    }
}
