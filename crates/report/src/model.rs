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
    /// Beacon analysis: source -> destination pairs that connect at regular intervals (None
    /// when the run has no beacon detector; left out of serialized models then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacons: Option<BeaconSection>,
    /// The source -> destination graph of flagged traffic and its neighbourhood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphData>,
    /// Threat-intel lists and the addresses they matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel: Option<IntelSection>,
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
    /// Rows labeled anomalous, when every row had a label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeled_anomalies: Option<u64>,
    /// What the detectors were fitted on, when not on the scored rows themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fitted_on: Option<FittedOn>,
}

/// The rows a run fitted on when they are not the rows it scored (`fit:`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FittedOn {
    /// Rows fitted on.
    pub rows: u64,
    /// The log they came from (as given by the user).
    pub source: String,
    /// Which of its rows, in words (e.g. `rows labeled normal, starting before ...`).
    pub selection: String,
}

impl DataSummary {
    /// The share of labeled anomalies above which the report warns that unsupervised
    /// detectors may rank the majority class as normal.
    pub const MANY_ANOMALIES: f64 = 0.3;

    /// What the labels say about the ranking metrics: `None` when they are fine, else why
    /// they are missing or may mislead.
    pub fn label_warning(&self) -> Option<String> {
        let Some(anomalies) = self.labeled_anomalies else {
            return Some(
                "No labels: ranking metrics (ROC AUC, PR AUC, P/R/F1) are omitted.".into(),
            );
        };
        let normal = self.rows - anomalies.min(self.rows);
        if anomalies == 0 || normal == 0 {
            let class = if anomalies == 0 {
                "normal"
            } else {
                "anomalous"
            };
            return Some(format!(
                "The labels hold one class only (all {} rows {class}): ranking metrics need \
                 both classes and are omitted.",
                self.rows
            ));
        }
        let share = anomalies as f64 / self.rows as f64;
        (share > Self::MANY_ANOMALIES).then(|| {
            format!(
                "{:.1}% of the labeled rows are anomalies: unsupervised detectors assume \
                 anomalies are rare; ROC AUC below 0.5 means a detector ranks the majority \
                 class as normal.",
                100.0 * share
            )
        })
    }
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
    /// With `repeat:`, the metrics of every seed (the run's seed first); `metrics` is then
    /// their mean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<DetectorMetrics>,
}

/// Reads one metric of a detector's metrics.
pub type MetricOf = fn(&DetectorMetrics) -> f64;

impl DetectorMetrics {
    /// The metrics that are means over seeds with `repeat:`, by their `metrics.json` names.
    pub const REPEATED: [(&'static str, MetricOf); 5] = [
        ("roc_auc", |m| m.roc_auc),
        ("pr_auc", |m| m.pr_auc),
        ("precision", |m| m.precision),
        ("recall", |m| m.recall),
        ("f1", |m| m.f1),
    ];
}

/// Mean, sample standard deviation, minimum and maximum of one metric over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (at least one).
    pub fn of(values: &[f64]) -> Spread {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        Spread {
            mean,
            sd: if values.len() > 1 {
                (ss / (n - 1.0)).sqrt()
            } else {
                0.0
            },
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

impl DetectorSummary {
    /// The spread over seeds of one metric (`metric` reads it from a seed's metrics), when
    /// the run repeated its detectors.
    pub fn spread(&self, metric: impl Fn(&DetectorMetrics) -> f64) -> Option<Spread> {
        (!self.repeats.is_empty())
            .then(|| Spread::of(&self.repeats.iter().map(metric).collect::<Vec<_>>()))
    }
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
    /// Unit of `actual` and `typical`, which decides how they are written (plain numbers by
    /// default; left out of serialized models when plain).
    #[serde(default, skip_serializing_if = "Unit::is_plain")]
    pub unit: Unit,
}

/// The unit of a value from the log, which decides how the report writes it (see
/// [`crate::units::format_value`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A plain number, written as it is (integers without decimals, else 4 decimals).
    #[default]
    Plain,
    /// Bytes: `144 MB`, `11 KB`, `512 B` (decimal SI).
    Bytes,
    /// A duration in seconds: `2.5 s`, `3m 20s`, `4h 1m`.
    Seconds,
    /// A number of things: `1,234`.
    Count,
    /// A rate in bytes per second: `1.2 MB/s`.
    BytesPerSecond,
    /// An hour of the day, 0-24: `13:45`.
    Hours,
    /// A fraction of a whole, 0-1: `12.5%`.
    Share,
}

impl Unit {
    /// True for [`Unit::Plain`] (the default, left out of serialized models).
    pub fn is_plain(&self) -> bool {
        *self == Unit::Plain
    }
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

/// Beacon analysis (after RITA's beacon analysis): source -> destination pairs whose
/// connections recur at regular intervals with regular sizes over the whole span.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BeaconSection {
    /// Name of the beacon detector.
    pub detector: String,
    /// CIDRs treated as internal; empty when every pair was analysed.
    pub internal_networks: Vec<String>,
    /// Fewest connections a pair needs to be scored.
    pub min_connections: u64,
    /// Pairs seen, including those below `min_connections`.
    pub analysed_pairs: u64,
    /// Pairs with at least `min_connections` connections (scored).
    pub scored_pairs: u64,
    /// Score at or above which a pair is flagged.
    pub threshold: f64,
    /// The top pairs, highest score first, already limited by the caller.
    pub pairs: Vec<BeaconRow>,
}

/// One scored source -> destination pair of the beacon analysis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BeaconRow {
    /// Source IP (log-derived).
    pub src_ip: String,
    /// Destination IP (log-derived).
    pub dst_ip: String,
    /// Destination port.
    pub dst_port: u32,
    /// Connections of the pair.
    pub connections: u64,
    /// Beacon score, the combination of the components, in [0, 1].
    pub score: f64,
    /// Whether the score is at or above the threshold.
    pub flagged: bool,
    /// Symmetry of the intervals between connections, in [0, 1] (1 = symmetric).
    pub interval_skew: f64,
    /// Tightness of the intervals around their median, in [0, 1] (1 = all equal).
    pub interval_dispersion: f64,
    /// Regularity of the connection sizes, in [0, 1] (1 = all equal).
    pub size_regularity: f64,
    /// Connections relative to the span, in [0, 1].
    pub count: f64,
    /// Share of the observed span the pair is present in, in [0, 1].
    pub coverage: f64,
    /// Median interval between connections, in seconds.
    pub median_interval_s: f64,
    /// First connection, ISO-8601 UTC text.
    pub first_seen: String,
    /// Last connection, ISO-8601 UTC text.
    pub last_seen: String,
    /// Histogram of the intervals: (bin lower edge in seconds, count), at most 20 bins.
    pub interval_histogram: Vec<(f64, u64)>,
}

/// The source -> destination graph of flagged traffic and its neighbourhood, limited by the
/// caller to a few hundred nodes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GraphData {
    /// The hosts.
    pub nodes: Vec<GraphNode>,
    /// Source -> destination edges between `nodes`.
    pub edges: Vec<GraphEdge>,
    /// Nodes left out by the caller's limit.
    pub omitted_nodes: u64,
}

