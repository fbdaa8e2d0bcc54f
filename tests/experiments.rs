//! Experiments that answer "is A better than B, and by how much": sweeps and suites with their
//! ranked summaries, `compare` testing deltas against seed noise, and the report's detectors
//! against each other.

use std::path::{Path, PathBuf};
use webthreat_experiment::{
    ExperimentConfig, PlanOutcome, RunOptions, RunStore, compare::compare, run_plan,
};
use webthreat_tests::{read, run_in};

/// A labeled table of `rows` rows and three features: normal rows near the origin, every 20th
/// row an anomaly shifted by `shift` in two of the features (so that the detectors are good,
/// not perfect, and differ).
fn table(path: &Path, rows: usize, shift: f64, salt: u64) {
    let mut state = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut uniform = move || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut normal = || (0..6).map(|_| uniform()).sum::<f64>() - 3.0;
    let mut text = String::from("x1,x2,x3,label\n");
    for i in 0..rows {
        let anomaly = i % 20 == 7;
        let s = if anomaly { shift } else { 0.0 };
        let (a, b, c) = (normal() + s, normal() - s, normal());
        text.push_str(&format!("{a:.4},{b:.4},{c:.4},{}\n", u8::from(anomaly)));
    }
    std::fs::write(path, text).unwrap();
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("experiment.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn plan(store: &Path, config: &Path) -> PlanOutcome {
    let config = ExperimentConfig::load(config, &[], None).unwrap();
    let mut seen = Vec::new();
    let outcome = run_plan(&config, &options(store), |label, _| {
        seen.push(label.to_string())
    })
    .unwrap();
    assert_eq!(seen.len(), outcome.runs.len());
    outcome
}

fn options(store: &Path) -> RunOptions {
    RunOptions {
        store_root: store.to_path_buf(),
        data_overridden: false,
        record_git: false,
    }
}

const TABLE: &str = "  format: table\n  label: label\nscaling: standard\nreport:\n  plots: false\n";

#[test]
fn a_sweep_runs_every_value_and_ranks_them_with_their_seed_spread() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("blobs.csv");
    table(&data, 600, 2.2, 1);
    let config = write_config(
        dir.path(),
        &format!(
            "name: sweep\nseed: 3\nrepeat: 4\ndata:\n  path: {}\n{TABLE}detectors:\n  - kind: iforest\n    n_estimators: 10\n    contamination: 0.05\nsweep:\n  detectors.0.n_estimators: [2, 8, 60]\n",
            data.display()
        ),
    );
    let store = dir.path().join("experiments");
    let outcome = plan(&store, &config);
    assert_eq!(outcome.runs.len(), 3);
    assert_eq!(outcome.dir, store.join("sweep/summaries/0001"));
    // every run is an ordinary run of the experiment, with the swept value in its config
    let runs = RunStore::new(&store).runs(Some("sweep")).unwrap();
    assert_eq!(runs.len(), 3);
    for (run, trees) in runs.iter().zip([2, 8, 60]) {
        let config = read(&run.dir, "config.yaml");
        assert!(
            config.contains(&format!("n_estimators: {trees}\n")),
            "{config}"
        );
        assert!(!config.contains("\nsweep:"), "{config}");
        let metrics: serde_json::Value =
            serde_json::from_str(&read(&run.dir, "metrics.json")).unwrap();
        let seeds = metrics["detectors"]["iforest"]["per_seed"]
            .as_array()
            .unwrap();
        assert_eq!(
            seeds
                .iter()
                .map(|s| s["seed"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            [3, 4, 5, 6]
        );
        // and writes its alerts, one per flagged row, naming the run
        let flagged = metrics["detectors"]["iforest"]["flagged"].as_u64().unwrap();
        let alerts = read(&run.dir, "alerts.jsonl");
        assert_eq!(alerts.lines().count() as u64, flagged);
        let named = format!(
            "\"webthreat\":{{\"run\":\"{}\",\"experiment\":\"sweep\"",
            run.id
        );
        assert!(alerts.lines().all(|l| l.contains(&named)), "{alerts}");
    }
    // ranked by mean ROC AUC, best first, each mean the run's metrics.json mean
    let summary = &outcome.summary;
    let means: Vec<f64> = (summary.candidates.iter())
        .map(|c| c.cells[0].as_ref().unwrap().mean)
        .collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    for c in &summary.candidates {
        let cell = c.cells[0].as_ref().unwrap();
        let run = store.join(&cell.run);
        let metrics: serde_json::Value = serde_json::from_str(&read(&run, "metrics.json")).unwrap();
        assert_eq!(
            metrics["detectors"]["iforest"]["roc_auc"].as_f64(),
            Some(cell.mean)
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&read(&outcome.dir, "summary.json")).unwrap();
    assert_eq!(json["candidates"].as_array().unwrap().len(), 3);
    assert!(read(&outcome.dir, "summary.html").contains("<th>detectors.0.n_estimators</th>"));
    insta::assert_snapshot!("sweep_summary", read(&outcome.dir, "summary.md"));

    // compare knows noise: the deltas of repeated runs come with a paired test
    let comparison = compare(
        &RunStore::new(&store),
        &["sweep/0001".into(), "sweep/0003".into()],
        &dir.path().join("cmp"),
    )
    .unwrap();
    insta::assert_snapshot!("compare_with_repeats", comparison.markdown);
}

#[test]
fn a_suite_ranks_detectors_on_every_data_set_and_averages_the_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let (easy, hard) = (dir.path().join("easy.csv"), dir.path().join("hard.csv"));
    table(&easy, 400, 3.0, 2);
    table(&hard, 400, 1.2, 3);
    let config = write_config(
        dir.path(),
        &format!(
            "name: suite\nseed: 1\nrepeat: 3\ndata:\n{TABLE}detectors:\n  - kind: iforest\n    n_estimators: 50\n    contamination: 0.05\n  - kind: zscore\n    contamination: 0.05\nsuite:\n  - {}\n  - path: {}\n    name: hard-one\n",
            easy.display(),
            hard.display()
        ),
    );
    let store = dir.path().join("experiments");
    let outcome = plan(&store, &config);
    assert_eq!(outcome.runs.len(), 2);
    let summary = &outcome.summary;
    assert_eq!(summary.data_sets, ["easy", "hard-one"]);
    for c in &summary.candidates {
        let ranks: Vec<f64> = c.cells.iter().map(|c| c.as_ref().unwrap().rank).collect();
        assert_eq!(c.average_rank, Some(ranks.iter().sum::<f64>() / 2.0));
    }
    insta::assert_snapshot!("suite_summary", read(&outcome.dir, "summary.md"));
    // the report of a repeated run tests its detectors against each other
    let report = read(&outcome.runs[1].dir, "report.md");
    let start = report.find("## Detectors against each other").unwrap();
    let end = start
        + report[start..]
            .find("\n## ")
            .unwrap_or(report.len() - start);
    insta::assert_snapshot!("report_detectors_against_each_other", &report[start..end]);
}

#[test]
fn single_seed_comparisons_say_they_cannot_tell() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("blobs.csv");
    table(&data, 300, 2.0, 4);
    let config = write_config(
        dir.path(),
        &format!(
            "name: single\ndata:\n  path: {}\n{TABLE}detectors:\n  - kind: iforest\n    contamination: 0.05\n",
            data.display()
        ),
    );
    let store = dir.path().join("experiments");
    for seed in ["seed=1", "seed=2"] {
        let config = ExperimentConfig::load(&config, &[seed.into()], None).unwrap();
        run_in(&store, &config, false).unwrap();
    }
    let comparison = compare(
        &RunStore::new(&store),
        &["single".into()],
        &dir.path().join("cmp"),
    )
    .unwrap();
    let md = comparison.markdown;
    assert!(md.contains("one seed cannot tell"), "{md}");
    assert!(
        md.contains("single/0001, single/0002 fitted each detector with one seed"),
        "{md}"
    );
}

#[test]
fn a_bad_combination_or_data_set_fails_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("blobs.csv");
    table(&data, 100, 2.0, 5);
    let store = dir.path().join("experiments");
    let config = write_config(
        dir.path(),
        &format!(
            "name: bad\ndata:\n  path: {}\n{TABLE}detectors:\n  - kind: iforest\nsweep:\n  detectors.0.contamination: [0.05, 0.7]\n",
            data.display()
        ),
    );
    let err = ExperimentConfig::load(&config, &[], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sweep: detectors.0.contamination=0.7:"),
        "{err}"
    );
    let config = write_config(
        dir.path(),
        &format!(
            "name: bad\ndata:\n{TABLE}detectors:\n  - kind: iforest\nsuite: [{}]\n",
            data.display()
        ),
    );
    let err = ExperimentConfig::load(&config, &[], Some(&data))
        .unwrap_err()
        .to_string();
    assert!(err.contains("run it without --data"), "{err}");
    assert!(!store.exists());
}
