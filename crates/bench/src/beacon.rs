//! The "Beacon scoring" comparison: per-pair beacon scores of a generated log with beacons
//! (`webthreat_synth::BeaconPlan::levels` at jitter 0, 0.1, 0.3 and 0.5, CloudWatch CSV),
//! ours against pandas, both from columns already in memory.
//!
//! Ours: what a run does, [`webthreat_features::PairAnalysis`] over the log table `read_log`
//! parsed (every pair, any direction; sizes are `bytes_in`, the bytes the source sent), then
//! `finish` (every pair with at least 10 connections scored). The peer
//! (`bench/beacon_peer.py`): the same analysis on a pandas DataFrame (groupby per pair, distinct
//! seconds sorted, intervals, quartiles, Bowley skewness, MADM and grid fit of intervals, the
//! same of sizes, count and coverage). Both single-threaded, timed per repetition, medians
//! compared; the per-pair scores of both sides must agree.

use crate::error::BenchError;
use crate::formats;
use crate::peer::Peer;
use crate::stats::{median, time_reps};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use webthreat_beacon::{BeaconParams, BeaconTable};
use webthreat_features::{PairAnalysis, PairKey, PairScores};
use webthreat_ingest::{LogTable, SourceSpec};

/// The jitter levels of the generated beacons.
pub const JITTERS: [f64; 4] = [0.0, 0.1, 0.3, 0.5];
/// Largest difference of one pair's score between ours and the peer that counts as agreement,
/// over the pairs our tally kept at 1 s resolution (their sizes may still be rounded when a pair
/// has more than `max_points` distinct sizes). Pairs with more than `max_points` distinct
/// seconds are coarsened on our side (see the crate docs of `webthreat-beacon`) and are only
/// counted.
pub const SCORE_TOLERANCE: f64 = 0.01;

/// One size measured on both sides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BeaconRow {
    /// Rows of the log.
    pub rows: usize,
    /// Pairs seen.
    pub pairs: usize,
    /// Pairs scored (at least 10 connections).
    pub scored: usize,
    /// Our seconds per repetition.
    pub ours_s: Vec<f64>,
    /// pandas' seconds per repetition.
    pub pandas_s: Vec<f64>,
    /// Pairs our tally coarsened below 1 s resolution (not compared).
    pub coarsened: usize,
    /// Largest difference of a pair's score between the two sides (pairs at 1 s resolution).
    pub max_score_diff: f64,
}

impl BeaconRow {
    /// pandas / ours of the medians: how many times faster we are.
    pub fn ratio(&self) -> f64 {
        median(&self.pandas_s) / median(&self.ours_s)
    }
}

/// What `bench/beacon_peer.py` prints.
#[derive(Debug, Clone, Deserialize)]
struct PeerBeacon {
    rows: usize,
    pairs: usize,
    seconds: Vec<f64>,
    /// `[src, dst, port, score]` of every scored pair.
    scores: Vec<(String, String, u16, f64)>,
}

/// `<out>/data/cloudwatch-beacons-<rows>-seed<seed>.csv`, generated when missing.
pub fn data_file(out: &Path, rows: usize, seed: u64) -> Result<PathBuf, BenchError> {
    let dir = out.join("data");
    std::fs::create_dir_all(&dir).map_err(BenchError::io(&dir))?;
    let path = dir.join(format!("cloudwatch-beacons-{rows}-seed{seed}.csv"));
    if !path.is_file() {
        eprintln!("bench: generating {}", path.display());
        let config = webthreat_synth::GenConfig {
            rows,
            seed,
            beacons: webthreat_synth::BeaconPlan::levels(&JITTERS),
            ..webthreat_synth::GenConfig::default()
        };
        let mut tmp = path.clone().into_os_string();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(BenchError::io(&tmp))?;
        webthreat_synth::generate(&config, BufWriter::new(file))
            .map_err(BenchError::ours("gen-data"))?;
        std::fs::rename(&tmp, &path).map_err(BenchError::io(&path))?;
    }
    Ok(path)
}

/// Reads the log with our reader (before timing: the peer's DataFrame is read beforehand too).
pub fn read_table(csv: &Path) -> Result<LogTable, BenchError> {
    let source: SourceSpec = formats::Case::Cloudwatch.spec(csv);
    webthreat_ingest::read_log(&source).map_err(BenchError::ours("ingest"))
}

/// Our analysis, as a run makes it: every pair of the table tallied, then scored.
pub fn score(table: &LogTable) -> Result<PairScores, BenchError> {
    let mut analysis = PairAnalysis::new(BeaconParams::default(), None);
    analysis
        .add(table)
        .map_err(BenchError::ours("beacon analysis"))?;
    Ok(analysis.finish())
}

