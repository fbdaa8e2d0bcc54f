//! Pins the serialized forms that outlive a build: a detector config as written to a run
//! directory's `config.yaml` (as given and resolved), and a fitted model's JSON
//! (`models/<name>.json`) with its scores, for every kind.

mod support;

use webthreat_core::FeatureMatrix;
use webthreat_detectors::{DetectorConfig, FittedDetector};

const CONFIGS: &[&str] = &[
    r#"{"kind": "iforest"}"#,
    r#"{"kind": "iforest", "name": "f", "n_estimators": 7, "max_samples": 0.25, "max_features": 2, "bootstrap": true, "contamination": "auto"}"#,
    r#"{"kind": "iforest", "max_samples": 64, "threshold": {"quantile": 0.99}}"#,
    r#"{"kind": "zscore"}"#,
    r#"{"kind": "zscore", "threshold": {"k_sigma": 2.5}, "center": "median", "combine": "sum_sq"}"#,
    r#"{"kind": "autoencoder", "name": "ae", "hidden": [4], "epochs": 3, "learning_rate": 0.01, "batch_size": 16, "max_train_rows": 50, "threshold": {"fixed": 0.6}}"#,
    r#"{"kind": "autoencoder", "contamination": 0.1}"#,
];

/// YAML of each config as parsed, then resolved, exactly as `yaml_serde` writes them (a
/// `threshold` rule as the one-key map it is read from).
const YAML: &[(&str, &str)] = &[
    (
        "kind: iforest\nn_estimators: 100\nmax_samples: auto\nmax_features: 1.0\nbootstrap: false\n",
        "kind: iforest\nname: iforest\nn_estimators: 100\nmax_samples: auto\nmax_features: 1.0\nbootstrap: false\ncontamination: 0.05\n",
    ),
    (
        "kind: iforest\nname: f\nn_estimators: 7\nmax_samples: 0.25\nmax_features: 2\nbootstrap: true\ncontamination: auto\n",
        "kind: iforest\nname: f\nn_estimators: 7\nmax_samples: 0.25\nmax_features: 2\nbootstrap: true\ncontamination: auto\n",
    ),
    (
        "kind: iforest\nn_estimators: 100\nmax_samples: 64\nmax_features: 1.0\nbootstrap: false\nthreshold:\n  quantile: 0.99\n",
        "kind: iforest\nname: iforest\nn_estimators: 100\nmax_samples: 64\nmax_features: 1.0\nbootstrap: false\nthreshold:\n  quantile: 0.99\n",
    ),
    (
        "kind: zscore\ncenter: mean\ncombine: max\n",
        "kind: zscore\nname: zscore\ncenter: mean\ncombine: max\ncontamination: 0.05\n",
    ),
    (
        "kind: zscore\ncenter: median\ncombine: sum_sq\nthreshold:\n  k_sigma: 2.5\n",
        "kind: zscore\nname: zscore\ncenter: median\ncombine: sum_sq\nthreshold:\n  k_sigma: 2.5\n",
    ),
    (
        "kind: autoencoder\nname: ae\nhidden:\n- 4\nepochs: 3\nlearning_rate: 0.01\nbatch_size: 16\nmax_train_rows: 50\nthreshold:\n  fixed: 0.6\n",
        "kind: autoencoder\nname: ae\nhidden:\n- 4\nepochs: 3\nlearning_rate: 0.01\nbatch_size: 16\nmax_train_rows: 50\nthreshold:\n  fixed: 0.6\n",
    ),
    (
        "kind: autoencoder\nhidden:\n- 8\n- 3\nepochs: 100\nlearning_rate: 0.001\nbatch_size: 64\nmax_train_rows: 20000\ncontamination: 0.1\n",
        "kind: autoencoder\nname: autoencoder\nhidden:\n- 8\n- 3\nepochs: 100\nlearning_rate: 0.001\nbatch_size: 64\nmax_train_rows: 20000\ncontamination: 0.1\n",
    ),
];

fn config(json: &str) -> DetectorConfig {
    serde_json::from_str(json).unwrap()
}

#[test]
fn config_yaml_is_pinned() {
    let mut got = Vec::new();
    for json in CONFIGS {
        let c = config(json);
        let as_given = serde_yaml::to_string(&c).unwrap();
        let resolved = serde_yaml::to_string(&c.resolved().unwrap()).unwrap();
        // a run's config.yaml is read back by `score --run` and `compare`
        let back: DetectorConfig = serde_yaml::from_str(&resolved).unwrap();
        assert_eq!(back, c.resolved().unwrap(), "{resolved}");
        got.push((as_given, resolved));
    }
    let want: Vec<(String, String)> = YAML
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// Seeded rows with one outlier.
fn matrix(n: usize, d: usize) -> FeatureMatrix {
    let mut unit = support::uniform(0x9E37_79B9_7F4A_7C15);
    let mut rows: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..d).map(|_| unit() * 2.0 - 1.0).collect())
        .collect();
    rows[n / 2][d - 1] = 9.0;
    let names = (0..d).map(|j| format!("f{j}")).collect();
    FeatureMatrix::from_rows(names, &rows).unwrap()
}

