//! Issue 18 (hardening): absurd config values are rejected before anything is allocated, a
//! tampered model file fails to load with a message naming the field, and clamped parameters
//! are reported as notes.

use serde_json::Value;
use webthreat_core::FeatureMatrix;
use webthreat_detectors::{DetectorConfig, DetectorError, FittedDetector, train};

/// `n` seeded rows of `d` features in [-1, 1).
fn matrix(n: usize, d: usize) -> FeatureMatrix {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            (0..d)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
                })
                .collect()
        })
        .collect();
    let names = (0..d).map(|j| format!("f{j}")).collect();
    FeatureMatrix::from_rows(names, &rows).unwrap()
}

fn config(json: &str) -> DetectorConfig {
    serde_json::from_str(json).unwrap()
}

/// (config, key, fragments of the message)
const ABSURD: &[(&str, &str, &[&str])] = &[
    (
        r#"{"kind": "iforest", "n_estimators": 1000000000}"#,
        "n_estimators",
        &["is 1000000000", "1..=10000"],
    ),
    (
        r#"{"kind": "iforest", "max_samples": 100000000}"#,
        "max_samples",
        &["is 100000000", "1..=16777216"],
    ),
    (
        r#"{"kind": "iforest", "max_samples": 18446744073709551615}"#,
        "max_samples",
        &["is 18446744073709551615", "1..=16777216"],
    ),
    (
        r#"{"kind": "iforest", "max_features": 100000000}"#,
        "max_features",
        &["is 100000000", "1..=1048576"],
    ),
    (
        r#"{"kind": "autoencoder", "hidden": [100000, 100000]}"#,
        "hidden",
        &["width 100000", "1..=4096"],
    ),
    (
        r#"{"kind": "autoencoder", "hidden": [4, 4, 4, 4, 4, 4, 4, 4, 4]}"#,
        "hidden",
        &["9 layers", "1..=8"],
    ),
    (
        r#"{"kind": "autoencoder", "hidden": [4096, 4096, 4096]}"#,
        "hidden",
        &["67108864 weights", "16777216"],
    ),
    (
        r#"{"kind": "autoencoder", "epochs": 1000000000}"#,
        "epochs",
        &["is 1000000000", "1..=100000"],
    ),
    (
        r#"{"kind": "autoencoder", "batch_size": 10000000}"#,
        "batch_size",
        &["is 10000000", "1..=1048576"],
    ),
    (
        r#"{"kind": "autoencoder", "max_train_rows": 1000000000}"#,
        "max_train_rows",
        &["is 1000000000", "1..=16777216"],
    ),
    (
        r#"{"kind": "autoencoder", "learning_rate": 2}"#,
        "learning_rate",
        &["is 2", "(0, 1]"],
    ),
    (
        r#"{"kind": "zscore", "center": "median", "combine": "sum_sq", "threshold": {"k_sigma": 1e200}}"#,
        "threshold",
        &["1e200", "1000000"],
    ),
];

#[test]
fn absurd_config_values_are_rejected_naming_key_value_and_range() {
    for &(json, key, fragments) in ABSURD {
        let err = config(json).validate().unwrap_err();
        let DetectorError::InvalidConfig { key: k, .. } = &err else {
            panic!("{json}: {err:?}")
        };
        let text = err.to_string();
        assert_eq!(*k, key, "{json}: {text}");
        for fragment in fragments {
            assert!(text.contains(fragment), "{json}: {text}");
        }
    }
}

#[test]
fn the_issue_configs_fail_fast_instead_of_aborting() {
    let m = matrix(50, 2);
    for json in [
        r#"{"kind": "iforest", "n_estimators": 1000000000}"#,
        r#"{"kind": "autoencoder", "hidden": [100000, 100000]}"#,
        r#"{"kind": "autoencoder", "epochs": 1000000000}"#,
    ] {
        let start = std::time::Instant::now();
        let err = train(&config(json), &m, 1, None).unwrap_err();
        assert!(matches!(err, DetectorError::InvalidConfig { .. }), "{err}");
        assert!(start.elapsed().as_secs() < 5, "{json}");
    }
}

