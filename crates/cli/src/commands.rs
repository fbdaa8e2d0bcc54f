//! The analyst's subcommands: their arguments (clap) and what each does.

use crate::output::{self, Printer};
use crate::{Finish, scan};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use webthreat_experiment::{
    ExperimentConfig, FollowOptions, RunOptions, RunStore, StreamingOptions, compare,
    follow_with_run, run, run_plan, score_with_run,
};

/// The subcommands shared by `webthreat` and `xtask`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run experiments: ingest, features, detectors, evaluation, report; one run directory each
    /// (a config with `sweep:` or `suite:` makes one run per combination and data set, and a
    /// ranked summary under `<out>/<experiment>/summaries/`).
    #[command(
        after_help = "Examples:\n  webthreat run configs/iforest.yaml\n  webthreat run configs/iforest.yaml --data logs/export.csv --set detectors.0.n_estimators=200\n  webthreat run configs/sweep-iforest.yaml --json"
    )]
    Run {
        /// Experiment config files (YAML).
        #[arg(required = true)]
        configs: Vec<PathBuf>,
        /// Analyse this log instead of the config's `data.path`.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Override a config key, e.g. `--set seed=7` or `--set detectors.0.n_estimators=200`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Stream the log in batches of this many rows (bounded memory; same as
        /// `--set streaming.batch_rows=N`; fits on a `streaming.fit_rows` sample).
        #[arg(long, value_name = "ROWS")]
        batch_rows: Option<usize>,
        /// Also record the HEAD commit, dirty flag and `git diff` of the repository the run
        /// starts in (run.json always names the commit webthreat was built from).
        #[arg(long)]
        record_git: bool,
        /// `--out`, `--json`, `--exit-code`.
        #[command(flatten)]
        common: RunFlags,
    },
    /// Analyse logs without a config: the format is detected, the format's default features
    /// and Isolation Forest + z-score (5% each) are used; every config key is available as
    /// `--set`.
    #[command(
        after_help = "Examples:\n  webthreat scan conn.log.gz\n  webthreat scan flows/ --set detectors.0.contamination=0.01 --json\n  webthreat scan export.csv --format cloudwatch --exit-code"
    )]
    Scan {
        /// Logs to scan (a file, a directory or a glob each); one run per log.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// The log format (default: detected from the first lines).
        #[arg(long, value_parser = parse_format)]
        format: Option<webthreat_ingest::Format>,
        /// Override a config key of the scan's config, e.g. `--set seed=7`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Stream the log in batches of this many rows (bounded memory).
        #[arg(long, value_name = "ROWS")]
        batch_rows: Option<usize>,
        /// `--out`, `--json`, `--exit-code`.
        #[command(flatten)]
        common: RunFlags,
    },
    /// List runs with time, config and data hash, and key metrics.
    #[command(
        after_help = "Examples:\n  webthreat list\n  webthreat list iforest --json\n  webthreat list --html"
    )]
    List {
        /// Only this experiment.
        experiment: Option<String>,
        /// Write the runs index page `<out>/index.html` (every run of every experiment; also
        /// rewritten after each run) and print its path instead of the table.
        #[arg(long, conflicts_with_all = ["experiment", "json"])]
        html: bool,
        /// Run store root.
        #[arg(long, default_value = "experiments")]
        out: PathBuf,
        /// Print one JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print a run's report (Markdown).
    #[command(
        after_help = "Examples:\n  webthreat show iforest\n  webthreat show iforest/0003 --json"
    )]
    Show {
        /// A run directory or `<experiment>/<id>`; an experiment name shows its latest run.
        run: String,
        /// Run store root.
        #[arg(long, default_value = "experiments")]
        out: PathBuf,
        /// Print one JSON document on stdout (the run's record, metrics and report).
        #[arg(long)]
        json: bool,
    },
    /// Compare runs: differing parameters, every metric with deltas (quality metrics tested
    /// against seed noise), overlaid ROC/PR curves.
    #[command(
        after_help = "Examples:\n  webthreat compare iforest/0001 iforest/0002\n  webthreat compare sweep-iforest --json"
    )]
    Compare {
        /// Run directories, `<experiment>/<id>`, or experiment names (all their runs).
        #[arg(required = true)]
        runs: Vec<String>,
        /// Run store root.
        #[arg(long, default_value = "experiments")]
        out: PathBuf,
        /// Where to write comparison.md and plots (default: <out>/comparisons/<first>-vs-<last>).
        #[arg(long)]
        to: Option<PathBuf>,
        /// Print one JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Score new data with a run's saved models and thresholds (no refit); with `--follow`,
    /// a log as it grows.
    #[command(
        after_help = "With --follow, the log is read from its start and then followed as `tail -F` does (across renames and truncation), until SIGINT or SIGTERM (or the end of standard input for `-`). Each batch's alerts are appended to the new run's alerts.jsonl (in <out>/<experiment>-follow/.tmp-<id>/ until it stops) and printed on stdout as JSON lines; rows are scored as soon as they are read, or, with window features, once their time window is complete. On stopping, every row read is scored and the run is committed; the summary goes to stderr.\n\nExamples:\n  webthreat score --run iforest new-export.csv\n  webthreat score --run iforest/0003 big.csv.gz --batch-rows 100000 --json\n  webthreat score --run zeek --follow /var/log/zeek/current/conn.log | jq .source.ip\n  zcat old.log.gz | webthreat score --run zeek --follow -"
    )]
    Score {
        /// The run whose models to use.
        #[arg(long)]
        run: String,
        /// The log to score (with `--follow`: one plain-text file, or `-` for standard input).
        data: PathBuf,
        /// Keep reading the log as it grows, printing alerts as JSON lines, until stopped.
        #[arg(long, conflicts_with = "json")]
        follow: bool,
        /// With `--follow`: milliseconds to wait before looking again for more of the log.
        #[arg(long, default_value_t = 250, value_name = "MS", requires = "follow")]
        poll_ms: u64,
        /// With `--follow` and window features: seconds of the log's time a window stays open
        /// for rows written late.
        #[arg(
            long,
            default_value_t = 60,
            value_name = "SECONDS",
            requires = "follow"
        )]
        lateness: u64,
        /// Read, featurize and score at most this many rows at a time (bounded memory).
        #[arg(long, value_name = "ROWS")]
        batch_rows: Option<usize>,
        /// `--out`, `--json`, `--exit-code`.
        #[command(flatten)]
        common: RunFlags,
    },
}

