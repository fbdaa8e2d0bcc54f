//! The run driver: one way through for every run. A run is a sequence of batches (an
//! in-memory run is one batch): a fit stage (on every row, or on a seeded sample of a streamed
//! log) or a run's saved models, then one scoring loop that writes `scores.csv`,
//! `alerts.jsonl` and `rejects.csv` and folds every batch into the [`ReportAccumulator`], then
//! the report, the models, `run.json` and the commit of the run directory.

use crate::accumulate::{AddressHits, BatchView, ReportAccumulator, ScoreKeeping};
use crate::alerts::AlertsWriter;
use crate::config::{ExperimentConfig, StreamingOptions};
use crate::error::ExperimentError;
use crate::outputs::{self, AddressCells, RejectsWriter, RunRecord, ScoresWriter, StageSeconds};
use crate::progress::StageProgress;
use crate::provenance;
use crate::sample::RowSample;
use crate::source::{LogSource, missing_notes};
use crate::stages::{self, Batch, Fit, feature_spec};
use crate::store::{PendingRun, RunStore};
use crate::types::{DetectorLine, DetectorScores, FeaturePipeline, RunOptions, RunOutcome};
use crate::{beacons, context, index};
use std::path::{Path, PathBuf};
use std::time::Instant;
use webthreat_core::FeatureMatrix;
use webthreat_core::stats::column_medians;
use webthreat_detectors::FittedDetector;
use webthreat_features::{Addresses, CategoryCounter, FeatureSpec, build_matrix};
use webthreat_ingest::{IngestError, LogTable, MissingCount, RejectedRow, RowFilter, SourceSpec};
use webthreat_intel::Geo;
use webthreat_report::ReportModel;
use webthreat_report::{DetectorMetrics, FittedOn};

/// Runs an experiment and commits a new run directory.
pub fn run(config: &ExperimentConfig, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
    run_source(config, opts, Vec::new(), |notes| {
        LogSource::open(config, config.streaming, opts.data_overridden, notes)
    })
}

/// Runs an experiment on the rows `read` reads under the config's data section (an Arrow
/// table, say) instead of its data path, in memory; a configured label column the rows lack
/// is dropped with a note.
pub fn run_read(
    config: &ExperimentConfig,
    opts: &RunOptions,
    read: impl Fn(&SourceSpec) -> Result<LogTable, IngestError>,
) -> Result<RunOutcome, ExperimentError> {
    let mut config = config.clone();
    config.streaming = None;
    let read = |spec: &SourceSpec| read(spec).and_then(with_content_hash);
    run_source(&config, opts, Vec::new(), |notes| {
        LogSource::read_whole(&config, true, read, notes)
    })
}

/// A table from no file, with the hash of its values as the log's hash (the run record's
/// data identity).
fn with_content_hash(mut table: LogTable) -> Result<LogTable, IngestError> {
    table.file_blake3 = Some(table.content_blake3()?);
    Ok(table)
}

/// Runs an experiment on the rows of `table` (read from elsewhere than the config's data
/// path), fitting on all of them in memory; `notes` say where they came from.
pub(crate) fn run_table(
    config: &ExperimentConfig,
    opts: &RunOptions,
    table: LogTable,
    notes: Vec<String>,
) -> Result<RunOutcome, ExperimentError> {
    let table = with_content_hash(table)?;
    run_source(config, opts, notes, |_| Ok(LogSource::whole(table)))
}

/// A run of the rows `open` gives.
fn run_source(
    config: &ExperimentConfig,
    opts: &RunOptions,
    mut notes: Vec<String>,
    open: impl FnOnce(&mut Vec<String>) -> Result<LogSource, ExperimentError>,
) -> Result<RunOutcome, ExperimentError> {
    let store = RunStore::new(&opts.store_root);
    let started = provenance::now_ms();
    let pending = store.begin(&config.name)?;
    let mut seconds = StageSeconds::default();
    let clock = Instant::now();
    let stage = StageProgress::start(format!("reading {}", config.data.path.display()));
    let mut source = open(&mut notes)?;
    drop(stage);
    seconds.ingest = clock.elapsed().as_secs_f64();

    let (fit, fitted_batch) = fit_stage(config, &mut source, &mut seconds, &mut notes)?;
    let Fit {
        pipeline,
        detectors,
        scaled,
        training_scores,
        notes: fit_notes,
        repeats,
    } = fit;
    notes.extend(fit_notes);
    let fitted_on = config
        .fit
        .as_ref()
        .map(|fit| stages::fitted_on(config, fit, scaled.n_rows()));
    let mut scoring = Scoring::new(
        config,
        &pending,
        &pipeline,
        &detectors,
        Typical::Fitted(pipeline.typical.clone()),
    )?;
    scoring.keep = stages::score_filter(config);
    scoring.fitted_on = fitted_on;
    scoring.repeats = repeats;
    match fitted_batch {
        // an in-memory run scores the rows it was fitted on: the fit's scores are reused
        Some(WholeBatch { batch, set_aside }) => {
            let clock = Instant::now();
            let scores = detectors
                .iter()
                .zip(training_scores)
                .map(|(model, (scores, sorted))| DetectorScores::new(model, scores, Some(sorted)))
                .collect();
            scoring.seconds.score += clock.elapsed().as_secs_f64();
            scoring.set_aside(set_aside)?;
            scoring.fold(batch, scaled, scores)?;
        }
        None => {
            drop(scaled);
            seconds.ingest += source.each_batch(|k, table| scoring.table(k, table))?;
        }
    }
    finish(
        config,
        source.file_blake3(),
        scoring,
        seconds,
        (&store, pending),
        started,
        notes,
        None,
        opts.record_git,
    )
}

