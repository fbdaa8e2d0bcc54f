//! Builds the report's [`ReportModel`] from an analysis: data facts, per-detector metrics,
//! flagged rows with explanations in original units, per-entity summaries and plot data.

use crate::error::ExperimentError;
use crate::pipeline::Analysis;
use std::collections::{BTreeMap, HashMap};
pub(crate) use webthreat_core::stats::column_medians;
use webthreat_core::{Entities, FeatureMatrix};
use webthreat_detectors::FittedDetector;
use webthreat_features::LogColumns;
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_report::{
    AgreementMatrix, DataSummary, DetectorSummary, EntitySummary, FeatureExplanation, FlaggedRow,
    LabelCount, PlotData, ReportModel, ScatterPoint, TimeBucket, linear_histogram, log_histogram,
    sample_scatter, top_of,
};

/// Bars in the category plots.
pub(crate) const TOP_CATEGORIES: usize = 12;
/// Rows of the per-IP and per-port tables.
const TOP_ENTITIES: usize = 20;
/// Points drawn in the scatter plot.
pub(crate) const SCATTER_POINTS: usize = 5000;
/// Buckets of the traffic-over-time plot, at most.
const TIME_BUCKETS: i64 = 240;
/// Bins of the score histograms.
pub(crate) const SCORE_BINS: usize = 40;

pub(crate) fn report_error(e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Report(e.to_string())
}

