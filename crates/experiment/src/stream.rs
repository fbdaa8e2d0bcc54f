//! Streaming runs: a CSV log larger than memory, processed in batches with bounded state.
//!
//! `run` makes two passes over the file. The first builds every batch's features and keeps a
//! uniform sample of `fit_rows` rows: the rows with the smallest seeded hash of their row id,
//! so the sample depends on the seed and the data, not on the batch size. The scaler, the
//! detectors and their thresholds are fitted on that sample (ordered by row id; when the
//! sample holds every row this is exactly the in-memory fit). The second pass scores every
//! batch, appends it to `scores.csv` and `rejects.csv`, and folds it into a [`Tally`], the
//! bounded summary the report is built from. `score` makes only the second pass, with a saved
//! run's feature pipeline and models.
//!
//! Memory is bounded by the batch size, the fit sample and the tally, whose maps grow with the
//! number of distinct source IPs, ports, protocols, countries and time windows, never with the
//! rows. What differs from an in-memory run of the same log:
//! * ROC AUC, average precision and the curves come from scores binned to 12 significant bits
//!   ([`BinnedScores`]); the report notes the largest possible ROC AUC error.
//! * The score histograms place each binned score at its bin's lower edge.
//! * Explanations compare a flagged row with the medians of a hash sample of `fit_rows` rows.
//! * The scatter plot shows the flagged and unflagged rows with the smallest hashes.
//!
//! Features must be row-local: window aggregates need the whole log and are rejected when the
//! config is validated.

use crate::config::{ExperimentConfig, StreamingOptions};
use crate::error::ExperimentError;
use crate::outputs::{self, RejectsWriter, RunRecord, ScoreColumns, ScoresWriter, StageSeconds};
use crate::pipeline::{
    FeaturePipeline, RunOptions, RunOutcome, commit_run, detector_error, drop_missing_label,
    feature_spec, source_spec,
};
use crate::progress::StageProgress;
use crate::provenance;
use crate::store::{PendingRun, RunStore};
use crate::summarize::{
    EntityTally, SCATTER_POINTS, SCORE_BINS, add_to_windows, column_medians, explain_row,
    report_error, time_buckets, top_categories,
};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::Path;
use std::time::Instant;
use webthreat_core::{Entities, FeatureMatrix};
use webthreat_detectors::FittedDetector;
use webthreat_features::{FeatureSpec, LogColumns, Scaler, build_matrix};
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_ingest::{ColumnSummary, LogBatches, LogTable, SourceSpec, read_log_batches};
use webthreat_report::{
    AgreementMatrix, BinnedScores, Confusion, DataSummary, DetectorMetrics, DetectorSummary,
    FlaggedRow, PlotData, ReportModel, ScatterPoint,
};

/// Bins per decade of the bytes histograms (as `webthreat_report::log_histogram`).
const LOG_BINS_PER_DECADE: f64 = webthreat_report::histogram::LOG_BINS_PER_DECADE as f64;

