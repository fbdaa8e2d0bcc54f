//! Isolation Forest (Liu, Ting & Zhou 2008) with scikit-learn's semantics.
//!
//! * Each tree draws its own `psi` rows (`max_samples`: `auto` = min(256, n), an integer capped
//!   at n, or a fraction of n; without replacement unless `bootstrap`) and, with
//!   `max_features < 1`, its own subset of features (without replacement). Only the drawn rows
//!   are copied, so growing the forest costs O(trees x psi x depth), independent of n.
//! * Trees are grown to depth ceil(log2 psi) ([`path_length::max_depth`]) by [`tree::Tree::grow`].
//! * A row's path length in a tree is its leaf's depth + c(leaf size); its score is
//!   2^(-E[h] / c(psi)) in (0, 1], higher = more anomalous (scikit-learn's `-score_samples`).
//! * Scoring walks layouts derived from the trees when they are grown or loaded, never
//!   serialized: per tree an implicit complete binary tree over integer keys ([`tree`]), and for
//!   forests of at most four features one shared rank table with every row's ranks packed in
//!   one word ([`packed`]). Both give exactly the path lengths of the nodes.
//!
//! Determinism: tree `t` draws from ChaCha8 stream `t` under the seed, and scoring sums the trees
//! in index order for every row, so scores are bit-identical for any thread count.
//!
//! Known difference from scikit-learn: it casts the data to `float32` and treats a feature as
//! constant in a node when `max - min <= 1e-7`; this implementation works in `f64` and treats a
//! feature as constant only when `max == min`.

pub mod packed;
mod params;
pub mod path_length;
pub mod tree;

use crate::detector::{Detector, DetectorModel};
use crate::error::DetectorError;
use crate::sampling;
use packed::{PackedForest, Walk};
use path_length::{average_path_length, max_depth};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tree::{Subsample, Tree};

pub use params::{
    FOREST_SAMPLES_LIMIT, IsolationForestKeys, IsolationForestParams, MAX_FEATURES_LIMIT,
    MAX_SAMPLES_LIMIT, MaxFeatures, MaxSamples, N_ESTIMATORS_LIMIT,
};

/// Rows scored per parallel task; fixed so the work split never depends on the thread count.
const SCORE_CHUNK: usize = 512;

/// A fitted Isolation Forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ForestRepr")]
pub struct IsolationForestModel {
    n_features: usize,
    max_samples: usize,
    trees: Vec<Tree>,
    /// Packed-rank scoring data derived from the trees (not serialized).
    #[serde(skip)]
    packed: Option<PackedForest>,
}

/// Serialized form of [`IsolationForestModel`] (the derived data is rebuilt on load).
#[derive(Deserialize)]
struct ForestRepr {
    #[serde(deserialize_with = "de_n_features")]
    n_features: usize,
    #[serde(deserialize_with = "de_max_samples")]
    max_samples: usize,
    #[serde(deserialize_with = "de_trees")]
    trees: Vec<Tree>,
}

crate::named::named_fields! {
    de_n_features: usize = "n_features";
    de_max_samples: usize = "max_samples";
}

fn de_trees<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Tree>, D::Error> {
    crate::named::indexed(d, "trees")
}

impl From<ForestRepr> for IsolationForestModel {
    fn from(r: ForestRepr) -> Self {
        Self::new(r.n_features, r.max_samples, r.trees)
    }
}

impl IsolationForestModel {
    /// Grows the forest on the row-major `values` (`n_features` columns, at least one row).
    pub fn fit(
        params: &IsolationForestParams,
        detector: &str,
        values: &[f64],
        n_features: usize,
        seed: u64,
    ) -> Result<Self, DetectorError> {
        let invalid = |key, message| DetectorError::InvalidConfig {
            detector: detector.to_string(),
            key,
            message,
        };
        params.check().map_err(|e| invalid(e.key, e.message))?;
        let n = values.len() / n_features;
        let psi = params.max_samples.resolve(n);
        if psi > MAX_SAMPLES_LIMIT {
            return Err(invalid(
                "max_samples",
                format!(
                    "is {}: {psi} of the {n} rows per tree, more than the limit {MAX_SAMPLES_LIMIT}",
                    params.max_samples
                ),
            ));
        }
        let samples = params.n_estimators.saturating_mul(psi);
        if samples > FOREST_SAMPLES_LIMIT {
            return Err(invalid(
                "max_samples",
                format!(
                    "is {}: {} trees (`n_estimators`) x {psi} rows each make {samples} tree \
                     samples, more than the limit {FOREST_SAMPLES_LIMIT} (a forest of several \
                     GB); lower max_samples or n_estimators",
                    params.max_samples, params.n_estimators
                ),
            ));
        }
        let m = params.max_features.resolve(n_features, detector)?;
        let depth_limit = max_depth(psi);
        let trees = (0..params.n_estimators)
            .into_par_iter()
            .map(|t| {
                let mut rng = sampling::stream(seed, t as u64);
                let features: Vec<usize> = if m == n_features {
                    (0..n_features).collect()
                } else {
                    let mut f = sampling::without_replacement(&mut rng, n_features, m);
                    f.sort_unstable();
                    f
                };
                let rows = if params.bootstrap {
                    sampling::with_replacement(&mut rng, n, psi)
                } else {
                    sampling::without_replacement(&mut rng, n, psi)
                };
                let mut columns = Vec::with_capacity(psi * m);
                for &f in &features {
                    columns.extend(rows.iter().map(|&r| values[r * n_features + f]));
                }
                let sample = Subsample {
                    columns: &columns,
                    n_rows: psi,
                    features: &features,
                };
                Tree::grow(&sample, depth_limit, &mut rng)
            })
            .collect();
        Ok(Self::new(n_features, psi, trees))
    }

