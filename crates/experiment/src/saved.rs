//! A finished run's saved models as a value: [`RunFiles`] (the texts of `config.yaml`,
//! `run.json` and `models/*.json`, every model file checked against the blake3 `run.json`
//! records) and [`SavedModel`] (its feature pipeline, detectors and thresholds, loaded once,
//! scoring any number of tables without writing a run). `score --run` loads its models here;
//! the Python package's `load_model` is a `SavedModel`, and a pickled model is its `RunFiles`.
//! Scoring takes the steps of the driver's scoring loop on one batch (`stages`), so a table
//! scores as the same rows of a log file do in `scores.csv`.

use crate::accumulate::AddressHits;
use crate::config::ExperimentConfig;
use crate::context;
use crate::error::ExperimentError;
use crate::outputs::{self, AddressCells, RunRecord};
use crate::source::drop_missing_label;
use crate::stages::{self, Batch};
use crate::types::{DetectorScores, FeaturePipeline};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use webthreat_core::{Entities, FeatureMatrix};
use webthreat_detectors::FittedDetector;
use webthreat_features::{Addresses, window_numbers};
use webthreat_ingest::{IngestError, LogTable, RejectedRow, SourceSpec, read_log};
use webthreat_intel::{Geo, Intel, IntelError};

const CONFIG: &str = "config.yaml";
const RECORD: &str = "run.json";
const FEATURES: &str = "models/features.json";

/// The files of a run a saved model is made of, by path relative to the run directory:
/// `config.yaml`, `run.json`, `models/features.json` and one `models/<detector>.json` per
/// detector, with the files the config reads besides the log (intel lists, GeoIP databases).
/// Self-contained: a model sent elsewhere needs none of the paths it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFiles {
    /// Where they were read from (named in errors).
    pub dir: PathBuf,
    /// Text of each file.
    pub texts: BTreeMap<String, String>,
    /// Bytes of each intel list and GeoIP database, by the path the config names it by
    /// ([`RunFiles::with_resources`]).
    pub resources: BTreeMap<PathBuf, Vec<u8>>,
}

