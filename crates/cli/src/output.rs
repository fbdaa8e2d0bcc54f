//! What the commands print: a text summary per run (the run directory last), or with `--json`
//! one JSON document on stdout holding the same facts. Progress and notes for people go to
//! stderr in JSON mode, never to stdout.

use crate::Finish;
use anyhow::Result;
use serde::Serialize;
use std::path::{Path, PathBuf};
use webthreat_experiment::compare::{Comparison, RunListing};
use webthreat_experiment::outputs::{self, MetricsFile, RunRecord};
use webthreat_experiment::{PlanOutcome, RunOutcome, RunRef, Summary};

/// Collects the runs of a command: prints each as text at once, or keeps it for the JSON
/// document printed by [`Printer::finish`].
pub(crate) struct Printer {
    json: bool,
    /// Text goes to stderr (stdout carries something else: a follow's alerts).
    on_stderr: bool,
    runs: Vec<RunJson>,
    summaries: Vec<SummaryJson>,
    last_dir: Option<PathBuf>,
    flagged: bool,
}

/// One run in `--json` output.
#[derive(Serialize)]
struct RunJson {
    experiment: String,
    id: String,
    dir: PathBuf,
    rows: usize,
    rejected_rows: usize,
    detectors: Vec<DetectorJson>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct DetectorJson {
    name: String,
    kind: String,
    flagged: usize,
    threshold: f64,
    roc_auc: Option<f64>,
    pr_auc: Option<f64>,
    f1: Option<f64>,
}

/// The `--json` document of the commands that make runs.
#[derive(Serialize)]
struct RunsJson<'a> {
    /// The last run or summary directory (what text mode prints last).
    dir: Option<&'a Path>,
    runs: &'a [RunJson],
    summaries: &'a [SummaryJson],
}

/// A sweep's or suite's summary in `--json` output.
#[derive(Serialize)]
struct SummaryJson {
    dir: PathBuf,
    summary: Summary,
}

impl Printer {
    pub(crate) fn new(json: bool) -> Self {
        Self {
            json,
            on_stderr: false,
            runs: Vec::new(),
            summaries: Vec::new(),
            last_dir: None,
            flagged: false,
        }
    }

    /// A text printer writing to stderr.
    pub(crate) fn on_stderr() -> Self {
        Self {
            on_stderr: true,
            ..Self::new(false)
        }
    }

    /// A finished run of `experiment`, titled `title` in text.
    pub(crate) fn run(&mut self, experiment: &str, title: &str, o: RunOutcome) {
        self.flagged |= o.detectors.iter().any(|d| d.flagged > 0);
        if self.json {
            for n in &o.notes {
                eprintln!("note: {}", webthreat_core::text::visible(n));
            }
        } else {
            let text = summary_text(title, &o);
            match self.on_stderr {
                true => eprint!("{text}"),
                false => print!("{text}"),
            }
        }
        self.last_dir = Some(o.dir.clone());
        self.runs.push(RunJson {
            experiment: experiment.to_string(),
            id: o.id,
            dir: o.dir,
            rows: o.rows,
            rejected_rows: o.rejected,
            detectors: (o.detectors.into_iter())
                .map(|d| DetectorJson {
                    name: d.name,
                    kind: d.kind,
                    flagged: d.flagged,
                    threshold: d.threshold,
                    roc_auc: d.roc_auc,
                    pr_auc: d.pr_auc,
                    f1: d.f1,
                })
                .collect(),
            notes: o.notes,
        });
    }

    /// A plan's summary (after its runs).
    pub(crate) fn summary(&mut self, plan: PlanOutcome) {
        if !self.json {
            print!("\n{}", plan.summary.markdown());
        }
        self.last_dir = Some(plan.dir.clone());
        self.summaries.push(SummaryJson {
            dir: plan.dir,
            summary: plan.summary,
        });
    }

    /// Prints the last directory (text) or the JSON document, and the finish.
    pub(crate) fn finish(self, exit_code: bool) -> Result<Finish> {
        if self.json {
            print_json(&RunsJson {
                dir: self.last_dir.as_deref(),
                runs: &self.runs,
                summaries: &self.summaries,
            })?;
        } else if let Some(dir) = &self.last_dir {
            match self.on_stderr {
                true => eprintln!("{}", dir.display()),
                false => println!("{}", dir.display()),
            }
        }
        Ok(if exit_code && self.flagged {
            Finish::Flagged
        } else {
            Finish::Done
        })
    }
}

/// The text summary of a run: its title, a line per detector, its notes.
fn summary_text(name: &str, o: &RunOutcome) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{name}: run {} on {} rows{}",
        o.id,
        o.rows,
        if o.rejected > 0 {
            format!(" ({} rejected rows in rejects.csv)", o.rejected)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        text,
        "{:<16} {:<12} {:>8} {:>10} {:>8} {:>8} {:>8}",
        "detector", "kind", "flagged", "threshold", "roc_auc", "pr_auc", "f1"
    );
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
    for d in &o.detectors {
        let _ = writeln!(
            text,
            "{:<16} {:<12} {:>8} {:>10.4} {:>8} {:>8} {:>8}",
            d.name,
            d.kind,
            d.flagged,
            d.threshold,
            opt(d.roc_auc),
            opt(d.pr_auc),
            opt(d.f1)
        );
    }
    for n in &o.notes {
        let _ = writeln!(text, "note: {}", webthreat_core::text::visible(n));
    }
    text
}

/// Prints a JSON document on stdout (pretty, one trailing newline).
pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// One run of `list --json`.
#[derive(Serialize)]
struct ListedRun<'a> {
    experiment: &'a str,
    id: &'a str,
    dir: &'a Path,
    record: &'a RunRecord,
    metrics: &'a MetricsFile,
}

/// `list --json`: every readable run with its record and metrics, and the unreadable ones.
pub(crate) fn list_json(listings: &[RunListing], unreadable: &[String]) -> serde_json::Value {
    let runs: Vec<ListedRun> = listings
        .iter()
        .map(|l| ListedRun {
            experiment: &l.run.experiment,
            id: &l.run.id,
            dir: &l.run.dir,
            record: &l.record,
            metrics: &l.metrics,
        })
        .collect();
    serde_json::json!({ "runs": runs, "unreadable": unreadable })
}

/// `show --json`: the run's record, metrics and report.
pub(crate) fn show_json(run: &RunRef, report: &str) -> Result<serde_json::Value> {
    let (record, metrics) = outputs::read_run(&run.dir)?;
    Ok(serde_json::json!({
        "experiment": run.experiment,
        "id": run.id,
        "dir": run.dir,
        "record": record,
        "metrics": metrics,
        "report_md": report,
    }))
}

/// `compare --json`: the comparison's tables and where it was written.
pub(crate) fn compare_json(c: &Comparison) -> serde_json::Value {
    serde_json::json!({
        "runs": c.runs.iter().map(|r| format!("{}/{}", r.experiment, r.id)).collect::<Vec<_>>(),
        "dir": c.out_dir,
        "parameters": c.parameters,
        "metrics": c.metrics,
        "notes": c.notes,
        "markdown": c.markdown,
    })
}
