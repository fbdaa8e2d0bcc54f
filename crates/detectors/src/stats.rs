//! Small statistics helpers and input checks shared by the detectors.

use crate::error::DetectorError;
use webthreat_core::FeatureMatrix;

pub use webthreat_core::stats::{column_medians, median};

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
    fn population_std() {
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m, 5.0);
        assert_eq!(s, 2.0);
    }
}