impl RunFiles {
    /// Reads the files of the run directory `dir`.
    pub fn read(dir: &Path) -> Result<Self, ExperimentError> {
        let read = |name: &str| -> Result<String, ExperimentError> {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|error| ExperimentError::Io { path, error })
        };
        let mut texts = BTreeMap::new();
        let config = read(CONFIG)?;
        let detectors = parse_config(dir, &config)?.detectors;
        texts.insert(CONFIG.to_string(), config);
        texts.insert(RECORD.to_string(), read(RECORD)?);
        texts.insert(FEATURES.to_string(), read(FEATURES)?);
        for d in &detectors {
            let name = model_file(d.name());
            texts.insert(name.clone(), read(&name)?);
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            texts,
            resources: BTreeMap::new(),
        })
    }

    /// With the bytes of the intel lists and GeoIP databases the config names, read from their
    /// paths: what a model needs to stand alone (a `SavedModel`; `score --run` reads them where
    /// it uses them).
    pub fn with_resources(mut self) -> Result<Self, ExperimentError> {
        for path in context::resource_paths(&self.config()?) {
            let bytes = context::read_file(&path).map_err(|e| ExperimentError::Config {
                path: "intel".into(),
                message: e.to_string(),
            })?;
            self.resources.insert(path, bytes);
        }
        Ok(self)
    }

    /// The bytes of a file the config reads besides the log.
    fn resource(&self, path: &Path) -> Result<Vec<u8>, IntelError> {
        (self.resources.get(path).cloned()).ok_or_else(|| IntelError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not among the saved model's files",
            ),
        })
    }

    fn text(&self, name: &str) -> Result<&str, ExperimentError> {
        self.texts
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ExperimentError::BadRun {
                path: self.dir.join(name),
                message: "missing from the saved model's files".into(),
            })
    }

    /// The run's config as it was run.
    pub fn config(&self) -> Result<ExperimentConfig, ExperimentError> {
        parse_config(&self.dir, self.text(CONFIG)?)
    }

    /// The feature pipeline and the detectors of `config` (the run's, or the run's with
    /// another data path), each model file checked against the blake3 `run.json` records.
    pub(crate) fn models(
        &self,
        config: &ExperimentConfig,
    ) -> Result<(FeaturePipeline, Vec<FittedDetector>), ExperimentError> {
        let record: RunRecord =
            serde_json::from_str(self.text(RECORD)?).map_err(|e| ExperimentError::BadRun {
                path: self.dir.join(RECORD),
                message: e.to_string(),
            })?;
        // a model file must be the one the run wrote
        let read_model = |name: &str| -> Result<&str, ExperimentError> {
            let path = self.dir.join(name);
            let text = self.text(name)?;
            let hash = blake3::hash(text.as_bytes()).to_hex().to_string();
            let file = name.trim_start_matches("models/");
            match record.model_blake3.get(file) {
                Some(recorded) if *recorded == hash => Ok(text),
                Some(_) => Err(ExperimentError::BadRun {
                    path,
                    message: "edited after the run: its blake3 differs from the one run.json \
                        records; rerun the experiment to get models to score with"
                        .into(),
                }),
                None => Err(ExperimentError::BadRun {
                    path,
                    message: "run.json records no blake3 for it, so it cannot be checked; rerun \
                        the experiment to get models to score with"
                        .into(),
                }),
            }
        };
        let features_path = self.dir.join(FEATURES);
        let pipeline: FeaturePipeline =
            serde_json::from_str(read_model(FEATURES)?).map_err(|e| ExperimentError::BadRun {
                path: features_path.clone(),
                message: e.to_string(),
            })?;
        pipeline
            .check()
            .map_err(|message| ExperimentError::BadRun {
                path: features_path,
                message,
            })?;
        let detectors = config
            .detectors
            .iter()
            .map(|d| {
                let name = model_file(d.name());
                FittedDetector::from_json(read_model(&name)?).map_err(|e| ExperimentError::BadRun {
                    path: self.dir.join(&name),
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((pipeline, detectors))
    }
}

fn model_file(detector: &str) -> String {
    format!("models/{}.json", outputs::file_stem(detector))
}

fn parse_config(dir: &Path, text: &str) -> Result<ExperimentConfig, ExperimentError> {
    let bad = |message| ExperimentError::Config {
        path: dir.join(CONFIG),
        message,
    };
    let config = ExperimentConfig::parse(text, &[]).map_err(bad)?;
    config.validate().map_err(bad)?;
    Ok(config)
}

/// The saved feature pipeline and detectors of a run directory (`score --run`).
pub(crate) fn load_models(
    run_dir: &Path,
    config: &ExperimentConfig,
) -> Result<(FeaturePipeline, Vec<FittedDetector>), ExperimentError> {
    RunFiles::read(run_dir)?.models(config)
}

/// How the rows of a log may be split into parts scored apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioning {
    /// Any way: every feature of a row is computed from that row alone.
    AnyRows,
    /// Into parts that each hold every row of the time windows they hold (window aggregates
    /// count a window's rows), keyed by [`SavedModel::window_keys`].
    ByWindow {
        /// The window length.
        seconds: u64,
    },
    /// Not at all: a feature reads the whole log (beacon scores analyse every connection of
    /// a pair, baselines a source's earlier windows).
    WholeLog,
}

/// A run's feature pipeline, detectors and thresholds, with the intel lists and GeoIP
/// databases its config names: scores tables as `score --run` scores a log.
pub struct SavedModel {
    files: RunFiles,
    config: ExperimentConfig,
    source: SourceSpec,
    pipeline: FeaturePipeline,
    detectors: Vec<FittedDetector>,
    intel: Option<Arc<Intel>>,
    geo: Option<Geo>,
}

impl SavedModel {
    /// Loads the saved models of the run directory `run_dir`.
    pub fn load(run_dir: &Path) -> Result<Self, ExperimentError> {
        Self::from_files(RunFiles::read(run_dir)?.with_resources()?)
    }

    /// The saved model of a run's files (as [`SavedModel::files`] gave them).
    pub fn from_files(files: RunFiles) -> Result<Self, ExperimentError> {
        let config = files.config()?;
        let (pipeline, detectors) = files.models(&config)?;
        Ok(Self {
            source: stages::source_spec(&config)?,
            intel: context::intel_from(&config, &|path| files.resource(path))?,
            geo: context::geo_from(&config, &|path| files.resource(path))?,
            files,
            config,
            pipeline,
            detectors,
        })
    }

    /// The files it was loaded from.
    pub fn files(&self) -> &RunFiles {
        &self.files
    }

    /// The run's config.
    pub fn config(&self) -> &ExperimentConfig {
        &self.config
    }

    /// Detector names, in the order of their columns.
    pub fn detector_names(&self) -> Vec<&str> {
        self.detectors.iter().map(FittedDetector::name).collect()
    }

    /// The detectors (thresholds, feature names, model).
    pub fn detectors(&self) -> &[FittedDetector] {
        &self.detectors
    }

    /// Which of a table's columns (`names`) scoring reads ([`webthreat_ingest::columns_used`]):
    /// the others need not be handed over.
    pub fn columns_used(&self, names: &[String]) -> Option<Vec<bool>> {
        webthreat_ingest::columns_used(&self.source, names)
    }

    /// Reads a table of the log's columns with `read` under the run's data section; a label
    /// column the table lacks is dropped (as `score --run` does with new data).
    pub fn read(
        &self,
        read: impl Fn(&SourceSpec) -> Result<LogTable, IngestError>,
    ) -> Result<LogTable, ExperimentError> {
        let mut source = self.source.clone();
        Ok(match read(&source) {
            Err(e) if drop_missing_label(&e, &mut source, &mut Vec::new()) => read(&source)?,
            other => other?,
        })
    }

    /// Reads the log at `path` (a file, plain or compressed, a directory or a glob) under the
    /// run's data section, as `score --run RUN PATH` reads it.
    pub fn read_file(&self, path: &Path) -> Result<LogTable, ExperimentError> {
        self.read(|spec| {
            let mut spec = spec.clone();
            spec.path = path.to_path_buf();
            read_log(&spec)
        })
    }

    /// How a log may be split into parts scored apart (batches, an engine's partitions) and
    /// still score as the whole log does.
    pub fn partitioning(&self) -> Partitioning {
        let spec = &self.pipeline.spec;
        if spec.needs_beacons() || spec.needs_whole_log() {
            Partitioning::WholeLog
        } else if spec.window_features().is_empty() {
            Partitioning::AnyRows
        } else {
            Partitioning::ByWindow {
                seconds: spec.window_seconds,
            }
        }
    }

    /// The window number ([`window_numbers`]) of each of a table's `rows` rows, read with
    /// their positions as row ids; a row its bad-row policy rejected gets 0 (wherever it
    /// goes, scoring rejects it again). Parts holding every row of the windows they hold
    /// score as the whole log (for [`Partitioning::ByWindow`]).
    pub fn window_keys(&self, table: &LogTable, rows: usize) -> Result<Vec<i64>, ExperimentError> {
        let numbers = window_numbers(table, self.pipeline.spec.window_seconds)?;
        let mut keys = vec![0; rows];
        for (id, number) in table.row_ids()?.into_iter().zip(numbers) {
            keys[id as usize] = number;
        }
        Ok(keys)
    }

    /// Scores the rows of `table` as `score --run` scores them: features, scaling, every
    /// detector's score, severity and flag, allowlisted rows unflagged; the beacon analysis
    /// (when a feature needs it) is that of `table`'s rows.
    pub fn score(&self, mut table: LogTable) -> Result<Scored, ExperimentError> {
        let rejected = std::mem::take(&mut table.rejected);
        if table.rows() == 0 {
            return Err(ExperimentError::Report(
                "every row of the table was rejected; nothing to score".into(),
            ));
        }
        let mut spec = self.pipeline.spec.clone();
        let mut analysis = context::pair_analysis(&self.config, spec.needs_beacons())?;
        if let Some(analysis) = &mut analysis {
            analysis.add(&table)?;
        }
        spec.context = context::row_context(self.intel.clone(), analysis);
        let (batch, scaled) = Batch::build_scaled(&table, &spec, &self.pipeline.scaler)?;
        drop(table);
        let mut scores = stages::score(&self.detectors, &batch.raw, &scaled)?;
        let addresses = batch.columns.addresses;
        let hits = match (&self.intel, &addresses) {
            (Some(intel), Some(addresses)) => Some(AddressHits::new(addresses, intel)),
            _ => None,
        };
        if let (Some(hits), Some(addresses)) = (&hits, &addresses)
            && self.config.intel.suppress_allowed
        {
            crate::driver::suppress_allowed(&mut scores, addresses, hits);
        }
        let extra = match &addresses {
            Some(addresses) => {
                outputs::address_columns(self.geo.as_ref(), addresses, hits.as_ref())
            }
            None => Vec::new(),
        };
        Ok(Scored {
            names: self
                .detector_names()
                .iter()
                .map(|n| n.to_string())
                .collect(),
            raw: batch.raw,
            scores,
            extra,
            addresses,
            rejected,
        })
    }
}

/// The scored rows of one table: the columns and values of their `scores.csv` lines.
pub struct Scored {
    names: Vec<String>,
    raw: FeatureMatrix,
    scores: Vec<DetectorScores>,
    /// The address columns (intel, country, ASN): name, the cell of each distinct address, and
    /// whether it describes the destination.
    extra: Vec<(&'static str, Vec<String>, bool)>,
    addresses: Option<Addresses>,
    rejected: Vec<RejectedRow>,
}

/// One detector's columns of [`Scored`].
pub struct DetectorColumns<'a> {
    /// Detector name (`<name>_score`, ...).
    pub name: &'a str,
    /// Scores, higher = more anomalous.
    pub scores: &'a [f64],
    /// Severities 0-100.
    pub severity: &'a [f64],
    /// Flags.
    pub flags: &'a [bool],
}

impl Scored {
    /// Rows scored.
    pub fn rows(&self) -> usize {
        self.raw.n_rows()
    }

    /// Row ids.
    pub fn row_ids(&self) -> &[u64] {
        self.raw.row_ids()
    }

    /// True when the rows have the entity columns `src_ip`, `dst_port`, `window_start`.
    pub fn has_entities(&self) -> bool {
        !self.raw.entities().is_empty()
    }

    /// Every row's source address, destination port and window start (Unix seconds).
    pub fn entities(&self) -> &Entities {
        self.raw.entities()
    }

    /// Per detector its columns, in column order.
    pub fn detectors(&self) -> impl Iterator<Item = DetectorColumns<'_>> {
        self.names
            .iter()
            .zip(&self.scores)
            .map(|(name, d)| DetectorColumns {
                name,
                scores: &d.scores,
                severity: &d.severity,
                flags: &d.flags,
            })
    }

    /// The address columns after the detectors' (intel matches, country, ASN, as the config
    /// asks for them): name and each row's cell, as `scores.csv` writes it.
    pub fn address_columns(&self) -> Vec<(&'static str, Vec<&str>)> {
        let Some(addresses) = &self.addresses else {
            return Vec::new();
        };
        self.extra
            .iter()
            .map(|(name, cells, dst)| {
                let rows = if *dst { &addresses.dst } else { &addresses.src };
                let column = rows
                    .iter()
                    .map(|&r| cells.get(r as usize).map_or("", String::as_str))
                    .collect();
                (*name, column)
            })
            .collect()
    }

    /// Labels, when the table has the run's label column.
    pub fn labels(&self) -> Option<&[bool]> {
        self.raw.labels()
    }

    /// Rows `on_bad_rows: skip` removed, with their problems.
    pub fn rejected(&self) -> &[RejectedRow] {
        &self.rejected
    }

    fn address_cells(&self) -> AddressCells<'_> {
        match &self.addresses {
            Some(addresses) => AddressCells::of(self.extra.clone(), addresses),
            None => AddressCells::default(),
        }
    }

    /// The rows as `scores.csv` lines (with its header line first when `header`): the same
    /// bytes a run writes for them.
    pub fn to_scores_csv(&self, header: bool) -> Vec<u8> {
        let cells = self.address_cells();
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let mut text = Vec::new();
        if header {
            text.extend_from_slice(outputs::scores_header(&names, &self.raw, &cells).as_bytes());
        }
        outputs::format_scores(&mut text, &self.raw, &self.scores, &cells);
        text
    }
}
