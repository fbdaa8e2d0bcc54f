//! Files of a run directory: `config.yaml`, `metrics.json`, `scores.csv`, `models/`,
//! `rejects.csv`, `report.md`, `report.html`, `plots/`, and `run.json` (written last).

use crate::accumulate::AddressHits;
use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use crate::provenance::{self, Origin};
use crate::types::{DetectorScores, FeaturePipeline};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use webthreat_core::FeatureMatrix;
use webthreat_core::decimal::{push_fixed, push_u64};
use webthreat_detectors::FittedDetector;
use webthreat_features::Addresses;
use webthreat_ingest::RejectedRow;
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_intel::{Geo, GeoInfo, parse_ip};
use webthreat_report::{
    CurvePoint, DetectorMetrics, DetectorSummary, ReportModel, csv_cell, render_html,
    render_markdown, render_plots,
};

/// Decimals kept for every float in `metrics.json` (fixed precision, stable across platforms).
const METRIC_DECIMALS: i32 = 6;

/// Seconds spent per stage.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct StageSeconds {
    /// Reading and validating the log.
    pub ingest: f64,
    /// Building and scaling features.
    pub features: f64,
    /// Fitting detectors (including scoring the training rows).
    pub fit: f64,
    /// Flags and severities.
    pub score: f64,
    /// Metrics, report, plots and files.
    pub report: f64,
}

/// `run.json`: the volatile facts of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// Experiment name.
    pub experiment: String,
    /// `fit` for `xtask run`, `score` for `xtask score`.
    pub mode: String,
    /// For `score` runs: the run whose models were used.
    pub source_run: Option<String>,
    /// Start time, ISO-8601 UTC.
    pub started_at: String,
    /// End time, ISO-8601 UTC.
    pub finished_at: String,
    /// Seconds per stage.
    pub stage_seconds: StageSeconds,
    /// The commit webthreat was built from (`-dirty` when built from uncommitted changes).
    #[serde(default)]
    pub tool_commit: String,
    /// Only with `--record-git`: the HEAD commit of the repository the run was started in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Only with `--record-git`: whether that work tree had uncommitted changes (then
    /// `git.diff` holds them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_dirty: Option<bool>,
    /// webthreat version.
    pub tool_version: String,
    /// Data file as configured.
    pub data_path: String,
    /// Rows analysed.
    pub data_rows: u64,
    /// Rows rejected by `on_bad_rows: skip`.
    pub rejected_rows: u64,
    /// blake3 of the data file.
    pub data_blake3: String,
    /// blake3 (12 hex digits) of the resolved config.
    pub config_hash: String,
    /// The experiment seed.
    pub seed: u64,
    /// Worker threads available to the detectors.
    pub threads: usize,
    /// Notes shown to the user.
    pub notes: Vec<String>,
    /// blake3 (hex) of every file in `models/`, by file name: `score` refuses models edited
    /// after the run.
    #[serde(default)]
    pub model_blake3: BTreeMap<String, String>,
    /// blake3 (hex) of the threat-intel list files the run matched against, in config order
    /// (a hash of their hashes), when it had any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel_blake3: Option<String>,
    /// `git diff HEAD` when dirty, written to `git.diff` beside `run.json`.
    #[serde(skip)]
    pub diff: Option<String>,
}

impl RunRecord {
    /// The record of a run whose report model is `model`.
    pub(crate) fn new(
        id: &str,
        config: &ExperimentConfig,
        model: &ReportModel,
        notes: &[String],
        started: i64,
        stage_seconds: StageSeconds,
        origin: Origin,
    ) -> Result<Self, ExperimentError> {
        let Origin {
            data_blake3,
            git,
            source_run,
        } = origin;
        Ok(Self {
            id: id.to_string(),
            experiment: config.name.clone(),
            mode: if source_run.is_some() { "score" } else { "fit" }.into(),
            source_run,
            started_at: format_epoch_ms(started),
            finished_at: format_epoch_ms(provenance::now_ms()),
            stage_seconds,
            tool_commit: env!("WEBTHREAT_BUILD_COMMIT").to_string(),
            git_dirty: git.commit.as_ref().map(|_| git.dirty),
            git_commit: git.commit,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            data_path: config.data.path.display().to_string(),
            data_rows: model.data.rows,
            rejected_rows: model.data.rejected_rows,
            data_blake3,
            config_hash: provenance::short_hash(&config.to_yaml()?),
            seed: config.seed,
            threads: rayon::current_num_threads(),
            notes: notes.to_vec(),
            model_blake3: BTreeMap::new(),
            intel_blake3: None,
            diff: git.diff,
        })
    }
}

