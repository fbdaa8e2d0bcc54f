//! Fitting on a log that is never in one place (an engine's partitions): [`SampleFit`] checks
//! once that a config can be fitted so, [`SampleFit::sample_ids`] picks the rows of a part
//! that a streamed run's fit sample would take (the `fit_rows` smallest seeded row-id hashes
//! of [`crate::sample`]), and [`SampleFit::fit`] runs the config on the merged samples. The
//! sample of the parts' samples is the sample of the whole log (the bottom k of bottom-k sets
//! is exact), so the models fitted are those a streamed `run` of the whole log fits.

use crate::config::{ExperimentConfig, StreamingOptions};
use crate::driver::run_table;
use crate::error::ExperimentError;
use crate::sample::{BottomK, row_hash};
use crate::stages::{listed_spec, source_spec};
use crate::types::{RunOptions, RunOutcome};
use webthreat_ingest::{ARROW_SOURCE, IngestError, LogTable, SourceSpec};

/// A config checked for fitting on samples of a log's parts, and the sample size.
#[derive(Debug, Clone)]
pub struct SampleFit {
    config: ExperimentConfig,
    source: SourceSpec,
    fit_rows: usize,
}

impl SampleFit {
    /// Checks `config` for a fit on a sample of `fit_rows` rows (default: its `streaming`
    /// section's, else a streamed run's default). Refused: what a streamed run refuses (window
    /// aggregates), and what needs every row of the log before the sample is fitted
    /// (`onehot`/`freq` vocabularies, beacon pairs, baselines), a `fit:` section, plans.
    pub fn new(config: ExperimentConfig, fit_rows: Option<usize>) -> Result<Self, ExperimentError> {
        let refuse = |message: String| ExperimentError::Config {
            path: "config".into(),
            message,
        };
        let streaming = config.streaming.unwrap_or_default();
        let fit_rows = fit_rows.unwrap_or(streaming.fit_rows);
        let mut streamed = config.clone();
        streamed.streaming = Some(StreamingOptions {
            fit_rows,
            ..streaming
        });
        streamed.validate().map_err(refuse)?;
        if config.is_plan() {
            return Err(refuse(
                "a sweep or suite is many runs: fit each config alone".into(),
            ));
        }
        if config.fit.is_some() {
            return Err(refuse(
                "fit: chooses rows of a log read whole; fit on a sample without it".into(),
            ));
        }
        if let Some(spec) = listed_spec(&config)? {
            let mut whole_log = spec.categorical_columns();
            whole_log.extend(spec.needs_beacons().then(|| "beacon_score".to_string()));
            if spec.needs_whole_log() || !whole_log.is_empty() {
                return Err(refuse(format!(
                    "features: {} need every row of the log before a sample is fitted \
                     (vocabularies, pairs, baselines); fit them with `webthreat run` on the \
                     whole log",
                    if whole_log.is_empty() {
                        "baseline_dev(...)".to_string()
                    } else {
                        whole_log.join(", ")
                    }
                )));
            }
        }
        let mut config = config;
        // the sample is fitted in memory, as a streamed run fits its sample; its rows come
        // from the engine, not from the configured path
        config.streaming = None;
        config.data.path = ARROW_SOURCE.into();
        Ok(Self {
            source: source_spec(&config)?,
            config,
            fit_rows,
        })
    }

    /// The checked config (without its `streaming` section).
    pub fn config(&self) -> &ExperimentConfig {
        &self.config
    }

    /// The sample size.
    pub fn fit_rows(&self) -> usize {
        self.fit_rows
    }

    /// Reads a part with `read` under the config's data section.
    pub fn read(
        &self,
        read: impl Fn(&SourceSpec) -> Result<LogTable, IngestError>,
    ) -> Result<LogTable, ExperimentError> {
        Ok(read(&self.source)?)
    }

    /// The ids (ascending) of the rows of `table` the sample takes: at most `fit_rows`, those
    /// with the smallest hashes of seed and row id.
    pub fn sample_ids(&self, table: &LogTable) -> Result<Vec<u64>, ExperimentError> {
        let mut sample = BottomK::new(self.fit_rows);
        for id in table.row_ids()? {
            sample.offer(row_hash(self.config.seed, id), || id);
        }
        let mut ids: Vec<u64> = (sample.into_hashed_items().into_iter())
            .map(|(_, id)| id)
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Runs the config on `sample` (the rows [`SampleFit::sample_ids`] took from the parts'
    /// samples, in any order), fitting on all of them in row-id order, as a streamed run
    /// does (sums such as the scaler's depend on the order); `log_rows` is how many rows the
    /// parts held.
    pub fn fit(
        &self,
        mut sample: LogTable,
        log_rows: u64,
        opts: &RunOptions,
    ) -> Result<RunOutcome, ExperimentError> {
        // more rows than the sample takes: not the merged samples
        if sample.rows() > self.fit_rows {
            return Err(ExperimentError::Report(format!(
                "the sample holds {} rows, more than fit_rows ({}): fit on the rows sample_ids \
                 takes from the parts' samples",
                sample.rows(),
                self.fit_rows
            )));
        }
        sample.sort_by_row_id()?;
        let note = format!(
            "fitted on a sample of {} of {log_rows} rows taken from the log's parts (the {} \
             smallest seeded row-id hashes: a streamed run's fit sample); scored: those rows",
            sample.rows(),
            self.fit_rows
        );
        run_table(&self.config, opts, sample, vec![note])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;
    use webthreat_ingest::read_log;

    fn config(features: &str, path: &std::path::Path) -> ExperimentConfig {
        let text = format!(
            "name: t\nseed: 9\ndata:\n  path: {}\n  format: table\nfeatures: {features}\n\
             detectors:\n  - kind: zscore\n",
            path.display()
        );
        ExperimentConfig::parse(&text, &[]).unwrap()
    }

    #[test]
    fn configs_needing_the_whole_log_are_refused_by_name() {
        let path = std::path::Path::new("log.csv");
        for (features, named) in [
            ("[x, src_sessions]", "src_sessions"),
            ("[x, freq(kind)]", "kind"),
            ("[x, beacon_score]", "beacon_score"),
        ] {
            let e = SampleFit::new(config(features, path), Some(10)).unwrap_err();
            assert!(e.to_string().contains(named), "{features}: {e}");
        }
        assert!(SampleFit::new(config("[x]", path), Some(10)).is_ok());
    }

    #[test]
    fn the_sample_of_the_parts_samples_is_the_sample_of_the_whole_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let mut text = String::from("x\n");
        for i in 0..500 {
            let _ = writeln!(text, "{}", i * 7 % 13);
        }
        std::fs::write(&path, text).unwrap();
        let fit = SampleFit::new(config("[x]", &path), Some(40)).unwrap();
        let whole = read_log(&source_spec(&config("[x]", &path)).unwrap()).unwrap();
        let expected = fit.sample_ids(&whole).unwrap();
        assert_eq!(expected.len(), 40);
        // three uneven parts, each sampled alone, then the union sampled again
        let mut union = Vec::new();
        for (from, to) in [(0, 90), (90, 420), (420, 500)] {
            let mut part = whole.clone();
            part.df = part.df.slice(from, to - from as usize);
            union.extend(fit.sample_ids(&part).unwrap());
        }
        let mut merged = whole.clone();
        let keep: Vec<bool> = whole
            .row_ids()
            .unwrap()
            .iter()
            .map(|id| union.contains(id))
            .collect();
        merged.df = merged.df.filter(&keep.into_iter().collect()).unwrap();
        assert_eq!(fit.sample_ids(&merged).unwrap(), expected);
    }
}