/// Flags of every command that makes runs.
#[derive(Debug, clap::Args)]
pub struct RunFlags {
    /// Run store root.
    #[arg(long, default_value = "experiments")]
    out: PathBuf,
    /// Print one JSON document on stdout (run directories, per-detector metrics, notes);
    /// progress stays on stderr.
    #[arg(long)]
    json: bool,
    /// Exit with code 3 when a detector flagged at least one row (0 when none did).
    #[arg(long)]
    exit_code: bool,
}

fn parse_format(name: &str) -> Result<webthreat_ingest::Format, String> {
    use webthreat_ingest::Format::*;
    [Cloudwatch, Table, Zeek, Vpcflow, Alb]
        .into_iter()
        .find(|f| f.as_str() == name)
        .ok_or_else(|| format!("`{name}`: expected cloudwatch, zeek, vpcflow, alb or table"))
}

/// Runs a subcommand.
pub fn execute(command: Command) -> Result<Finish> {
    match command {
        Command::Run {
            configs,
            data,
            overrides,
            batch_rows,
            record_git,
            common,
        } => {
            let overrides = with_batch_rows(overrides, batch_rows);
            let options = RunOptions {
                store_root: common.out.clone(),
                data_overridden: data.is_some(),
                record_git,
            };
            let mut printer = Printer::new(common.json);
            for path in &configs {
                let config = ExperimentConfig::load(path, &overrides, data.as_deref())?;
                run_config(&config, &options, &mut printer).with_context(|| {
                    format!("experiment `{}` ({})", config.name, path.display())
                })?;
            }
            printer.finish(common.exit_code)
        }
        Command::Scan {
            logs,
            format,
            overrides,
            batch_rows,
            common,
        } => {
            let overrides = with_batch_rows(overrides, batch_rows);
            let options = RunOptions {
                store_root: common.out.clone(),
                data_overridden: false,
                record_git: false,
            };
            let mut printer = Printer::new(common.json);
            for log in &logs {
                let config = scan::config(log, format, &overrides)?;
                run_config(&config, &options, &mut printer)
                    .with_context(|| format!("scanning {}", log.display()))?;
            }
            printer.finish(common.exit_code)
        }
        Command::List {
            html: true, out, ..
        } => {
            let page = webthreat_experiment::write_index(&RunStore::new(out))?;
            println!("{}", page.display());
            Ok(Finish::Done)
        }
        Command::List {
            experiment,
            out,
            json,
            ..
        } => {
            let (listings, unreadable) = compare::list(&RunStore::new(out), experiment.as_deref())?;
            for problem in &unreadable {
                eprintln!("warning: {}", webthreat_core::text::visible(problem));
            }
            if json {
                output::print_json(&output::list_json(&listings, &unreadable))?;
            } else if listings.is_empty() {
                println!("no runs yet: `webthreat run configs/iforest.yaml` makes one");
            } else {
                print!("{}", compare::list_markdown(&listings));
            }
            Ok(Finish::Done)
        }
        Command::Show { run, out, json } => {
            let runs = RunStore::new(out).resolve(&run)?;
            let latest = runs.last().context("no run")?;
            let report = latest.dir.join("report.md");
            let text = std::fs::read_to_string(&report)
                .with_context(|| format!("reading {}", report.display()))?;
            if json {
                output::print_json(&output::show_json(latest, &text)?)?;
            } else {
                print!("{text}");
                println!("\n{}", latest.dir.display());
            }
            Ok(Finish::Done)
        }
        Command::Compare {
            runs,
            out,
            to,
            json,
        } => {
            let store = RunStore::new(&out);
            let dir = to.unwrap_or_else(|| {
                let slug = |s: &String| s.replace(['/', '\\'], "_");
                let name = match (runs.first(), runs.last()) {
                    (Some(a), Some(b)) if runs.len() > 1 => format!("{}-vs-{}", slug(a), slug(b)),
                    (Some(a), _) => slug(a),
                    _ => "comparison".into(),
                };
                out.join(compare::COMPARISONS_DIR).join(name)
            });
            let comparison = compare::compare(&store, &runs, &dir)?;
            if json {
                output::print_json(&output::compare_json(&comparison))?;
            } else {
                print!("{}", comparison.markdown);
                println!("\n{}", comparison.out_dir.join("comparison.md").display());
            }
            Ok(Finish::Done)
        }
        Command::Score {
            run,
            data,
            follow,
            poll_ms,
            lateness,
            batch_rows,
            common,
        } => {
            let store = RunStore::new(&common.out);
            let runs = store.resolve(&run)?;
            let source = runs.last().context("no run")?;
            if follow {
                let options = FollowOptions {
                    stop: stop_on_signals()?,
                    poll: Duration::from_millis(poll_ms.max(1)),
                    batch_rows: batch_rows.unwrap_or(StreamingOptions::default().batch_rows),
                    lateness_seconds: lateness,
                };
                let mut stdout = std::io::stdout().lock();
                let outcome =
                    follow_with_run(&source.dir, &data, &common.out, &options, &mut stdout)?;
                let mut printer = Printer::on_stderr();
                printer.run(
                    &format!("{}-follow", source.experiment),
                    &format!("{}/{} (following)", source.experiment, source.id),
                    outcome,
                );
                return printer.finish(common.exit_code);
            }
            let streaming = batch_rows.map(|batch_rows| StreamingOptions {
                batch_rows,
                ..StreamingOptions::default()
            });
            let outcome = score_with_run(&source.dir, &data, &common.out, streaming)?;
            let mut printer = Printer::new(common.json);
            printer.run(
                &format!("{}-score", source.experiment),
                &format!("{}/{} (scoring)", source.experiment, source.id),
                outcome,
            );
            printer.finish(common.exit_code)
        }
    }
}

