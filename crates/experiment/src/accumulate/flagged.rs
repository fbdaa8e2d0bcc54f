//! The report's table of flagged rows: the most severe flagged (row, detector) pairs across
//! batches, each explained when it enters the table.

use super::BatchView;
use super::ranking::report_error;
use crate::error::ExperimentError;
use std::cmp::Ordering;
use webthreat_core::FeatureMatrix;
use webthreat_detectors::Reads;
use webthreat_features::Feature;
use webthreat_ingest::canonical;
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_report::{FeatureExplanation, FlaggedRow, Unit};

/// A flagged (row, detector) pair in the table.
struct Entry {
    severity: f64,
    score: f64,
    detector: usize,
    row: u64,
    shown: FlaggedRow,
}

/// Report order: severity, then score (both descending), then detector order and row id.
/// The order is total, so the table does not depend on how the rows were batched.
fn order(a: (f64, f64, usize, u64), b: (f64, f64, usize, u64)) -> Ordering {
    b.0.total_cmp(&a.0)
        .then(b.1.total_cmp(&a.1))
        .then(a.2.cmp(&b.2))
        .then(a.3.cmp(&b.3))
}

impl Entry {
    fn key(&self) -> (f64, f64, usize, u64) {
        (self.severity, self.score, self.detector, self.row)
    }
}

/// The `limit` first flagged pairs in report order.
pub(crate) struct FlaggedTable {
    limit: usize,
    explain_features: usize,
    entries: Vec<Entry>,
}

impl FlaggedTable {
    pub(crate) fn new(limit: usize, explain_features: usize) -> Self {
        Self {
            limit,
            explain_features,
            entries: Vec::new(),
        }
    }

    /// Adds the batch's flagged pairs that make the table, explaining only those.
    pub(crate) fn add(&mut self, batch: &BatchView<'_>) -> Result<(), ExperimentError> {
        let ids = batch.raw.row_ids();
        let key = |(k, i): (usize, usize)| {
            let d = &batch.scores[k];
            (d.severity[i], d.scores[i], k, ids[i])
        };
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        for (k, d) in batch.scores.iter().enumerate() {
            candidates.extend((0..d.flags.len()).filter(|i| d.flags[*i]).map(|i| (k, i)));
        }
        let by_order = |a: &(usize, usize), b: &(usize, usize)| order(key(*a), key(*b));
        if candidates.len() > self.limit {
            if self.limit > 0 {
                candidates.select_nth_unstable_by(self.limit - 1, by_order);
            }
            candidates.truncate(self.limit);
        }
        candidates.sort_unstable_by(by_order);
        for (k, i) in candidates {
            let fits = self.entries.len() < self.limit
                || self
                    .entries
                    .last()
                    .is_some_and(|last| order(key((k, i)), last.key()) == Ordering::Less);
            if !fits {
                break;
            }
            let entry = Entry {
                severity: batch.scores[k].severity[i],
                score: batch.scores[k].scores[i],
                detector: k,
                row: ids[i],
                shown: self.shown(batch, k, i)?,
            };
            let at = self
                .entries
                .partition_point(|e| order(e.key(), entry.key()) == Ordering::Less);
            self.entries.insert(at, entry);
            self.entries.truncate(self.limit);
        }
        Ok(())
    }

    /// Row `i` of the batch as flagged by detector `k`; explanations in the log's units, their
    /// typical values filled in by [`FlaggedTable::finish`].
    fn shown(
        &self,
        batch: &BatchView<'_>,
        k: usize,
        i: usize,
    ) -> Result<FlaggedRow, ExperimentError> {
        let (raw, model, d) = (batch.raw, &batch.detectors[k], &batch.scores[k]);
        let entities = raw.entities();
        let explained = match model.config().params().reads() {
            Reads::ScaledFeatures => model.explain(batch.scaled, i, self.explain_features),
            // a rule detector reads one unscaled feature: explained on this row alone
            Reads::Feature(f) => {
                let j = raw.names().iter().position(|n| n == f);
                let value = j.map_or(f64::NAN, |j| raw.row(i)[j]);
                let one = FeatureMatrix::from_rows(vec![f.to_string()], &[vec![value]])
                    .map_err(report_error)?;
                model.explain(&one, 0, self.explain_features)
            }
        }
        .map_err(report_error)?;
        Ok(FlaggedRow {
            row: raw.row_ids()[i],
            src_ip: entities.src_ip(i).map(str::to_string),
            dst_port: entities.dst_port(i).map(u32::from),
            timestamp: batch
                .columns
                .start_ms
                .as_ref()
                .map(|ms| format_epoch_ms(ms[i])),
            detector: model.name().to_string(),
            score: d.scores[i],
            severity: d.severity_u8(i),
            top_features: explained
                .into_iter()
                .map(|e| {
                    let j = raw.names().iter().position(|f| *f == e.feature);
                    FeatureExplanation {
                        actual: j.map_or(e.actual, |j| raw.row(i)[j]),
                        typical: e.typical,
                        feature: e.feature,
                        unit: Unit::Plain,
                    }
                })
                .collect(),
        })
    }

    /// The table, with each explanation's typical value the `typical` of its feature
    /// (`feature_names` order).
    pub(crate) fn finish(self, feature_names: &[String], typical: &[f64]) -> Vec<FlaggedRow> {
        self.entries
            .into_iter()
            .map(|e| {
                let mut shown = e.shown;
                for x in &mut shown.top_features {
                    if let Some(j) = feature_names.iter().position(|f| *f == x.feature)
                        && let Some(t) = typical.get(j)
                    {
                        x.typical = *t;
                    }
                    in_log_units(x);
                }
                shown
            })
            .collect()
    }
}

/// Rewrites an explanation in the units of the log: `log1p(bytes_out) = 18.8` becomes
/// `bytes_out = 144 MB` (typical values alike), durations in seconds, counts as counts.
fn in_log_units(x: &mut FeatureExplanation) {
    let Ok(mut feature) = Feature::parse(&x.feature) else {
        return;
    };
    while let Feature::Log1p(inner) = feature {
        x.actual = x.actual.exp_m1();
        x.typical = x.typical.exp_m1();
        feature = *inner;
    }
    x.feature = feature.name();
    x.unit = match &feature {
        Feature::Column(c) => match c.as_str() {
            canonical::BYTES_IN | canonical::BYTES_OUT => Unit::Bytes,
            canonical::PACKETS_IN | canonical::PACKETS_OUT => Unit::Count,
            canonical::DURATION => Unit::Seconds,
            _ => Unit::Plain,
        },
        Feature::SessionDuration => Unit::Seconds,
        Feature::AvgPacketSize => Unit::BytesPerSecond,
        Feature::HourOfDay => Unit::Hours,
        Feature::SrcBytes => Unit::Bytes,
        Feature::SrcSessions
        | Feature::SrcDistinctPorts
        | Feature::SrcDistinctDsts
        | Feature::SrcFanOut
        | Feature::DstFanIn => Unit::Count,
        Feature::Freq(_) => Unit::Share,
        _ => Unit::Plain,
    };
}
