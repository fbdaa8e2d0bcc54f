//! A small but complete [`ReportModel`] built from deterministic synthetic rows, shared by the
//! plot and render tests. It includes hostile log-derived strings to exercise escaping.

use crate::evaluate::{Ranking, confusion};
use crate::histogram::{Histogram, LogBins, ScatterPoint, linear_histogram, top_counts};
use crate::model::{
    AgreementMatrix, BeaconRow, BeaconSection, DataSummary, DetectorMetrics, DetectorSummary,
    EntitySummary, FeatureExplanation, FlaggedRow, GraphData, GraphEdge, GraphNode,
    IntelListSummary, IntelMatchRow, IntelSection, PlotData, ReportModel, TimeBucket, Unit,
};

/// A log-derived string that must never reach the outputs unescaped.
pub const HOSTILE_IP: &str = "<script>alert(1)</script>";
/// A feature name with HTML and Markdown table syntax in it.
pub const HOSTILE_FEATURE: &str = "<script>x</script>|bytes";

const ROWS: usize = 400;

fn bytes_in(i: usize) -> f64 {
    ((i * 7919) % 5000) as f64
        + if i.is_multiple_of(50) {
            2_000_000.0
        } else {
            0.0
        }
}

fn bytes_out(i: usize) -> f64 {
    ((i * 104_729) % 3000) as f64
}

fn label(i: usize) -> bool {
    i.is_multiple_of(50)
}

fn detector(name: &str, offset: usize) -> DetectorSummary {
    let scores: Vec<f64> = (0..ROWS)
        .map(|i| {
            let base = ((i * 31 + offset) % 97) as f64 / 100.0;
            if label(i) { base + 0.6 } else { base }
        })
        .collect();
    let threshold = 1.2;
    let flags: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
    let labels: Vec<bool> = (0..ROWS).map(label).collect();
    let ranking = Ranking::compute(&scores, &labels).expect("fixture has both classes");
    let counts = confusion(&flags, &labels).expect("equal lengths");
    let metrics = DetectorMetrics {
        roc_auc: ranking.roc_auc,
        pr_auc: ranking.average_precision,
        precision: counts.precision(),
        recall: counts.recall(),
        f1: counts.f1(),
        confusion: counts,
    };
    // three seeds, the run's first: the second and third a little off, as seeds are
    let repeats = [0.0, -0.01, 0.004 * offset as f64 - 0.02]
        .iter()
        .map(|shift| DetectorMetrics {
            roc_auc: metrics.roc_auc + shift,
            ..metrics
        })
        .collect();
    DetectorSummary {
        name: name.into(),
        kind: name.into(),
        threshold,
        flagged: flags.iter().filter(|&&f| f).count() as u64,
        score_histogram: Some(linear_histogram(&scores, 30)),
        metrics: Some(metrics),
        roc_curve: ranking.roc_curve,
        pr_curve: ranking.pr_curve,
        repeats,
    }
}

fn log_bins(values: &[f64]) -> Histogram {
    let mut bins = LogBins::default();
    bins.add(values);
    bins.histogram()
}

