//! Our side, in-process: ingest, features, Isolation Forest fit and score per thread count, the
//! end-to-end pipeline without writing, and `webthreat_experiment::run` (what `xtask run` does)
//! with report plots disabled.

use crate::error::BenchError;
use crate::stats::{peak_rss_bytes, reset_peak_rss, time_reps};
use rayon::ThreadPool;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webthreat_core::FeatureMatrix;
use webthreat_detectors::iforest::IsolationForestModel;
use webthreat_detectors::{
    DetectorConfig, IsolationForestParams, MaxSamples, ThresholdRule, Trained,
};
use webthreat_experiment::{ExperimentConfig, ReportOptions, RunOptions};
use webthreat_features::{DEFAULT_WINDOW_SECONDS, FeatureSpec, Scaler, Scaling, build_matrix};
use webthreat_ingest::{LabelSpec, SourceSpec, read_log};

/// Trees of every forest in the benchmark.
pub const N_ESTIMATORS: usize = 100;
/// Rows drawn per tree.
pub const MAX_SAMPLES: usize = 256;
/// Fraction flagged in the end-to-end runs.
pub const CONTAMINATION: f64 = 0.05;

/// The seed analysis's four features.
pub const FEATURES_4: [&str; 4] = [
    "bytes_in",
    "bytes_out",
    "session_duration",
    "avg_packet_size",
];

/// The 10-feature variant: the seed's four plus transforms, time of day and window aggregates.
pub const FEATURES_10: [&str; 10] = [
    "bytes_in",
    "bytes_out",
    "session_duration",
    "avg_packet_size",
    "log1p(bytes_in)",
    "log1p(bytes_out)",
    "bytes_ratio",
    "hour_of_day",
    "src_sessions",
    "src_distinct_ports",
];

/// One stage measured on our side.
#[derive(Debug, Clone, Serialize)]
pub struct OursTiming {
    /// Stage name (shared with the peer's, plus `end-to-end (xtask run)`).
    pub stage: String,
    /// Feature count (none for ingest).
    pub features: Option<usize>,
    /// rayon threads (ingest and features run on polars' own pool of all cores).
    pub threads: usize,
    /// Seconds per repetition.
    pub seconds: Vec<f64>,
}

/// Everything measured on our side for one data file.
#[derive(Debug, Clone, Serialize)]
pub struct OursSize {
    /// Data rows.
    pub rows: usize,
    /// Stage timings.
    pub timings: Vec<OursTiming>,
    /// ROC AUC of our Isolation Forest per feature count.
    pub roc_auc: Vec<(usize, f64)>,
    /// Column means of the unscaled features per feature count.
    pub feature_means: Vec<(usize, Vec<f64>)>,
    /// Peak RSS (bytes) while running `webthreat_experiment::run` in this process, measured
    /// from a reset high-water mark (includes memory this process kept from earlier stages).
    pub peak_rss_in_process_bytes: Option<u64>,
    /// Peak RSS (bytes) of a fresh `xtask run` process on the same data and config, when the
    /// harness runs inside the xtask binary on Linux.
    pub peak_rss_run_bytes: Option<u64>,
}

impl OursSize {
    /// The repetitions of one stage.
    pub fn seconds(&self, stage: &str, features: Option<usize>, threads: usize) -> Option<&[f64]> {
        self.timings
            .iter()
            .find(|t| t.stage == stage && t.features == features && t.threads == threads)
            .map(|t| t.seconds.as_slice())
    }
}

/// Isolation Forest parameters of the benchmark (scikit-learn's `IsolationForest(n_estimators=100,
/// max_samples=256)`).
pub fn iforest_params() -> IsolationForestParams {
    IsolationForestParams {
        n_estimators: N_ESTIMATORS,
        max_samples: MaxSamples::Count(MAX_SAMPLES),
        ..IsolationForestParams::default()
    }
}

/// The benchmark's Isolation Forest as a detector config, with a contamination rule for the
/// end-to-end runs (without one, the default rule).
pub fn iforest_config(contamination: Option<f64>) -> DetectorConfig {
    let mut config = DetectorConfig::new(iforest_params());
    if let Some(c) = contamination {
        config.set_threshold_rule(ThresholdRule::Contamination(c));
    }
    config
}

fn spec(names: &[&str]) -> Result<FeatureSpec, BenchError> {
    FeatureSpec::new(
        names.iter().map(|s| s.to_string()).collect(),
        DEFAULT_WINDOW_SECONDS,
    )
    .map_err(BenchError::ours("features"))
}

/// A labeled CloudWatch source reading the numeric columns `spec` needs (as the pipeline does).
fn source(csv: &Path, spec: &FeatureSpec) -> SourceSpec {
    let mut source = SourceSpec::cloudwatch(csv);
    source.label = Some(LabelSpec::Column("label".into()));
    source.numeric = spec.raw_numeric_columns();
    source
}

fn column_means(x: &FeatureMatrix) -> Vec<f64> {
    (0..x.n_cols())
        .map(|j| {
            let c = x.column(j);
            c.iter().sum::<f64>() / c.len().max(1) as f64
        })
        .collect()
}

