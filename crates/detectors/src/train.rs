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
    /// What fitting did differently from what the config says, one sentence each, starting
    /// with the detector's name (e.g. `iforest: max_samples 100000 is more than the 5000 fit
    /// rows; used 5000`); see [`Detector::fit_notes`](crate::Detector::fit_notes). Fit-time
    /// only: not saved with the model.
    pub notes: Vec<String>,
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
    let notes = config
        .params()
        .fit_notes(data.n_rows(), data.n_cols())
        .into_iter()
        .map(|note| format!("{}: {note}", config.name()))
        .collect();
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
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> FeatureMatrix {
        let rows: Vec<Vec<f64>> = (0..60)
            .map(|i| vec![((i * 37) % 60) as f64, ((i * 11) % 7) as f64])
            .collect();
        FeatureMatrix::from_rows(vec!["a".into(), "b".into()], &rows).unwrap()
    }

    fn config(json: &str) -> DetectorConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn returns_row_order_and_sorted_training_scores() {
        let m = matrix();
        let t = train(&config(r#"{"kind": "zscore"}"#), &m, 0, None).unwrap();
        assert_eq!(t.scores, t.detector.score(&m).unwrap());
        let mut want = t.scores.clone();
        want.sort_by(f64::total_cmp);
        assert_eq!(t.sorted_scores, want);
        // the threshold is the rule applied to the sorted scores
        let q = crate::threshold::quantile_sorted(&t.sorted_scores, 0.95);
        assert_eq!(t.detector.threshold(), q);
    }

    #[test]
    fn given_medians_are_used_when_they_fit_the_columns() {
        let m = matrix();
        let c = config(r#"{"kind": "zscore"}"#);
        let t = train(&c, &m, 0, Some(vec![1.5, 2.5])).unwrap();
        assert_eq!(t.detector.medians(), &[1.5, 2.5]);
        let computed = train(&c, &m, 0, None).unwrap();
        let t = train(&c, &m, 0, Some(vec![1.0])).unwrap();
        assert_eq!(t.detector.medians(), computed.detector.medians());
    }

    #[test]
    fn the_config_is_checked_before_the_data() {
        let empty =
            FeatureMatrix::new(vec!["a".into()], vec![], vec![], Default::default(), None).unwrap();
        let err = train(
            &config(r#"{"kind": "zscore", "contamination": 0.9}"#),
            &empty,
            0,
            None,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            DetectorError::InvalidConfig {
                key: "contamination",
                ..
            }
        ));
    }
}