/// The report model of an analysis (no volatile fields: reruns render identically).
pub(crate) fn report_model(a: &Analysis<'_>) -> Result<ReportModel, ExperimentError> {
    let raw = &a.prepared.raw;
    let labels = raw.labels();
    // plot data is only drawn: a run without plots does not compute it
    let plots_on = a.config.report.plots;
    let detectors = a
        .detectors
        .iter()
        .map(|d| {
            let summary = DetectorSummary {
                name: d.fitted.name().to_string(),
                kind: d.fitted.kind().to_string(),
                threshold: d.fitted.threshold(),
                flagged: d.flags.iter().filter(|f| **f).count() as u64,
                score_histogram: plots_on.then(|| linear_histogram(&d.scores, SCORE_BINS)),
                ..DetectorSummary::default()
            };
            match labels {
                Some(l) if l.iter().any(|x| *x) && l.iter().any(|x| !*x) => summary
                    .with_labels(&d.scores, d.sorted_scores.as_deref(), &d.flags, l)
                    .map_err(report_error),
                _ => Ok(summary),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let agreement = if a.detectors.len() > 1 {
        let pairs: Vec<(&str, &[bool])> = a
            .detectors
            .iter()
            .map(|d| (d.fitted.name(), d.flags.as_slice()))
            .collect();
        Some(AgreementMatrix::from_flags(&pairs).map_err(report_error)?)
    } else {
        None
    };
    let any_flag: Vec<bool> = (0..raw.n_rows())
        .map(|i| a.detectors.iter().any(|d| d.flags[i]))
        .collect();
    let max_severity: Vec<u8> = (0..raw.n_rows())
        .map(|i| {
            a.detectors
                .iter()
                .map(|d| d.severity[i].round().clamp(0.0, 100.0) as u8)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut entities = EntityTally::default();
    entities.add(
        raw.entities(),
        &a.prepared.columns,
        &any_flag,
        &max_severity,
    );
    let distinct_ips = entities.distinct_ips() as u64;
    let (ip_summary, port_summary, flagged_by_src_ip, flagged_by_dst_port) = entities.finish();
    let plots = if plots_on {
        PlotData {
            flagged_by_src_ip,
            flagged_by_dst_port,
            ..plot_data(a, &any_flag)
        }
    } else {
        PlotData::default()
    };
    Ok(ReportModel {
        title: format!("webthreat report: {}", a.config.name),
        experiment: a.config.name.clone(),
        run_id: String::new(),
        data: data_summary(a, distinct_ips)?,
        detectors,
        agreement,
        flagged_rows: flagged_rows(a)?,
        ip_summary,
        port_summary,
        plots,
    })
}

/// The data section; `distinct_ips` is the number of distinct non-empty source IPs.
fn data_summary(a: &Analysis<'_>, distinct_ips: u64) -> Result<DataSummary, ExperimentError> {
    let cols = &a.prepared.columns;
    let (first, last) = match &cols.start_ms {
        Some(ms) if !ms.is_empty() => (
            ms.iter().min().map(|m| format_epoch_ms(*m)),
            ms.iter().max().map(|m| format_epoch_ms(*m)),
        ),
        _ => (None, None),
    };
    Ok(DataSummary {
        source_path: a.config.data.path.display().to_string(),
        rows: a.prepared.raw.n_rows() as u64,
        rejected_rows: a.table.rejected.len() as u64,
        first_timestamp: first,
        last_timestamp: last,
        distinct_src_ips: cols.has_src_ip.then_some(distinct_ips),
        constant_columns: a.table.constant_columns()?,
        feature_names: a.prepared.raw.names().to_vec(),
    })
}

/// Flagged (row, detector) pairs by severity, then score, then detector order and row.
fn flagged_rows(a: &Analysis<'_>) -> Result<Vec<FlaggedRow>, ExperimentError> {
    let options = &a.config.report;
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for (k, d) in a.detectors.iter().enumerate() {
        candidates.extend((0..d.flags.len()).filter(|i| d.flags[*i]).map(|i| (k, i)));
    }
    let order = |&(ka, ia): &(usize, usize), &(kb, ib): &(usize, usize)| {
        let (da, db) = (&a.detectors[ka], &a.detectors[kb]);
        db.severity[ib]
            .total_cmp(&da.severity[ia])
            .then(db.scores[ib].total_cmp(&da.scores[ia]))
            .then(ka.cmp(&kb))
            .then(ia.cmp(&ib))
    };
    // the order is total (no ties), so selecting the first `top_flagged` and sorting only them
    // gives the same rows as sorting every candidate
    if candidates.len() > options.top_flagged {
        if options.top_flagged > 0 {
            candidates.select_nth_unstable_by(options.top_flagged - 1, order);
        }
        candidates.truncate(options.top_flagged);
    }
    candidates.sort_unstable_by(order);
    let raw = &a.prepared.raw;
    let entities = raw.entities();
    candidates
        .into_iter()
        .map(|(k, i)| {
            let d = &a.detectors[k];
            Ok(FlaggedRow {
                row: raw.row_ids()[i],
                src_ip: entities.src_ip(i).map(str::to_string),
                dst_port: entities.dst_port(i).map(u32::from),
                timestamp: a
                    .prepared
                    .columns
                    .start_ms
                    .as_ref()
                    .map(|ms| format_epoch_ms(ms[i])),
                detector: d.fitted.name().to_string(),
                score: d.scores[i],
                severity: d.severity[i].round().clamp(0.0, 100.0) as u8,
                top_features: explain_row(
                    &d.fitted,
                    &a.prepared.scaled,
                    raw,
                    i,
                    options.explain_features,
                    &a.prepared.raw_medians,
                )?,
            })
        })
        .collect()
}

/// Top features of a row, in original (unscaled) units: the row's raw value and the raw
/// median of the feature (`raw_medians`).
pub(crate) fn explain_row(
    fitted: &FittedDetector,
    scaled: &FeatureMatrix,
    raw: &FeatureMatrix,
    row: usize,
    k: usize,
    raw_medians: &[f64],
) -> Result<Vec<FeatureExplanation>, ExperimentError> {
    let explanations = fitted.explain(scaled, row, k).map_err(report_error)?;
    Ok(explanations
        .into_iter()
        .map(|e| {
            let j = raw.names().iter().position(|f| *f == e.feature);
            FeatureExplanation {
                actual: j.map_or(e.actual, |j| raw.row(row)[j]),
                typical: j.map_or(e.typical, |j| {
                    raw_medians.get(j).copied().unwrap_or(e.typical)
                }),
                feature: e.feature,
            }
        })
        .collect())
}

/// Per source IP and per destination port activity, folded row by row (in memory or batch by
/// batch): rows, flagged rows, bytes and highest severity.
#[derive(Default)]
pub(crate) struct EntityTally {
    /// Hashed rather than ordered: one lookup per distinct key of a batch (ordered by key in
    /// `finish`).
    ips: HashMap<String, EntitySummary, foldhash::fast::RandomState>,
    ports: HashMap<u16, EntitySummary, foldhash::fast::RandomState>,
}

impl EntityTally {
    /// Adds rows with their entity keys, context columns, any-detector flag and severity.
    pub(crate) fn add(
        &mut self,
        entities: &Entities,
        cols: &LogColumns,
        any_flag: &[bool],
        max_severity: &[u8],
    ) {
        let fold = |s: &mut EntitySummary, i: usize| {
            s.rows += 1;
            s.flagged += u64::from(any_flag[i]);
            s.bytes_in += cols.bytes_in.as_ref().map_or(0, |b| b[i] as u64);
            s.bytes_out += cols.bytes_out.as_ref().map_or(0, |b| b[i] as u64);
            s.max_severity = s.max_severity.max(max_severity[i]);
        };
        // rows are tallied by address index and by port (through a table indexed by port
        // number: a hash lookup per row took longer), then merged into the totals
        let mut by_ip = vec![EntitySummary::default(); entities.ips().len()];
        let mut port_slot = vec![u32::MAX; 1 << 16];
        let mut by_port: Vec<(u16, EntitySummary)> = Vec::new();
        for i in 0..entities.len() {
            if let Some(ip) = entities.src_ip_index(i) {
                fold(&mut by_ip[ip], i);
            }
            if let Some(port) = entities.dst_port(i) {
                let slot = &mut port_slot[usize::from(port)];
                if *slot == u32::MAX {
                    *slot = by_port.len() as u32;
                    by_port.push((port, EntitySummary::default()));
                }
                fold(&mut by_port[*slot as usize].1, i);
            }
        }
        let merge = |total: &mut EntitySummary, part: EntitySummary| {
            total.rows += part.rows;
            total.flagged += part.flagged;
            total.bytes_in += part.bytes_in;
            total.bytes_out += part.bytes_out;
            total.max_severity = total.max_severity.max(part.max_severity);
        };
        for (ip, part) in entities.ips().iter().zip(by_ip) {
            if part.rows == 0 {
                continue;
            }
            let total = self
                .ips
                .entry(ip.to_string())
                .or_insert_with(|| EntitySummary {
                    key: ip.to_string(),
                    ..EntitySummary::default()
                });
            merge(total, part);
        }
        for (port, part) in by_port {
            merge(self.ports.entry(port).or_default(), part);
        }
    }

    /// Distinct source IPs seen.
    pub(crate) fn distinct_ips(&self) -> usize {
        self.ips.len()
    }

    /// (top IPs, top ports, flagged rows per IP, flagged rows per port).
    pub(crate) fn finish(
        self,
    ) -> (
        Vec<EntitySummary>,
        Vec<EntitySummary>,
        Vec<LabelCount>,
        Vec<LabelCount>,
    ) {
        let ports: BTreeMap<String, EntitySummary> = self
            .ports
            .into_iter()
            .map(|(port, mut s)| {
                s.key = port.to_string();
                (s.key.clone(), s)
            })
            .collect();
        let flagged_by = |map: &BTreeMap<String, EntitySummary>| {
            top_of(
                map.values().filter(|s| s.flagged > 0).map(|s| LabelCount {
                    label: s.key.clone(),
                    count: s.flagged,
                }),
                TOP_CATEGORIES,
            )
        };
        let ips: BTreeMap<String, EntitySummary> = self.ips.into_iter().collect();
        let (by_ip, by_port) = (flagged_by(&ips), flagged_by(&ports));
        (top_entities(ips), top_entities(ports), by_ip, by_port)
    }
}

/// The [`TOP_ENTITIES`] most flagged entities (then most severe, busiest, by key).
pub(crate) fn top_entities(by_key: BTreeMap<String, EntitySummary>) -> Vec<EntitySummary> {
    let mut all: Vec<EntitySummary> = by_key.into_values().collect();
    all.sort_by(|x, y| {
        y.flagged
            .cmp(&x.flagged)
            .then(y.max_severity.cmp(&x.max_severity))
            .then(y.rows.cmp(&x.rows))
            .then(x.key.cmp(&y.key))
    });
    all.truncate(TOP_ENTITIES);
    all
}

/// The [`TOP_CATEGORIES`] largest of per-value counts, the rest as one "(other)" bar.
pub(crate) fn top_categories(counts: &Option<BTreeMap<String, u64>>) -> Vec<LabelCount> {
    counts
        .as_ref()
        .map(|m| {
            top_of(
                m.iter().map(|(label, &count)| LabelCount {
                    label: label.clone(),
                    count,
                }),
                TOP_CATEGORIES,
            )
        })
        .unwrap_or_default()
}

fn plot_data(a: &Analysis<'_>, any_flag: &[bool]) -> PlotData {
    let cols = &a.prepared.columns;
    let scatter = match (&cols.bytes_in, &cols.bytes_out) {
        (Some(bin), Some(bout)) => {
            let points: Vec<ScatterPoint> = bin
                .iter()
                .zip(bout)
                .zip(any_flag)
                .map(|((i, o), f)| ScatterPoint {
                    bytes_in: *i,
                    bytes_out: *o,
                    flagged: *f,
                })
                .collect();
            sample_scatter(&points, SCATTER_POINTS)
        }
        _ => Vec::new(),
    };
    PlotData {
        bytes_in: cols.bytes_in.as_deref().map(log_histogram),
        bytes_out: cols.bytes_out.as_deref().map(log_histogram),
        by_protocol: top_categories(&cols.protocol),
        by_country: top_categories(&cols.country),
        scatter,
        flagged_by_src_ip: Vec::new(),
        flagged_by_dst_port: Vec::new(),
        traffic: traffic(a),
    }
}

/// Rows and bytes per time bucket: the config's window, widened to keep at most
/// [`TIME_BUCKETS`] buckets.
fn traffic(a: &Analysis<'_>) -> Vec<TimeBucket> {
    let cols = &a.prepared.columns;
    let Some(start) = &cols.start_ms else {
        return Vec::new();
    };
    let (Some(min), Some(max)) = (start.iter().min(), start.iter().max()) else {
        return Vec::new();
    };
    let window = a.config.window_seconds as i64 * 1000;
    let mut windows = BTreeMap::new();
    add_to_windows(&mut windows, cols, window);
    time_buckets(windows, *min, *max, window)
}

/// Adds every row's count and bytes (in + out) to its time window (keyed by window start, ms).
pub(crate) fn add_to_windows(
    windows: &mut BTreeMap<i64, (u64, u64)>,
    cols: &webthreat_features::LogColumns,
    window_ms: i64,
) {
    let Some(start) = &cols.start_ms else {
        return;
    };
    for (i, ms) in start.iter().enumerate() {
        let b = windows
            .entry(ms.div_euclid(window_ms) * window_ms)
            .or_default();
        b.0 += 1;
        let bytes = cols.bytes_in.as_ref().map_or(0.0, |v| v[i])
            + cols.bytes_out.as_ref().map_or(0.0, |v| v[i]);
        b.1 += bytes as u64;
    }
}

/// Merges per-window counts into buckets of whole windows, at most [`TIME_BUCKETS`] over the
/// span from the first to the last row.
pub(crate) fn time_buckets(
    windows: BTreeMap<i64, (u64, u64)>,
    min_ms: i64,
    max_ms: i64,
    window_ms: i64,
) -> Vec<TimeBucket> {
    let windows_spanned = (max_ms - min_ms) / window_ms + 1;
    let bucket = window_ms * ((windows_spanned + TIME_BUCKETS - 1) / TIME_BUCKETS).max(1);
    let mut buckets: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for (start, (rows, bytes)) in windows {
        let b = buckets
            .entry(start.div_euclid(bucket) * bucket)
            .or_default();
        b.0 += rows;
        b.1 += bytes;
    }
    buckets
        .into_iter()
        .map(|(ms, (rows, bytes))| TimeBucket {
            start: format_epoch_ms(ms),
            rows,
            bytes,
        })
        .collect()
}