/// FNV-1a of a byte string (a stable fingerprint of long JSON).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn fingerprint(det: &FittedDetector, m: &FeatureMatrix) -> (usize, u64, u64, u64) {
    let json = det.to_json().unwrap();
    let scores = det.score(m).unwrap();
    let score_bits: Vec<u8> = scores
        .iter()
        .flat_map(|s| s.to_bits().to_le_bytes())
        .collect();
    let mut extra = Vec::new();
    extra.extend(det.threshold().to_bits().to_le_bytes());
    for s in &scores {
        extra.extend(det.severity(*s).to_bits().to_le_bytes());
    }
    for e in det.explain(m, m.n_rows() / 2, 3).unwrap() {
        extra.extend(e.feature.as_bytes());
        extra.extend(e.contribution.to_bits().to_le_bytes());
        extra.extend(e.actual.to_bits().to_le_bytes());
        extra.extend(e.typical.to_bits().to_le_bytes());
    }
    (
        json.len(),
        fnv(json.as_bytes()),
        fnv(&score_bits),
        fnv(&extra),
    )
}

#[test]
fn model_json_and_scores_are_pinned() {
    let m = matrix(120, 3);
    let got: Vec<(usize, u64, u64, u64)> = CONFIGS
        .iter()
        .map(|json| {
            let det = webthreat_detectors::train(&config(json), &m, 5, None)
                .unwrap()
                .detector;
            let loaded = FittedDetector::from_json(&det.to_json().unwrap()).unwrap();
            assert_eq!(fingerprint(&loaded, &m), fingerprint(&det, &m));
            fingerprint(&det, &m)
        })
        .collect();
    let want: &[(usize, u64, u64, u64)] = &[
        (
            280789,
            4832515306469975760,
            5921158212246935893,
            4102310204888172847,
        ),
        (
            27466,
            1102726860354129666,
            17376357771541243461,
            10974040356034756839,
        ),
        (
            179368,
            12969677465870848184,
            15550732164207663990,
            12211157792295734017,
        ),
        (
            21357,
            14312967948091235487,
            8753769921244362154,
            1937651875189737271,
        ),
        (
            21264,
            11100526265385549614,
            9485097091626428241,
            718716484604090432,
        ),
        (
            22477,
            14805791365505714071,
            16316085931384487089,
            15715396197671737521,
        ),
        (
            27632,
            11333920974886112348,
            8536286598168174374,
            12934535484546905182,
        ),
    ];
    assert_eq!(got, want);
}

#[test]
fn model_json_head_is_pinned() {
    let det = webthreat_detectors::train(&config(CONFIGS[4]), &matrix(20, 2), 5, None)
        .unwrap()
        .detector;
    let json = det.to_json().unwrap();
    let head: String = json.chars().take(260).collect();
    assert_eq!(
        head,
        concat!(
            r#"{"format_version":1,"name":"zscore","config":{"kind":"zscore","name":"zscore","#,
            r#""center":"median","combine":"sum_sq","threshold":{"k_sigma":2.5}},"#,
            r#""features":["f0","f1"],"medians":["-0.09678662897119772","0.11633884561921803"],"#,
            r#""rule":{"k_sigma":2.5},"threshold":""#
        )
    );
    assert!(
        json.contains(r#""model":{"z_score":{"combine":"sum_sq","center":["#),
        "{json}"
    );
}

/// Parse and validation errors, exactly as a YAML reader reports them.
#[test]
fn error_messages_are_pinned() {
    let cases = [
        "kind: iforest\nn_trees: 10\n",
        "kind: forest\n",
        "name: x\n",
        "kind: zscore\nmax_samples: 3\n",
        "kind: iforest\nmax_samples: all\n",
        "kind: zscore\nthreshold:\n  sigma: 3\n",
        "kind: autoencoder\nhidden: 3\n",
        "kind: zscore\ncontamination: auto\n",
        "kind: autoencoder\nthreshold:\n  k_sigma: 3\n",
        "kind: iforest\ncontamination: 0.1\nthreshold:\n  fixed: 1\n",
        "kind: iforest\ncontamination: 0.9\n",
        "kind: autoencoder\nlearning_rate: .nan\n",
    ];
    let got: Vec<String> = cases
        .iter()
        .map(|yaml| match serde_yaml::from_str::<DetectorConfig>(yaml) {
            Err(e) => format!("parse: {e}"),
            Ok(c) => format!("validate: {}", c.validate().unwrap_err()),
        })
        .collect();
    let want: &[&str] = &[
        "parse: unknown field `n_trees`, expected one of `name`, `n_estimators`, `max_samples`, `max_features`, `bootstrap`, `contamination`, `threshold`",
        "parse: kind: unknown variant `forest`, expected one of `iforest`, `zscore`, `autoencoder`, `beacon`, `intel` at line 1 column 7",
        "parse: missing field `kind`",
        "parse: unknown field `max_samples`, expected one of `name`, `center`, `combine`, `contamination`, `threshold`",
        "parse: invalid value: string \"all\", expected `auto`, an integer number of rows or a fraction in (0, 1]",
        "parse: unknown variant `sigma`, expected one of `quantile`, `fixed`, `k_sigma`",
        "parse: invalid type: integer `3`, expected a sequence",
        "validate: detector `zscore`: `contamination` is `auto`, which only `iforest` supports (score > 0.5); give zscore a fraction in (0, 0.5]",
        "validate: detector `autoencoder`: `threshold` {k_sigma: 3} only applies to `zscore`; use contamination, quantile or fixed for autoencoder",
        "validate: detector `iforest`: `threshold` and `contamination` are both set: give exactly one threshold rule",
        "validate: detector `iforest`: `contamination` is 0.9: expected a fraction in (0, 0.5] (or `auto` for iforest)",
        "validate: detector `autoencoder`: `learning_rate` is NaN: expected a number in (0, 1] such as 0.001",
    ];
    assert_eq!(got, want);
}