/// Runs an experiment in batches: sample, fit on the sample, then score every batch.
pub(crate) fn run_streaming(
    config: &ExperimentConfig,
    opts: &RunOptions,
    stream: StreamingOptions,
) -> Result<RunOutcome, ExperimentError> {
    let store = RunStore::new(&opts.store_root);
    let started = provenance::now_ms();
    let pending = store.begin(&config.name)?;
    let mut seconds = StageSeconds::default();
    let mut notes = Vec::new();
    let source = batch_source(config, opts.data_overridden, &mut notes)?;

    // pass 1: features of every batch, hash sample for fitting
    let mut spec: Option<FeatureSpec> = None;
    let mut sample: Option<RowSample> = None;
    let mut rows = 0usize;
    let batches = read_log_batches(&source, stream.batch_rows)?;
    let mut features_seconds = 0.0;
    seconds.ingest = each_batch(batches, |k, batch| {
        let _stage = StageProgress::start(format!("sampling rows to fit on: batch {k}"));
        if batch.df.height() == 0 {
            return Ok(());
        }
        let clock = Instant::now();
        let spec = match &spec {
            Some(s) => s,
            None => spec.insert(feature_spec(config, &batch)?),
        };
        let raw = build_matrix(&batch, spec)?;
        rows += raw.n_rows();
        sample
            .get_or_insert_with(|| RowSample::new(config.seed, stream.fit_rows, raw.names()))
            .offer(&raw);
        features_seconds += clock.elapsed().as_secs_f64();
        Ok(())
    })?;
    seconds.features = features_seconds;
    let (Some(spec), Some(sample)) = (spec, sample) else {
        return Err(all_rows_rejected(&source));
    };

    let clock = Instant::now();
    let sampled = sample.into_matrix()?;
    notes.push(format!(
        "streaming: fitted on {} of {rows} rows (a seeded hash sample), scored in batches of {} rows",
        sampled.n_rows(),
        stream.batch_rows
    ));
    let scaler = Scaler::fit(config.scaling, &sampled)?;
    let scaled = scaler.transform(&sampled)?;
    let mut fitted = Vec::with_capacity(config.detectors.len());
    for detector in &config.detectors {
        let _stage = StageProgress::start(format!(
            "fitting {} on {} sampled rows",
            detector.name(),
            scaled.n_rows()
        ));
        let model = webthreat_detectors::fit(detector, &scaled, config.seed)
            .map_err(|e| detector_error(detector.name(), e))?;
        fitted.push(model);
    }
    seconds.fit = clock.elapsed().as_secs_f64();
    let pipeline = FeaturePipeline { spec, scaler };
    score_pass(
        config, &source, stream, pipeline, fitted, pending, started, seconds, notes, None,
    )
}

/// Scores a log in batches with a finished run's feature pipeline and models.
#[allow(clippy::too_many_arguments)]
pub(crate) fn score_streaming(
    config: &ExperimentConfig,
    stream: StreamingOptions,
    pipeline: FeaturePipeline,
    models: Vec<FittedDetector>,
    pending: PendingRun,
    started: i64,
    mut notes: Vec<String>,
    source_run: &Path,
) -> Result<RunOutcome, ExperimentError> {
    let source = batch_source(config, true, &mut notes)?;
    notes.push(format!(
        "streaming: scored in batches of {} rows",
        stream.batch_rows
    ));
    score_pass(
        config,
        &source,
        stream,
        pipeline,
        models,
        pending,
        started,
        StageSeconds::default(),
        notes,
        Some(source_run),
    )
}

/// The data source for batches; with an overridden data path, a configured label column the
/// data lacks is dropped with a note (as in-memory runs do).
fn batch_source(
    config: &ExperimentConfig,
    label_optional: bool,
    notes: &mut Vec<String>,
) -> Result<SourceSpec, ExperimentError> {
    let mut source = source_spec(config)?;
    if let Some(Err(e)) = read_log_batches(&source, 1)?.next()
        && !(label_optional && drop_missing_label(&e, &mut source, notes))
    {
        return Err(e.into());
    }
    Ok(source)
}