/// The fixture model.
pub fn sample_model() -> ReportModel {
    let ins: Vec<f64> = (0..ROWS).map(bytes_in).collect();
    let outs: Vec<f64> = (0..ROWS).map(bytes_out).collect();
    let points: Vec<ScatterPoint> = (0..ROWS)
        .map(|i| ScatterPoint {
            bytes_in: ins[i],
            bytes_out: outs[i],
            flagged: label(i),
        })
        .collect();
    // every other unflagged point, then the flagged ones (drawn on top)
    let scatter: Vec<ScatterPoint> = points
        .iter()
        .filter(|p| !p.flagged)
        .step_by(2)
        .chain(points.iter().filter(|p| p.flagged))
        .copied()
        .collect();
    let protocols: Vec<&str> = (0..ROWS).map(|i| ["tcp", "udp", "icmp"][i % 3]).collect();
    let countries: Vec<&str> = (0..ROWS)
        .map(|i| ["US", "DE", "NL", "FR", "JP"][i % 5])
        .collect();
    let flagged_ips = [HOSTILE_IP, "10.0.0.1", "10.0.0.1", "192.168.1.7"];
    let detectors = vec![detector("iforest", 0), detector("zscore", 13)];
    // iforest flags every 50th row, zscore every 25th: all of iforest's
    let (flagged_a, flagged_b) = (ROWS as u64 / 50, ROWS as u64 / 25);
    ReportModel {
        title: "Web traffic anomalies".into(),
        experiment: "iforest-seed".into(),
        run_id: "0007".into(),
        data: DataSummary {
            source_path: "data/sample.csv".into(),
            rows: ROWS as u64,
            rejected_rows: 2,
            first_timestamp: Some("2024-04-25T00:00:00Z".into()),
            last_timestamp: Some("2024-04-26T00:00:00Z".into()),
            distinct_src_ips: Some(17),
            constant_columns: vec!["protocol_version".into()],
            feature_names: vec![
                "bytes_in".into(),
                "bytes_out".into(),
                HOSTILE_FEATURE.into(),
            ],
            labeled_anomalies: Some((0..ROWS).filter(|&i| label(i)).count() as u64),
            fitted_on: Some(crate::FittedOn {
                rows: 1800,
                source: "data/train.csv".into(),
                selection: "rows labeled normal".into(),
            }),
        },
        detectors,
        agreement: Some(
            AgreementMatrix::from_counts(
                vec!["iforest".into(), "zscore".into()],
                &[flagged_a, flagged_b],
                &[vec![flagged_a, flagged_a], vec![flagged_a, flagged_b]],
            )
            .expect("square counts"),
        ),
        flagged_rows: vec![
            FlaggedRow {
                row: 50,
                src_ip: Some(HOSTILE_IP.into()),
                dst_port: Some(443),
                timestamp: Some("2024-04-25T01:00:00Z".into()),
                detector: "iforest".into(),
                score: 0.734_56,
                severity: 97,
                top_features: vec![
                    FeatureExplanation {
                        feature: HOSTILE_FEATURE.into(),
                        actual: 2_000_123.0,
                        typical: 512.5,
                        unit: Unit::Plain,
                    },
                    FeatureExplanation {
                        feature: "bytes_out".into(),
                        actual: 3.0,
                        typical: 1500.0,
                        unit: Unit::Plain,
                    },
                ],
            },
            FlaggedRow {
                row: 100,
                src_ip: None,
                dst_port: None,
                timestamp: None,
                detector: "zscore".into(),
                score: 3.5,
                severity: 80,
                top_features: vec![],
            },
        ],
        ip_summary: vec![EntitySummary {
            key: HOSTILE_IP.into(),
            rows: 12,
            flagged: 3,
            bytes_in: 6_000_000,
            bytes_out: 1234,
            max_severity: 97,
        }],
        port_summary: vec![EntitySummary {
            key: "443".into(),
            rows: 300,
            flagged: 8,
            bytes_in: 9_000_000,
            bytes_out: 450_000,
            max_severity: 97,
        }],
        plots: PlotData {
            bytes_in: Some(log_bins(&ins)),
            bytes_out: Some(log_bins(&outs)),
            by_protocol: top_counts(protocols, 10),
            by_country: top_counts(countries, 3),
            scatter: scatter.clone(),
            flagged_by_src_ip: top_counts(flagged_ips, 10),
            flagged_by_dst_port: top_counts(["443", "22", "443"], 10),
            traffic: (0..24)
                .map(|h| TimeBucket {
                    start: format!("2024-04-25T{h:02}:00Z"),
                    rows: 10 + (h * 37 % 11) as u64,
                    bytes: 10_000 + (h * 7919 % 5000) as u64,
                })
                .collect(),
        },
        beacons: None,
        graph: None,
        intel: None,
    }
}

/// A list name with Markdown and HTML syntax and a bidirectional override in it.
pub const HOSTILE_LIST: &str = "feodo|<b>list</b>\u{202E}txt";
/// A list entry that looks like a spreadsheet formula and markup.
pub const HOSTILE_ENTRY: &str = "=HYPERLINK(\"x\")<img src=x>";

