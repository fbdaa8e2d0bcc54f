//! Listing and comparing runs: parameters that differ, every metric with its delta against the
//! first run, and overlaid ROC / PR curves when the runs have labels.

use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use crate::outputs::{self, CURVES_FILE, Curves, MetricsFile, RunRecord};
use crate::store::{RunRef, RunStore};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use webthreat_report::noise::{SIGNIFICANCE, Seeded, Verdict, difference};
use webthreat_report::{
    DetectorMetrics, DetectorSummary, ReportModel, markdown_escape, render_plots,
};

/// One line of `xtask list`.
#[derive(Debug, Clone)]
pub struct RunListing {
    /// The run.
    pub run: RunRef,
    /// Its record.
    pub record: RunRecord,
    /// Its metrics.
    pub metrics: MetricsFile,
}

/// Every completed run (of one experiment, or all), oldest first within an experiment.
pub fn list(
    store: &RunStore,
    experiment: Option<&str>,
) -> Result<(Vec<RunListing>, Vec<String>), ExperimentError> {
    let mut listings = Vec::new();
    let mut unreadable = Vec::new();
    for run in store.runs(experiment)? {
        // one damaged run does not hide the others: it is named instead
        match outputs::read_run(&run.dir) {
            Ok((record, metrics)) => listings.push(RunListing {
                run,
                record,
                metrics,
            }),
            Err(e) => unreadable.push(format!("{}/{}: not listed: {e}", run.experiment, run.id)),
        }
    }
    Ok((listings, unreadable))
}

/// The directory of the run store `compare` writes into (no experiment may take its name).
pub const COMPARISONS_DIR: &str = "comparisons";

/// `xtask list` as a Markdown table (of the runs [`list`] could read).
pub fn list_markdown(listings: &[RunListing]) -> String {
    let mut out = String::from(
        "| run | started | mode | config | data | rows | detector | flagged | roc_auc | pr_auc | f1 |\n|---|---|---|---|---|---:|---|---:|---:|---:|---:|\n",
    );
    for l in listings {
        let r = &l.record;
        for (name, m) in &l.metrics.detectors {
            let _ = writeln!(
                out,
                "| {}/{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                l.run.experiment,
                l.run.id,
                r.started_at,
                r.mode,
                r.config_hash,
                &r.data_blake3[..12.min(r.data_blake3.len())],
                l.metrics.rows,
                markdown_escape(name),
                m.flagged,
                opt(m.roc_auc),
                opt(m.pr_auc),
                opt(m.f1)
            );
        }
    }
    out
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into())
}

/// A comparison of runs: its tables, and them rendered as Markdown.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The runs, in argument order.
    pub runs: Vec<RunRef>,
    /// The config keys whose values differ, with each run's value.
    pub parameters: Vec<ParameterRow>,
    /// Rows analysed, then per detector its counts and quality metrics, per run.
    pub metrics: Vec<MetricRow>,
    /// What the noise verdicts mean, and which runs one seed leaves undecided.
    pub notes: Vec<String>,
    /// The Markdown text.
    pub markdown: String,
    /// Where the Markdown and plots were written.
    pub out_dir: PathBuf,
}

/// A config key whose value differs between the runs.
#[derive(Debug, Clone, Serialize)]
pub struct ParameterRow {
    /// Dotted key.
    pub key: String,
    /// Each run's value (`None` where the run's config lacks the key).
    pub values: Vec<Option<String>>,
}

/// One metric across the runs.
#[derive(Debug, Clone, Serialize)]
pub struct MetricRow {
    /// `rows`, or `<detector>.<metric>`.
    pub key: String,
    /// Each run's value (`None` where the run lacks it).
    pub cells: Vec<Option<MetricCell>>,
}

/// One run's value of a metric.
#[derive(Debug, Clone, Serialize)]
pub struct MetricCell {
    /// The value (the seeds' mean with repeats).
    pub value: f64,
    /// The seeds' standard deviation, with repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// The value minus the first run's (not for the first run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// For quality metrics: how the delta compares with seed noise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<Verdict>,
}