/// `metrics.json`: rows and, per detector, counts and (with labels) quality metrics.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricsFile {
    /// Rows analysed (scored).
    pub rows: u64,
    /// Rows the detectors were fitted on, when a `fit:` section chose them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fit_rows: Option<u64>,
    /// Rows rejected by `on_bad_rows: skip`.
    pub rejected_rows: u64,
    /// Per detector name.
    pub detectors: BTreeMap<String, DetectorMetricsFile>,
}

/// One detector's entry of `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DetectorMetricsFile {
    /// Detector kind.
    pub kind: String,
    /// Rows flagged.
    pub flagged: u64,
    /// Score threshold (flag when score > threshold).
    pub threshold: f64,
    /// ROC AUC (labels only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roc_auc: Option<f64>,
    /// Average precision (labels only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pr_auc: Option<f64>,
    /// Precision of the flags (labels only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub precision: Option<f64>,
    /// Recall of the flags (labels only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recall: Option<f64>,
    /// F1 of the flags (labels only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub f1: Option<f64>,
    /// With `repeat:`, the seeds the metrics above are the mean over.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub repeats: Option<usize>,
    /// With `repeat:`, every seed's metrics (the run's seed first), for tests across runs.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub per_seed: Vec<SeedMetricsFile>,
    /// With `repeat:`, `<metric>_sd`, `<metric>_min` and `<metric>_max` of every metric.
    #[serde(flatten, default)]
    pub spread: BTreeMap<String, f64>,
}

/// One seed's metrics of a repeated detector in `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeedMetricsFile {
    /// The seed the detector was fitted with.
    pub seed: u64,
    /// Every [`DetectorMetrics::REPEATED`] metric by name.
    #[serde(flatten)]
    pub metrics: BTreeMap<String, f64>,
}

impl DetectorMetricsFile {
    /// A quality metric by its `metrics.json` name (the mean over seeds with repeats).
    pub fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "roc_auc" => self.roc_auc,
            "pr_auc" => self.pr_auc,
            "precision" => self.precision,
            "recall" => self.recall,
            "f1" => self.f1,
            _ => None,
        }
    }

    /// A quality metric seed by seed: every seed's value with repeats, else the run's one
    /// value under `seed`; `None` without labels.
    pub fn seeded(&self, name: &str, seed: u64) -> Option<webthreat_report::noise::Seeded> {
        let values = if self.per_seed.is_empty() {
            vec![(seed, self.metric(name)?)]
        } else {
            (self.per_seed.iter())
                .map(|s| Some((s.seed, *s.metrics.get(name)?)))
                .collect::<Option<_>>()?
        };
        Some(webthreat_report::noise::Seeded { values })
    }
}

/// `<metric>_sd`, `_min` and `_max` of a repeated detector's metrics (none without repeats).
fn spread_keys(d: &DetectorSummary) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (name, metric) in DetectorMetrics::REPEATED {
        if let Some(s) = d.spread(metric) {
            out.insert(format!("{name}_sd"), fixed(s.sd));
            out.insert(format!("{name}_min"), fixed(s.min));
            out.insert(format!("{name}_max"), fixed(s.max));
        }
    }
    out
}

fn fixed(v: f64) -> f64 {
    let p = 10f64.powi(METRIC_DECIMALS);
    (v * p).round() / p
}

