//! The JSON form of a [`FittedDetector`] (`models/<name>.json` in a run directory): model
//! parameters bit-exact, checked for consistency when read.
//!
//! Layout (version [`MODEL_FORMAT_VERSION`]): `format_version`, `name`, `config` (the resolved
//! config), `features`, `medians`, `rule`, `threshold`, `severity`, `model`.

use crate::checked_config::CheckedConfig;
use crate::config::DetectorConfig;
use crate::error::DetectorError;
use crate::fitted::FittedDetector;
use crate::kinds::Model;
use crate::threshold::{SeverityScale, ThresholdRule};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of the JSON model layout written by [`FittedDetector::to_json`].
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The model file as written.
#[derive(Serialize)]
struct ModelFileRef<'a> {
    format_version: u32,
    name: &'a str,
    config: DetectorConfig,
    features: &'a [String],
    #[serde(serialize_with = "crate::exact_f64::vec::serialize")]
    medians: &'a [f64],
    rule: ThresholdRule,
    #[serde(with = "crate::exact_f64::scalar")]
    threshold: f64,
    severity: &'a SeverityScale,
    model: &'a Model,
}

/// The model file as read.
#[derive(Deserialize)]
struct ModelFile {
    format_version: u32,
    name: String,
    config: DetectorConfig,
    features: Vec<String>,
    #[serde(with = "crate::exact_f64::vec")]
    medians: Vec<f64>,
    rule: ThresholdRule,
    #[serde(with = "crate::exact_f64::scalar")]
    threshold: f64,
    severity: SeverityScale,
    model: Model,
}

impl Serialize for FittedDetector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ModelFileRef {
            format_version: MODEL_FORMAT_VERSION,
            name: self.config.name(),
            config: self.config.to_config(),
            features: &self.features,
            medians: &self.medians,
            rule: self.config.rule(),
            threshold: self.threshold,
            severity: &self.severity,
            model: &self.model,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for FittedDetector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ModelFile::deserialize(d)?
            .into_detector()
            .map_err(serde::de::Error::custom)
    }
}

impl ModelFile {
    /// Checks the file's consistency (version, config, name, rule, shapes, model).
    fn into_detector(self) -> Result<FittedDetector, DetectorError> {
        if self.format_version != MODEL_FORMAT_VERSION {
            return Err(DetectorError::InvalidModel(format!(
                "format_version is {}, this build reads {MODEL_FORMAT_VERSION}",
                self.format_version
            )));
        }
        let config: CheckedConfig = self.config.check()?;
        if config.name() != self.name {
            return Err(DetectorError::InvalidModel(format!(
                "name `{}` differs from the config's `{}`",
                self.name,
                config.name()
            )));
        }
        if config.rule() != self.rule {
            return Err(DetectorError::InvalidModel(format!(
                "rule `{}` differs from the config's `{}`",
                self.rule,
                config.rule()
            )));
        }
        let d = self.features.len();
        if d == 0 || self.medians.len() != d {
            return Err(DetectorError::InvalidModel(format!(
                "{} features but {} medians",
                d,
                self.medians.len()
            )));
        }
        if !self.severity.is_consistent() {
            return Err(DetectorError::InvalidModel(
                "severity scale is not ascending".into(),
            ));
        }
        self.model.check(d).map_err(DetectorError::InvalidModel)?;
        if self.model.kind() != config.kind() {
            return Err(DetectorError::InvalidModel(format!(
                "the config is a `{}` detector but the model is not",
                config.kind()
            )));
        }
        Ok(FittedDetector {
            config,
            features: self.features,
            medians: self.medians,
            threshold: self.threshold,
            severity: self.severity,
            model: self.model,
        })
    }
}

impl FittedDetector {
    /// The detector as JSON (model parameters bit-exact).
    pub fn to_json(&self) -> Result<String, DetectorError> {
        Ok(serde_json::to_string(self)?)
    }

    /// Reads a detector written by [`FittedDetector::to_json`] and checks its consistency.
    pub fn from_json(json: &str) -> Result<Self, DetectorError> {
        serde_json::from_str::<ModelFile>(json)?.into_detector()
    }
}