/// Compares runs named by arguments (run directories, `experiment/id` or experiment names).
pub fn compare(
    store: &RunStore,
    args: &[String],
    out_dir: &Path,
) -> Result<Comparison, ExperimentError> {
    let mut runs: Vec<RunRef> = Vec::new();
    for arg in args {
        for run in store.resolve(arg)? {
            if !runs.contains(&run) {
                runs.push(run);
            }
        }
    }
    // a comparison's plots would overwrite a run's own
    if out_dir.join("run.json").exists() || out_dir.join("config.yaml").exists() {
        return Err(ExperimentError::Report(format!(
            "{} is a run directory: a comparison written there would overwrite the run's plots; choose another directory",
            out_dir.display()
        )));
    }
    if runs.len() < 2 {
        return Err(ExperimentError::Report(format!(
            "compare needs at least two runs; {} matched {:?}",
            runs.len(),
            args
        )));
    }
    let labels: Vec<String> = runs
        .iter()
        .map(|r| format!("{}/{}", r.experiment, r.id))
        .collect();
    let mut params: Vec<BTreeMap<String, String>> = Vec::new();
    let mut metrics: Vec<(RunRecord, MetricsFile)> = Vec::new();
    for run in &runs {
        let config = ExperimentConfig::load(&run.dir.join("config.yaml"), &[], None)?;
        let value = serde_yaml::to_value(&config).map_err(|e| ExperimentError::BadRun {
            path: run.dir.join("config.yaml"),
            message: e.to_string(),
        })?;
        let mut flat = BTreeMap::new();
        flatten_yaml("", &value, &mut flat);
        params.push(flat);
        metrics.push(outputs::read_run(&run.dir)?);
    }
    let keys: std::collections::BTreeSet<&String> = params.iter().flat_map(|p| p.keys()).collect();
    let parameters: Vec<ParameterRow> = keys
        .into_iter()
        .filter(|k| params.iter().any(|p| p.get(*k) != params[0].get(*k)))
        .map(|k| ParameterRow {
            key: k.clone(),
            values: params.iter().map(|p| p.get(k).cloned()).collect(),
        })
        .collect();
    let metric_rows = metric_rows(&metrics);
    let notes = noise_notes(&metrics, &labels);

    let mut md = String::from("# Run comparison\n\n");
    let header = |md: &mut String, first: &str| {
        let _ = write!(md, "| {first} |");
        for l in &labels {
            let _ = write!(md, " {l} |");
        }
        md.push('\n');
        md.push_str("|---|");
        md.push_str(&"---|".repeat(labels.len()));
        md.push('\n');
    };
    md.push_str("## Parameters that differ\n\n");
    if parameters.is_empty() {
        md.push_str("None: the resolved configs are identical.\n\n");
    } else {
        header(&mut md, "parameter");
        for row in &parameters {
            let _ = write!(md, "| {} |", markdown_escape(&row.key));
            for v in &row.values {
                let _ = write!(md, " {} |", markdown_escape(v.as_deref().unwrap_or("-")));
            }
            md.push('\n');
        }
        md.push('\n');
    }
    md.push_str("## Metrics (delta against the first run)\n\n");
    header(&mut md, "metric");
    for row in &metric_rows {
        let _ = write!(md, "| {} |", markdown_escape(&row.key));
        for cell in &row.cells {
            let _ = write!(md, " {} |", cell.as_ref().map_or("-".into(), metric_text));
        }
        md.push('\n');
    }
    for note in &notes {
        let _ = write!(md, "\n{note}\n");
    }

    std::fs::create_dir_all(out_dir).map_err(|source| ExperimentError::Io {
        path: out_dir.to_path_buf(),
        error: source,
    })?;
    let curves_model = overlay_model(&runs, &labels)?;
    if !curves_model.detectors.is_empty() {
        let plots = render_plots(&curves_model, out_dir)
            .map_err(|e| ExperimentError::Report(e.to_string()))?;
        md.push_str("\n## Curves\n\n");
        for p in plots {
            let _ = writeln!(md, "![{}]({})", p.spec.title, p.spec.png_relative_path());
        }
    }
    outputs::write_file(&out_dir.join("comparison.md"), &md)?;
    Ok(Comparison {
        runs,
        parameters,
        metrics: metric_rows,
        notes,
        markdown: md,
        out_dir: out_dir.to_path_buf(),
    })
}

fn signed(delta: f64) -> String {
    let text = number(delta);
    if delta >= 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

/// A report model holding only every run's detectors' curves, for overlaid plots.
fn overlay_model(runs: &[RunRef], labels: &[String]) -> Result<ReportModel, ExperimentError> {
    let mut model = ReportModel::default();
    for (run, label) in runs.iter().zip(labels) {
        let path = run.dir.join(CURVES_FILE);
        if !path.is_file() {
            continue;
        }
        let curves: BTreeMap<String, Curves> = outputs::read_json(&path)?;
        for (name, c) in curves {
            model.detectors.push(DetectorSummary {
                name: format!("{label}:{name}"),
                roc_curve: c.roc,
                pr_curve: c.pr,
                ..DetectorSummary::default()
            });
        }
    }
    Ok(model)
}

fn flatten_yaml(prefix: &str, v: &serde_yaml::Value, out: &mut BTreeMap<String, String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                let key = match k {
                    serde_yaml::Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                flatten_yaml(&join(&key), v, out);
            }
        }
        serde_yaml::Value::Sequence(seq) if seq.iter().any(|x| x.is_mapping()) => {
            for (i, v) in seq.iter().enumerate() {
                flatten_yaml(&join(&i.to_string()), v, out);
            }
        }
        serde_yaml::Value::Tagged(t) => flatten_yaml(prefix, &t.value, out),
        other => {
            let text = serde_json::to_string(other).unwrap_or_default();
            out.insert(prefix.to_string(), text);
        }
    }
}

