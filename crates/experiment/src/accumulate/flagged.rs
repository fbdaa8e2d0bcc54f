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
            top_features: explain(batch, k, i, self.explain_features)?,
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

/// The `top` features behind detector `k`'s score of row `i` of the batch, largest
/// contribution first: each with its name and value as the detectors saw it (unscaled:
/// `log1p(bytes_out)`, not its column) and the detector's typical value (the scaled training
/// median, until the caller sets the unscaled typical value; see [`LogUnits`]).
pub(crate) fn explain(
    batch: &BatchView<'_>,
    k: usize,
    i: usize,
    top: usize,
) -> Result<Vec<FeatureExplanation>, ExperimentError> {
    Ok(explain_rows(batch, k, &[i], top)?.pop().unwrap_or_default())
}

/// [`explain`] of each of `rows`, computed together (faster for many rows).
pub(crate) fn explain_rows(
    batch: &BatchView<'_>,
    k: usize,
    rows: &[usize],
    top: usize,
) -> Result<Vec<Vec<FeatureExplanation>>, ExperimentError> {
    let (raw, model) = (batch.raw, &batch.detectors[k]);
    let explained = match model.config().params().reads() {
        Reads::ScaledFeatures => model.explain_rows(batch.scaled, rows, top),
        // a rule detector reads one unscaled feature: explained on these rows alone
        Reads::Feature(f) => {
            let j = raw.names().iter().position(|n| n == f);
            let values: Vec<Vec<f64>> = (rows.iter())
                .map(|&i| vec![j.map_or(f64::NAN, |j| raw.row(i)[j])])
                .collect();
            let one =
                FeatureMatrix::from_rows(vec![f.to_string()], &values).map_err(report_error)?;
            model.explain_rows(&one, &(0..rows.len()).collect::<Vec<_>>(), top)
        }
    }
    .map_err(report_error)?;
    Ok(rows
        .iter()
        .zip(explained)
        .map(|(&i, explained)| {
            (explained.into_iter())
                .map(|e| {
                    let j = raw.names().iter().position(|f| *f == e.feature);
                    FeatureExplanation {
                        actual: j.map_or(e.actual, |j| raw.row(i)[j]),
                        typical: e.typical,
                        feature: e.feature,
                        unit: Unit::Plain,
                    }
                })
                .collect()
        })
        .collect())
}

/// Rewrites an explanation in the units of the log: `log1p(bytes_out) = 18.8` becomes
/// `bytes_out = 144 MB` (typical values alike), durations in seconds, counts as counts.
fn in_log_units(x: &mut FeatureExplanation) {
    let units = LogUnits::of(&x.feature);
    x.actual = units.value(x.actual);
    x.typical = units.value(x.typical);
    x.unit = units.unit;
    x.feature = units.feature;
}

/// How the values of a feature are shown in the units of the log: the feature it transforms
/// (`bytes_out` for `log1p(bytes_out)`), that feature's unit, and the `log1p` to undo.
#[derive(Clone)]
pub(crate) struct LogUnits {
    /// The feature shown.
    pub feature: String,
    /// Its unit.
    pub unit: Unit,
    /// `log1p` applied to it, undone by [`LogUnits::value`].
    log1p: usize,
}

impl LogUnits {
    /// The units of the feature named `name` (a name that does not parse is shown as it is).
    pub(crate) fn of(name: &str) -> Self {
        let Ok(mut feature) = Feature::parse(name) else {
            return Self {
                feature: name.to_string(),
                unit: Unit::Plain,
                log1p: 0,
            };
        };
        let mut log1p = 0;
        while let Feature::Log1p(inner) = feature {
            log1p += 1;
            feature = *inner;
        }
        Self {
            feature: feature.name(),
            unit: unit_of(&feature),
            log1p,
        }
    }

    /// A value of the feature named in [`LogUnits::of`], in the shown feature's units.
    pub(crate) fn value(&self, mut v: f64) -> f64 {
        for _ in 0..self.log1p {
            // libm: the same digits on every host (std defers to the platform's math library)
            v = libm::expm1(v);
        }
        v
    }
}

/// The unit of a feature's values (not a `log1p`).
fn unit_of(feature: &Feature) -> Unit {
    match feature {
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
    }
}
