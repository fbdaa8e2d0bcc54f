//! Evaluation metrics for anomaly scores against ground-truth labels.
//!
//! Convention everywhere: a higher score means more anomalous, and `true` labels are the
//! positive (anomalous) class. Tied scores are handled like scikit-learn: ROC AUC is the
//! Mann-Whitney statistic (a tied positive/negative pair counts 1/2) and average precision
//! and the curves step over *distinct* thresholds only.

use serde::{Deserialize, Serialize};
use smartcore::metrics::Metrics;
use smartcore::metrics::auc::AUC;
use std::cmp::Ordering;
use thiserror::Error;

/// Most points [`roc_curve`] and [`pr_curve`] return (enough for a plot, bounded for 1M rows).
pub const MAX_CURVE_POINTS: usize = 500;

/// Why an evaluation could not be computed from the given inputs.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EvalError {
    /// The two input slices differ in length.
    #[error("{left_name} has {left} values but {right_name} has {right}; expected equal lengths")]
    LengthMismatch {
        /// Name of the first input (e.g. `scores`).
        left_name: &'static str,
        /// Length of the first input.
        left: usize,
        /// Name of the second input (e.g. `labels`).
        right_name: &'static str,
        /// Length of the second input.
        right: usize,
    },
    /// No values at all.
    #[error("no values to evaluate; expected at least one score and label")]
    Empty,
    /// A score is NaN or infinite.
    #[error("score at index {index} is {value}; expected a finite number")]
    NonFiniteScore {
        /// Position of the offending score.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// The labels contain only one class, so ranking metrics are undefined.
    #[error(
        "labels contain {positives} positive and {negatives} negative values; expected both classes to be present"
    )]
    SingleClass {
        /// Number of `true` labels.
        positives: usize,
        /// Number of `false` labels.
        negatives: usize,
    },
}

/// One point of a ROC curve (`x` = false positive rate, `y` = true positive rate) or of a
/// precision-recall curve (`x` = recall, `y` = precision).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Horizontal coordinate in `[0, 1]`.
    pub x: f64,
    /// Vertical coordinate in `[0, 1]`.
    pub y: f64,
}

/// Confusion counts of binary flags against labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    /// Flagged and labelled anomalous.
    pub tp: u64,
    /// Flagged but labelled normal.
    pub fp: u64,
    /// Not flagged and labelled normal.
    pub tn: u64,
    /// Not flagged but labelled anomalous (serialized as `fn`).
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Confusion {
    /// `tp / (tp + fp)`; defined as 0.0 when nothing was flagged (0/0).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `tp / (tp + fn)`; defined as 0.0 when there are no positive labels (0/0).
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall, `2tp / (2tp + fp + fn)`; 0.0 when that is 0/0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

pub(crate) fn check_lengths(
    left_name: &'static str,
    left: usize,
    right_name: &'static str,
    right: usize,
) -> Result<(), EvalError> {
    if left != right {
        return Err(EvalError::LengthMismatch {
            left_name,
            left,
            right_name,
            right,
        });
    }
    Ok(())
}

/// Validates ranking inputs and returns `(positives, negatives)`.
fn validate_ranking(scores: &[f64], labels: &[bool]) -> Result<(usize, usize), EvalError> {
    check_lengths("scores", scores.len(), "labels", labels.len())?;
    if scores.is_empty() {
        return Err(EvalError::Empty);
    }
    if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(EvalError::NonFiniteScore { index, value });
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(EvalError::SingleClass {
            positives,
            negatives,
        });
    }
    Ok((positives, negatives))
}

/// Area under the ROC curve of `scores` (higher = more anomalous) against `labels`
/// (`true` = anomalous), equal to scikit-learn's `roc_auc_score`: tied scores count 1/2.
///
/// Computed by smartcore's rank-based (Mann-Whitney) AUC after validating the inputs.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64, EvalError> {
    validate_ranking(scores, labels)?;
    let y_true: Vec<f64> = labels.iter().map(|&l| if l { 1.0 } else { 0.0 }).collect();
    let y_score: Vec<f64> = scores.to_vec();
    Ok(AUC::<f64>::new().get_score(&y_true, &y_score))
}

