//! End-to-end threat detection: the beacon analysis on the real Trickbot week (the same in
//! memory, streamed and rescored), threat-intel lists (a blocklist rule, an allowlist that
//! suppresses flags, the matched entry in `scores.csv`) and GeoIP/ASN columns.

use std::path::{Path, PathBuf};
use webthreat_experiment::{StreamingOptions, score_with_run};
use webthreat_tests::{alerts_of, config, read, run_in, seed_csv};

/// The alerts of the run in `dir` whose `event.dataset` is `webthreat.<kind>`.
fn alerts(dir: &Path, kind: &str) -> Vec<serde_json::Value> {
    (read(dir, "alerts.jsonl").lines())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|a| a["event"]["dataset"] == format!("webthreat.{kind}"))
        .collect()
}

/// The `column` of `scores.csv` text, by header name.
fn column(scores: &str, column: &str) -> Vec<String> {
    let mut lines = scores.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = header.iter().position(|h| *h == column).unwrap();
    lines
        .map(|l| l.split(',').nth(j).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn beacon_scores_are_the_same_in_memory_streamed_and_rescored() {
    let store = tempfile::tempdir().unwrap();
    let c = config("beacon-trickbot.yaml", &["report.plots=false"], None);
    let whole = run_in(store.path(), &c, false).unwrap();
    let beacons = read(&whole.dir, "beacons.csv");
    assert!(beacons.starts_with("src_ip,dst_ip,dst_port,connections,score,interval_skew,"));
    // pairs from an internal host to an external one, highest score first
    let scores: Vec<f64> = (beacons.lines().skip(1))
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert!(scores.len() > 20, "{beacons}");
    assert!(scores.windows(2).all(|w| w[0] >= w[1]));
    assert!(beacons.lines().skip(1).all(|l| l.starts_with("172.16.9.")));
    // the report's Beacons section on the real capture, pinned
    let report = read(&whole.dir, "report.md");
    let from = report.find("## Beacons").expect("a Beacons section");
    let to = from
        + report[from..]
            .find("\n## Plots")
            .unwrap_or(report.len() - from);
    insta::assert_snapshot!("trickbot_beacons_section", &report[from..to]);
    // the malware's periodic checks are flagged at the default threshold
    let flagged_pairs = beacons.lines().filter(|l| l.ends_with(",1")).count();
    assert!(flagged_pairs >= 3, "{beacons}");
    // each flagged pair is an alert, highest score first, after the rows' alerts
    let pair_alerts = alerts(&whole.dir, "beacon");
    assert_eq!(pair_alerts.len(), flagged_pairs);
    for (a, line) in pair_alerts.iter().zip(beacons.lines().skip(1)) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(a["source"]["ip"], f[0]);
        assert_eq!(a["destination"]["ip"], f[1]);
        assert_eq!(a["destination"]["port"].to_string(), f[2]);
        assert_eq!(a["rule"]["name"], "beacon");
        let beacon = &a["webthreat"]["beacon"];
        assert_eq!(beacon["connections"].to_string(), f[3]);
        assert_eq!(format!("{:.6}", beacon["score"].as_f64().unwrap()), f[4]);
        assert_eq!(beacon["threshold"], 0.7);
        for (k, name) in [
            "interval_skew",
            "interval_dispersion",
            "size_regularity",
            "count",
            "coverage",
        ]
        .iter()
        .enumerate()
        {
            let value = beacon[name].as_f64().unwrap();
            assert_eq!(format!("{value:.6}"), f[5 + k], "{name}");
        }
        assert_eq!(a["event"]["start"], f[10]);
        assert_eq!(a["@timestamp"], f[11]);
        assert_eq!(a["event"]["end"], f[11]);
    }
    let text = read(&whole.dir, "alerts.jsonl");
    let first_pair = text.find("\"webthreat.beacon\"").unwrap();
    assert!(!text[first_pair..].contains("\"webthreat.row\""));
    // the rows of those pairs are flagged by the beacon detector, each once
    let rows = alerts(&whole.dir, "row");
    let by_beacon = (rows.iter())
        .filter(|a| {
            (a["webthreat"]["detectors"].as_array().unwrap().iter()).any(|d| d["kind"] == "beacon")
        })
        .count();
    assert_eq!(by_beacon, whole.detectors[1].flagged);

    // streamed in batches (no window features: the forest's features are row-local here)
    let mut streamed = config(
        "beacon-trickbot.yaml",
        &[
            "report.plots=false",
            "features=[log1p(bytes_in), log1p(bytes_out), log1p(duration)]",
        ],
        None,
    );
    let mut in_memory = streamed.clone();
    in_memory.name = "beacon-memory".into();
    let in_memory = run_in(store.path(), &in_memory, false).unwrap();
    streamed.streaming = Some(StreamingOptions {
        batch_rows: 1_000,
        fit_rows: 20_000,
    });
    let streamed = run_in(store.path(), &streamed, false).unwrap();
    assert_eq!(read(&streamed.dir, "beacons.csv"), beacons);
    assert!(
        alerts_of(&streamed) == alerts_of(&in_memory).replace("beacon-memory", "beacon-trickbot")
    );
    let beacon_scores = |dir: &Path| column(&read(dir, "scores.csv"), "beacon_score");
    assert_eq!(beacon_scores(&streamed.dir), beacon_scores(&in_memory.dir));
    assert_eq!(beacon_scores(&whole.dir), beacon_scores(&in_memory.dir));

    // rescoring the same log with the saved models analyses its pairs again
    let data = PathBuf::from("../shared/data/zeek/trickbot-2018-11/conn.log");
    let rescored = score_with_run(&whole.dir, &data, store.path(), None).unwrap();
    assert_eq!(read(&rescored.dir, "beacons.csv"), beacons);
    assert_eq!(beacon_scores(&rescored.dir), beacon_scores(&whole.dir));
}

/// A list file in `dir`.
fn list(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn an_allowlist_suppresses_flags_and_a_blocklist_rule_flags_on_its_own() {
    let store = tempfile::tempdir().unwrap();
    let lists = tempfile::tempdir().unwrap();
    let plain = config("iforest.yaml", &[], Some(&seed_csv()));
    let before = run_in(store.path(), &plain, true).unwrap();
    assert_eq!(before.detectors[0].flagged, 15);

    // the source of 13 of the 15 flags is allowlisted; another source is blocklisted
    let allow = list(lists.path(), "allow.txt", "# known good\n155.91.45.0/24\n");
    let block = list(
        lists.path(),
        "feodo.csv",
        "# abuse.ch style\n\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"malware\"\n\
         \"2024-01-01 00:00:00\",\"165.225.240.79\",\"443\",\"Test\"\n",
    );
    let set = [
        format!("intel.lists=[{{path: {allow}, kind: allow}}, {{path: {block}, name: feodo}}]"),
        "detectors=[{kind: iforest, n_estimators: 100, contamination: 0.05}, {kind: intel}]"
            .to_string(),
    ];
    let set: Vec<&str> = set.iter().map(String::as_str).collect();
    let with_lists = config("iforest.yaml", &set, Some(&seed_csv()));
    let after = run_in(store.path(), &with_lists, true).unwrap();
    let flagged: Vec<usize> = after.detectors.iter().map(|d| d.flagged).collect();
    // the forest's threshold is fitted as before; 13 of its flags are removed
    assert_eq!(after.detectors[0].threshold, before.detectors[0].threshold);
    assert_eq!(flagged, [2, 18]);
    let report = read(&after.dir, "report.md");
    assert!(report.contains("13 flags were removed"), "{report}");
    // the lists matched against are recorded by content
    let record: serde_json::Value = serde_json::from_str(&read(&after.dir, "run.json")).unwrap();
    assert_eq!(record["intel_blake3"].as_str().map(str::len), Some(64));
    assert!(report.contains("| feodo | block | 1 | 18 |"), "{report}");

    let scores = read(&after.dir, "scores.csv");
    let src = column(&scores, "src_ip");
    let intel = column(&scores, "src_intel");
    for (ip, cell) in src.iter().zip(&intel) {
        match ip.as_str() {
            "165.225.240.79" => assert_eq!(cell, "feodo: 165.225.240.79 (Test)"),
            ip if ip.starts_with("155.91.45.") => assert_eq!(cell, "allow: 155.91.45.0/24"),
            _ => assert_eq!(cell, ""),
        }
    }
    let iforest_flags = column(&scores, "iforest_flag");
    assert!(
        (src.iter().zip(&iforest_flags)).all(|(ip, f)| !ip.starts_with("155.91.45.") || f == "0")
    );

    // alerts: one per flagged row, whichever detectors flag it, and one per blocklisted row
    let intel_flags = column(&scores, "intel_flag");
    let flagged_rows: Vec<String> = (column(&scores, "row_id").into_iter())
        .zip(iforest_flags.iter().zip(&intel_flags))
        .filter(|(_, (a, b))| *a == "1" || *b == "1")
        .map(|(row, _)| row)
        .collect();
    let rows = alerts(&after.dir, "row");
    let alerted: Vec<String> = (rows.iter())
        .map(|a| a["webthreat"]["row"].to_string())
        .collect();
    assert_eq!(alerted, flagged_rows);
    for a in &rows {
        assert!(
            !a["source"]["ip"]
                .as_str()
                .unwrap()
                .starts_with("155.91.45.")
        );
        // the rule is the most severe of the detectors that flag the row
        let detectors = a["webthreat"]["detectors"].as_array().unwrap();
        let most = (detectors.iter())
            .map(|d| d["severity"].as_f64().unwrap())
            .fold(0.0, f64::max);
        assert_eq!(a["event"]["risk_score"].as_f64(), Some(most));
        let rule = detectors
            .iter()
            .find(|d| d["severity"].as_f64() == Some(most));
        assert_eq!(a["rule"]["name"], rule.unwrap()["name"]);
    }
    let matches = alerts(&after.dir, "intel");
    assert_eq!(matches.len(), 18);
    for a in &matches {
        assert_eq!(a["source"]["ip"], "165.225.240.79");
        assert_eq!(a["webthreat"]["side"], "source");
        assert_eq!(
            a["threat"]["indicator"],
            serde_json::json!({
                "ip": "165.225.240.79",
                "type": "ipv4-addr",
                "provider": "feodo",
                "description": "165.225.240.79 (Test)",
            })
        );
    }
}

#[test]
fn the_intel_config_alerts_on_its_blocklisted_rows() {
    let store = tempfile::tempdir().unwrap();
    let out = run_in(store.path(), &config("intel.yaml", &[], None), false).unwrap();
    let scores = read(&out.dir, "scores.csv");
    let blocked = (column(&scores, "src_intel").iter())
        .zip(column(&scores, "dst_intel"))
        .filter(|(s, d)| s.starts_with("demo-block:") || d.starts_with("demo-block:"))
        .count();
    assert!(blocked > 10);
    let matches = alerts(&out.dir, "intel");
    assert_eq!(matches.len(), blocked);
    for a in &matches {
        let indicator = &a["threat"]["indicator"];
        assert_eq!(indicator["provider"], "demo-block");
        assert_eq!(indicator["type"], "ipv4-addr");
        let side = a["webthreat"]["side"].as_str().unwrap();
        assert_eq!(a[side]["ip"], indicator["ip"]);
        assert!(a["@timestamp"].is_string() && a["webthreat"]["row"].is_u64());
        assert_eq!(a["event"]["risk_score"], 100.0);
    }
    // the intel rule flags those rows too: their row alerts name it
    let rows = alerts(&out.dir, "row");
    let by_intel = (rows.iter())
        .filter(|a| {
            (a["webthreat"]["detectors"].as_array().unwrap().iter()).any(|d| d["name"] == "intel")
        })
        .count();
    assert_eq!(by_intel, out.detectors[1].flagged);
}

#[test]
fn geoip_databases_add_country_and_asn_columns() {
    let store = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // the generated sample with two sources moved into the test databases' networks
    let text = std::fs::read_to_string("data/sample.csv").unwrap();
    let mut lines: Vec<String> = text.lines().take(200).map(String::from).collect();
    for (k, line) in lines.iter_mut().enumerate().skip(1) {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[4] = ["192.0.2.9", "100.64.0.1"][k % 2];
        *line = cells.join(",");
    }
    let log = dir.path().join("log.csv");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let fixtures = Path::new("crates/intel/tests/fixtures");
    let set = [
        format!(
            "intel.geoip.country={}",
            fixtures.join("geo-city.mmdb").display()
        ),
        format!(
            "intel.geoip.asn={}",
            fixtures.join("geo-asn.mmdb").display()
        ),
        "report.plots=false".to_string(),
    ];
    let set: Vec<&str> = set.iter().map(String::as_str).collect();
    let c = config("iforest.yaml", &set, Some(&log));
    let out = run_in(store.path(), &c, true).unwrap();
    let scores = read(&out.dir, "scores.csv");
    let src = column(&scores, "src_ip");
    let country = column(&scores, "src_country");
    let asn = column(&scores, "src_asn");
    let k = src.iter().position(|ip| ip == "192.0.2.9").unwrap();
    assert_eq!(country[k], "DE");
    assert!(asn[k].starts_with("AS64496 Example Transit"), "{}", asn[k]);
    let other = src.iter().position(|ip| ip == "100.64.0.1").unwrap();
    assert_eq!((country[other].as_str(), asn[other].as_str()), ("", ""));
    assert_eq!(column(&scores, "dst_country")[k], "");
}

#[test]
fn generated_beacons_are_flagged_at_every_jitter_level_in_every_format() {
    use webthreat_synth::{BeaconPlan, GenConfig, OutputFormat, generate};
    let store = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let configs = [
        (OutputFormat::Cloudwatch, "iforest.yaml", "log.csv"),
        (OutputFormat::Zeek, "zeek.yaml", "conn.log"),
        (OutputFormat::VpcFlow, "vpcflow.yaml", "flow.log"),
        (OutputFormat::Alb, "alb.yaml", "alb.log"),
    ];
    for (format, config_name, file) in configs {
        let path = dir.path().join(file);
        let summary = generate(
            &GenConfig {
                rows: 200_000,
                seed: 11,
                format,
                beacons: BeaconPlan::levels(&[0.0, 0.1, 0.3, 0.5]),
                ..GenConfig::default()
            },
            std::fs::File::create(&path).unwrap(),
        )
        .unwrap();
        let set = ["detectors=[{kind: beacon}]", "report.plots=false"];
        let c = config(config_name, &set, Some(&path));
        let out = run_in(store.path(), &c, true).unwrap();
        let beacons = read(&out.dir, "beacons.csv");
        let flagged: Vec<(String, String, String)> = (beacons.lines().skip(1))
            .filter(|l| l.ends_with(",1"))
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].into(), f[1].into(), f[2].into())
            })
            .collect();
        // every beacon pair, at every jitter level, is flagged through the whole pipeline
        assert_eq!(summary.beacons.len(), 12);
        for b in &summary.beacons {
            let key = (b.src.to_string(), b.dst.to_string(), b.dst_port.to_string());
            assert!(
                flagged.contains(&key),
                "{format:?}: beacon {key:?} at jitter {} not flagged\n{beacons}",
                b.jitter
            );
        }
        // and little else: the normal internal-to-external pairs stay below the threshold
        assert_eq!(flagged.len(), 12, "{format:?}\n{beacons}");
    }
}
