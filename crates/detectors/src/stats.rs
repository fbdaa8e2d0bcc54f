//! Small statistics helpers and input checks shared by the detectors.

use crate::error::DetectorError;
use webthreat_core::FeatureMatrix;

/// Median of `values` (mean of the two middle values for even length, as numpy); NaN if empty.
/// Reorders `values`.
pub fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (_, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = values[..mid]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        lower + (upper - lower) / 2.0
    }
}

/// Per-feature medians of a matrix.
pub fn column_medians(data: &FeatureMatrix) -> Vec<f64> {
    (0..data.n_cols())
        .map(|j| median_in_place(&mut data.column(j)))
        .collect()
}

/// Mean and population standard deviation (ddof = 0) of `values` (two-pass, non-empty).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Fails with [`DetectorError::EmptyInput`] for a matrix without rows.
pub fn require_rows(
    data: &FeatureMatrix,
    action: &'static str,
    detector: &str,
) -> Result<(), DetectorError> {
    if data.n_rows() == 0 {
        return Err(DetectorError::EmptyInput {
            action,
            detector: detector.to_string(),
        });
    }
    Ok(())
}

/// Fails unless every value is finite (a second line of defence: `FeatureMatrix` checks already).
pub fn require_finite(data: &FeatureMatrix) -> Result<(), DetectorError> {
    match data.values().iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(pos) => Err(DetectorError::NonFinite {
            feature: data.names()[pos % data.n_cols()].clone(),
            row: pos / data.n_cols(),
            value: data.values()[pos],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_like_numpy() {
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median_in_place(&mut [5.0]), 5.0);
        assert!(median_in_place(&mut []).is_nan());
    }

    #[test]
    fn population_std() {
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m, 5.0);
        assert_eq!(s, 2.0);
    }
}
