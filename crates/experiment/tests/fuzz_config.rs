//! Fuzz-style tests of the config parser (proptest, a bounded number of cases): any mutation
//! of a shipped config parses and validates, or fails with a message; never a panic. Values
//! that would make a run allocate without bound are refused by validation.

use proptest::prelude::*;
use webthreat_experiment::ExperimentConfig;

const CONFIGS: [&str; 4] = [
    include_str!("../../../configs/iforest.yaml"),
    include_str!("../../../configs/compare.yaml"),
    include_str!("../../../configs/zeek.yaml"),
    include_str!("../../../configs/autoencoder.yaml"),
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // a fixed seed: CI runs the same cases every time (change it to explore others)
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_configs_parse_or_fail_with_a_message(
        which in 0usize..CONFIGS.len(),
        edits in prop::collection::vec((any::<usize>(), any::<char>(), any::<bool>()), 1..8),
    ) {
        let mut text: Vec<char> = CONFIGS[which].chars().collect();
        for (at, c, insert) in edits {
            let at = at % (text.len() + 1);
            if insert || at == text.len() {
                text.insert(at, c);
            } else {
                text[at] = c;
            }
        }
        let text: String = text.into_iter().collect();
        if let Ok(config) = ExperimentConfig::parse(&text, &[]) {
            let _ = config.validate();
        }
    }

    #[test]
    fn any_numeric_value_of_a_detector_key_is_accepted_or_refused(
        key in prop::sample::select(vec![
            "detectors.0.n_estimators", "detectors.0.max_samples", "detectors.0.max_features",
            "detectors.0.contamination", "seed", "window_seconds", "report.top_flagged",
            "report.explain_features",
        ]),
        value in prop_oneof![
            any::<i64>().prop_map(|v| v.to_string()),
            any::<f64>().prop_map(|v| format!("{v:e}")),
            Just("1e999".to_string()),
            Just("-0".to_string()),
            Just(".nan".to_string()),
        ],
    ) {
        let set = [format!("{key}={value}")];
        if let Ok(config) = ExperimentConfig::parse(CONFIGS[0], &set) {
            let _ = config.validate();
        }
    }
}
