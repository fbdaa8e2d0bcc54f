//! Behaviour of fitted detectors through the public API: scoring, thresholds, severity,
//! explanations, JSON round trips and thread-count determinism, for all three kinds.

use webthreat_core::FeatureMatrix;
use webthreat_detectors::{DetectorConfig, DetectorError, FittedDetector, ThresholdRule, train};

/// Fits without keeping the training scores.
fn fit(
    config: &DetectorConfig,
    m: &FeatureMatrix,
    seed: u64,
) -> Result<FittedDetector, DetectorError> {
    train(config, m, seed, None).map(|t| t.detector)
}

/// Fits, keeping the training scores in row order.
fn fit_with_scores(
    config: &DetectorConfig,
    m: &FeatureMatrix,
    seed: u64,
) -> Result<(FittedDetector, Vec<f64>), DetectorError> {
    train(config, m, seed, None).map(|t| (t.detector, t.scores))
}

/// Small seeded generator (xorshift) so the tests need no RNG dependency.
struct Gen(u64);
impl Gen {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly standard normal (Irwin-Hall with 12 terms).
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

fn names(d: usize) -> Vec<String> {
    (0..d).map(|j| format!("f{j}")).collect()
}

/// `n` x `d` correlated normal rows (f1 follows f0 so the autoencoder has structure to learn).
fn data(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..n)
        .map(|_| {
            let base = g.normal();
            (0..d)
                .map(|j| {
                    if j == 1 {
                        base + 0.1 * g.normal()
                    } else if j == 0 {
                        base
                    } else {
                        g.normal()
                    }
                })
                .collect()
        })
        .collect()
}

fn matrix(rows: &[Vec<f64>]) -> FeatureMatrix {
    FeatureMatrix::from_rows(names(rows[0].len()), rows).unwrap()
}

fn configs() -> Vec<DetectorConfig> {
    [
        r#"{"kind": "iforest", "n_estimators": 100, "max_samples": "auto", "contamination": 0.05}"#,
        r#"{"kind": "zscore", "contamination": 0.05}"#,
        r#"{"kind": "autoencoder", "hidden": [8, 3], "epochs": 40, "learning_rate": 0.01, "contamination": 0.05}"#,
    ]
    .iter()
    .map(|j| serde_json::from_str(j).unwrap())
    .collect()
}

fn argmax(s: &[f64]) -> usize {
    (0..s.len()).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap()
}

#[test]
fn an_obvious_outlier_scores_highest_is_flagged_and_explained() {
    for config in configs() {
        // 400 rows: the outlier is in most of the forest's 256-row subsamples (with many more
        // rows, trees that miss it see it only as an edge point, like any multi-feature tail row)
        let mut rows = data(400, 4, 1);
        rows[321][3] = 12.0;
        let m = matrix(&rows);
        let (det, train) = fit_with_scores(&config, &m, 7).unwrap();
        let scores = det.score(&m).unwrap();
        assert_eq!(scores, train, "{}", det.name());
        assert_eq!(argmax(&scores), 321, "{}", det.name());
        assert!(det.flags(&scores)[321]);
        assert_eq!(det.severity(scores[321]), 100.0);
        let why = det.explain(&m, 321, 2).unwrap();
        assert_eq!(why.len(), 2);
        assert_eq!(why[0].feature, "f3", "{}: {why:?}", det.name());
        assert_eq!(why[0].actual, 12.0);
        assert!(why[0].contribution > why[1].contribution);
        assert_eq!(why[0].typical, det.medians()[3]);
        // rows explained together are explained as one by one
        let rows: Vec<usize> = (0..400).step_by(13).chain([321]).collect();
        let together = det.explain_rows(&m, &rows, 3).unwrap();
        for (&row, why) in rows.iter().zip(&together) {
            assert_eq!(
                why,
                &det.explain(&m, row, 3).unwrap(),
                "{} row {row}",
                det.name()
            );
        }
        assert!(matches!(
            det.explain_rows(&m, &[0, 400], 3),
            Err(DetectorError::RowOutOfRange { row: 400, .. })
        ));
    }
}

#[test]
fn contamination_flags_the_expected_fraction() {
    for config in configs() {
        let m = matrix(&data(1000, 3, 2));
        let (det, train) = fit_with_scores(&config, &m, 1).unwrap();
        let flagged = det.flags(&train).iter().filter(|&&f| f).count();
        // index 0.95 x 999 = 949.05: the 50 scores above sorted[949] (distinct scores)
        assert_eq!(flagged, 50, "{}", det.name());
    }
}

