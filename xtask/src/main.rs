//! The webthreat command line (`cargo xtask ...`): parses arguments and calls the crates.
//!
//! Subcommands: `run` (the main job), `list`, `show`, `compare`, `score`, `gen-data`, `bench`.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use webthreat_core::text::visible;
use webthreat_experiment::{
    ExperimentConfig, RunOptions, RunOutcome, RunStore, StreamingOptions, compare, run, run_plan,
    score_with_run,
};

#[derive(Parser)]
#[command(
    name = "xtask",
    about = "webthreat: find suspicious interactions in web-traffic logs"
)]
struct Cli {
    /// Worker threads for detectors (default: all cores; at most 1024). Results do not depend
    /// on it.
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run experiments: ingest, features, detectors, evaluation, report; one run directory each
    /// (a config with `sweep:` or `suite:` makes one run per combination and data set, and a
    /// ranked summary under `<out>/<experiment>/summaries/`).
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
        /// Run store root.
        #[arg(long, default_value = "experiments")]
        out: PathBuf,
    },
    /// List runs with time, config and data hash, and key metrics.
    List {
        /// Only this experiment.
        experiment: Option<String>,
        /// Write the runs index page `<out>/index.html` (every run of every experiment; also
        /// rewritten after each run) and print its path instead of the table.
        #[arg(long, conflicts_with = "experiment")]
        html: bool,
        /// Run store root.
        #[arg(long, default_value = "experiments")]
        out: PathBuf,
    },
    /// Print a run's report (Markdown).
    Show {
        /// A run directory or `<experiment>/<id>`; an experiment name shows its latest run.
        run: String,
        /// Run store root.
        #[arg(long, default_value = "experiments")]
        out: PathBuf,
    },
    /// Compare runs: differing parameters, every metric with deltas, overlaid ROC/PR curves.
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
    },
    /// Score new data with a run's saved models and thresholds (no refit).
    Score {
        /// The run whose models to use.
        #[arg(long)]
        run: String,
        /// The log to score.
        data: PathBuf,
        /// Stream the log in batches of this many rows (bounded memory).
        #[arg(long, value_name = "ROWS")]
        batch_rows: Option<usize>,
        /// Run store root.
        #[arg(long, default_value = "experiments")]
        out: PathBuf,
    },
    /// Generate a log with labeled injected attacks (CloudWatch CSV, Zeek conn.log, VPC Flow
    /// Logs or ALB access logs: the same rows in each).
    GenData {
        /// Data rows.
        #[arg(long)]
        rows: usize,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Fraction of attack rows.
        #[arg(long, default_value_t = 0.03)]
        attack_fraction: f64,
        /// Output format: cloudwatch, zeek, vpcflow or alb.
        #[arg(long, default_value = "cloudwatch", value_parser = parse_output_format)]
        format: webthreat_synth::OutputFormat,
        /// Output path (refuses to overwrite unless --force).
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
        /// Add beacons from internal to external hosts at these jitter levels (fractions of the
        /// period in [0, 1), comma-separated; three pairs each, periods 300, 600 and 900 s),
        /// among internal hosts talking to external services at irregular times.
        #[arg(long, value_delimiter = ',', value_name = "JITTER")]
        beacons: Vec<f64>,
    },
    /// Benchmark against pandas + scikit-learn (creates ./.venv); writes <out>/<timestamp>/.
    Bench {
        /// Data sizes in rows, comma-separated (default 10000,100000,1000000; with
        /// `--streaming` 1000000,5000000,20000000).
        #[arg(long, value_delimiter = ',')]
        sizes: Vec<usize>,
        /// Measure streaming `run`/`score` (fresh processes: time and peak RSS) as the log
        /// grows, instead of the comparison with pandas + scikit-learn.
        #[arg(long)]
        streaming: bool,
        /// Rows per batch with `--streaming`.
        #[arg(long, default_value_t = 100_000)]
        batch_rows: usize,
        /// Repetitions per measurement (medians are reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Output root.
        #[arg(long, default_value = "experiments/bench")]
        out: PathBuf,
        /// Measure only ingest per native format (CloudWatch, Zeek, its gzip copy, VPC Flow,
        /// ALB; ours against pandas and python polars), not the pipeline comparison.
        #[arg(long, conflicts_with_all = ["streaming", "skip_formats"])]
        only_formats: bool,
        /// Leave out ingest per native format.
        #[arg(long, conflicts_with = "streaming")]
        skip_formats: bool,
        /// Measure only beacon scoring per connection pair (ours against pandas) on generated
        /// logs with beacons.
        #[arg(long, conflicts_with_all = ["streaming", "only_formats", "skip_beacon"])]
        only_beacon: bool,
        /// Leave out beacon scoring.
        #[arg(long, conflicts_with = "streaming")]
        skip_beacon: bool,
    },
}