/// Measures both sides on a generated log of `rows` rows.
pub fn measure(
    peer: &Peer,
    out: &Path,
    rows: usize,
    seed: u64,
    reps: usize,
) -> Result<BeaconRow, BenchError> {
    let csv = data_file(out, rows, seed)?;
    let log = read_table(&csv)?;
    eprintln!("bench: {rows} rows: beacon scoring, ours ({reps} reps)");
    let (ours_s, scores) = time_reps(reps, |_| score(&log))?;
    let table = &scores.table;
    eprintln!("bench: {rows} rows: beacon scoring, pandas ({reps} reps)");
    let script = peer.script.with_file_name("beacon_peer.py");
    let stdout = crate::peer::run_checked(
        Command::new(&peer.python)
            .arg(&script)
            .arg("--csv")
            .arg(&csv)
            .arg("--reps")
            .arg(reps.to_string()),
    )?;
    let theirs: PeerBeacon = crate::peer::last_json_line(&stdout)?;
    if theirs.rows != log.rows() || theirs.pairs != table.analysed_pairs() {
        return Err(BenchError::PeerOutput(format!(
            "beacon: pandas saw {} rows and {} pairs, we saw {} and {}",
            theirs.rows,
            theirs.pairs,
            log.rows(),
            table.analysed_pairs()
        )));
    }
    let max_score_diff = compare(table, &theirs.scores)?;
    Ok(BeaconRow {
        rows,
        pairs: table.analysed_pairs(),
        scored: table.pairs().len(),
        coarsened: table
            .pairs()
            .iter()
            .filter(|p| p.resolution_s > 1.0)
            .count(),
        ours_s,
        pandas_s: theirs.seconds,
        max_score_diff,
    })
}

/// The largest score difference over the pairs; an error when the scored pairs differ or a
/// difference exceeds [`SCORE_TOLERANCE`].
fn compare(
    table: &BeaconTable<PairKey>,
    theirs: &[(String, String, u16, f64)],
) -> Result<f64, BenchError> {
    if theirs.len() != table.pairs().len() {
        return Err(BenchError::PeerOutput(format!(
            "beacon: pandas scored {} pairs, we scored {}",
            theirs.len(),
            table.pairs().len()
        )));
    }
    let mine: HashMap<(&str, &str, u32), (f64, f64)> = table
        .pairs()
        .iter()
        .map(|p| ((&*p.key.0, &*p.key.1, p.key.2), (p.score, p.resolution_s)))
        .collect();
    let mut worst = 0.0f64;
    let mut worst_pair = String::new();
    for (src, dst, port, score) in theirs {
        let Some(&(ours, resolution_s)) = mine.get(&(src.as_str(), dst.as_str(), u32::from(*port)))
        else {
            return Err(BenchError::PeerOutput(format!(
                "beacon: pandas scored {src} -> {dst}:{port}, we did not"
            )));
        };
        if resolution_s > 1.0 {
            continue;
        }
        if (ours - score).abs() > worst {
            worst = (ours - score).abs();
            worst_pair = format!("{src} -> {dst}:{port}: ours {ours}, pandas {score}");
        }
    }
    if worst > SCORE_TOLERANCE {
        return Err(BenchError::PeerOutput(format!(
            "beacon: scores differ by up to {worst} (tolerance {SCORE_TOLERANCE}; {worst_pair})"
        )));
    }
    Ok(worst)
}

/// The Markdown section of the comparison.
pub fn markdown(rows: &[BeaconRow]) -> String {
    let mut s = String::from(
        "\n## Beacon scoring\n\nPer-pair beacon scores (pairs keyed by src_ip, dst_ip, dst_port; \
         pairs with >= 10 connections scored) from columns in memory, single-threaded on both \
         sides; generated logs with beacons at jitter 0, 0.1, 0.3, 0.5.\n\n\
         Max score diff: over the pairs we kept at 1 s resolution; coarsened: pairs with more \
         than 4096 distinct seconds, whose intervals we see at a coarser resolution.\n\n\
         | rows | pairs | scored | coarsened | ours | pandas | pandas / ours | max score diff |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1e} |\n",
            crate::report::human_rows(r.rows),
            r.pairs,
            r.scored,
            r.coarsened,
            crate::report::fmt_secs(median(&r.ours_s)),
            crate::report::fmt_secs(median(&r.pandas_s)),
            crate::report::fmt_ratio(r.ratio()),
            r.max_score_diff
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use webthreat_beacon::DEFAULT_THRESHOLD;

    #[test]
    fn scores_the_generated_beacons_as_a_run_does() {
        let out =
            std::env::temp_dir().join(format!("webthreat-bench-beacon-{}", std::process::id()));
        let csv = data_file(&out, 20_000, 3).unwrap();
        let log = read_table(&csv).unwrap();
        assert_eq!(log.rows(), 20_000);
        let scores = score(&log).unwrap();
        let table = &scores.table;
        assert!(table.analysed_pairs() > table.pairs().len());
        // the 12 generated beacons (internal 10.40.x sources) score above the default threshold
        let beacons = (table.pairs().iter())
            .filter(|p| p.key.0.starts_with("10.40.") && p.score > DEFAULT_THRESHOLD)
            .count();
        assert_eq!(beacons, 12);
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn the_table_shows_the_ratio() {
        let row = BeaconRow {
            rows: 1_000_000,
            pairs: 9,
            scored: 5,
            coarsened: 1,
            ours_s: vec![0.1, 0.2, 0.3],
            pandas_s: vec![3.0, 2.0, 4.0],
            max_score_diff: 1e-12,
        };
        assert_eq!(row.ratio(), 15.0);
        let md = markdown(&[row]);
        assert!(
            md.contains("## Beacon scoring") && md.contains("| 5 | 1 |"),
            "{md}"
        );
    }
}