/// Calls `work` on every batch in order (numbered from 1), reading the next batch on another
/// thread meanwhile; returns the seconds spent reading. The first error ends the pass: that of
/// `work` on a batch before that of reading the batch after it.
fn each_batch(
    mut batches: LogBatches,
    mut work: impl FnMut(usize, LogTable) -> Result<(), ExperimentError> + Send,
) -> Result<f64, ExperimentError> {
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

fn all_rows_rejected(source: &SourceSpec) -> ExperimentError {
    ExperimentError::Report(format!(
        "{}: every data row was rejected; nothing to analyse (see the rejects of `on_bad_rows: skip`)",
        source.path.display()
    ))
}

/// Pass 2: scores every batch, writes `scores.csv`/`rejects.csv`, then the report and
/// `run.json`, and commits the run.
#[allow(clippy::too_many_arguments)]
fn score_pass(
    config: &ExperimentConfig,
    source: &SourceSpec,
    stream: StreamingOptions,
    pipeline: FeaturePipeline,
    fitted: Vec<FittedDetector>,
    pending: PendingRun,
    started: i64,
    mut seconds: StageSeconds,
    mut notes: Vec<String>,
    source_run: Option<&Path>,
) -> Result<RunOutcome, ExperimentError> {
    let dir = pending.dir().to_path_buf();
    let names: Vec<&str> = fitted.iter().map(FittedDetector::name).collect();
    let mut tally = Tally::new(config, &fitted);
    let mut medians_sample: Option<RowSample> = None;
    let mut scores_out: Option<ScoresWriter> = None;
    let mut rejects_out = RejectsWriter::new(&dir);
    let batches = read_log_batches(source, stream.batch_rows)?;
    let (mut features_seconds, mut score_seconds, mut report_seconds) = (0.0, 0.0, 0.0);
    seconds.ingest += each_batch(batches, |k, batch| {
        let _stage = StageProgress::start(format!("scoring batch {k}"));
        rejects_out.write(&batch.rejected)?;
        tally.rejected += batch.rejected.len() as u64;
        if batch.df.height() == 0 {
            return Ok(());
        }
        let clock = Instant::now();
        let raw = build_matrix(&batch, &pipeline.spec)?;
        let scaled = pipeline.scaler.transform(&raw)?;
        let columns = LogColumns::extract(&batch)?;
        features_seconds += clock.elapsed().as_secs_f64();

        let clock = Instant::now();
        let results = fitted
            .iter()
            .map(|model| {
                let scores = model
                    .score(&scaled)
                    .map_err(|e| detector_error(model.name(), e))?;
                Ok(BatchScores::new(model, scores))
            })
            .collect::<Result<Vec<_>, ExperimentError>>()?;
        score_seconds += clock.elapsed().as_secs_f64();

        let clock = Instant::now();
        let views: Vec<ScoreColumns<'_>> = results.iter().map(BatchScores::columns).collect();
        let out = match &mut scores_out {
            Some(out) => out,
            None => scores_out.insert(ScoresWriter::create(&dir, &names, &raw)?),
        };
        out.write(&raw, &views)?;
        medians_sample
            .get_or_insert_with(|| RowSample::new(config.seed, stream.fit_rows, raw.names()))
            .offer(&raw);
        tally.add(&batch, &raw, &scaled, &columns, &fitted, &results)?;
        report_seconds += clock.elapsed().as_secs_f64();
        Ok(())
    })?;
    seconds.features += features_seconds;
    seconds.score += score_seconds;
    seconds.report += report_seconds;
    let (Some(scores_out), Some(sample)) = (scores_out, medians_sample) else {
        return Err(all_rows_rejected(source));
    };
    scores_out.finish()?;
    rejects_out.finish()?;

    let clock = Instant::now();
    let _stage = StageProgress::start("writing metrics, models and report");
    let medians = column_medians(&sample.into_matrix()?);
    let (model, auc_notes) = tally.into_model(config, &medians)?;
    notes.extend(auc_notes);
    let detectors: Vec<&FittedDetector> = fitted.iter().collect();
    outputs::write_models_and_report(&dir, config, &pipeline, &detectors, &model, &notes)?;
    seconds.report += clock.elapsed().as_secs_f64();

    let record = RunRecord::new(
        pending.id(),
        config,
        &model,
        &notes,
        started,
        seconds,
        provenance::origin(&config.data.path, None, source_run)?,
    )?;
    commit_run(pending, record, &model, notes)
}

/// One detector's results on one batch.
struct BatchScores {
    scores: Vec<f64>,
    severity: Vec<f64>,
    flags: Vec<bool>,
}

impl BatchScores {
    fn new(model: &FittedDetector, scores: Vec<f64>) -> Self {
        Self {
            flags: model.flags(&scores),
            severity: scores.iter().map(|s| model.severity(*s)).collect(),
            scores,
        }
    }

    fn columns(&self) -> ScoreColumns<'_> {
        ScoreColumns {
            scores: &self.scores,
            severity: &self.severity,
            flags: &self.flags,
        }
    }
}

