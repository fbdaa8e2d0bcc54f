//! Autoencoder detector: a small MLP trained to reproduce its input; the anomaly score of a row
//! is its mean squared reconstruction error.
//!
//! * Architecture: `hidden: [h1, ..., hk]` is the encoder; the decoder mirrors it, so
//!   `[8, 3]` on d features builds d-8-3-8-d. Every hidden layer uses tanh, the output layer is
//!   linear.
//! * Inputs are standardized inside the model with the training rows' mean and standard
//!   deviation (1 for constant features), so the network sees unit-scale data whatever scaling
//!   ran upstream; reconstruction errors are measured in that standardized space.
//! * Training: Glorot-uniform weights and zero biases, Adam (beta1 0.9, beta2 0.999, eps 1e-8)
//!   on the mean squared error, minibatches in a freshly shuffled order every epoch. When the
//!   data has more than `max_train_rows` rows the network is fitted on a seeded subsample of
//!   that size. Everything random comes from the seed; training is single-threaded and
//!   bit-reproducible. Scoring runs in parallel over fixed row chunks, so it is too.
//! * Same bits on every host: matrix products sum in index order in plain Rust (no BLAS or
//!   CPU-specific kernel), tanh and Adam's bias corrections come from the pure-Rust `libm`.

use crate::detector::DetectorModel;
use crate::error::DetectorError;
use crate::sampling;
use crate::stats::mean_std;
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};
use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod params;

pub use params::{
    AutoencoderKeys, AutoencoderParams, BATCH_SIZE_LIMIT, BATCH_VALUES_LIMIT, EPOCHS_LIMIT,
    HIDDEN_LAYERS_LIMIT, HIDDEN_WIDTH_LIMIT, LEARNING_RATE_LIMIT, MAX_TRAIN_ROWS_LIMIT,
    WEIGHTS_LIMIT,
};

/// The largest |mean| and scale (and the inverse of the smallest scale) a loaded model may
/// standardize with: far beyond any fitted one, small enough that no finite feature's squared
/// error overflows.
const STANDARDIZE_LIMIT: f64 = 1e100;

/// The largest |weight| or |bias| a loaded model may hold: far beyond what Adam reaches at
/// the config's limits in practice, small enough that reconstructions and their squared errors
/// stay finite.
const PARAMETER_LIMIT: f64 = 1e12;

/// Rows scored per parallel task (fixed: the split never depends on the thread count).
const SCORE_CHUNK: usize = 1024;
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// Random stream ids under the user's seed.
const STREAM_INIT: u64 = 0;
const STREAM_SHUFFLE: u64 = 1;
const STREAM_SUBSAMPLE: u64 = 2;

/// One dense layer: `out = input . weights + bias`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "LayerRepr", try_from = "LayerRepr")]
pub struct Layer {
    weights: Array2<f64>,
    bias: Array1<f64>,
}

#[derive(Serialize, Deserialize)]
struct LayerRepr {
    #[serde(deserialize_with = "de_inputs")]
    inputs: usize,
    #[serde(deserialize_with = "de_outputs")]
    outputs: usize,
    /// Row-major `inputs x outputs`.
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_weights"
    )]
    weights: Vec<f64>,
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_bias"
    )]
    bias: Vec<f64>,
}

crate::named::named_fields! {
    de_inputs: usize = "inputs";
    de_outputs: usize = "outputs";
    de_weights: Vec<f64> = "weights" via crate::exact_f64::vec::deserialize;
    de_bias: Vec<f64> = "bias" via crate::exact_f64::vec::deserialize;
    de_mean: Vec<f64> = "mean" via crate::exact_f64::vec::deserialize;
    de_scale: Vec<f64> = "scale" via crate::exact_f64::vec::deserialize;
    de_loss_history: Vec<f64> = "loss_history" via crate::exact_f64::vec::deserialize;
    de_train_rows: usize = "train_rows";
}

fn de_layers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Layer>, D::Error> {
    crate::named::indexed(d, "layers")
}

