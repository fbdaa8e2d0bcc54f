//! The result table: rows pairing our medians with the peer's, the ROC AUC and peak RSS
//! checks, the targets of issue 5, and their Markdown rendering.

use crate::ours::{N_ESTIMATORS, OursSize};
use crate::peer::{PeerOutput, PeerVersions};
use crate::stats::median;
use serde::Serialize;
use std::fmt::Write as _;
use webthreat_detectors::iforest::packed::Walk;

/// Largest allowed |ours - peer| ROC AUC difference.
pub const AUC_TOLERANCE: f64 = 0.01;

/// Largest allowed relative difference between our and the peer's feature column means (both
/// sides must compute the same features from the same data).
pub const FEATURE_TOLERANCE: f64 = 1e-9;

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Stage.
    pub stage: String,
    /// Data rows.
    pub rows: usize,
    /// Feature count (none for ingest).
    pub features: Option<usize>,
    /// Thread count; `a / b` when ours uses `a` and the peer `b`.
    pub threads: String,
    /// Our median seconds.
    pub ours_s: f64,
    /// The peer's median seconds.
    pub peer_s: Option<f64>,
    /// Our nanoseconds per row x tree (scoring rows only).
    pub ours_ns_row_tree: Option<f64>,
    /// The peer's nanoseconds per row x tree (scoring rows only).
    pub peer_ns_row_tree: Option<f64>,
}

impl Row {
    /// peer / ours: how many times faster we are.
    pub fn ratio(&self) -> Option<f64> {
        self.peer_s.map(|p| p / self.ours_s)
    }
}

/// Checks for one data size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeChecks {
    /// Data rows.
    pub rows: usize,
    /// Size of the CSV file, bytes.
    pub csv_bytes: u64,
    /// (features, ours, peer) ROC AUC.
    pub roc_auc: Vec<(usize, f64, f64)>,
    /// Largest relative difference between our and the peer's feature column means.
    pub feature_means_max_rel_diff: f64,
    /// Our peak RSS during the `xtask run` repetitions, bytes.
    pub ours_peak_rss_bytes: Option<u64>,
    /// Peak RSS of the peer process (all its stages on this size), bytes.
    pub peer_peak_rss_bytes: u64,
}

impl SizeChecks {
    /// Whether every ROC AUC pair agrees within [`AUC_TOLERANCE`].
    pub fn auc_agrees(&self) -> bool {
        self.roc_auc
            .iter()
            .all(|(_, a, b)| (a - b).abs() <= AUC_TOLERANCE)
    }
}

/// One target of issue 5 and whether this run meets it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// What is wanted.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// Met or not; none when not measured.
    pub met: Option<bool>,
}

/// The machine the benchmark ran on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// CPU model (`/proc/cpuinfo`).
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total memory, bytes (`/proc/meminfo`).
    pub memory_bytes: Option<u64>,
    /// polars' thread pool size (ingest and features).
    pub polars_threads: usize,
    /// 1-minute load average when the benchmark started and ended (`/proc/loadavg`): other
    /// work on the machine shows here.
    pub load_average: (Option<f64>, Option<f64>),
    /// How our Isolation Forest walks forests of at most four features on this CPU
    /// ([`Walk::fastest`]).
    pub forest_walk: Walk,
}

/// The 1-minute load average, where `/proc/loadavg` exists.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Machine {
    /// Reads the machine description from `/proc` where available; `load_at_start` is the load
    /// average read when the benchmark started.
    pub fn detect(polars_threads: usize, load_at_start: Option<f64>) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let memory_bytes = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        });
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes,
            polars_threads,
            load_average: (load_at_start, load_average()),
            forest_walk: Walk::fastest(),
        }
    }
}

/// A whole benchmark: settings, table, checks, targets and the raw repetitions.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The machine.
    pub machine: Machine,
    /// Repetitions per measurement (the table shows medians).
    pub reps: usize,
    /// Seed of the data and of both forests.
    pub seed: u64,
    /// The peer's library versions.
    pub peer_versions: Option<PeerVersions>,
    /// The table.
    pub rows: Vec<Row>,
    /// ROC AUC, feature and memory checks per size.
    pub checks: Vec<SizeChecks>,
    /// Targets of issue 5.
    pub targets: Vec<Target>,
    /// Every repetition of our side.
    pub ours: Vec<OursSize>,
    /// Every repetition of the peer.
    pub peer: Vec<PeerOutput>,
    /// Ingest per native format (issue 17), when measured.
    #[serde(rename = "ingest_formats", skip_serializing_if = "Option::is_none")]
    pub formats: Option<crate::formats::FormatsReport>,
    /// Beacon scoring against pandas per size, when measured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub beacon: Vec<crate::beacon::BeaconRow>,
}