/// SplitMix64 of the seed and a row id: a well-mixed 64-bit hash deciding sample membership.
fn row_hash(seed: u64, row: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(row)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `k` items with the smallest hashes seen so far (bottom-k sampling).
struct BottomK<T> {
    k: usize,
    /// Max-heap of (hash, slot): the root is the first to go.
    heap: BinaryHeap<(u64, usize)>,
    items: Vec<T>,
}

impl<T> BottomK<T> {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::new(),
            items: Vec::new(),
        }
    }

    /// Keeps `item` if its hash is among the `k` smallest; `make` builds it only then.
    fn offer(&mut self, hash: u64, make: impl FnOnce() -> T) {
        if self.k == 0 {
            return;
        }
        if self.items.len() < self.k {
            self.heap.push((hash, self.items.len()));
            self.items.push(make());
        } else if let Some(&(largest, slot)) = self.heap.peek()
            && hash < largest
        {
            self.heap.pop();
            self.items[slot] = make();
            self.heap.push((hash, slot));
        }
    }

    fn into_items(self) -> Vec<T> {
        self.items
    }
}

/// A uniform sample of feature rows (raw values, row id, label) by seeded row-id hash.
struct RowSample {
    seed: u64,
    names: Vec<String>,
    rows: BottomK<(u64, Vec<f64>, Option<bool>)>,
}

impl RowSample {
    fn new(seed: u64, k: usize, names: &[String]) -> Self {
        Self {
            seed,
            names: names.to_vec(),
            rows: BottomK::new(k),
        }
    }

    fn offer(&mut self, raw: &FeatureMatrix) {
        for i in 0..raw.n_rows() {
            let id = raw.row_ids()[i];
            self.rows.offer(row_hash(self.seed, id), || {
                (id, raw.row(i).to_vec(), raw.labels().map(|l| l[i]))
            });
        }
    }

    /// The sampled rows in row-id order (no entities).
    fn into_matrix(self) -> Result<FeatureMatrix, ExperimentError> {
        let mut rows = self.rows.into_items();
        rows.sort_by_key(|r| r.0);
        let labels: Option<Vec<bool>> = rows.iter().map(|r| r.2).collect();
        let ids = rows.iter().map(|r| r.0).collect();
        let values = rows.into_iter().flat_map(|r| r.1).collect();
        FeatureMatrix::new(self.names, values, ids, Entities::default(), labels)
            .map_err(|e| ExperimentError::Report(e.to_string()))
    }
}

/// A flagged (row, detector) pair competing for the report's table.
struct Candidate {
    severity: f64,
    score: f64,
    detector: usize,
    row: u64,
    entry: FlaggedRow,
}

/// Report order: severity, then score (both descending), then detector and row.
fn candidate_order(a: &Candidate, b: &Candidate) -> Ordering {
    b.severity
        .total_cmp(&a.severity)
        .then(b.score.total_cmp(&a.score))
        .then(a.detector.cmp(&b.detector))
        .then(a.row.cmp(&b.row))
}

/// One detector's running counts.
#[derive(Default)]
struct DetectorTally {
    flagged: u64,
    confusion: Confusion,
    binned: BinnedScores,
}

/// Everything the report needs, folded batch by batch in bounded memory.
struct Tally {
    /// (name, kind, threshold) per detector.
    detector_facts: Vec<(String, String, f64)>,
    window_ms: i64,
    top_flagged: usize,
    explain_features: usize,
    rows: u64,
    rejected: u64,
    labeled: bool,
    min_ms: Option<i64>,
    max_ms: Option<i64>,
    columns: Option<Vec<ColumnSummary>>,
    feature_names: Vec<String>,
    detectors: Vec<DetectorTally>,
    both_flagged: Vec<Vec<u64>>,
    entities: EntityTally,
    has_src_ip: bool,
    protocols: Option<BTreeMap<String, u64>>,
    countries: Option<BTreeMap<String, u64>>,
    bytes_in: Option<Vec<u64>>,
    bytes_out: Option<Vec<u64>>,
    windows: BTreeMap<i64, (u64, u64)>,
    scatter_flagged: BottomK<(u64, ScatterPoint)>,
    scatter_normal: BottomK<(u64, ScatterPoint)>,
    seed: u64,
    top: Vec<Candidate>,
}

