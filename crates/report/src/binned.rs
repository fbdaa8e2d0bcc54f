//! Ranking metrics in bounded memory: scores are folded into bins that keep their 12 leading
//! significant bits (relative width 2^-12, about 0.024 %), with positive and negative counts
//! per bin, so that billions of rows need only as many bins as distinct binned values.
//!
//! Within a bin, scores count as tied. ROC AUC is then exact for the binned scores, and
//! [`BinnedScores::roc_auc`] also returns the largest possible difference from the AUC of the
//! unbinned scores: half the fraction of (positive, negative) pairs that share a bin. Average
//! precision and the curves treat each bin as one threshold, as [`crate::evaluate`] treats
//! tied scores.

use crate::evaluate::{CurvePoint, EvalError, MAX_CURVE_POINTS, downsample};
use crate::histogram::{Histogram, weighted_linear_histogram};
use std::collections::BTreeMap;

/// Low bits of the order-preserving key dropped by binning (52 mantissa bits - 12 kept).
const DROPPED_BITS: u32 = 40;

/// Per-bin (positive, negative) counts of scores, higher = more anomalous.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BinnedScores {
    bins: BTreeMap<u64, [u64; 2]>,
    min: Option<f64>,
    max: Option<f64>,
}

/// Order-preserving map of a finite f64 to u64 (negative values below positive ones).
fn order_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The smallest value of a bin key's range (inverse of [`order_key`] with the dropped bits 0).
fn bin_floor(key: u64) -> f64 {
    let bits = key << DROPPED_BITS;
    f64::from_bits(if bits >> 63 == 1 {
        bits & !(1 << 63)
    } else {
        !bits
    })
}

impl BinnedScores {
    /// Adds one score with its label (`true` = anomalous; use `false` without labels).
    pub fn add(&mut self, score: f64, label: bool) -> Result<(), EvalError> {
        if !score.is_finite() {
            return Err(EvalError::NonFiniteScore {
                index: self.len() as usize,
                value: score,
            });
        }
        let counts = self
            .bins
            .entry(order_key(score) >> DROPPED_BITS)
            .or_default();
        counts[usize::from(!label)] += 1;
        self.min = Some(self.min.map_or(score, |m| m.min(score)));
        self.max = Some(self.max.map_or(score, |m| m.max(score)));
        Ok(())
    }

    /// Scores added.
    pub fn len(&self) -> u64 {
        self.bins.values().map(|c| c[0] + c[1]).sum()
    }

