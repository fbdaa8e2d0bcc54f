//! End-to-end runs of the native formats: the real Zeek capture (whole, gzip-compressed, split
//! into files, streamed), a Zeek-derived CSV read as a table, and every shipped format config.

use std::io::Write;
use std::path::Path;
use webthreat_tests::{config, read, run_in, shared};

fn trickbot() -> std::path::PathBuf {
    shared("zeek/trickbot-2018-11/conn.log")
}

/// The capture's directive lines and records.
fn trickbot_parts() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(trickbot()).unwrap();
    let (head, records): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('#'));
    let head = head
        .into_iter()
        .filter(|l| !l.starts_with("#close"))
        .map(String::from)
        .collect();
    (head, records.into_iter().map(String::from).collect())
}

#[test]
fn the_trickbot_capture_reads_whole_compressed_and_split_with_identical_results() {
    let store = tempfile::tempdir().unwrap();
    let c = config("zeek-trickbot.yaml", &[], None);
    let whole = run_in(store.path(), &c, false).unwrap();
    assert_eq!((whole.rows, whole.rejected), (13_001, 0));
    let report = read(&whole.dir, "report.md");
    assert!(
        report.contains("13001") || report.contains("13,001"),
        "{report}"
    );
    assert!(
        report.contains("missing values: 1271 of \\`orig\\_bytes\\`"),
        "{report}"
    );

    let data = tempfile::tempdir().unwrap();
    let gz = data.path().join("conn.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(trickbot()).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let split = data.path().join("split");
    std::fs::create_dir(&split).unwrap();
    let (head, records) = trickbot_parts();
    for (i, part) in records.chunks(3_000).enumerate() {
        let lines: Vec<&str> = head.iter().chain(part).map(String::as_str).collect();
        let close = "#close\t2025-11-23-10-29-58\n";
        std::fs::write(
            split.join(format!("conn.{i:02}.log")),
            lines.join("\n") + "\n" + close,
        )
        .unwrap();
    }
    assert_eq!(std::fs::read_dir(&split).unwrap().count(), 5);
    for path in [gz.as_path(), split.as_path()] {
        let c = config("zeek-trickbot.yaml", &[], Some(path));
        let other = run_in(store.path(), &c, true).unwrap();
        for file in ["metrics.json", "scores.csv"] {
            assert!(
                read(&whole.dir, file) == read(&other.dir, file),
                "{file} differs for {}",
                path.display()
            );
        }
    }
    // streamed in batches across the files: every row read and scored
    let c = config(
        "zeek-trickbot.yaml",
        &["streaming.batch_rows=2000"],
        Some(split.as_path()),
    );
    let streamed = run_in(store.path(), &c, true).unwrap();
    assert_eq!((streamed.rows, streamed.rejected), (13_001, 0));
}

#[test]
fn a_zeek_derived_csv_runs_as_a_table_with_the_new_keys() {
    // the generated, labeled Zeek sample as a CSV: epoch ts, `-` and empty numeric fields,
    // labels in mixed case, only the normal class named
    let text = std::fs::read_to_string("data/sample.zeek.log").unwrap();
    let mut fields: Vec<String> = Vec::new();
    let mut csv = String::new();
    let mut missing = 0;
    for (i, line) in text.lines().enumerate() {
        if let Some(names) = line.strip_prefix("#fields\t") {
            fields = names.split('\t').map(String::from).collect();
            // the generator's 0/1 `label` would collide with the canonical label column
            let header: Vec<&str> = fields
                .iter()
                .map(|f| {
                    if f == "label" {
                        "is_attack"
                    } else {
                        f.as_str()
                    }
                })
                .collect();
            csv.push_str(&header.join(","));
            csv.push('\n');
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let values: Vec<String> = line
            .split('\t')
            .zip(&fields)
            .map(|(v, name)| match (v, name.as_str()) {
                // every other unset value written as an empty field
                ("-", _) => {
                    missing += 1;
                    if missing % 2 == 0 {
                        String::new()
                    } else {
                        "-".into()
                    }
                }
                ("normal", "attack_type") => ["Normal", "normal", "NORMAL"][i % 3].to_string(),
                (kind, "attack_type") => kind.to_uppercase(),
                (v, _) => v.to_string(),
            })
            .collect();
        csv.push_str(&values.join(","));
        csv.push('\n');
    }
    assert!(missing > 50, "{missing}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conn.csv");
    std::fs::write(&path, csv).unwrap();
    let yaml = format!(
        r#"name: zeek-csv
seed: 42
data:
  path: {}
  format: table
  time_format: epoch_s
  null_values: ["", "-"]
  columns: {{start_time: ts, duration: duration, bytes_in: orig_bytes, bytes_out: resp_bytes,
            packets_in: orig_pkts, packets_out: resp_pkts, src_ip: id.orig_h, dst_ip: id.resp_h,
            dst_port: id.resp_p, service: service}}
  label: {{column: attack_type, normal: [normal]}}
  missing: {{default: zero}}
features: [log1p(bytes_in), log1p(bytes_out), log1p(packets_in), log1p(packets_out), log1p(session_duration)]
scaling: robust
detectors:
  - kind: iforest
    n_estimators: 100
    contamination: 0.03
"#,
        path.display()
    );
    let config_path = dir.path().join("zeek-csv.yaml");
    std::fs::write(&config_path, yaml).unwrap();
    let c = webthreat_experiment::ExperimentConfig::load(&config_path, &[], None).unwrap();
    let store = tempfile::tempdir().unwrap();
    let out = run_in(store.path(), &c, false).unwrap();
    assert_eq!((out.rows, out.rejected), (5_000, 0));
    // three quarters of the sample's attacks mimic normal traffic (data/README.md): per-row
    // features find the obvious ones and some of the rest (0.82 here)
    let auc = out.detectors[0].roc_auc.expect("labelled");
    assert!(auc > 0.75, "{auc}");
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("of `orig_bytes` (bytes_in) read as 0")
                && n.contains("`missing: {default: zero}`")),
        "{:?}",
        out.notes
    );
}