impl MetricsFile {
    fn from_model(model: &ReportModel, seed: u64) -> Self {
        let detectors = model
            .detectors
            .iter()
            .map(|d| {
                let m = d.metrics;
                (
                    d.name.clone(),
                    DetectorMetricsFile {
                        kind: d.kind.clone(),
                        flagged: d.flagged,
                        threshold: fixed(d.threshold),
                        roc_auc: m.map(|m| fixed(m.roc_auc)),
                        pr_auc: m.map(|m| fixed(m.pr_auc)),
                        precision: m.map(|m| fixed(m.precision)),
                        recall: m.map(|m| fixed(m.recall)),
                        f1: m.map(|m| fixed(m.f1)),
                        repeats: (!d.repeats.is_empty()).then_some(d.repeats.len()),
                        per_seed: (seed..)
                            .zip(&d.repeats)
                            .map(|(seed, m)| SeedMetricsFile {
                                seed,
                                metrics: (DetectorMetrics::REPEATED.iter())
                                    .map(|(name, of)| (name.to_string(), fixed(of(m))))
                                    .collect(),
                            })
                            .collect(),
                        spread: spread_keys(d),
                    },
                )
            })
            .collect();
        Self {
            rows: model.data.rows,
            fit_rows: model.data.fitted_on.as_ref().map(|f| f.rows),
            rejected_rows: model.data.rejected_rows,
            detectors,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExperimentError + '_ {
    move |source| ExperimentError::Io {
        path: path.to_path_buf(),
        error: source,
    }
}

pub(crate) fn write_file(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), ExperimentError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    std::fs::write(path, bytes).map_err(io_err(path))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ExperimentError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| ExperimentError::Report(e.to_string()))
}

/// Reads a JSON file of a run.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    serde_json::from_str(&text).map_err(|e| ExperimentError::BadRun {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// A detector name as a file stem (`models/<stem>.json`).
pub(crate) fn file_stem(name: &str) -> String {
    webthreat_report::plots::file_name_part(name)
}

/// Writes `config.yaml`, `metrics.json`, `models/`, the report, its plots and `curves.json`.
pub(crate) fn write_models_and_report(
    dir: &Path,
    config: &ExperimentConfig,
    pipeline: &FeaturePipeline,
    detectors: &[&FittedDetector],
    model: &ReportModel,
    notes: &[String],
) -> Result<(), ExperimentError> {
    write_file(&dir.join("config.yaml"), config.to_yaml()?)?;
    write_file(
        &dir.join("metrics.json"),
        to_json(&MetricsFile::from_model(model, config.seed))?,
    )?;
    write_file(
        &dir.join("models").join("features.json"),
        to_json(pipeline)?,
    )?;
    for d in detectors {
        let json = d
            .to_json()
            .map_err(|e| ExperimentError::Report(e.to_string()))?;
        write_file(
            &dir.join("models")
                .join(format!("{}.json", file_stem(d.name()))),
            json,
        )?;
    }
    let plots = if config.report.plots {
        render_plots(model, dir).map_err(|e| ExperimentError::Report(e.to_string()))?
    } else {
        Vec::new()
    };
    let mut markdown = render_markdown(model, &plots);
    if !notes.is_empty() {
        markdown.push_str("\n## Notes\n\n");
        for n in notes {
            let _ = writeln!(markdown, "- {}", webthreat_report::markdown_escape(n));
        }
    }
    write_file(&dir.join("report.md"), markdown)?;
    write_file(&dir.join("report.html"), render_html(model, &plots))?;
    let curves: BTreeMap<&str, Curves> = model
        .detectors
        .iter()
        .filter(|d| !d.roc_curve.is_empty())
        .map(|d| {
            (
                d.name.as_str(),
                Curves {
                    roc: d.roc_curve.clone(),
                    pr: d.pr_curve.clone(),
                },
            )
        })
        .collect();
    if !curves.is_empty() {
        write_file(&dir.join(CURVES_FILE), to_json(&curves)?)?;
    }
    Ok(())
}

/// File with each detector's ROC and PR curve points (runs on labeled data only).
pub(crate) const CURVES_FILE: &str = "curves.json";

/// One detector's curves in `curves.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Curves {
    pub roc: Vec<CurvePoint>,
    pub pr: Vec<CurvePoint>,
}

