//! Order statistics shared by the crates: numpy-compatible medians and linear quantiles.

use crate::FeatureMatrix;
use rayon::prelude::*;

/// Median of `values` (mean of the two middle values for even length, as numpy); NaN if empty.
/// O(n): a selection (no full sort) in [`f64::total_cmp`] order, on integer keys of that order.
pub fn median(values: &[f64]) -> f64 {
    middle_of_keys(&mut values.iter().map(|&v| order_key(v)).collect::<Vec<_>>()).median()
}

/// Per-column medians of a matrix.
pub fn column_medians(data: &FeatureMatrix) -> Vec<f64> {
    column_middles(data).iter().map(Middle::median).collect()
}

/// Per-column [`Middle`]s of a matrix (columns on rayon's threads, each thread reusing one
/// buffer for all its columns).
pub fn column_middles(data: &FeatureMatrix) -> Vec<Middle> {
    let cols = data.n_cols();
    (0..cols)
        .into_par_iter()
        .map_init(Vec::new, |keys, j| {
            keys.clear();
            let rows = data.values().chunks_exact(cols);
            keys.extend(rows.map(|row| order_key(row[j])));
            middle_of_keys(keys)
        })
        .collect()
}

/// The order statistics a median is taken from ([`f64::total_cmp`] order): the middle value of
/// an odd count, the two middle values of an even one. A map that keeps that order (such as
/// `(x - c) / s` with `s > 0`) takes the middle values of a column to those of its image, so
/// the image's median is [`Middle::map`] then [`Middle::median`], without a second selection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Middle {
    /// The lower middle value (an even count), else `None`.
    lower: Option<f64>,
    /// The upper middle value (NaN for no values).
    upper: f64,
}

impl Middle {
    /// The median: the middle value, or the mean of the two as numpy computes it.
    pub fn median(&self) -> f64 {
        match self.lower {
            None => self.upper,
            Some(lower) => lower + (self.upper - lower) / 2.0,
        }
    }

    /// The middle values mapped by `f`.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Middle {
        Middle {
            lower: self.lower.map(&f),
            upper: f(self.upper),
        }
    }
}

/// An integer whose order is [`f64::total_cmp`]'s: negative values have their other bits
/// flipped. The map is its own inverse.
pub fn order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// The value whose [`order_key`] this is.
pub fn from_order_key(key: i64) -> f64 {
    f64::from_bits(order_key(f64::from_bits(key as u64)) as u64)
}

/// The [`Middle`] of the values whose [`order_key`]s these are (reordered): selecting on
/// integers selects the same values as on `total_cmp`.
fn middle_of_keys(keys: &mut [i64]) -> Middle {
    let n = keys.len();
    if n == 0 {
        return Middle {
            lower: None,
            upper: f64::NAN,
        };
    }
    let mid = n / 2;
    let (lower, &mut upper, _) = keys.select_nth_unstable(mid);
    let lower = n.is_multiple_of(2).then(|| {
        lower
            .iter()
            .map(|&k| from_order_key(k))
            .fold(f64::NEG_INFINITY, f64::max)
    });
    Middle {
        lower,
        upper: from_order_key(upper),
    }
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
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[5.0]), 5.0);
        assert!(median(&[]).is_nan());
        // order keys keep total_cmp's order, signed zeros and infinities included
        let mut values = vec![
            -0.0,
            0.0,
            -1.5,
            2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
        ];
        values.sort_by_key(|v| order_key(*v));
        let mut want = values.clone();
        want.sort_by(f64::total_cmp);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&values), bits(&want));
        assert!(
            values
                .iter()
                .all(|&v| from_order_key(order_key(v)).to_bits() == v.to_bits())
        );
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