/// Scores new data with a finished run's saved feature pipeline, models and thresholds
/// (no refit), writing a new run under the experiment `<name>-score`. `streaming` processes
/// the data in batches (as does a run whose config had a `streaming` section).
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
    let (mut pipeline, detectors) = crate::saved::load_models(run_dir, &config)?;

    let store = RunStore::new(store_root);
    let started = provenance::now_ms();
    let pending = store.begin(&config.name)?;
    let mut seconds = StageSeconds::default();
    let mut notes = vec![format!(
        "scored with the saved models of {} (no refit)",
        run_dir.display()
    )];
    let clock = Instant::now();
    let mut source = LogSource::open(&config, config.streaming, true, &mut notes)?;
    // beacon scores belong to the data scored: its pairs are analysed first
    let mut analysis = context::pair_analysis(&config, pipeline.spec.needs_beacons())?;
    if let Some(analysis) = &mut analysis {
        source.look_at_each(|table| Ok(analysis.add(table)?))?;
    }
    pipeline.spec.context = context::row_context(context::load_intel(&config)?, analysis);
    seconds.ingest = clock.elapsed().as_secs_f64();
    if let Some(stream) = config.streaming {
        notes.push(format!(
            "streaming: scored in batches of {} rows",
            stream.batch_rows
        ));
    }
    // explanations compare with the scored rows' medians: of every row, or of a sample
    let reference_rows = config.streaming.map_or(usize::MAX, |s| s.fit_rows);
    let typical = Typical::Sample(reference_rows, None);
    let mut scoring = Scoring::new(&config, &pending, &pipeline, &detectors, typical)?;
    seconds.ingest += source.each_batch(|k, table| scoring.table(k, table))?;
    finish(
        &config,
        source.file_blake3(),
        scoring,
        seconds,
        (&store, pending),
        started,
        notes,
        Some(run_dir),
        false,
    )
}

/// Fits on every row of a whole log (returning its batch, with its rejected rows, to be
/// scored without building it again), or on a seeded sample of `fit_rows` rows of a streamed
/// log (a first pass over its batches); with a `fit:` section, on the rows it chooses (of its
/// training log, or of this one), which are then not reused for scoring.
fn fit_stage(
    config: &ExperimentConfig,
    source: &mut LogSource,
    seconds: &mut StageSeconds,
    notes: &mut Vec<String>,
) -> Result<(Fit, Option<WholeBatch>), ExperimentError> {
    let Some(fit) = &config.fit else {
        if let LogSource::Whole { .. } = source {
            return fit_whole_log(config, source, seconds);
        }
        return Ok((
            fit_sample(config, source, RowFilter::default(), seconds, notes)?,
            None,
        ));
    };
    let filter = stages::fit_filter(fit);
    let mut training = match &fit.data {
        Some(path) => {
            let mut c = config.clone();
            c.data.path = path.clone();
            Some(LogSource::open(&c, config.streaming, false, notes)?)
        }
        None => None,
    };
    let from = training.as_mut().unwrap_or(source);
    if let LogSource::Batches { .. } = from {
        return Ok((fit_sample(config, from, filter, seconds, notes)?, None));
    }
    // the chosen rows of a whole log, leaving the log itself to be scored
    let clock = Instant::now();
    let mut chosen = None;
    from.look_at_each(|table| {
        let mut table = table.clone();
        table.retain(&filter)?;
        chosen = Some(table);
        Ok(())
    })?;
    let table = chosen
        .filter(|t| t.rows() > 0)
        .ok_or_else(|| no_rows_to_fit(config))?;
    let spec = table_spec(config, &table)?;
    let raw = build_matrix(&table, &spec)?;
    seconds.features = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let fit = stages::fit(config, spec, &raw)?;
    seconds.fit = clock.elapsed().as_secs_f64();
    Ok((fit, None))
}

