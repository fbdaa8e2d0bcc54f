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
        /// Number of trees (default 100), 1..=[`N_ESTIMATORS_LIMIT`] (10,000).
        #[serde(default = "default_n_estimators")]
        pub n_estimators: usize,
        /// Rows drawn per tree: `auto` = min(256, n), an integer in 1..=[`MAX_SAMPLES_LIMIT`]
        /// (2^24; capped at n, with a fit note) or a fraction of n in (0, 1]. When fitting,
        /// `n_estimators` x the rows per tree may not exceed [`FOREST_SAMPLES_LIMIT`].
        #[serde(default)]
        pub max_samples: MaxSamples,
        /// Features drawn per tree: an integer in 1..=[`MAX_FEATURES_LIMIT`] (2^20; at most
        /// the number of features) or a fraction of the features in (0, 1] (default 1.0 = all).
        #[serde(default)]
        pub max_features: MaxFeatures,
        /// Draw each tree's rows with replacement (default false).
        #[serde(default)]
        pub bootstrap: bool,
    }
}

/// Most trees a forest may have (`n_estimators`); scikit-learn's default is 100.
pub const N_ESTIMATORS_LIMIT: usize = 10_000;

/// Largest integer `max_samples`: 2^24 rows per tree (the default `auto` draws at most 256).
pub const MAX_SAMPLES_LIMIT: usize = 1 << 24;

/// Largest integer `max_features` (2^20).
pub const MAX_FEATURES_LIMIT: usize = 1 << 20;

/// Most tree samples a forest may be grown on: `n_estimators` x the rows drawn per tree, 2^26
/// (67,108,864; e.g. 1,000 trees of 65,536 rows). A tree holds at most two 28-byte nodes per
/// sample, so this bounds a forest at about 3.8 GB. Checked when fitting, when the row count
/// is known.
pub const FOREST_SAMPLES_LIMIT: usize = 1 << 26;

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
        if !(1..=N_ESTIMATORS_LIMIT).contains(&self.n_estimators) {
            return Err(InvalidParam::new(
                "n_estimators",
                format!(
                    "is {}: expected 1..={N_ESTIMATORS_LIMIT} trees",
                    self.n_estimators
                ),
            ));
        }
        let samples = || {
            format!(
                "expected `auto`, an integer in 1..={MAX_SAMPLES_LIMIT} or a fraction in (0, 1]"
            )
        };
        match self.max_samples {
            MaxSamples::Count(c) if !(1..=MAX_SAMPLES_LIMIT).contains(&c) => {
                return Err(InvalidParam::new(
                    "max_samples",
                    format!("is {c}: {}", samples()),
                ));
            }
            MaxSamples::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(InvalidParam::new(
                    "max_samples",
                    format!("is {f}: {}", samples()),
                ));
            }
            _ => {}
        }
        let features = || {
            format!(
                "expected an integer in 1..={MAX_FEATURES_LIMIT} (at most the number of features) \
                 or a fraction in (0, 1]"
            )
        };
        match self.max_features {
            MaxFeatures::Count(c) if !(1..=MAX_FEATURES_LIMIT).contains(&c) => Err(
                InvalidParam::new("max_features", format!("is {c}: {}", features())),
            ),
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => Err(InvalidParam::new(
                "max_features",
                format!("is {f}: {}", features()),
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

    /// An integer `max_samples` above the row count, which is clamped to it.
    fn fit_notes(&self, n_rows: usize, _n_features: usize) -> Vec<String> {
        match self.max_samples {
            MaxSamples::Count(c) if c > n_rows => vec![format!(
                "max_samples {c} is more than the {n_rows} fit rows; used {n_rows}"
            )],
            _ => Vec::new(),
        }
    }

    /// `n_estimators` trees, grown on at most as many rows as `max_samples` allows.
    fn check_model(&self, model: &IsolationForestModel) -> Result<(), String> {
        let trees = model.trees().len();
        if trees != self.n_estimators {
            return Err(format!(
                "the forest has {trees} `trees` but the config's `n_estimators` is {}",
                self.n_estimators
            ));
        }
        let psi = model.max_samples();
        let most = match self.max_samples {
            MaxSamples::Auto => 256,
            MaxSamples::Count(c) => c,
            MaxSamples::Fraction(_) => MAX_SAMPLES_LIMIT,
        };
        if psi > most {
            return Err(format!(
                "the forest's `max_samples` is {psi} but the config's `max_samples` {} allows at most {most}",
                self.max_samples
            ));
        }
        Ok(())
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

/// As written in YAML: `auto`, the integer or the fraction.
impl std::fmt::Display for MaxSamples {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxSamples::Auto => f.write_str("auto"),
            MaxSamples::Count(c) => write!(f, "{c}"),
            MaxSamples::Fraction(x) => write!(f, "{x}"),
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
