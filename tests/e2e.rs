//! End-to-end tests: whole runs through the experiment library, as `cargo xtask run` does.
//! Snapshots (insta) cover report.md and metrics.json for the bundled sample and the seed
//! export; volatile values never reach those files, so no filter hides a result.

use std::collections::BTreeSet;
use std::path::Path;
use webthreat_experiment::{
    ExperimentConfig, ExperimentError, RunOutcome, RunStore, StreamingOptions, compare,
    score_with_run,
};
use webthreat_tests::{alerts_of, config, read, run_in, seed_csv, shared};

fn flags(dir: &Path, column: &str) -> Vec<bool> {
    let text = read(dir, "scores.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = header.iter().position(|h| *h == column).unwrap();
    lines.map(|l| l.split(',').nth(j).unwrap() == "1").collect()
}

#[test]
fn seed_export_flags_15_of_282_like_the_seed() {
    let store = tempfile::tempdir().unwrap();
    let seed = seed_csv();
    let c = config("iforest.yaml", &[], Some(&seed));
    let out = run_in(store.path(), &c, true).unwrap();
    assert_eq!(out.rows, 282);
    assert_eq!(out.detectors[0].flagged, 15);
    assert!(
        out.notes.iter().any(|n| n.contains("no `label` column")),
        "{:?}",
        out.notes
    );
    insta::assert_snapshot!("seed_metrics", read(&out.dir, "metrics.json"));
    insta::assert_snapshot!("seed_report", read(&out.dir, "report.md"));
}

#[test]
fn seed_export_alerts_are_one_json_object_per_flagged_row() {
    let store = tempfile::tempdir().unwrap();
    let seed = seed_csv();
    let c = config("iforest.yaml", &[], Some(&seed));
    let out = run_in(store.path(), &c, true).unwrap();
    let text = read(&out.dir, "alerts.jsonl");
    let alerts: Vec<serde_json::Value> = (text.lines())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(alerts.len(), 15);
    // one per flagged row of scores.csv, in row order
    let scores = read(&out.dir, "scores.csv");
    let flagged_rows: Vec<u64> = (scores.lines().skip(1))
        .zip(flags(&out.dir, "iforest_flag"))
        .filter(|(_, f)| *f)
        .map(|(l, _)| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let rows: Vec<u64> = (alerts.iter())
        .map(|a| a["webthreat"]["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, flagged_rows);
    for a in &alerts {
        assert!(a["@timestamp"].as_str().unwrap().ends_with('Z'), "{a}");
        assert!(a["source"]["ip"].is_string(), "{a}");
        let risk = a["event"]["risk_score"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&risk), "{a}");
        assert_eq!(a["event"]["kind"], "alert");
        assert_eq!(a["rule"]["name"], "iforest");
        assert_eq!(
            a["webthreat"]["detectors"][0]["severity"].as_f64(),
            Some(risk)
        );
    }
    // the whole file, pinned: the ECS fields, scores and explanations in the log's units
    insta::assert_snapshot!("seed_alerts", text);
}

#[test]
fn seed_flags_overlap_the_scikit_learn_reference() {
    let store = tempfile::tempdir().unwrap();
    let seed = seed_csv();
    // the reference configuration: standardized bytes_in, bytes_out, session duration
    let c = config(
        "iforest.yaml",
        &["features=[bytes_in, bytes_out, session_duration]"],
        Some(&seed),
    );
    let out = run_in(store.path(), &c, true).unwrap();
    let ours = flags(&out.dir, "iforest_flag");
    let reference =
        std::fs::read_to_string(shared("cloudwatch/seed_reference_flags_sklearn.csv")).unwrap();
    let mut lines = reference.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = header.iter().position(|h| *h == "flag_fierce_cfg").unwrap();
    let theirs: Vec<bool> = lines.map(|l| l.split(',').nth(j).unwrap() == "1").collect();
    assert_eq!(theirs.len(), 282);
    let both = ours.iter().zip(&theirs).filter(|(a, b)| **a && **b).count();
    eprintln!("seed overlap with scikit-learn reference flags: {both} of 15");
    assert_eq!(ours.iter().filter(|f| **f).count(), 15);
    assert!(both >= 12, "only {both} of 15 reference flags shared");
}

#[test]
fn bundled_sample_runs_are_snapshotted() {
    let store = tempfile::tempdir().unwrap();
    for name in ["iforest.yaml", "compare.yaml"] {
        let c = config(name, &[], None);
        let out = run_in(store.path(), &c, false).unwrap();
        let stem = name.trim_end_matches(".yaml");
        insta::assert_snapshot!(
            format!("sample_{stem}_metrics"),
            read(&out.dir, "metrics.json")
        );
        insta::assert_snapshot!(format!("sample_{stem}_report"), read(&out.dir, "report.md"));
        for file in [
            "config.yaml",
            "run.json",
            "scores.csv",
            "report.html",
            "curves.json",
            "models/features.json",
            "plots/roc_curves.png",
            "plots/roc_curves.svg",
            "plots/bytes_scatter.png",
        ] {
            assert!(out.dir.join(file).is_file(), "{stem}: missing {file}");
        }
        for d in &c.detectors {
            assert!(
                out.dir
                    .join("models")
                    .join(format!("{}.json", d.name()))
                    .is_file()
            );
        }
    }
}

#[test]
fn a_run_without_plots_links_none() {
    let store = tempfile::tempdir().unwrap();
    let c = config("iforest.yaml", &["report.plots=false"], None);
    let out = run_in(store.path(), &c, false).unwrap();
    assert!(!out.dir.join("plots").exists());
    for file in ["report.md", "report.html"] {
        let text = read(&out.dir, file);
        assert!(text.contains("## Flagged rows") || text.contains("<h2>Flagged rows</h2>"));
        assert!(
            !text.contains("plots/") && !text.contains("Plots"),
            "{file} mentions plots"
        );
    }
}

#[test]
fn reruns_are_byte_identical_whatever_the_thread_count() {
    let store = tempfile::tempdir().unwrap();
    let c = config("compare.yaml", &["repeat=1", "detectors.2.epochs=20"], None);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| run_in(store.path(), &c, false)).unwrap();
    let b = two.install(|| run_in(store.path(), &c, false)).unwrap();
    assert_ne!(a.dir, b.dir);
    for file in [
        "metrics.json",
        "scores.csv",
        "report.md",
        "report.html",
        "plots/bytes_scatter.png",
    ] {
        assert!(
            std::fs::read(a.dir.join(file)).unwrap() == std::fs::read(b.dir.join(file)).unwrap(),
            "{file} differs between a 1-thread and a 2-thread run"
        );
    }
    // the alerts too, but for the run id the store gave each run
    assert!(read(&a.dir, "alerts.jsonl").lines().count() > 10);
    assert!(
        alerts_of(&a) == alerts_of(&b),
        "alerts differ by thread count"
    );
    assert!(read(&a.dir, "run.json").contains("\"threads\": 1"));
    assert!(read(&b.dir, "run.json").contains("\"threads\": 2"));
}

#[test]
fn concurrent_runs_get_distinct_complete_directories() {
    let store = tempfile::tempdir().unwrap();
    let c = config("zscore.yaml", &[], None);
    let dirs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| run_in(store.path(), &c, false).unwrap().dir))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let distinct: BTreeSet<_> = dirs.iter().collect();
    assert_eq!(distinct.len(), 4);
    for d in &dirs {
        assert!(d.join("run.json").is_file() && d.join("report.md").is_file());
    }
    let ids: Vec<String> = RunStore::new(store.path())
        .runs(Some("zscore"))
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec!["0001", "0002", "0003", "0004"]);
}