/// blake3 (hex) of every file in `<dir>/models/`, by file name.
pub(crate) fn model_hashes(dir: &Path) -> Result<BTreeMap<String, String>, ExperimentError> {
    let models = dir.join("models");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&models).map_err(io_err(&models))? {
        let path = entry.map_err(io_err(&models))?.path();
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.insert(name, blake3::hash(&bytes).to_hex().to_string());
    }
    Ok(out)
}

pub(crate) fn write_run_record(dir: &Path, record: &RunRecord) -> Result<(), ExperimentError> {
    if let Some(diff) = &record.diff {
        write_file(&dir.join("git.diff"), diff)?;
    }
    write_file(&dir.join("run.json"), to_json(record)?)
}

/// `scores.csv`, written batch by batch: row id, entity columns, then per detector score,
/// severity and flag, then the label.
pub(crate) struct ScoresWriter {
    path: PathBuf,
    out: BufWriter<File>,
    /// Text buffers of written blocks, filled again instead of allocated anew for every block.
    spare: Vec<Vec<u8>>,
}

/// Rows one task formats into text; a group of such blocks (a few per thread, bounding the text
/// held at once) is formatted in parallel and written in row order.
const FORMAT_BLOCK_ROWS: usize = 1 << 13;

/// Columns of `scores.csv` that describe a row's addresses (intel matches, country, ASN):
/// per column its name, the CSV cell of each distinct address of the batch, and each row's
/// address index (an index past the cells, as a missing address, gives an empty cell).
#[derive(Default)]
pub(crate) struct AddressCells<'a> {
    pub columns: Vec<(&'static str, Vec<String>, &'a [u32])>,
}

impl ScoresWriter {
    /// Creates the file and writes the header; `first` (the first batch's features) says
    /// whether there are entity columns and labels.
    pub(crate) fn create(
        dir: &Path,
        detectors: &[&str],
        first: &FeatureMatrix,
        extra: &AddressCells<'_>,
    ) -> Result<Self, ExperimentError> {
        let path = dir.join("scores.csv");
        let file = File::create(&path).map_err(io_err(&path))?;
        let line = scores_header(detectors, first, extra);
        // a formatted block of rows (hundreds of KB) is larger than the buffer, so it goes to
        // the file as it is instead of being copied into the buffer first
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(line.as_bytes()).map_err(io_err(&path))?;
        Ok(Self {
            path,
            out,
            spare: Vec::new(),
        })
    }

    /// Appends the rows of one batch.
    pub(crate) fn write(
        &mut self,
        raw: &FeatureMatrix,
        detectors: &[DetectorScores],
        extra: &AddressCells<'_>,
    ) -> Result<(), ExperimentError> {
        let rows = raw.n_rows();
        // each address's cell is escaped once
        let ip_cells: Vec<Cow<'_, str>> =
            raw.entities().ips().iter().map(|ip| csv_cell(ip)).collect();
        let group = FORMAT_BLOCK_ROWS * 4 * rayon::current_num_threads();
        let format_group = |first: usize, mut buffers: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
            let last = (first + group).min(rows);
            let blocks: Vec<usize> = (first..last).step_by(FORMAT_BLOCK_ROWS).collect();
            buffers.resize_with(blocks.len(), Vec::new);
            blocks
                .into_par_iter()
                .zip(buffers)
                .map(|(from, mut text)| {
                    let block = from..(from + FORMAT_BLOCK_ROWS).min(last);
                    text.clear();
                    format_rows(&mut text, raw, &ip_cells, detectors, extra, block);
                    text
                })
                .collect()
        };
        // each group is written while the next one is formatted (into the buffers of the
        // group written before)
        let mut formatted: Vec<Vec<u8>> = Vec::new();
        for first in (0..rows).step_by(group) {
            let spare = std::mem::take(&mut self.spare);
            let (written, next) = rayon::join(
                || self.write_blocks(&formatted),
                || format_group(first, spare),
            );
            written?;
            self.spare = std::mem::replace(&mut formatted, next);
        }
        self.write_blocks(&formatted)?;
        self.spare.append(&mut formatted);
        Ok(())
    }

    /// Writes formatted blocks of lines in order.
    fn write_blocks(&mut self, blocks: &[Vec<u8>]) -> Result<(), ExperimentError> {
        for text in blocks {
            self.out.write_all(text).map_err(io_err(&self.path))?;
        }
        Ok(())
    }

    /// Writes what is buffered to the file (lines others may be reading as they come).
    pub(crate) fn flush(&mut self) -> Result<(), ExperimentError> {
        self.out.flush().map_err(io_err(&self.path))
    }

    /// Flushes the file.
    pub(crate) fn finish(mut self) -> Result<(), ExperimentError> {
        self.flush()
    }
}

