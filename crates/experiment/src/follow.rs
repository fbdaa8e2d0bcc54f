//! Live scoring: a finished run's saved feature pipeline, models and thresholds applied to a
//! log as it grows (`score --run RUN --follow FILE`), through the same scoring loop as every
//! other run, into a run of the experiment `<name>-follow` that is committed when the follow
//! stops.
//!
//! Rows are scored as soon as they are read, except when a feature aggregates over a time
//! window: a window's rows are then held until the window is complete ([`OpenWindows`]), so
//! that every row gets the window features a batch `score` of the same rows gives it.

use crate::config::{ExperimentConfig, StreamingOptions};
use crate::context;
use crate::driver::{Scoring, Typical, finish};
use crate::error::ExperimentError;
use crate::outputs::StageSeconds;
use crate::provenance;
use crate::saved::load_models;
use crate::stages::source_spec;
use crate::store::RunStore;
use crate::types::RunOutcome;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use webthreat_ingest::{Follow, LogTable, follow_log};

/// How a log is followed.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Set to stop (a signal handler does): the rows read are scored, held windows too, and
    /// the run is committed.
    pub stop: Arc<AtomicBool>,
    /// How long to wait before looking again for more of the log.
    pub poll: Duration,
    /// At most this many rows are read, featurized and scored at a time.
    pub batch_rows: usize,
    /// With window features: how long (in the log's time) a window stays open after a later
    /// row was seen, for rows written late (a connection log writes a row when the connection
    /// ends).
    pub lateness_seconds: u64,
}

/// Follows `data` (a file, or `-` for standard input) and scores it with the saved models of
/// `run_dir` until `options.stop` is set or standard input ends. Each batch's alerts are
/// appended to the new run's `alerts.jsonl` and copied to `alerts` as they are written; the
/// run is committed when the follow ends.
pub fn follow_with_run(
    run_dir: &Path,
    data: &Path,
    store_root: &Path,
    options: &FollowOptions,
    alerts: &mut dyn Write,
) -> Result<RunOutcome, ExperimentError> {
    let config_path = run_dir.join("config.yaml");
    let mut config = ExperimentConfig::load(&config_path, &[], Some(data))?;
    config.name = format!("{}-follow", config.name);
    // bounded state, as a streamed run: binned scores for the ranking metrics
    config.streaming = Some(StreamingOptions {
        batch_rows: options.batch_rows.max(1),
        ..StreamingOptions::default()
    });
    let (pipeline, detectors) = load_models(run_dir, &config)?;
    let bad_run = |message: String| ExperimentError::BadRun {
        path: run_dir.join("models").join("features.json"),
        message,
    };
    let spec = &pipeline.spec;
    let whole_log: Vec<&str> = (spec.names.iter().chain(&spec.rule_features))
        .zip(spec.features())
        .filter(|(_, f)| f.needs_whole_log())
        .map(|(name, _)| name.as_str())
        .collect();
    if !whole_log.is_empty() {
        return Err(bad_run(format!(
            "features {} need the whole log (every connection of a pair, or a source's earlier \
             windows), which a followed log never is; follow with a run without them",
            whole_log.join(", ")
        )));
    }
    if pipeline.typical.is_empty() {
        return Err(bad_run(
            "holds no typical values for the alerts' explanations (written by an older \
             webthreat); rerun the experiment to follow with it"
                .into(),
        ));
    }
    let mut pipeline = pipeline;
    pipeline.spec.context = context::row_context(context::load_intel(&config)?, None);

    let store = RunStore::new(store_root);
    let started = provenance::now_ms();
    let pending = store.begin(&config.name)?;
    let mut notes = vec![format!(
        "followed {} with the saved models of {} (no refit)",
        data.display(),
        run_dir.display()
    )];
    let typical = Typical::Fitted(pipeline.typical.clone());
    let mut scoring = Scoring::new(&config, &pending, &pipeline, &detectors, typical)?;
    let mut windows = (!pipeline.spec.window_features().is_empty())
        .then(|| OpenWindows::new(pipeline.spec.window_seconds, options.lateness_seconds));
    let follow = Follow {
        stop: Arc::clone(&options.stop),
        poll: options.poll,
    };
    let mut spec = source_spec(&config)?;
    // the label column is looked for only after the header is read, which standard input
    // cannot be read again for: a followed log is scored, not evaluated
    if spec.label.take().is_some() {
        notes.push("labels: a followed log is not evaluated against ground truth".into());
    }
    let mut batches = follow_log(&spec, options.batch_rows, follow)?;
    let mut copied = 0;
    let mut k = 0;
    let mut score = |scoring: &mut Scoring<'_>, table: LogTable| -> Result<(), ExperimentError> {
        k += 1;
        scoring.table(k, table)
    };
    for table in batches.by_ref() {
        let table = table?;
        match &mut windows {
            Some(windows) => {
                if let Some(ready) = windows.add(table)? {
                    score(&mut scoring, ready)?;
                }
            }
            None => score(&mut scoring, table)?,
        }
        copied = copy_new_alerts(scoring.flush()?, copied, alerts)?;
    }
    if let Some(rest) = windows.as_mut().and_then(OpenWindows::drain) {
        score(&mut scoring, rest)?;
    }
    copy_new_alerts(scoring.flush()?, copied, alerts)?;
    if let Some(windows) = &windows {
        notes.push(format!(
            "window features: rows were scored once their {} s window had been complete for \
             {} s of the log's time",
            windows.window_ms / 1000,
            windows.lateness_ms / 1000
        ));
        if windows.late > 0 {
            notes.push(format!(
                "window features: {} rows came after their window had been scored; their \
                 window features count only the rows scored with them",
                windows.late
            ));
        }
    }
    if let Some((file, line, bytes)) = batches.unfinished() {
        notes.push(format!(
            "stopped in the middle of a record: {}, line {line}: {bytes} bytes of it read and \
             not scored",
            file.display()
        ));
    }
    let data_blake3 = batches.data_blake3();
    finish(
        &config,
        data_blake3,
        scoring,
        StageSeconds::default(),
        (&store, pending),
        started,
        notes,
        Some(run_dir),
        false,
    )
}