/// The feature spec of a whole table fitted on: its features, the vocabularies of its
/// categorical ones and its row context (intel lists, and its pairs when a feature needs them).
fn table_spec(config: &ExperimentConfig, table: &LogTable) -> Result<FeatureSpec, ExperimentError> {
    let mut spec = feature_spec(config, table)?;
    let mut counter = CategoryCounter::new(spec.categorical_columns());
    counter.add(table)?;
    spec.vocabularies = counter.finish();
    let mut analysis = context::pair_analysis(config, context::needs_beacons(config, Some(&spec)))?;
    if let Some(analysis) = &mut analysis {
        analysis.add(table)?;
    }
    spec.context = context::row_context(context::load_intel(config)?, analysis);
    Ok(spec)
}

/// Fits on every row of a whole log, returning its batch to be scored without building it
/// again.
fn fit_whole_log(
    config: &ExperimentConfig,
    source: &mut LogSource,
    seconds: &mut StageSeconds,
) -> Result<(Fit, Option<WholeBatch>), ExperimentError> {
    let clock = Instant::now();
    let mut whole = None;
    source.each_batch(|_, mut table| {
        let _stage = StageProgress::start("building features");
        let set_aside = SetAside::take(&mut table);
        if table.rows() > 0 {
            let spec = table_spec(config, &table)?;
            whole = Some((Batch::build(&table, &spec)?, spec, set_aside));
        }
        Ok(())
    })?;
    let (batch, spec, set_aside) = whole.ok_or_else(|| all_rows_rejected(config))?;
    seconds.features = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let fit = stages::fit(config, spec, &batch.raw)?;
    seconds.fit = clock.elapsed().as_secs_f64();
    Ok((fit, Some(WholeBatch { batch, set_aside })))
}

/// Fits on a seeded sample of `fit_rows` of the rows `filter` keeps, in a first pass over the
/// batches of `source` (with a pass before it for categories and pairs when needed).
fn fit_sample(
    config: &ExperimentConfig,
    source: &mut LogSource,
    filter: RowFilter,
    seconds: &mut StageSeconds,
    notes: &mut Vec<String>,
) -> Result<Fit, ExperimentError> {
    let fit_rows = config.streaming.map_or(usize::MAX, |s| s.fit_rows);
    // categorical features need their vocabularies, and beacon scores the pairs of every row,
    // first: counted over every row in a pass of their own
    let mut spec = stages::listed_spec(config)?;
    let mut counter = CategoryCounter::new(
        spec.as_ref()
            .map(FeatureSpec::categorical_columns)
            .unwrap_or_default(),
    );
    let mut analysis =
        context::pair_analysis(config, context::needs_beacons(config, spec.as_ref()))?;
    if !counter.is_empty() || analysis.is_some() {
        seconds.ingest += source.each_batch(|k, mut table| {
            let _stage = StageProgress::start(format!("counting categories and pairs: batch {k}"));
            keep(&mut table, &filter)?;
            if let Some(analysis) = &mut analysis {
                analysis.add(&table)?;
            }
            Ok(counter.add(&table)?)
        })?;
    }
    let row_context = context::row_context(context::load_intel(config)?, analysis);
    if let Some(spec) = &mut spec {
        spec.vocabularies = counter.finish();
        spec.context = row_context.clone();
    }
    let mut sample: Option<RowSample> = None;
    let mut features_seconds = 0.0;
    seconds.ingest += source.each_batch(|k, mut table| {
        let _stage = StageProgress::start(format!("sampling rows to fit on: batch {k}"));
        keep(&mut table, &filter)?;
        if table.rows() == 0 {
            return Ok(());
        }
        let clock = Instant::now();
        let spec = match &spec {
            Some(s) => s,
            None => spec.insert(FeatureSpec {
                context: row_context.clone(),
                ..feature_spec(config, &table)?
            }),
        };
        let raw = build_matrix(&table, spec)?;
        sample
            .get_or_insert_with(|| RowSample::new(config.seed, fit_rows, raw.names()))
            .offer(&raw);
        features_seconds += clock.elapsed().as_secs_f64();
        Ok(())
    })?;
    seconds.features = features_seconds;
    let (Some(spec), Some(sample)) = (spec, sample) else {
        return Err(match filter.is_everything() {
            true => all_rows_rejected(config),
            false => no_rows_to_fit(config),
        });
    };
    let clock = Instant::now();
    let rows = sample.offered();
    let sampled = sample.into_matrix()?;
    if let Some(stream) = config.streaming {
        notes.push(format!(
            "streaming: fitted on {} of {rows} rows (a seeded hash sample), scored in batches of {} rows",
            sampled.n_rows(),
            stream.batch_rows
        ));
    }
    let fit = stages::fit(config, spec, &sampled)?;
    seconds.fit = clock.elapsed().as_secs_f64();
    Ok(fit)
}