/// The header line of `scores.csv` (`first`: the first batch's features, which say whether
/// there are entity columns and labels).
pub(crate) fn scores_header(
    detectors: &[&str],
    first: &FeatureMatrix,
    extra: &AddressCells<'_>,
) -> String {
    let mut line = String::from("row_id");
    if !first.entities().is_empty() {
        line.push_str(",src_ip,dst_port,window_start");
    }
    for d in detectors {
        let name = csv_cell(d);
        let _ = write!(line, ",{name}_score,{name}_severity,{name}_flag");
    }
    for (name, _, _) in &extra.columns {
        let _ = write!(line, ",{name}");
    }
    if first.labels().is_some() {
        line.push_str(",label");
    }
    line.push('\n');
    line
}

/// Appends the `scores.csv` lines of every row of `raw` to `text` (in one block).
pub(crate) fn format_scores(
    text: &mut Vec<u8>,
    raw: &FeatureMatrix,
    detectors: &[DetectorScores],
    extra: &AddressCells<'_>,
) {
    let ip_cells: Vec<Cow<'_, str>> = raw.entities().ips().iter().map(|ip| csv_cell(ip)).collect();
    format_rows(text, raw, &ip_cells, detectors, extra, 0..raw.n_rows());
}

/// The `scores.csv` columns of a batch's addresses (the intel match of source and destination
/// with intel lists, their country and ASN with GeoIP databases): per column its name, the
/// escaped cell of each distinct address, and whether it describes the destination.
pub(crate) fn address_columns(
    geo: Option<&Geo>,
    addresses: &Addresses,
    hits: Option<&AddressHits>,
) -> Vec<(&'static str, Vec<String>, bool)> {
    let mut columns = Vec::new();
    let each = |cell: &dyn Fn(u32) -> String| -> Vec<String> {
        (0..addresses.names.len() as u32)
            .map(|k| csv_cell(&cell(k)).into_owned())
            .collect()
    };
    if let Some(hits) = hits {
        let intel = each(&|k| hits.cell(k));
        columns.push(("src_intel", intel.clone(), false));
        columns.push(("dst_intel", intel, true));
    }
    if let Some(geo) = geo {
        let info: Vec<GeoInfo> = (addresses.names.iter())
            .map(|ip| parse_ip(ip).map(|ip| geo.lookup(ip)).unwrap_or_default())
            .collect();
        let country = each(&|k| info[k as usize].country.clone().unwrap_or_default());
        let asn = each(&|k| {
            let i = &info[k as usize];
            match (i.asn, &i.as_org) {
                (Some(n), Some(org)) => format!("AS{n} {org}"),
                (Some(n), None) => format!("AS{n}"),
                _ => String::new(),
            }
        });
        columns.push(("src_country", country.clone(), false));
        columns.push(("src_asn", asn.clone(), false));
        columns.push(("dst_country", country, true));
        columns.push(("dst_asn", asn, true));
    }
    columns
}

