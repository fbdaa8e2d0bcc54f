//! Parameters of `kind: autoencoder` and its [`Detector`] implementation.

use super::{AutoencoderModel, layer_sizes};
use crate::detector::{Detector, InvalidParam, detector_params};
use crate::error::DetectorError;
use webthreat_core::FeatureMatrix;

detector_params! {
    /// Parameters of `kind: autoencoder`.
    pub struct AutoencoderParams / AutoencoderKeys {
        /// Encoder layer widths; the decoder mirrors them. `[8, 3]` builds d-8-3-8-d (default).
        /// 1..=[`HIDDEN_LAYERS_LIMIT`] (8) widths, each 1..=[`HIDDEN_WIDTH_LIMIT`] (4096); the
        /// whole network may have at most [`WEIGHTS_LIMIT`] weights (2^24).
        #[serde(default = "default_hidden")]
        pub hidden: Vec<usize>,
        /// Passes over the training rows (default 100), 1..=[`EPOCHS_LIMIT`] (100,000).
        #[serde(default = "default_epochs")]
        pub epochs: usize,
        /// Adam step size (default 0.001), in (0, 1].
        #[serde(default = "default_learning_rate")]
        pub learning_rate: f64,
        /// Rows per minibatch (default 64), 1..=[`BATCH_SIZE_LIMIT`] (2^20; capped at the
        /// training rows, with a fit note). One minibatch's activations, rows x the sum of the
        /// layer widths, may not exceed [`BATCH_VALUES_LIMIT`] (checked when fitting).
        #[serde(default = "default_batch_size")]
        pub batch_size: usize,
        /// Train on a seeded subsample of this many rows when the data is larger (default
        /// 20000, with a fit note), 1..=[`MAX_TRAIN_ROWS_LIMIT`] (2^24).
        #[serde(default = "default_max_train_rows")]
        pub max_train_rows: usize,
    }
}

/// Most hidden layers of the encoder (`hidden` widths); the decoder mirrors them.
pub const HIDDEN_LAYERS_LIMIT: usize = 8;

/// Widest hidden layer.
pub const HIDDEN_WIDTH_LIMIT: usize = 4096;

/// Most weights of the whole network, 2^24: with Adam's two moments and the gradient, about
/// 512 MB. `hidden` alone is checked against it with the config, the input and output
/// layers (which depend on the number of features) when fitting.
pub const WEIGHTS_LIMIT: usize = 1 << 24;

/// Most `epochs`.
pub const EPOCHS_LIMIT: usize = 100_000;

/// Largest `batch_size` (2^20).
pub const BATCH_SIZE_LIMIT: usize = 1 << 20;

/// Most activations of one minibatch, rows x the sum of the layer widths: 2^26 (512 MB per
/// copy; a training step holds a few). Checked when fitting, when the row count is known.
pub const BATCH_VALUES_LIMIT: usize = 1 << 26;

/// Largest `max_train_rows` (2^24).
pub const MAX_TRAIN_ROWS_LIMIT: usize = 1 << 24;

/// Largest `learning_rate`.
pub const LEARNING_RATE_LIMIT: f64 = 1.0;

fn default_hidden() -> Vec<usize> {
    vec![8, 3]
}
fn default_epochs() -> usize {
    100
}
fn default_learning_rate() -> f64 {
    1e-3
}
fn default_batch_size() -> usize {
    64
}
fn default_max_train_rows() -> usize {
    20_000
}

impl Default for AutoencoderParams {
    fn default() -> Self {
        Self {
            hidden: default_hidden(),
            epochs: default_epochs(),
            learning_rate: default_learning_rate(),
            batch_size: default_batch_size(),
            max_train_rows: default_max_train_rows(),
        }
    }
}

impl Detector for AutoencoderParams {
    type Model = AutoencoderModel;
    type Keys = AutoencoderKeys;