    fn new(n_features: usize, max_samples: usize, trees: Vec<Tree>) -> Self {
        let packed = PackedForest::build(&trees, n_features);
        Self {
            n_features,
            max_samples,
            trees,
            packed,
        }
    }

    /// The subsample size psi the trees were grown on.
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// The trees, in index order.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Anomaly scores 2^(-E[h]/c(psi)) of the row-major `values`, in parallel over fixed row
    /// chunks; every row sums its trees in index order. Each chunk is converted once, into
    /// packed ranks ([`PackedForest`]) or comparison keys ([`tree::RowKeys`]), that every tree
    /// then walks, on the fastest [`Walk`] this CPU supports.
    pub fn score(&self, values: &[f64]) -> Vec<f64> {
        self.score_on(Walk::fastest(), values)
    }

    /// [`IsolationForestModel::score`] with packed heaps walked by `walk` (which this CPU must
    /// support, see [`Walk::supported`]); every walk gives the same scores.
    pub fn score_on(&self, walk: Walk, values: &[f64]) -> Vec<f64> {
        let d = self.n_features;
        let norm = self.trees.len() as f64 * average_path_length(self.max_samples);
        let mut out = vec![0.0; values.len() / d];
        out.par_chunks_mut(SCORE_CHUNK)
            .zip(values.par_chunks(SCORE_CHUNK * d))
            .for_each(|(out, rows)| {
                let mut acc = vec![0.0; rows.len() / d];
                if let Some(packed) = &self.packed {
                    packed.add_path_lengths(walk, &self.trees, rows, d, &mut acc);
                } else {
                    let keys = tree::RowKeys::new(rows, d);
                    acc.resize(keys.len(), 0.0);
                    for tree in &self.trees {
                        tree.add_path_lengths_keys(&keys, &mut acc);
                    }
                }
                for (o, a) in out.iter_mut().zip(&acc) {
                    *o = score_from_total_depth(*a, norm);
                }
            });
        out
    }

    /// Per-feature isolation credit of one row, averaged over the trees: the mean over trees of
    /// the sum, over the splits on the row's path that use the feature, of
    /// log2(node samples / child samples). A feature that cuts the row off from most of the
    /// sample early and often earns the most.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.contributions_of_rows(&[row]).pop().unwrap_or_default()
    }

    /// [`IsolationForestModel::contributions`] of each of `rows` (the same values, summed in
    /// the same tree order): every tree is walked for all the rows while it is in cache.
    /// The rows are copied into one buffer, each followed by its sums and padded to whole
    /// blocks of [`tree::CONTRIBUTION_LANES`] rows, which every tree walks together.
    pub fn contributions_of_rows(&self, rows: &[&[f64]]) -> Vec<Vec<f64>> {
        let d = self.n_features;
        if d == 0 {
            return vec![Vec::new(); rows.len()];
        }
        let padded = rows.len().div_ceil(tree::CONTRIBUTION_LANES) * tree::CONTRIBUTION_LANES;
        let mut buffer = vec![0.0; padded * 2 * d];
        for (row, b) in rows.iter().zip(buffer.chunks_exact_mut(2 * d)) {
            b[..d].copy_from_slice(&row[..d]);
        }
        for tree in &self.trees {
            tree.add_contributions_rows(&mut buffer, d);
        }
        let t = self.trees.len().max(1) as f64;
        (buffer.chunks_exact(2 * d).take(rows.len()))
            .map(|b| b[d..].iter().map(|v| v / t).collect())
            .collect()
    }

    /// Checks after loading from JSON: as many features as the detector, 1..=
    /// [`N_ESTIMATORS_LIMIT`] trees, `max_samples` (psi) in 1..=[`MAX_SAMPLES_LIMIT`], and
    /// every tree one that growing on psi rows can give ([`Tree::check`]) splitting on the
    /// detector's features. The error names the field.
    pub fn check(&self, n_features: usize) -> Result<(), String> {
        if self.n_features != n_features {
            return Err(format!(
                "the forest's `n_features` is {} but the detector lists {n_features} features",
                self.n_features
            ));
        }
        if !(1..=N_ESTIMATORS_LIMIT).contains(&self.trees.len()) {
            return Err(format!(
                "the forest has {} `trees`: expected 1..={N_ESTIMATORS_LIMIT}",
                self.trees.len()
            ));
        }
        if !(1..=MAX_SAMPLES_LIMIT).contains(&self.max_samples) {
            return Err(format!(
                "the forest's `max_samples` is {}: expected 1..={MAX_SAMPLES_LIMIT}",
                self.max_samples
            ));
        }
        for (t, tree) in self.trees.iter().enumerate() {
            tree.check(self.max_samples, n_features)
                .map_err(|e| format!("trees[{t}]: {e}"))?;
        }
        Ok(())
    }
}

