//! Parameters of `kind: autoencoder` and its [`Detector`] implementation.

use super::AutoencoderModel;
use crate::detector::{Detector, InvalidParam, detector_params};
use crate::error::DetectorError;
use webthreat_core::FeatureMatrix;

detector_params! {
    /// Parameters of `kind: autoencoder`.
    pub struct AutoencoderParams / AutoencoderKeys {
        /// Encoder layer widths; the decoder mirrors them. `[8, 3]` builds d-8-3-8-d (default).
        #[serde(default = "default_hidden")]
        pub hidden: Vec<usize>,
        /// Passes over the training rows (default 100).
        #[serde(default = "default_epochs")]
        pub epochs: usize,
        /// Adam step size (default 0.001).
        #[serde(default = "default_learning_rate")]
        pub learning_rate: f64,
        /// Rows per minibatch (default 64).
        #[serde(default = "default_batch_size")]
        pub batch_size: usize,
        /// Train on a seeded subsample of this many rows when the data is larger (default 20000).
        #[serde(default = "default_max_train_rows")]
        pub max_train_rows: usize,
    }
}

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
        if self.hidden.is_empty() {
            return Err(InvalidParam::new(
                "hidden",
                "is empty: expected at least one hidden layer width, e.g. [8, 3]",
            ));
        }
        if let Some(pos) = self.hidden.iter().position(|&h| h == 0) {
            return Err(InvalidParam::new(
                "hidden",
                format!(
                    "{:?} has width 0 at position {pos}: every layer needs at least 1 unit",
                    self.hidden
                ),
            ));
        }
        if self.epochs == 0 {
            return Err(InvalidParam::new("epochs", "is 0: expected at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(InvalidParam::new(
                "learning_rate",
                format!(
                    "is {}: expected a positive number such as 0.001",
                    self.learning_rate
                ),
            ));
        }
        if self.batch_size == 0 {
            return Err(InvalidParam::new("batch_size", "is 0: expected at least 1"));
        }
        if self.max_train_rows == 0 {
            return Err(InvalidParam::new(
                "max_train_rows",
                "is 0: expected at least 1",
            ));
        }
        Ok(())
    }

    fn fit(
        &self,
        _name: &str,
        data: &FeatureMatrix,
        seed: u64,
    ) -> Result<AutoencoderModel, DetectorError> {
        Ok(AutoencoderModel::fit(
            self,
            data.values(),
            data.n_cols(),
            seed,
        ))
    }
}
