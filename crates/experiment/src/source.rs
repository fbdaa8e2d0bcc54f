//! Where a run's rows come from: the whole log read at once (one batch), or a CSV log read in
//! batches of `batch_rows` rows, anew on every pass. Both hand the driver [`LogTable`]s in row
//! order, so every later stage is the same for both.

use crate::config::{ExperimentConfig, StreamingOptions};
use crate::error::ExperimentError;
use crate::stages::source_spec;
use std::time::Instant;
use webthreat_ingest::{
    IngestError, LogBatches, LogTable, MissingCount, MissingPolicy, SourceSpec, read_log,
    read_log_batches,
};

/// The rows of a run.
pub(crate) enum LogSource {
    /// The whole log, read once when opened; its one pass takes it.
    Whole {
        table: Option<LogTable>,
        /// blake3 of the file as read.
        file_blake3: Option<String>,
    },
    /// Batches of a CSV log, read anew on every pass.
    Batches {
        /// Boxed: a source spec is large beside the whole log's variant.
        spec: Box<SourceSpec>,
        batch_rows: usize,
    },
}

impl LogSource {
    /// Opens the configured log: read whole, or (with `streaming`) checked by reading its first
    /// batch. With `label_optional` (an overridden data path, or scoring new data), a
    /// configured label column the data lacks is dropped with a note instead of failing.
    pub(crate) fn open(
        config: &ExperimentConfig,
        streaming: Option<StreamingOptions>,
        label_optional: bool,
        notes: &mut Vec<String>,
    ) -> Result<Self, ExperimentError> {
        match streaming {
            None => Self::read_whole(config, label_optional, read_log, notes),
            Some(stream) => {
                let mut spec = source_spec(config)?;
                if let Some(Err(e)) = read_log_batches(&spec, 1)?.next()
                    && !(label_optional && drop_missing_label(&e, &mut spec, notes))
                {
                    return Err(e.into());
                }
                Ok(Self::Batches {
                    spec: Box::new(spec),
                    batch_rows: stream.batch_rows,
                })
            }
        }
    }

    /// The whole log as `read` reads it under the configured data section (a file, an Arrow
    /// table); a missing label column as [`LogSource::open`] takes it.
    pub(crate) fn read_whole(
        config: &ExperimentConfig,
        label_optional: bool,
        read: impl Fn(&SourceSpec) -> Result<LogTable, IngestError>,
        notes: &mut Vec<String>,
    ) -> Result<Self, ExperimentError> {
        let mut spec = source_spec(config)?;
        let table = match read(&spec) {
            Err(e) if label_optional && drop_missing_label(&e, &mut spec, notes) => read(&spec)?,
            other => other?,
        };
        Ok(Self::whole(table))
    }

    /// A whole log already read.
    pub(crate) fn whole(table: LogTable) -> Self {
        Self::Whole {
            file_blake3: table.file_blake3.clone(),
            table: Some(table),
        }
    }

    /// blake3 of the log file when it was read whole (batches leave it to the run record).
    pub(crate) fn file_blake3(&self) -> Option<String> {
        match self {
            Self::Whole { file_blake3, .. } => file_blake3.clone(),
            Self::Batches { .. } => None,
        }
    }

    /// Calls `look` on every batch in order without taking a whole log (a pass before the
    /// one that scores it); returns the seconds spent reading.
    pub(crate) fn look_at_each(
        &mut self,
        mut look: impl FnMut(&LogTable) -> Result<(), ExperimentError> + Send,
    ) -> Result<f64, ExperimentError> {
        match self {
            Self::Whole { table, .. } => {
                let table = table.as_ref().ok_or_else(|| {
                    ExperimentError::Report("the whole log was already passed over".into())
                })?;
                look(table)?;
                Ok(0.0)
            }
            Self::Batches { .. } => self.each_batch(|_, table| look(&table)),
        }
    }

    /// Calls `work` on every batch in order (numbered from 1), reading the next batch on
    /// another thread meanwhile; returns the seconds spent reading. The first error ends the
    /// pass: that of `work` on a batch before that of reading the batch after it. A whole log
    /// is one batch, and can be passed over once.
    pub(crate) fn each_batch(
        &mut self,
        mut work: impl FnMut(usize, LogTable) -> Result<(), ExperimentError> + Send,
    ) -> Result<f64, ExperimentError> {
        let (spec, batch_rows) = match self {
            Self::Whole { table, .. } => {
                let table = table.take().ok_or_else(|| {
                    ExperimentError::Report("the whole log was already passed over".into())
                })?;
                work(1, table)?;
                return Ok(0.0);
            }
            Self::Batches { spec, batch_rows } => (&**spec, *batch_rows),
        };
        let mut batches = read_log_batches(spec, batch_rows)?;
        let read = |batches: &mut LogBatches| {
            let clock = Instant::now();
            let batch = batches.next().transpose();
            (batch, clock.elapsed().as_secs_f64())
        };
        let (mut next, mut seconds) = read(&mut batches);
        for k in 1.. {
            let Some(batch) = next? else {
                break;
            };
            let (done, (following, took)) = rayon::join(|| work(k, batch), || read(&mut batches));
            done?;
            (next, seconds) = (following, seconds + took);
        }
        Ok(seconds)
    }
}

/// When `err` says that only the configured label column is missing, drops the label from
/// `source`, notes that nothing is evaluated, and returns true (the caller reads again).
pub(crate) fn drop_missing_label(
    err: &IngestError,
    source: &mut SourceSpec,
    notes: &mut Vec<String>,
) -> bool {
    let IngestError::MissingColumns { missing, .. } = err else {
        return false;
    };
    let Some(label) = &source.label else {
        return false;
    };
    if missing != &[label.column().to_string()] {
        return false;
    }
    notes.push(format!(
        "labels: the data has no `{}` column, so nothing is evaluated against ground truth",
        missing[0]
    ));
    source.label = None;
    true
}

/// One note per column whose missing values were filled in: how many, how, and whether the
/// config or the format's default said so.
pub(crate) fn missing_notes(spec: &SourceSpec, counts: &[MissingCount]) -> Vec<String> {
    counts
        .iter()
        .map(|m| {
            let what = match m.policy {
                MissingPolicy::Zero => "read as 0",
                _ => "kept as missing (a category of their own)",
            };
            let column = match m.canonical {
                Some(c) if c != m.column => format!("`{}` ({c})", m.column),
                _ => format!("`{}`", m.column),
            };
            let configured = [Some(m.column.as_str()), m.canonical, Some("default")]
                .into_iter()
                .flatten()
                .find(|k| spec.missing.contains_key(*k));
            let why = match configured {
                Some(key) => format!("`missing: {{{key}: {}}}` in the config", m.policy.as_str()),
                None => format!("the `{}` format's default", spec.format.as_str()),
            };
            format!("missing values: {} of {column} {what}, as {why}", m.count)
        })
        .collect()
}
