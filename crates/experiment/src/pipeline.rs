//! The pipeline: ingest -> features -> fit (or load) -> score -> evaluate -> write a run.

use crate::config::{ExperimentConfig, StreamingOptions};
use crate::error::ExperimentError;
use crate::outputs::{self, RunRecord, ScoreColumns, StageSeconds};
use crate::progress::StageProgress;
use crate::provenance;
use crate::store::{PendingRun, RunStore};
use crate::summarize;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use webthreat_core::FeatureMatrix;
use webthreat_core::stats::{Middle, column_middles};
use webthreat_detectors::FittedDetector;
use webthreat_features::{FeatureSpec, LogColumns, Scaler, Scaling, build_matrix, numeric_columns};
use webthreat_ingest::{Format, IngestError, LogTable, SourceSpec, read_log};
use webthreat_report::{DetectorSummary, ReportModel};

/// The seed analysis' features, used for CloudWatch logs when a config lists none.
pub const DEFAULT_CLOUDWATCH_FEATURES: [&str; 4] = [
    "bytes_in",
    "bytes_out",
    "session_duration",
    "avg_packet_size",
];

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Root of the run store (`experiments/`).
    pub store_root: PathBuf,
    /// The data path was overridden (`--data`): a configured label column that the new data
    /// lacks is then dropped with a note instead of failing.
    pub data_overridden: bool,
}

/// One detector's line in the run summary.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorLine {
    /// Detector name.
    pub name: String,
    /// Detector kind.
    pub kind: String,
    /// Rows flagged.
    pub flagged: usize,
    /// Score threshold.
    pub threshold: f64,
    /// ROC AUC, with labels.
    pub roc_auc: Option<f64>,
    /// Average precision, with labels.
    pub pr_auc: Option<f64>,
    /// F1 of the flags, with labels.
    pub f1: Option<f64>,
}

impl From<&DetectorSummary> for DetectorLine {
    fn from(d: &DetectorSummary) -> Self {
        Self {
            name: d.name.clone(),
            kind: d.kind.clone(),
            flagged: d.flagged as usize,
            threshold: d.threshold,
            roc_auc: d.metrics.map(|m| m.roc_auc),
            pr_auc: d.metrics.map(|m| m.pr_auc),
            f1: d.metrics.map(|m| m.f1),
        }
    }
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The committed run directory.
    pub dir: PathBuf,
    /// Run id.
    pub id: String,
    /// Rows analysed.
    pub rows: usize,
    /// Rows rejected by `on_bad_rows: skip`.
    pub rejected: usize,
    /// Per-detector summary.
    pub detectors: Vec<DetectorLine>,
    /// Things the user should know (e.g. labels ignored).
    pub notes: Vec<String>,
}

/// Feature spec and fitted scaler, saved as `models/features.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FeaturePipeline {
    pub spec: FeatureSpec,
    pub scaler: Scaler,
}

/// The features of one analysed log.
pub(crate) struct Prepared {
    pub pipeline: FeaturePipeline,
    /// Unscaled features (report units).
    pub raw: FeatureMatrix,
    /// Scaled features (detector input).
    pub scaled: FeatureMatrix,
    /// Column medians of `raw` (the typical values of explanations).
    pub raw_medians: Vec<f64>,
    /// Column medians of `scaled`, taken from the middle values of `raw` (`None` when the
    /// scaler cannot give them).
    pub scaled_medians: Option<Vec<f64>>,
    /// Context columns for the report.
    pub columns: LogColumns,
}

/// One detector's results on the analysed rows.
pub(crate) struct DetectorRun {
    pub fitted: FittedDetector,
    pub scores: Vec<f64>,
    /// The scores sorted ascending, when the fit sorted them (training rows).
    pub sorted_scores: Option<Vec<f64>>,
    pub flags: Vec<bool>,
    pub severity: Vec<f64>,
}

impl DetectorRun {
    pub(crate) fn columns(&self) -> ScoreColumns<'_> {
        ScoreColumns {
            scores: &self.scores,
            severity: &self.severity,
            flags: &self.flags,
        }
    }

    fn new(fitted: FittedDetector, scores: Vec<f64>, sorted_scores: Option<Vec<f64>>) -> Self {
        let flags = fitted.flags(&scores);
        let severity = scores.par_iter().map(|s| fitted.severity(*s)).collect();
        Self {
            fitted,
            scores,
            sorted_scores,
            flags,
            severity,
        }
    }
}

/// Everything a run writes, computed.
pub(crate) struct Analysis<'a> {
    pub config: &'a ExperimentConfig,
    pub table: LogTable,
    pub prepared: Prepared,
    pub detectors: Vec<DetectorRun>,
    pub notes: Vec<String>,
}