    fn check(&self) -> Result<(), InvalidParam> {
        let hidden = &self.hidden;
        if hidden.is_empty() {
            return Err(InvalidParam::new(
                "hidden",
                "is empty: expected at least one hidden layer width, e.g. [8, 3]",
            ));
        }
        if hidden.len() > HIDDEN_LAYERS_LIMIT {
            return Err(InvalidParam::new(
                "hidden",
                format!(
                    "{hidden:?} has {} layers: expected 1..={HIDDEN_LAYERS_LIMIT} layer widths",
                    hidden.len()
                ),
            ));
        }
        if let Some(pos) = hidden
            .iter()
            .position(|h| !(1..=HIDDEN_WIDTH_LIMIT).contains(h))
        {
            return Err(InvalidParam::new(
                "hidden",
                format!(
                    "{hidden:?} has width {} at position {pos}: expected widths in 1..={HIDDEN_WIDTH_LIMIT}",
                    hidden[pos]
                ),
            ));
        }
        // the widths are bounded above, so this cannot overflow
        let weights = 2 * hidden.windows(2).map(|w| w[0] * w[1]).sum::<usize>();
        if weights > WEIGHTS_LIMIT {
            return Err(InvalidParam::new(
                "hidden",
                format!(
                    "{hidden:?} needs {weights} weights between hidden layers alone: expected at \
                     most {WEIGHTS_LIMIT} in the whole network"
                ),
            ));
        }
        if !(1..=EPOCHS_LIMIT).contains(&self.epochs) {
            return Err(InvalidParam::new(
                "epochs",
                format!("is {}: expected 1..={EPOCHS_LIMIT}", self.epochs),
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= LEARNING_RATE_LIMIT) {
            return Err(InvalidParam::new(
                "learning_rate",
                format!(
                    "is {}: expected a number in (0, {LEARNING_RATE_LIMIT}] such as 0.001",
                    self.learning_rate
                ),
            ));
        }
        if !(1..=BATCH_SIZE_LIMIT).contains(&self.batch_size) {
            return Err(InvalidParam::new(
                "batch_size",
                format!("is {}: expected 1..={BATCH_SIZE_LIMIT}", self.batch_size),
            ));
        }
        if !(1..=MAX_TRAIN_ROWS_LIMIT).contains(&self.max_train_rows) {
            return Err(InvalidParam::new(
                "max_train_rows",
                format!(
                    "is {}: expected 1..={MAX_TRAIN_ROWS_LIMIT}",
                    self.max_train_rows
                ),
            ));
        }
        Ok(())
    }

    fn fit(
        &self,
        name: &str,
        data: &FeatureMatrix,
        seed: u64,
    ) -> Result<AutoencoderModel, DetectorError> {
        AutoencoderModel::fit(self, name, data.values(), data.n_cols(), seed)
    }

    /// Training on a subsample (more rows than `max_train_rows`), and a `batch_size` above
    /// the training rows, which is clamped to them.
    fn fit_notes(&self, n_rows: usize, _n_features: usize) -> Vec<String> {
        let mut notes = Vec::new();
        let m = n_rows.min(self.max_train_rows);
        if n_rows > m {
            notes.push(format!(
                "trained on a seeded subsample of {m} of the {n_rows} fit rows (max_train_rows)"
            ));
        }
        if self.batch_size > m {
            notes.push(format!(
                "batch_size {} is more than the {m} training rows; used {m}",
                self.batch_size
            ));
        }
        notes
    }

    /// The network is the config's (`hidden` mirrored around the features), trained for
    /// `epochs` epochs on at most `max_train_rows` rows.
    fn check_model(&self, model: &AutoencoderModel) -> Result<(), String> {
        let want = layer_sizes(model.n_features(), &self.hidden);
        if model.sizes() != want {
            return Err(format!(
                "the autoencoder's `layers` have widths {:?} but the config's `hidden` {:?} \
                 gives {want:?}",
                model.sizes(),
                self.hidden
            ));
        }
        if model.loss_history().len() != self.epochs {
            return Err(format!(
                "the autoencoder's `loss_history` has {} epochs but the config's `epochs` is {}",
                model.loss_history().len(),
                self.epochs
            ));
        }
        if model.train_rows() > self.max_train_rows {
            return Err(format!(
                "the autoencoder's `train_rows` is {} but the config's `max_train_rows` is {}",
                model.train_rows(),
                self.max_train_rows
            ));
        }
        Ok(())
    }
}
