//! Bounded binning helpers that turn per-row values (up to millions) into small plot data:
//! linear and log-scale histograms, top-N category counts and a capped scatter sample.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bins per decade of a [`log_histogram`] (a bin spans a factor of about 1.78).
pub const LOG_BINS_PER_DECADE: usize = 4;

/// A histogram: `counts[i]` values fell in `[edges[i], edges[i + 1])` (the last bin is closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin edges, one more than `counts`, ascending.
    pub edges: Vec<f64>,
    /// Number of values per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Total number of values binned.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Largest bin count (0 for an empty histogram).
    pub fn max_count(&self) -> u64 {
        self.counts.iter().copied().max().unwrap_or(0)
    }

    /// `(lower edge, upper edge, count)` per bin.
    pub fn bins(&self) -> impl Iterator<Item = (f64, f64, u64)> + '_ {
        self.edges
            .windows(2)
            .zip(&self.counts)
            .map(|(edge, &count)| (edge[0], edge[1], count))
    }
}

/// Equal-width histogram of the finite `values` over their `[min, max]` range with `bins` bins
/// (at least 1). Non-finite values are skipped. A constant input gets a single unit-wide bin.
pub fn linear_histogram(values: &[f64], bins: usize) -> Histogram {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    weighted_linear_histogram(min, max, finite.map(|v| (v, 1)), bins)
}

/// Equal-width histogram over `[min, max]` (finite) of `(value, count)` pairs (values outside
/// the range count in the end bins): an empty range (`min > max`) gives one empty bin, a
/// constant one a single bin a unit wide (wider for values beyond 5e8, so that its edges
/// differ). Edges are always finite and ascending: a range wider than `f64::MAX` is binned in
/// halves, one a few subnormal steps wide (too narrow to split) gets a single bin.
pub(crate) fn weighted_linear_histogram(
    min: f64,
    max: f64,
    values: impl Iterator<Item = (f64, u64)>,
    bins: usize,
) -> Histogram {
    if min > max {
        return Histogram {
            edges: vec![0.0, 1.0],
            counts: vec![0],
        };
    }
    if min == max {
        let half = 0.5f64.max(min.abs() * 1e-9);
        return Histogram {
            edges: vec![(min - half).max(f64::MIN), (min + half).min(f64::MAX)],
            counts: vec![values.map(|(_, n)| n).sum()],
        };
    }
    let bins = bins.max(1);
    let width = (max - min) / bins as f64;
    if width == 0.0 {
        return Histogram {
            edges: vec![min, max],
            counts: vec![values.map(|(_, n)| n).sum()],
        };
    }
    let mut counts = vec![0u64; bins];
    let edges = if width.is_finite() {
        for (v, n) in values {
            let index = (((v.clamp(min, max) - min) / width) as usize).min(bins - 1);
            counts[index] += n;
        }
        // rounding may carry the last edge past f64::MAX
        (0..=bins)
            .map(|i| (min + width * i as f64).min(f64::MAX))
            .collect()
    } else {
        // `max - min` overflows; half of it does not
        let (low, half_width) = (min / 2.0, (max / 2.0 - min / 2.0) / bins as f64);
        for (v, n) in values {
            let index = (((v.clamp(min, max) / 2.0 - low) / half_width) as usize).min(bins - 1);
            counts[index] += n;
        }
        (0..=bins)
            .map(|i| (2.0 * (low + half_width * i as f64)).clamp(min, max))
            .collect()
    };
    Histogram { edges, counts }
}

/// Counts of `log10(1 + v)` for non-negative byte-like values (negative and non-finite values
/// are skipped), with [`LOG_BINS_PER_DECADE`] bins per decade starting at 0, folded part by
/// part. Only the bins up to the largest value exist, so huge values keep it small.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogBins {
    counts: Vec<u64>,
}

impl LogBins {
    /// Counts `values`.
    pub fn add(&mut self, values: &[f64]) {
        let per_decade = LOG_BINS_PER_DECADE as f64;
        for v in values.iter().filter(|v| v.is_finite() && **v >= 0.0) {
            let index = ((1.0 + v).log10() * per_decade) as usize;
            if self.counts.len() <= index {
                self.counts.resize(index + 1, 0);
            }
            self.counts[index] += 1;
        }
    }

    /// The histogram, edges in log10(1 + v) units (one empty bin when nothing was counted).
    pub fn histogram(&self) -> Histogram {
        let counts = if self.counts.is_empty() {
            vec![0]
        } else {
            self.counts.clone()
        };
        Histogram {
            edges: (0..=counts.len())
                .map(|i| i as f64 / LOG_BINS_PER_DECADE as f64)
                .collect(),
            counts,
        }
    }
}

/// A labelled count (a bar of a bar chart or a row of a summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelCount {
    /// Category label (protocol, country, IP, port...), log-derived: escape before rendering.
    pub label: String,
    /// Number of rows in the category.
    pub count: u64,
}

/// Label used by [`top_counts`] for the sum of the categories it left out.
pub const OTHER_LABEL: &str = "(other)";