/// Runs an experiment and commits a new run directory.
pub fn run(config: &ExperimentConfig, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
    if let Some(stream) = config.streaming {
        return crate::stream::run_streaming(config, opts, stream);
    }
    let store = RunStore::new(&opts.store_root);
    let started = provenance::now_ms();
    let pending = store.begin(&config.name)?;
    let mut seconds = StageSeconds::default();
    let mut notes = Vec::new();

    let clock = Instant::now();
    let stage = StageProgress::start(format!("reading {}", config.data.path.display()));
    let table = ingest(config, opts.data_overridden, &mut notes)?;
    drop(stage);
    seconds.ingest = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let stage = StageProgress::start("building features");
    let spec = feature_spec(config, &table)?;
    let prepared = prepare(&table, spec, ScalerSource::Fit(config.scaling))?;
    drop(stage);
    seconds.features = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let mut fitted = Vec::with_capacity(config.detectors.len());
    for detector in &config.detectors {
        let _stage = StageProgress::start(format!(
            "fitting {} on {} rows",
            detector.name(),
            prepared.scaled.n_rows()
        ));
        let fit = webthreat_detectors::fit_with_sorted_scores(
            detector,
            &prepared.scaled,
            config.seed,
            prepared.scaled_medians.clone(),
        )
        .map_err(|e| detector_error(detector.name(), e))?;
        fitted.push(fit);
    }
    seconds.fit = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let detectors = fitted
        .into_iter()
        .map(|(model, scores, sorted)| DetectorRun::new(model, scores, Some(sorted)))
        .collect();
    seconds.score = clock.elapsed().as_secs_f64();

    let analysis = Analysis {
        config,
        table,
        prepared,
        detectors,
        notes,
    };
    finish(analysis, pending, started, seconds, None)
}

