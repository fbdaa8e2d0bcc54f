//! A run's beacon analysis as outputs: `beacons.csv` (every scored pair, highest score
//! first) and the report's Beacons section (the top pairs).

use crate::error::ExperimentError;
use crate::outputs::write_file;
use std::fmt::Write as _;
use std::path::Path;
use webthreat_beacon::{BeaconPair, DEFAULT_THRESHOLD};
use webthreat_features::{PairKey, PairScores};
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_intel::NetworkSet;
use webthreat_report::csv_cell;
use webthreat_report::{BeaconRow, BeaconSection};

/// Pairs listed in the report.
const TOP_PAIRS: usize = 20;

/// The report's Beacons section: the analysis's settings and its top pairs; `detector` is the
/// beacon detector's name and threshold, if the run has one.
pub(crate) fn section(
    pairs: &PairScores,
    detector: Option<(&str, f64)>,
    min_connections: usize,
) -> BeaconSection {
    let (name, threshold) = detector.unwrap_or(("beacon_score", DEFAULT_THRESHOLD));
    BeaconSection {
        detector: name.to_string(),
        internal_networks: pairs
            .internal
            .as_ref()
            .map(NetworkSet::cidrs)
            .unwrap_or_default(),
        min_connections: min_connections as u64,
        analysed_pairs: pairs.table.analysed_pairs() as u64,
        scored_pairs: pairs.table.pairs().len() as u64,
        threshold,
        pairs: (pairs.table.pairs().iter().take(TOP_PAIRS))
            .map(|p| {
                let (src, dst, port) = &p.key;
                let c = &p.components;
                BeaconRow {
                    src_ip: src.to_string(),
                    dst_ip: dst.to_string(),
                    dst_port: *port,
                    connections: p.connections,
                    score: p.score,
                    flagged: p.score > threshold,
                    interval_skew: c.interval_skew,
                    interval_dispersion: c.interval_dispersion,
                    size_regularity: c.size_regularity,
                    count: c.count,
                    coverage: c.coverage,
                    median_interval_s: p.median_interval_s,
                    first_seen: format_epoch_ms(p.first_ms),
                    last_seen: format_epoch_ms(p.last_ms),
                    interval_histogram: p.interval_histogram.clone(),
                }
            })
            .collect(),
    }
}

/// The header of `beacons.csv`.
const HEADER: &str = "src_ip,dst_ip,dst_port,connections,score,interval_skew,\
    interval_dispersion,size_regularity,count,coverage,first_seen,last_seen,median_interval_s,flagged\n";

/// Writes `beacons.csv`: one line per scored pair, highest score first; `flagged` says
/// whether the pair's score is above the beacon detector's `threshold`.
pub(crate) fn write_csv(
    dir: &Path,
    pairs: &PairScores,
    threshold: f64,
) -> Result<(), ExperimentError> {
    let mut text = String::from(HEADER);
    for pair in pairs.table.pairs() {
        line(&mut text, pair, threshold);
    }
    write_file(&dir.join("beacons.csv"), text)
}

fn line(out: &mut String, pair: &BeaconPair<PairKey>, threshold: f64) {
    let (src, dst, port) = &pair.key;
    let _ = write!(
        out,
        "{},{},{port},{},",
        csv_cell(src),
        csv_cell(dst),
        pair.connections
    );
    let c = &pair.components;
    for value in [
        pair.score,
        c.interval_skew,
        c.interval_dispersion,
        c.size_regularity,
        c.count,
        c.coverage,
    ] {
        let _ = write!(out, "{value:.6},");
    }
    let _ = writeln!(
        out,
        "{},{},{:.6},{}",
        format_epoch_ms(pair.first_ms),
        format_epoch_ms(pair.last_ms),
        pair.median_interval_s,
        u8::from(pair.score > threshold)
    );
}
