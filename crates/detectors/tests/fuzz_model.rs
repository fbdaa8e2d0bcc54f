//! Fuzz-style tests of the model loader (proptest, a bounded number of cases): a model file
//! with any of its numbers replaced by an extreme one either fails to load with a message, or
//! loads and scores without a panic and with finite scores.

use proptest::prelude::*;
use webthreat_core::FeatureMatrix;
use webthreat_detectors::{DetectorConfig, FittedDetector, train};

fn matrix(n: usize, d: usize) -> FeatureMatrix {
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..d)
                .map(|j| ((i * 7 + j * 13) % 17) as f64 / 8.0 - 1.0)
                .collect()
        })
        .collect();
    FeatureMatrix::from_rows((0..d).map(|j| format!("f{j}")).collect(), &rows).unwrap()
}

/// The JSON text of a small trained model of each kind.
fn models() -> Vec<String> {
    [
        r#"{"kind": "iforest", "n_estimators": 5}"#,
        r#"{"kind": "zscore"}"#,
        r#"{"kind": "autoencoder", "hidden": [3], "epochs": 3}"#,
    ]
    .iter()
    .map(|json| {
        let config: DetectorConfig = serde_json::from_str(json).unwrap();
        train(&config, &matrix(40, 3), 7, None)
            .unwrap()
            .detector
            .to_json()
            .unwrap()
    })
    .collect()
}

/// The byte ranges of the numbers in a JSON text.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts =
            b[i].is_ascii_digit() || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        let inside_word = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if starts && !inside_word {
            let from = i;
            i += 1;
            while i < b.len()
                && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                i += 1;
            }
            out.push((from, i));
        } else {
            i += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 384,
        // a fixed seed: CI runs the same cases every time (change it to explore others)
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        ..ProptestConfig::default()
    })]

    #[test]
    fn models_with_extreme_numbers_fail_to_load_or_score_finitely(
        which in 0usize..3,
        picks in prop::collection::vec((any::<usize>(), prop::sample::select(vec![
            "0", "-1", "1e308", "-1e308", "1e999", "18446744073709551615", "9007199254740993",
            "0.5", "-0", "4294967296", "\"NaN\"", "null", "[]",
        ])), 1..4),
    ) {
        let models = models();
        let mut text = models[which].clone();
        let spans = numbers(&text);
        prop_assume!(!spans.is_empty());
        // replace from the end, so earlier spans stay valid
        let mut chosen: Vec<((usize, usize), &str)> = picks
            .iter()
            .map(|(at, value)| (spans[at % spans.len()], *value))
            .collect();
        chosen.sort_by_key(|((from, _), _)| std::cmp::Reverse(*from));
        chosen.dedup_by_key(|((from, _), _)| *from);
        for ((from, to), value) in chosen {
            text.replace_range(from..to, value);
        }
        if let Ok(model) = FittedDetector::from_json(&text)
            && let Ok(scores) = model.score(&matrix(10, 3))
        {
            prop_assert!(scores.iter().all(|s| s.is_finite()), "{text}");
        }
    }
}
