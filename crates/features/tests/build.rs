//! Feature building over real and hand-made logs.

use std::path::{Path, PathBuf};
use webthreat_features::{
    FeatureError, FeatureSpec, Scaler, Scaling, build_matrix, numeric_columns,
};
use webthreat_ingest::{LabelSpec, SourceSpec, read_log};

const HEADER: &str = "bytes_in,bytes_out,creation_time,end_time,src_ip,src_ip_country_code,protocol,response.code,dst_port,dst_ip,rule_names,observation_name,source.meta,source.name,time,detection_types";

fn seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cloudwatch/CloudWatch_Traffic_Web_Attack.csv")
}

fn spec(names: &[&str]) -> FeatureSpec {
    FeatureSpec::new(names.iter().map(|s| s.to_string()).collect(), 600).unwrap()
}

/// (bytes_in, bytes_out, start, end, src_ip, dst_port, dst_ip)
type Row<'a> = (u64, u64, &'a str, &'a str, &'a str, u16, &'a str);

fn log(dir: &tempfile::TempDir, rows: &[Row]) -> webthreat_ingest::LogTable {
    let path = dir.path().join("log.csv");
    let mut text = HEADER.to_string();
    for (bi, bo, s, e, ip, port, dst) in rows {
        text.push_str(&format!(
            "\r\n{bi},{bo},{s},{e},{ip},US,HTTPS,200,{port},{dst},r,o,m,n,{s},w"
        ));
    }
    std::fs::write(&path, text).unwrap();
    read_log(&SourceSpec::cloudwatch(&path)).unwrap()
}

#[test]
fn seed_features_are_exact() {
    let table = read_log(&SourceSpec::cloudwatch(seed())).unwrap();
    let m = build_matrix(
        &table,
        &spec(&[
            "bytes_in",
            "bytes_out",
            "session_duration",
            "avg_packet_size",
        ]),
    )
    .unwrap();
    assert_eq!(m.n_rows(), 282);
    assert_eq!(m.n_cols(), 4);
    assert!(m.column(2).iter().all(|d| *d == 600.0));
    // row 0: 5602 in, 12990 out over 600 s
    assert_eq!(
        m.row(0),
        &[5602.0, 12990.0, 600.0, (5602.0 + 12990.0) / 600.0]
    );
    for i in 0..m.n_rows() {
        let r = m.row(i);
        assert_eq!(r[3], (r[0] + r[1]) / r[2]);
    }
    assert_eq!(m.row_ids()[281], 281);
    let e = m.entities();
    assert_eq!(e.src_ip(0), Some("147.161.161.82"));
    assert_eq!(e.dst_port(0), Some(443));
    assert_eq!(e.window_start(0), Some(1_714_086_000));
    // every address once, numbered in order of first appearance
    let mut seen: Vec<&str> = Vec::new();
    for i in 0..m.n_rows() {
        let ip = e.src_ip(i).expect("every seed row has an address");
        if !seen.contains(&ip) {
            seen.push(ip);
        }
        assert_eq!(e.src_ip_index(i), seen.iter().position(|s| *s == ip));
    }
    assert_eq!(e.ips().len(), seen.len());
    assert!(m.labels().is_none());
}

#[test]
fn zero_duration_sessions_count_as_one_second() {
    let dir = tempfile::tempdir().unwrap();
    let t = log(
        &dir,
        &[
            (
                100,
                50,
                "2024-01-01T00:00:00Z",
                "2024-01-01T00:00:00Z",
                "1.1.1.1",
                443,
                "d",
            ),
            (
                100,
                50,
                "2024-01-01T00:00:00Z",
                "2024-01-01T00:00:00.500Z",
                "1.1.1.1",
                443,
                "d",
            ),
            (
                100,
                50,
                "2024-01-01T00:00:00Z",
                "2024-01-01T00:00:03Z",
                "1.1.1.1",
                443,
                "d",
            ),
        ],
    );
    let m = build_matrix(&t, &spec(&["session_duration", "avg_packet_size"])).unwrap();
    assert_eq!(m.column(0), vec![0.0, 0.5, 3.0]);
    assert_eq!(m.column(1), vec![150.0, 150.0, 50.0]);
}