impl From<Layer> for LayerRepr {
    fn from(l: Layer) -> Self {
        LayerRepr {
            inputs: l.weights.nrows(),
            outputs: l.weights.ncols(),
            weights: l.weights.iter().copied().collect(),
            bias: l.bias.to_vec(),
        }
    }
}

impl TryFrom<LayerRepr> for Layer {
    type Error = String;
    fn try_from(r: LayerRepr) -> Result<Self, String> {
        if r.bias.len() != r.outputs {
            return Err(format!(
                "`bias` has {} values for {} `outputs`",
                r.bias.len(),
                r.outputs
            ));
        }
        // the weights are in memory already: their count bounds the shape
        let weights = Array2::from_shape_vec((r.inputs, r.outputs), r.weights).map_err(|e| {
            format!(
                "`weights` do not fit {} `inputs` x {} `outputs`: {e}",
                r.inputs, r.outputs
            )
        })?;
        Ok(Layer {
            weights,
            bias: Array1::from(r.bias),
        })
    }
}

/// A fitted autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoencoderModel {
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_mean"
    )]
    mean: Vec<f64>,
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_scale"
    )]
    scale: Vec<f64>,
    #[serde(deserialize_with = "de_layers")]
    layers: Vec<Layer>,
    /// Mean training loss (MSE, standardized units) of every epoch.
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_loss_history"
    )]
    loss_history: Vec<f64>,
    /// Rows the network was trained on.
    #[serde(deserialize_with = "de_train_rows")]
    train_rows: usize,
}

/// Adam moments of one layer.
struct Moments {
    mw: Array2<f64>,
    vw: Array2<f64>,
    mb: Array1<f64>,
    vb: Array1<f64>,
}

/// Layer widths for `d` inputs: d, hidden..., mirrored hidden..., d.
pub fn layer_sizes(d: usize, hidden: &[usize]) -> Vec<usize> {
    let mut sizes = vec![d];
    sizes.extend_from_slice(hidden);
    sizes.extend(hidden.iter().rev().skip(1));
    sizes.push(d);
    sizes
}

/// The number of weights of a network with these layer widths (saturating).
fn weight_count(sizes: &[usize]) -> usize {
    sizes.windows(2).fold(0usize, |acc, w| {
        acc.saturating_add(w[0].saturating_mul(w[1]))
    })
}

impl AutoencoderModel {
    /// Trains on row-major `values` with `d` columns (at least one row); `detector` names the
    /// detector in errors. Fails when `params` are out of range ([`Detector::check`]), or when
    /// the network on `d` features would have more than [`WEIGHTS_LIMIT`] weights (key
    /// `hidden`) or a minibatch more than [`BATCH_VALUES_LIMIT`] activations (`batch_size`).
    ///
    /// [`Detector::check`]: crate::Detector::check
    pub fn fit(
        params: &AutoencoderParams,
        detector: &str,
        values: &[f64],
        d: usize,
        seed: u64,
    ) -> Result<Self, DetectorError> {
        let invalid = |key, message| DetectorError::InvalidConfig {
            detector: detector.to_string(),
            key,
            message,
        };
        crate::detector::Detector::check(params).map_err(|e| invalid(e.key, e.message))?;
        let n = values.len() / d;
        let sizes = layer_sizes(d, &params.hidden);
        let weights = weight_count(&sizes);
        if weights > WEIGHTS_LIMIT {
            return Err(invalid(
                "hidden",
                format!(
                    "{:?} on {d} features makes layers {sizes:?} with {weights} weights: \
                     expected at most {WEIGHTS_LIMIT}",
                    params.hidden
                ),
            ));
        }
        let batch = params.batch_size.min(n.min(params.max_train_rows));
        let activations = batch.saturating_mul(sizes.iter().sum());
        if activations > BATCH_VALUES_LIMIT {
            return Err(invalid(
                "batch_size",
                format!(
                    "is {}: a minibatch of {batch} rows through layers {sizes:?} holds \
                     {activations} activations, more than the limit {BATCH_VALUES_LIMIT}; lower \
                     batch_size or hidden",
                    params.batch_size
                ),
            ));
        }
        Ok(Self::fit_checked(params, values, d, seed))
    }