/// Copies what `alerts.jsonl` holds past `from` bytes to `out`; returns its length.
fn copy_new_alerts(path: &Path, from: u64, out: &mut dyn Write) -> Result<u64, ExperimentError> {
    let io_err = |error| ExperimentError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    file.seek(SeekFrom::Start(from)).map_err(io_err)?;
    let mut new = Vec::new();
    file.read_to_end(&mut new).map_err(io_err)?;
    out.write_all(&new)
        .and_then(|()| out.flush())
        .map_err(|error| ExperimentError::Io {
            path: "stdout".into(),
            error,
        })?;
    Ok(from + new.len() as u64)
}

/// The rows of a followed log whose time windows may still get rows. A window is complete
/// once a row starting `lateness` after its end has been read; its rows are then handed out
/// to be scored together (with every earlier window's), so that window aggregates count what
/// they count in the whole log. Memory holds the rows of the open windows only.
struct OpenWindows {
    window_ms: i64,
    lateness_ms: i64,
    held: Option<LogTable>,
    /// Every window starting before this time has been handed out.
    handed_out_before: Option<i64>,
    /// Rows read after their window was handed out.
    late: u64,
}

impl OpenWindows {
    fn new(window_seconds: u64, lateness_seconds: u64) -> Self {
        Self {
            window_ms: window_seconds as i64 * 1000,
            lateness_ms: lateness_seconds as i64 * 1000,
            held: None,
            handed_out_before: None,
            late: 0,
        }
    }

    /// Adds the rows of `table`; returns those of the windows it completed (with rows without
    /// a start time, and rows late for a window already handed out), if any.
    fn add(&mut self, table: LogTable) -> Result<Option<LogTable>, ExperimentError> {
        if let Some(before) = self.handed_out_before {
            self.late += table.rows_starting_before(before)? as u64;
        }
        let mut held = match self.held.take() {
            Some(mut held) => {
                held.append(table)?;
                held
            }
            None => table,
        };
        let Some(latest) = held.latest_start_ms()? else {
            return Ok(Some(held));
        };
        let complete_before =
            (latest - self.lateness_ms).div_euclid(self.window_ms) * self.window_ms;
        let before = self
            .handed_out_before
            .map_or(complete_before, |b| b.max(complete_before));
        self.handed_out_before = Some(before);
        let ready = held.split_off_before(before)?;
        self.held = Some(held);
        let any = ready.rows() > 0 || !ready.rejected.is_empty() || !ready.missing.is_empty();
        Ok(any.then_some(ready))
    }