/// The `i`-th beacon pair of [`sections_model`]: a regular 5-minute beacon first, then pairs
/// less and less regular (and so lower scores), a hostile source on the second.
fn beacon_row(i: usize) -> BeaconRow {
    let regularity = 1.0 - i as f64 * 0.07;
    let median = [300.0, 60.0, 3720.0, 2.5, 86_400.0][i % 5];
    let bins = if i == 3 { 0 } else { 4 + (i * 3) % 17 };
    BeaconRow {
        src_ip: if i == 1 {
            HOSTILE_IP.into()
        } else {
            format!("10.0.{}.{}", i / 4, 10 + i)
        },
        dst_ip: if i == 2 {
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".into()
        } else {
            format!("203.0.113.{}", 7 + i)
        },
        dst_port: [443, 8080, 53, 4444, 65535][i % 5],
        connections: 1440 / (i as u64 + 1),
        score: 0.97 - i as f64 * 0.06,
        // at or above the section's threshold of 0.8
        flagged: i < 3,
        interval_skew: regularity,
        interval_dispersion: regularity * 0.98,
        size_regularity: regularity * 0.9,
        count: (1.0 - i as f64 * 0.05).max(0.0),
        coverage: (0.99 - i as f64 * 0.08).max(0.0),
        median_interval_s: median,
        first_seen: "2024-04-25T00:00:03Z".into(),
        last_seen: format!("2024-04-25T23:{:02}:00Z", 59 - i),
        interval_histogram: (0..bins)
            .map(|b| {
                let width = median / 4.0;
                let edge = median * 0.5 + b as f64 * width;
                let peak = bins / 2;
                let count = 200 / (1 + b.abs_diff(peak) as u64 * (i as u64 + 1));
                (edge, count)
            })
            .collect(),
    }
}

/// The graph of [`sections_model`] with `internal` inner and `external` outer hosts: every
/// internal host talks to a few external ones; the edges of the first hosts are flagged.
pub fn graph_data(internal: usize, external: usize) -> GraphData {
    let mut nodes: Vec<GraphNode> = (0..internal)
        .map(|i| GraphNode {
            ip: if i == 0 {
                HOSTILE_IP.into()
            } else {
                format!("10.0.{}.{}", i / 250, i % 250 + 1)
            },
            bytes: 1000 + (i as u128 * 7919) % 50_000,
            internal: true,
            flagged: i < 3,
        })
        .collect();
    nodes.extend((0..external).map(|j| GraphNode {
        ip: if j == 1 {
            format!("ext{CONTROL_TEXT}")
        } else {
            format!("198.51.{}.{}", j / 250, j % 250 + 1)
        },
        bytes: match j {
            0 => u128::MAX,
            _ => 10u128.pow((j % 12) as u32) + j as u128,
        },
        internal: false,
        flagged: j < 4,
    }));
    let edges = (0..internal)
        .flat_map(|i| {
            (0..3.min(external)).map(move |k| {
                let j = (i * 7 + k * 13) % external.max(1);
                GraphEdge {
                    src: i,
                    dst: internal + j,
                    bytes: 500 + (i * 31 + j) as u128 * 1000,
                    rows: 1 + (i + j) as u64 % 9,
                    flagged: if i < 3 && k == 0 { 2 } else { 0 },
                }
            })
        })
        .collect();
    GraphData {
        nodes,
        edges,
        omitted_nodes: 42,
    }
}

