//! Threshold rules, numpy-compatible percentiles and the 0-100 severity scale.
//!
//! A rule turns training scores into a score threshold; a row is flagged when its score is
//! strictly greater than the threshold (as scikit-learn's `predict`). Contamination `c` uses the
//! `(1 - c)` percentile of the training scores with numpy's default linear interpolation, which
//! is exactly scikit-learn's `offset_ = np.percentile(score_samples(X), 100 * c)` on negated
//! scores. With 282 distinct training scores and `c = 0.05` the virtual index is
//! 0.95 x 281 = 266.95, so the 15 largest scores are flagged.

use crate::error::DetectorError;
use crate::kinds::{self, Model};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest `threshold: {k_sigma: k}` (a million standard deviations; k^2, the `sum_sq`
/// threshold, stays far from overflowing).
pub const K_SIGMA_LIMIT: f64 = 1e6;

/// A resolved threshold rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdRule {
    /// Flag the top fraction `c` of training scores: threshold = (1 - c) percentile.
    Contamination(f64),
    /// Isolation Forest only: threshold 0.5 on the anomaly score (scikit-learn's `auto`).
    ContaminationAuto,
    /// Threshold = the `q` quantile of the training scores.
    Quantile(f64),
    /// A fixed threshold.
    Fixed(f64),
    /// z-score only: |z| > k for `combine: max`, sum z^2 > k^2 for `combine: sum_sq`.
    KSigma(f64),
}

impl fmt::Display for ThresholdRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThresholdRule::Contamination(c) => write!(f, "contamination: {c}"),
            ThresholdRule::ContaminationAuto => write!(f, "contamination: auto"),
            ThresholdRule::Quantile(q) => write!(f, "threshold: {{quantile: {q}}}"),
            ThresholdRule::Fixed(v) => write!(f, "threshold: {{fixed: {v}}}"),
            ThresholdRule::KSigma(k) => write!(f, "threshold: {{k_sigma: {k}}}"),
        }
    }
}

impl ThresholdRule {
    /// Whether the threshold is computed from the training scores (a percentile of them).
    pub fn uses_training_scores(&self) -> bool {
        matches!(
            self,
            ThresholdRule::Contamination(_) | ThresholdRule::Quantile(_)
        )
    }

    /// The config key the rule comes from (`contamination` or `threshold`).
    pub fn key(&self) -> &'static str {
        match self {
            ThresholdRule::Contamination(_) | ThresholdRule::ContaminationAuto => "contamination",
            _ => "threshold",
        }
    }

    /// Checks that the detector `kind` supports the rule (see [`crate::Detector::accepts`]),
    /// then the rule's value: `contamination` in (0, 0.5], `quantile` in [0, 1], `fixed`
    /// finite, `k_sigma` in (0, [`K_SIGMA_LIMIT`]]. The error text says what was wrong and
    /// what is expected.
    pub fn check_for(&self, kind: &str) -> Result<(), String> {
        if !kinds::accepts(kind, self) {
            return Err(self.unsupported_by(kind));
        }
        match *self {
            ThresholdRule::Contamination(c) if !(c > 0.0 && c <= 0.5) => Err(format!(
                "is {c}: expected a fraction in (0, 0.5] (or `auto` for {})",
                kinds::accepting(&ThresholdRule::ContaminationAuto).join(", ")
            )),
            ThresholdRule::Quantile(q) if !(0.0..=1.0).contains(&q) => Err(format!(
                "{{quantile: {q}}} is out of range: expected a quantile in [0, 1], e.g. 0.99"
            )),
            ThresholdRule::Fixed(v) if !v.is_finite() => {
                Err(format!("{{fixed: {v}}} is not a finite number"))
            }
            ThresholdRule::KSigma(k) if !(k > 0.0 && k <= K_SIGMA_LIMIT) => Err(format!(
                "{{k_sigma: {k:?}}}: expected a positive number of standard deviations up to \
                 {K_SIGMA_LIMIT:?}, e.g. 3.0"
            )),
            _ => Ok(()),
        }
    }

    /// Why `kind` cannot use this rule, naming the kinds that can.
    fn unsupported_by(&self, kind: &str) -> String {
        let only = kinds::accepting(self)
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            ThresholdRule::ContaminationAuto => format!(
                "is `auto`, which only {only} supports (score > 0.5); give {kind} a fraction in (0, 0.5]"
            ),
            ThresholdRule::KSigma(k) => format!(
                "{{k_sigma: {k}}} only applies to {only}; use contamination, quantile or fixed for {kind}"
            ),
            other => format!("{other} is not supported by {kind}; {only} support it"),
        }
    }

    /// The threshold of this (checked) rule for a fitted `model` whose training scores,
    /// sorted ascending, are `sorted_scores` (unused, and may be empty, for rules that do not
    /// depend on the training scores).
    pub(crate) fn apply(&self, model: &Model, sorted_scores: &[f64]) -> Result<f64, DetectorError> {
        if let Some(threshold) = model.rule_threshold(*self) {
            return Ok(threshold);
        }
        if self.uses_training_scores() && sorted_scores.is_empty() {
            return Err(DetectorError::InvalidThreshold {
                rule: self.to_string(),
                message: "needs the training scores, but none were given".into(),
            });
        }
        from_training(*self, sorted_scores).ok_or_else(|| DetectorError::InvalidThreshold {
            rule: self.to_string(),
            message: "cannot be computed from training scores".into(),
        })
    }
}