    /// [`AutoencoderModel::fit`] once the limits are checked.
    fn fit_checked(params: &AutoencoderParams, values: &[f64], d: usize, seed: u64) -> Self {
        let n = values.len() / d;
        let rows: Vec<usize> = if n > params.max_train_rows {
            let mut r = sampling::without_replacement(
                &mut sampling::stream(seed, STREAM_SUBSAMPLE),
                n,
                params.max_train_rows,
            );
            r.sort_unstable();
            r
        } else {
            (0..n).collect()
        };
        let m = rows.len();
        let raw = Array2::from_shape_fn((m, d), |(i, j)| values[rows[i] * d + j]);
        let (mean, scale): (Vec<f64>, Vec<f64>) = (0..d)
            .map(|j| {
                let col: Vec<f64> = raw.column(j).to_vec();
                let (mu, sd) = mean_std(&col);
                (mu, if sd > 0.0 { sd } else { 1.0 })
            })
            .unzip();
        let mut x = raw;
        standardize(&mut x, &mean, &scale);

        let mut init = sampling::stream(seed, STREAM_INIT);
        let sizes = layer_sizes(d, &params.hidden);
        let mut layers: Vec<Layer> = sizes
            .windows(2)
            .map(|w| {
                let limit = (6.0 / (w[0] + w[1]) as f64).sqrt();
                Layer {
                    weights: Array2::from_shape_fn((w[0], w[1]), |_| {
                        (init.random::<f64>() * 2.0 - 1.0) * limit
                    }),
                    bias: Array1::zeros(w[1]),
                }
            })
            .collect();
        let mut moments: Vec<Moments> = layers
            .iter()
            .map(|l| Moments {
                mw: Array2::zeros(l.weights.raw_dim()),
                vw: Array2::zeros(l.weights.raw_dim()),
                mb: Array1::zeros(l.bias.len()),
                vb: Array1::zeros(l.bias.len()),
            })
            .collect();

        let mut shuffle = sampling::stream(seed, STREAM_SHUFFLE);
        let mut order: Vec<usize> = (0..m).collect();
        let mut loss_history = Vec::with_capacity(params.epochs.min(EPOCHS_LIMIT));
        let mut step = 0i32;
        let batch = params.batch_size.min(m);
        for _ in 0..params.epochs {
            sampling::shuffle(&mut shuffle, &mut order);
            let mut epoch_loss = 0.0;
            for idx in order.chunks(batch) {
                let xb = x.select(Axis(0), idx);
                step = step.saturating_add(1);
                let loss = train_step(&mut layers, &mut moments, &xb, params.learning_rate, step);
                epoch_loss += loss * idx.len() as f64;
            }
            loss_history.push(epoch_loss / m as f64);
        }
        Self {
            mean,
            scale,
            layers,
            loss_history,
            train_rows: m,
        }
    }

    /// Mean training loss of every epoch (standardized units).
    pub fn loss_history(&self) -> &[f64] {
        &self.loss_history
    }

    /// Rows the network was trained on (at most `max_train_rows`).
    pub fn train_rows(&self) -> usize {
        self.train_rows
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Widths of all layers, input to output.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s: Vec<usize> = self.layers.iter().map(|l| l.weights.nrows()).collect();
        s.extend(self.layers.last().map(|l| l.weights.ncols()));
        s
    }

    /// Squared reconstruction errors of the row-major `rows` (standardized units).
    fn squared_errors(&self, rows: &[f64]) -> Array2<f64> {
        let d = self.n_features();
        let mut x = Array2::from_shape_fn((rows.len() / d, d), |(i, j)| rows[i * d + j]);
        standardize(&mut x, &self.mean, &self.scale);
        let out = forward(&self.layers, &x).pop().unwrap_or_else(|| x.clone());
        let mut err = out - &x;
        err.mapv_inplace(|e| e * e);
        err
    }