#[test]
fn every_shipped_format_config_runs() {
    let store = tempfile::tempdir().unwrap();
    for (name, rows, rejected) in [
        ("zeek.yaml", 5_000, 0),
        ("vpcflow.yaml", 5_000, 1),
        ("alb.yaml", 5_000, 0),
    ] {
        let c = config(name, &[], None);
        let out = run_in(store.path(), &c, false).unwrap();
        assert_eq!((out.rows, out.rejected), (rows, rejected), "{name}");
        // 0.82 to 0.89: most of the sample's attacks mimic normal traffic (data/README.md)
        let auc = out.detectors[0].roc_auc.expect("labelled");
        assert!(auc > 0.75, "{name}: {auc}");
        if rejected > 0 {
            let rejects = read(&out.dir, "rejects.csv");
            assert!(rejects.contains("missing: skip"), "{rejects}");
        }
        assert!(Path::new(&out.dir).join("report.html").exists());
    }
}

#[test]
fn categorical_features_fit_one_vocabulary_used_in_memory_streamed_and_rescored() {
    let store = tempfile::tempdir().unwrap();
    let features = "features=[log1p(bytes_in), log1p(bytes_out), onehot(conn_state), freq(history), freq(service)]";
    let whole = run_in(store.path(), &config("zeek.yaml", &[features], None), false).unwrap();
    let streamed = config("zeek.yaml", &[features, "streaming.batch_rows=700"], None);
    let streamed = run_in(store.path(), &streamed, false).unwrap();
    assert_eq!(
        read(&whole.dir, "scores.csv"),
        read(&streamed.dir, "scores.csv")
    );
    let pipeline = read(&whole.dir, "models/features.json");
    for name in [
        "onehot(conn_state)=SF",
        "onehot(conn_state)=REJ",
        "onehot(conn_state)=(other)",
    ] {
        assert!(pipeline.contains(name), "{name} not in {pipeline}");
    }
    // new data is encoded with the training vocabulary: rescoring the same rows gives the
    // same scores
    let rescored = webthreat_experiment::score_with_run(
        &whole.dir,
        Path::new("data/sample.zeek.log"),
        store.path(),
        None,
    )
    .unwrap();
    let scores =
        |dir: &Path| -> Vec<String> { read(dir, "scores.csv").lines().map(String::from).collect() };
    assert_eq!(scores(&whole.dir), scores(&rescored.dir));
}