/// Scores new data with a finished run's saved feature pipeline, models and thresholds
/// (no refit), writing a new run under the experiment `<name>-score`.
/// `streaming` processes the data in batches (as does a run whose config had a `streaming`
/// section).
pub fn score_with_run(
    run_dir: &Path,
    data: &Path,
    store_root: &Path,
    streaming: Option<StreamingOptions>,
) -> Result<RunOutcome, ExperimentError> {
    let config_path = run_dir.join("config.yaml");
    let mut config = ExperimentConfig::load(&config_path, &[], Some(data))?;
    config.name = format!("{}-score", config.name);
    if streaming.is_some() {
        config.streaming = streaming;
        // e.g. window features cannot be computed batch by batch
        config
            .validate()
            .map_err(|message| ExperimentError::Config {
                path: config_path.clone(),
                message,
            })?;
    }
    let pipeline: FeaturePipeline =
        outputs::read_json(&run_dir.join("models").join("features.json"))?;
    let models = config
        .detectors
        .iter()
        .map(|d| {
            let path = run_dir
                .join("models")
                .join(format!("{}.json", outputs::file_stem(d.name())));
            let text = std::fs::read_to_string(&path).map_err(|source| ExperimentError::Io {
                path: path.clone(),
                error: source,
            })?;
            FittedDetector::from_json(&text).map_err(|e| ExperimentError::BadRun {
                path,
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let store = RunStore::new(store_root);
    let started = provenance::now_ms();
    let pending = store.begin(&config.name)?;
    let mut seconds = StageSeconds::default();
    let mut notes = vec![format!(
        "scored with the saved models of {} (no refit)",
        run_dir.display()
    )];
    if let Some(stream) = config.streaming {
        return crate::stream::score_streaming(
            &config, stream, pipeline, models, pending, started, notes, run_dir,
        );
    }

    let clock = Instant::now();
    let table = ingest(&config, true, &mut notes)?;
    seconds.ingest = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let prepared = prepare(&table, pipeline.spec, ScalerSource::Saved(pipeline.scaler))?;
    seconds.features = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let detectors = models
        .into_iter()
        .map(|model| {
            let scores = model
                .score(&prepared.scaled)
                .map_err(|e| detector_error(model.name(), e))?;
            Ok(DetectorRun::new(model, scores, None))
        })
        .collect::<Result<Vec<_>, ExperimentError>>()?;
    seconds.score = clock.elapsed().as_secs_f64();

    let analysis = Analysis {
        config: &config,
        table,
        prepared,
        detectors,
        notes,
    };
    finish(analysis, pending, started, seconds, Some(run_dir))
}

pub(crate) fn detector_error(name: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Detector {
        name: name.to_string(),
        message: e.to_string(),
    }
}

/// The configured source, with the columns the features need parsed as numbers.
pub(crate) fn source_spec(config: &ExperimentConfig) -> Result<SourceSpec, ExperimentError> {
    let mut source = config.data.clone();
    if let Some(features) = &config.features {
        source.numeric =
            FeatureSpec::new(features.clone(), config.window_seconds)?.raw_numeric_columns();
    }
    Ok(source)
}

/// Reads the log; with an overridden data path, a label column the data lacks is dropped.
fn ingest(
    config: &ExperimentConfig,
    label_optional: bool,
    notes: &mut Vec<String>,
) -> Result<LogTable, ExperimentError> {
    let mut source = source_spec(config)?;
    match read_log(&source) {
        Err(e) if label_optional && drop_missing_label(&e, &mut source, notes) => {
            Ok(read_log(&source)?)
        }
        other => Ok(other?),
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

pub(crate) fn feature_spec(
    config: &ExperimentConfig,
    table: &LogTable,
) -> Result<FeatureSpec, ExperimentError> {
    let names = match (&config.features, config.data.format) {
        (Some(names), _) => names.clone(),
        (None, Format::Cloudwatch) => DEFAULT_CLOUDWATCH_FEATURES.map(String::from).to_vec(),
        (None, Format::Table) => numeric_columns(table),
    };
    Ok(FeatureSpec::new(names, config.window_seconds)?)
}

/// Where a run's scaler comes from.
enum ScalerSource {
    /// Fitted on the run's own features with this method.
    Fit(Scaling),
    /// Saved by an earlier run.
    Saved(Scaler),
}

/// Builds the feature matrix and scales it, while the report's log columns are extracted.
fn prepare(
    table: &LogTable,
    spec: FeatureSpec,
    scaler: ScalerSource,
) -> Result<Prepared, ExperimentError> {
    let features = || -> Result<_, ExperimentError> {
        let raw = build_matrix(table, &spec)?;
        let scaler = match scaler {
            ScalerSource::Saved(saved) => saved,
            ScalerSource::Fit(method) => Scaler::fit(method, &raw)?,
        };
        let scaled = scaler.transform(&raw)?;
        // one selection per column gives the medians of both matrices
        let middles = column_middles(&raw);
        let raw_medians = middles.iter().map(Middle::median).collect();
        let scaled_medians = scaler.scaled_medians(&middles);
        Ok((raw, scaler, scaled, raw_medians, scaled_medians))
    };
    let (features, columns) = rayon::join(features, || LogColumns::extract(table));
    let (raw, scaler, scaled, raw_medians, scaled_medians) = features?;
    Ok(Prepared {
        columns: columns?,
        pipeline: FeaturePipeline { spec, scaler },
        raw,
        scaled,
        raw_medians,
        scaled_medians,
    })
}

/// Writes every output into the pending run, then `run.json`, then commits.
fn finish(
    analysis: Analysis<'_>,
    pending: PendingRun,
    started: i64,
    mut seconds: StageSeconds,
    source_run: Option<&Path>,
) -> Result<RunOutcome, ExperimentError> {
    let clock = Instant::now();
    let stage = StageProgress::start("writing metrics, scores, models and report");
    let dir = pending.dir().to_path_buf();
    // the per-row files are written and the data file hashed while the report is summarised
    let ((model, rows), origin) = rayon::join(
        || {
            rayon::join(
                || summarize::report_model(&analysis),
                || outputs::write_rows(&dir, &analysis),
            )
        },
        || {
            let hash = analysis.table.file_blake3.clone();
            provenance::origin(&analysis.config.data.path, hash, source_run)
        },
    );
    rows?;
    let model = model?;
    let origin = origin?;
    let fitted: Vec<&FittedDetector> = analysis.detectors.iter().map(|d| &d.fitted).collect();
    outputs::write_models_and_report(
        &dir,
        analysis.config,
        &analysis.prepared.pipeline,
        &fitted,
        &model,
        &analysis.notes,
    )?;
    drop(stage);
    seconds.report = clock.elapsed().as_secs_f64();

    let record = RunRecord::new(
        pending.id(),
        analysis.config,
        &model,
        &analysis.notes,
        started,
        seconds,
        origin,
    )?;
    commit_run(pending, record, &model, analysis.notes)
}

/// Writes `run.json` (written last), commits the run and summarises it for the caller.
pub(crate) fn commit_run(
    pending: PendingRun,
    record: RunRecord,
    model: &ReportModel,
    notes: Vec<String>,
) -> Result<RunOutcome, ExperimentError> {
    outputs::write_run_record(pending.dir(), &record)?;
    let id = pending.id().to_string();
    let dir = pending.commit()?;
    Ok(RunOutcome {
        dir,
        id,
        rows: model.data.rows as usize,
        rejected: model.data.rejected_rows as usize,
        detectors: model.detectors.iter().map(DetectorLine::from).collect(),
        notes,
    })
}