/// Cumulative counts at one distinct threshold, walking scores from high to low.
#[derive(Debug, Clone, Copy)]
struct ThresholdStep {
    /// True positives among rows with score >= threshold.
    tp: usize,
    /// False positives among rows with score >= threshold.
    fp: usize,
}

/// Cumulative (tp, fp) at every distinct score, from the highest score to the lowest.
fn threshold_steps(scores: &[f64], labels: &[bool]) -> Vec<ThresholdStep> {
    // sort (score, label) pairs in place: contiguous, unlike sorting indices into `scores`
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(Ordering::Equal));
    let mut steps = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    for (position, &(score, label)) in pairs.iter().enumerate() {
        if label {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = pairs.get(position + 1).is_none_or(|next| next.0 != score);
        if last_of_group {
            steps.push(ThresholdStep { tp, fp });
        }
    }
    steps
}

/// [`threshold_steps`] from the scores sorted ascending (`f64::total_cmp`): walking down
/// the groups of equal scores (-0 and 0 are adjacent in that order and equal, so one group, as
/// above), the positives of a group are counted in the positives' scores, sorted the same way.
fn threshold_steps_sorted(scores: &[f64], labels: &[bool], sorted: &[f64]) -> Vec<ThresholdStep> {
    let mut positive: Vec<f64> = (scores.iter().zip(labels))
        .filter(|&(_, &label)| label)
        .map(|(&score, _)| score)
        .collect();
    positive.sort_unstable_by(f64::total_cmp);
    let mut steps = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    let mut rest = sorted;
    while let Some(&score) = rest.last() {
        let group = rest.iter().rev().take_while(|&&s| s == score).count();
        rest = &rest[..rest.len() - group];
        let mut hits = 0;
        while positive.last() == Some(&score) {
            positive.pop();
            hits += 1;
        }
        tp += hits;
        fp += group - hits;
        steps.push(ThresholdStep { tp, fp });
    }
    steps
}

/// Every ranking metric of a detector from one sort of its scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Area under the ROC curve (ties count 1/2), as [`roc_auc`].
    pub roc_auc: f64,
    /// Average precision, as [`average_precision`].
    pub average_precision: f64,
    /// As [`roc_curve`].
    pub roc_curve: Vec<CurvePoint>,
    /// As [`pr_curve`].
    pub pr_curve: Vec<CurvePoint>,
}

impl Ranking {
    /// Sorts the scores once and derives the metrics and curves. The ROC AUC is the trapezoid
    /// area under the tie-grouped ROC curve, which equals the Mann-Whitney statistic with ties
    /// counted 1/2 (what [`roc_auc`] computes with smartcore's ranks).
    pub fn compute(scores: &[f64], labels: &[bool]) -> Result<Self, EvalError> {
        Self::compute_with(scores, labels, None)
    }

    /// [`Ranking::compute`] given the scores also sorted ascending ([`f64::total_cmp`]), as
    /// a fit sorts its training scores: only the positives' scores are sorted here. The
    /// result is the same.
    pub fn compute_sorted(
        scores: &[f64],
        labels: &[bool],
        sorted: &[f64],
    ) -> Result<Self, EvalError> {
        check_lengths("scores", scores.len(), "sorted scores", sorted.len())?;
        Self::compute_with(scores, labels, Some(sorted))
    }