    /// Every row still held (the follow has ended).
    fn drain(&mut self) -> Option<LogTable> {
        self.held.take().filter(|t| t.rows() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    /// A CloudWatch-format log: a header and rows `range` of a regular traffic pattern (a
    /// row a minute, from a few sources), every 13th row a large transfer.
    fn rows(range: std::ops::Range<usize>, header: bool) -> String {
        let mut text = String::new();
        if header {
            text.push_str("bytes_in,bytes_out,creation_time,end_time,src_ip,dst_ip,src_ip_country_code,protocol,dst_port\n");
        }
        for i in range {
            let (bytes_in, bytes_out) = match i % 13 == 7 {
                true => (2_000_000 + i * 31, 40),
                false => (1000 + (i * 7919) % 3000, 2000 + (i * 104_729) % 5000),
            };
            let (h, m) = (i / 60, i % 60);
            text.push_str(&format!(
                "{bytes_in},{bytes_out},2024-04-25T{h:02}:{m:02}:00Z,2024-04-25T{h:02}:{m:02}:30Z,10.0.0.{},10.1.0.1,US,HTTPS,443\n",
                i % 5
            ));
        }
        text
    }

    fn fitted_run(dir: &Path, features: &str) -> std::path::PathBuf {
        let log = dir.join("fit.csv");
        std::fs::write(&log, rows(0..300, true)).unwrap();
        let config = format!(
            "name: live\nseed: 3\ndata:\n  path: {}\n  format: cloudwatch\nfeatures: [{features}]\nwindow_seconds: 600\ndetectors:\n  - kind: iforest\n    n_estimators: 40\n    contamination: 0.05\n",
            log.display()
        );
        let config = ExperimentConfig::parse(&config, &[]).unwrap();
        let opts = crate::RunOptions {
            store_root: dir.join("runs"),
            data_overridden: false,
            record_git: false,
        };
        crate::run(&config, &opts).unwrap().dir
    }

    /// `scores.csv` rows keyed by row id, without the header.
    fn scores_by_row(run: &Path) -> std::collections::BTreeMap<String, String> {
        let text = std::fs::read_to_string(run.join("scores.csv")).unwrap();
        text.lines()
            .skip(1)
            .map(|l| (l.split(',').next().unwrap().to_string(), l.to_string()))
            .collect()
    }

    /// Appends `text` to `path` in three writes, the first ending mid-record.
    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        let cut = text.len() / 3;
        f.write_all(&text.as_bytes()[..cut]).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        f.write_all(&text.as_bytes()[cut..]).unwrap();
    }

    /// Follows a log written in bursts and rotated once, checks that the alerts appear while
    /// it runs, and that the committed run's scores equal a batch `score` of the same rows.
    fn follow_matches_batch_scoring(features: &str) {
        let dir = tempfile::tempdir().unwrap();
        let run = fitted_run(dir.path(), features);
        let live = dir.path().join("live.csv");
        std::fs::write(&live, rows(0..40, true)).unwrap();
        let options = FollowOptions {
            stop: Arc::new(AtomicBool::new(false)),
            poll: Duration::from_millis(20),
            batch_rows: 64,
            lateness_seconds: 60,
        };
        let (store, stop) = (dir.path().join("runs"), Arc::clone(&options.stop));
        let follower = {
            let (run, live, store) = (run.clone(), live.clone(), store.clone());
            std::thread::spawn(move || {
                let mut alerts = Vec::new();
                let outcome = follow_with_run(&run, &live, &store, &options, &mut alerts);
                (outcome, alerts)
            })
        };
        let alerts_file = |store: &Path| {
            let exp = store.join("live-follow");
            std::fs::read_dir(&exp)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("alerts.jsonl"))
                .find(|p| p.exists())
                .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
                .unwrap_or(0)
        };
        // bursts, then a rotation by rename, then more bursts in the new file
        append(&live, &rows(40..120, false));
        std::thread::sleep(Duration::from_millis(150));
        append(&live, &rows(120..200, false));
        let waited = std::time::Instant::now();
        while alerts_file(&store) == 0 {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "no alert within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::rename(&live, dir.path().join("live.csv.1")).unwrap();
        append(&live, &rows(200..260, true));
        std::thread::sleep(Duration::from_millis(150));
        append(&live, &rows(260..330, false));
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::SeqCst);
        let (outcome, printed) = follower.join().unwrap();
        let outcome = outcome.unwrap();
        assert_eq!(outcome.rows, 330);

        // the same rows at once
        let whole = dir.path().join("whole.csv");
        std::fs::write(&whole, rows(0..330, true)).unwrap();
        let batch = crate::score_with_run(&run, &whole, &store, None).unwrap();
        let (followed, scored) = (scores_by_row(&outcome.dir), scores_by_row(&batch.dir));
        assert_eq!(followed.len(), 330);
        assert_eq!(followed, scored);
        // the printed alerts are the run's alerts.jsonl
        let written = std::fs::read(outcome.dir.join("alerts.jsonl")).unwrap();
        assert_eq!(printed, written);
        assert!(!written.is_empty());
    }

    #[test]
    fn following_a_growing_rotated_log_scores_as_a_batch_score_does() {
        follow_matches_batch_scoring("bytes_in, bytes_out, session_duration");
    }

    #[test]
    fn window_features_wait_for_their_window_and_match_a_batch_score() {
        follow_matches_batch_scoring("bytes_in, src_sessions, src_bytes, dst_fan_in");
    }

    #[test]
    fn late_rows_are_counted() {
        let mut windows = OpenWindows::new(600, 0);
        let table = |range| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.csv");
            std::fs::write(&path, rows(range, true)).unwrap();
            let spec = webthreat_ingest::SourceSpec {
                format: webthreat_ingest::Format::Cloudwatch,
                ..webthreat_ingest::SourceSpec::table(&path)
            };
            webthreat_ingest::read_log(&spec).unwrap()
        };
        // rows of 00:00-00:29 complete the windows before 00:20
        let ready = windows.add(table(0..30)).unwrap().unwrap();
        assert_eq!(ready.rows(), 20);
        // a row of 00:05 comes late
        let ready = windows.add(table(5..6)).unwrap().unwrap();
        assert_eq!((ready.rows(), windows.late), (1, 1));
        assert_eq!(windows.drain().unwrap().rows(), 10);
    }
}