/// Measures our stages on `csv`, `reps` repetitions each, once per rayon pool in `pools`
/// (`(threads, pool)`); experiment runs go to `run_store` and are removed after each repetition.
pub fn measure(
    csv: &Path,
    reps: usize,
    seed: u64,
    pools: &[(usize, ThreadPool)],
    run_store: &Path,
) -> Result<OursSize, BenchError> {
    let mut timings = Vec::new();
    let mut record = |stage: &str, features: Option<usize>, threads: usize, seconds: Vec<f64>| {
        timings.push(OursTiming {
            stage: stage.into(),
            features,
            threads,
            seconds,
        })
    };
    let spec4 = spec(&FEATURES_4)?;
    let spec10 = spec(&FEATURES_10)?;
    let polars_threads = polars_threads();

    // ingest: the columns the 10-feature spec needs (a superset of the 4-feature spec's)
    let source10 = source(csv, &spec10);
    let (seconds, table) =
        time_reps(reps, |_| read_log(&source10)).map_err(BenchError::ours("ingest"))?;
    record("ingest", None, polars_threads, seconds);
    let rows = table.df.height();

    let mut roc_auc = Vec::new();
    let mut feature_means = Vec::new();
    for (n, spec) in [(4, &spec4), (10, &spec10)] {
        let (seconds, raw) = time_reps(reps, |_| build_matrix(&table, spec))
            .map_err(BenchError::ours("features"))?;
        record("features", Some(n), polars_threads, seconds);
        feature_means.push((n, column_means(&raw)));
        let scaled = Scaler::fit(Scaling::Standard, &raw)
            .and_then(|s| s.transform(&raw))
            .map_err(BenchError::ours("scaling"))?;
        drop(raw);
        let params = iforest_params();
        let config = iforest_config(None);
        for (i, (threads, pool)) in pools.iter().enumerate() {
            let (seconds, _) = pool
                .install(|| {
                    time_reps(reps, |_| {
                        IsolationForestModel::fit(&params, "iforest", scaled.values(), n, seed)
                    })
                })
                .map_err(BenchError::ours("iforest fit"))?;
            record("iforest fit", Some(n), *threads, seconds);
            let detector = pool
                .install(|| webthreat_detectors::train(&config, &scaled, seed, None))
                .map(|trained| trained.detector)
                .map_err(BenchError::ours("iforest fit"))?;
            let (seconds, scores) = pool
                .install(|| time_reps(reps, |_| detector.score(&scaled)))
                .map_err(BenchError::ours("iforest score"))?;
            record("iforest score", Some(n), *threads, seconds);
            if i == 0 {
                let labels = scaled.labels().ok_or_else(|| BenchError::Ours {
                    stage: "evaluation",
                    message: "the generated data has no labels".into(),
                })?;
                let auc = webthreat_report::roc_auc(&scores, labels)
                    .map_err(BenchError::ours("evaluation"))?;
                roc_auc.push((n, auc));
            }
        }
    }
    drop(table);

    let source4 = source(csv, &spec4);
    let config = iforest_config(Some(CONTAMINATION));
    for (threads, pool) in pools {
        let (seconds, _) =
            pool.install(|| time_reps(reps, |_| pipeline(&source4, &spec4, &config, seed)))?;
        record("end-to-end", Some(4), *threads, seconds);
    }

    let experiment = experiment_config(csv, seed, &config)?;
    let options = RunOptions {
        store_root: run_store.to_path_buf(),
        data_overridden: false,
        record_git: false,
    };
    let rss_reset = reset_peak_rss();
    for (threads, pool) in pools {
        let mut seconds = Vec::with_capacity(reps);
        for _ in 0..reps.max(1) {
            let clock = Instant::now();
            let outcome = pool
                .install(|| webthreat_experiment::run(&experiment, &options))
                .map_err(BenchError::ours("xtask run"))?;
            seconds.push(clock.elapsed().as_secs_f64());
            std::fs::remove_dir_all(&outcome.dir).map_err(BenchError::io(&outcome.dir))?;
        }
        record("end-to-end (xtask run)", Some(4), *threads, seconds);
    }
    let peak_rss_in_process_bytes = if rss_reset { peak_rss_bytes() } else { None };
    let peak_rss_run_bytes = fresh_run_peak_rss(&experiment, run_store)?;

    Ok(OursSize {
        rows,
        timings,
        roc_auc,
        feature_means,
        peak_rss_in_process_bytes,
        peak_rss_run_bytes,
    })
}