#[test]
fn limits_that_depend_on_the_data_are_checked_when_fitting() {
    // each value is in range on its own; together with the data they would need gigabytes
    let cases = [
        // 10000 trees x 10000 rows each
        (
            r#"{"kind": "iforest", "n_estimators": 10000, "max_samples": 16777216}"#,
            matrix(10_000, 1),
            "max_samples",
            "100000000 tree samples",
        ),
        // 2049 features -> 4096 -> 2049: 16785408 weights
        (
            r#"{"kind": "autoencoder", "hidden": [4096], "epochs": 1}"#,
            matrix(2, 2049),
            "hidden",
            "16785408 weights",
        ),
        // one minibatch of 20000 rows through 1-4096-1
        (
            r#"{"kind": "autoencoder", "hidden": [4096], "epochs": 1, "batch_size": 1000000}"#,
            matrix(20_000, 1),
            "batch_size",
            "81960000 activations",
        ),
    ];
    for (json, m, key, fragment) in cases {
        let c = config(json);
        c.validate().unwrap();
        let err = train(&c, &m, 1, None).unwrap_err();
        let DetectorError::InvalidConfig { key: k, .. } = &err else {
            panic!("{json}: {err:?}")
        };
        assert_eq!(*k, key, "{err}");
        assert!(err.to_string().contains(fragment), "{err}");
    }
}

#[test]
fn the_largest_accepted_values_are_accepted() {
    for json in [
        r#"{"kind": "iforest", "n_estimators": 10000, "max_samples": 16777216, "max_features": 1048576}"#,
        r#"{"kind": "autoencoder", "hidden": [4096, 1024, 8, 8, 8, 8, 8, 1], "epochs": 100000, "batch_size": 1048576, "max_train_rows": 16777216, "learning_rate": 1}"#,
        r#"{"kind": "zscore", "threshold": {"k_sigma": 1000000}}"#,
        r#"{"kind": "zscore", "threshold": {"quantile": 1}}"#,
        r#"{"kind": "zscore", "threshold": {"fixed": -1e300}}"#,
        r#"{"kind": "zscore", "contamination": 0.5}"#,
    ] {
        config(json).validate().unwrap();
    }
}

// ---- tampered model files ----

/// A freshly trained small model of `json`, as a JSON value.
fn model(json: &str) -> (FittedDetector, Value) {
    let det = train(&config(json), &matrix(60, 3), 7, None)
        .unwrap()
        .detector;
    let value = serde_json::from_str(&det.to_json().unwrap()).unwrap();
    (det, value)
}