#[test]
fn a_failed_run_leaves_nothing_that_looks_like_a_run() {
    let store = tempfile::tempdir().unwrap();
    let bad = tempfile::NamedTempFile::with_suffix(".csv").unwrap();
    std::fs::write(bad.path(), "bytes_in,bytes_out\n1,2\n").unwrap();
    let c = config("iforest.yaml", &[], Some(bad.path()));
    let err = run_in(store.path(), &c, true).unwrap_err().to_string();
    assert!(err.contains("missing required column"), "{err}");
    let exp = store.path().join("iforest");
    let leftovers: Vec<String> = std::fs::read_dir(&exp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".ids")
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    assert!(RunStore::new(store.path()).runs(None).unwrap().is_empty());
}

#[test]
fn compare_and_list_show_differences_and_deltas() {
    let store = tempfile::tempdir().unwrap();
    let a = run_in(store.path(), &config("iforest.yaml", &[], None), false).unwrap();
    let b = run_in(
        store.path(),
        &config(
            "iforest.yaml",
            &["seed=7", "detectors.0.n_estimators=50"],
            None,
        ),
        false,
    )
    .unwrap();
    let s = RunStore::new(store.path());
    let out = store.path().join("cmp");
    let cmp = compare::compare(&s, &["iforest".to_string()], &out).unwrap();
    assert_eq!(cmp.runs.len(), 2);
    assert!(
        cmp.markdown.contains("| seed | 42 | 7 |"),
        "{}",
        cmp.markdown
    );
    assert!(
        cmp.markdown
            .contains("| detectors.0.n\\_estimators | 100 | 50 |"),
        "{}",
        cmp.markdown
    );
    assert!(
        cmp.markdown.contains("| iforest.roc\\_auc |"),
        "{}",
        cmp.markdown
    );
    assert!(out.join("comparison.md").is_file());
    assert!(out.join("plots/roc_curves.png").is_file());
    let listing = compare::list_markdown(&compare::list(&s, None).unwrap().0);
    assert!(
        listing.contains(&format!("iforest/{}", a.id))
            && listing.contains(&format!("iforest/{}", b.id))
    );
}

