//! Benchmark harness (`cargo xtask bench`): our pipeline against pandas + scikit-learn on the
//! same generated CloudWatch logs, in one invocation.
//!
//! For each size, [`run`] generates a labeled log with `webthreat_synth` (seeded, cached under
//! `<out>/data/`), measures our stages in-process ([`ours`]), runs the peer script
//! `bench/peer.py` in a venv it creates at `<root>/.venv` ([`peer`]), and pairs the medians in a
//! table ([`report`]): ingest, features (4 and 10), Isolation Forest fit and score (1 and 2
//! threads, 100 trees, 256 samples, standard-scaled features), the end-to-end pipeline in memory
//! and as `webthreat_experiment::run` with plots off, plus ROC AUC of both detectors (must agree
//! within 0.01), peak RSS and the targets of issue 5. Results go to
//! `<out>/<YYYYMMDD-HHMMSS>/bench.md` and `bench.json`. [`formats`] adds ingest per native
//! format (the same rows as Zeek, VPC Flow and ALB logs and a gzip copy of the Zeek log, against
//! pandas and python polars; `--only-formats` measures nothing else). [`beacon`] adds beacon
//! scoring per connection pair against pandas (`--only-beacon` measures nothing else,
//! `--skip-beacon` leaves it out). [`scaling`] measures
//! streaming runs as the log grows (`cargo xtask bench --streaming`).

pub mod beacon;
mod error;
pub mod formats;
pub mod ours;
pub mod peer;
pub mod report;
pub mod scaling;
pub mod stats;

pub use error::BenchError;
pub use report::BenchReport;

use std::path::{Path, PathBuf};

/// Whether to measure ingest per native format ([`formats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatsMode {
    /// The main comparison only.
    Skip,
    /// The main comparison, then ingest per format at each size.
    #[default]
    Include,
    /// Ingest per format only.
    Only,
}

/// Whether to measure beacon scoring ([`beacon`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BeaconMode {
    /// Leave it out.
    Skip,
    /// After the other comparisons, at each size.
    #[default]
    Include,
    /// Beacon scoring only.
    Only,
}

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Data sizes in rows.
    pub sizes: Vec<usize>,
    /// Repetitions per measurement (medians are reported).
    pub reps: usize,
    /// Output root: results in `<out>/<timestamp>/`, generated data in `<out>/data/`.
    pub out: PathBuf,
    /// Seed of the generated data and of both forests.
    pub seed: u64,
    /// Thread counts of the detector measurements.
    pub threads: Vec<usize>,
    /// Repository root: holds `bench/peer.py` and the `.venv`.
    pub root: PathBuf,
    /// Ingest per native format.
    pub formats: FormatsMode,
    /// Beacon scoring.
    pub beacon: BeaconMode,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            sizes: vec![10_000, 100_000, 1_000_000],
            reps: 5,
            out: PathBuf::from("experiments/bench"),
            seed: 42,
            threads: vec![1, 2],
            root: workspace_root(),
            formats: FormatsMode::default(),
            beacon: BeaconMode::default(),
        }
    }
}

/// The workspace root this crate was built in (two levels above its manifest).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .unwrap_or(here)
        .to_path_buf()
}

/// Runs the benchmark, prints the Markdown report on stdout, writes `bench.md` and `bench.json`
/// and returns the report with the directory it was written to.
pub fn run(opts: &BenchOptions) -> Result<(BenchReport, PathBuf), BenchError> {
    if opts.sizes.is_empty() || opts.sizes.contains(&0) {
        return Err(BenchError::Options(
            "--sizes needs positive row counts".into(),
        ));
    }
    if opts.reps == 0 || opts.threads.is_empty() || opts.threads.contains(&0) {
        return Err(BenchError::Options(
            "--reps and thread counts must be at least 1".into(),
        ));
    }
    let load_at_start = report::load_average();
    let mut sizes = opts.sizes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let peer = peer::Peer::ensure(&opts.root)?;
    let formats_mode = if opts.beacon == BeaconMode::Only {
        FormatsMode::Skip
    } else {
        opts.formats
    };
    let polars_error = match formats_mode {
        FormatsMode::Skip => None,
        _ => peer.ensure_polars().err(),
    };
    if let Some(e) = &polars_error {
        eprintln!("bench: python polars is not available, the per-format peer is pandas only: {e}");
    }
    let dir = new_result_dir(&opts.out)?;
    let run_store = dir.join("runs");
    let pools = opts
        .threads
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map(|p| (t, p))
                .map_err(BenchError::ours("thread pool"))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut rows = Vec::new();
    let mut checks = Vec::new();
    let mut ours_all = Vec::new();
    let mut peer_all = Vec::new();
    let mut ours_formats = Vec::new();
    let mut peer_formats = Vec::new();
    // `--only-formats`: none of the pipeline comparison
    let pipeline_sizes: &[usize] =
        if opts.formats == FormatsMode::Only || opts.beacon == BeaconMode::Only {
            &[]
        } else {
            &sizes
        };
    for &n in pipeline_sizes {
        let csv = data_file(&opts.out, n, opts.seed)?;
        let csv_bytes = std::fs::metadata(&csv).map_err(BenchError::io(&csv))?.len();
        eprintln!("bench: {n} rows: ours ({} reps)", opts.reps);
        let ours = ours::measure(&csv, opts.reps, opts.seed, &pools, &run_store)?;
        eprintln!(
            "bench: {n} rows: pandas + scikit-learn ({} reps)",
            opts.reps
        );
        let theirs = peer.measure(&csv, opts.reps, opts.seed, &opts.threads)?;
        if theirs.rows != ours.rows {
            return Err(BenchError::PeerOutput(format!(
                "the peer read {} rows, we read {}",
                theirs.rows, ours.rows
            )));
        }
        rows.extend(report::rows_for_size(&ours, &theirs, &opts.threads));
        checks.push(report::checks_for_size(&ours, &theirs, csv_bytes));
        ours_all.push(ours);
        peer_all.push(theirs);
    }
    let _ = std::fs::remove_dir_all(&run_store);
    // after the pipeline comparison at every size, so that its measurements are those of a run
    // without the per-format rows
    if formats_mode != FormatsMode::Skip {
        for &n in &sizes {
            let (ours, theirs) = measure_formats(&peer, opts, n, polars_error.as_deref())?;
            ours_formats.push(ours);
            peer_formats.push(theirs);
        }
    }
    let mut beacon_rows = Vec::new();
    if opts.beacon != BeaconMode::Skip
        && (opts.formats != FormatsMode::Only || opts.beacon == BeaconMode::Only)
    {
        for &n in &sizes {
            beacon_rows.push(beacon::measure(&peer, &opts.out, n, opts.seed, opts.reps)?);
        }
    }

    let targets = report::targets(&rows, &checks, &opts.threads);
    let report = BenchReport {
        machine: report::Machine::detect(ours::polars_threads(), load_at_start),
        reps: opts.reps,
        seed: opts.seed,
        peer_versions: peer_all.first().map(|p| p.versions.clone()),
        rows,
        checks,
        targets,
        ours: ours_all,
        peer: peer_all,
        formats: (formats_mode != FormatsMode::Skip)
            .then(|| formats::FormatsReport::new(ours_formats, peer_formats)),
        beacon: beacon_rows,
    };
    let markdown = report.markdown();
    print!("{markdown}");
    let md = dir.join("bench.md");
    std::fs::write(&md, &markdown).map_err(BenchError::io(&md))?;
    let json_path = dir.join("bench.json");
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| BenchError::Options(format!("serializing the report: {e}")))?;
    std::fs::write(&json_path, json).map_err(BenchError::io(&json_path))?;
    Ok((report, dir))
}