/// Keeps the rows `filter` selects (all of them, untouched, for the default filter).
fn keep(table: &mut LogTable, filter: &RowFilter) -> Result<(), ExperimentError> {
    if !filter.is_everything() {
        table.retain(filter)?;
    }
    Ok(())
}

fn no_rows_to_fit(config: &ExperimentConfig) -> ExperimentError {
    ExperimentError::Report(format!(
        "{}: the `fit:` section selects no row to fit on",
        config.name
    ))
}

/// The one batch of an in-memory run: fitted on, then scored.
struct WholeBatch {
    batch: Batch,
    set_aside: SetAside,
}

/// What reading a batch set aside: its rejected rows and the missing values it filled in.
struct SetAside {
    rejected: Vec<RejectedRow>,
    missing: Vec<MissingCount>,
}

impl SetAside {
    fn take(table: &mut LogTable) -> Self {
        Self {
            rejected: std::mem::take(&mut table.rejected),
            missing: std::mem::take(&mut table.missing),
        }
    }
}

fn all_rows_rejected(config: &ExperimentConfig) -> ExperimentError {
    ExperimentError::Report(format!(
        "{}: every data row was rejected; nothing to analyse (see the rejects of `on_bad_rows: skip`)",
        config.data.path.display()
    ))
}

/// Where the typical values shown beside a flagged row's values come from.
pub(crate) enum Typical {
    /// The medians of the rows the detectors were fitted on.
    Fitted(Vec<f64>),
    /// The medians of a seeded sample of (at most this many of) the scored rows.
    Sample(usize, Option<RowSample>),
}

/// The scoring loop's state: the per-row files and the report accumulator.
pub(crate) struct Scoring<'a> {
    config: &'a ExperimentConfig,
    dir: PathBuf,
    pipeline: &'a FeaturePipeline,
    detectors: &'a [FittedDetector],
    accumulator: ReportAccumulator,
    scores_out: Option<ScoresWriter>,
    alerts_out: AlertsWriter,
    rejects_out: RejectsWriter,
    /// Missing values filled in so far, per column.
    missing: Vec<MissingCount>,
    typical: Typical,
    seconds: StageSeconds,
    /// The GeoIP/ASN databases, when the config names any.
    geo: Option<Geo>,
    /// The rows of each batch that are scored (all but those a `fit.before` fitted on).
    keep: RowFilter,
    /// What the detectors were fitted on, when a `fit:` section chose it.
    fitted_on: Option<FittedOn>,
    /// Per detector, the metrics of its fits with the seeds after the first (`repeat:`).
    repeats: Vec<Vec<Option<DetectorMetrics>>>,
}

impl<'a> Scoring<'a> {
    pub(crate) fn new(
        config: &'a ExperimentConfig,
        pending: &PendingRun,
        pipeline: &'a FeaturePipeline,
        detectors: &'a [FittedDetector],
        typical: Typical,
    ) -> Result<Self, ExperimentError> {
        // a streamed run keeps bounded state: its ranking metrics come from binned scores
        let keeping = match config.streaming {
            Some(_) => ScoreKeeping::Binned,
            None => ScoreKeeping::Exact,
        };
        // alerts explain with the typical values of the fit rows, or (filled in at the end)
        // those of the scored rows
        let known = match &typical {
            Typical::Fitted(medians) => Some(medians.clone()),
            Typical::Sample(..) => None,
        };
        Ok(Self {
            config,
            dir: pending.dir().to_path_buf(),
            pipeline,
            detectors,
            accumulator: ReportAccumulator::new(config, detectors, keeping),
            scores_out: None,
            alerts_out: AlertsWriter::create(pending.dir(), pending.id(), config, known)?,
            rejects_out: RejectsWriter::new(pending.dir()),
            missing: Vec::new(),
            typical,
            seconds: StageSeconds::default(),
            geo: context::load_geo(config)?,
            keep: RowFilter::default(),
            fitted_on: None,
            repeats: Vec::new(),
        })
    }

    /// Scores one batch of the log and folds it.
    pub(crate) fn table(&mut self, k: usize, mut table: LogTable) -> Result<(), ExperimentError> {
        let _stage = StageProgress::start(format!("scoring batch {k}"));
        self.set_aside(SetAside::take(&mut table))?;
        keep(&mut table, &self.keep)?;
        if table.rows() == 0 {
            return Ok(());
        }
        let clock = Instant::now();
        let (batch, scaled) =
            Batch::build_scaled(&table, &self.pipeline.spec, &self.pipeline.scaler)?;
        drop(table);
        self.seconds.features += clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let scores = stages::score(self.detectors, &batch.raw, &scaled)?;
        self.seconds.score += clock.elapsed().as_secs_f64();
        self.fold(batch, scaled, scores)
    }