#[test]
fn iforest_auto_contamination_flags_scores_above_one_half() {
    let config: DetectorConfig =
        serde_json::from_str(r#"{"kind": "iforest", "contamination": "auto"}"#).unwrap();
    let m = matrix(&data(500, 3, 3));
    let (det, train) = fit_with_scores(&config, &m, 1).unwrap();
    assert_eq!(det.threshold(), 0.5);
    let want: Vec<bool> = train.iter().map(|&s| s > 0.5).collect();
    assert_eq!(det.flags(&train), want);
}

#[test]
fn flags_are_strictly_above_the_threshold() {
    let config: DetectorConfig =
        serde_json::from_str(r#"{"kind": "zscore", "threshold": {"fixed": 2.0}}"#).unwrap();
    let det = fit(&config, &matrix(&data(100, 2, 4)), 0).unwrap();
    assert_eq!(det.flags(&[1.9, 2.0, 2.0000001]), vec![false, false, true]);
}

#[test]
fn threshold_rules_change_without_refitting() {
    for config in configs() {
        let m = matrix(&data(600, 3, 5));
        let (mut det, train) = fit_with_scores(&config, &m, 2).unwrap();
        let before = det.to_json().unwrap();
        det.set_threshold(ThresholdRule::Contamination(0.1), &train)
            .unwrap();
        assert_eq!(det.flags(&train).iter().filter(|&&f| f).count(), 60);
        det.set_threshold(ThresholdRule::Quantile(0.99), &train)
            .unwrap();
        assert_eq!(det.flags(&train).iter().filter(|&&f| f).count(), 6);
        det.set_threshold(ThresholdRule::Fixed(1e9), &[]).unwrap();
        assert!(det.flags(&train).iter().all(|f| !f));
        assert_eq!(det.threshold_rule(), ThresholdRule::Fixed(1e9));
        assert_eq!(det.config().rule(), ThresholdRule::Fixed(1e9));
        // the model itself did not change: back to the original rule gives the original JSON
        det.set_threshold(ThresholdRule::Contamination(0.05), &train)
            .unwrap();
        assert_eq!(det.to_json().unwrap(), before);
        assert_eq!(det.score(&m).unwrap(), train);
        // invalid rules are refused and leave the detector as it was
        assert!(
            det.set_threshold(ThresholdRule::Contamination(0.9), &train)
                .is_err()
        );
        assert!(
            det.set_threshold(ThresholdRule::Quantile(0.5), &[])
                .is_err()
        );
        assert_eq!(det.to_json().unwrap(), before);
    }
}

#[test]
fn k_sigma_applies_to_zscore_only() {
    let m = matrix(&data(300, 3, 6));
    let z: DetectorConfig =
        serde_json::from_str(r#"{"kind": "zscore", "threshold": {"k_sigma": 3.0}}"#).unwrap();
    let det = fit(&z, &m, 0).unwrap();
    assert_eq!(det.threshold(), 3.0);
    let z: DetectorConfig = serde_json::from_str(
        r#"{"kind": "zscore", "combine": "sum_sq", "threshold": {"k_sigma": 3.0}}"#,
    )
    .unwrap();
    assert_eq!(fit(&z, &m, 0).unwrap().threshold(), 9.0);
    let (mut forest, train) = fit_with_scores(&configs()[0], &m, 0).unwrap();
    let err = forest
        .set_threshold(ThresholdRule::KSigma(3.0), &train)
        .unwrap_err();
    assert!(err.to_string().contains("zscore"), "{err}");
}

#[test]
fn json_round_trip_scores_bit_identically() {
    for config in configs() {
        let train = matrix(&data(700, 4, 7));
        let fresh = matrix(&data(300, 4, 8));
        let det = fit(&config, &train, 11).unwrap();
        let json = det.to_json().unwrap();
        let loaded = FittedDetector::from_json(&json).unwrap();
        assert_eq!(loaded, det);
        let a = det.score(&fresh).unwrap();
        let b = loaded.score(&fresh).unwrap();
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{}",
            det.name()
        );
        assert_eq!(loaded.threshold().to_bits(), det.threshold().to_bits());
        assert_eq!(loaded.to_json().unwrap(), json);
    }
}

#[test]
fn corrupted_model_json_is_rejected() {
    let det = fit(&configs()[0], &matrix(&data(200, 2, 9)), 0).unwrap();
    let json = det.to_json().unwrap();
    assert!(matches!(
        FittedDetector::from_json("{}"),
        Err(DetectorError::Json(_))
    ));
    let bad = json.replacen("\"format_version\":1", "\"format_version\":99", 1);
    let err = FittedDetector::from_json(&bad).unwrap_err();
    assert!(err.to_string().contains("format_version is 99"), "{err}");
    let bad = json.replacen(
        "\"features\":[\"f0\",\"f1\"]",
        "\"features\":[\"f0\",\"f1\",\"f2\"]",
        1,
    );
    assert!(matches!(
        FittedDetector::from_json(&bad),
        Err(DetectorError::InvalidModel(_))
    ));
}

#[test]
fn scores_do_not_depend_on_the_thread_count() {
    for config in configs() {
        let m = matrix(&data(5000, 4, 10));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let det = fit(&config, &m, 3).unwrap();
                (det.to_json().unwrap(), det.score(&m).unwrap())
            })
        };
        let (json1, s1) = run(1);
        let (json2, s2) = run(2);
        assert_eq!(json1, json2, "{}", config.name());
        assert!(
            s1.iter().zip(&s2).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}",
            config.name()
        );
    }
}

