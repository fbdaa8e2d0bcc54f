//! Order statistics shared by the crates: numpy-compatible medians and linear quantiles.

use crate::FeatureMatrix;
use rayon::prelude::*;

/// Median of `values` (mean of the two middle values for even length, as numpy); NaN if empty.
/// Reorders `values`; O(n) (selection, no full sort).
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

/// Per-column medians of a matrix (columns on rayon's threads).
pub fn column_medians(data: &FeatureMatrix) -> Vec<f64> {
    (0..data.n_cols())
        .into_par_iter()
        .map(|j| median_in_place(&mut data.column(j)))
        .collect()
}

/// The `q`-quantile (q in [0, 1]) of ascending `sorted` values with numpy's default `linear`
/// method, including numpy's interpolation formula (`a + (b - a) t` for `t < 0.5`,
/// `b - (b - a)(1 - t)` otherwise). Returns NaN for an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let q = q.clamp(0.0, 1.0);
    let virtual_index = q * (n - 1) as f64;
    let lower = virtual_index.floor();
    let t = virtual_index - lower;
    let lo = (lower as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
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
    fn quantiles_match_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 75, 90, 100]) = [1, 1.75, 2.5, 3.25, 3.7, 4]
        let s = [1.0, 2.0, 3.0, 4.0];
        let cases = [
            (0.0, 1.0),
            (0.25, 1.75),
            (0.5, 2.5),
            (0.75, 3.25),
            (0.9, 3.7),
            (1.0, 4.0),
        ];
        for (q, want) in cases {
            let got = quantile_sorted(&s, q);
            assert!((got - want).abs() < 1e-12, "q={q}: {got} vs {want}");
        }
        // numpy.percentile([10, 20, 40], 95) = 38.0 (index 1.9)
        assert!((quantile_sorted(&[10.0, 20.0, 40.0], 0.95) - 38.0).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
        assert!(quantile_sorted(&[], 0.3).is_nan());
    }
}
