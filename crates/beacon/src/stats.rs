//! Order statistics of the beacon components: quantiles by linear interpolation between order
//! statistics (the `(n - 1) p` rule, as R's type 7 and pandas' default), Bowley skewness and the
//! median absolute deviation about the median (MADM), on plain sorted values and on sorted
//! `(value, count)` runs.

/// The `p`-quantile of `sorted` (ascending, non-empty) by linear interpolation at `(n - 1) p`.
pub(crate) fn quantile(sorted: &[f64], p: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Bowley (quartile) skewness `(Q1 + Q3 - 2 Q2) / (Q3 - Q1)`, 0 when `Q3 == Q1`; in `[-1, 1]`.
pub(crate) fn bowley(q1: f64, q2: f64, q3: f64) -> f64 {
    let iqr = q3 - q1;
    if iqr > 0.0 {
        ((q1 + q3 - 2.0 * q2) / iqr).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Quartiles and MADM of plain values (sorted in place).
pub(crate) fn summary(values: &mut [f64]) -> Summary {
    values.sort_unstable_by(f64::total_cmp);
    let (q1, q2, q3) = (
        quantile(values, 0.25),
        quantile(values, 0.5),
        quantile(values, 0.75),
    );
    for v in values.iter_mut() {
        *v = (*v - q2).abs();
    }
    values.sort_unstable_by(f64::total_cmp);
    Summary {
        q1,
        q2,
        q3,
        madm: quantile(values, 0.5),
    }
}

/// Quartiles and MADM of the multiset given as sorted `(value, count)` runs with positive
/// counts (the same numbers [`summary`] gives on the expanded values).
pub(crate) fn summary_runs(runs: &[(f64, u64)]) -> Summary {
    let (q1, q2, q3) = (
        quantile_runs(runs, 0.25),
        quantile_runs(runs, 0.5),
        quantile_runs(runs, 0.75),
    );
    let mut dev: Vec<(f64, u64)> = runs.iter().map(|&(v, c)| ((v - q2).abs(), c)).collect();
    dev.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    Summary {
        q1,
        q2,
        q3,
        madm: quantile_runs(&dev, 0.5),
    }
}

/// The `p`-quantile of sorted runs, as [`quantile`] on the expanded values.
fn quantile_runs(runs: &[(f64, u64)], p: f64) -> f64 {
    let n: u64 = runs.iter().map(|r| r.1).sum();
    debug_assert!(n > 0);
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as u64;
    let frac = h - lo as f64;
    let at = |i: u64| {
        let mut seen = 0;
        for &(v, c) in runs {
            seen += c;
            if i < seen {
                return v;
            }
        }
        runs[runs.len() - 1].0
    };
    let a = at(lo);
    if frac > 0.0 {
        a + frac * (at(lo + 1) - a)
    } else {
        a
    }
}

/// Quartiles and MADM of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub(crate) q1: f64,
    pub(crate) q2: f64,
    pub(crate) q3: f64,
    pub(crate) madm: f64,
}

impl Summary {
    /// `1 - |Bowley skewness|`, in `[0, 1]`.
    pub(crate) fn symmetry(&self) -> f64 {
        1.0 - bowley(self.q1, self.q2, self.q3).abs()
    }

    /// `1 - min(1, MADM / max(median, floor))`, in `[0, 1]`.
    pub(crate) fn tightness(&self, floor: f64) -> f64 {
        let scale = self.q2.max(floor);
        if scale > 0.0 {
            1.0 - (self.madm / scale).min(1.0)
        } else {
            1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_pandas() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.75), 3.25);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn runs_match_expanded_values() {
        let runs = [(1.0, 3), (5.0, 1), (9.0, 4), (20.0, 2)];
        let mut flat: Vec<f64> = runs
            .iter()
            .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize))
            .collect();
        assert_eq!(summary_runs(&runs), summary(&mut flat));
    }

    #[test]
    fn bowley_is_bounded_and_zero_without_spread() {
        assert_eq!(bowley(2.0, 2.0, 2.0), 0.0);
        assert_eq!(bowley(1.0, 1.0, 3.0), 1.0);
        assert_eq!(bowley(1.0, 3.0, 3.0), -1.0);
        assert_eq!(bowley(1.0, 2.0, 3.0), 0.0);
    }

    #[test]
    fn madm_of_a_known_sample() {
        let s = summary(&mut [1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]);
        assert_eq!((s.q2, s.madm), (2.0, 1.0));
        assert_eq!(s.tightness(1.0), 0.5);
    }
}