    /// Mean squared reconstruction error of every row of row-major `values`.
    pub fn score(&self, values: &[f64]) -> Vec<f64> {
        let d = self.n_features();
        let mut out = vec![0.0; values.len() / d];
        out.par_chunks_mut(SCORE_CHUNK)
            .zip(values.par_chunks(SCORE_CHUNK * d))
            .for_each(|(o, chunk)| {
                let err = self.squared_errors(chunk);
                for (s, row) in o.iter_mut().zip(err.rows()) {
                    *s = row.iter().fold(0.0, |sum, e| sum + e) / d as f64;
                }
            });
        out
    }

    /// Per-feature squared reconstruction error of one row (standardized units).
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.squared_errors(row).iter().copied().collect()
    }

    /// Checks after loading from JSON: layers that map the detector's features back to them
    /// through 1..=[`HIDDEN_LAYERS_LIMIT`] mirrored hidden layers of widths
    /// 1..=[`HIDDEN_WIDTH_LIMIT`] with at most [`WEIGHTS_LIMIT`] weights, a positive input
    /// scale, 1..=[`EPOCHS_LIMIT`] epochs of loss history and 1..=[`MAX_TRAIN_ROWS_LIMIT`]
    /// training rows (every float is finite, as deserialization checked). The error names
    /// the field.
    pub fn check(&self, n_features: usize) -> Result<(), String> {
        if self.mean.len() != n_features || self.scale.len() != n_features {
            return Err(format!(
                "the autoencoder has {} `mean` and {} `scale` values but the detector lists \
                 {n_features} features",
                self.mean.len(),
                self.scale.len()
            ));
        }
        if let Some(j) = self.scale.iter().position(|&s| s.is_nan() || s <= 0.0) {
            return Err(format!(
                "the autoencoder's `scale[{j}]` is {:?}: expected a standard deviation > 0",
                self.scale[j]
            ));
        }
        // standardized inputs and their squared errors must stay finite for finite features
        if let Some(j) = (self.mean.iter().zip(&self.scale)).position(|(m, s)| {
            m.abs() > STANDARDIZE_LIMIT
                || !(1.0 / STANDARDIZE_LIMIT..=STANDARDIZE_LIMIT).contains(s)
        }) {
            return Err(format!(
                "the autoencoder's `mean[{j}]` {:?} or `scale[{j}]` {:?} is out of range: expected \
                 |mean| <= {STANDARDIZE_LIMIT:e} and a scale in [{:e}, {STANDARDIZE_LIMIT:e}]",
                self.mean[j],
                self.scale[j],
                1.0 / STANDARDIZE_LIMIT
            ));
        }
        if let Some(i) = self
            .layers
            .windows(2)
            .position(|w| w[0].weights.ncols() != w[1].weights.nrows())
        {
            return Err(format!(
                "the autoencoder's `layers[{i}]` has {} outputs but `layers[{}]` {} inputs",
                self.layers[i].weights.ncols(),
                i + 1,
                self.layers[i + 1].weights.nrows()
            ));
        }
        let sizes = self.sizes();
        let hidden = sizes.get(1..sizes.len().saturating_sub(1)).unwrap_or(&[]);
        let mirrored = hidden.iter().eq(hidden.iter().rev());
        if sizes.first() != Some(&n_features)
            || sizes.last() != Some(&n_features)
            || !self.layers.len().is_multiple_of(2)
            || !(1..=HIDDEN_LAYERS_LIMIT).contains(&(self.layers.len() / 2))
            || !mirrored
            || hidden.iter().any(|h| !(1..=HIDDEN_WIDTH_LIMIT).contains(h))
        {
            return Err(format!(
                "the autoencoder's `layers` have widths {sizes:?}: expected {n_features} features \
                 through 1..={HIDDEN_LAYERS_LIMIT} hidden widths in 1..={HIDDEN_WIDTH_LIMIT}, \
                 mirrored, back to {n_features}"
            ));
        }
        let weights = weight_count(&sizes);
        if weights > WEIGHTS_LIMIT {
            return Err(format!(
                "the autoencoder's `layers` have {weights} weights: expected at most {WEIGHTS_LIMIT}"
            ));
        }
        if !(1..=EPOCHS_LIMIT).contains(&self.loss_history.len()) {
            return Err(format!(
                "the autoencoder's `loss_history` has {} epochs: expected 1..={EPOCHS_LIMIT}",
                self.loss_history.len()
            ));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let values = layer.weights.iter().chain(layer.bias.iter());
            if let Some(v) = values.copied().find(|v| v.abs() > PARAMETER_LIMIT) {
                return Err(format!(
                    "the autoencoder's `layers[{i}]` holds {v:?}: expected weights and biases \
                     within ±{PARAMETER_LIMIT:e}"
                ));
            }
        }
        if !(1..=MAX_TRAIN_ROWS_LIMIT).contains(&self.train_rows) {
            return Err(format!(
                "the autoencoder's `train_rows` is {}: expected 1..={MAX_TRAIN_ROWS_LIMIT}",
                self.train_rows
            ));
        }
        Ok(())
    }
}