impl Tally {
    fn new(config: &ExperimentConfig, detectors: &[FittedDetector]) -> Self {
        Self {
            detector_facts: detectors
                .iter()
                .map(|d| (d.name().to_string(), d.kind().to_string(), d.threshold()))
                .collect(),
            window_ms: config.window_seconds as i64 * 1000,
            top_flagged: config.report.top_flagged,
            explain_features: config.report.explain_features,
            rows: 0,
            rejected: 0,
            labeled: true,
            min_ms: None,
            max_ms: None,
            columns: None,
            feature_names: Vec::new(),
            detectors: detectors.iter().map(|_| DetectorTally::default()).collect(),
            both_flagged: vec![vec![0; detectors.len()]; detectors.len()],
            entities: EntityTally::default(),
            has_src_ip: false,
            protocols: None,
            countries: None,
            bytes_in: None,
            bytes_out: None,
            windows: BTreeMap::new(),
            scatter_flagged: BottomK::new(SCATTER_POINTS),
            scatter_normal: BottomK::new(SCATTER_POINTS),
            seed: config.seed,
            top: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        batch: &LogTable,
        raw: &FeatureMatrix,
        scaled: &FeatureMatrix,
        cols: &LogColumns,
        fitted: &[FittedDetector],
        results: &[BatchScores],
    ) -> Result<(), ExperimentError> {
        let n = raw.n_rows();
        self.rows += n as u64;
        self.feature_names = raw.names().to_vec();
        let summaries = batch.column_summaries()?;
        match &mut self.columns {
            None => self.columns = Some(summaries),
            Some(all) => {
                for (mine, theirs) in all.iter_mut().zip(&summaries) {
                    mine.distinct.merge(&theirs.distinct);
                }
            }
        }
        let labels = raw.labels();
        self.labeled &= labels.is_some();
        for (t, r) in self.detectors.iter_mut().zip(results) {
            for i in 0..n {
                let label = labels.is_some_and(|l| l[i]);
                t.binned.add(r.scores[i], label).map_err(report_error)?;
                let flag = r.flags[i];
                t.flagged += u64::from(flag);
                match (flag, label) {
                    (true, true) => t.confusion.tp += 1,
                    (true, false) => t.confusion.fp += 1,
                    (false, false) => t.confusion.tn += 1,
                    (false, true) => t.confusion.fn_ += 1,
                }
            }
        }
        for (a, ra) in results.iter().enumerate() {
            for (b, rb) in results.iter().enumerate() {
                self.both_flagged[a][b] += ra
                    .flags
                    .iter()
                    .zip(&rb.flags)
                    .filter(|(x, y)| **x && **y)
                    .count() as u64;
            }
        }
        let any_flag: Vec<bool> = (0..n).map(|i| results.iter().any(|r| r.flags[i])).collect();
        let max_severity: Vec<u8> = (0..n)
            .map(|i| {
                results
                    .iter()
                    .map(|r| r.severity[i].round().clamp(0.0, 100.0) as u8)
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        self.has_src_ip |= cols.has_src_ip;
        self.entities
            .add(raw.entities(), cols, &any_flag, &max_severity);
        self.add_context(cols, raw.row_ids(), &any_flag);
        self.add_candidates(raw, scaled, cols, fitted, results)
    }

    fn add_context(&mut self, cols: &LogColumns, row_ids: &[u64], any_flag: &[bool]) {
        if let Some(start) = &cols.start_ms {
            for &ms in start {
                self.min_ms = Some(self.min_ms.map_or(ms, |m| m.min(ms)));
                self.max_ms = Some(self.max_ms.map_or(ms, |m| m.max(ms)));
            }
            add_to_windows(&mut self.windows, cols, self.window_ms);
        }
        let count = |target: &mut Option<BTreeMap<String, u64>>,
                     counts: &Option<BTreeMap<String, u64>>| {
            if let Some(counts) = counts {
                let map = target.get_or_insert_with(BTreeMap::new);
                for (value, n) in counts {
                    *map.entry(value.clone()).or_default() += n;
                }
            }
        };
        count(&mut self.protocols, &cols.protocol);
        count(&mut self.countries, &cols.country);
        let log_bins = |target: &mut Option<Vec<u64>>, values: &Option<Vec<f64>>| {
            if let Some(values) = values {
                let counts = target.get_or_insert_with(Vec::new);
                for v in values.iter().filter(|v| v.is_finite() && **v >= 0.0) {
                    let index = ((1.0 + v).log10() * LOG_BINS_PER_DECADE) as usize;
                    if counts.len() <= index {
                        counts.resize(index + 1, 0);
                    }
                    counts[index] += 1;
                }
            }
        };
        log_bins(&mut self.bytes_in, &cols.bytes_in);
        log_bins(&mut self.bytes_out, &cols.bytes_out);
        if let (Some(bin), Some(bout)) = (&cols.bytes_in, &cols.bytes_out) {
            for (i, &row) in row_ids.iter().enumerate() {
                let point = ScatterPoint {
                    bytes_in: bin[i],
                    bytes_out: bout[i],
                    flagged: any_flag[i],
                };
                let sample = if point.flagged {
                    &mut self.scatter_flagged
                } else {
                    &mut self.scatter_normal
                };
                sample.offer(row_hash(self.seed, row), || (row, point));
            }
        }
    }

    /// Keeps the report's most severe flagged (row, detector) pairs; explanations are computed
    /// only for pairs that make the cut (raw medians are filled in at the end).
    fn add_candidates(
        &mut self,
        raw: &FeatureMatrix,
        scaled: &FeatureMatrix,
        cols: &LogColumns,
        fitted: &[FittedDetector],
        results: &[BatchScores],
    ) -> Result<(), ExperimentError> {
        let mut batch: Vec<(Candidate, usize)> = Vec::new();
        for (k, r) in results.iter().enumerate() {
            for i in (0..raw.n_rows()).filter(|&i| r.flags[i]) {
                let candidate = Candidate {
                    severity: r.severity[i],
                    score: r.scores[i],
                    detector: k,
                    row: raw.row_ids()[i],
                    entry: FlaggedRow::default(),
                };
                batch.push((candidate, i));
            }
        }
        batch.sort_by(|a, b| candidate_order(&a.0, &b.0));
        batch.truncate(self.top_flagged);
        let entities = raw.entities();
        for (mut c, i) in batch {
            let fits = self.top.len() < self.top_flagged
                || self
                    .top
                    .last()
                    .is_some_and(|last| candidate_order(&c, last) == Ordering::Less);
            if !fits {
                break;
            }
            let model = &fitted[c.detector];
            c.entry = FlaggedRow {
                row: c.row,
                src_ip: entities.src_ip(i).map(str::to_string),
                dst_port: entities.dst_port(i).map(u32::from),
                timestamp: cols.start_ms.as_ref().map(|ms| format_epoch_ms(ms[i])),
                detector: model.name().to_string(),
                score: c.score,
                severity: c.severity.round().clamp(0.0, 100.0) as u8,
                top_features: explain_row(model, scaled, raw, i, self.explain_features, &[])?,
            };
            let at = self
                .top
                .partition_point(|t| candidate_order(t, &c) == Ordering::Less);
            self.top.insert(at, c);
            self.top.truncate(self.top_flagged);
        }
        Ok(())
    }

    /// The report model, and notes on the binned metrics.
    fn into_model(
        self,
        config: &ExperimentConfig,
        raw_medians: &[f64],
    ) -> Result<(ReportModel, Vec<String>), ExperimentError> {
        let mut notes = Vec::new();
        let labeled = self.labeled
            && self.detectors.first().is_some_and(|t| {
                let c = t.confusion;
                c.tp + c.fn_ > 0 && c.fp + c.tn > 0
            });
        let detectors = self
            .detector_facts
            .iter()
            .zip(&self.detectors)
            .map(|((name, kind, threshold), t)| {
                let mut summary = DetectorSummary {
                    name: name.clone(),
                    kind: kind.clone(),
                    threshold: *threshold,
                    flagged: t.flagged,
                    score_histogram: Some(t.binned.histogram(SCORE_BINS)),
                    ..DetectorSummary::default()
                };
                if labeled {
                    let (roc_auc, bound) = t.binned.roc_auc().map_err(report_error)?;
                    notes.push(format!(
                        "streaming: {} ROC AUC and average precision come from scores binned to 12 significant bits ({} bins); the ROC AUC is within {bound:.2e} of the exact value",
                        summary.name,
                        t.binned.bins_used()
                    ));
                    summary.metrics = Some(DetectorMetrics {
                        roc_auc,
                        pr_auc: t.binned.average_precision().map_err(report_error)?,
                        precision: t.confusion.precision(),
                        recall: t.confusion.recall(),
                        f1: t.confusion.f1(),
                        confusion: t.confusion,
                    });
                    summary.roc_curve = t.binned.roc_curve().map_err(report_error)?;
                    summary.pr_curve = t.binned.pr_curve().map_err(report_error)?;
                }
                Ok(summary)
            })
            .collect::<Result<Vec<_>, ExperimentError>>()?;
        let agreement = (self.detectors.len() > 1).then(|| AgreementMatrix {
            detectors: detectors.iter().map(|d| d.name.clone()).collect(),
            jaccard: (0..self.detectors.len())
                .map(|a| {
                    (0..self.detectors.len())
                        .map(|b| {
                            let both = self.both_flagged[a][b];
                            let either =
                                self.detectors[a].flagged + self.detectors[b].flagged - both;
                            if either == 0 {
                                1.0
                            } else {
                                both as f64 / either as f64
                            }
                        })
                        .collect()
                })
                .collect(),
        });
        let log_histogram = |counts: &Option<Vec<u64>>| {
            counts.as_ref().map(|c| {
                let counts = if c.is_empty() { vec![0] } else { c.clone() };
                webthreat_report::Histogram {
                    edges: (0..=counts.len())
                        .map(|i| i as f64 / LOG_BINS_PER_DECADE)
                        .collect(),
                    counts,
                }
            })
        };
        let scatter = {
            let mut flagged = self.scatter_flagged.into_items();
            flagged.sort_by_key(|p| p.0);
            let room = SCATTER_POINTS - flagged.len();
            let mut normal = self.scatter_normal.into_items();
            normal.sort_by_key(|p| p.0);
            if normal.len() > room {
                // keep the `room` smallest hashes
                normal.sort_by_key(|p| row_hash(self.seed, p.0));
                normal.truncate(room);
                normal.sort_by_key(|p| p.0);
            }
            normal
                .into_iter()
                .chain(flagged)
                .map(|(_, point)| point)
                .collect::<Vec<ScatterPoint>>()
        };
        let traffic = match (self.min_ms, self.max_ms) {
            (Some(min), Some(max)) => time_buckets(self.windows, min, max, self.window_ms),
            _ => Vec::new(),
        };
        let distinct_ips = self.entities.distinct_ips() as u64;
        let (ip_summary, port_summary, flagged_by_src_ip, flagged_by_dst_port) =
            self.entities.finish();
        let plots = PlotData {
            bytes_in: log_histogram(&self.bytes_in),
            bytes_out: log_histogram(&self.bytes_out),
            by_protocol: top_categories(&self.protocols),
            by_country: top_categories(&self.countries),
            scatter,
            flagged_by_src_ip,
            flagged_by_dst_port,
            traffic,
        };
        let flagged_rows = self
            .top
            .into_iter()
            .map(|c| {
                let mut entry = c.entry;
                for e in &mut entry.top_features {
                    if let Some(j) = self.feature_names.iter().position(|f| *f == e.feature) {
                        e.typical = raw_medians[j];
                    }
                }
                entry
            })
            .collect();
        let data = DataSummary {
            source_path: config.data.path.display().to_string(),
            rows: self.rows,
            rejected_rows: self.rejected,
            first_timestamp: self.min_ms.map(format_epoch_ms),
            last_timestamp: self.max_ms.map(format_epoch_ms),
            distinct_src_ips: self.has_src_ip.then_some(distinct_ips),
            constant_columns: self
                .columns
                .unwrap_or_default()
                .into_iter()
                .filter(|c| matches!(c.distinct, webthreat_ingest::Distinct::One(_)))
                .map(|c| c.name)
                .collect(),
            feature_names: self.feature_names,
        };
        let model = ReportModel {
            title: format!("webthreat report: {}", config.name),
            experiment: config.name.clone(),
            run_id: String::new(),
            data,
            detectors,
            agreement,
            flagged_rows,
            ip_summary,
            port_summary,
            plots,
        };
        Ok((model, notes))
    }
}
