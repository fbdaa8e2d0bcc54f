//! Pins the exact bits of a few scores of every learning detector kind (and of the forest's
//! normalisation) on a small fixed input, so that any change in the math behind a score shows:
//! scores come from the pure-Rust `libm` and fixed-order sums, and must be the same bits on
//! every host (ARCHITECTURE.md, "Same bits on every host").

mod support;

use webthreat_core::FeatureMatrix;
use webthreat_detectors::iforest::path_length::average_path_length;
use webthreat_detectors::{DetectorConfig, FittedDetector};

/// 60 seeded rows of 3 features (xorshift, no floating-point math beyond scaling), one outlier.
fn matrix() -> FeatureMatrix {
    let mut unit = support::uniform(0x2545_F491_4F6C_DD1D);
    let mut rows: Vec<Vec<f64>> = (0..60)
        .map(|_| (0..3).map(|_| unit() * 4.0 - 2.0).collect())
        .collect();
    rows[30] = vec![0.5, 7.0, -6.0];
    let names = (0..3).map(|j| format!("f{j}")).collect();
    FeatureMatrix::from_rows(names, &rows).unwrap()
}

fn fitted(json: &str, m: &FeatureMatrix) -> FittedDetector {
    let config: DetectorConfig = serde_json::from_str(json).unwrap();
    webthreat_detectors::train(&config, m, 7, None)
        .unwrap()
        .detector
}

/// The bits of the scores of rows 0, 30 (the outlier) and 59, of their severities, and of the
/// outlier's contributions.
fn bits(det: &FittedDetector, m: &FeatureMatrix) -> Vec<u64> {
    let scores = det.score(m).unwrap();
    let mut out: Vec<u64> = [0, 30, 59].iter().map(|&i| scores[i].to_bits()).collect();
    out.extend(
        [0, 30, 59]
            .iter()
            .map(|&i| det.severity(scores[i]).to_bits()),
    );
    out.extend((det.explain(m, 30, 3).unwrap().iter()).map(|e| e.contribution.to_bits()));
    out
}

#[test]
fn the_forest_normalisation_is_pinned() {
    let got: Vec<u64> = [3, 60, 256, 100_000]
        .iter()
        .map(|&n| average_path_length(n).to_bits())
        .collect();
    assert_eq!(got, PATH_LENGTHS);
}

#[test]
fn scores_of_every_kind_are_pinned_bit_for_bit() {
    let m = matrix();
    let got: Vec<(&str, Vec<u64>)> = CASES
        .iter()
        .map(|(json, _)| (*json, bits(&fitted(json, &m), &m)))
        .collect();
    for ((json, got), (_, want)) in got.iter().zip(CASES) {
        let hex = |v: &[u64]| v.iter().map(|b| format!("{b:#018x}")).collect::<Vec<_>>();
        assert_eq!(hex(got), hex(want), "{json}");
    }
}

const PATH_LENGTHS: [u64; 4] = [
    0x3ff3517aa6149ab3,
    0x401d5f1154cc629a,
    0x40247d529d31da8f,
    0x40362e26fa6937c9,
];

const CASES: &[(&str, &[u64])] = &[
    (
        r#"{"kind": "iforest", "n_estimators": 25}"#,
        &[
            0x3fde_71a1_1f60_5295,
            0x3fea_18f1_36bf_f733,
            0x3fdd_5813_b6e1_e0de,
            0x4049_6847_239b_ed10,
            0x4059_0000_0000_0000,
            0x4039_6a37_b542_86b8,
            0x400a_4a1d_0e00_3516,
            0x4001_aa4d_a266_46a7,
            0x3fda_6729_5718_333a,
        ],
    ),
    (
        r#"{"kind": "zscore"}"#,
        &[
            0x3fef_be75_369c_81a3,
            0x4012_52c9_1027_bc93,
            0x3ff2_9cef_2820_545c,
            0x403e_87a0_80b0_6613,
            0x4059_0000_0000_0000,
            0x4046_e5c5_521e_c6fa,
            0x4012_52c9_1027_bc93,
            0x4011_3c61_5adc_523d,
            0x3fe2_fca0_0413_98ed,
        ],
    ),
    (
        r#"{"kind": "zscore", "center": "median", "combine": "sum_sq"}"#,
        &[
            0x3ffc_6d01_4a6e_3312,
            0x4041_fcbf_8b04_b9dc,
            0x3ff3_b4e5_c1b7_44ee,
            0x4046_e60b_71aa_60a2,
            0x4059_0000_0000_0000,
            0x4039_715d_3075_5373,
            0x4011_9faf_e8af_f124,
            0x4010_284b_7186_ef0e,
            0x3fdf_bc83_610c_4518,
        ],
    ),
    (
        r#"{"kind": "autoencoder", "hidden": [4, 2], "epochs": 5, "learning_rate": 0.01, "batch_size": 16}"#,
        &[
            0x3fe0_2a5f_3544_5438,
            0x4029_8386_9d75_cea8,
            0x3fe3_aa3d_8a1b_39f1,
            0x4041_cbd3_21aa_a9ad,
            0x4059_0000_0000_0000,
            0x404a_4a5c_76de_00d2,
            0x4032_c763_1130_79cd,
            0x4032_4d58_964e_629d,
            0x3ff3_08e4_4b1d_9909,
        ],
    ),
];