#[test]
fn score_reuses_saved_models_without_refitting() {
    let store = tempfile::tempdir().unwrap();
    let c = config("compare.yaml", &["repeat=1", "detectors.2.epochs=20"], None);
    let fitted = run_in(store.path(), &c, false).unwrap();
    let rescored = rescore_sample(&fitted.dir, store.path(), None).unwrap();
    assert!(rescored.dir.starts_with(store.path().join("compare-score")));
    // same data, same models and thresholds: identical scores and flags
    assert_eq!(
        read(&fitted.dir, "scores.csv"),
        read(&rescored.dir, "scores.csv")
    );
    assert_eq!(
        read(&fitted.dir, "metrics.json"),
        read(&rescored.dir, "metrics.json")
    );
    assert!(read(&rescored.dir, "run.json").contains("\"mode\": \"score\""));
    // and new, unlabeled data is scored too
    let seed = score_with_run(&fitted.dir, &seed_csv(), store.path(), None).unwrap();
    assert_eq!(seed.rows, 282);
}

/// Re-scores the bundled sample with the models of the run in `dir`, in batches of
/// `(batch_rows, fit_rows)` when given.
fn rescore_sample(
    dir: &Path,
    store: &Path,
    batches: Option<(usize, usize)>,
) -> Result<RunOutcome, ExperimentError> {
    let streaming = batches.map(|(batch_rows, fit_rows)| StreamingOptions {
        batch_rows,
        fit_rows,
    });
    score_with_run(dir, Path::new("data/sample.csv"), store, streaming)
}

/// `metrics.json` as a JSON value.
fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(dir, "metrics.json")).unwrap()
}