/// A flag SIGINT and SIGTERM set (a second one ends the process at once, with 130 or 143).
fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for (signal, code) in [(SIGINT, 130), (SIGTERM, 143)] {
        signal_hook::flag::register_conditional_shutdown(signal, code, Arc::clone(&stop))
            .context("installing a signal handler")?;
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing a signal handler")?;
    }
    Ok(stop)
}

/// `--batch-rows N` is `--set streaming.batch_rows=N`.
fn with_batch_rows(mut overrides: Vec<String>, batch_rows: Option<usize>) -> Vec<String> {
    if let Some(n) = batch_rows {
        overrides.push(format!("streaming.batch_rows={n}"));
    }
    overrides
}

/// Runs one config (a plan: every variant, then its summary) into the printer.
fn run_config(
    config: &ExperimentConfig,
    options: &RunOptions,
    printer: &mut Printer,
) -> Result<()> {
    if config.is_plan() {
        let plan = run_plan(config, options, |label, outcome| {
            printer.run(
                &config.name,
                &format!("{} [{}]", config.name, webthreat_core::text::visible(label)),
                outcome.clone(),
            );
        })?;
        printer.summary(plan);
    } else {
        let outcome = run(config, options)?;
        printer.run(&config.name, &config.name, outcome);
    }
    Ok(())
}