    /// True when no score was added.
    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
    }

    /// Number of bins in use (the memory held).
    pub fn bins_used(&self) -> usize {
        self.bins.len()
    }

    fn totals(&self) -> Result<(u64, u64), EvalError> {
        if self.is_empty() {
            return Err(EvalError::Empty);
        }
        let (p, n) = self
            .bins
            .values()
            .fold((0, 0), |(p, n), c| (p + c[0], n + c[1]));
        if p == 0 || n == 0 {
            return Err(EvalError::SingleClass {
                positives: p as usize,
                negatives: n as usize,
            });
        }
        Ok((p, n))
    }

    /// ROC AUC of the binned scores (ties count 1/2) and the largest possible difference from
    /// the AUC of the exact scores.
    pub fn roc_auc(&self) -> Result<(f64, f64), EvalError> {
        let (p, n) = self.totals()?;
        let (mut negatives_below, mut correct, mut tied) = (0u64, 0f64, 0f64);
        for c in self.bins.values() {
            correct += c[0] as f64 * negatives_below as f64 + 0.5 * (c[0] * c[1]) as f64;
            tied += (c[0] * c[1]) as f64;
            negatives_below += c[1];
        }
        let pairs = p as f64 * n as f64;
        Ok((correct / pairs, 0.5 * tied / pairs))
    }

    /// Cumulative (tp, fp) from the highest bin down.
    fn steps(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.bins.values().rev().scan((0u64, 0u64), |acc, c| {
            acc.0 += c[0];
            acc.1 += c[1];
            Some(*acc)
        })
    }

    /// Average precision with one threshold per bin.
    pub fn average_precision(&self) -> Result<f64, EvalError> {
        let (p, _) = self.totals()?;
        let mut previous_recall = 0.0;
        let mut sum = 0.0;
        for (tp, fp) in self.steps() {
            let recall = tp as f64 / p as f64;
            sum += (recall - previous_recall) * (tp as f64 / (tp + fp) as f64);
            previous_recall = recall;
        }
        Ok(sum)
    }

    /// ROC curve `(fpr, tpr)` with one point per bin, at most [`MAX_CURVE_POINTS`].
    pub fn roc_curve(&self) -> Result<Vec<CurvePoint>, EvalError> {
        let (p, n) = self.totals()?;
        let mut points = vec![CurvePoint { x: 0.0, y: 0.0 }];
        points.extend(self.steps().map(|(tp, fp)| CurvePoint {
            x: fp as f64 / n as f64,
            y: tp as f64 / p as f64,
        }));
        Ok(downsample(points, MAX_CURVE_POINTS))
    }

    /// Precision-recall curve `(recall, precision)` from `(0, 1)`, one point per bin.
    pub fn pr_curve(&self) -> Result<Vec<CurvePoint>, EvalError> {
        let (p, _) = self.totals()?;
        let mut points = vec![CurvePoint { x: 0.0, y: 1.0 }];
        points.extend(self.steps().map(|(tp, fp)| CurvePoint {
            x: tp as f64 / p as f64,
            y: tp as f64 / (tp + fp) as f64,
        }));
        Ok(downsample(points, MAX_CURVE_POINTS))
    }

    /// Equal-width histogram over the exact [min, max] of the scores, each bin's count placed
    /// at its lower edge (a bin is at most 0.024 % wide, so a count lands at most one
    /// histogram bin too low only when it straddles an edge).
    pub fn histogram(&self, bins: usize) -> Histogram {
        let (min, max) = (
            self.min.unwrap_or(f64::INFINITY),
            self.max.unwrap_or(f64::NEG_INFINITY),
        );
        let values = self
            .bins
            .iter()
            .map(|(&key, c)| (bin_floor(key), c[0] + c[1]));
        weighted_linear_histogram(min, max, values, bins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{average_precision, roc_auc};

    fn binned(scores: &[f64], labels: &[bool]) -> BinnedScores {
        let mut b = BinnedScores::default();
        for (&s, &l) in scores.iter().zip(labels) {
            b.add(s, l).unwrap();
        }
        b
    }

    #[test]
    fn keys_preserve_order_and_floor_recovers_the_bin() {
        let values = [-3.5, -1e-9, 0.0, 1e-300, 0.25, 0.5000001, 0.7, 12.0, 1e9];
        for w in values.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{w:?}");
        }
        for v in values {
            let floor = bin_floor(order_key(v) >> DROPPED_BITS);
            assert!(floor <= v || v == 0.0, "{v} {floor}");
            assert!((v - floor).abs() <= v.abs() * 2f64.powi(-12), "{v} {floor}");
        }
    }

    #[test]
    fn metrics_match_the_exact_ones_when_scores_are_coarse() {
        // values with few significant bits land in distinct bins: binning is exact
        let scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.25, 0.5, 0.75];
        let labels = [false, false, true, true, false, false, true, true];
        let b = binned(&scores, &labels);
        let (auc, bound) = b.roc_auc().unwrap();
        assert!((auc - roc_auc(&scores, &labels).unwrap()).abs() < 1e-12);
        // the tie at 0.8 is a positive and a negative sharing a bin
        assert!((bound - 0.5 / 16.0).abs() < 1e-12);
        let ap = b.average_precision().unwrap();
        assert!((ap - average_precision(&scores, &labels).unwrap()).abs() < 1e-12);
        assert_eq!(
            b.roc_curve().unwrap().last(),
            Some(&CurvePoint { x: 1.0, y: 1.0 })
        );
    }

    #[test]
    fn auc_of_fine_scores_is_within_the_reported_bound() {
        // pseudo-random scores in (0.4, 0.6) where many pairs share bins
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = 20_000;
        let labels: Vec<bool> = (0..n).map(|i| i % 7 == 0).collect();
        let scores: Vec<f64> = labels
            .iter()
            .map(|&l| 0.4 + 0.2 * next() + if l { 0.01 } else { 0.0 })
            .collect();
        let b = binned(&scores, &labels);
        let (auc, bound) = b.roc_auc().unwrap();
        let exact = roc_auc(&scores, &labels).unwrap();
        assert!(
            (auc - exact).abs() <= bound + 1e-12,
            "{auc} {exact} {bound}"
        );
        assert!(bound < 0.01, "{bound}");
        assert!(b.bins_used() < n);
        assert_eq!(b.histogram(10).total(), n as u64);
    }

    #[test]
    fn single_class_and_non_finite_are_errors() {
        let b = binned(&[0.1, 0.2], &[false, false]);
        assert!(matches!(b.roc_auc(), Err(EvalError::SingleClass { .. })));
        let mut b = BinnedScores::default();
        assert!(b.add(f64::NAN, true).is_err());
        assert!(matches!(b.roc_auc(), Err(EvalError::Empty)));
    }
}