/// [`sample_model`] with every optional section (beacons, graph, threat intel) filled, hostile
/// strings in their log-derived fields, and explanations in log units.
pub fn sections_model() -> ReportModel {
    let mut model = sample_model();
    model.flagged_rows[0].top_features = vec![
        FeatureExplanation {
            feature: "bytes_out".into(),
            actual: 144_000_000.0,
            typical: 11_000.0,
            unit: Unit::Bytes,
        },
        FeatureExplanation {
            feature: "duration".into(),
            actual: 200.0,
            typical: 2.5,
            unit: Unit::Seconds,
        },
        FeatureExplanation {
            feature: "src_rows_1h".into(),
            actual: 12_345.0,
            typical: 7.0,
            unit: Unit::Count,
        },
        FeatureExplanation {
            feature: "bytes_per_second".into(),
            actual: 1_200_000.0,
            typical: 512.0,
            unit: Unit::BytesPerSecond,
        },
        FeatureExplanation {
            feature: "hour".into(),
            actual: 3.25,
            typical: 13.75,
            unit: Unit::Hours,
        },
        FeatureExplanation {
            feature: "out_share".into(),
            actual: 0.995,
            typical: 0.125,
            unit: Unit::Share,
        },
        FeatureExplanation {
            feature: HOSTILE_FEATURE.into(),
            actual: -1.5,
            typical: 0.25,
            unit: Unit::Plain,
        },
    ];
    model.beacons = Some(BeaconSection {
        detector: "beacon<1>".into(),
        internal_networks: vec!["10.0.0.0/8".into(), "192.168.0.0/16|x".into()],
        min_connections: 20,
        analysed_pairs: 1_234,
        scored_pairs: 87,
        threshold: 0.8,
        pairs: (0..12).map(beacon_row).collect(),
    });
    model.graph = Some(graph_data(6, 14));
    model.intel = Some(IntelSection {
        lists: vec![
            IntelListSummary {
                name: HOSTILE_LIST.into(),
                kind: "block".into(),
                entries: 12_345,
                matched_rows: 17,
            },
            IntelListSummary {
                name: "corp-allow".into(),
                kind: "allow".into(),
                entries: 3,
                matched_rows: 250,
            },
        ],
        matches: vec![
            IntelMatchRow {
                ip: "203.0.113.7".into(),
                side: "destination".into(),
                list: HOSTILE_LIST.into(),
                kind: "block".into(),
                entry: "203.0.113.0/24".into(),
                rows: 15,
                flagged: 9,
            },
            IntelMatchRow {
                ip: HOSTILE_IP.into(),
                side: "source".into(),
                list: HOSTILE_LIST.into(),
                kind: "block".into(),
                entry: HOSTILE_ENTRY.into(),
                rows: 2,
                flagged: 2,
            },
            IntelMatchRow {
                ip: "10.0.0.53".into(),
                side: "source".into(),
                list: "corp-allow".into(),
                kind: "allow".into(),
                entry: "10.0.0.53".into(),
                rows: 250,
                flagged: 0,
            },
        ],
        suppressed_flags: 4,
    });
    model
}

/// [`sections_model`] with [`CONTROL_TEXT`] in every string of the new sections.
pub fn sections_control_text_model() -> ReportModel {
    let mut model = sections_model();
    let hostile = |tag: &str| format!("{tag}{CONTROL_TEXT}");
    if let Some(beacons) = model.beacons.as_mut() {
        beacons.detector = hostile("beacon");
        beacons.internal_networks.push(hostile("net"));
        for pair in &mut beacons.pairs {
            pair.src_ip = hostile("src");
            pair.dst_ip = hostile("dst");
            pair.first_seen = hostile("first");
            pair.last_seen = hostile("last");
        }
    }
    if let Some(graph) = model.graph.as_mut() {
        for node in &mut graph.nodes {
            node.ip = hostile("node");
        }
    }
    if let Some(intel) = model.intel.as_mut() {
        for list in &mut intel.lists {
            list.name = hostile("list");
            list.kind = hostile("kind");
        }
        for row in &mut intel.matches {
            row.ip = hostile("ip");
            row.side = hostile("side");
            row.list = hostile("list");
            row.kind = hostile("kind");
            row.entry = hostile("entry");
        }
    }
    model
}

/// Log-derived text that would act on a terminal or reorder the text around it: a screen
/// clear, a window-title sequence ended by BEL, a right-to-left override, NUL, a C1 CSI, a
/// line break, markup and an XML-forbidden noncharacter.
pub const CONTROL_TEXT: &str =
    "\u{1b}[2J\u{1b}]0;pwned\u{7}<script>a&b</script>\u{202E}gpj.exe\0\u{9b}1m\r\nx\u{FFFF}";

/// True for a character no rendered output may hold raw: a control character other than the
/// line breaks and tabs of the document's own layout, or a bidirectional formatting character.
pub fn is_forbidden_raw(c: char) -> bool {
    webthreat_core::text::must_escape(c) && !matches!(c, '\n' | '\t' | '\r')
}

