//! Streaming scaling benchmark (`cargo xtask bench --streaming`): time and peak memory of
//! streaming `xtask run` and `xtask score`, and of live scoring (`score --follow -` reading the
//! log on standard input as fast as it is scored: its sustained throughput), as the log grows,
//! next to the in-memory run on the sizes where it fits comfortably.
//!
//! Every measurement is a fresh child process of this xtask binary ([`run_xtask`]), so peak
//! RSS is that of one command a user would type. Logs come from the same cached generator as
//! the main benchmark; the config is the seed analysis (Isolation Forest, 100 trees, 256
//! samples, 5 % contamination, the seed's four features, standard scaling, plots off).

use crate::error::BenchError;
use crate::ours::{CONTAMINATION, FEATURES_4, run_xtask};
use crate::report::{human_rows, load_average};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to measure.
#[derive(Debug, Clone)]
pub struct ScalingOptions {
    /// Log sizes in rows.
    pub sizes: Vec<usize>,
    /// Rows per batch of the streaming commands.
    pub batch_rows: usize,
    /// Largest size also run in memory (the in-memory run's memory grows with the log).
    pub in_memory_up_to: usize,
    /// Output root: results in `<out>/<timestamp>/`, generated data in `<out>/data/`.
    pub out: PathBuf,
    /// Seed of the generated data and of the forest.
    pub seed: u64,
}

impl Default for ScalingOptions {
    fn default() -> Self {
        Self {
            sizes: vec![1_000_000, 5_000_000, 20_000_000],
            batch_rows: 100_000,
            in_memory_up_to: 5_000_000,
            out: PathBuf::from("experiments/bench"),
            seed: 42,
        }
    }
}

/// One command on one log.
#[derive(Debug, Clone, Serialize)]
pub struct ScalingRow {
    /// `run (streaming)`, `score (streaming)`, `score --follow -` or `run (in memory)`.
    pub command: String,
    /// Data rows.
    pub rows: usize,
    /// CSV size, bytes.
    pub csv_bytes: u64,
    /// Wall seconds of the process.
    pub seconds: f64,
    /// Peak RSS of the process, bytes.
    pub peak_rss_bytes: u64,
}

impl ScalingRow {
    fn markdown(&self) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2}x |",
            self.command,
            human_rows(self.rows),
            mib(self.csv_bytes),
            self.seconds,
            self.seconds * 1e6 / self.rows as f64,
            self.rows as f64 / self.seconds,
            mib(self.peak_rss_bytes),
            self.peak_rss_bytes as f64 / self.csv_bytes as f64,
        )
    }
}

/// Runs the scaling benchmark; prints and writes `<out>/<timestamp>/scaling.md` and
/// `scaling.json`, returning the Markdown and the directory.
pub fn run_scaling(opts: &ScalingOptions) -> Result<(String, PathBuf), BenchError> {
    if opts.sizes.is_empty() || opts.sizes.contains(&0) || opts.batch_rows == 0 {
        return Err(BenchError::Options(
            "--sizes needs positive row counts and --batch-rows a positive count".into(),
        ));
    }
    let load_at_start = load_average();
    let dir = crate::new_result_dir(&opts.out)?;
    let store = dir.join("runs");
    let mut rows = Vec::new();
    for &size in &opts.sizes {
        let csv = crate::data_file(&opts.out, size, opts.seed)?;
        let csv_bytes = std::fs::metadata(&csv).map_err(BenchError::io(&csv))?.len();
        let name = format!("scaling-{size}");
        let config = write_config(&dir, &name, &csv, opts)?;
        let mut measure = |command: &str, args: Vec<String>| -> Result<(), BenchError> {
            eprintln!("bench: {command} on {} rows", human_rows(size));
            let stdin = (args.last().map(String::as_str) == Some("-")).then_some(csv.as_path());
            let child = run_xtask(&args, stdin)?.ok_or_else(|| {
                BenchError::Options("the scaling benchmark runs only as `cargo xtask bench`".into())
            })?;
            rows.push(ScalingRow {
                command: command.into(),
                rows: size,
                csv_bytes,
                seconds: child.seconds,
                peak_rss_bytes: child.peak_rss_bytes,
            });
            Ok(())
        };
        let store_arg = store.display().to_string();
        let run_args = vec![
            "run".into(),
            config.display().to_string(),
            "--batch-rows".into(),
            opts.batch_rows.to_string(),
            "--out".into(),
            store_arg.clone(),
        ];
        measure("run (streaming)", run_args)?;
        let fitted = latest_run(&store.join(&name))?;
        let score_args = vec![
            "score".into(),
            "--run".into(),
            fitted.display().to_string(),
            csv.display().to_string(),
            "--batch-rows".into(),
            opts.batch_rows.to_string(),
            "--out".into(),
            store_arg.clone(),
        ];
        measure("score (streaming)", score_args)?;
        let follow_args = vec![
            "score".into(),
            "--run".into(),
            fitted.display().to_string(),
            "--batch-rows".into(),
            opts.batch_rows.to_string(),
            "--out".into(),
            store_arg.clone(),
            "--follow".into(),
            "-".into(),
        ];
        measure("score --follow -", follow_args)?;
        if size <= opts.in_memory_up_to {
            let args = vec![
                "run".into(),
                config.display().to_string(),
                "--out".into(),
                store_arg,
            ];
            measure("run (in memory)", args)?;
        }
        // the runs' scores.csv files are as large as the logs: keep only the tables
        std::fs::remove_dir_all(&store).map_err(BenchError::io(&store))?;
    }
    let markdown = markdown(&rows, opts, load_at_start, load_average());
    print!("{markdown}");
    let md_path = dir.join("scaling.md");
    std::fs::write(&md_path, &markdown).map_err(BenchError::io(&md_path))?;
    let json_path = dir.join("scaling.json");
    let json = serde_json::to_string_pretty(&rows)
        .map_err(|e| BenchError::Options(format!("serializing the results: {e}")))?;
    std::fs::write(&json_path, json).map_err(BenchError::io(&json_path))?;
    Ok((markdown, dir))
}