    /// Writes what is buffered to `scores.csv` and `alerts.jsonl`; returns the path of the
    /// alerts file.
    pub(crate) fn flush(&mut self) -> Result<&Path, ExperimentError> {
        if let Some(out) = &mut self.scores_out {
            out.flush()?;
        }
        self.alerts_out.flush()
    }

    /// Writes and counts rejected rows, and counts the missing values filled in.
    fn set_aside(&mut self, set_aside: SetAside) -> Result<(), ExperimentError> {
        MissingCount::merge(&mut self.missing, &set_aside.missing);
        self.accumulator.add_rejected(set_aside.rejected.len());
        self.rejects_out.write(&set_aside.rejected)
    }

    /// Appends a scored batch to `scores.csv` and its alerts to `alerts.jsonl` while folding
    /// it into the report; first, when the run has intel lists, removes the flags of rows with
    /// an allowlisted address.
    fn fold(
        &mut self,
        batch: Batch,
        scaled: FeatureMatrix,
        mut scores: Vec<DetectorScores>,
    ) -> Result<(), ExperimentError> {
        let clock = Instant::now();
        let addresses = batch.columns.addresses.as_ref();
        let hits = match (&self.pipeline.spec.context.intel, addresses) {
            (Some(intel), Some(addresses)) => Some(AddressHits::new(addresses, intel)),
            _ => None,
        };
        if let (Some(hits), Some(addresses)) = (&hits, addresses)
            && self.config.intel.suppress_allowed
        {
            let suppressed = suppress_allowed(&mut scores, addresses, hits);
            self.accumulator.add_suppressed(suppressed);
        }
        let cells = self.address_cells(addresses, hits.as_ref());
        let names: Vec<&str> = self.detectors.iter().map(FittedDetector::name).collect();
        let out = match &mut self.scores_out {
            Some(out) => out,
            None => self
                .scores_out
                .insert(ScoresWriter::create(&self.dir, &names, &batch.raw, &cells)?),
        };
        let view = BatchView {
            raw: &batch.raw,
            scaled: &scaled,
            columns: &batch.columns,
            summaries: &batch.summaries,
            detectors: self.detectors,
            scores: &scores,
            hits: hits.as_ref(),
        };
        let (accumulator, alerts) = (&mut self.accumulator, &mut self.alerts_out);
        let ((written, alerted), added) = rayon::join(
            || {
                rayon::join(
                    || out.write(&batch.raw, &scores, &cells),
                    || alerts.write(&view),
                )
            },
            || accumulator.add(&view),
        );
        written?;
        alerted?;
        added?;
        if let Typical::Sample(k, sample) = &mut self.typical {
            sample
                .get_or_insert_with(|| RowSample::new(self.config.seed, *k, batch.raw.names()))
                .offer(&batch.raw);
        }
        self.seconds.report += clock.elapsed().as_secs_f64();
        Ok(())
    }

    /// The `scores.csv` columns of the batch's addresses: the intel match of source and
    /// destination (with intel lists), their country and ASN (with GeoIP databases).
    fn address_cells<'b>(
        &self,
        addresses: Option<&'b Addresses>,
        hits: Option<&AddressHits>,
    ) -> AddressCells<'b> {
        match addresses {
            Some(addresses) => AddressCells::of(
                outputs::address_columns(self.geo.as_ref(), addresses, hits),
                addresses,
            ),
            None => AddressCells::default(),
        }
    }

    /// The report model and its notes, once every batch is folded.
    fn finish(self) -> Result<(ReportModel, Vec<String>, StageSeconds), ExperimentError> {
        let Some(scores_out) = self.scores_out else {
            return Err(all_rows_rejected(self.config));
        };
        scores_out.finish()?;
        self.rejects_out.finish()?;
        let typical = match self.typical {
            Typical::Fitted(medians) => medians,
            Typical::Sample(_, sample) => match sample {
                Some(sample) => column_medians(&sample.into_matrix()?),
                None => Vec::new(),
            },
        };
        let beacon = self.detectors.iter().find(|d| d.kind() == "beacon");
        let pairs = self.pipeline.spec.context.beacons.as_deref();
        self.alerts_out.finish(&typical, pairs, beacon)?;
        let internal = context::internal_networks(self.config)?;
        let intel = self.pipeline.spec.context.intel.as_deref();
        let (mut model, mut notes) = self.accumulator.finish(&typical, &internal, intel)?;
        model.data.fitted_on = self.fitted_on;
        for (summary, seeds) in model.detectors.iter_mut().zip(self.repeats) {
            stages::with_repeats(summary, seeds);
        }
        notes.extend(missing_notes(&self.config.data, &self.missing));
        Ok((model, notes, self.seconds))
    }
}

