//! The developer command line (`cargo xtask ...`): the analyst's subcommands of the `webthreat`
//! binary (`run`, `scan`, `list`, `show`, `compare`, `score`: the same library code), plus the
//! developer tasks `gen-data` and `bench`.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use webthreat_cli::Finish;

#[derive(Parser)]
#[command(
    name = "xtask",
    about = "webthreat developer tasks, and the webthreat subcommands"
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
    #[command(flatten)]
    Analyst(webthreat_cli::Command),
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
        /// Share of the attack rows (in [0, 1]) that mimic normal traffic: slow exfiltration,
        /// jittered beacons, slow scans and session floods in equal parts; the rest are the
        /// obvious kinds in their usual proportions (0, the default, gives only those).
        #[arg(long, default_value_t = 0.0, value_name = "SHARE", value_parser = parse_share)]
        mimic: f64,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    webthreat_cli::exit(webthreat_cli::set_threads(cli.threads).and_then(|()| run_command(cli)))
}

fn run_command(cli: Cli) -> Result<Finish> {
    match cli.command {
        Command::Analyst(command) => return webthreat_cli::execute(command),
        Command::GenData {
            rows,
            seed,
            attack_fraction,
            mimic,
            format,
            out,
            force,
            beacons,
        } => gen_data(
            webthreat_synth::GenConfig {
                rows,
                seed,
                attack_fraction,
                attack_mix: webthreat_synth::AttackMix::mimicking(mimic),
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
    Ok(Finish::Done)
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("`{text}`: expected a share between 0 and 1")),
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
    // the kinds that mimic normal traffic only when there are any (`--mimic`)
    let mimicking = webthreat_synth::TrafficKind::MIMICKING;
    let attacks: Vec<String> = webthreat_synth::TrafficKind::ATTACKS
        .iter()
        .filter(|k| summary.count(**k) > 0 || !mimicking.contains(k))
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
