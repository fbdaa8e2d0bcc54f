//! Anomaly detectors for the webthreat pipeline.
//!
//! Three detectors share one contract (see `DESIGN.md`):
//!
//! * [`config::DetectorConfig`] is read from YAML (serde), validated with
//!   [`DetectorConfig::validate`], and resolved (defaults filled in) with
//!   [`DetectorConfig::resolved`].
//! * [`fit`] turns a config and a [`FeatureMatrix`](webthreat_core::FeatureMatrix) into a
//!   [`FittedDetector`], which scores rows (higher = more anomalous), holds the threshold
//!   derived from the training scores, maps scores to a 0-100 severity, explains single rows
//!   and serializes to JSON.
//! * Thresholding ([`threshold`]) is separate from fitting: changing the rule never refits.
//!
//! Detectors: [`iforest`] (Isolation Forest with scikit-learn semantics), [`zscore`]
//! (per-feature standard scores) and [`autoencoder`] (small tanh MLP trained with Adam).

pub mod autoencoder;
pub mod config;
mod error;
mod exact_f64;
pub mod explain;
pub mod fitted;
pub mod iforest;
mod sampling;
mod stats;
pub mod threshold;
pub mod zscore;

pub use config::{
    AutoencoderParams, Center, Combine, Contamination, DetectorConfig, IsolationForestParams,
    MaxFeatures, MaxSamples, ThresholdSpec, ZScoreParams,
};
pub use error::DetectorError;
pub use explain::Explanation;
pub use fitted::{FittedDetector, Model, fit, fit_with_scores, fit_with_sorted_scores};
pub use threshold::ThresholdRule;
