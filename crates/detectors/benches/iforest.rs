//! Micro-benchmarks of Isolation Forest fit and score (`cargo bench -p webthreat-detectors`),
//! so regressions show: 100 trees, 256 samples, on 100k rows x 4 roughly normal features, at 1
//! thread and at every core; scoring also on heavy-tailed features, like a log's byte counts.
//!
//! The end-to-end comparison with scikit-learn is `cargo xtask bench` (crates/bench).

use divan::Bencher;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use webthreat_detectors::iforest::IsolationForestModel;
use webthreat_detectors::iforest::packed::Walk;
use webthreat_detectors::{IsolationForestParams, MaxSamples};

const ROWS: usize = 100_000;
const FEATURES: usize = 4;
const SEED: u64 = 42;

fn main() {
    divan::main();
}

/// Row-major values, each the sum of three uniforms in [-0.5, 0.5) (bell-shaped).
fn data() -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    (0..ROWS * FEATURES)
        .map(|_| (0..3).map(|_| rng.random::<f64>() - 0.5).sum())
        .collect()
}

/// [`data`] through `exp(4 v)`: heavy-tailed like byte counts, so the thresholds crowd at the
/// low end of each feature's range.
fn heavy_tailed_data() -> Vec<f64> {
    data().into_iter().map(|v| (4.0 * v).exp()).collect()
}

fn params() -> IsolationForestParams {
    IsolationForestParams {
        n_estimators: 100,
        max_samples: MaxSamples::Count(256),
        ..IsolationForestParams::default()
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// Growing 100 trees on 256-row samples of 100k x 4 (cost independent of the row count).
#[divan::bench(args = [1, 0])]
fn fit(bencher: Bencher, threads: usize) {
    let values = data();
    let params = params();
    let pool = pool(threads);
    bencher.bench_local(|| {
        pool.install(|| {
            IsolationForestModel::fit(
                &params,
                "iforest",
                divan::black_box(&values),
                FEATURES,
                SEED,
            )
        })
        .expect("fit")
    });
}

/// Scoring 100k x 4 rows with 100 trees (divide by 1e7 for nanoseconds per row x tree), on the
/// fastest walk this CPU runs.
#[divan::bench(args = [1, 0])]
fn score(bencher: Bencher, threads: usize) {
    bench_score(bencher, threads, Walk::fastest(), data());
}

/// [`score`] on heavy-tailed features ([`heavy_tailed_data`]).
#[divan::bench(args = [1, 0])]
fn score_heavy_tailed(bencher: Bencher, threads: usize) {
    bench_score(bencher, threads, Walk::fastest(), heavy_tailed_data());
}

/// [`score`] on the portable scalar walk (the same as `score` on CPUs without AVX-512).
#[divan::bench(args = [1, 0])]
fn score_scalar(bencher: Bencher, threads: usize) {
    bench_score(bencher, threads, Walk::Scalar, data());
}

fn bench_score(bencher: Bencher, threads: usize, walk: Walk, values: Vec<f64>) {
    let pool = pool(threads);
    let model = pool
        .install(|| IsolationForestModel::fit(&params(), "iforest", &values, FEATURES, SEED))
        .expect("fit");
    bencher.bench_local(|| pool.install(|| model.score_on(walk, divan::black_box(&values))));
}

/// Explaining the 5,000 highest-scoring of 100k heavy-tailed rows (5%, as a run's alerts
/// explain its flagged rows): per-feature isolation credits over 100 trees, one thread.
#[divan::bench]
fn contributions_of_top_rows(bencher: Bencher) {
    let values = heavy_tailed_data();
    let pool = pool(1);
    let model = pool
        .install(|| IsolationForestModel::fit(&params(), "iforest", &values, FEATURES, SEED))
        .expect("fit");
    let scores = model.score(&values);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let rows: Vec<&[f64]> = order[..ROWS / 20]
        .iter()
        .map(|&i| &values[i * FEATURES..(i + 1) * FEATURES])
        .collect();
    bencher.bench_local(|| pool.install(|| model.contributions_of_rows(divan::black_box(&rows))));
}