/// Counts occurrences of each label and keeps the `max` largest (ties by label, ascending);
/// the rest are summed into one [`OTHER_LABEL`] entry at the end when any remain.
pub fn top_counts<'a>(labels: impl IntoIterator<Item = &'a str>, max: usize) -> Vec<LabelCount> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for label in labels {
        *counts.entry(label).or_default() += 1;
    }
    top_of(
        counts.into_iter().map(|(label, count)| LabelCount {
            label: label.to_string(),
            count,
        }),
        max,
    )
}

/// Sorts pre-aggregated counts by count descending then label, keeps `max` of them, and sums
/// the rest into one [`OTHER_LABEL`] entry when any remain.
pub fn top_of(counts: impl IntoIterator<Item = LabelCount>, max: usize) -> Vec<LabelCount> {
    let mut all: Vec<LabelCount> = counts.into_iter().collect();
    all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    if all.len() > max {
        let rest: u64 = all[max..].iter().map(|c| c.count).sum();
        all.truncate(max);
        all.push(LabelCount {
            label: OTHER_LABEL.to_string(),
            count: rest,
        });
    }
    all
}

/// One point of the bytes scatter plot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScatterPoint {
    /// Bytes received.
    pub bytes_in: f64,
    /// Bytes sent.
    pub bytes_out: f64,
    /// Flagged by at least one detector.
    pub flagged: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_histogram_bins_values_and_closes_last_bin() {
        let h = linear_histogram(&[0.0, 1.0, 2.0, 3.0, 4.0, f64::NAN], 2);
        assert_eq!(h.edges, vec![0.0, 2.0, 4.0]);
        assert_eq!(h.counts, vec![2, 3]);
        assert_eq!(h.total(), 5);
        assert_eq!(h.max_count(), 3);
    }

    #[test]
    fn linear_histogram_of_constant_and_empty_input() {
        let h = linear_histogram(&[7.0, 7.0], 10);
        assert_eq!(h.edges, vec![6.5, 7.5]);
        assert_eq!(h.counts, vec![2]);
        assert_eq!(linear_histogram(&[], 3).total(), 0);
    }

    /// Edges finite, strictly ascending, one more than the counts.
    fn assert_sane(h: &Histogram, what: &str) {
        assert_eq!(h.edges.len(), h.counts.len() + 1, "{what}: {h:?}");
        assert!(h.edges.iter().all(|e| e.is_finite()), "{what}: {h:?}");
        assert!(h.edges.windows(2).all(|w| w[0] < w[1]), "{what}: {h:?}");
    }

    #[test]
    fn linear_histogram_of_extreme_values_has_finite_ascending_edges() {
        let h = linear_histogram(&[-f64::MAX, f64::MAX, f64::MAX / 10.0, 1.2e308], 30);
        assert_sane(&h, "full range");
        assert_eq!(h.edges[0], -f64::MAX);
        assert_eq!(h.edges[30], f64::MAX);
        assert_eq!(h.total(), 4);
        let at = |i: usize| h.counts[i];
        assert_eq!((at(0), at(16), at(25), at(29)), (1, 1, 1, 1));
        let h = linear_histogram(&[0.0, f64::MAX], 30);
        assert_sane(&h, "zero to max");
        assert_eq!(h.counts[29], 1);
        for constant in [1e300, f64::MAX, -f64::MAX, 5e-324] {
            let h = linear_histogram(&[constant; 3], 30);
            assert_sane(&h, &constant.to_string());
            assert_eq!(h.counts, vec![3]);
        }
        let h = linear_histogram(&[0.0, 5e-324, 5e-324], 30);
        assert_sane(&h, "subnormal");
        assert_eq!(h.total(), 3);
    }

    #[test]
    fn log_histogram_uses_quarter_decades() {
        // log10(1+0)=0 -> bin 0; log10(1+9)=1 -> bin 4; log10(1+999)=3 -> bin 12 (last).
        let mut bins = LogBins::default();
        bins.add(&[0.0, 9.0]);
        bins.add(&[999.0, -5.0]);
        let h = bins.histogram();
        assert_eq!(h.counts.len(), 13);
        assert_eq!(h.edges.len(), 14);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[4], 1);
        assert_eq!(h.counts[12], 1);
        assert_eq!(h.total(), 3);
    }

    #[test]
    fn log_histogram_stays_small_for_huge_values() {
        let mut bins = LogBins::default();
        bins.add(&[1e15]);
        assert!(bins.histogram().counts.len() <= 61);
        assert_eq!(LogBins::default().histogram().counts, vec![0]);
    }

    #[test]
    fn top_counts_sorts_and_folds_the_rest() {
        let labels = ["tcp", "udp", "tcp", "icmp", "gre", "udp", "tcp"];
        let top = top_counts(labels, 2);
        let pairs: Vec<(&str, u64)> = top.iter().map(|c| (c.label.as_str(), c.count)).collect();
        assert_eq!(pairs, vec![("tcp", 3), ("udp", 2), (OTHER_LABEL, 2)]);
        assert_eq!(top_counts(["b", "a"], 5)[0].label, "a");
    }
}