/// Sorts a copy of `scores` ascending (`f64::total_cmp`), on rayon's threads (values equal
/// under `total_cmp` are the same bits, so the result does not depend on the thread count).
/// The copy is sorted as integer order keys: their comparisons cost less than `total_cmp`'s.
pub fn sorted(scores: &[f64]) -> Vec<f64> {
    let mut keys: Vec<i64> = scores.iter().map(|&s| order_key(s)).collect();
    keys.par_sort_unstable();
    keys.into_iter().map(from_order_key).collect()
}

pub use webthreat_core::stats::quantile_sorted;
use webthreat_core::stats::{from_order_key, order_key};

/// Threshold of a data-driven rule from ascending training scores. `KSigma` and `Fixed` do not
/// depend on the data and are handled by the caller; for them this returns `None`.
pub fn from_training(rule: ThresholdRule, sorted_scores: &[f64]) -> Option<f64> {
    match rule {
        ThresholdRule::Contamination(c) => Some(quantile_sorted(sorted_scores, 1.0 - c)),
        ThresholdRule::Quantile(q) => Some(quantile_sorted(sorted_scores, q)),
        ThresholdRule::ContaminationAuto => Some(0.5),
        ThresholdRule::Fixed(v) => Some(v),
        ThresholdRule::KSigma(_) => None,
    }
}

/// Number of stored training quantiles behind [`SeverityScale`] (every 0.1 %).
pub const SEVERITY_POINTS: usize = 1001;

/// Maps a score to 0-100: its (interpolated) percentile rank among the training scores.
///
/// The scale stores the training-score quantiles at 0 %, 0.1 %, ..., 100 %. A score at or below
/// the training minimum maps to 0, at or above the training maximum to 100, and in between to
/// `100 (k + f) / 1000` where `q_k <= score < q_(k+1)` and `f` interpolates linearly inside that
/// interval. The map is continuous and non-decreasing in the score; severity 97 reads "more
/// anomalous than about 97 % of the training rows".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityScale {
    #[serde(with = "crate::exact_f64::vec")]
    quantiles: Vec<f64>,
}

impl SeverityScale {
    /// Builds the scale from ascending training scores (non-empty).
    pub fn from_sorted(sorted_scores: &[f64]) -> Self {
        let last = (SEVERITY_POINTS - 1) as f64;
        let quantiles = (0..SEVERITY_POINTS)
            .map(|k| quantile_sorted(sorted_scores, k as f64 / last))
            .collect();
        Self { quantiles }
    }

    /// Checks the stored grid after loading: the right length, ascending.
    pub fn is_consistent(&self) -> bool {
        self.quantiles.len() == SEVERITY_POINTS && self.quantiles.windows(2).all(|w| w[0] <= w[1])
    }

    /// The smallest and largest training score (`None` for an empty scale).
    pub(crate) fn bounds(&self) -> Option<(f64, f64)> {
        Some((*self.quantiles.first()?, *self.quantiles.last()?))
    }

