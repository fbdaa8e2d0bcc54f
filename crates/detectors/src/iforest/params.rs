//! Parameters of `kind: iforest` and its [`Detector`] implementation.

use super::IsolationForestModel;
use crate::detector::{Detector, InvalidParam, detector_params};
use crate::error::DetectorError;
use crate::number_or_auto;
use crate::threshold::ThresholdRule;
use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use webthreat_core::FeatureMatrix;

detector_params! {
    /// Parameters of `kind: iforest` (names and meaning as scikit-learn's `IsolationForest`).
    pub struct IsolationForestParams / IsolationForestKeys {
        /// Number of trees (default 100).
        #[serde(default = "default_n_estimators")]
        pub n_estimators: usize,
        /// Rows drawn per tree: `auto` = min(256, n), an integer (capped at n) or a fraction of n.
        #[serde(default)]
        pub max_samples: MaxSamples,
        /// Features drawn per tree: an integer or a fraction of the features (default 1.0 = all).
        #[serde(default)]
        pub max_features: MaxFeatures,
        /// Draw each tree's rows with replacement (default false).
        #[serde(default)]
        pub bootstrap: bool,
    }
}

fn default_n_estimators() -> usize {
    100
}

impl Default for IsolationForestParams {
    fn default() -> Self {
        Self {
            n_estimators: default_n_estimators(),
            max_samples: MaxSamples::Auto,
            max_features: MaxFeatures::default(),
            bootstrap: false,
        }
    }
}

impl Detector for IsolationForestParams {
    type Model = IsolationForestModel;
    type Keys = IsolationForestKeys;

    fn check(&self) -> Result<(), InvalidParam> {
        if self.n_estimators == 0 {
            return Err(InvalidParam::new(
                "n_estimators",
                "is 0: expected at least 1 tree",
            ));
        }
        match self.max_samples {
            MaxSamples::Count(0) => {
                return Err(InvalidParam::new(
                    "max_samples",
                    "is 0: expected `auto`, an integer >= 1 or a fraction in (0, 1]",
                ));
            }
            MaxSamples::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(InvalidParam::new(
                    "max_samples",
                    format!("is {f}: expected `auto`, an integer >= 1 or a fraction in (0, 1]"),
                ));
            }
            _ => {}
        }
        match self.max_features {
            MaxFeatures::Count(0) => Err(InvalidParam::new(
                "max_features",
                "is 0: expected an integer >= 1 or a fraction in (0, 1]",
            )),
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => Err(InvalidParam::new(
                "max_features",
                format!("is {f}: expected an integer >= 1 or a fraction in (0, 1]"),
            )),
            _ => Ok(()),
        }
    }

    /// Also `contamination: auto` (flag score > 0.5, scikit-learn's offset -0.5).
    fn accepts(rule: &ThresholdRule) -> bool {
        !matches!(rule, ThresholdRule::KSigma(_))
    }

    fn fit(
        &self,
        name: &str,
        data: &FeatureMatrix,
        seed: u64,
    ) -> Result<IsolationForestModel, DetectorError> {
        IsolationForestModel::fit(self, name, data.values(), data.n_cols(), seed)
    }
}

/// `max_samples`: how many training rows each tree sees.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MaxSamples {
    /// min(256, n) (scikit-learn's `"auto"`).
    #[default]
    Auto,
    /// This many rows, capped at n.
    Count(usize),
    /// floor(fraction x n) rows (at least 1); fraction in (0, 1].
    Fraction(f64),
}

impl MaxSamples {
    /// The subsample size psi for `n` training rows (n >= 1).
    pub fn resolve(&self, n: usize) -> usize {
        match *self {
            MaxSamples::Auto => n.min(256),
            MaxSamples::Count(c) => c.min(n),
            MaxSamples::Fraction(f) => ((f * n as f64) as usize).clamp(1, n),
        }
    }
}

/// `max_features`: how many features each tree may split on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxFeatures {
    /// Exactly this many features (at most the number of features).
    Count(usize),
    /// max(1, floor(fraction x d)) features; fraction in (0, 1].
    Fraction(f64),
}

impl Default for MaxFeatures {
    fn default() -> Self {
        MaxFeatures::Fraction(1.0)
    }
}

impl MaxFeatures {
    /// Features per tree for `d` features, or an error when a count exceeds `d`.
    pub fn resolve(&self, d: usize, detector: &str) -> Result<usize, DetectorError> {
        match *self {
            MaxFeatures::Count(c) if c > d => Err(DetectorError::InvalidConfig {
                detector: detector.to_string(),
                key: "max_features",
                message: format!("is {c} but the data has only {d} features"),
            }),
            MaxFeatures::Count(c) => Ok(c),
            MaxFeatures::Fraction(f) => Ok(((f * d as f64) as usize).clamp(1, d)),
        }
    }
}

impl Serialize for MaxSamples {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            MaxSamples::Auto => s.serialize_str("auto"),
            MaxSamples::Count(c) => s.serialize_u64(c as u64),
            MaxSamples::Fraction(f) => s.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for MaxSamples {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        number_or_auto::number_or_auto(
            d,
            "`auto`, an integer number of rows or a fraction in (0, 1]",
            MaxSamples::Auto,
            |v| MaxSamples::Count(usize::try_from(v).unwrap_or(usize::MAX)),
            MaxSamples::Fraction,
        )
    }
}

impl Serialize for MaxFeatures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            MaxFeatures::Count(c) => s.serialize_u64(c as u64),
            MaxFeatures::Fraction(f) => s.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for MaxFeatures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parsed = number_or_auto::number_or_auto(
            d,
            "an integer number of features or a fraction in (0, 1]",
            None::<MaxFeatures>,
            |v| Some(MaxFeatures::Count(usize::try_from(v).unwrap_or(usize::MAX))),
            |f| Some(MaxFeatures::Fraction(f)),
        )?;
        parsed.ok_or_else(|| {
            de::Error::invalid_value(
                de::Unexpected::Str("auto"),
                &"an integer number of features or a fraction in (0, 1]",
            )
        })
    }
}