/// Runs the command; an error is printed as its chain of causes, every log-derived character
/// that could act on a terminal escaped, and never with a backtrace (`RUST_BACKTRACE` in the
/// environment would otherwise print one, resolving symbols at a cost of hundreds of MB).
fn main() -> ExitCode {
    match run_command() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut causes = e.chain();
            let first = causes.next().map(ToString::to_string).unwrap_or_default();
            let mut text = format!("Error: {}", visible(&first));
            let rest: Vec<String> = causes
                .map(|c| visible(&c.to_string()).into_owned())
                .collect();
            if !rest.is_empty() {
                text.push_str("\n\nCaused by:");
                for cause in rest {
                    text.push_str("\n    ");
                    text.push_str(&cause);
                }
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

fn run_command() -> Result<()> {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .context("setting the thread count")?;
    }
    match cli.command {
        Command::Run {
            configs,
            data,
            mut overrides,
            batch_rows,
            record_git,
            out,
        } => {
            if let Some(n) = batch_rows {
                overrides.push(format!("streaming.batch_rows={n}"));
            }
            let mut last = None;
            for path in &configs {
                let config = ExperimentConfig::load(path, &overrides, data.as_deref())?;
                let options = RunOptions {
                    store_root: out.clone(),
                    data_overridden: data.is_some(),
                    record_git,
                };
                let context = || format!("experiment `{}` ({})", config.name, path.display());
                if config.is_plan() {
                    let plan = run_plan(&config, &options, |label, outcome| {
                        print_summary(&format!("{} [{}]", config.name, visible(label)), outcome);
                    })
                    .with_context(context)?;
                    print!("\n{}", plan.summary.markdown());
                    last = Some(plan.dir);
                } else {
                    let outcome = run(&config, &options).with_context(context)?;
                    print_summary(&config.name, &outcome);
                    last = Some(outcome.dir);
                }
            }
            if let Some(dir) = last {
                println!("{}", dir.display());
            }
        }
        Command::List {
            html: true, out, ..
        } => {
            let page = webthreat_experiment::write_index(&RunStore::new(out))?;
            println!("{}", page.display());
        }
        Command::List {
            experiment, out, ..
        } => {
            let (listings, unreadable) = compare::list(&RunStore::new(out), experiment.as_deref())?;
            for problem in &unreadable {
                eprintln!("warning: {}", webthreat_core::text::visible(problem));
            }
            if listings.is_empty() {
                println!("no runs yet: `cargo xtask run configs/iforest.yaml` makes one");
            } else {
                print!("{}", compare::list_markdown(&listings));
            }
        }
        Command::Show { run, out } => {
            let runs = RunStore::new(out).resolve(&run)?;
            let latest = runs.last().context("no run")?;
            let report = latest.dir.join("report.md");
            let text = std::fs::read_to_string(&report)
                .with_context(|| format!("reading {}", report.display()))?;
            print!("{text}");
            println!("\n{}", latest.dir.display());
        }
        Command::Compare { runs, out, to } => {
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
            print!("{}", comparison.markdown);
            println!("\n{}", comparison.out_dir.join("comparison.md").display());
        }
        Command::Score {
            run,
            data,
            batch_rows,
            out,
        } => {
            let store = RunStore::new(&out);
            let runs = store.resolve(&run)?;
            let source = runs.last().context("no run")?;
            let streaming = batch_rows.map(|batch_rows| StreamingOptions {
                batch_rows,
                ..StreamingOptions::default()
            });
            let outcome = score_with_run(&source.dir, &data, &out, streaming)?;
            print_summary(
                &format!("{}/{} (scoring)", source.experiment, source.id),
                &outcome,
            );
            println!("{}", outcome.dir.display());
        }
        Command::GenData {
            rows,
            seed,
            attack_fraction,
            format,
            out,
            force,
            beacons,
        } => gen_data(
            webthreat_synth::GenConfig {
                rows,
                seed,
                attack_fraction,
                format,
                beacons: webthreat_synth::BeaconPlan::levels(&beacons),
                ..webthreat_synth::GenConfig::default()
            },
            &out,
            force,
        )?,
        Command::Bench {
            sizes,
            streaming: true,
            batch_rows,
            out,
            ..
        } => {
            let mut options = webthreat_bench::scaling::ScalingOptions {
                batch_rows,
                out,
                ..Default::default()
            };
            if !sizes.is_empty() {
                options.sizes = sizes;
            }
            let (_, dir) = webthreat_bench::scaling::run_scaling(&options)?;
            println!("{}", dir.join("scaling.md").display());
        }
        Command::Bench {
            sizes,
            reps,
            out,
            only_formats,
            skip_formats,
            only_beacon,
            skip_beacon,
            ..
        } => {
            let mut options = webthreat_bench::BenchOptions {
                reps,
                out,
                formats: if only_formats {
                    webthreat_bench::FormatsMode::Only
                } else if skip_formats {
                    webthreat_bench::FormatsMode::Skip
                } else {
                    webthreat_bench::FormatsMode::Include
                },
                beacon: if only_beacon {
                    webthreat_bench::BeaconMode::Only
                } else if skip_beacon {
                    webthreat_bench::BeaconMode::Skip
                } else {
                    webthreat_bench::BeaconMode::Include
                },
                ..Default::default()
            };
            if !sizes.is_empty() {
                options.sizes = sizes;
            }
            let (report, dir) = webthreat_bench::run(&options)?;
            println!("\n{}", dir.display());
            if !report.auc_agrees() || !report.features_agree() {
                bail!("ours and the peer disagree on ROC AUC (> 0.01) or on the features");
            }
        }
    }
    Ok(())
}

fn print_summary(name: &str, o: &RunOutcome) {
    println!(
        "{name}: run {} on {} rows{}",
        o.id,
        o.rows,
        if o.rejected > 0 {
            format!(" ({} rejected rows in rejects.csv)", o.rejected)
        } else {
            String::new()
        }
    );
    println!(
        "{:<16} {:<12} {:>8} {:>10} {:>8} {:>8} {:>8}",
        "detector", "kind", "flagged", "threshold", "roc_auc", "pr_auc", "f1"
    );
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
    for d in &o.detectors {
        println!(
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
        println!("note: {n}");
    }
}

fn parse_output_format(name: &str) -> Result<webthreat_synth::OutputFormat, String> {
    webthreat_synth::OutputFormat::from_name(name)
        .ok_or_else(|| format!("`{name}`: expected cloudwatch, zeek, vpcflow or alb"))
}

fn gen_data(config: webthreat_synth::GenConfig, out: &Path, force: bool) -> Result<()> {
    if out.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", out.display());
    }
    config.validate()?;
    let clock = Instant::now();
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let summary = webthreat_synth::generate(&config, BufWriter::new(file));
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp, out).with_context(|| format!("moving into {}", out.display()))?;
    let attacks: Vec<String> = webthreat_synth::TrafficKind::ATTACKS
        .iter()
        .map(|k| format!("{} {}", k.as_str(), summary.count(*k)))
        .collect();
    eprintln!(
        "wrote {} rows ({} attacks: {}) to {} in {:.2} s",
        summary.rows,
        summary.attacks(),
        attacks.join(", "),
        out.display(),
        clock.elapsed().as_secs_f64()
    );
    for b in &summary.beacons {
        eprintln!(
            "beacon {} -> {}:{} every {} s, jitter {}: {} rows",
            b.src, b.dst, b.dst_port, b.period_s, b.jitter, b.rows
        );
    }
    Ok(())
}