    /// Severity in [0, 100] of `score` (see the type's documentation).
    pub fn severity(&self, score: f64) -> f64 {
        let q = &self.quantiles;
        let (Some(&first), Some(&last)) = (q.first(), q.last()) else {
            return 0.0;
        };
        if score.is_nan() || score <= first {
            return 0.0;
        }
        if score >= last {
            return 100.0;
        }
        // q[k] <= score < q[k + 1]; k < len - 1 because score < last.
        let k = q.partition_point(|&v| v <= score) - 1;
        let (a, b) = (q[k], q[k + 1]);
        let frac = if b > a { (score - a) / (b - a) } else { 0.0 };
        let steps = (SEVERITY_POINTS - 1) as f64;
        (100.0 * (k as f64 + frac) / steps).clamp(0.0, 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_is_total_cmp_order_bit_for_bit() {
        let mut scores: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 1013) as f64 / 7.0 - 60.0)
            .collect();
        scores.extend([-0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, 1e-310, -1e-310]);
        let mut want = scores.clone();
        want.sort_by(f64::total_cmp);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&sorted(&scores)), bits(&want));
    }

    #[test]
    fn contamination_five_percent_of_282_distinct_scores_flags_15() {
        let scores: Vec<f64> = (0..282).map(|i| ((i * 37) % 282) as f64 / 100.0).collect();
        let t = from_training(ThresholdRule::Contamination(0.05), &sorted(&scores)).unwrap();
        // virtual index 266.95 between sorted values 2.66 and 2.67
        assert!((t - 2.6695).abs() < 1e-9, "{t}");
        assert_eq!(scores.iter().filter(|&&s| s > t).count(), 15);
        // and 10 % flags 29 (index 252.9)
        let t = from_training(ThresholdRule::Contamination(0.1), &sorted(&scores)).unwrap();
        assert_eq!(scores.iter().filter(|&&s| s > t).count(), 29);
    }

    #[test]
    fn rules_are_checked_per_kind() {
        assert!(
            ThresholdRule::Contamination(0.0)
                .check_for("iforest")
                .is_err()
        );
        assert!(
            ThresholdRule::Contamination(0.6)
                .check_for("iforest")
                .is_err()
        );
        assert!(
            ThresholdRule::Contamination(0.5)
                .check_for("zscore")
                .is_ok()
        );
        assert!(
            ThresholdRule::ContaminationAuto
                .check_for("iforest")
                .is_ok()
        );
        assert!(
            ThresholdRule::ContaminationAuto
                .check_for("zscore")
                .is_err()
        );
        assert!(ThresholdRule::KSigma(3.0).check_for("zscore").is_ok());
        assert!(ThresholdRule::KSigma(3.0).check_for("autoencoder").is_err());
        assert!(ThresholdRule::KSigma(-1.0).check_for("zscore").is_err());
        assert!(ThresholdRule::Quantile(1.5).check_for("iforest").is_err());
        let msg = ThresholdRule::Contamination(0.7)
            .check_for("iforest")
            .unwrap_err();
        assert!(msg.contains("0.7") && msg.contains("(0, 0.5]"), "{msg}");
    }

    #[test]
    fn severity_is_a_monotone_percentile_rank() {
        let train: Vec<f64> = (0..=1000).map(|i| i as f64).collect();
        let scale = SeverityScale::from_sorted(&train);
        assert_eq!(scale.severity(-5.0), 0.0);
        assert_eq!(scale.severity(0.0), 0.0);
        assert!((scale.severity(500.0) - 50.0).abs() < 1e-9);
        assert!((scale.severity(970.5) - 97.05).abs() < 1e-9);
        assert_eq!(scale.severity(1000.0), 100.0);
        assert_eq!(scale.severity(1e9), 100.0);
        let mut prev = 0.0;
        for i in 0..3000 {
            let s = scale.severity(i as f64 * 0.37 - 10.0);
            assert!((0.0..=100.0).contains(&s) && s >= prev);
            prev = s;
        }
        // ties in the training scores keep it monotone
        let scale = SeverityScale::from_sorted(&[1.0, 1.0, 1.0, 2.0]);
        assert!(scale.severity(1.0) <= scale.severity(1.5));
        assert!(scale.is_consistent());
    }
}
