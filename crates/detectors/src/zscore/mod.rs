//! z-score baseline: how many spreads each feature sits from its training center.
//!
//! Fit stores, per feature, a center and a spread: mean and population standard deviation
//! (`center: mean`), or median and 1.4826 x MAD (`center: median`; when the MAD is 0 but the
//! feature is not constant, the standard deviation is used instead so rare values still count).
//! For a row, z_j = (x_j - center_j) / spread_j, with z_j = 0 for a feature whose spread is 0
//! (constant in training), so no NaN can arise. The row score is max_j |z_j| (`combine: max`)
//! or sum_j z_j^2 (`combine: sum_sq`).

use crate::stats::{mean_std, median};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod params;

pub use params::{Center, Combine, ZScoreKeys, ZScoreParams};

/// MAD to standard deviation factor for normal data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Rows scored per parallel task.
const SCORE_CHUNK: usize = 4096;

/// A fitted z-score detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZScoreModel {
    #[serde(deserialize_with = "de_combine")]
    combine: Combine,
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_center"
    )]
    center: Vec<f64>,
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_spread"
    )]
    spread: Vec<f64>,
}

crate::named::named_fields! {
    de_combine: Combine = "combine";
    de_center: Vec<f64> = "center" via crate::exact_f64::vec::deserialize;
    de_spread: Vec<f64> = "spread" via crate::exact_f64::vec::deserialize;
}

impl ZScoreModel {
    /// Estimates centers and spreads from row-major `values` with `d` columns (at least 1 row).
    pub fn fit(params: &ZScoreParams, values: &[f64], d: usize) -> Self {
        let mut center = Vec::with_capacity(d);
        let mut spread = Vec::with_capacity(d);
        for j in 0..d {
            let mut col: Vec<f64> = values.iter().skip(j).step_by(d).copied().collect();
            let (mean, std) = mean_std(&col);
            match params.center {
                Center::Mean => {
                    center.push(mean);
                    spread.push(std);
                }
                Center::Median => {
                    let med = median(&col);
                    col.iter_mut().for_each(|v| *v = (*v - med).abs());
                    let mad = median(&col) * MAD_TO_SIGMA;
                    center.push(med);
                    spread.push(if mad > 0.0 { mad } else { std });
                }
            }
        }
        Self {
            combine: params.combine,
            center,
            spread,
        }
    }

    /// Per-feature |z| of one row (0 where the training spread is 0).
    pub fn abs_z(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .zip(self.center.iter().zip(&self.spread))
            .map(|(x, (c, s))| if *s > 0.0 { ((x - c) / s).abs() } else { 0.0 })
            .collect()
    }

    fn row_score(&self, row: &[f64]) -> f64 {
        let zs = row
            .iter()
            .zip(self.center.iter().zip(&self.spread))
            .map(|(x, (c, s))| if *s > 0.0 { (x - c) / s } else { 0.0 });
        match self.combine {
            Combine::Max => zs.fold(0.0, |m: f64, z| m.max(z.abs())),
            Combine::SumSq => zs.map(|z| z * z).sum(),
        }
    }

    /// Row scores of row-major `values`.
    pub fn score(&self, values: &[f64]) -> Vec<f64> {
        let d = self.center.len();
        let mut out = vec![0.0; values.len() / d];
        out.par_chunks_mut(SCORE_CHUNK)
            .zip(values.par_chunks(SCORE_CHUNK * d))
            .for_each(|(o, rows)| {
                for (s, row) in o.iter_mut().zip(rows.chunks_exact(d)) {
                    *s = self.row_score(row);
                }
            });
        out
    }

    /// The score threshold meaning "k standard deviations": k for `max`, k^2 for `sum_sq`.
    pub fn k_sigma_threshold(&self, k: f64) -> f64 {
        match self.combine {
            Combine::Max => k,
            Combine::SumSq => k * k,
        }
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.center.len()
    }

    /// How per-feature scores combine into the row score.
    pub fn combine(&self) -> Combine {
        self.combine
    }

    /// Checks after loading from JSON: a center and a spread per feature, every spread >= 0
    /// (0 is what fitting stores for a feature constant in training, which then scores 0, so
    /// it is accepted; centers and spreads are finite, as deserialization checked).
    pub fn check(&self, n_features: usize) -> Result<(), String> {
        if self.center.len() != n_features || self.spread.len() != n_features {
            return Err(format!(
                "the z-score model has {} `center` and {} `spread` values but the detector lists \
                 {n_features} features",
                self.center.len(),
                self.spread.len()
            ));
        }
        if let Some(j) = self.spread.iter().position(|&s| s.is_nan() || s < 0.0) {
            return Err(format!(
                "the z-score model's `spread[{j}]` is {:?}: expected a standard deviation >= 0",
                self.spread[j]
            ));
        }
        Ok(())
    }

    /// Centers, one per feature.
    pub fn center(&self) -> &[f64] {
        &self.center
    }

    /// Spreads, one per feature.
    pub fn spread(&self) -> &[f64] {
        &self.spread
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(center: Center, combine: Combine) -> ZScoreParams {
        ZScoreParams { center, combine }
    }

    #[test]
    fn mean_std_scores_by_hand() {
        // column a: 1, 2, 3, 6 -> mean 3, var (4 + 1 + 0 + 9) / 4 = 3.5
        // column b: constant 5 -> spread 0 -> z = 0
        let values = [1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 6.0, 5.0];
        let m = ZScoreModel::fit(&params(Center::Mean, Combine::Max), &values, 2);
        assert_eq!(m.center(), &[3.0, 5.0]);
        assert_eq!(m.spread()[1], 0.0);
        let sd = 3.5f64.sqrt();
        let s = m.score(&values);
        let want = [2.0 / sd, 1.0 / sd, 0.0, 3.0 / sd];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
        // a different value in the constant column still contributes 0, never NaN
        let s = m.score(&[3.0, 1e6]);
        assert_eq!(s, vec![0.0]);
        let m = ZScoreModel::fit(&params(Center::Mean, Combine::SumSq), &values, 2);
        let s = m.score(&values);
        assert!((s[3] - 9.0 / 3.5).abs() < 1e-12);
        assert_eq!(m.k_sigma_threshold(3.0), 9.0);
    }

    #[test]
    fn median_mad_scores_by_hand() {
        // 1, 2, 3, 4, 100: median 3, |dev| 2, 1, 0, 1, 97 -> MAD 1 -> spread 1.4826
        let values = [1.0, 2.0, 3.0, 4.0, 100.0];
        let m = ZScoreModel::fit(&params(Center::Median, Combine::Max), &values, 1);
        assert_eq!(m.center(), &[3.0]);
        assert!((m.spread()[0] - 1.4826).abs() < 1e-12);
        let s = m.score(&values);
        assert!((s[4] - 97.0 / 1.4826).abs() < 1e-9);
        assert!((s[0] - 2.0 / 1.4826).abs() < 1e-12);
    }

    #[test]
    fn zero_mad_falls_back_to_std() {
        // mostly zeros with one spike: MAD 0 but not constant
        let mut values = vec![0.0; 99];
        values.push(50.0);
        let m = ZScoreModel::fit(&params(Center::Median, Combine::Max), &values, 1);
        assert_eq!(m.center(), &[0.0]);
        assert!(m.spread()[0] > 0.0);
        let s = m.score(&values);
        assert!(s[99] > 9.0 && s[0] == 0.0);
    }
}