impl<'a> AddressCells<'a> {
    /// The cells of `columns` (from [`address_columns`]) for the rows of `addresses`.
    pub(crate) fn of(
        columns: Vec<(&'static str, Vec<String>, bool)>,
        addresses: &'a Addresses,
    ) -> Self {
        Self {
            columns: columns
                .into_iter()
                .map(|(name, cells, dst)| {
                    let rows = if dst { &addresses.dst } else { &addresses.src };
                    (name, cells, &rows[..])
                })
                .collect(),
        }
    }
}

/// Appends the `scores.csv` lines of `rows` to `text`; `ip_cells` are the escaped source IPs
/// of `raw`.
fn format_rows(
    text: &mut Vec<u8>,
    raw: &FeatureMatrix,
    ip_cells: &[Cow<'_, str>],
    detectors: &[DetectorScores],
    extra: &AddressCells<'_>,
    rows: std::ops::Range<usize>,
) {
    let entities = raw.entities();
    text.reserve(rows.len() * 72);
    // consecutive rows mostly share a window: each window start is formatted once
    let mut window: Option<(i64, String)> = None;
    for i in rows {
        push_u64(text, raw.row_ids()[i]);
        if !entities.is_empty() {
            text.push(b',');
            if let Some(ip) = entities.src_ip_index(i) {
                text.extend_from_slice(ip_cells[ip].as_bytes());
            }
            text.push(b',');
            if let Some(port) = entities.dst_port(i) {
                push_u64(text, port.into());
            }
            text.push(b',');
            if let Some(s) = entities.window_start(i) {
                if window.as_ref().is_none_or(|(w, _)| *w != s) {
                    window = Some((s, format_epoch_ms(s * 1000)));
                }
                if let Some((_, formatted)) = &window {
                    text.extend_from_slice(formatted.as_bytes());
                }
            }
        }
        for d in detectors {
            text.push(b',');
            push_fixed::<6>(text, d.scores[i]);
            text.push(b',');
            push_fixed::<1>(text, d.severity[i]);
            text.extend_from_slice(if d.flags[i] { b",1" } else { b",0" });
        }
        for (_, cells, rows) in &extra.columns {
            text.push(b',');
            if let Some(cell) = cells.get(rows[i] as usize) {
                text.extend_from_slice(cell.as_bytes());
            }
        }
        if let Some(labels) = raw.labels() {
            text.extend_from_slice(if labels[i] { b",1" } else { b",0" });
        }
        text.push(b'\n');
    }
}

/// `rejects.csv`, written batch by batch and only when a row was rejected: one line per
/// problem of every rejected row.
pub(crate) struct RejectsWriter {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl RejectsWriter {
    /// Nothing is created until the first rejected row.
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            path: dir.join("rejects.csv"),
            out: None,
        }
    }

    /// Appends rejected rows.
    pub(crate) fn write(&mut self, rejected: &[RejectedRow]) -> Result<(), ExperimentError> {
        if rejected.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let out = match &mut self.out {
            Some(out) => out,
            None => {
                let file = File::create(path).map_err(io_err(path))?;
                let mut out = BufWriter::new(file);
                out.write_all(b"row,file,line,column,value,expected\n")
                    .map_err(io_err(path))?;
                self.out.insert(out)
            }
        };
        for p in rejected.iter().flat_map(|r| &r.problems) {
            writeln!(
                out,
                "{},{},{},{},{},{}",
                p.row,
                csv_cell(&p.file.display().to_string()),
                p.line,
                csv_cell(&p.column),
                csv_cell(&p.value),
                csv_cell(&p.expected)
            )
            .map_err(io_err(path))?;
        }
        Ok(())
    }

    /// Flushes the file, if any.
    pub(crate) fn finish(self) -> Result<(), ExperimentError> {
        match self.out {
            Some(mut out) => out.flush().map_err(io_err(&self.path)),
            None => Ok(()),
        }
    }
}

/// Reads a run's `metrics.json` and `run.json`.
pub fn read_run(dir: &Path) -> Result<(RunRecord, MetricsFile), ExperimentError> {
    Ok((
        read_json(&dir.join("run.json"))?,
        read_json(&dir.join("metrics.json"))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use webthreat_core::Entities;
    use webthreat_features::Addresses;

    #[test]
    fn scores_are_written_in_row_order_across_format_blocks() {
        // more than two groups of blocks (a group is 4 blocks per thread), so that groups are
        // written while the next is formatted
        let rows = 9 * FORMAT_BLOCK_ROWS * rayon::current_num_threads() + 5;
        let values: Vec<f64> = (0..rows).map(|i| i as f64).collect();
        // a second address that needs escaping, no address in every third row
        let entities = Entities::new(
            vec!["10.0.0.1".into(), "=x,y".into()],
            (0..rows)
                .map(|i| match i % 3 {
                    0 => Entities::NO_IP,
                    r => r as u32 - 1,
                })
                .collect(),
            (0..rows)
                .map(|i| Entities::port_code(i, (i % 7 != 1).then_some(i as i64 % 65_536)))
                .collect::<Result<_, _>>()
                .unwrap(),
            (0..rows)
                .map(|i| Entities::window_code(i, Some(600 * (i as i64 / 1000))))
                .collect::<Result<_, _>>()
                .unwrap(),
        )
        .unwrap();
        let labels = Some((0..rows).map(|i| i % 2 == 0).collect());
        let raw = FeatureMatrix::new(
            vec!["x".into()],
            values.clone(),
            (0..rows as u64).map(|r| r + 7).collect(),
            entities,
            labels,
        )
        .unwrap();
        let flags: Vec<bool> = (0..rows).map(|i| i % 5 == 0).collect();
        let severity: Vec<f64> = values.iter().map(|v| v / rows as f64 * 100.0).collect();
        let columns = [DetectorScores {
            scores: values.clone(),
            severity,
            flags,
            sorted: None,
        }];
        let dir = tempfile::tempdir().unwrap();
        let none = AddressCells::default();
        let mut writer = ScoresWriter::create(dir.path(), &["iforest"], &raw, &none).unwrap();
        writer.write(&raw, &columns, &none).unwrap();
        writer.finish().unwrap();
        let text = std::fs::read_to_string(dir.path().join("scores.csv")).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "row_id,src_ip,dst_port,window_start,iforest_score,iforest_severity,iforest_flag,label"
            )
        );
        let body: Vec<&str> = lines.collect();
        assert_eq!(body.len(), rows);
        // one block holding every row formats the same lines
        let cells: Vec<_> = raw.entities().ips().iter().map(|ip| csv_cell(ip)).collect();
        let mut text = Vec::new();
        format_rows(&mut text, &raw, &cells, &columns, &none, 0..rows);
        assert_eq!((body.join("\n") + "\n").as_bytes(), text);
        assert_eq!(body[0], "7,,0,1970-01-01T00:00:00Z,0.000000,0.0,1,1");
        for (row, start) in [
            (1, "8,10.0.0.1,,1970-01-01T00:00:00Z,"),
            (2, "9,\"'=x,y\",2,1970-01-01T00:00:00Z,"),
            (1000, "1007,10.0.0.1,1000,1970-01-01T00:10:00Z,"),
        ] {
            assert!(body[row].starts_with(start), "{}", body[row]);
        }
    }

    #[test]
    fn address_columns_follow_the_detectors_and_a_missing_address_is_empty() {
        let raw = FeatureMatrix::from_rows(vec!["x".into()], &[vec![1.0], vec![2.0]]).unwrap();
        let scores = [DetectorScores {
            scores: vec![0.5, 0.25],
            severity: vec![10.0, 0.0],
            flags: vec![true, false],
            sorted: None,
        }];
        let rows = [0, Addresses::NONE];
        let cells = AddressCells {
            columns: vec![(
                "src_intel",
                vec![csv_cell("=feodo: 1.2.3.4").into_owned()],
                &rows,
            )],
        };
        let dir = tempfile::tempdir().unwrap();
        let mut writer = ScoresWriter::create(dir.path(), &["d"], &raw, &cells).unwrap();
        writer.write(&raw, &scores, &cells).unwrap();
        writer.finish().unwrap();
        let text = std::fs::read_to_string(dir.path().join("scores.csv")).unwrap();
        assert_eq!(
            text,
            "row_id,d_score,d_severity,d_flag,src_intel\n\
             0,0.500000,10.0,1,'=feodo: 1.2.3.4\n\
             1,0.250000,0.0,0,\n"
        );
    }
}
