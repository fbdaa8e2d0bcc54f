//! `ReportModel`: the pure data a report is rendered from.
//!
//! The experiment crate fills it (already sorted, truncated and binned: see the helpers in
//! [`crate::histogram`]) and hands it over; every string in it that came from the logs is
//! treated as untrusted and escaped by the renderers. Optional parts that do not apply (no
//! labels, no protocol column...) are `None` or empty and their sections and plots are omitted.

use crate::evaluate::{Confusion, CurvePoint, EvalError, check_lengths, jaccard};
use crate::histogram::{Histogram, LabelCount, ScatterPoint};
use serde::{Deserialize, Serialize};

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportModel {
    /// Report title.
    pub title: String,
    /// Experiment name (`experiments/<name>/`).
    pub experiment: String,
    /// Run id within the experiment.
    pub run_id: String,
    /// What data was analysed.
    pub data: DataSummary,
    /// One entry per detector, in configuration order.
    pub detectors: Vec<DetectorSummary>,
    /// Pairwise agreement of the detectors' flagged sets (omitted with fewer than two).
    pub agreement: Option<AgreementMatrix>,
    /// The most severe flagged rows, already sorted and truncated by the caller.
    pub flagged_rows: Vec<FlaggedRow>,
    /// Per source IP summary, already sorted and truncated by the caller.
    pub ip_summary: Vec<EntitySummary>,
    /// Per destination port summary, already sorted and truncated by the caller.
    pub port_summary: Vec<EntitySummary>,
    /// Bounded data for the plots.
    pub plots: PlotData,
}

/// What data was analysed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DataSummary {
    /// Path of the input as given by the user.
    pub source_path: String,
    /// Rows accepted.
    pub rows: u64,
    /// Rows rejected by validation.
    pub rejected_rows: u64,
    /// First timestamp, preformatted (None without a time column).
    pub first_timestamp: Option<String>,
    /// Last timestamp, preformatted.
    pub last_timestamp: Option<String>,
    /// Number of distinct source IPs (None without an IP column).
    pub distinct_src_ips: Option<u64>,
    /// Columns that were constant (and so carry no signal).
    pub constant_columns: Vec<String>,
    /// Names of the features the detectors saw.
    pub feature_names: Vec<String>,
}

/// One detector's threshold, flag count and (with labels) metrics.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DetectorSummary {
    /// Name in outputs (defaults to the kind).
    pub name: String,
    /// Detector kind (`iforest`, `zscore`, ...).
    pub kind: String,
    /// Score threshold at or above which a row is flagged.
    pub threshold: f64,
    /// Number of rows flagged.
    pub flagged: u64,
    /// Metrics against the labels, when there are labels.
    pub metrics: Option<DetectorMetrics>,
    /// ROC curve points `(fpr, tpr)`, empty without labels.
    pub roc_curve: Vec<CurvePoint>,
    /// Precision-recall curve points `(recall, precision)`, empty without labels.
    pub pr_curve: Vec<CurvePoint>,
    /// Histogram of this detector's scores (for the score histogram plot).
    pub score_histogram: Option<Histogram>,
}

/// Metrics of one detector against ground-truth labels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DetectorMetrics {
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// Average precision (area under the precision-recall curve).
    pub pr_auc: f64,
    /// Precision of the flags (0 when nothing was flagged).
    pub precision: f64,
    /// Recall of the flags (0 when there are no positives).
    pub recall: f64,
    /// F1 of the flags.
    pub f1: f64,
    /// Confusion counts of the flags.
    pub confusion: Confusion,
}

/// Jaccard agreement between every pair of detectors' flagged sets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgreementMatrix {
    /// Detector names, in row/column order.
    pub detectors: Vec<String>,
    /// `jaccard[i][j]` between detectors `i` and `j` (1.0 on the diagonal).
    pub jaccard: Vec<Vec<f64>>,
}