/// Ingest + 4 features + standard scaling + fit (with training scores) + threshold + ROC AUC,
/// average precision and precision/recall/F1: the in-memory equivalent of the peer's end-to-end.
fn pipeline(
    source: &SourceSpec,
    spec: &FeatureSpec,
    config: &DetectorConfig,
    seed: u64,
) -> Result<[f64; 3], BenchError> {
    let table = read_log(source).map_err(BenchError::ours("ingest"))?;
    let raw = build_matrix(&table, spec).map_err(BenchError::ours("features"))?;
    let scaled = Scaler::fit(Scaling::Standard, &raw)
        .and_then(|s| s.transform(&raw))
        .map_err(BenchError::ours("scaling"))?;
    let Trained {
        detector, scores, ..
    } = webthreat_detectors::train(config, &scaled, seed, None)
        .map_err(BenchError::ours("iforest fit"))?;
    let flags = detector.flags(&scores);
    let labels = scaled.labels().unwrap_or_default();
    let eval = BenchError::ours("evaluation");
    let auc = webthreat_report::roc_auc(&scores, labels);
    let ap = webthreat_report::average_precision(&scores, labels);
    let f1 = webthreat_report::confusion(&flags, labels).map(|c| c.f1());
    match (auc, ap, f1) {
        (Ok(auc), Ok(ap), Ok(f1)) => Ok([auc, ap, f1]),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(eval(e)),
    }
}

/// The experiment `xtask run` would execute: 4 features, standard scaling, one Isolation Forest
/// at 5% contamination, report plots off.
fn experiment_config(
    csv: &Path,
    seed: u64,
    detector: &DetectorConfig,
) -> Result<ExperimentConfig, BenchError> {
    let mut data = SourceSpec::cloudwatch(csv);
    data.label = Some(LabelSpec::Column("label".into()));
    let config = ExperimentConfig {
        name: "bench-e2e".into(),
        seed,
        data,
        features: Some(FEATURES_4.iter().map(|s| s.to_string()).collect()),
        features_exclude: Vec::new(),
        window_seconds: DEFAULT_WINDOW_SECONDS,
        scaling: Scaling::Standard,
        detectors: vec![detector.clone()],
        repeat: 1,
        sweep: Default::default(),
        suite: Vec::new(),
        rank_by: Default::default(),
        fit: None,
        intel: Default::default(),
        report: ReportOptions {
            plots: false,
            ..ReportOptions::default()
        },
        streaming: None,
    };
    config.validate().map_err(|message| BenchError::Ours {
        stage: "experiment config",
        message,
    })?;
    Ok(config)
}

/// Peak RSS of a fresh `xtask run CONFIG --out <run_store>` process (see [`run_xtask`]).
/// `None` when this process is not the xtask binary or `/proc` is missing.
fn fresh_run_peak_rss(
    experiment: &ExperimentConfig,
    run_store: &Path,
) -> Result<Option<u64>, BenchError> {
    std::fs::create_dir_all(run_store).map_err(BenchError::io(run_store))?;
    let config_path = run_store.join("bench-e2e.yaml");
    let yaml = experiment
        .to_yaml()
        .map_err(BenchError::ours("experiment config"))?;
    std::fs::write(&config_path, yaml).map_err(BenchError::io(&config_path))?;
    let args = [
        "run".into(),
        config_path.display().to_string(),
        "--out".into(),
        run_store.display().to_string(),
    ];
    Ok(run_xtask(&args, None)?.map(|child| child.peak_rss_bytes))
}

/// What a child `xtask` process took.
#[derive(Debug, Clone, Copy)]
pub struct ChildRun {
    /// Wall seconds from spawn to exit.
    pub seconds: f64,
    /// Peak resident set size (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
}

/// Runs this xtask binary with `args` as a fresh process, polling its `VmHWM` from
/// `/proc/<pid>/status` every 5 ms until it exits (the high-water mark only grows, so the
/// last reading is the peak up to the last 5 ms). `None` when this process is not the xtask
/// binary or `/proc` is missing; an error when the child fails. `stdin`: a file the child
/// reads as its standard input (else none).
pub fn run_xtask(args: &[String], stdin: Option<&Path>) -> Result<Option<ChildRun>, BenchError> {
    let Ok(exe) = std::env::current_exe() else {
        return Ok(None);
    };
    let is_xtask = exe
        .file_stem()
        .is_some_and(|s| s.to_string_lossy().starts_with("xtask"));
    if !is_xtask || !Path::new("/proc/self/status").exists() {
        return Ok(None);
    }
    let command = format!("{} {}", exe.display(), args.join(" "));
    let start = Instant::now();
    let stdin = match stdin {
        Some(path) => Stdio::from(std::fs::File::open(path).map_err(BenchError::io(path))?),
        None => Stdio::null(),
    };
    let mut child = Command::new(&exe)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BenchError::Command {
            command: command.clone(),
            message: e.to_string(),
        })?;
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak = 0;
    let status = loop {
        if let Some(bytes) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| crate::stats::parse_vm_hwm(&s))
        {
            peak = bytes;
        }
        match child.try_wait().map_err(BenchError::io(&exe))? {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        return Err(BenchError::Command {
            command,
            message: format!("{status}\n{stderr}"),
        });
    }
    Ok(Some(ChildRun {
        seconds,
        peak_rss_bytes: peak,
    }))
}

/// Threads of polars' pool: `POLARS_MAX_THREADS` when set, else all cores (polars' default).
pub fn polars_threads() -> usize {
    std::env::var("POLARS_MAX_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