#[test]
fn streaming_in_batches_matches_the_in_memory_run() {
    let store = tempfile::tempdir().unwrap();
    let whole = run_in(store.path(), &config("compare.yaml", &["repeat=1", "detectors.2.epochs=20", "features=[bytes_in, bytes_out, session_duration, avg_packet_size, log1p(bytes_ratio)]"], None), false).unwrap();
    // 5,000 rows in uneven batches of 700; the fit sample (10,000) holds every row, so the
    // models, thresholds, scores and flags are those of the in-memory run
    let streamed = run_in(
        store.path(),
        &config(
            "compare.yaml",
            &[
                "repeat=1", "detectors.2.epochs=20",
                "features=[bytes_in, bytes_out, session_duration, avg_packet_size, log1p(bytes_ratio)]",
                "streaming.batch_rows=700",
                "streaming.fit_rows=10000",
            ],
            None,
        ),
        false,
    )
    .unwrap();
    assert_eq!(
        read(&whole.dir, "scores.csv"),
        read(&streamed.dir, "scores.csv")
    );
    let (a, b) = (metrics(&whole.dir), metrics(&streamed.dir));
    assert_eq!(a["rows"], b["rows"]);
    for (name, d) in a["detectors"].as_object().unwrap() {
        let s = &b["detectors"][name];
        for key in ["flagged", "threshold", "precision", "recall", "f1"] {
            assert_eq!(d[key], s[key], "{name} {key}");
        }
        // ranking metrics come from 12-bit score bins in streaming mode
        for key in ["roc_auc", "pr_auc"] {
            let (x, y) = (d[key].as_f64().unwrap(), s[key].as_f64().unwrap());
            assert!((x - y).abs() < 2e-3, "{name} {key}: {x} vs {y}");
        }
    }
    let report = read(&streamed.dir, "report.md");
    assert!(report.contains("binned to 12 significant bits"), "{report}");
    assert!(report.contains("fitted on 5000 of 5000 rows"), "{report}");
    // the top flagged rows and per-IP table agree with the in-memory report
    let section = |text: &str, title: &str| -> String {
        text.split("\n## ")
            .find(|s| s.starts_with(title))
            .unwrap_or_else(|| panic!("no section {title}"))
            .to_string()
    };
    let whole_report = read(&whole.dir, "report.md");
    for title in [
        "Flagged rows",
        "Source IPs",
        "Destination ports",
        "Detector agreement",
    ] {
        let (x, y) = (section(&whole_report, title), section(&report, title));
        // explanations' typical values are sample medians (here: of all rows, identical)
        assert_eq!(x, y, "{title}");
    }

    // and so do the alerts, line for line
    assert!(alerts_of(&whole).lines().count() > 100);
    assert!(alerts_of(&whole) == alerts_of(&streamed), "alerts differ");

    // re-scoring in batches reproduces the in-memory re-scoring
    let rescored = rescore_sample(&whole.dir, store.path(), Some((999, 10_000))).unwrap();
    assert_eq!(
        read(&whole.dir, "scores.csv"),
        read(&rescored.dir, "scores.csv")
    );
    // its alerts, whose typical values (medians of a sample holding every scored row) are
    // filled in once every batch is scored, are the fitted run's
    let rescored_alerts = alerts_of(&rescored).replace(
        "\"experiment\":\"compare-score\"",
        "\"experiment\":\"compare\"",
    );
    assert!(
        alerts_of(&whole) == rescored_alerts,
        "rescored alerts differ"
    );
    assert!(!rescored.dir.join("alerts.jsonl.pending").exists());
    assert_eq!(
        metrics(&rescored.dir)["detectors"]["iforest"]["flagged"],
        a["detectors"]["iforest"]["flagged"]
    );
}

#[test]
fn streaming_rejects_window_features() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(
        &path,
        "name: x\ndata:\n  path: data/sample.csv\nfeatures: [bytes_in, src_sessions]\nstreaming:\n  batch_rows: 10\ndetectors:\n  - kind: zscore\n",
    )
    .unwrap();
    let err = ExperimentConfig::load(&path, &[], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("src_sessions") && err.contains("streaming"),
        "{err}"
    );
    // nor can a run fitted with window features be re-scored in batches
    let store = tempfile::tempdir().unwrap();
    let c = config("compare.yaml", &["repeat=1", "detectors.2.epochs=5"], None);
    let fitted = run_in(store.path(), &c, false).unwrap();
    let err = rescore_sample(&fitted.dir, store.path(), Some((100, 100)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("src_sessions"), "{err}");
}