#[test]
fn same_seed_same_model_other_seed_other_model() {
    let m = matrix(&data(400, 3, 11));
    for config in [&configs()[0], &configs()[2]] {
        let a = fit(config, &m, 1).unwrap();
        assert_eq!(a, fit(config, &m, 1).unwrap());
        assert_ne!(a, fit(config, &m, 2).unwrap());
    }
}

#[test]
fn constant_columns_work_everywhere() {
    let mut rows = data(300, 3, 12);
    for r in rows.iter_mut() {
        r[2] = 4.0;
    }
    let m = matrix(&rows);
    for config in configs() {
        let det = fit(&config, &m, 0).unwrap();
        let s = det.score(&m).unwrap();
        assert!(s.iter().all(|v| v.is_finite()), "{}", det.name());
        assert!(det.threshold().is_finite());
        let why = det.explain(&m, 0, 3).unwrap();
        assert!(why.iter().all(|e| e.contribution.is_finite()));
    }
    // an entirely constant matrix
    let flat = matrix(&vec![vec![1.0, 1.0]; 50]);
    for config in configs() {
        let det = fit(&config, &flat, 0).unwrap();
        let s = det.score(&flat).unwrap();
        assert!(s.iter().all(|v| v.is_finite()), "{}: {s:?}", det.name());
        assert!((0.0..=100.0).contains(&det.severity(s[0])));
    }
}

#[test]
fn input_problems_are_clear_errors() {
    let m = matrix(&data(100, 3, 13));
    let det = fit(&configs()[0], &m, 0).unwrap();
    let empty = FeatureMatrix::new(names(3), vec![], vec![], Default::default(), None).unwrap();
    let err = fit(&configs()[1], &empty, 0).unwrap_err();
    assert!(err.to_string().contains("0 rows"), "{err}");
    assert!(matches!(
        det.score(&empty),
        Err(DetectorError::EmptyInput { .. })
    ));
    let other =
        FeatureMatrix::from_rows(vec!["f0".into(), "f2".into(), "f1".into()], &[vec![0.0; 3]])
            .unwrap();
    let err = det.score(&other).unwrap_err();
    assert!(
        err.to_string()
            .contains("[f0, f1, f2] but got [f0, f2, f1]"),
        "{err}"
    );
    assert!(matches!(
        det.explain(&m, 100, 3),
        Err(DetectorError::RowOutOfRange {
            row: 100,
            rows: 100
        })
    ));
    let bad: DetectorConfig =
        serde_json::from_str(r#"{"kind": "iforest", "n_estimators": 0}"#).unwrap();
    assert!(matches!(
        fit(&bad, &m, 0),
        Err(DetectorError::InvalidConfig {
            key: "n_estimators",
            ..
        })
    ));
}

#[test]
fn severity_is_monotone_in_the_score() {
    for config in configs() {
        let m = matrix(&data(500, 3, 14));
        let (det, train) = fit_with_scores(&config, &m, 0).unwrap();
        let mut sorted = train.clone();
        sorted.sort_by(f64::total_cmp);
        let sev: Vec<f64> = sorted.iter().map(|&s| det.severity(s)).collect();
        assert!(sev.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(sev[0], 0.0);
        assert_eq!(*sev.last().unwrap(), 100.0);
        let median = sorted[250];
        assert!(
            (det.severity(median) - 50.0).abs() < 0.5,
            "{}",
            det.severity(median)
        );
    }
}

#[test]
fn the_name_defaults_to_the_kind() {
    let m = matrix(&data(50, 2, 15));
    assert_eq!(fit(&configs()[1], &m, 0).unwrap().name(), "zscore");
    let named: DetectorConfig =
        serde_json::from_str(r#"{"kind": "zscore", "name": "z-robust", "center": "median"}"#)
            .unwrap();
    let det = fit(&named, &m, 0).unwrap();
    assert_eq!(det.name(), "z-robust");
    assert_eq!(det.kind(), "zscore");
}
