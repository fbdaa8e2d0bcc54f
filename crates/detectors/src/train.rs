//! The one fitting entry point: check the config, fit the model, score the training rows,
//! then apply the threshold rule to the sorted training scores.

use crate::config::DetectorConfig;
use crate::error::DetectorError;
use crate::fitted::FittedDetector;
use crate::stats;
use crate::threshold::{self, SeverityScale};
use webthreat_core::FeatureMatrix;

/// A freshly fitted detector with its training scores.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The fitted detector, its threshold set by the config's rule.
    pub detector: FittedDetector,
    /// Score of every training row, in row order.
    pub scores: Vec<f64>,
    /// The same scores sorted ascending ([`f64::total_cmp`] order).
    pub sorted_scores: Vec<f64>,
}

/// Fits the detector described by `config` on `data`; every random choice derives from `seed`.
///
/// The config is checked once here ([`DetectorConfig::check`]). The threshold is the config's
/// rule applied to the sorted training scores. `scaled_medians`: the column medians of `data`
/// when the caller has them (ignored unless there is one per column); computed otherwise.
pub fn train(
    config: &DetectorConfig,
    data: &FeatureMatrix,
    seed: u64,
    scaled_medians: Option<Vec<f64>>,
) -> Result<Trained, DetectorError> {
    let config = config.check()?;
    stats::require_rows(data, "fit", config.name())?;
    stats::require_finite(data)?;
    let model = config.params().fit(config.name(), data, seed)?;
    let medians = scaled_medians.filter(|m| m.len() == data.n_cols());
    let (scores, medians) = rayon::join(
        || model.score(data.values()),
        || medians.unwrap_or_else(|| stats::column_medians(data)),
    );
    let sorted_scores = threshold::sorted(&scores);
    let threshold = config.rule().apply(&model, &sorted_scores)?;
    let detector = FittedDetector {
        features: data.names().to_vec(),
        medians,
        threshold,
        severity: SeverityScale::from_sorted(&sorted_scores),
        model,
        config,
    };
    Ok(Trained {
        detector,
        scores,
        sorted_scores,
    })
}