/// The fixture model with [`CONTROL_TEXT`] in every string a report or plot shows.
pub fn control_text_model() -> ReportModel {
    let mut model = sample_model();
    let hostile = |tag: &str| format!("{tag}{CONTROL_TEXT}");
    model.title = hostile("title");
    model.experiment = hostile("experiment");
    model.run_id = hostile("run");
    model.data.source_path = hostile("path");
    model.data.first_timestamp = Some(hostile("ts"));
    model.data.constant_columns.push(hostile("col"));
    model.data.feature_names.push(hostile("feature"));
    for (i, detector) in model.detectors.iter_mut().enumerate() {
        detector.name = hostile(&format!("det{i}"));
        detector.kind = hostile("kind");
    }
    if let Some(agreement) = model.agreement.as_mut() {
        agreement.detectors = model.detectors.iter().map(|d| d.name.clone()).collect();
    }
    for row in &mut model.flagged_rows {
        row.src_ip = Some(hostile("ip"));
        row.timestamp = Some(hostile("ts"));
        row.detector = hostile("det");
        for feature in &mut row.top_features {
            feature.feature = hostile("feature");
        }
    }
    for entity in model.ip_summary.iter_mut().chain(&mut model.port_summary) {
        entity.key = hostile("key");
    }
    let plots = &mut model.plots;
    for (i, count) in plots
        .by_protocol
        .iter_mut()
        .chain(&mut plots.by_country)
        .chain(&mut plots.flagged_by_src_ip)
        .chain(&mut plots.flagged_by_dst_port)
        .enumerate()
    {
        count.label = hostile(&i.to_string());
    }
    for bucket in &mut plots.traffic {
        bucket.start = hostile("t");
    }
    model
}

/// Models whose numbers are at the edges of `f64` (huge, subnormal, zero, negative,
/// non-finite, all equal), named, for the plot-range tests.
pub fn extreme_value_models() -> Vec<(&'static str, ReportModel)> {
    let extremes = [1.2e308, f64::MAX, 5e-324, 0.0, -1.0, -f64::MAX];
    let scatter = |values: &[f64]| -> Vec<ScatterPoint> {
        values
            .iter()
            .flat_map(|&a| {
                values.iter().map(move |&b| ScatterPoint {
                    bytes_in: a,
                    bytes_out: b,
                    flagged: a > b,
                })
            })
            .collect()
    };
    let with = |edit: &dyn Fn(&mut ReportModel)| {
        let mut model = sample_model();
        edit(&mut model);
        model
    };
    let score_histogram = |model: &mut ReportModel, values: &[f64], threshold: f64| {
        for detector in &mut model.detectors {
            detector.score_histogram = Some(linear_histogram(values, 30));
            detector.threshold = threshold;
        }
    };
    vec![
        (
            "huge",
            with(&|m| {
                m.plots.scatter = scatter(&extremes);
                m.plots.bytes_in = Some(log_bins(&extremes));
                m.plots.bytes_out = Some(log_bins(&[f64::MAX]));
                score_histogram(m, &extremes, f64::MAX);
                m.plots.traffic[0].bytes = u64::MAX;
                m.plots.traffic[1].rows = u64::MAX;
                m.plots.by_protocol[0].count = u64::MAX;
            }),
        ),
        (
            "huge_positive",
            with(&|m| {
                score_histogram(m, &[0.0, 1.2e308, f64::MAX], 1.2e308);
            }),
        ),
        (
            "huge_threshold_outside_scores",
            with(&|m| {
                score_histogram(m, &[0.1, 0.2], -f64::MAX);
            }),
        ),
        (
            "equal",
            with(&|m| {
                m.plots.scatter = scatter(&[f64::MAX]);
                m.plots.bytes_in = Some(log_bins(&[7.0; 3]));
                m.plots.bytes_out = Some(LogBins::default().histogram());
                score_histogram(m, &[1e300; 3], 1e300);
                m.plots.traffic.truncate(1);
                m.plots.traffic[0].rows = 0;
                m.plots.traffic[0].bytes = 0;
                for count in &mut m.plots.by_country {
                    count.count = 0;
                }
            }),
        ),
        (
            "equal_max",
            with(&|m| {
                score_histogram(m, &[f64::MAX; 2], f64::MAX);
            }),
        ),
        (
            "tiny",
            with(&|m| {
                m.plots.scatter = scatter(&[5e-324, 0.0]);
                score_histogram(m, &[0.0, 5e-324], 5e-324);
            }),
        ),
        (
            "non_finite",
            with(&|m| {
                let broken = Histogram {
                    edges: vec![f64::NAN, 0.0, f64::INFINITY, f64::NEG_INFINITY],
                    counts: vec![1, 2, 3],
                };
                m.plots.bytes_in = Some(broken.clone());
                m.plots.scatter = scatter(&[f64::INFINITY, f64::NAN, f64::NEG_INFINITY, 1.0]);
                for detector in &mut m.detectors {
                    detector.score_histogram = Some(broken.clone());
                    detector.threshold = f64::NAN;
                    detector.roc_curve[1].x = f64::NAN;
                    detector.pr_curve[1].y = f64::INFINITY;
                }
            }),
        ),
    ]
}
