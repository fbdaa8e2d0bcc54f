//! One detector's running tally: flags, confusion counts and the scores its ranking metrics,
//! curves and histogram come from, kept exactly (every score) or binned (bounded memory).

use super::SCORE_BINS;
use crate::error::ExperimentError;
use crate::types::DetectorScores;
use webthreat_report::{
    BinnedScores, Confusion, DetectorMetrics, DetectorSummary, Ranking, linear_histogram,
};

/// How scores are kept for ranking metrics; chosen by the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScoreKeeping {
    /// Every score is kept: exact ROC AUC, average precision and curves.
    Exact,
    /// Scores are binned to 12 significant bits ([`BinnedScores`]): memory is bounded, the
    /// ROC AUC is within a stated bound of the exact value.
    Binned,
}

/// The scores of one detector, as kept.
enum KeptScores {
    Exact {
        scores: Vec<f64>,
        /// The scores sorted ascending, when the only batch came with them.
        sorted: Option<Vec<f64>>,
    },
    Binned(BinnedScores),
}

/// One detector's tally across batches.
pub(crate) struct DetectorTally {
    pub flagged: u64,
    confusion: Confusion,
    kept: KeptScores,
}

impl DetectorTally {
    pub(crate) fn new(keeping: ScoreKeeping) -> Self {
        Self {
            flagged: 0,
            confusion: Confusion::default(),
            kept: match keeping {
                ScoreKeeping::Exact => KeptScores::Exact {
                    scores: Vec::new(),
                    sorted: None,
                },
                ScoreKeeping::Binned => KeptScores::Binned(BinnedScores::default()),
            },
        }
    }

    /// Folds one batch's results; `labels` are the batch's ground truth, when it has any.
    pub(crate) fn add(
        &mut self,
        results: &DetectorScores,
        labels: Option<&[bool]>,
    ) -> Result<(), ExperimentError> {
        let flagged = results.flagged();
        self.flagged += flagged;
        if let Some(labels) = labels {
            let (mut tp, mut positives) = (0u64, 0u64);
            for (flag, label) in results.flags.iter().zip(labels) {
                tp += u64::from(*flag && *label);
                positives += u64::from(*label);
            }
            let n = labels.len() as u64;
            self.confusion.tp += tp;
            self.confusion.fp += flagged - tp;
            self.confusion.fn_ += positives - tp;
            self.confusion.tn += n - positives - (flagged - tp);
        }
        match &mut self.kept {
            KeptScores::Exact { scores, sorted } => {
                // a sort hint holds only while it covers every kept score
                *sorted = if scores.is_empty() {
                    results.sorted.clone()
                } else {
                    None
                };
                scores.extend_from_slice(&results.scores);
            }
            KeptScores::Binned(binned) => {
                for (i, score) in results.scores.iter().enumerate() {
                    let label = labels.is_some_and(|l| l[i]);
                    binned.add(*score, label).map_err(report_error)?;
                }
            }
        }
        Ok(())
    }

    /// Fills the summary's histogram (when `plots`) and, when `labels` holds every row's
    /// label in the order the scores were added (exact) or the run is labeled (binned), its
    /// metrics and curves. Returns a note on binned metrics.
    pub(crate) fn summarize(
        &self,
        mut summary: DetectorSummary,
        plots: bool,
        labeled: bool,
        labels: &[bool],
    ) -> Result<(DetectorSummary, Option<String>), ExperimentError> {
        summary.flagged = self.flagged;
        let confusion = self.confusion;
        let metrics = |roc_auc, pr_auc| DetectorMetrics {
            roc_auc,
            pr_auc,
            precision: confusion.precision(),
            recall: confusion.recall(),
            f1: confusion.f1(),
            confusion,
        };
        let mut note = None;
        match &self.kept {
            KeptScores::Exact { scores, sorted } => {
                summary.score_histogram = plots.then(|| linear_histogram(scores, SCORE_BINS));
                if labeled {
                    let ranking = match sorted {
                        Some(sorted) => Ranking::compute_sorted(scores, labels, sorted),
                        None => Ranking::compute(scores, labels),
                    }
                    .map_err(report_error)?;
                    summary.metrics = Some(metrics(ranking.roc_auc, ranking.average_precision));
                    summary.roc_curve = ranking.roc_curve;
                    summary.pr_curve = ranking.pr_curve;
                }
            }
            KeptScores::Binned(binned) => {
                summary.score_histogram = plots.then(|| binned.histogram(SCORE_BINS));
                if labeled {
                    let (roc_auc, bound) = binned.roc_auc().map_err(report_error)?;
                    note = Some(format!(
                        "streaming: {} ROC AUC and average precision come from scores binned to 12 significant bits ({} bins); the ROC AUC is within {bound:.2e} of the exact value",
                        summary.name,
                        binned.bins_used()
                    ));
                    let pr_auc = binned.average_precision().map_err(report_error)?;
                    summary.metrics = Some(metrics(roc_auc, pr_auc));
                    summary.roc_curve = binned.roc_curve().map_err(report_error)?;
                    summary.pr_curve = binned.pr_curve().map_err(report_error)?;
                }
            }
        }
        Ok((summary, note))
    }
}

pub(crate) fn report_error(e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Report(e.to_string())
}