#[test]
fn transforms_ratio_and_time_of_day() {
    let dir = tempfile::tempdir().unwrap();
    let t = log(
        &dir,
        &[
            (
                0,
                0,
                "2024-01-01T06:30:00Z",
                "2024-01-01T06:40:00Z",
                "1.1.1.1",
                443,
                "d",
            ),
            (
                99,
                9,
                "2024-01-01T23:45:00Z",
                "2024-01-01T23:50:00Z",
                "1.1.1.1",
                443,
                "d",
            ),
        ],
    );
    let m = build_matrix(
        &t,
        &spec(&["log1p(bytes_in)", "bytes_ratio", "hour_of_day"]),
    )
    .unwrap();
    assert_eq!(m.column(0), vec![0.0, 100f64.ln()]);
    assert_eq!(m.column(1), vec![1.0, 0.1]);
    assert_eq!(m.column(2), vec![6.5, 23.75]);
}

#[test]
fn window_aggregates_expose_scanning_and_flooding() {
    let dir = tempfile::tempdir().unwrap();
    let t = log(
        &dir,
        &[
            // scanner: 3 ports, 2 hosts in one window
            (
                1,
                1,
                "2024-01-01T00:00:00Z",
                "2024-01-01T00:00:01Z",
                "6.6.6.6",
                22,
                "a",
            ),
            (
                1,
                1,
                "2024-01-01T00:01:00Z",
                "2024-01-01T00:01:01Z",
                "6.6.6.6",
                23,
                "a",
            ),
            (
                1,
                1,
                "2024-01-01T00:09:59Z",
                "2024-01-01T00:10:00Z",
                "6.6.6.6",
                80,
                "b",
            ),
            // same scanner, next window
            (
                5,
                5,
                "2024-01-01T00:10:00Z",
                "2024-01-01T00:10:01Z",
                "6.6.6.6",
                80,
                "b",
            ),
            // a normal client
            (
                100,
                200,
                "2024-01-01T00:02:00Z",
                "2024-01-01T00:03:00Z",
                "1.1.1.1",
                443,
                "a",
            ),
        ],
    );
    let m = build_matrix(
        &t,
        &spec(&[
            "src_sessions",
            "src_bytes",
            "src_distinct_ports",
            "src_distinct_dsts",
        ]),
    )
    .unwrap();
    assert_eq!(m.row(0), &[3.0, 6.0, 3.0, 2.0]);
    assert_eq!(m.row(2), &[3.0, 6.0, 3.0, 2.0]);
    assert_eq!(m.row(3), &[1.0, 10.0, 1.0, 1.0]);
    assert_eq!(m.row(4), &[1.0, 300.0, 1.0, 1.0]);
    assert_eq!(m.entities().window_start(3), Some(1_704_067_800));
}

#[test]
fn missing_and_text_columns_are_clear_errors() {
    let table = read_log(&SourceSpec::cloudwatch(seed())).unwrap();
    let err = build_matrix(&table, &spec(&["src_ip"])).unwrap_err();
    assert!(matches!(err, FeatureError::NotNumeric { .. }), "{err}");
    let err = build_matrix(&table, &spec(&["no_such_column"])).unwrap_err();
    assert!(err.to_string().contains("no_such_column"), "{err}");

    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bench/vowels.csv");
    let t = read_log(&SourceSpec::table(bench)).unwrap();
    let err = build_matrix(&t, &spec(&["session_duration"])).unwrap_err();
    assert!(matches!(err, FeatureError::MissingColumn { .. }));
    assert!(err.to_string().contains("data.columns.start_time"), "{err}");
}