/// 2^(-total / norm), with psi = 1 (norm 0, every path length 0) mapped to 0.5: "no information";
/// `exp2` of the pure-Rust `libm`, the same bits on every host.
fn score_from_total_depth(total: f64, norm: f64) -> f64 {
    if norm > 0.0 {
        libm::exp2(-total / norm)
    } else {
        0.5
    }
}

impl DetectorModel for IsolationForestModel {
    fn score(&self, values: &[f64]) -> Vec<f64> {
        IsolationForestModel::score(self, values)
    }

    fn contributions(&self, row: &[f64]) -> Vec<f64> {
        IsolationForestModel::contributions(self, row)
    }

    fn contributions_of_rows(&self, rows: &[&[f64]]) -> Vec<Vec<f64>> {
        IsolationForestModel::contributions_of_rows(self, rows)
    }

    fn check(&self, n_features: usize) -> Result<(), String> {
        IsolationForestModel::check(self, n_features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn random_values(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = sampling::stream(seed, 99);
        (0..n * d)
            .map(|_| rng.random::<f64>() * 2.0 - 1.0)
            .collect()
    }

    /// Roughly normal values (sum of three uniforms).
    fn bell_values(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = sampling::stream(seed, 98);
        (0..n * d)
            .map(|_| (0..3).map(|_| rng.random::<f64>() - 0.5).sum())
            .collect()
    }

    fn params(n_estimators: usize, max_samples: MaxSamples) -> IsolationForestParams {
        IsolationForestParams {
            n_estimators,
            max_samples,
            ..Default::default()
        }
    }

    #[test]
    fn trees_respect_the_depth_limit_and_sample_size() {
        let values = random_values(5000, 3, 1);
        let m =
            IsolationForestModel::fit(&params(20, MaxSamples::Auto), "t", &values, 3, 5).unwrap();
        assert_eq!(m.max_samples(), 256);
        for t in m.trees() {
            assert!(t.depth() <= 8);
            assert!(t.n_leaves() >= 2);
        }
        // random continuous data: trees reach the limit
        assert!(m.trees().iter().any(|t| t.depth() == 8));
        let m = IsolationForestModel::fit(&params(5, MaxSamples::Count(10)), "t", &values, 3, 5)
            .unwrap();
        assert!(m.trees().iter().all(|t| t.depth() <= 4));
        let m = IsolationForestModel::fit(
            &params(5, MaxSamples::Count(100_000)),
            "t",
            &values[..300],
            3,
            5,
        )
        .unwrap();
        assert_eq!(m.max_samples(), 100);
    }

    #[test]
    fn leaf_values_are_depth_plus_c_of_size() {
        // 4 identical rows and 1 distinct row: psi = 5, limit 3
        let values = vec![0.0, 0.0, 0.0, 0.0, 9.0];
        let m =
            IsolationForestModel::fit(&params(3, MaxSamples::Auto), "t", &values, 1, 2).unwrap();
        for t in m.trees() {
            // root splits {0,0,0,0} from {9}; the 4 equal rows cannot be split
            assert_eq!(t.path_length(&[0.0]), 1.0 + average_path_length(4));
            assert_eq!(t.path_length(&[9.0]), 1.0);
        }
        let s = m.score(&values);
        assert!(s[4] > s[0]);
        let want = libm::exp2(-1.0 / average_path_length(5));
        assert!((s[4] - want).abs() < 1e-15);
    }

    #[test]
    fn all_constant_data_gives_single_leaf_trees() {
        let values = vec![3.0; 40];
        let m =
            IsolationForestModel::fit(&params(4, MaxSamples::Auto), "t", &values, 2, 0).unwrap();
        for t in m.trees() {
            assert_eq!(t.nodes().len(), 1);
            assert_eq!(t.path_length(&[3.0, 3.0]), average_path_length(20));
        }
        // every row scores exactly 2^-1
        assert!(m.score(&values).iter().all(|&s| (s - 0.5).abs() < 1e-15));
    }

    #[test]
    fn constant_columns_are_never_split() {
        let mut values = random_values(1000, 3, 4);
        for r in 0..1000 {
            values[r * 3 + 1] = 7.0;
        }
        let m =
            IsolationForestModel::fit(&params(30, MaxSamples::Auto), "t", &values, 3, 1).unwrap();
        for t in m.trees() {
            assert!(t.split_features().all(|f| f != 1));
        }
    }

    #[test]
    fn max_features_restricts_each_tree() {
        let values = random_values(500, 6, 4);
        let p = IsolationForestParams {
            max_features: MaxFeatures::Count(2),
            ..params(10, MaxSamples::Auto)
        };
        let m = IsolationForestModel::fit(&p, "t", &values, 6, 1).unwrap();
        for t in m.trees() {
            let mut used: Vec<u32> = t.split_features().collect();
            used.sort_unstable();
            used.dedup();
            assert!(used.len() <= 2, "{used:?}");
        }
        let p = IsolationForestParams {
            max_features: MaxFeatures::Count(7),
            ..params(10, MaxSamples::Auto)
        };
        let err = IsolationForestModel::fit(&p, "t", &values, 6, 1).unwrap_err();
        assert!(err.to_string().contains("max_features"), "{err}");
    }

    #[test]
    fn bootstrap_and_fraction_work() {
        let values = random_values(1000, 2, 8);
        let p = IsolationForestParams {
            bootstrap: true,
            ..params(10, MaxSamples::Fraction(0.5))
        };
        let m = IsolationForestModel::fit(&p, "t", &values, 2, 1).unwrap();
        assert_eq!(m.max_samples(), 500);
        assert!(m.score(&values).iter().all(|s| *s > 0.0 && *s <= 1.0));
    }

    #[test]
    fn obvious_outlier_gets_the_top_score() {
        // Uniform data would make hypercube corners nearly as isolated as the outlier when the
        // outlier is missing from most subsamples; bell-shaped data with n = 600 (psi 256)
        // keeps the test meaningful.
        let mut values = bell_values(600, 4, 11);
        values[234 * 4 + 2] = 25.0;
        let m =
            IsolationForestModel::fit(&params(100, MaxSamples::Auto), "t", &values, 4, 3).unwrap();
        let s = m.score(&values);
        let best = (0..s.len()).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
        assert_eq!(best, 234);
        assert!(s[234] > 0.7, "{}", s[234]);
        let c = m.contributions(&values[234 * 4..235 * 4]);
        let top = (0..4).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap();
        assert_eq!(top, 2, "{c:?}");
        // rows explained together get their values alone, bit for bit
        let rows: Vec<&[f64]> = values.chunks_exact(4).step_by(7).collect();
        let together = m.contributions_of_rows(&rows);
        for (row, c) in rows.iter().zip(&together) {
            let alone = m.contributions(row);
            assert!(alone.iter().zip(c).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn seeds_change_trees_but_repeat_exactly() {
        let values = random_values(800, 3, 12);
        let a =
            IsolationForestModel::fit(&params(10, MaxSamples::Auto), "t", &values, 3, 1).unwrap();
        let b =
            IsolationForestModel::fit(&params(10, MaxSamples::Auto), "t", &values, 3, 1).unwrap();
        let c =
            IsolationForestModel::fit(&params(10, MaxSamples::Auto), "t", &values, 3, 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn scores_are_exactly_the_in_order_sums_of_path_lengths() {
        // packed ranks (d <= 4, on every walk this CPU runs), keys (padded rows d <= 64, then
        // stride d), through fit and through JSON
        for (d, max_samples) in [(4, 256), (3, 700), (6, 256), (17, 100), (70, 256)] {
            let values = bell_values(1500, d, d as u64);
            let p = params(13, MaxSamples::Count(max_samples));
            let m = IsolationForestModel::fit(&p, "t", &values, d, 4).unwrap();
            let json = serde_json::to_string(&m).unwrap();
            let back: IsolationForestModel = serde_json::from_str(&json).unwrap();
            assert_eq!(back, m);
            let norm = m.trees().len() as f64 * average_path_length(m.max_samples());
            let walks = Walk::supported();
            let scores = walks
                .iter()
                .flat_map(|&w| [m.score_on(w, &values), back.score_on(w, &values)]);
            for s in scores {
                for (row, s) in values.chunks_exact(d).zip(s) {
                    let total = m
                        .trees()
                        .iter()
                        .fold(0.0, |t, tree| t + tree.path_length(row));
                    assert_eq!(s.to_bits(), score_from_total_depth(total, norm).to_bits());
                }
            }
        }
    }
}
