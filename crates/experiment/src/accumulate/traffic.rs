//! The time span of the log and the plot data folded batch by batch: bytes histograms,
//! protocol and country bars, rows and bytes over time, and the bytes scatter sample.

use super::{SCATTER_POINTS, TOP_CATEGORIES};
use crate::sample::{BottomK, row_hash};
use std::collections::BTreeMap;
use webthreat_features::LogColumns;
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_report::{LabelCount, LogBins, PlotData, ScatterPoint, TimeBucket, top_of};

/// Buckets of the traffic-over-time plot, at most.
const TIME_BUCKETS: i64 = 240;

/// First and last start time of the rows (epoch ms).
#[derive(Default)]
pub(crate) struct TimeSpan {
    pub min_ms: Option<i64>,
    pub max_ms: Option<i64>,
}

impl TimeSpan {
    pub(crate) fn add(&mut self, cols: &LogColumns) {
        let Some(start) = &cols.start_ms else {
            return;
        };
        if let (Some(lo), Some(hi)) = (start.iter().min(), start.iter().max()) {
            self.min_ms = Some(self.min_ms.map_or(*lo, |m| m.min(*lo)));
            self.max_ms = Some(self.max_ms.map_or(*hi, |m| m.max(*hi)));
        }
    }
}

/// Everything the plots draw that is not per detector or per entity.
pub(crate) struct PlotTally {
    seed: u64,
    window_ms: i64,
    protocols: Option<BTreeMap<String, u64>>,
    countries: Option<BTreeMap<String, u64>>,
    bytes_in: Option<LogBins>,
    bytes_out: Option<LogBins>,
    /// (rows, bytes in + out) per window start (ms).
    windows: BTreeMap<i64, (u64, u64)>,
    /// Scatter points with the smallest row hashes, flagged and unflagged apart.
    scatter_flagged: BottomK<(u64, ScatterPoint)>,
    scatter_normal: BottomK<(u64, ScatterPoint)>,
}

impl PlotTally {
    pub(crate) fn new(seed: u64, window_seconds: u64) -> Self {
        Self {
            seed,
            window_ms: window_seconds as i64 * 1000,
            protocols: None,
            countries: None,
            bytes_in: None,
            bytes_out: None,
            windows: BTreeMap::new(),
            scatter_flagged: BottomK::new(SCATTER_POINTS),
            scatter_normal: BottomK::new(SCATTER_POINTS),
        }
    }

    /// Folds one batch: its context columns, row ids and any-detector flags.
    pub(crate) fn add(&mut self, cols: &LogColumns, row_ids: &[u64], any_flag: &[bool]) {
        add_counts(&mut self.protocols, &cols.protocol);
        add_counts(&mut self.countries, &cols.country);
        for (bins, values) in [
            (&mut self.bytes_in, &cols.bytes_in),
            (&mut self.bytes_out, &cols.bytes_out),
        ] {
            if let Some(values) = values {
                bins.get_or_insert_with(LogBins::default).add(values);
            }
        }
        if let Some(start) = &cols.start_ms {
            for (i, ms) in start.iter().enumerate() {
                let w = self
                    .windows
                    .entry(ms.div_euclid(self.window_ms) * self.window_ms)
                    .or_default();
                w.0 += 1;
                let bytes = cols.bytes_in.as_ref().map_or(0.0, |v| v[i])
                    + cols.bytes_out.as_ref().map_or(0.0, |v| v[i]);
                w.1 += bytes as u64;
            }
        }
        if let (Some(bin), Some(bout)) = (&cols.bytes_in, &cols.bytes_out) {
            for (i, &row) in row_ids.iter().enumerate() {
                let point = ScatterPoint {
                    bytes_in: bin[i],
                    bytes_out: bout[i],
                    flagged: any_flag[i],
                };
                let sample = match point.flagged {
                    true => &mut self.scatter_flagged,
                    false => &mut self.scatter_normal,
                };
                sample.offer(row_hash(self.seed, row), || (row, point));
            }
        }
    }

    /// The plot data (the flagged-by-entity bars are the entity tally's).
    pub(crate) fn finish(self, span: &TimeSpan) -> PlotData {
        let traffic = match (span.min_ms, span.max_ms) {
            (Some(min), Some(max)) => time_buckets(self.windows, min, max, self.window_ms),
            _ => Vec::new(),
        };
        PlotData {
            bytes_in: self.bytes_in.as_ref().map(LogBins::histogram),
            bytes_out: self.bytes_out.as_ref().map(LogBins::histogram),
            by_protocol: top_categories(&self.protocols),
            by_country: top_categories(&self.countries),
            scatter: scatter(self.scatter_flagged, self.scatter_normal),
            flagged_by_src_ip: Vec::new(),
            flagged_by_dst_port: Vec::new(),
            traffic,
        }
    }
}

fn add_counts(target: &mut Option<BTreeMap<String, u64>>, counts: &Option<BTreeMap<String, u64>>) {
    if let Some(counts) = counts {
        let map = target.get_or_insert_with(BTreeMap::new);
        for (value, n) in counts {
            *map.entry(value.clone()).or_default() += n;
        }
    }
}

/// At most [`SCATTER_POINTS`] points: every kept flagged point, the room left filled with the
/// unflagged points of smallest hash; each group in row order, unflagged first (drawn below).
fn scatter(
    flagged: BottomK<(u64, ScatterPoint)>,
    normal: BottomK<(u64, ScatterPoint)>,
) -> Vec<ScatterPoint> {
    let mut flagged: Vec<(u64, ScatterPoint)> = flagged
        .into_hashed_items()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    flagged.sort_by_key(|p| p.0);
    let room = SCATTER_POINTS - flagged.len();
    let mut normal = normal.into_hashed_items();
    normal.sort_by_key(|(hash, _)| *hash);
    normal.truncate(room);
    let mut normal: Vec<(u64, ScatterPoint)> = normal.into_iter().map(|(_, p)| p).collect();
    normal.sort_by_key(|p| p.0);
    normal
        .into_iter()
        .chain(flagged)
        .map(|(_, point)| point)
        .collect()
}

/// Merges per-window counts into buckets of whole windows, at most [`TIME_BUCKETS`] over the
/// span from the first to the last row.
fn time_buckets(
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