fn standardize(x: &mut Array2<f64>, mean: &[f64], scale: &[f64]) {
    for mut row in x.rows_mut() {
        Zip::from(&mut row)
            .and(mean)
            .and(scale)
            .for_each(|v, m, s| *v = (*v - m) / s);
    }
}

/// `a` (n x k) times `b` (k x m), each entry summed in index order from 0.0: the same bits
/// on every host (no kernel chosen by CPU features, no fused multiply-add).
fn matmul(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let (n, k) = a.dim();
    let m = b.ncols();
    debug_assert_eq!(b.nrows(), k, "inner dimensions");
    Array2::from_shape_fn((n, m), |(i, j)| {
        (0..k).fold(0.0, |s, t| s + a[[i, t]] * b[[t, j]])
    })
}

/// Activations of every layer, input first, output last: fixed-order sums ([`matmul`]) and the
/// pure-Rust `libm` tanh, so a model's activations are the same bits on every host.
fn forward(layers: &[Layer], x: &Array2<f64>) -> Vec<Array2<f64>> {
    let mut acts = Vec::with_capacity(layers.len() + 1);
    acts.push(x.clone());
    for (l, layer) in layers.iter().enumerate() {
        let prev = &acts[l];
        let mut z = matmul(prev.view(), layer.weights.view()) + &layer.bias;
        if l + 1 < layers.len() {
            z.mapv_inplace(libm::tanh);
        }
        acts.push(z);
    }
    acts
}

/// One Adam step on minibatch `xb`; returns the batch loss before the step.
fn train_step(
    layers: &mut [Layer],
    moments: &mut [Moments],
    xb: &Array2<f64>,
    learning_rate: f64,
    step: i32,
) -> f64 {
    let acts = forward(layers, xb);
    let Some(out) = acts.last() else {
        return 0.0;
    };
    let diff = out - xb;
    let count = diff.len() as f64;
    let loss = diff.iter().map(|e| e * e).sum::<f64>() / count;
    let mut delta = diff * (2.0 / count);
    let bias1 = 1.0 - libm::pow(BETA1, f64::from(step));
    let bias2 = 1.0 - libm::pow(BETA2, f64::from(step));
    for l in (0..layers.len()).rev() {
        let grad_w = matmul(acts[l].t(), delta.view());
        let grad_b = delta.sum_axis(Axis(0));
        if l > 0 {
            let mut back = matmul(delta.view(), layers[l].weights.t());
            Zip::from(&mut back)
                .and(&acts[l])
                .for_each(|g, a| *g *= 1.0 - a * a);
            delta = back;
        }
        let mo = &mut moments[l];
        let layer = &mut layers[l];
        Zip::from(&mut layer.weights)
            .and(&mut mo.mw)
            .and(&mut mo.vw)
            .and(&grad_w)
            .for_each(|w, m, v, g| adam(w, m, v, *g, learning_rate, bias1, bias2));
        Zip::from(&mut layer.bias)
            .and(&mut mo.mb)
            .and(&mut mo.vb)
            .and(&grad_b)
            .for_each(|w, m, v, g| adam(w, m, v, *g, learning_rate, bias1, bias2));
    }
    loss
}