#[test]
fn negative_values_under_log1p_are_rejected_not_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "x,y\n1,2\n-3,4\n").unwrap();
    let t = read_log(&SourceSpec::table(&path)).unwrap();
    let err = build_matrix(&t, &spec(&["log1p(x)"])).unwrap_err();
    match err {
        FeatureError::NonFinite { feature, row, .. } => {
            assert_eq!((feature.as_str(), row), ("log1p(x)", 1))
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn table_defaults_to_all_numeric_columns_with_labels() {
    let bench =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bench/thyroid.csv");
    let mut source = SourceSpec::table(bench);
    source.label = Some(LabelSpec::Column("label".into()));
    let t = read_log(&source).unwrap();
    let names = numeric_columns(&t);
    assert_eq!(names, vec!["f0", "f1", "f2", "f3", "f4", "f5"]);
    let m = build_matrix(&t, &FeatureSpec::new(names, 600).unwrap()).unwrap();
    assert_eq!(m.labels().unwrap().iter().filter(|l| **l).count(), 93);
    assert!(m.entities().is_empty());
    let scaled = Scaler::fit(Scaling::Standard, &m)
        .unwrap()
        .transform(&m)
        .unwrap();
    let mean: f64 = scaled.column(0).iter().sum::<f64>() / 3772.0;
    assert!(mean.abs() < 1e-9);
}

#[test]
fn log_columns_count_every_protocol_and_country_and_keep_each_rows_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    // runs of one value, values that come back, and an empty country
    let path = dir.path().join("log.csv");
    let mut text = HEADER.to_string();
    for (country, protocol) in [
        ("US", "HTTPS"),
        ("US", "HTTPS"),
        ("CA", "HTTPS"),
        ("", "HTTP"),
        ("US", "HTTPS"),
        ("CA", "HTTP"),
    ] {
        text.push_str(&format!(
            "\n1,2,2024-04-25T23:00:00Z,2024-04-25T23:10:00Z,1.2.3.4,{country},{protocol},200,443,10.0.0.1,r,o,m,n,t,w"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let table = read_log(&SourceSpec::cloudwatch(&path)).unwrap();
    let columns = webthreat_features::LogColumns::extract(&table).unwrap();
    let counts =
        |pairs: &[(&str, u64)]| Some(pairs.iter().map(|&(k, n)| (k.to_string(), n)).collect());
    assert_eq!(columns.protocol, counts(&[("HTTP", 2), ("HTTPS", 4)]));
    assert_eq!(columns.country, counts(&[("", 1), ("CA", 2), ("US", 3)]));
    // each row's protocol, ports and addresses, for its alert
    let protocols = columns.protocol_of_row.as_ref().unwrap();
    let of_rows: Vec<&str> = (0..6).map(|i| protocols.of(i).unwrap()).collect();
    assert_eq!(
        of_rows,
        ["HTTPS", "HTTPS", "HTTPS", "HTTP", "HTTPS", "HTTP"]
    );
    assert_eq!(columns.dst_port, Some(vec![443; 6]));
    assert_eq!(columns.src_port, None);
    let addresses = columns.addresses.as_ref().unwrap();
    assert_eq!(addresses.name(addresses.src[5]), Some("1.2.3.4"));
    assert_eq!(addresses.name(addresses.dst[5]), Some("10.0.0.1"));
}

#[test]
fn graph_features_count_distinct_peers_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = "2024-01-01T00:00:00Z";
    let t1 = "2024-01-01T00:11:00Z";
    let table = log(
        &dir,
        &[
            // window 0: a -> x:443, a -> x:80, a -> y:443; b -> x:443
            (1, 1, t0, t0, "a", 443, "x"),
            (1, 1, t0, t0, "a", 80, "x"),
            (1, 1, t0, t0, "a", 443, "y"),
            (1, 1, t0, t0, "b", 443, "x"),
            (1, 1, t0, t0, "a", 443, "x"),
            // window 1: c -> x:443
            (1, 1, t1, t1, "c", 443, "x"),
        ],
    );
    let m = build_matrix(
        &table,
        &spec(&["src_fan_out", "dst_fan_in", "src_distinct_dsts"]),
    )
    .unwrap();
    let rows: Vec<&[f64]> = (0..m.n_rows()).map(|i| m.row(i)).collect();
    // a reaches 3 endpoints (x:443, x:80, y:443) on 2 addresses; x hears from a and b
    assert_eq!(rows[0], &[3.0, 2.0, 2.0]);
    assert_eq!(rows[2], &[3.0, 1.0, 2.0]);
    assert_eq!(rows[3], &[1.0, 2.0, 1.0]);
    // another window counts afresh
    assert_eq!(rows[5], &[1.0, 1.0, 1.0]);
}

#[test]
fn baseline_features_parse_only_over_source_window_aggregates() {
    let s = spec(&["baseline_dev(src_sessions)", "baseline_dev(src_bytes)"]);
    assert_eq!(s.window_features().len(), 2);
    let err = FeatureSpec::new(vec!["baseline_dev(bytes_in)".into()], 600).unwrap_err();
    assert!(
        err.to_string()
            .contains("baseline_dev(<feature>) takes one of"),
        "{err}"
    );
}

#[test]
fn intel_and_beacon_features_need_their_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = "2024-01-01T00:00:00Z";
    let table = log(&dir, &[(1, 1, t0, t0, "10.0.0.1", 443, "203.0.113.7")]);
    for name in ["intel_match", "beacon_score"] {
        let err = build_matrix(&table, &spec(&[name])).unwrap_err();
        assert!(matches!(err, FeatureError::NoContext(_)), "{err}");
    }
}