/// Loads `value` with `marker` (a JSON string) replaced by `raw` JSON text; returns the error.
fn load_err(value: &Value, raw: Option<(&str, &str)>) -> String {
    let mut text = value.to_string();
    if let Some((marker, raw)) = raw {
        assert!(text.contains(marker));
        text = text.replace(marker, raw);
    }
    match FittedDetector::from_json(&text) {
        Ok(_) => panic!("a tampered model loaded: {}", &text[..text.len().min(400)]),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `tamper` applied to `value` makes loading fail with every fragment in the message.
fn assert_rejected(value: &Value, tamper: impl FnOnce(&mut Value), fragments: &[&str]) {
    let mut v = value.clone();
    tamper(&mut v);
    let err = load_err(&v, None);
    for f in fragments {
        assert!(err.contains(f), "expected {f:?} in: {err}");
    }
}

fn forest(v: &mut Value) -> &mut Value {
    &mut v["model"]["isolation_forest"]
}

fn ae(v: &mut Value) -> &mut Value {
    &mut v["model"]["autoencoder"]
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

#[test]
fn untampered_models_load_and_score_bit_identically() {
    let m = matrix(60, 3);
    for json in [
        r#"{"kind": "iforest", "n_estimators": 20}"#,
        r#"{"kind": "iforest", "max_samples": 0.5, "bootstrap": true, "contamination": "auto"}"#,
        r#"{"kind": "zscore", "threshold": {"k_sigma": 3}}"#,
        r#"{"kind": "zscore", "center": "median", "threshold": {"fixed": 1.5}}"#,
        r#"{"kind": "autoencoder", "hidden": [4, 2], "epochs": 3}"#,
    ] {
        let (det, value) = model(json);
        let loaded = FittedDetector::from_json(&value.to_string()).unwrap();
        assert_eq!(loaded, det);
        let bits = |d: &FittedDetector| -> Vec<u64> {
            d.score(&m).unwrap().iter().map(|s| s.to_bits()).collect()
        };
        assert_eq!(bits(&loaded), bits(&det));
    }
}

#[test]
fn tampered_thresholds_are_rejected_naming_the_field() {
    let (_, value) = model(r#"{"kind": "zscore"}"#);
    for bad in [s("NaN"), s("inf"), s("-inf"), s("1e999"), Value::Null] {
        assert_rejected(&value, |v| v["threshold"] = bad, &["threshold"]);
    }
    // a bare number too large for a double
    let mut v = value.clone();
    v["threshold"] = s("@@");
    let err = load_err(&v, Some((r#""@@""#, "1e999")));
    assert!(err.contains("threshold"), "{err}");
    // finite but outside the training scores the rule takes it from
    assert_rejected(
        &value,
        |v| v["threshold"] = s("1e300"),
        &["threshold", "1e300"],
    );
    // a rule that fixes the threshold
    let (_, value) = model(r#"{"kind": "zscore", "threshold": {"fixed": 0.6}}"#);
    assert_rejected(&value, |v| v["threshold"] = s("0.7"), &["threshold", "0.7"]);
    let (_, value) = model(r#"{"kind": "iforest", "contamination": "auto"}"#);
    assert_rejected(&value, |v| v["threshold"] = s("0.4"), &["threshold", "0.4"]);
    let (_, value) = model(r#"{"kind": "zscore", "threshold": {"k_sigma": 3}}"#);
    assert_rejected(&value, |v| v["threshold"] = s("2"), &["threshold"]);
}

#[test]
fn tampered_shared_fields_are_rejected_naming_the_field() {
    let (_, value) = model(r#"{"kind": "zscore"}"#);
    assert_rejected(&value, |v| v["medians"][1] = s("NaN"), &["medians"]);
    assert_rejected(
        &value,
        |v| v["severity"]["quantiles"][3] = s("inf"),
        &["severity"],
    );
    // the config is checked as strictly as a config file
    let (_, value) = model(r#"{"kind": "iforest", "n_estimators": 5}"#);
    assert_rejected(
        &value,
        |v| v["config"]["n_estimators"] = 1_000_000_000.into(),
        &["n_estimators", "1000000000"],
    );
}

#[test]
fn tampered_zscore_models_are_rejected_naming_the_field() {
    let (_, value) = model(r#"{"kind": "zscore"}"#);
    let spread = |v: &mut Value| v["model"]["z_score"]["spread"][1].clone();
    assert!(spread(&mut value.clone()).as_str().unwrap() != "0.0");
    for bad in ["-1", "-1e-300", "NaN", "inf", "1e999"] {
        assert_rejected(
            &value,
            |v| v["model"]["z_score"]["spread"][1] = s(bad),
            &["spread"],
        );
    }
    assert_rejected(
        &value,
        |v| v["model"]["z_score"]["center"][0] = Value::Null,
        &["center"],
    );
    assert_rejected(
        &value,
        |v| {
            v["model"]["z_score"]["spread"]
                .as_array_mut()
                .unwrap()
                .pop();
        },
        &["spread"],
    );
    // the model's own `combine` must be the config's
    assert_rejected(
        &value,
        |v| v["model"]["z_score"]["combine"] = s("sum_sq"),
        &["combine"],
    );
}

#[test]
fn a_zero_spread_marks_a_constant_feature_and_loads() {
    // spread 0 is what fitting stores for a feature constant in training (scored as z = 0), so
    // a file cannot be told apart from one where a tamperer zeroed a spread
    let rows: Vec<Vec<f64>> = (0..30).map(|i| vec![i as f64, 0.0]).collect();
    let m = FeatureMatrix::from_rows(vec!["a".into(), "b".into()], &rows).unwrap();
    let det = train(&config(r#"{"kind": "zscore"}"#), &m, 1, None)
        .unwrap()
        .detector;
    let json = det.to_json().unwrap();
    assert!(json.contains(r#""spread":["#), "{json}");
    assert_eq!(FittedDetector::from_json(&json).unwrap(), det);
}

#[test]
fn tampered_forests_are_rejected_naming_the_field() {
    let (_, value) = model(r#"{"kind": "iforest", "n_estimators": 4, "max_samples": 32}"#);
    // max_samples: out of range, as a float, inconsistent with the trees
    assert_rejected(
        &value,
        |v| forest(v)["max_samples"] = 1_000_000_000_000_000_000u64.into(),
        &["max_samples", "1000000000000000000"],
    );
    assert_rejected(
        &value,
        |v| forest(v)["max_samples"] = 1e18.into(),
        &["max_samples"],
    );
    assert_rejected(
        &value,
        |v| forest(v)["max_samples"] = 0.into(),
        &["max_samples"],
    );
    assert_rejected(
        &value,
        |v| forest(v)["max_samples"] = 64.into(),
        &["max_samples", "trees[0]"],
    );
    // a node pointing out of range, or back to an earlier node
    let first_split = |v: &mut Value| -> usize {
        let features = forest(v)["trees"][0]["feature"].as_array().unwrap().clone();
        features
            .iter()
            .position(|f| f.as_u64() != Some(u32::MAX as u64))
            .unwrap()
    };
    let i = first_split(&mut value.clone());
    for left in [100_000u64, 0] {
        assert_rejected(
            &value,
            |v| forest(v)["trees"][1]["left"][i] = left.into(),
            &["trees[1]", "left"],
        );
    }
    // node values: a leaf's path length out of range, a non-finite threshold
    let first_leaf = |v: &mut Value| -> usize {
        let features = forest(v)["trees"][2]["feature"].as_array().unwrap().clone();
        features
            .iter()
            .position(|f| f.as_u64() == Some(u32::MAX as u64))
            .unwrap()
    };
    let leaf = first_leaf(&mut value.clone());
    for bad in ["1000.5", "-1", "0"] {
        assert_rejected(
            &value,
            |v| forest(v)["trees"][2]["value"][leaf] = s(bad),
            &["trees[2]", "value"],
        );
    }
    assert_rejected(
        &value,
        |v| forest(v)["trees"][2]["value"][i] = s("NaN"),
        &["trees[2]", "value"],
    );
    // a split on a feature the detector does not have
    assert_rejected(
        &value,
        |v| forest(v)["trees"][3]["feature"][i] = 7.into(),
        &["trees[3]", "feature"],
    );
    // sizes that do not add up
    assert_rejected(
        &value,
        |v| forest(v)["trees"][0]["size"][0] = 31.into(),
        &["trees[0]", "size"],
    );
    // trees: none, or not the config's number
    assert_rejected(
        &value,
        |v| forest(v)["trees"] = Value::Array(vec![]),
        &["trees"],
    );
    assert_rejected(
        &value,
        |v| {
            forest(v)["trees"].as_array_mut().unwrap().pop();
        },
        &["trees", "n_estimators"],
    );
}

#[test]
fn tampered_autoencoders_are_rejected_naming_the_field() {
    let (_, value) = model(r#"{"kind": "autoencoder", "hidden": [4, 2], "epochs": 3}"#);
    assert_rejected(
        &value,
        |v| ae(v)["layers"][1]["weights"][2] = s("inf"),
        &["layers[1]", "weights"],
    );
    assert_rejected(
        &value,
        |v| ae(v)["layers"][0]["bias"][0] = s("NaN"),
        &["layers[0]", "bias"],
    );
    // shapes: a layer whose declared shape does not fit its weights, layers that do not connect
    assert_rejected(
        &value,
        |v| ae(v)["layers"][2]["outputs"] = 3.into(),
        &["layers[2]"],
    );
    assert_rejected(
        &value,
        |v| {
            let layers = ae(v)["layers"].as_array_mut().unwrap();
            layers.swap(1, 2);
        },
        &["layers"],
    );
    // network widths other than the config's
    let mut small = value.clone();
    ae(&mut small)["layers"].as_array_mut().unwrap().drain(1..3);
    let err = load_err(&small, None);
    assert!(err.contains("layers") || err.contains("hidden"), "{err}");
    assert_rejected(&value, |v| ae(v)["scale"][0] = s("0"), &["scale"]);
    assert_rejected(&value, |v| ae(v)["scale"][0] = s("-2"), &["scale"]);
    assert_rejected(&value, |v| ae(v)["mean"][0] = s("inf"), &["mean"]);
    assert_rejected(
        &value,
        |v| ae(v)["loss_history"] = Value::Array(vec![]),
        &["loss_history"],
    );
    assert_rejected(&value, |v| ae(v)["train_rows"] = 0.into(), &["train_rows"]);
}

// ---- notes on clamped parameters ----

#[test]
fn clamped_parameters_are_reported_as_notes() {
    let m = matrix(300, 2);
    let t = train(
        &config(r#"{"kind": "iforest", "name": "f", "n_estimators": 3, "max_samples": 100000}"#),
        &m,
        1,
        None,
    )
    .unwrap();
    assert_eq!(
        t.notes,
        ["f: max_samples 100000 is more than the 300 fit rows; used 300"]
    );
    assert_eq!(t.detector.model().kind(), "iforest");
    let t = train(
        &config(
            r#"{"kind": "autoencoder", "epochs": 1, "batch_size": 500, "max_train_rows": 200}"#,
        ),
        &m,
        1,
        None,
    )
    .unwrap();
    assert_eq!(
        t.notes,
        [
            "autoencoder: trained on a seeded subsample of 200 of the 300 fit rows (max_train_rows)",
            "autoencoder: batch_size 500 is more than the 200 training rows; used 200",
        ]
    );
    // nothing clamped, nothing to say
    for json in [
        r#"{"kind": "iforest", "max_samples": 300}"#,
        r#"{"kind": "iforest", "max_samples": 1.0}"#,
        r#"{"kind": "iforest"}"#,
        r#"{"kind": "zscore"}"#,
        r#"{"kind": "autoencoder", "epochs": 1, "batch_size": 300}"#,
    ] {
        assert!(
            train(&config(json), &m, 1, None).unwrap().notes.is_empty(),
            "{json}"
        );
    }
}
