//! Anomaly detectors for the webthreat pipeline.
//!
//! One contract for every detector kind:
//!
//! * A [`DetectorConfig`] is read from YAML (serde): `kind`, the common keys (`name` and one
//!   threshold rule, [`CommonKeys`]) and the kind's parameters ([`Params`]). Unknown keys are
//!   rejected when parsing. [`DetectorConfig::check`] checks every value once, against
//!   ranges no real use needs to leave (documented on each parameter, e.g.
//!   [`iforest::N_ESTIMATORS_LIMIT`]), and returns a [`CheckedConfig`] (name,
//!   [`ThresholdRule`], params) that nothing checks again; [`DetectorConfig::resolved`] is the
//!   config with its defaults written out. An error names the key ([`InvalidParam`],
//!   [`DetectorError::InvalidConfig`]).
//! * [`train`] is the one fitting entry point: it turns a config and a
//!   [`FeatureMatrix`](webthreat_core::FeatureMatrix) into a [`Trained`]: the
//!   [`FittedDetector`] with the training scores in row order and sorted, and notes on what
//!   fitting clamped ([`Trained::notes`]). Limits that also depend on the data (memory of the
//!   fitted model) fail here, naming the key. A fitted detector
//!   scores rows (higher = more anomalous), holds the threshold derived from the training
//!   scores, maps scores to a 0-100 severity, explains single rows and serializes to JSON
//!   ([`model_file`]); reading one back checks every field as strictly as a config, so that a
//!   corrupted or edited file fails with the field named instead of changing the flags.
//! * Thresholding ([`threshold`]) is a separate step applied to the sorted training scores:
//!   changing the rule ([`FittedDetector::set_threshold`]) never refits.
//!
//! Detectors: [`iforest`] (Isolation Forest with scikit-learn semantics), [`zscore`]
//! (per-feature standard scores) and [`autoencoder`] (small tanh MLP trained with Adam). Each
//! implements [`Detector`] (parameters: check, accepted threshold rules, fit) and
//! [`DetectorModel`] (fitted model: score, explain, serialize, check after loading).
//!
//! # Adding a detector kind
//!
//! 1. Write one module, e.g. `src/lof.rs` (declared in this file with `pub mod lof;`), holding
//!    the parameter struct declared with `detector_params!` (in [`detector`]; field defaults
//!    via `#[serde(default = ...)]`, plus `impl Default`), the fitted model (serde-serializable,
//!    exact for floats via `exact_f64`), `impl Detector` for the parameters and
//!    `impl DetectorModel` for the model. Override [`Detector::accepts`] if the kind supports
//!    `contamination: auto` or `k_sigma`, [`DetectorModel::rule_threshold`] if the model
//!    defines a threshold of its own for a rule, [`Detector::fit_notes`] if fitting may clamp
//!    a parameter to the data, and [`Detector::check_model`] to check a loaded model against
//!    its parameters. `Detector::check` bounds every value and `DetectorModel::check` every
//!    field of a loaded model.
//! 2. Register it with one line in the `registry!` list of [`kinds`]:
//!    `LocalOutlierFactor("lof"): LofParams,` (`"lof"` is the YAML `kind`; the variant name in
//!    snake_case tags the model in model files).
//!
//! Nothing else changes: parsing, checking, fitting, thresholds, severity, explanations and
//! model files dispatch through [`kinds`].

pub mod autoencoder;
mod checked_config;
pub mod config;
pub mod detector;
mod error;
mod exact_f64;
pub mod explain;
pub mod fitted;
pub mod iforest;
pub mod kinds;
pub mod model_file;
mod named;
mod number_or_auto;
mod registry;
pub mod rule;
mod sampling;
mod stats;
pub mod threshold;
mod train;
pub mod zscore;

pub use autoencoder::AutoencoderParams;
pub use checked_config::CheckedConfig;
pub use config::{Contamination, DetectorConfig, ThresholdSpec};
pub use detector::{CommonKeys, Detector, DetectorModel, InvalidParam, Reads};
pub use error::DetectorError;
pub use explain::Explanation;
pub use fitted::FittedDetector;
pub use iforest::{IsolationForestParams, MaxFeatures, MaxSamples};
pub use kinds::{Model, Params};
pub use rule::{BeaconParams, Direction, IntelParams};
pub use threshold::ThresholdRule;
pub use train::{Trained, train};
pub use zscore::{Center, Combine, ZScoreParams};
