//! The "Beacon scoring" comparison: per-pair beacon scores of a generated log with beacons
//! (`webthreat_synth::BeaconPlan::levels` at jitter 0, 0.1, 0.3 and 0.5, CloudWatch CSV),
//! ours against pandas, both from columns already in memory.
//!
//! Ours: [`webthreat_beacon::BeaconTally`] keyed by `(src_ip, dst_ip, dst_port)` borrowed from
//! the columns `read_log` parsed, every row added, then `finish` (every pair with at least 10
//! connections scored). The peer (`bench/beacon_peer.py`): the same analysis on a pandas
//! DataFrame (groupby per pair, distinct seconds sorted, intervals, quartiles, Bowley skewness
//! and MADM of intervals and sizes, count and coverage). Both single-threaded, timed per
//! repetition, medians compared; the per-pair scores of both sides must agree.

use crate::error::BenchError;
use crate::formats;
use crate::peer::Peer;
use crate::stats::{median, time_reps};
use polars::prelude::DataType;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use webthreat_beacon::{BeaconParams, BeaconTable, BeaconTally};
use webthreat_ingest::SourceSpec;
use webthreat_ingest::canonical::{BYTES_IN, BYTES_OUT, DST_IP, DST_PORT, SRC_IP, START_TIME};

/// The jitter levels of the generated beacons.
pub const JITTERS: [f64; 4] = [0.0, 0.1, 0.3, 0.5];
/// Largest difference of one pair's score between ours and the peer that counts as agreement,
/// over the pairs our tally kept at 1 s resolution (their sizes may still be rounded when a pair
/// has more than `max_points` distinct sizes). Pairs with more than `max_points` distinct
/// seconds are coarsened on our side (see the crate docs of `webthreat-beacon`) and are only
/// counted.
pub const SCORE_TOLERANCE: f64 = 0.01;

/// The parsed columns the scoring starts from.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// Source addresses.
    pub src: Vec<String>,
    /// Destination addresses.
    pub dst: Vec<String>,
    /// Destination ports.
    pub port: Vec<u16>,
    /// Connection start, Unix milliseconds.
    pub time_ms: Vec<i64>,
    /// `bytes_in + bytes_out`.
    pub bytes: Vec<u64>,
}

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

/// Reads the log with our reader and copies out the columns the scoring needs.
pub fn read_columns(csv: &Path) -> Result<Columns, BenchError> {
    let source: SourceSpec = formats::Case::Cloudwatch.spec(csv);
    let table = webthreat_ingest::read_log(&source).map_err(BenchError::ours("ingest"))?;
    let err = |e: polars::prelude::PolarsError| BenchError::Ours {
        stage: "beacon columns",
        message: e.to_string(),
    };
    let df = &table.df;
    let text = |name: &str| -> Result<Vec<String>, BenchError> {
        let c = df.column(name).map_err(&err)?;
        let s = c.str().map_err(&err)?;
        Ok(s.iter().map(|v| v.unwrap_or("").to_string()).collect())
    };
    let ints = |name: &str| -> Result<Vec<i64>, BenchError> {
        let c = df.column(name).map_err(&err)?;
        let c = c.cast(&DataType::Int64).map_err(&err)?;
        Ok(c.i64()
            .map_err(&err)?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (bytes_in, bytes_out) = (ints(BYTES_IN)?, ints(BYTES_OUT)?);
    Ok(Columns {
        src: text(SRC_IP)?,
        dst: text(DST_IP)?,
        port: ints(DST_PORT)?.into_iter().map(|p| p as u16).collect(),
        time_ms: ints(START_TIME)?,
        bytes: bytes_in
            .iter()
            .zip(&bytes_out)
            .map(|(a, b)| (a + b).max(0) as u64)
            .collect(),
    })
}

/// Our analysis: every row into a tally per `(src, dst, port)`, then every pair scored.
pub fn score(c: &Columns) -> BeaconTable<(&str, &str, u16)> {
    let mut tally = BeaconTally::new(BeaconParams::default());
    for i in 0..c.src.len() {
        tally.add(
            &(c.src[i].as_str(), c.dst[i].as_str(), c.port[i]),
            c.time_ms[i],
            c.bytes[i],
        );
    }
    tally.finish()
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
    let columns = read_columns(&csv)?;
    eprintln!("bench: {rows} rows: beacon scoring, ours ({reps} reps)");
    let (ours_s, table) = time_reps(reps, |_| Ok::<_, BenchError>(score(&columns)))?;
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
    if theirs.rows != columns.src.len() || theirs.pairs != table.analysed_pairs() {
        return Err(BenchError::PeerOutput(format!(
            "beacon: pandas saw {} rows and {} pairs, we saw {} and {}",
            theirs.rows,
            theirs.pairs,
            columns.src.len(),
            table.analysed_pairs()
        )));
    }
    let max_score_diff = compare(&table, &theirs.scores)?;
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
    table: &BeaconTable<(&str, &str, u16)>,
    theirs: &[(String, String, u16, f64)],
) -> Result<f64, BenchError> {
    if theirs.len() != table.pairs().len() {
        return Err(BenchError::PeerOutput(format!(
            "beacon: pandas scored {} pairs, we scored {}",
            theirs.len(),
            table.pairs().len()
        )));
    }
    let mine: HashMap<(&str, &str, u16), (f64, f64)> = table
        .pairs()
        .iter()
        .map(|p| (p.key, (p.score, p.resolution_s)))
        .collect();
    let mut worst = 0.0f64;
    let mut worst_pair = String::new();
    for (src, dst, port, score) in theirs {
        let Some(&(ours, resolution_s)) = mine.get(&(src.as_str(), dst.as_str(), *port)) else {
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

    #[test]
    fn scores_the_generated_beacons_from_our_columns() {
        let out =
            std::env::temp_dir().join(format!("webthreat-bench-beacon-{}", std::process::id()));
        let csv = data_file(&out, 20_000, 3).unwrap();
        let c = read_columns(&csv).unwrap();
        assert_eq!(c.src.len(), 20_000);
        let table = score(&c);
        assert!(table.analysed_pairs() > table.pairs().len());
        let top: Vec<&str> = table.pairs()[..12].iter().map(|p| p.key.0).collect();
        assert!(top.iter().all(|s| s.starts_with("10.40.")), "{top:?}");
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
