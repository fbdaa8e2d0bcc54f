//! Files of a run directory: `config.yaml`, `metrics.json`, `scores.csv`, `models/`,
//! `rejects.csv`, `report.md`, `report.html`, `plots/`, and `run.json` (written last).

use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use crate::pipeline::Analysis;
use crate::provenance;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_report::{
    CurvePoint, ReportModel, csv_cell, render_html, render_markdown, render_plots,
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
    /// Git commit of the code, if known.
    pub git_commit: Option<String>,
    /// Whether the work tree had uncommitted changes (then `git.diff` holds them).
    pub git_dirty: bool,
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
    /// `git diff HEAD` when dirty, written to `git.diff` beside `run.json`.
    #[serde(skip)]
    pub diff: Option<String>,
}

impl RunRecord {
    pub(crate) fn new(
        id: &str,
        config: &ExperimentConfig,
        analysis: &Analysis<'_>,
        started: i64,
        stage_seconds: StageSeconds,
        source_run: Option<&Path>,
    ) -> Result<Self, ExperimentError> {
        let git = provenance::git_state();
        Ok(Self {
            id: id.to_string(),
            experiment: config.name.clone(),
            mode: if source_run.is_some() { "score" } else { "fit" }.into(),
            source_run: source_run.map(|p| p.display().to_string()),
            started_at: format_epoch_ms(started),
            finished_at: format_epoch_ms(provenance::now_ms()),
            stage_seconds,
            git_commit: git.commit,
            git_dirty: git.dirty,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            data_path: config.data.path.display().to_string(),
            data_rows: analysis.prepared.raw.n_rows() as u64,
            rejected_rows: analysis.table.rejected.len() as u64,
            data_blake3: provenance::file_hash(&config.data.path)?,
            config_hash: provenance::short_hash(&config.to_yaml()?),
            seed: config.seed,
            threads: rayon::current_num_threads(),
            notes: analysis.notes.clone(),
            diff: git.diff,
        })
    }
}

/// `metrics.json`: rows and, per detector, counts and (with labels) quality metrics.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricsFile {
    /// Rows analysed.
    pub rows: u64,
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
}

fn fixed(v: f64) -> f64 {
    let p = 10f64.powi(METRIC_DECIMALS);
    (v * p).round() / p
}

impl MetricsFile {
    fn from_model(model: &ReportModel) -> Self {
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
                    },
                )
            })
            .collect();
        Self {
            rows: model.data.rows,
            rejected_rows: model.data.rejected_rows,
            detectors,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExperimentError + '_ {
    move |source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
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

/// Writes everything but `run.json`.
pub(crate) fn write_analysis(
    dir: &Path,
    a: &Analysis<'_>,
    model: &ReportModel,
) -> Result<(), ExperimentError> {
    write_file(&dir.join("config.yaml"), a.config.to_yaml()?)?;
    write_file(
        &dir.join("metrics.json"),
        to_json(&MetricsFile::from_model(model))?,
    )?;
    write_scores(&dir.join("scores.csv"), a)?;
    write_file(
        &dir.join("models").join("features.json"),
        to_json(&a.prepared.pipeline)?,
    )?;
    for d in &a.detectors {
        let json = d
            .fitted
            .to_json()
            .map_err(|e| ExperimentError::Report(e.to_string()))?;
        write_file(
            &dir.join("models")
                .join(format!("{}.json", file_stem(d.fitted.name()))),
            json,
        )?;
    }
    if !a.table.rejected.is_empty() {
        write_rejects(&dir.join("rejects.csv"), a)?;
    }
    let plots = if a.config.report.plots {
        render_plots(model, dir).map_err(|e| ExperimentError::Report(e.to_string()))?
    } else {
        Vec::new()
    };
    let mut markdown = render_markdown(model);
    if !a.notes.is_empty() {
        markdown.push_str("\n## Notes\n\n");
        for n in &a.notes {
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

pub(crate) fn write_run_record(dir: &Path, record: &RunRecord) -> Result<(), ExperimentError> {
    if let Some(diff) = &record.diff {
        write_file(&dir.join("git.diff"), diff)?;
    }
    write_file(&dir.join("run.json"), to_json(record)?)
}

/// `scores.csv`: row id, entity columns, then per detector score, severity and flag.
fn write_scores(path: &Path, a: &Analysis<'_>) -> Result<(), ExperimentError> {
    let file = std::fs::File::create(path).map_err(io_err(path))?;
    let mut w = std::io::BufWriter::new(file);
    let raw = &a.prepared.raw;
    let entities = raw.entities();
    let mut line = String::from("row_id");
    if !entities.is_empty() {
        line.push_str(",src_ip,dst_port,window_start");
    }
    for d in &a.detectors {
        let name = csv_cell(d.fitted.name());
        let _ = write!(line, ",{name}_score,{name}_severity,{name}_flag");
    }
    if raw.labels().is_some() {
        line.push_str(",label");
    }
    writeln!(w, "{line}").map_err(io_err(path))?;
    for i in 0..raw.n_rows() {
        line.clear();
        let _ = write!(line, "{}", raw.row_ids()[i]);
        if let Some(e) = entities.get(i) {
            let _ = write!(
                line,
                ",{},{},{}",
                csv_cell(e.src_ip.as_deref().unwrap_or("")),
                e.dst_port.map(|p| p.to_string()).unwrap_or_default(),
                e.window_start.map(format_seconds).unwrap_or_default()
            );
        }
        for d in &a.detectors {
            let _ = write!(
                line,
                ",{:.6},{:.1},{}",
                d.scores[i],
                d.severity[i],
                u8::from(d.flags[i])
            );
        }
        if let Some(labels) = raw.labels() {
            let _ = write!(line, ",{}", u8::from(labels[i]));
        }
        writeln!(w, "{line}").map_err(io_err(path))?;
    }
    w.flush().map_err(io_err(path))
}

fn format_seconds(s: i64) -> String {
    format_epoch_ms(s * 1000)
}

/// `rejects.csv`: one line per problem of every rejected row.
fn write_rejects(path: &Path, a: &Analysis<'_>) -> Result<(), ExperimentError> {
    let mut text = String::from("row,line,column,value,expected\n");
    for p in a.table.rejected.iter().flat_map(|r| &r.problems) {
        let _ = writeln!(
            text,
            "{},{},{},{},{}",
            p.row,
            p.line(),
            csv_cell(&p.column),
            csv_cell(&p.value),
            csv_cell(&p.expected)
        );
    }
    write_file(path, text)
}

/// Reads a run's `metrics.json` and `run.json`.
pub fn read_run(dir: &Path) -> Result<(RunRecord, MetricsFile), ExperimentError> {
    Ok((
        read_json(&dir.join("run.json"))?,
        read_json(&dir.join("metrics.json"))?,
    ))
}