/// Builds the table rows for one size from both sides' repetitions.
pub fn rows_for_size(ours: &OursSize, peer: &PeerOutput, threads: &[usize]) -> Vec<Row> {
    let mut rows = Vec::new();
    let n = ours.rows;
    let mut push = |stage: &str,
                    label: &str,
                    features: Option<usize>,
                    ours_threads: usize,
                    peer_stage: &str,
                    peer_threads: usize| {
        let Some(o) = ours.seconds(stage, features, ours_threads) else {
            return;
        };
        let ours_s = median(o);
        let peer_s = peer.seconds(peer_stage, features, peer_threads).map(median);
        let scoring = stage == "iforest score";
        let per = |s: f64| s * 1e9 / (n as f64 * N_ESTIMATORS as f64);
        rows.push(Row {
            stage: label.into(),
            rows: n,
            features,
            threads: if ours_threads == peer_threads {
                ours_threads.to_string()
            } else {
                format!("{ours_threads} / {peer_threads}")
            },
            ours_s,
            peer_s,
            ours_ns_row_tree: scoring.then(|| per(ours_s)),
            peer_ns_row_tree: peer_s.filter(|_| scoring).map(per),
        });
    };
    let pt = ours
        .timings
        .iter()
        .find(|t| t.stage == "ingest")
        .map_or(1, |t| t.threads);
    push("ingest", "ingest", None, pt, "ingest", 1);
    for f in [4, 10] {
        push("features", "features", Some(f), pt, "features", 1);
    }
    for f in [4, 10] {
        for &t in threads {
            push("iforest fit", "iforest fit", Some(f), t, "iforest fit", t);
        }
        for &t in threads {
            push(
                "iforest score",
                "iforest score",
                Some(f),
                t,
                "iforest score",
                t,
            );
        }
    }
    for &t in threads {
        push(
            "end-to-end",
            "end-to-end (in memory)",
            Some(4),
            t,
            "end-to-end",
            t,
        );
    }
    for &t in threads {
        let stage = "end-to-end (xtask run)";
        push(stage, stage, Some(4), t, "end-to-end", t);
    }
    rows
}

/// The ROC AUC, feature-agreement and memory checks for one size.
pub fn checks_for_size(ours: &OursSize, peer: &PeerOutput, csv_bytes: u64) -> SizeChecks {
    let roc_auc = ours
        .roc_auc
        .iter()
        .filter_map(|&(f, a)| peer.auc(f).map(|b| (f, a, b)))
        .collect();
    let mut worst: f64 = 0.0;
    for (f, means) in &ours.feature_means {
        match peer.means(*f) {
            Some(theirs) if theirs.len() == means.len() => {
                for (a, b) in means.iter().zip(theirs) {
                    worst = worst.max((a - b).abs() / a.abs().max(b.abs()).max(1e-12));
                }
            }
            _ => worst = f64::INFINITY,
        }
    }
    SizeChecks {
        rows: ours.rows,
        csv_bytes,
        roc_auc,
        feature_means_max_rel_diff: worst,
        ours_peak_rss_bytes: ours.peak_rss_run_bytes,
        peer_peak_rss_bytes: peer.peak_rss_bytes,
    }
}

/// The targets of issue 5, evaluated at the largest size (1M rows in the default run).
pub fn targets(rows: &[Row], checks: &[SizeChecks], threads: &[usize]) -> Vec<Target> {
    let Some(n) = rows.iter().map(|r| r.rows).max() else {
        return Vec::new();
    };
    let find = |stage: &str, t: usize| {
        rows.iter().find(|r| {
            r.rows == n && r.stage == stage && r.features == Some(4) && r.threads == t.to_string()
        })
    };
    let size = human_rows(n);
    let mut out = Vec::new();
    let mut ratio_target = |stage: &str, label: &str, want: f64, t: usize| {
        let row = find(stage, t);
        let ratio = row.and_then(Row::ratio);
        out.push(Target {
            target: format!(
                "{label} at {size} x 4, {t} thread(s): >= {want}x faster than the peer"
            ),
            measured: ratio.map_or("not measured".into(), |r| format!("{}x", fmt_ratio(r))),
            met: ratio.map(|r| r >= want),
        });
    };
    for &t in threads {
        ratio_target("iforest score", "iforest score", 8.0, t);
    }
    for &t in threads {
        ratio_target("iforest fit", "iforest fit", 50.0, t);
    }
    for &t in threads {
        ratio_target(
            "end-to-end (xtask run)",
            "end-to-end (xtask run, plots off)",
            5.0,
            t,
        );
    }
    if let Some(&t) = threads.iter().find(|&&t| t == 2) {
        let ns = find("iforest score", t).and_then(|r| r.ours_ns_row_tree);
        out.push(Target {
            target: format!(
                "iforest score at {size} x 4, 2 threads: <= 4 ns per row x tree (2x of 2 ns)"
            ),
            measured: ns.map_or("not measured".into(), |v| format!("{v:.2} ns")),
            met: ns.map(|v| v <= 4.0),
        });
    }
    if let Some(c) = checks.iter().find(|c| c.rows == n) {
        let ratio = c.ours_peak_rss_bytes.map(|b| b as f64 / c.csv_bytes as f64);
        out.push(Target {
            target: format!("peak RSS of `xtask run` on {size} rows < 3x the CSV's size"),
            measured: match (c.ours_peak_rss_bytes, ratio) {
                (Some(b), Some(r)) => {
                    format!("{} MiB = {r:.2}x the {} MiB CSV", mib(b), mib(c.csv_bytes))
                }
                _ => "not measured".into(),
            },
            met: ratio.map(|r| r < 3.0),
        });
        out.push(Target {
            target: format!("ROC AUC ours vs scikit-learn within {AUC_TOLERANCE} (every size)"),
            measured: c
                .roc_auc
                .iter()
                .map(|(f, a, b)| format!("{f} features: {a:.4} vs {b:.4}"))
                .collect::<Vec<_>>()
                .join("; "),
            met: Some(checks.iter().all(SizeChecks::auc_agrees)),
        });
    }
    out
}

