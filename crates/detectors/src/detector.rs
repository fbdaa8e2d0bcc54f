//! The contract every detector kind implements: [`Detector`] for its parameters (check, the
//! threshold rules it accepts, fit) and [`DetectorModel`] for what fitting returns (score,
//! explain, serialize, check after loading).
//!
//! A kind declares its parameter struct with `detector_params!`, which also writes the
//! struct's YAML form (`<Kind>Keys`: the common keys `name`, `contamination` and `threshold`
//! around the kind's own keys, unknown keys rejected), and is then listed once in
//! [`crate::kinds`].

use crate::error::DetectorError;
use crate::threshold::ThresholdRule;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use webthreat_core::FeatureMatrix;

/// A parameter value that is out of range: the key and what was wrong (value and expectation).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidParam {
    /// The offending key.
    pub key: &'static str,
    /// What was wrong, with the value and what was expected.
    pub message: String,
}

impl InvalidParam {
    /// An error about `key`.
    pub fn new(key: &'static str, message: impl Into<String>) -> Self {
        Self {
            key,
            message: message.into(),
        }
    }
}

/// The parameters of one detector kind, and how that kind fits.
pub trait Detector: Debug + Clone + PartialEq + Default + Serialize + Send + Sync {
    /// The fitted model.
    type Model: DetectorModel;
    /// The YAML form of the parameters with the common keys (written by `detector_params!`).
    type Keys: Clone + Serialize + DeserializeOwned + From<Keyed<Self>> + Into<Keyed<Self>>;

    /// Checks every value (serde has already checked the types): each has a range that no
    /// real use needs to leave (documented on the parameter), so that no value can make
    /// fitting allocate without bound or run for ever. The error names the key, the value and
    /// the accepted range.
    fn check(&self) -> Result<(), InvalidParam>;

    /// Whether this kind supports `rule` at all (its value is checked by the rule itself).
    /// By default a kind supports every rule except `contamination: auto` and `k_sigma`.
    fn accepts(rule: &ThresholdRule) -> bool {
        !matches!(
            rule,
            ThresholdRule::ContaminationAuto | ThresholdRule::KSigma(_)
        )
    }

    /// What the kind reads: the run's scaled features (the default), or one feature of the
    /// feature vocabulary, unscaled (rule kinds such as `beacon`).
    fn reads(&self) -> Reads {
        Reads::ScaledFeatures
    }

    /// The threshold rule when the config gives none: `contamination: 0.05` by default.
    fn default_rule() -> ThresholdRule {
        ThresholdRule::Contamination(crate::config::DEFAULT_CONTAMINATION)
    }

    /// Fits checked parameters on `data` (at least one row, all values finite); `name` is the
    /// detector's name for error messages; every random choice derives from `seed`. Limits
    /// that depend on the data as well (memory of the fitted model) fail here, as
    /// [`DetectorError::InvalidConfig`] naming the key to lower.
    fn fit(
        &self,
        name: &str,
        data: &FeatureMatrix,
        seed: u64,
    ) -> Result<Self::Model, DetectorError>;

    /// What fitting on `n_rows` rows of `n_features` features will do differently from what
    /// the parameters say, one sentence each (e.g. a `max_samples` above the row count is
    /// clamped to it); none by default. [`crate::train`] returns them as
    /// [`Trained::notes`](crate::Trained::notes).
    fn fit_notes(&self, _n_rows: usize, _n_features: usize) -> Vec<String> {
        Vec::new()
    }

    /// Checks that a loaded `model` (already checked on its own, [`DetectorModel::check`])
    /// is one these parameters fit, e.g. that a forest has `n_estimators` trees; the error
    /// names the field. Nothing to check by default.
    fn check_model(&self, _model: &Self::Model) -> Result<(), String> {
        Ok(())
    }
}

/// A fitted model of one detector kind. Serialization must be exact: a loaded model scores
/// bit-identically.
pub trait DetectorModel:
    Debug + Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync
{
    /// Anomaly score of every row of row-major `values` (higher = more anomalous).
    fn score(&self, values: &[f64]) -> Vec<f64>;

    /// Per-feature contribution to one row's score (larger = more responsible).
    fn contributions(&self, row: &[f64]) -> Vec<f64>;

    /// [`DetectorModel::contributions`] of each of `rows`, the same values; a model may
    /// compute them together faster (the forest walks each tree for every row in turn).
    fn contributions_of_rows(&self, rows: &[&[f64]]) -> Vec<Vec<f64>> {
        rows.iter().map(|row| self.contributions(row)).collect()
    }

    /// Checks a loaded model against the number of training features: every value in the
    /// range fitting can produce (as strictly as the config's limits), shapes consistent. The
    /// error names the field and the value. Deserialization has already rejected non-finite
    /// floats (`exact_f64`) and anything the model's constructors need to be safe.
    fn check(&self, n_features: usize) -> Result<(), String>;

    /// The threshold this model itself defines for `rule`, if any (the z-score detector's
    /// `k_sigma`); `None` means the rule is applied to the training scores.
    fn rule_threshold(&self, _rule: ThresholdRule) -> Option<f64> {
        None
    }
}

/// What a detector kind is fitted on and scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The run's features, scaled.
    ScaledFeatures,
    /// This one feature, unscaled, whether or not the run lists it.
    Feature(&'static str),
}

/// The keys every detector accepts, as written (absent keys are `None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommonKeys {
    /// `name`: the detector's name in outputs (defaults to the kind).
    pub name: Option<String>,
    /// `contamination`: a fraction of training rows to flag, or `auto`.
    pub contamination: Option<crate::config::Contamination>,
    /// `threshold`: a threshold rule other than contamination.
    pub threshold: Option<crate::config::ThresholdSpec>,
}

/// A kind's parameters with the common keys, split apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<P> {
    /// `name`, `contamination`, `threshold`.
    pub common: CommonKeys,
    /// The kind's own keys.
    pub params: P,
}

/// Declares a kind's parameter struct `$params` and its YAML form `$keys`: the common key
/// `name` first, then the struct's fields in order, then `contamination` and `threshold`;
/// unknown keys are rejected. Field attributes (docs, `#[serde(default = ...)]`) apply to both.
macro_rules! detector_params {
    (
        $(#[$meta:meta])*
        pub struct $params:ident / $keys:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident: $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $params {
            $(
                $(#[$fmeta])*
                pub $field: $ty,
            )*
        }

        #[doc = concat!("The YAML form of [`", stringify!($params), "`] with the common keys.")]
        #[doc(hidden)]
        #[derive(Clone, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $keys {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            name: Option<String>,
            $(
                $(#[$fmeta])*
                $field: $ty,
            )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            contamination: Option<$crate::config::Contamination>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            threshold: Option<$crate::config::ThresholdSpec>,
        }

        impl From<$keys> for $crate::detector::Keyed<$params> {
            fn from(k: $keys) -> Self {
                Self {
                    common: $crate::detector::CommonKeys {
                        name: k.name,
                        contamination: k.contamination,
                        threshold: k.threshold,
                    },
                    params: $params { $($field: k.$field,)* },
                }
            }
        }

        impl From<$crate::detector::Keyed<$params>> for $keys {
            fn from(k: $crate::detector::Keyed<$params>) -> Self {
                Self {
                    name: k.common.name,
                    $($field: k.params.$field,)*
                    contamination: k.common.contamination,
                    threshold: k.common.threshold,
                }
            }
        }
    };
}
pub(crate) use detector_params;