#[inline]
fn adam(w: &mut f64, m: &mut f64, v: &mut f64, g: f64, lr: f64, bias1: f64, bias2: f64) {
    *m = BETA1 * *m + (1.0 - BETA1) * g;
    *v = BETA2 * *v + (1.0 - BETA2) * g * g;
    let m_hat = *m / bias1;
    let v_hat = *v / bias2;
    *w -= lr * m_hat / (v_hat.sqrt() + EPS);
}

impl DetectorModel for AutoencoderModel {
    fn score(&self, values: &[f64]) -> Vec<f64> {
        AutoencoderModel::score(self, values)
    }

    fn contributions(&self, row: &[f64]) -> Vec<f64> {
        AutoencoderModel::contributions(self, row)
    }

    fn check(&self, n_features: usize) -> Result<(), String> {
        AutoencoderModel::check(self, n_features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows on a 2-d plane embedded in 4-d, plus noise: compressible through a bottleneck.
    fn plane(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = sampling::stream(seed, 5);
        let mut v = Vec::with_capacity(n * 4);
        for _ in 0..n {
            let a: f64 = rng.random::<f64>() * 2.0 - 1.0;
            let b: f64 = rng.random::<f64>() * 2.0 - 1.0;
            let e: f64 = (rng.random::<f64>() - 0.5) * 0.05;
            v.extend_from_slice(&[a, b, a + b + e, a - b - e]);
        }
        v
    }

    fn params(epochs: usize) -> AutoencoderParams {
        AutoencoderParams {
            hidden: vec![6, 2],
            epochs,
            learning_rate: 0.01,
            batch_size: 32,
            ..Default::default()
        }
    }

    #[test]
    fn mirrored_layer_sizes() {
        assert_eq!(layer_sizes(5, &[8, 3]), vec![5, 8, 3, 8, 5]);
        assert_eq!(layer_sizes(5, &[4]), vec![5, 4, 5]);
    }

    #[test]
    fn loss_decreases_and_training_is_deterministic() {
        let values = plane(600, 1);
        let a = AutoencoderModel::fit(&params(60), "t", &values, 4, 9).unwrap();
        let h = a.loss_history();
        assert_eq!(h.len(), 60);
        assert!(h[59] < 0.25 * h[0], "loss {} -> {}", h[0], h[59]);
        assert_eq!(a.sizes(), vec![4, 6, 2, 6, 4]);
        let b = AutoencoderModel::fit(&params(60), "t", &values, 4, 9).unwrap();
        assert_eq!(a, b);
        let sa = a.score(&values);
        let sb = b.score(&values);
        assert!(sa.iter().zip(&sb).all(|(x, y)| x.to_bits() == y.to_bits()));
        let c = AutoencoderModel::fit(&params(60), "t", &values, 4, 10).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn off_plane_row_scores_highest_and_is_explained() {
        let mut values = plane(600, 2);
        // row 17 breaks the relation of feature 2 only
        values[17 * 4 + 2] = -values[17 * 4 + 2] + 1.5;
        let m = AutoencoderModel::fit(&params(80), "t", &values, 4, 3).unwrap();
        let s = m.score(&values);
        let best = (0..s.len()).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
        assert_eq!(best, 17);
        let c = m.contributions(&values[17 * 4..18 * 4]);
        assert!((c.iter().sum::<f64>() / 4.0 - s[17]).abs() < 1e-12);
    }

    #[test]
    fn subsamples_large_data_and_handles_constant_columns() {
        let mut values = plane(3000, 3);
        for r in 0..3000 {
            values[r * 4 + 3] = 2.0;
        }
        let p = AutoencoderParams {
            max_train_rows: 500,
            ..params(5)
        };
        let m = AutoencoderModel::fit(&p, "t", &values, 4, 1).unwrap();
        assert_eq!(m.train_rows(), 500);
        assert!(m.score(&values).iter().all(|s| s.is_finite()));
    }
}
