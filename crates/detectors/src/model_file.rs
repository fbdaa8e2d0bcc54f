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

/// The model file as read; every field names itself in deserialization errors.
#[derive(Deserialize)]
struct ModelFile {
    #[serde(deserialize_with = "de_format_version")]
    format_version: u32,
    #[serde(deserialize_with = "de_name")]
    name: String,
    #[serde(deserialize_with = "de_config")]
    config: DetectorConfig,
    #[serde(deserialize_with = "de_features")]
    features: Vec<String>,
    #[serde(deserialize_with = "de_medians")]
    medians: Vec<f64>,
    #[serde(deserialize_with = "de_rule")]
    rule: ThresholdRule,
    #[serde(deserialize_with = "de_threshold")]
    threshold: f64,
    #[serde(deserialize_with = "de_severity")]
    severity: SeverityScale,
    #[serde(deserialize_with = "de_model")]
    model: Model,
}

crate::named::named_fields! {
    de_format_version: u32 = "format_version";
    de_name: String = "name";
    de_config: DetectorConfig = "config";
    de_features: Vec<String> = "features";
    de_medians: Vec<f64> = "medians" via crate::exact_f64::vec::deserialize;
    de_rule: ThresholdRule = "rule";
    de_threshold: f64 = "threshold" via crate::exact_f64::scalar::deserialize;
    de_severity: SeverityScale = "severity";
    de_model: Model = "model";
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
        config
            .params()
            .check_model(&self.model)
            .map_err(DetectorError::InvalidModel)?;
        check_threshold(self.threshold, config.rule(), &self.model, &self.severity)
            .map_err(DetectorError::InvalidModel)?;
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

/// Checks a loaded `threshold` (finite, as deserialization checked) against the rule it came
/// from: exactly the rule's value for rules that do not depend on the training scores
/// (`fixed`, `k_sigma`, `contamination: auto`), else within the training scores (the severity
/// scale's range), as a percentile of them is.
fn check_threshold(
    threshold: f64,
    rule: ThresholdRule,
    model: &Model,
    severity: &SeverityScale,
) -> Result<(), String> {
    if rule.uses_training_scores() {
        let Some((low, high)) = severity.bounds() else {
            return Err("the severity scale is empty".into());
        };
        if !(low..=high).contains(&threshold) {
            return Err(format!(
                "`threshold` is {threshold:?}, outside the training scores [{low:?}, {high:?}] \
                 that rule `{rule}` takes a percentile of"
            ));
        }
        return Ok(());
    }
    let want = rule
        .apply(model, &[])
        .map_err(|e| format!("`threshold` of rule `{rule}`: {e}"))?;
    // the rule's value went through a plain JSON number, which may be read back a bit off
    let off = (threshold - want).abs();
    if off.is_nan() || off > want.abs() * 1e-12 {
        return Err(format!(
            "`threshold` is {threshold:?} but rule `{rule}` gives {want:?}"
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use webthreat_core::FeatureMatrix;

    fn fitted(json: &str) -> FittedDetector {
        let rows: Vec<Vec<f64>> = (0..40)
            .map(|i| vec![(i % 9) as f64, (i % 5) as f64])
            .collect();
        let m = FeatureMatrix::from_rows(vec!["a".into(), "b".into()], &rows).unwrap();
        let config: DetectorConfig = serde_json::from_str(json).unwrap();
        crate::train(&config, &m, 3, None).unwrap().detector
    }

    #[test]
    fn round_trips_through_serde_and_from_json() {
        let det = fitted(r#"{"kind": "zscore", "name": "z"}"#);
        let json = det.to_json().unwrap();
        assert_eq!(FittedDetector::from_json(&json).unwrap(), det);
        assert_eq!(serde_json::from_str::<FittedDetector>(&json).unwrap(), det);
    }

    #[test]
    fn inconsistent_files_are_rejected() {
        let json = fitted(r#"{"kind": "zscore", "name": "z"}"#)
            .to_json()
            .unwrap();
        let cases = [
            json.replacen(r#""name":"z""#, r#""name":"y""#, 1),
            json.replacen(
                r#""rule":{"contamination":0.05}"#,
                r#""rule":{"fixed":1.0}"#,
                1,
            ),
            // a z-score config with an autoencoder model
            format!("{}{}", &json[..json.find(r#""model":"#).unwrap()], {
                let other = fitted(r#"{"kind": "autoencoder", "epochs": 1}"#)
                    .to_json()
                    .unwrap();
                other[other.find(r#""model":"#).unwrap()..].to_string()
            }),
        ];
        for bad in cases {
            assert_ne!(bad, json);
            let err = FittedDetector::from_json(&bad).unwrap_err();
            assert!(matches!(err, DetectorError::InvalidModel(_)), "{err}");
        }
    }
}