#[test]
fn malformed_configs_name_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "name: x\ndata:\n  path: data/sample.csv\ndetectors:\n  - kind: iforest\n    n_trees: 5\n",
            "n_trees",
        ),
        (
            "name: x\ndata:\n  path: data/sample.csv\n  format: json\ndetectors: []\n",
            "json",
        ),
        (
            "name: x\nseed: -1\ndata:\n  path: data/sample.csv\ndetectors: []\n",
            "line 2",
        ),
        (
            "name: x\ndata:\n  path: data/sample.csv\ndetectors:\n  - kind: iforest\n    contamination: 0.9\n",
            "contamination",
        ),
        (
            "name: x\ndata:\n  path: data/sample.csv\ndetectors: []\n",
            "at least one detector",
        ),
        (
            "name: x\ndata:\n  path: data/sample.csv\nfeatures: [log1p(bytes_in]\ndetectors:\n  - kind: zscore\n",
            "log1p(bytes_in",
        ),
    ];
    for (text, expected) in cases {
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, text).unwrap();
        let err = ExperimentConfig::load(&path, &[], None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(expected) && err.contains("c.yaml"),
            "{expected}: {err}"
        );
    }
}

#[test]
fn log_derived_strings_are_escaped_in_html_and_csv() {
    let store = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(seed_csv()).unwrap();
    // the seed's most-flagged source IP becomes a script tag, another one a spreadsheet formula
    let hostile = text
        .replace("155.91.45.242", "<script>alert(1)</script>")
        .replacen("165.225.33.6", "=HYPERLINK(\"x\")", 1);
    let log = tempfile::NamedTempFile::with_suffix(".csv").unwrap();
    std::fs::write(log.path(), hostile).unwrap();
    let c = config(
        "iforest.yaml",
        &["report.top_flagged=300"],
        Some(log.path()),
    );
    let out = run_in(store.path(), &c, true).unwrap();
    let html = read(&out.dir, "report.html");
    assert!(
        !html.contains("<script>alert"),
        "raw script tag in report.html"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped IP missing from report.html"
    );
    let scores = read(&out.dir, "scores.csv");
    assert!(
        scores.contains("\"'=HYPERLINK(\"\"x\"\")\""),
        "formula not neutralised"
    );
}

#[test]
fn labels_of_one_class_or_mostly_anomalies_are_warned_about() {
    let store = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("data/sample.csv").unwrap();
    let header = text.lines().next().unwrap();
    let label = header.split(',').position(|c| c == "label").unwrap();
    // the first 500 rows of the sample relabeled: every row normal, then 40% anomalies
    for (name, anomalous, expected) in [
        (
            "normal.csv",
            0,
            "The labels hold one class only (all 500 rows normal)",
        ),
        ("many.csv", 200, "40.0% of the labeled rows are anomalies"),
    ] {
        let mut lines = vec![header.to_string()];
        for (k, line) in text.lines().skip(1).take(500).enumerate() {
            let mut cells: Vec<&str> = line.split(',').collect();
            cells[label] = if k < anomalous { "1" } else { "0" };
            lines.push(cells.join(","));
        }
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let c = config("iforest.yaml", &["report.plots=false"], Some(&path));
        let out = run_in(store.path(), &c, true).unwrap();
        let report = read(&out.dir, "report.md");
        assert!(report.contains(expected), "{report}");
        assert!(
            out.notes.iter().any(|n| n.contains(expected)),
            "{:?}",
            out.notes
        );
        assert!(!report.contains("No labels"));
    }
}