    fn compute_with(
        scores: &[f64],
        labels: &[bool],
        sorted: Option<&[f64]>,
    ) -> Result<Self, EvalError> {
        let (positives, negatives) = validate_ranking(scores, labels)?;
        let (p, n) = (positives as f64, negatives as f64);
        let steps = match sorted {
            Some(sorted) => threshold_steps_sorted(scores, labels, sorted),
            None => threshold_steps(scores, labels),
        };
        let (mut area, mut previous) = (0.0, ThresholdStep { tp: 0, fp: 0 });
        let mut ap = 0.0;
        let mut roc = vec![CurvePoint { x: 0.0, y: 0.0 }];
        let mut pr = vec![CurvePoint { x: 0.0, y: 1.0 }];
        for step in &steps {
            area += (step.fp - previous.fp) as f64 * (step.tp + previous.tp) as f64 / 2.0;
            let precision = step.tp as f64 / (step.tp + step.fp) as f64;
            ap += (step.tp - previous.tp) as f64 / p * precision;
            roc.push(CurvePoint {
                x: step.fp as f64 / n,
                y: step.tp as f64 / p,
            });
            pr.push(CurvePoint {
                x: step.tp as f64 / p,
                y: precision,
            });
            previous = *step;
        }
        Ok(Self {
            roc_auc: area / (p * n),
            average_precision: ap,
            roc_curve: downsample(roc, MAX_CURVE_POINTS),
            pr_curve: downsample(pr, MAX_CURVE_POINTS),
        })
    }
}

/// Average precision (PR AUC) as scikit-learn's `average_precision_score`:
/// the sum over distinct thresholds of `(R_n - R_{n-1}) * P_n`.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Result<f64, EvalError> {
    let (positives, _) = validate_ranking(scores, labels)?;
    let mut previous_recall = 0.0;
    let mut sum = 0.0;
    for step in threshold_steps(scores, labels) {
        let recall = step.tp as f64 / positives as f64;
        let precision = step.tp as f64 / (step.tp + step.fp) as f64;
        sum += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Ok(sum)
}

/// ROC curve points `(fpr, tpr)` from `(0, 0)` to `(1, 1)`, one per distinct threshold,
/// downsampled deterministically to at most [`MAX_CURVE_POINTS`].
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Result<Vec<CurvePoint>, EvalError> {
    let (positives, negatives) = validate_ranking(scores, labels)?;
    let mut points = vec![CurvePoint { x: 0.0, y: 0.0 }];
    points.extend(
        threshold_steps(scores, labels)
            .into_iter()
            .map(|step| CurvePoint {
                x: step.fp as f64 / negatives as f64,
                y: step.tp as f64 / positives as f64,
            }),
    );
    Ok(downsample(points, MAX_CURVE_POINTS))
}

/// Precision-recall curve points `(recall, precision)`, starting at `(0, 1)` as scikit-learn
/// does, one per distinct threshold from high to low, downsampled to at most
/// [`MAX_CURVE_POINTS`].
pub fn pr_curve(scores: &[f64], labels: &[bool]) -> Result<Vec<CurvePoint>, EvalError> {
    let (positives, _) = validate_ranking(scores, labels)?;
    let mut points = vec![CurvePoint { x: 0.0, y: 1.0 }];
    points.extend(
        threshold_steps(scores, labels)
            .into_iter()
            .map(|step| CurvePoint {
                x: step.tp as f64 / positives as f64,
                y: step.tp as f64 / (step.tp + step.fp) as f64,
            }),
    );
    Ok(downsample(points, MAX_CURVE_POINTS))
}

/// Keeps at most `max` points, evenly spaced by index, always keeping the first and last.
pub fn downsample<T: Copy>(points: Vec<T>, max: usize) -> Vec<T> {
    let n = points.len();
    if n <= max || max < 2 {
        return points;
    }
    (0..max)
        .map(|k| points[(k * (n - 1) + (max - 1) / 2) / (max - 1)])
        .collect()
}

