//! Fit and score timings of every detector on 1,000,000 x 4 seeded random rows.
//!
//! Run with `cargo run --release -p webthreat-detectors --example timing`; set
//! `RAYON_NUM_THREADS` to choose the thread count. Prints fit seconds (including scoring the
//! training rows for the threshold), score seconds, and for the Isolation Forest the scoring
//! cost in nanoseconds per (row x tree).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use webthreat_core::FeatureMatrix;
use webthreat_detectors::{DetectorConfig, Model, train};

const ROWS: usize = 1_000_000;
const COLS: usize = 4;
const OUTLIERS: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut values: Vec<f64> = (0..ROWS * COLS)
        .map(|_| (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0)
        .collect();
    for k in 0..OUTLIERS {
        let row = rng.random_range(0..ROWS);
        values[row * COLS + k % COLS] = 8.0 + k as f64;
    }
    let names = (0..COLS).map(|j| format!("f{j}")).collect();
    let data = FeatureMatrix::new(
        names,
        values,
        (0..ROWS as u64).collect(),
        webthreat_core::Entities::default(),
        None,
    )?;

    println!(
        "rows {ROWS}, features {COLS}, rayon threads {}",
        rayon::current_num_threads()
    );
    println!("| detector | fit s | score s | flagged | ns per row x tree |");
    println!("|---|---|---|---|---|");
    for json in [
        r#"{"kind": "iforest", "n_estimators": 100, "max_samples": "auto", "contamination": 0.05}"#,
        r#"{"kind": "zscore", "contamination": 0.05}"#,
        r#"{"kind": "autoencoder", "hidden": [8, 3], "epochs": 200, "contamination": 0.05}"#,
    ] {
        let config: DetectorConfig = serde_json::from_str(json)?;
        let start = Instant::now();
        let detector = train(&config, &data, 7, None)?.detector;
        let fit_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let scores = detector.score(&data)?;
        let score_s = start.elapsed().as_secs_f64();
        let flagged = detector.flags(&scores).iter().filter(|&&f| f).count();
        let per_tree = match detector.model() {
            Model::IsolationForest(m) => {
                format!(
                    "{:.2}",
                    score_s * 1e9 / (ROWS as f64 * m.trees().len() as f64)
                )
            }
            _ => "-".to_string(),
        };
        println!(
            "| {} | {fit_s:.3} | {score_s:.3} | {flagged} | {per_tree} |",
            detector.name()
        );
    }
    Ok(())
}
