//! The five components of a pair's beacon score, computed from its compacted tally and the
//! log's span; the formulas are in the [crate docs](crate).

use crate::Components;
use crate::pair::TallyView;
use crate::stats::{self, Summary};

/// Fewest distinct check-ins (three intervals) for which the interval components are computed;
/// below it they are 0.
const MIN_CHECKINS: usize = 4;
/// Bins of [`Scored::histogram`].
pub(crate) const HISTOGRAM_BINS: usize = 20;
/// Coverage slots are at least this long (seconds).
const MIN_SLOT_S: f64 = 3_600.0;

/// One pair's components and what the table shows beside them.
pub(crate) struct Scored {
    pub(crate) components: Components,
    pub(crate) median_interval_s: f64,
    pub(crate) histogram: Vec<(f64, u64)>,
}

/// Scores the tally `t` in a log spanning `span_ms` (inclusive Unix milliseconds).
pub(crate) fn score(t: &TallyView<'_>, span_ms: (i64, i64)) -> Scored {
    let mut intervals: Vec<f64> = t.buckets.windows(2).map(|p| (p[1] - p[0]) as f64).collect();
    let histogram = histogram(&intervals);
    intervals.sort_unstable_by(f64::total_cmp);
    let grid = stats::grid_fit(&intervals, 1.0);
    let interval_summary = (!intervals.is_empty()).then(|| stats::summary(&mut intervals));
    let median_interval_s = interval_summary.map_or(0.0, |s| s.q2);
    let (interval_skew, interval_dispersion) = match interval_summary {
        Some(s) if t.buckets.len() >= MIN_CHECKINS => (s.symmetry(), s.tightness(0.0).max(grid)),
        _ => (0.0, 0.0),
    };

    let runs: Vec<(f64, u64)> = t.sizes.iter().map(|&(v, c)| (v as f64, c)).collect();
    let size_regularity = if runs.is_empty() {
        0.0
    } else {
        let s: Summary = stats::summary_runs(&runs);
        0.5 * (s.symmetry() + s.tightness(1.0))
    };

    let span_s = ((span_ms.1 as f64 - span_ms.0 as f64) / 1000.0).max(0.0);
    let hours = (span_s / 3_600.0).max(1.0);
    let count = (t.buckets.len() as f64 / hours).min(1.0);

    let slot = MIN_SLOT_S.max(2.0 * median_interval_s);
    let slots = (span_s / slot).ceil().max(1.0);
    let origin = span_ms.0 as f64 / 1000.0;
    let mut occupied = 0u64;
    let mut last_slot = i64::MIN;
    for &b in t.buckets {
        let at = (b as f64 - origin).max(0.0);
        let s = (at / slot).floor() as i64;
        if s != last_slot {
            occupied += 1;
            last_slot = s;
        }
    }
    let coverage = (occupied as f64 / slots).min(1.0);
    debug_assert!(t.connections >= t.buckets.len() as u64 && t.first_ms <= t.last_ms);

    Scored {
        components: Components {
            interval_skew,
            interval_dispersion,
            size_regularity,
            count,
            coverage,
        },
        median_interval_s,
        histogram,
    }
}

/// [`HISTOGRAM_BINS`] equal bins from the shortest interval to `min(longest, 3 x median)`,
/// longer intervals counted in the last bin; one bin when every interval is the same; empty
/// without intervals.
fn histogram(intervals: &[f64]) -> Vec<(f64, u64)> {
    if intervals.is_empty() {
        return Vec::new();
    }
    let mut sorted = intervals.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let lo = sorted[0];
    let hi = sorted[sorted.len() - 1].min(3.0 * stats::quantile(&sorted, 0.5));
    if hi <= lo {
        return vec![(lo, intervals.len() as u64)];
    }
    let width = (hi - lo) / HISTOGRAM_BINS as f64;
    let mut bins: Vec<(f64, u64)> = (0..HISTOGRAM_BINS)
        .map(|i| (lo + i as f64 * width, 0))
        .collect();
    for &x in intervals {
        let i = (((x - lo) / width).floor() as usize).min(HISTOGRAM_BINS - 1);
        bins[i].1 += 1;
    }
    bins
}