/// The metrics table's rows: rows analysed, then per detector its counts and quality metrics;
/// quality metrics with their seed spread, and each delta with how it compares with seed noise.
fn metric_rows<'a>(runs: &'a [(RunRecord, MetricsFile)]) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    let plain = |key: String, values: Vec<Option<f64>>| MetricRow {
        key,
        cells: (values.iter().enumerate())
            .map(|(i, v)| {
                v.map(|value| MetricCell {
                    value,
                    sd: None,
                    delta: values[0].filter(|_| i > 0).map(|base| value - base),
                    noise: None,
                })
            })
            .collect(),
    };
    rows.push(plain(
        "rows".into(),
        runs.iter().map(|(_, m)| Some(m.rows as f64)).collect(),
    ));
    let names: std::collections::BTreeSet<&String> =
        runs.iter().flat_map(|(_, m)| m.detectors.keys()).collect();
    for name in names {
        let detector = |m: &'a MetricsFile| m.detectors.get(name);
        rows.push(plain(
            format!("{name}.flagged"),
            (runs.iter())
                .map(|(_, m)| detector(m).map(|d| d.flagged as f64))
                .collect(),
        ));
        rows.push(plain(
            format!("{name}.threshold"),
            (runs.iter())
                .map(|(_, m)| detector(m).map(|d| d.threshold))
                .collect(),
        ));
        for (metric, _) in DetectorMetrics::REPEATED {
            let seeded: Vec<Option<(f64, Option<f64>, Seeded)>> = runs
                .iter()
                .map(|(r, m)| {
                    let d = detector(m)?;
                    let sd = d.spread.get(&format!("{metric}_sd")).copied();
                    Some((d.metric(metric)?, sd, d.seeded(metric, r.seed)?))
                })
                .collect();
            if seeded.iter().all(Option::is_none) {
                continue;
            }
            let cells = (seeded.iter().enumerate())
                .map(|(i, cell)| {
                    let (value, sd, seeds) = cell.as_ref()?;
                    let against = seeded[0].as_ref().filter(|_| i > 0);
                    Some(MetricCell {
                        value: *value,
                        sd: *sd,
                        delta: against.map(|(base, ..)| value - base),
                        noise: against.map(|(_, _, base)| difference(base, seeds).1),
                    })
                })
                .collect();
            rows.push(MetricRow {
                key: format!("{name}.{metric}"),
                cells,
            });
        }
    }
    rows
}

/// `0.9209 ± 0.0137 (+0.0100, p = 0.031 over 5 paired seeds)`: a cell as Markdown shows it.
fn metric_text(cell: &MetricCell) -> String {
    let mut text = number(cell.value);
    if let Some(sd) = cell.sd {
        let _ = write!(text, " ± {sd:.4}");
    }
    match (cell.delta, cell.noise) {
        (Some(delta), Some(noise)) => {
            let _ = write!(text, " ({}, {})", signed(delta), noise.describe());
        }
        (Some(delta), None) => {
            let _ = write!(text, " ({})", signed(delta));
        }
        _ => {}
    }
    text
}

/// What the deltas' noise verdicts mean, and which runs a single seed leaves undecided.
fn noise_notes(runs: &[(RunRecord, MetricsFile)], labels: &[String]) -> Vec<String> {
    let single: Vec<&str> = runs
        .iter()
        .zip(labels)
        .filter(|((_, m), _)| {
            m.detectors
                .values()
                .any(|d| d.roc_auc.is_some() && d.per_seed.is_empty())
        })
        .map(|(_, l)| l.as_str())
        .collect();
    let mut notes = vec![format!(
        "Quality metrics are means ± sd over a run's seeds (`repeat:`). A delta is tested against seed noise: a paired t-test over the seeds both runs were fitted with (within noise when p ≥ {SIGNIFICANCE}), else whether the mean ± sd ranges overlap."
    )];
    if !single.is_empty() {
        notes.push(format!(
            "**{} fitted each detector with one seed**: a single seed cannot tell a difference from seed noise (ROC AUC moves by 0.02-0.03 between seeds on public benchmark tables). Run with `repeat: 5` or more to know.",
            single.join(", ")
        ));
    }
    notes
}
