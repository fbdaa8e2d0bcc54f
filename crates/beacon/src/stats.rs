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

/// Bowley (quartile) skewness `(Q1 + Q3 - 2 Q2) / (Q3 - Q1)`, in `[-1, 1]`; 0 when the median
/// equals a quartile (as RITA does): the value is then ±1 by construction whatever the
/// distribution's shape, which is the case of a timer that repeats one interval with a few
/// off-by-a-second ones (`Q1 = Q2 = 204 s, Q3 = 204.25 s`).
pub(crate) fn bowley(q1: f64, q2: f64, q3: f64) -> f64 {
    let iqr = q3 - q1;
    if iqr > 0.0 && q2 != q1 && q2 != q3 {
        ((q1 + q3 - 2.0 * q2) / iqr).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Periods [`grid_fit`] tries.
const GRID_CANDIDATES: usize = 16;

/// How well `sorted` intervals (ascending, in seconds, at a resolution of `width_s`) are whole
/// multiples of one period: a timer that skips ticks (intervals of 600, 1200, 3000 s ...). For
/// each candidate period `p` (up to [`GRID_CANDIDATES`] values of the shorter half of the
/// intervals, at least ten resolution steps), the share `f` of intervals within
/// `tol = max(5 % of p, width_s)` of a positive multiple of `p` is set against the share random
/// intervals reach by chance, `c = 2 tol / p`: `(f - c) / (1 - c)`, in `[0, 1]`; the best
/// candidate counts. Random (Poisson) arrivals stay near 0, a timer near 1 however many ticks
/// it misses.
pub(crate) fn grid_fit(sorted: &[f64], width_s: f64) -> f64 {
    let n = sorted.len();
    if n < 3 {
        return 0.0;
    }
    let lower = &sorted[..n.div_ceil(2)];
    let step = (lower.len() / GRID_CANDIDATES).max(1);
    let mut best: f64 = 0.0;
    let mut tried = f64::NAN;
    for &p in lower.iter().step_by(step) {
        if p < 10.0 * width_s || p == tried {
            continue;
        }
        tried = p;
        let tol = (0.05 * p).max(width_s);
        let chance = (2.0 * tol / p).min(1.0);
        if chance >= 1.0 {
            continue;
        }
        let hits = sorted
            .iter()
            .filter(|&&x| {
                let k = (x / p).round();
                k >= 1.0 && (x - k * p).abs() <= tol
            })
            .count();
        let fit = hits as f64 / n as f64;
        best = best.max(((fit - chance) / (1.0 - chance)).clamp(0.0, 1.0));
    }
    best
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
    fn bowley_is_bounded_and_zero_without_spread_or_with_the_median_on_a_quartile() {
        assert_eq!(bowley(2.0, 2.0, 2.0), 0.0);
        // a median on a quartile says nothing of the shape
        assert_eq!(bowley(1.0, 1.0, 3.0), 0.0);
        assert_eq!(bowley(1.0, 3.0, 3.0), 0.0);
        assert_eq!(bowley(1.0, 2.0, 3.0), 0.0);
        assert_eq!(bowley(1.0, 1.5, 5.0), 0.75);
        assert_eq!(bowley(1.0, 4.5, 5.0), -0.75);
    }

    #[test]
    fn a_timer_that_skips_ticks_fits_its_grid_and_random_times_do_not() {
        // every tick 600 s, two in three ticks missed at random-looking places
        let mut skipping: Vec<f64> = [1, 2, 1, 3, 5, 1, 2, 4, 1, 1, 6, 2, 3, 1, 2, 8, 1, 2, 3, 1]
            .iter()
            .map(|k| *k as f64 * 600.0)
            .collect();
        skipping.sort_by(f64::total_cmp);
        assert_eq!(grid_fit(&skipping, 1.0), 1.0);
        // exponential intervals (mean 4800 s) from a fixed sequence of uniforms
        let mut u = 0.5f64;
        let mut random: Vec<f64> = (0..200)
            .map(|_| {
                u = (u * 9301.0 + 0.2113).fract();
                (-(1.0 - u).ln() * 4800.0).round().max(1.0)
            })
            .collect();
        random.sort_by(f64::total_cmp);
        assert!(grid_fit(&random, 1.0) < 0.2, "{}", grid_fit(&random, 1.0));
        assert_eq!(grid_fit(&[600.0, 1200.0], 1.0), 0.0);
    }

    #[test]
    fn madm_of_a_known_sample() {
        let s = summary(&mut [1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]);
        assert_eq!((s.q2, s.madm), (2.0, 1.0));
        assert_eq!(s.tightness(1.0), 0.5);
    }
}