/// Confusion counts of `flags` (`true` = flagged by a detector) against `labels`.
pub fn confusion(flags: &[bool], labels: &[bool]) -> Result<Confusion, EvalError> {
    check_lengths("flags", flags.len(), "labels", labels.len())?;
    let mut counts = Confusion::default();
    for (&flag, &label) in flags.iter().zip(labels) {
        match (flag, label) {
            (true, true) => counts.tp += 1,
            (true, false) => counts.fp += 1,
            (false, false) => counts.tn += 1,
            (false, true) => counts.fn_ += 1,
        }
    }
    Ok(counts)
}

/// Jaccard agreement `|A ∩ B| / |A ∪ B|` between the rows two detectors flagged, from the
/// counts flagged by `a`, by `b` and by both (at most either count); 1.0 when neither flagged
/// anything.
pub fn jaccard(a_flagged: u64, b_flagged: u64, both: u64) -> f64 {
    let either = (a_flagged + b_flagged).saturating_sub(both);
    if either == 0 {
        1.0
    } else {
        both as f64 / either as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Brute-force Mann-Whitney: fraction of (positive, negative) pairs ranked correctly,
    /// ties counting one half.
    fn pairwise_auc(scores: &[f64], labels: &[bool]) -> f64 {
        let mut wins = 0.0;
        let mut pairs = 0.0;
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if labels[i] && !labels[j] {
                    pairs += 1.0;
                    if si > sj {
                        wins += 1.0;
                    } else if si == sj {
                        wins += 0.5;
                    }
                }
            }
        }
        wins / pairs
    }

    #[test]
    fn one_sort_ranking_matches_the_separate_metrics() {
        // coarse scores: many ties, both classes inside tie groups
        let mut state = 11u64;
        let (mut scores, mut labels) = (Vec::new(), Vec::new());
        for _ in 0..3000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let u = (state >> 33) as f64 / (1u64 << 31) as f64;
            labels.push(u > 0.8 || (state >> 7).is_multiple_of(13));
            scores.push((u * 40.0).round() / 40.0);
        }
        let r = Ranking::compute(&scores, &labels).unwrap();
        assert!(close(r.roc_auc, roc_auc(&scores, &labels).unwrap()));
        assert!(close(r.roc_auc, pairwise_auc(&scores, &labels)));
        assert!(close(
            r.average_precision,
            average_precision(&scores, &labels).unwrap()
        ));
        assert_eq!(r.roc_curve, roc_curve(&scores, &labels).unwrap());
        assert_eq!(r.pr_curve, pr_curve(&scores, &labels).unwrap());
        // from sorted scores, with -0 and 0 among the ties: the same, bit for bit
        scores[..200].iter_mut().for_each(|s| *s = 0.0);
        scores[200..300].iter_mut().for_each(|s| *s = -0.0);
        let mut sorted = scores.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let bits = |r: &Ranking| {
            let points = r.roc_curve.iter().chain(&r.pr_curve);
            let mut bits: Vec<u64> = points
                .flat_map(|p| [p.x.to_bits(), p.y.to_bits()])
                .collect();
            bits.extend([r.roc_auc.to_bits(), r.average_precision.to_bits()]);
            bits
        };
        assert_eq!(
            bits(&Ranking::compute_sorted(&scores, &labels, &sorted).unwrap()),
            bits(&Ranking::compute(&scores, &labels).unwrap())
        );
        assert!(Ranking::compute_sorted(&scores, &labels, &sorted[1..]).is_err());
    }

    #[test]
    fn roc_auc_without_ties_matches_hand_computed() {
        // Positives 0.35 and 0.8; negatives 0.1 and 0.4: 3 of 4 pairs ordered => 0.75.
        let auc = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!(close(auc, 0.75), "{auc}");
    }

    #[test]
    fn roc_auc_counts_ties_as_half() {
        // pos {0.5, 0.9}, neg {0.5, 0.1}: pairs (0.5,0.5)=0.5, (0.5,0.1)=1, (0.9,*)=2 => 3.5/4.
        let auc = roc_auc(&[0.5, 0.9, 0.5, 0.1], &[true, true, false, false]).unwrap();
        assert!(close(auc, 0.875), "{auc}");
        // All scores tied: every pair is a tie => 0.5.
        let auc = roc_auc(&[1.0; 5], &[true, false, true, false, false]).unwrap();
        assert!(close(auc, 0.5), "{auc}");
    }

    #[test]
    fn roc_auc_matches_pairwise_and_trapezoid_on_many_ties() {
        let scores: Vec<f64> = (0..60).map(|i| ((i * 7) % 5) as f64 * 0.25).collect();
        let labels: Vec<bool> = (0..60).map(|i| (i * 11) % 3 == 0).collect();
        let auc = roc_auc(&scores, &labels).unwrap();
        assert!(close(auc, pairwise_auc(&scores, &labels)), "{auc}");
        let curve = roc_curve(&scores, &labels).unwrap();
        let trapezoid: f64 = curve
            .windows(2)
            .map(|w| (w[1].x - w[0].x) * (w[1].y + w[0].y) / 2.0)
            .sum();
        assert!(close(auc, trapezoid), "{auc} vs {trapezoid}");
    }

    /// Area under the full (not downsampled) ROC curve by the trapezoid rule.
    fn trapezoid_auc(scores: &[f64], labels: &[bool]) -> f64 {
        let positives = labels.iter().filter(|&&l| l).count() as f64;
        let negatives = labels.len() as f64 - positives;
        let (mut area, mut previous) = (0.0, (0.0, 0.0));
        for step in threshold_steps(scores, labels) {
            let point = (step.fp as f64 / negatives, step.tp as f64 / positives);
            area += (point.0 - previous.0) * (point.1 + previous.1) / 2.0;
            previous = point;
        }
        area
    }

    #[test]
    fn roc_auc_on_large_tied_and_sorted_inputs() {
        let n = 200_000;
        let labels: Vec<bool> = (0..n).map(|i| (i * 7_919) % 23 == 0).collect();
        let tied: Vec<f64> = (0..n)
            .map(|i| ((i * 31) % 100) as f64 + if labels[i] { 20.0 } else { 0.0 })
            .collect();
        let sorted: Vec<f64> = (0..n).map(|i| i as f64).collect();
        for scores in [tied, sorted] {
            let auc = roc_auc(&scores, &labels).unwrap();
            let expected = trapezoid_auc(&scores, &labels);
            assert!((auc - expected).abs() < 1e-9, "{auc} vs {expected}");
        }
    }

    #[test]
    fn perfect_and_inverted_rankings() {
        let labels = [false, false, true, true];
        assert!(close(roc_auc(&[1.0, 2.0, 3.0, 4.0], &labels).unwrap(), 1.0));
        assert!(close(roc_auc(&[4.0, 3.0, 2.0, 1.0], &labels).unwrap(), 0.0));
    }

    #[test]
    fn validation_errors_say_what_is_wrong() {
        assert_eq!(
            roc_auc(&[1.0], &[true, false]),
            Err(EvalError::LengthMismatch {
                left_name: "scores",
                left: 1,
                right_name: "labels",
                right: 2
            })
        );
        assert_eq!(roc_auc(&[], &[]), Err(EvalError::Empty));
        let err = roc_auc(&[1.0, f64::NAN], &[true, false]).unwrap_err();
        assert!(matches!(err, EvalError::NonFiniteScore { index: 1, .. }));
        assert_eq!(
            average_precision(&[1.0, 2.0], &[true, true]),
            Err(EvalError::SingleClass {
                positives: 2,
                negatives: 0
            })
        );
        let message = roc_auc(&[f64::INFINITY, 0.0], &[true, false])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("index 0") && message.contains("inf"),
            "{message}"
        );
    }

    #[test]
    fn average_precision_matches_sklearn_example() {
        // sklearn docs: average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333...
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!(close(ap, 5.0 / 6.0), "{ap}");
    }

    #[test]
    fn average_precision_groups_tied_scores() {
        // Thresholds: 0.9 -> tp1 fp0 (R .5, P 1); 0.5 -> tp2 fp1 (R 1, P 2/3); 0.1 -> R 1.
        // AP = 0.5*1 + 0.5*2/3 = 5/6.
        let ap = average_precision(&[0.5, 0.9, 0.5, 0.1], &[true, true, false, false]).unwrap();
        assert!(close(ap, 5.0 / 6.0), "{ap}");
        // All tied: a single threshold with P = 2/5, R = 1.
        let ap = average_precision(&[3.0; 5], &[true, false, true, false, false]).unwrap();
        assert!(close(ap, 0.4), "{ap}");
    }

    #[test]
    fn curves_have_expected_points() {
        let scores = [0.5, 0.9, 0.5, 0.1];
        let labels = [true, true, false, false];
        let roc = roc_curve(&scores, &labels).unwrap();
        let expected_roc = [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)];
        assert_eq!(roc.len(), expected_roc.len());
        for (p, (x, y)) in roc.iter().zip(expected_roc) {
            assert!(close(p.x, x) && close(p.y, y), "{p:?}");
        }
        let pr = pr_curve(&scores, &labels).unwrap();
        let expected_pr = [(0.0, 1.0), (0.5, 1.0), (1.0, 2.0 / 3.0), (1.0, 0.5)];
        assert_eq!(pr.len(), expected_pr.len());
        for (p, (x, y)) in pr.iter().zip(expected_pr) {
            assert!(close(p.x, x) && close(p.y, y), "{p:?}");
        }
    }

    #[test]
    fn curves_are_bounded_and_keep_endpoints() {
        let scores: Vec<f64> = (0..5000).map(|i| i as f64).collect();
        let labels: Vec<bool> = (0..5000).map(|i| i % 7 == 0).collect();
        let roc = roc_curve(&scores, &labels).unwrap();
        assert_eq!(roc.len(), MAX_CURVE_POINTS);
        assert_eq!(roc[0], CurvePoint { x: 0.0, y: 0.0 });
        assert_eq!(roc[MAX_CURVE_POINTS - 1], CurvePoint { x: 1.0, y: 1.0 });
        assert!(roc.windows(2).all(|w| w[0].x <= w[1].x && w[0].y <= w[1].y));
        assert_eq!(pr_curve(&scores, &labels).unwrap().len(), MAX_CURVE_POINTS);
    }

    #[test]
    fn downsample_keeps_small_inputs_and_is_even() {
        assert_eq!(downsample(vec![1, 2, 3], 5), vec![1, 2, 3]);
        assert_eq!(downsample((0..11).collect(), 3), vec![0, 5, 10]);
    }

    #[test]
    fn confusion_counts_and_rates() {
        let flags = [true, true, false, false, true];
        let labels = [true, false, false, true, true];
        let c = confusion(&flags, &labels).unwrap();
        assert_eq!(
            c,
            Confusion {
                tp: 2,
                fp: 1,
                tn: 1,
                fn_: 1
            }
        );
        assert!(close(c.precision(), 2.0 / 3.0));
        assert!(close(c.recall(), 2.0 / 3.0));
        assert!(close(c.f1(), 2.0 / 3.0));
    }

    #[test]
    fn confusion_zero_denominators_are_zero() {
        let c = confusion(&[false, false], &[false, false]).unwrap();
        assert_eq!(c.tn, 2);
        assert_eq!((c.precision(), c.recall(), c.f1()), (0.0, 0.0, 0.0));
        assert!(confusion(&[true], &[]).is_err());
    }

    #[test]
    fn jaccard_of_flag_counts() {
        assert!(close(jaccard(2, 2, 1), 1.0 / 3.0));
        assert!(close(jaccard(2, 2, 2), 1.0));
        assert!(close(jaccard(0, 0, 0), 1.0));
        assert!(close(jaccard(1, 1, 0), 0.0));
    }
}
