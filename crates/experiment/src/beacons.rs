//! A run's beacon analysis as outputs: `beacons.csv` (every scored pair, highest score
//! first) and the report's Beacons section (the top pairs).

use crate::error::ExperimentError;
use crate::outputs::write_file;
use std::fmt::Write as _;
use std::path::Path;
use webthreat_beacon::BeaconPair;
use webthreat_features::{PairKey, PairScores};
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_report::csv_cell;

/// The header of `beacons.csv`.
const HEADER: &str = "src_ip,dst_ip,dst_port,connections,score,interval_skew,\
    interval_dispersion,size_regularity,count,coverage,median_interval_s,first_seen,last_seen,flagged\n";

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
        pair.median_interval_s,
    ] {
        let _ = write!(out, "{value:.6},");
    }
    let _ = writeln!(
        out,
        "{},{},{}",
        format_epoch_ms(pair.first_ms),
        format_epoch_ms(pair.last_ms),
        u8::from(pair.score > threshold)
    );
}