impl AgreementMatrix {
    /// Builds the matrix from the detectors' names, the rows each flagged and the rows each
    /// pair flagged both (`both[a][b]`, square, `both[a][a]` = `flagged[a]`).
    pub fn from_counts(
        detectors: Vec<String>,
        flagged: &[u64],
        both: &[Vec<u64>],
    ) -> Result<Self, EvalError> {
        check_lengths("detectors", detectors.len(), "flag counts", flagged.len())?;
        check_lengths("detectors", detectors.len(), "pair counts", both.len())?;
        let jaccard = both
            .iter()
            .zip(flagged)
            .map(|(row, &a)| {
                check_lengths("detectors", flagged.len(), "pair counts", row.len())?;
                Ok(row
                    .iter()
                    .zip(flagged)
                    .map(|(&ab, &b)| jaccard(a, b, ab))
                    .collect())
            })
            .collect::<Result<Vec<Vec<f64>>, EvalError>>()?;
        Ok(Self { detectors, jaccard })
    }
}

/// One flagged row of the report's table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FlaggedRow {
    /// Row index in the input.
    pub row: u64,
    /// Source IP (log-derived), if the data has one.
    pub src_ip: Option<String>,
    /// Destination port, if the data has one.
    pub dst_port: Option<u32>,
    /// Timestamp, preformatted, if the data has one.
    pub timestamp: Option<String>,
    /// Detector that flagged the row.
    pub detector: String,
    /// Raw anomaly score.
    pub score: f64,
    /// Normalised severity, 0-100.
    pub severity: u8,
    /// Features that explain the flag, most important first.
    pub top_features: Vec<FeatureExplanation>,
}

/// A feature behind a flag: its value in the row against its typical (training median) value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FeatureExplanation {
    /// Feature name.
    pub feature: String,
    /// Value in the flagged row.
    pub actual: f64,
    /// Typical value (training median).
    pub typical: f64,
}

/// Activity of one entity (a source IP or a destination port).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntitySummary {
    /// The IP or port, as text (log-derived).
    pub key: String,
    /// Rows of this entity.
    pub rows: u64,
    /// Rows of this entity flagged by any detector.
    pub flagged: u64,
    /// Total whole bytes received (`u128::MAX` when the total is beyond it: saturated, never
    /// wrapped).
    pub bytes_in: u128,
    /// Total whole bytes sent (as `bytes_in`).
    pub bytes_out: u128,
    /// Highest severity (0-100) of its rows.
    pub max_severity: u8,
}

/// Rows and bytes in one time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimeBucket {
    /// Bucket start, preformatted.
    pub start: String,
    /// Rows in the bucket.
    pub rows: u64,
    /// Total bytes (in + out) in the bucket.
    pub bytes: u64,
}

/// Bounded, pre-aggregated plot data; empty parts are not plotted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlotData {
    /// [`crate::histogram::log_histogram`] of bytes received.
    pub bytes_in: Option<Histogram>,
    /// [`crate::histogram::log_histogram`] of bytes sent.
    pub bytes_out: Option<Histogram>,
    /// Rows per protocol.
    pub by_protocol: Vec<LabelCount>,
    /// Rows per country.
    pub by_country: Vec<LabelCount>,
    /// Capped sample of `(bytes_in, bytes_out, flagged)`, flagged points drawn last.
    pub scatter: Vec<ScatterPoint>,
    /// Flagged rows per source IP (top N).
    pub flagged_by_src_ip: Vec<LabelCount>,
    /// Flagged rows per destination port (top N).
    pub flagged_by_dst_port: Vec<LabelCount>,
    /// Traffic per time bucket, in time order.
    pub traffic: Vec<TimeBucket>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_matrix_is_symmetric_with_unit_diagonal() {
        // a flags two rows, b one of them
        let names = vec!["a".to_string(), "b".to_string()];
        let m = AgreementMatrix::from_counts(names.clone(), &[2, 1], &[vec![2, 1], vec![1, 1]])
            .unwrap();
        assert_eq!(m.detectors, vec!["a", "b"]);
        assert_eq!(m.jaccard, vec![vec![1.0, 0.5], vec![0.5, 1.0]]);
        assert!(AgreementMatrix::from_counts(names, &[2, 1], &[vec![2, 1]]).is_err());
    }

    #[test]
    fn model_serializes_to_json() {
        let model = ReportModel {
            title: "t".into(),
            ..ReportModel::default()
        };
        let json = serde_json::to_string(&model).unwrap();
        assert!(json.contains("\"title\":\"t\""));
        let back: ReportModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, model);
    }
}
