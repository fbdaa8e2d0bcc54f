//! Parameters of `kind: zscore` and its [`Detector`] implementation.

use super::ZScoreModel;
use crate::detector::{Detector, DetectorModel, InvalidParam, detector_params};
use crate::error::DetectorError;
use crate::threshold::ThresholdRule;
use serde::{Deserialize, Serialize};
use webthreat_core::FeatureMatrix;

detector_params! {
    /// Parameters of `kind: zscore`.
    pub struct ZScoreParams / ZScoreKeys {
        /// Center and spread: `mean` (mean / standard deviation, the default) or `median`
        /// (median / MAD x 1.4826).
        #[serde(default)]
        pub center: Center,
        /// How per-feature scores combine into a row score: `max` |z| (default) or `sum_sq` (sum of z^2).
        #[serde(default)]
        pub combine: Combine,
    }
}

impl Default for ZScoreParams {
    fn default() -> Self {
        Self {
            center: Center::Mean,
            combine: Combine::Max,
        }
    }
}

/// Center and spread of the z-score detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Center {
    /// Mean and population standard deviation.
    #[default]
    Mean,
    /// Median and MAD x 1.4826 (consistent with the standard deviation for normal data).
    Median,
}

/// How the z-score detector combines per-feature scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The largest |z| of the row.
    #[default]
    Max,
    /// The sum of z^2 over the row's features.
    SumSq,
}

impl Detector for ZScoreParams {
    type Model = ZScoreModel;
    type Keys = ZScoreKeys;

    /// Nothing to check: `center` and `combine` are keywords (serde checked them).
    fn check(&self) -> Result<(), InvalidParam> {
        Ok(())
    }

    /// Also `threshold: {k_sigma: k}`, never `contamination: auto`.
    fn accepts(rule: &ThresholdRule) -> bool {
        !matches!(rule, ThresholdRule::ContaminationAuto)
    }

    fn fit(
        &self,
        _name: &str,
        data: &FeatureMatrix,
        _seed: u64,
    ) -> Result<ZScoreModel, DetectorError> {
        Ok(ZScoreModel::fit(self, data.values(), data.n_cols()))
    }

    /// The model combines per-feature scores as the config says.
    fn check_model(&self, model: &ZScoreModel) -> Result<(), String> {
        if model.combine() != self.combine {
            return Err(format!(
                "the z-score model's `combine` is {} but the config's is {}",
                combine_name(model.combine()),
                combine_name(self.combine)
            ));
        }
        Ok(())
    }
}

fn combine_name(c: Combine) -> &'static str {
    match c {
        Combine::Max => "max",
        Combine::SumSq => "sum_sq",
    }
}

impl DetectorModel for ZScoreModel {
    fn score(&self, values: &[f64]) -> Vec<f64> {
        ZScoreModel::score(self, values)
    }

    fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.abs_z(row)
    }

    fn check(&self, n_features: usize) -> Result<(), String> {
        ZScoreModel::check(self, n_features)
    }

    /// `k_sigma: k` is |z| > k for `combine: max`, sum z^2 > k^2 for `combine: sum_sq`.
    fn rule_threshold(&self, rule: ThresholdRule) -> Option<f64> {
        match rule {
            ThresholdRule::KSigma(k) => Some(self.k_sigma_threshold(k)),
            _ => None,
        }
    }
}
