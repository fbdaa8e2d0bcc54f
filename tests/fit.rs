//! The `fit:` section: fitting on a training log's normal rows, or on the rows before a time,
//! and scoring (and evaluating) only the other rows; no scored row reaches the fit.

use std::path::Path;
use webthreat_tests::{config, read, run_in};

/// The sample's header and data lines.
fn sample() -> (String, Vec<String>) {
    let text = std::fs::read_to_string("data/sample.csv").unwrap();
    let mut lines = text.lines().map(String::from);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn write(path: &Path, header: &str, lines: &[String]) {
    std::fs::write(path, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
}

/// The mean of a column over `lines`.
fn mean(header: &str, lines: &[&String], column: &str) -> f64 {
    let j = header.split(',').position(|c| c == column).unwrap();
    let values: Vec<f64> = lines
        .iter()
        .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

/// The scaler's centers in `models/features.json`: the fit rows' means with standard scaling.
fn centers(dir: &Path) -> Vec<f64> {
    let json: serde_json::Value = serde_json::from_str(&read(dir, "models/features.json")).unwrap();
    (json["scaler"]["center"].as_array().unwrap().iter())
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(dir, "metrics.json")).unwrap()
}

const SET: [&str; 3] = [
    "features=[bytes_in, bytes_out]",
    "scaling=standard",
    "report.plots=false",
];

#[test]
fn a_training_log_s_normal_rows_are_fitted_on_and_only_the_test_log_is_scored() {
    let (header, lines) = sample();
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    write(&train, &header, &lines[..3000]);
    write(&test, &header, &lines[3000..]);
    let label = header.split(',').position(|c| c == "label").unwrap();
    let normal: Vec<&String> = (lines[..3000].iter())
        .filter(|l| l.split(',').nth(label) == Some("0"))
        .collect();
    assert!(normal.len() < 3000);

    let fit = format!("fit={{data: {}, label: normal}}", train.display());
    let mut set = SET.to_vec();
    set.push(&fit);
    let store = tempfile::tempdir().unwrap();
    let out = run_in(
        store.path(),
        &config("iforest.yaml", &set, Some(&test)),
        true,
    )
    .unwrap();

    // fitted on exactly the training log's normal rows: the scaler's centers are their means
    let want = [
        mean(&header, &normal, "bytes_in"),
        mean(&header, &normal, "bytes_out"),
    ];
    for (got, want) in centers(&out.dir).iter().zip(want) {
        assert!((got - want).abs() <= 1e-9 * want.abs(), "{got} vs {want}");
    }
    // scored and evaluated: the test log only
    let m = metrics(&out.dir);
    assert_eq!(m["rows"], 2000);
    assert_eq!(m["fit_rows"], normal.len());
    assert!(m["detectors"]["iforest"]["roc_auc"].as_f64().is_some());
    let scores = read(&out.dir, "scores.csv");
    assert_eq!(scores.lines().count(), 2001);
    let report = read(&out.dir, "report.md");
    assert!(
        report.contains(&format!(
            "Fitted on | {} rows of {}: the rows labeled normal",
            normal.len(),
            train.display()
        )),
        "{report}"
    );
}

#[test]
fn a_time_split_fits_on_the_earlier_rows_and_scores_the_later_ones_streamed_or_not() {
    let (header, lines) = sample();
    let time = header
        .split(',')
        .position(|c| c == "creation_time")
        .unwrap();
    let split = "2024-04-26T09:00:00Z";
    // ISO-8601 UTC text of one format orders as time does
    let earlier: Vec<&String> = (lines.iter())
        .filter(|l| l.split(',').nth(time).unwrap() < split)
        .collect();
    let later = lines.len() - earlier.len();
    assert!(earlier.len() > 100 && later > 100);
    let before = format!("fit.before={split}");
    let mut set = SET.to_vec();
    set.push(&before);
    let store = tempfile::tempdir().unwrap();
    let whole = run_in(store.path(), &config("iforest.yaml", &set, None), false).unwrap();
    set.push("streaming={batch_rows: 700, fit_rows: 100000}");
    let streamed = run_in(store.path(), &config("iforest.yaml", &set, None), false).unwrap();
    for out in [&whole, &streamed] {
        let m = metrics(&out.dir);
        assert_eq!(m["rows"], later);
        assert_eq!(m["fit_rows"], earlier.len());
        let want = mean(&header, &earlier, "bytes_in");
        let got = centers(&out.dir)[0];
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    }
    // the same scores in memory and streamed, for the later rows only
    assert_eq!(
        read(&whole.dir, "scores.csv"),
        read(&streamed.dir, "scores.csv")
    );
    let first_scored: u64 = (read(&whole.dir, "scores.csv").lines().nth(1).unwrap())
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let first_later = lines
        .iter()
        .position(|l| l.split(',').nth(time).unwrap() >= split)
        .unwrap();
    assert_eq!(first_scored, first_later as u64);
}

#[test]
fn fit_sections_that_cannot_work_are_config_errors() {
    let path = Path::new("configs/iforest.yaml");
    for (overrides, expected) in [
        (
            &["fit.before=yesterday", "fit.label=normal"][..],
            "fit: before `yesterday`: expected an ISO-8601",
        ),
        (&["fit.label=attack"], "unknown variant `attack`"),
        (
            &["detectors=[{kind: beacon}]", "fit.label=normal"],
            "a beacon analysis scores the pairs of the log it is given",
        ),
    ] {
        let overrides: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
        let err = webthreat_experiment::ExperimentConfig::load(path, &overrides, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{overrides:?}: {err}");
    }
}

#[test]
fn a_labeled_intrusion_log_split_in_two_is_fitted_on_its_training_part_s_normal_flows() {
    let text = std::fs::read_to_string("../shared/data/netsec/unsw-nb15_1_sampled.csv").unwrap();
    let mut lines = text.lines().map(String::from);
    let header = lines.next().unwrap();
    let lines: Vec<String> = lines.collect();
    let column = |name: &str| header.split(',').position(|c| c == name).unwrap();
    let (stime, label) = (column("Stime"), column("label"));
    let split = 1_421_930_400; // 2015-01-22T12:40:00Z
    let start = |l: &String| -> i64 { l.split(',').nth(stime).unwrap().parse().unwrap() };
    let (train, test): (Vec<String>, Vec<String>) =
        lines.into_iter().partition(|l| start(l) < split);
    let dir = tempfile::tempdir().unwrap();
    let (train_path, test_path) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    write(&train_path, &header, &train);
    write(&test_path, &header, &test);
    let normal: Vec<&String> = (train.iter())
        .filter(|l| l.split(',').nth(label) == Some("Benign"))
        .collect();

    let fit = format!("fit={{data: {}, label: normal}}", train_path.display());
    let set = [
        fit.as_str(),
        "features=[dur, Spkts]",
        "scaling=standard",
        "report.plots=false",
    ];
    let store = tempfile::tempdir().unwrap();
    let c = config("unsw.yaml", &set, Some(&test_path));
    let out = run_in(store.path(), &c, true).unwrap();
    let want = [
        mean(&header, &normal, "dur"),
        mean(&header, &normal, "Spkts"),
    ];
    for (got, want) in centers(&out.dir).iter().zip(want) {
        assert!((got - want).abs() <= 1e-9 * want.abs(), "{got} vs {want}");
    }
    let m = metrics(&out.dir);
    assert_eq!(
        (m["rows"].as_u64(), m["fit_rows"].as_u64()),
        (Some(test.len() as u64), Some(normal.len() as u64))
    );
    // attacks are among the scored flows: the metrics are the test log's
    assert!(
        m["detectors"]["iforest"]["roc_auc"].as_f64().is_some(),
        "{m}"
    );
}

/// scikit-learn 1.9.1's IsolationForest on `bench/cardio.csv` (100 trees, max_samples 256,
/// random_state 0..9): mean and sample sd of the ROC AUC over the ten seeds (measured with the
/// bench's own venv; PERFORMANCE.md, "Repeats").
const SKLEARN_CARDIO_ROC_AUC: (f64, f64) = (0.932860, 0.009528);

#[test]
fn repeated_seeds_report_their_spread_and_agree_with_scikit_learn() {
    let store = tempfile::tempdir().unwrap();
    let data = Path::new("../shared/data/bench/cardio.csv");
    let set = ["repeat=10", "report.plots=false"];
    let out = run_in(
        store.path(),
        &config("bench-table.yaml", &set, Some(data)),
        true,
    )
    .unwrap();
    let m = metrics(&out.dir);
    let iforest = &m["detectors"]["iforest"];
    assert_eq!(iforest["repeats"], 10);
    let (mean, sd) = (
        iforest["roc_auc"].as_f64().unwrap(),
        iforest["roc_auc_sd"].as_f64().unwrap(),
    );
    assert!(sd > 0.0 && iforest["roc_auc_min"].as_f64() < iforest["roc_auc_max"].as_f64());
    // the two 10-seed means differ by less than 3 standard errors of their difference
    let (reference, reference_sd) = SKLEARN_CARDIO_ROC_AUC;
    let se = ((sd * sd + reference_sd * reference_sd) / 10.0).sqrt();
    assert!(
        (mean - reference).abs() < 3.0 * se,
        "ours {mean} ± {sd}, scikit-learn {reference} ± {reference_sd}"
    );
    let report = read(&out.dir, "report.md");
    assert!(report.contains("fitted with 10 seeds"), "{report}");
    assert!(report.contains(&format!("{mean:.4} ± ")), "{report}");
    // a repeat is refused where fit rows are not the scored rows
    let err = webthreat_experiment::ExperimentConfig::load(
        Path::new("configs/iforest.yaml"),
        &["repeat=3".into(), "streaming={batch_rows: 100}".into()],
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("repeat:"), "{err}");
}