/// `<out>/data/cloudwatch-<rows>-seed<seed>.csv`, generated when missing (the generator is
/// deterministic, so an existing file is the same data).
pub(crate) fn data_file(out: &Path, rows: usize, seed: u64) -> Result<PathBuf, BenchError> {
    formats::data_file(out, formats::Case::Cloudwatch, rows, seed)
}

/// Ingest per format at one size: generates (or finds) the files, times our reads, then the
/// peer's on the same files, and checks that both read the same number of records.
fn measure_formats(
    peer: &peer::Peer,
    opts: &BenchOptions,
    rows: usize,
    polars_error: Option<&str>,
) -> Result<(formats::OursFormats, peer::PeerFormats), BenchError> {
    let files = formats::case_files(&opts.out, rows, opts.seed)?;
    eprintln!(
        "bench: {rows} rows: ingest per format, ours ({} reps)",
        opts.reps
    );
    let ours = formats::measure_ours(&files, rows, opts.reps)?;
    eprintln!(
        "bench: {rows} rows: ingest per format, pandas{} ({} reps)",
        if polars_error.is_none() {
            " and polars"
        } else {
            ""
        },
        opts.reps
    );
    let jobs: Vec<(&str, &Path)> = files.iter().map(|f| (f.format, f.path.as_path())).collect();
    let mut theirs = peer.measure_formats(&jobs, opts.reps, polars_error.is_none())?;
    theirs.rows = rows;
    if let Some(e) = polars_error {
        theirs.polars_error.get_or_insert_with(|| e.to_string());
    }
    for read in &ours.reads {
        let records = theirs.read(read.file.format).map(|r| r.rows);
        if records != Some(read.source_rows) {
            return Err(BenchError::PeerOutput(format!(
                "{}: pandas read {records:?} records, we read {} ({} rejected)",
                read.file.format, read.source_rows, read.rejected
            )));
        }
    }
    Ok((ours, theirs))
}

/// A fresh `<out>/<YYYYMMDD-HHMMSS>` directory (`-2`, `-3`, ... when taken).
pub(crate) fn new_result_dir(out: &Path) -> Result<PathBuf, BenchError> {
    std::fs::create_dir_all(out).map_err(BenchError::io(out))?;
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let stamp = compact_timestamp(&webthreat_ingest::timestamp::format_epoch_ms(
        ms - ms % 1000,
    ));
    for k in 1.. {
        let name = if k == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{k}")
        };
        let dir = out.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(BenchError::io(&dir)(e)),
        }
    }
    unreachable!("the loop returns")
}

/// `2026-05-01T12:34:56Z` -> `20260501-123456`.
fn compact_timestamp(iso: &str) -> String {
    iso.chars()
        .filter(|c| !matches!(c, '-' | ':' | 'Z'))
        .map(|c| if c == 'T' { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_directory_names() {
        assert_eq!(compact_timestamp("2026-05-01T12:34:56Z"), "20260501-123456");
    }

    #[test]
    fn result_directories_are_never_reused() {
        let out = std::env::temp_dir().join(format!("webthreat-bench-test-{}", std::process::id()));
        let a = new_result_dir(&out).unwrap();
        let b = new_result_dir(&out).unwrap();
        assert_ne!(a, b);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