/// Removes the flags of rows whose source or destination is allowlisted; returns how many.
pub(crate) fn suppress_allowed(
    scores: &mut [DetectorScores],
    addresses: &Addresses,
    hits: &AddressHits,
) -> u64 {
    let allowed: Vec<bool> = (addresses.src.iter().zip(&addresses.dst))
        .map(|(&s, &d)| hits.allowed(s) || hits.allowed(d))
        .collect();
    let mut removed = 0;
    for d in scores {
        for (flag, _) in d.flags.iter_mut().zip(&allowed).filter(|(f, a)| **f && **a) {
            *flag = false;
            removed += 1;
        }
    }
    removed
}

/// Builds the report, writes the models, report and `run.json`, commits the run and rewrites
/// the store's runs index (every committed run passes here, and only here).
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    config: &ExperimentConfig,
    data_blake3: Option<String>,
    scoring: Scoring<'_>,
    mut seconds: StageSeconds,
    (store, pending): (&RunStore, PendingRun),
    started: i64,
    mut notes: Vec<String>,
    source_run: Option<&Path>,
    record_git: bool,
) -> Result<RunOutcome, ExperimentError> {
    let clock = Instant::now();
    let stage = StageProgress::start("writing metrics, models and report");
    let (pipeline, detectors) = (scoring.pipeline, scoring.detectors);
    // the data file is hashed (when it was not read whole) while the report is built
    let (built, origin) = rayon::join(
        || scoring.finish(),
        || provenance::origin(&config.data, data_blake3, source_run, record_git),
    );
    let (mut model, report_notes, loop_seconds) = built?;
    let beacon = detectors.iter().find(|d| d.kind() == "beacon");
    if let Some(pairs) = &pipeline.spec.context.beacons {
        let min_connections = context::beacon_params(config).min_connections;
        let detector = beacon.map(|d| (d.name(), d.threshold()));
        model.beacons = Some(beacons::section(pairs, detector, min_connections));
    }
    let origin = origin?;
    notes.extend(report_notes);
    let detectors: Vec<&FittedDetector> = detectors.iter().collect();
    outputs::write_models_and_report(pending.dir(), config, pipeline, &detectors, &model, &notes)?;
    if let Some(pairs) = &pipeline.spec.context.beacons {
        let threshold = beacon.map_or(webthreat_beacon::DEFAULT_THRESHOLD, |d| d.threshold());
        beacons::write_csv(pending.dir(), pairs, threshold)?;
    }
    drop(stage);
    seconds.features += loop_seconds.features;
    seconds.score += loop_seconds.score;
    seconds.report += loop_seconds.report + clock.elapsed().as_secs_f64();

    let mut record = RunRecord::new(
        pending.id(),
        config,
        &model,
        &notes,
        started,
        seconds,
        origin,
    )?;
    record.model_blake3 = outputs::model_hashes(pending.dir())?;
    record.intel_blake3 = (pipeline.spec.context.intel.as_ref()).map(|intel| intel.content_hash());
    outputs::write_run_record(pending.dir(), &record)?;
    let id = pending.id().to_string();
    let dir = pending.commit()?;
    // the run is committed whatever becomes of the index: a failure to rewrite it is a note
    if let Err(e) = index::write_index(store) {
        notes.push(format!("the runs index was not updated: {e}"));
    }
    Ok(RunOutcome {
        dir,
        id,
        rows: model.data.rows as usize,
        rejected: model.data.rejected_rows as usize,
        detectors: model.detectors.iter().map(DetectorLine::from).collect(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// A CloudWatch-format log of `rows` rows: regular traffic from a few sources, every 17th
    /// row a large labeled transfer; `bad_row` (0-based) gets an unparseable time.
    fn write_log(dir: &Path, rows: usize, bad_row: Option<usize>) -> PathBuf {
        let mut text = String::from(
            "bytes_in,bytes_out,creation_time,end_time,src_ip,dst_ip,src_ip_country_code,protocol,dst_port,label\n",
        );
        for i in 0..rows {
            let attack = i % 17 == 5;
            let (bytes_in, bytes_out) = match attack {
                true => (900_000 + i * 31, 40 + i % 7),
                false => (1000 + (i * 7919) % 3000, 2000 + (i * 104_729) % 5000),
            };
            let minute = i % 60;
            let start = match bad_row == Some(i) {
                true => "yesterday".to_string(),
                false => format!("2024-04-25T23:{minute:02}:00Z"),
            };
            let _ = writeln!(
                text,
                "{bytes_in},{bytes_out},{start},2024-04-26T00:{minute:02}:30Z,10.0.0.{},10.1.0.1,{},{},{},{}",
                i % 5,
                ["US", "DE", "NL"][i % 3],
                ["HTTPS", "HTTP"][i % 2],
                [443, 80, 8080][i % 3],
                u8::from(attack)
            );
        }
        let path = dir.join("log.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn skipping(mut config: ExperimentConfig) -> ExperimentConfig {
        config.data.on_bad_rows = webthreat_ingest::BadRowPolicy::Skip;
        config
    }

    fn config(log: &Path, extra: &str) -> ExperimentConfig {
        let yaml = format!(
            "name: t\ndata:\n  path: {}\n  label: label\n{extra}report:\n  top_flagged: 8\n  plots: false\ndetectors:\n  - kind: iforest\n    n_estimators: 30\n  - kind: zscore\n    contamination: 0.1\n",
            log.display()
        );
        ExperimentConfig::parse(&yaml, &[]).unwrap()
    }

    fn run_into(store: &Path, config: &ExperimentConfig) -> Result<RunOutcome, ExperimentError> {
        run(
            config,
            &RunOptions {
                store_root: store.to_path_buf(),
                data_overridden: false,
                record_git: false,
            },
        )
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    /// `alerts.jsonl` of a run with its run id and experiment blanked.
    fn alerts(out: &RunOutcome) -> String {
        let text = read(&out.dir, crate::alerts::ALERTS_FILE);
        let experiment = out.dir.parent().unwrap().file_name().unwrap();
        text.replace(
            &format!(
                "\"webthreat\":{{\"run\":\"{}\",\"experiment\":\"{}\",",
                out.id,
                experiment.to_string_lossy()
            ),
            "\"webthreat\":{",
        )
    }

    /// The report's section titled `title`.
    fn section(report: &str, title: &str) -> String {
        report
            .split("\n## ")
            .find(|s| s.starts_with(title))
            .unwrap_or_else(|| panic!("no section {title} in {report}"))
            .to_string()
    }

    #[test]
    fn streamed_runs_holding_every_row_match_the_in_memory_run() {
        let tmp = tempfile::tempdir().unwrap();
        let log = write_log(tmp.path(), 120, None);
        let whole = run_into(tmp.path(), &config(&log, "")).unwrap();
        for batch_rows in [1, 7, 119, 500] {
            let streamed = run_into(
                tmp.path(),
                &config(
                    &log,
                    &format!("streaming:\n  batch_rows: {batch_rows}\n  fit_rows: 120\n"),
                ),
            )
            .unwrap();
            assert_eq!(
                read(&whole.dir, "scores.csv"),
                read(&streamed.dir, "scores.csv")
            );
            assert_eq!(alerts(&whole), alerts(&streamed));
            assert_eq!(whole.rows, streamed.rows);
            for (a, b) in whole.detectors.iter().zip(&streamed.detectors) {
                assert_eq!(
                    (a.flagged, a.threshold, a.f1),
                    (b.flagged, b.threshold, b.f1)
                );
                let (x, y) = (a.roc_auc.unwrap(), b.roc_auc.unwrap());
                assert!((x - y).abs() < 2e-3, "{} {x} vs {y}", a.name);
            }
            let (a, b) = (
                read(&whole.dir, "report.md"),
                read(&streamed.dir, "report.md"),
            );
            for title in [
                "Data",
                "Flagged rows",
                "Source IPs",
                "Destination ports",
                "Detector agreement",
            ] {
                assert_eq!(section(&a, title), section(&b, title), "{title}");
            }
            assert!(b.contains("fitted on 120 of 120 rows"), "{b}");
        }
    }

    #[test]
    fn a_streamed_fit_on_a_sample_fits_on_that_many_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let log = write_log(tmp.path(), 120, None);
        let cfg = config(&log, "streaming:\n  batch_rows: 25\n  fit_rows: 40\n");
        let streamed = run_into(tmp.path(), &cfg).unwrap();
        assert_eq!(streamed.rows, 120);
        assert!(
            streamed
                .notes
                .iter()
                .any(|n| n.contains("fitted on 40 of 120 rows"))
        );
        // the sample depends on the seed and the rows, not on the batch size
        let other = run_into(
            tmp.path(),
            &config(&log, "streaming:\n  batch_rows: 9\n  fit_rows: 40\n"),
        )
        .unwrap();
        assert_eq!(
            read(&streamed.dir, "scores.csv"),
            read(&other.dir, "scores.csv")
        );
    }

    #[test]
    fn rescoring_in_batches_matches_rescoring_in_memory() {
        let tmp = tempfile::tempdir().unwrap();
        let log = write_log(tmp.path(), 90, None);
        let fitted = run_into(tmp.path(), &config(&log, "")).unwrap();
        let whole = score_with_run(&fitted.dir, &log, tmp.path(), None).unwrap();
        let streamed = score_with_run(
            &fitted.dir,
            &log,
            tmp.path(),
            Some(StreamingOptions {
                batch_rows: 11,
                fit_rows: 1000,
            }),
        )
        .unwrap();
        // the saved models score the rows they were fitted on as the fit did
        assert_eq!(
            read(&fitted.dir, "scores.csv"),
            read(&whole.dir, "scores.csv")
        );
        assert_eq!(
            read(&whole.dir, "scores.csv"),
            read(&streamed.dir, "scores.csv")
        );
        let (a, b) = (
            read(&whole.dir, "report.md"),
            read(&streamed.dir, "report.md"),
        );
        assert_eq!(section(&a, "Flagged rows"), section(&b, "Flagged rows"));
        // rescoring fills in the alerts' typical values at the end: as the fit knew them
        let fitted_alerts = alerts(&fitted);
        assert!(fitted_alerts.lines().count() >= 5, "{fitted_alerts}");
        assert!(fitted_alerts.contains("\"typical\":") && !fitted_alerts.contains("null"));
        assert_eq!(alerts(&whole), fitted_alerts);
        assert_eq!(alerts(&streamed), fitted_alerts);
        for out in [&whole, &streamed] {
            assert!(!out.dir.join("alerts.jsonl.pending").exists());
        }
    }

    #[test]
    fn rejected_rows_are_written_and_counted_in_every_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let log = write_log(tmp.path(), 60, Some(30));
        let whole = run_into(tmp.path(), &skipping(config(&log, ""))).unwrap();
        let streamed = run_into(
            tmp.path(),
            &skipping(config(
                &log,
                "streaming:\n  batch_rows: 8\n  fit_rows: 100\n",
            )),
        )
        .unwrap();
        for outcome in [&whole, &streamed] {
            assert_eq!((outcome.rows, outcome.rejected), (59, 1));
            let rejects = read(&outcome.dir, "rejects.csv");
            assert!(rejects.contains("yesterday"), "{rejects}");
        }
        assert_eq!(
            read(&whole.dir, "scores.csv"),
            read(&streamed.dir, "scores.csv")
        );
    }

    #[test]
    fn a_log_whose_every_row_is_rejected_fails_without_a_run() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("log.csv");
        std::fs::write(
            &log,
            "bytes_in,bytes_out,creation_time,end_time,src_ip,dst_ip,src_ip_country_code,protocol,dst_port,label\n1,2,bad,2024-04-26T00:00:00Z,10.0.0.1,10.1.0.1,US,HTTP,80,0\n",
        )
        .unwrap();
        let store = tmp.path().join("store");
        for extra in ["", "streaming:\n  batch_rows: 8\n  fit_rows: 100\n"] {
            let err = run_into(&store, &skipping(config(&log, extra))).unwrap_err();
            assert!(
                err.to_string().contains("rows were rejected")
                    || err.to_string().contains("every data row was rejected"),
                "{err}"
            );
        }
        let runs = RunStore::new(&store).runs(None).unwrap();
        assert!(runs.is_empty(), "{runs:?}");
        assert!(
            !store.join(index::INDEX_FILE).exists(),
            "no run was committed, so no index was written"
        );
    }

    #[test]
    fn every_committed_run_rewrites_the_index_with_its_texts_escaped() {
        let tmp = tempfile::tempdir().unwrap();
        let hostile = tmp.path().join("<img src=x onerror=alert(1)>&'\"#.csv");
        std::fs::rename(write_log(tmp.path(), 60, None), &hostile).unwrap();
        let store = tmp.path().join("store");
        let mut cfg = config(Path::new("log.csv"), "");
        cfg.data.path = hostile.clone();
        let fitted = run_into(&store, &cfg).unwrap();
        let page = store.join(index::INDEX_FILE);
        let first = std::fs::read_to_string(&page).unwrap();
        assert!(first.contains("<a href=\"t/0001/report.html\">"), "{first}");
        assert!(first.contains("1 run of 1 experiment"));
        // the scoring run of another experiment is added by its own commit
        let scored = score_with_run(&fitted.dir, &hostile, &store, None).unwrap();
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.contains("2 runs of 2 experiments"), "{html}");
        for link in ["t/0001/report.html", "t-score/0001/report.html"] {
            assert!(html.contains(&format!("<a href=\"{link}\">")), "{link}");
            assert!(store.join(link).is_file(), "{link}");
        }
        assert!(scored.dir.ends_with("t-score/0001"));
        // the log's name, in the data column and in the scoring run's note, only as text
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;&#39;&quot;#.csv"));
        assert_eq!(html.matches("<script").count(), 1);
        // rows per run and detector: the config's two detectors, twice
        assert_eq!(html.matches("<tr><td class=\"nowrap\">").count(), 4);
        assert!(html.contains("<td class=\"nowrap\">score<br>"));
        assert!(html.contains(">models of t/0001</span>"));
    }
}