/// `1000000` -> `1M`, `100000` -> `100k`.
pub fn human_rows(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / (1024.0 * 1024.0))
}

/// Seconds with about four significant digits.
pub fn fmt_secs(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.1}")
    } else if s >= 1.0 {
        format!("{s:.3}")
    } else if s >= 0.01 {
        format!("{s:.4}")
    } else {
        format!("{s:.6}")
    }
}

/// A ratio: two decimals below 10, one above.
pub fn fmt_ratio(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.2}")
    } else {
        format!("{r:.1}")
    }
}

/// The table alone, as Markdown.
pub fn table_markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| stage | rows | features | threads | ours s | peer s | peer/ours | ours ns/(row x tree) | peer ns/(row x tree) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.stage,
            human_rows(r.rows),
            opt(r.features.map(|f| f.to_string())),
            r.threads,
            fmt_secs(r.ours_s),
            opt(r.peer_s.map(fmt_secs)),
            opt(r.ratio().map(|x| format!("{}x", fmt_ratio(x)))),
            opt(r.ours_ns_row_tree.map(|v| format!("{v:.2}"))),
            opt(r.peer_ns_row_tree.map(|v| format!("{v:.2}"))),
        );
    }
    s
}

impl BenchReport {
    /// Whether ours and the peer's ROC AUC agree within [`AUC_TOLERANCE`] at every size.
    pub fn auc_agrees(&self) -> bool {
        self.checks.iter().all(SizeChecks::auc_agrees)
    }

    /// Whether both sides computed the same features (column means within
    /// [`FEATURE_TOLERANCE`]) at every size.
    pub fn features_agree(&self) -> bool {
        self.checks
            .iter()
            .all(|c| c.feature_means_max_rel_diff <= FEATURE_TOLERANCE)
    }