/// The experiment config of one size, written into the result directory.
fn write_config(
    dir: &Path,
    name: &str,
    csv: &Path,
    opts: &ScalingOptions,
) -> Result<PathBuf, BenchError> {
    let features = FEATURES_4.join(", ");
    let yaml = format!(
        "name: {name}\nseed: {seed}\ndata:\n  path: {csv}\n  format: cloudwatch\n  label: label\nfeatures: [{features}]\nscaling: standard\ndetectors:\n  - kind: iforest\n    n_estimators: 100\n    max_samples: 256\n    contamination: {CONTAMINATION}\nreport:\n  plots: false\n",
        seed = opts.seed,
        csv = csv.display(),
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, yaml).map_err(BenchError::io(&path))?;
    Ok(path)
}

/// The newest run directory of an experiment (ids are 4-digit and increasing).
fn latest_run(experiment: &Path) -> Result<PathBuf, BenchError> {
    let mut ids: Vec<PathBuf> = std::fs::read_dir(experiment)
        .map_err(BenchError::io(experiment))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("run.json").is_file())
        .collect();
    ids.sort();
    ids.pop()
        .ok_or_else(|| BenchError::Options(format!("no run in {}", experiment.display())))
}

fn markdown(
    rows: &[ScalingRow],
    opts: &ScalingOptions,
    load_start: Option<f64>,
    load_end: Option<f64>,
) -> String {
    let mut out = String::from("# Streaming scaling\n\n");
    let _ = writeln!(
        out,
        "`xtask run` and `xtask score` with `--batch-rows {}` (fit sample 100,000 rows), each a fresh process; the in-memory run for comparison up to {} rows. Seed analysis config (Isolation Forest, 4 features), plots off. 1-minute load average {} at start, {} at end.\n",
        opts.batch_rows,
        human_rows(opts.in_memory_up_to),
        load_start.map_or("n/a".into(), |l| format!("{l:.2}")),
        load_end.map_or("n/a".into(), |l| format!("{l:.2}")),
    );
    out.push_str(
        "| command | rows | CSV MiB | seconds | us per row | rows per second | peak RSS MiB | RSS / CSV |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        out.push_str(&r.markdown());
        out.push('\n');
    }
    // live scoring against batch scoring of the same log, in the same run
    let seconds = |command: &str, size: usize| {
        (rows.iter())
            .find(|r| r.command == command && r.rows == size)
            .map(|r| r.seconds)
    };
    for &size in &opts.sizes {
        if let (Some(follow), Some(batch)) = (
            seconds("score --follow -", size),
            seconds("score (streaming)", size),
        ) {
            let _ = writeln!(
                out,
                "\n{} rows: `score --follow -` takes {:.2}x the time of `score --batch-rows` on the same log.",
                human_rows(size),
                follow / batch
            );
        }
    }
    out
}
