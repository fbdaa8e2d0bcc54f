//! Fidelity of the Isolation Forest against scikit-learn on the ODDS / ADBench benchmarks.
//!
//! For every `../shared/data/bench/*.csv` (numeric features, last column `label`, 1 = anomaly)
//! this fits 100 trees with max_samples 256 on all rows (raw features, like the reference),
//! scores all rows and compares mean ROC AUCs with scikit-learn 1.9.1
//! (`IsolationForest(n_estimators=100, max_samples=256, random_state=seed)`, AUC of
//! `-score_samples(X)`).
//!
//! Two references are used:
//! * seeds 0-4, from the shared data README (the protocol the lead specified);
//! * seeds 0-29, measured with the same scikit-learn call (its seeds 0-4 reproduce the README
//!   values exactly).
//!
//! The seed-to-seed standard deviation of a single forest's AUC is up to 0.027 (vowels), so two
//! exact re-implementations with different random streams differ by up to ~0.02 on 5-seed
//! means by chance alone. The strict check (|difference| <= 0.01) is therefore made on 30-seed
//! means; the 5-seed means must agree within three standard errors of the difference of two
//! 5-seed means (estimated from our own seeds).

use webthreat_core::FeatureMatrix;
use webthreat_detectors::{DetectorConfig, IsolationForestParams, MaxSamples, train};

/// (data set, sklearn mean AUC seeds 0-4, sklearn mean AUC seeds 0-29)
const REFERENCE: &[(&str, f64, f64)] = &[
    ("shuttle", 0.997, 0.9969),
    ("mammography", 0.859, 0.8605),
    ("annthyroid", 0.827, 0.8191),
    ("cardio", 0.932, 0.9262),
    ("thyroid", 0.978, 0.9778),
    ("vowels", 0.771, 0.7529),
    ("satimage-2", 0.994, 0.9934),
    ("pendigits", 0.940, 0.9499),
];
const FEW_SEEDS: usize = 5;
const MANY_SEEDS: usize = 30;
const TOLERANCE: f64 = 0.01;

fn bench_dir() -> std::path::PathBuf {
    std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/bench"
    ))
    .to_path_buf()
}

/// Reads a benchmark CSV: header, numeric columns, last column `label`.
fn read_bench(name: &str) -> (FeatureMatrix, Vec<bool>) {
    let path = bench_dir().join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .expect("header line")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    assert_eq!(
        header.last().map(String::as_str),
        Some("label"),
        "{name}: last column must be label"
    );
    let d = header.len() - 1;
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in lines.enumerate() {
        let fields: Vec<f64> = line
            .split(',')
            .map(|f| {
                f.trim()
                    .parse::<f64>()
                    .unwrap_or_else(|e| panic!("{name} row {i}: `{f}`: {e}"))
            })
            .collect();
        assert_eq!(fields.len(), d + 1, "{name} row {i}");
        labels.push(fields[d] == 1.0);
        rows.push(fields[..d].to_vec());
    }
    let matrix =
        FeatureMatrix::from_rows(header[..d].to_vec(), &rows).expect("finite numeric matrix");
    (matrix, labels)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sample_sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

#[test]
fn isolation_forest_auc_matches_scikit_learn() {
    let config = DetectorConfig::new(IsolationForestParams {
        n_estimators: 100,
        max_samples: MaxSamples::Count(256),
        ..Default::default()
    });
    let mut table = String::from(
        "\n| data set | rows | features | ours 0-4 | sklearn 0-4 | diff | 3 SE | ours 0-29 | sklearn 0-29 | diff |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for &(name, reference_few, reference_many) in REFERENCE {
        let (matrix, labels) = read_bench(name);
        let aucs: Vec<f64> = (0..MANY_SEEDS as u64)
            .map(|seed| {
                let scores = train(&config, &matrix, seed, None).expect("fit").scores;
                webthreat_report::evaluate::roc_auc(&scores, &labels).expect("auc")
            })
            .collect();
        let few = mean(&aucs[..FEW_SEEDS]);
        let many = mean(&aucs);
        // standard error of the difference of two independent 5-seed means
        let se_few = sample_sd(&aucs) * (2.0 / FEW_SEEDS as f64).sqrt();
        let (diff_few, diff_many) = (few - reference_few, many - reference_many);
        table.push_str(&format!(
            "| {name} | {} | {} | {few:.4} | {reference_few:.3} | {diff_few:+.4} | {:.4} | {many:.4} | {reference_many:.4} | {diff_many:+.4} |\n",
            matrix.n_rows(),
            matrix.n_cols(),
            3.0 * se_few,
        ));
        if diff_many.abs() > TOLERANCE {
            failures.push(format!(
                "{name}: 30-seed mean {many:.4} vs sklearn {reference_many:.4}"
            ));
        }
        if diff_few.abs() > (3.0 * se_few).max(TOLERANCE) {
            failures.push(format!(
                "{name}: 5-seed mean {few:.4} vs sklearn {reference_few:.3}, beyond 3 SE = {:.4}",
                3.0 * se_few
            ));
        }
    }
    eprintln!("{table}");
    assert!(
        failures.is_empty(),
        "Isolation Forest differs from scikit-learn: {failures:?}"
    );
}