    /// The whole report as Markdown (`bench.md`).
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut s = String::from("# webthreat vs pandas + scikit-learn\n\n");
        let load = |l: Option<f64>| l.map_or("?".into(), |l| format!("{l:.2}"));
        let _ = writeln!(
            s,
            "Machine: {}, {} cores, {} GiB; 1-minute load average {} at start, {} at end \
             (other work on the machine). Our forest walk on <= 4 features: {:?}. Medians of \
             {} repetitions; seed {}.",
            m.cpu,
            m.cores,
            m.memory_bytes.map_or("?".into(), |b| format!(
                "{:.1}",
                b as f64 / (1u64 << 30) as f64
            )),
            load(m.load_average.0),
            load(m.load_average.1),
            m.forest_walk,
            self.reps,
            self.seed
        );
        if let Some(v) = &self.peer_versions {
            let _ = writeln!(
                s,
                "Peer: Python {}, pandas {}, numpy {}, scikit-learn {}.",
                v.python, v.pandas, v.numpy, v.sklearn
            );
        }
        if self.rows.is_empty() {
            // `--only-formats` / `--only-beacon`: that section alone
            if let Some(f) = &self.formats {
                s.push_str(&f.markdown());
            }
            if !self.beacon.is_empty() {
                s.push_str(&crate::beacon::markdown(&self.beacon));
            }
            return s;
        }
        let _ = writeln!(
            s,
            "Isolation Forest on both sides: {N_ESTIMATORS} trees, max_samples 256, standard-scaled \
             features. `threads a / b`: ingest and features run on polars' and rayon's default \
             pools ({} threads) on our side; pandas is single-threaded.\n",
            m.polars_threads
        );
        s.push_str(&table_markdown(&self.rows));
        s.push_str("\n## ROC AUC on the labeled generated data\n\n");
        s.push_str("| rows | features | ours | scikit-learn | difference | within 0.01 |\n|---:|---:|---:|---:|---:|---|\n");
        for c in &self.checks {
            for (f, a, b) in &c.roc_auc {
                let _ = writeln!(
                    s,
                    "| {} | {f} | {a:.4} | {b:.4} | {:.4} | {} |",
                    human_rows(c.rows),
                    (a - b).abs(),
                    if (a - b).abs() <= AUC_TOLERANCE {
                        "yes"
                    } else {
                        "NO"
                    }
                );
            }
        }
        s.push_str("\n## Memory and feature agreement\n\n");
        s.push_str(
            "Ours: peak RSS of a fresh `xtask run` process (plots off) on the size's CSV. Peer: \
             peak RSS of the python process that ran every stage of the size. Feature means: \
             largest relative difference between our and pandas' feature column means.\n\n",
        );
        s.push_str("| rows | CSV MiB | ours peak RSS, `xtask run` MiB | ours / CSV | peer process peak RSS MiB | feature means, max rel. diff |\n|---:|---:|---:|---:|---:|---:|\n");
        for c in &self.checks {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {:.1e} |",
                human_rows(c.rows),
                mib(c.csv_bytes),
                c.ours_peak_rss_bytes.map_or("-".into(), mib),
                c.ours_peak_rss_bytes.map_or("-".into(), |b| format!(
                    "{:.2}x",
                    b as f64 / c.csv_bytes as f64
                )),
                mib(c.peer_peak_rss_bytes),
                c.feature_means_max_rel_diff
            );
        }
        s.push_str("\n## Targets (issue 5)\n\n| target | measured | met |\n|---|---|---|\n");
        for t in &self.targets {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                t.target,
                t.measured,
                match t.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "-",
                }
            );
        }
        if let Some(f) = &self.formats {
            s.push_str(&f.markdown());
        }
        if !self.beacon.is_empty() {
            s.push_str(&crate::beacon::markdown(&self.beacon));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stage: &str, threads: &str, ours: f64, peer: Option<f64>) -> Row {
        Row {
            stage: stage.into(),
            rows: 1_000_000,
            features: Some(4),
            threads: threads.into(),
            ours_s: ours,
            peer_s: peer,
            ours_ns_row_tree: (stage == "iforest score").then(|| ours * 1e9 / 1e8),
            peer_ns_row_tree: None,
        }
    }

    #[test]
    fn table_has_one_line_per_row_with_ratio_and_dashes() {
        let rows = vec![
            row("iforest score", "1", 0.5, Some(2.4)),
            row("ingest", "2 / 1", 0.25, None),
        ];
        let md = table_markdown(&rows);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("| stage | rows | features | threads | ours s"));
        assert_eq!(
            lines[2],
            "| iforest score | 1M | 4 | 1 | 0.5000 | 2.400 | 4.80x | 5.00 | - |"
        );
        assert_eq!(
            lines[3],
            "| ingest | 1M | 4 | 2 / 1 | 0.2500 | - | - | - | - |"
        );
    }

    #[test]
    fn numbers_are_formatted_for_reading() {
        assert_eq!(human_rows(1_000_000), "1M");
        assert_eq!(human_rows(100_000), "100k");
        assert_eq!(human_rows(1234), "1234");
        assert_eq!(fmt_secs(0.000123), "0.000123");
        assert_eq!(fmt_secs(12.3456), "12.346");
        assert_eq!(fmt_ratio(12.345), "12.3");
        assert_eq!(fmt_ratio(1.234), "1.23");
    }

    #[test]
    fn targets_use_the_largest_size() {
        let rows = vec![
            row("iforest score", "1", 0.2, Some(2.4)),
            row("iforest score", "2", 0.1, Some(1.3)),
            row("iforest fit", "1", 0.01, Some(0.2)),
        ];
        let t = targets(&rows, &[], &[1, 2]);
        assert_eq!(t[0].measured, "12.0x");
        assert_eq!(t[0].met, Some(true));
        assert_eq!(t[2].measured, "20.0x");
        assert_eq!(t[2].met, Some(false)); // fit wants 50x
        assert_eq!(t[4].met, None); // end-to-end not measured
        let ns = t.iter().find(|t| t.target.contains("ns per row")).unwrap();
        assert_eq!(ns.measured, "1.00 ns");
        assert_eq!(ns.met, Some(true));
    }
}