/// One host of the [`GraphData`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GraphNode {
    /// The IP (log-derived).
    pub ip: String,
    /// Bytes sent and received by the host within the graph.
    pub bytes: u128,
    /// Whether the host is in an internal network.
    pub internal: bool,
    /// Whether the host is an endpoint of a flagged row.
    pub flagged: bool,
}

/// One source -> destination edge of the [`GraphData`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GraphEdge {
    /// Index of the source in [`GraphData::nodes`].
    pub src: usize,
    /// Index of the destination in [`GraphData::nodes`].
    pub dst: usize,
    /// Bytes on the edge.
    pub bytes: u128,
    /// Rows on the edge.
    pub rows: u64,
    /// Flagged rows on the edge.
    pub flagged: u64,
}

/// Threat-intel lists and the addresses of the log they matched.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IntelSection {
    /// One entry per list.
    pub lists: Vec<IntelListSummary>,
    /// One per matched address, most rows first, already limited by the caller.
    pub matches: Vec<IntelMatchRow>,
    /// Flags removed because an address was allowlisted.
    pub suppressed_flags: u64,
}

/// One threat-intel list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IntelListSummary {
    /// List name (from the configuration or the list file: untrusted).
    pub name: String,
    /// `block` or `allow`.
    pub kind: String,
    /// Entries in the list.
    pub entries: u64,
    /// Rows of the log that matched it.
    pub matched_rows: u64,
}

/// One address of the log matched by a list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IntelMatchRow {
    /// The address (log-derived).
    pub ip: String,
    /// `source` or `destination`.
    pub side: String,
    /// Name of the list.
    pub list: String,
    /// `block` or `allow`.
    pub kind: String,
    /// The list entry it matched (an address or CIDR).
    pub entry: String,
    /// Rows with the address on that side.
    pub rows: u64,
    /// Of them, rows flagged.
    pub flagged: u64,
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

    #[test]
    fn absent_sections_and_plain_units_stay_out_of_json() {
        let mut model = crate::test_fixture::sample_model();
        let json = serde_json::to_string(&model).unwrap();
        for key in ["beacons", "graph", "intel", "unit"] {
            assert!(!json.contains(&format!("\"{key}\"")), "{key}");
        }
        model.flagged_rows[0].top_features[0].unit = Unit::BytesPerSecond;
        let json = serde_json::to_string(&model).unwrap();
        assert!(json.contains("\"unit\":\"bytespersecond\""), "{json}");
        let full = crate::test_fixture::sections_model();
        let json = serde_json::to_string(&full).unwrap();
        for key in ["beacons", "graph", "intel", "unit"] {
            assert!(json.contains(&format!("\"{key}\"")), "{key}");
        }
        // floats need not read back bit for bit: compare what has none
        let back: ReportModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back.graph, full.graph);
        assert_eq!(back.intel, full.intel);
        assert_eq!(back.flagged_rows[0].top_features[0].unit, Unit::Bytes);
    }
}
