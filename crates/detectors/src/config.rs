//! Detector configuration: what a `detectors:` entry of an experiment YAML file may say.
//!
//! A [`DetectorConfig`] is `kind` + the common keys + the kind's parameters ([`Params`]). The
//! common keys, parsed once into [`CommonKeys`] whatever the kind, are `name` (defaults to the
//! kind) and one threshold rule: `contamination: <fraction>` (`contamination: auto` for kinds
//! that support it, `iforest`) or `threshold: {quantile: q}` / `threshold: {fixed: v}` /
//! `threshold: {k_sigma: k}` (`zscore` only). Without a rule the default is
//! `contamination: 0.05`. Unknown keys are rejected when parsing; values are checked by
//! [`DetectorConfig::check`], which returns a [`CheckedConfig`] that is never checked again.
//!
//! ```
//! use webthreat_detectors::DetectorConfig;
//! let cfg: DetectorConfig = serde_json::from_str(
//!     r#"{"kind": "iforest", "n_estimators": 100, "max_samples": "auto", "contamination": 0.05}"#,
//! ).unwrap();
//! let checked = cfg.check().unwrap();
//! assert_eq!(checked.name(), "iforest");
//! assert_eq!(cfg.name(), "iforest");
//! ```

use crate::checked_config::CheckedConfig;
use crate::detector::CommonKeys;
use crate::error::DetectorError;
use crate::kinds::{Params, RawConfig};
use crate::number_or_auto;
use crate::threshold::ThresholdRule;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Contamination used when a config names no threshold rule.
pub const DEFAULT_CONTAMINATION: f64 = 0.05;

/// One detector entry of an experiment config, as written (absent keys stay absent, so it
/// serializes back to what was given; [`DetectorConfig::resolved`] writes the defaults out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawConfig", into = "RawConfig")]
pub struct DetectorConfig {
    common: CommonKeys,
    params: Params,
}

impl From<RawConfig> for DetectorConfig {
    fn from(raw: RawConfig) -> Self {
        let (common, params) = raw.into_parts();
        Self { common, params }
    }
}

impl From<DetectorConfig> for RawConfig {
    fn from(config: DetectorConfig) -> Self {
        RawConfig::from_parts(config.common, config.params)
    }
}

/// `contamination`: the fraction of training rows expected to be anomalous.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Contamination {
    /// Isolation Forest only: flag rows whose score exceeds 0.5 (scikit-learn's offset -0.5).
    Auto,
    /// Flag scores above the (1 - fraction) percentile of the training scores; fraction in (0, 0.5].
    Fraction(f64),
}

/// `threshold`: a threshold rule other than contamination, written `{quantile: 0.99}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ThresholdSpec {
    /// Flag scores above this quantile (in [0, 1]) of the training scores.
    Quantile(f64),
    /// Flag scores above this fixed value.
    Fixed(f64),
    /// `zscore` only: flag rows with |z| > k (combine `max`) or sum z^2 > k^2 (combine `sum_sq`).
    KSigma(f64),
}

/// Written as the one-key map it is read from (`yaml_serde` would write an enum variant as a
/// YAML tag, `!quantile 0.99`, which it cannot read back into a config).
impl Serialize for ThresholdSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (key, value) = match self {
            Self::Quantile(v) => ("quantile", v),
            Self::Fixed(v) => ("fixed", v),
            Self::KSigma(v) => ("k_sigma", v),
        };
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(key, value)?;
        map.end()
    }
}

impl DetectorConfig {
    /// A config of the kind `params` belong to, with no name and no threshold rule (the
    /// defaults: the kind, `contamination: 0.05`).
    pub fn new(params: impl Into<Params>) -> Self {
        Self {
            common: CommonKeys::default(),
            params: params.into(),
        }
    }

    /// The detector kind as written in YAML (`iforest`, `zscore`, `autoencoder`).
    pub fn kind(&self) -> &'static str {
        self.params.kind()
    }

    /// The detector's name in outputs: `name` when given, else the kind.
    pub fn name(&self) -> &str {
        self.common.name.as_deref().unwrap_or(self.kind())
    }

    /// The kind's parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The common keys as written.
    pub fn common(&self) -> &CommonKeys {
        &self.common
    }

    fn invalid(&self, key: &'static str, message: String) -> DetectorError {
        DetectorError::InvalidConfig {
            detector: self.name().to_string(),
            key,
            message,
        }
    }

    /// The threshold rule this config asks for (the kind's default when none is given:
    /// `contamination: 0.05` for the learning kinds),
    /// its value not yet checked (see [`DetectorConfig::check`]).
    ///
    /// Fails when both `contamination` and `threshold` are given.
    pub fn threshold_rule(&self) -> Result<ThresholdRule, DetectorError> {
        match (self.common.contamination, self.common.threshold) {
            (Some(_), Some(_)) => Err(self.invalid(
                "threshold",
                "and `contamination` are both set: give exactly one threshold rule".to_string(),
            )),
            (Some(Contamination::Auto), None) => Ok(ThresholdRule::ContaminationAuto),
            (Some(Contamination::Fraction(c)), None) => Ok(ThresholdRule::Contamination(c)),
            (None, Some(ThresholdSpec::Quantile(q))) => Ok(ThresholdRule::Quantile(q)),
            (None, Some(ThresholdSpec::Fixed(v))) => Ok(ThresholdRule::Fixed(v)),
            (None, Some(ThresholdSpec::KSigma(k))) => Ok(ThresholdRule::KSigma(k)),
            (None, None) => Ok(self.params.default_rule()),
        }
    }

    /// Replaces the threshold rule (checked by the next [`DetectorConfig::check`]).
    pub fn set_threshold_rule(&mut self, rule: ThresholdRule) {
        self.common.contamination = None;
        self.common.threshold = None;
        match rule {
            ThresholdRule::Contamination(c) => {
                self.common.contamination = Some(Contamination::Fraction(c))
            }
            ThresholdRule::ContaminationAuto => {
                self.common.contamination = Some(Contamination::Auto)
            }
            ThresholdRule::Quantile(q) => self.common.threshold = Some(ThresholdSpec::Quantile(q)),
            ThresholdRule::Fixed(v) => self.common.threshold = Some(ThresholdSpec::Fixed(v)),
            ThresholdRule::KSigma(k) => self.common.threshold = Some(ThresholdSpec::KSigma(k)),
        }
    }

    /// Checks every value once: the name, the kind's parameters, then the threshold rule
    /// (exactly one, in range, supported by the kind). The error names the key, the value and
    /// what was expected.
    pub fn check(&self) -> Result<CheckedConfig, DetectorError> {
        if let Some(name) = &self.common.name {
            let ok = !name.is_empty()
                && !name.starts_with('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return Err(self.invalid(
                    "name",
                    format!(
                        "is {name:?}: expected a non-empty name of letters, digits, '-', '_' or '.' \
                         (not starting with '.'), because it names the model file"
                    ),
                ));
            }
        }
        self.params
            .check()
            .map_err(|e| self.invalid(e.key, e.message))?;
        let rule = self.threshold_rule()?;
        rule.check_for(self.kind())
            .map_err(|message| self.invalid(rule.key(), message))?;
        Ok(CheckedConfig::new(
            self.name().to_string(),
            rule,
            self.params.clone(),
        ))
    }

    /// [`DetectorConfig::check`], keeping only the verdict.
    pub fn validate(&self) -> Result<(), DetectorError> {
        self.check().map(drop)
    }

    /// The same config with every default made explicit: `name` set (to the kind when absent)
    /// and the threshold rule written out. Serializing a resolved config and reading it back
    /// gives an equal config.
    pub fn resolved(&self) -> Result<DetectorConfig, DetectorError> {
        Ok(self.check()?.to_config())
    }

    /// A config with every key written out (what [`CheckedConfig::to_config`] builds).
    pub(crate) fn explicit(name: &str, rule: ThresholdRule, params: Params) -> Self {
        let mut config = Self {
            common: CommonKeys {
                name: Some(name.to_string()),
                ..CommonKeys::default()
            },
            params,
        };
        config.set_threshold_rule(rule);
        config
    }
}

// ---- serde for the number-or-keyword value ----

impl Serialize for Contamination {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Contamination::Auto => s.serialize_str("auto"),
            Contamination::Fraction(f) => s.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for Contamination {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        number_or_auto::number_or_auto(
            d,
            "a fraction in (0, 0.5] or `auto`",
            Contamination::Auto,
            |v| Contamination::Fraction(v as f64),
            Contamination::Fraction,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iforest::{MaxFeatures, MaxSamples};
    use crate::zscore::ZScoreParams;

    fn parse(json: &str) -> Result<DetectorConfig, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_documented_examples_parse_with_defaults() {
        let c = parse(r#"{"kind": "iforest", "n_estimators": 100, "max_samples": "auto", "contamination": 0.05}"#)
            .unwrap();
        c.validate().unwrap();
        let Params::IsolationForest(p) = c.params() else {
            panic!("{c:?}")
        };
        assert_eq!(p.max_samples, MaxSamples::Auto);
        assert_eq!(p.max_features, MaxFeatures::Fraction(1.0));
        assert!(!p.bootstrap);
        assert_eq!(
            c.threshold_rule().unwrap(),
            ThresholdRule::Contamination(0.05)
        );
        assert_eq!(c.name(), "iforest");

        let c = parse(r#"{"kind": "zscore", "contamination": 0.05}"#).unwrap();
        c.validate().unwrap();
        assert_eq!(
            c,
            DetectorConfig {
                common: CommonKeys {
                    contamination: Some(Contamination::Fraction(0.05)),
                    ..Default::default()
                },
                params: Params::ZScore(ZScoreParams::default()),
            }
        );

        let c = parse(
            r#"{"kind": "autoencoder", "hidden": [8, 3], "epochs": 200, "contamination": 0.05}"#,
        )
        .unwrap();
        c.validate().unwrap();
        let Params::Autoencoder(p) = c.params() else {
            panic!("{c:?}")
        };
        assert_eq!(
            (p.epochs, p.batch_size, p.max_train_rows),
            (200, 64, 20_000)
        );
    }

    #[test]
    fn number_or_keyword_values() {
        let c = parse(r#"{"kind": "iforest", "max_samples": 128, "max_features": 2, "contamination": "auto", "name": "forest-a"}"#)
            .unwrap();
        c.validate().unwrap();
        let Params::IsolationForest(p) = c.params() else {
            panic!()
        };
        assert_eq!(p.max_samples, MaxSamples::Count(128));
        assert_eq!(p.max_features, MaxFeatures::Count(2));
        assert_eq!(
            c.threshold_rule().unwrap(),
            ThresholdRule::ContaminationAuto
        );
        assert_eq!(c.name(), "forest-a");
        let c = parse(r#"{"kind": "iforest", "max_samples": 0.5, "max_features": 0.5}"#).unwrap();
        let Params::IsolationForest(p) = c.params() else {
            panic!()
        };
        assert_eq!(p.max_samples, MaxSamples::Fraction(0.5));
        assert_eq!(p.max_samples.resolve(1001), 500);
        assert_eq!(MaxSamples::Auto.resolve(100), 100);
        assert_eq!(MaxSamples::Count(300).resolve(100), 100);
        assert_eq!(p.max_features.resolve(5, "x").unwrap(), 2);
        // default rule
        assert_eq!(
            c.threshold_rule().unwrap(),
            ThresholdRule::Contamination(0.05)
        );
    }

    #[test]
    fn threshold_specs_parse() {
        let c = parse(r#"{"kind": "zscore", "threshold": {"k_sigma": 3.0}, "center": "median", "combine": "sum_sq"}"#)
            .unwrap();
        c.validate().unwrap();
        assert_eq!(c.threshold_rule().unwrap(), ThresholdRule::KSigma(3.0));
        let c = parse(r#"{"kind": "iforest", "threshold": {"quantile": 0.99}}"#).unwrap();
        assert_eq!(c.threshold_rule().unwrap(), ThresholdRule::Quantile(0.99));
        let c = parse(r#"{"kind": "autoencoder", "threshold": {"fixed": 0.6}}"#).unwrap();
        assert_eq!(c.threshold_rule().unwrap(), ThresholdRule::Fixed(0.6));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected_at_parse_time() {
        let err = parse(r#"{"kind": "iforest", "n_trees": 10}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("n_trees"), "{err}");
        let err = parse(r#"{"kind": "forest"}"#).unwrap_err().to_string();
        assert!(err.contains("forest"), "{err}");
        let err = parse(r#"{"kind": "iforest", "max_samples": "all"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("auto"), "{err}");
        let err = parse(r#"{"kind": "zscore", "max_features": "auto"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_features"), "{err}");
        let err = parse(r#"{"kind": "zscore", "threshold": {"sigma": 3}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("sigma"), "{err}");
        let err = parse(r#"{"kind": "iforest", "max_samples": -3}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("-3"), "{err}");
    }

    #[test]
    fn validation_names_key_value_and_expectation() {
        let cases = [
            (
                r#"{"kind": "iforest", "max_samples": 0}"#,
                "max_samples",
                "is 0",
            ),
            (
                r#"{"kind": "iforest", "max_samples": 1.5}"#,
                "max_samples",
                "1.5",
            ),
            (
                r#"{"kind": "iforest", "n_estimators": 0}"#,
                "n_estimators",
                "is 0",
            ),
            (
                r#"{"kind": "iforest", "max_features": 0}"#,
                "max_features",
                "is 0",
            ),
            (
                r#"{"kind": "iforest", "contamination": 0.7}"#,
                "contamination",
                "(0, 0.5]",
            ),
            (
                r#"{"kind": "iforest", "contamination": 0}"#,
                "contamination",
                "is 0",
            ),
            (
                r#"{"kind": "zscore", "contamination": "auto"}"#,
                "contamination",
                "only `iforest`",
            ),
            (
                r#"{"kind": "iforest", "threshold": {"k_sigma": 3}}"#,
                "threshold",
                "zscore",
            ),
            (
                r#"{"kind": "iforest", "threshold": {"quantile": 1.2}}"#,
                "threshold",
                "[0, 1]",
            ),
            (
                r#"{"kind": "iforest", "threshold": {"fixed": 0.6}, "contamination": 0.1}"#,
                "threshold",
                "exactly one",
            ),
            (
                r#"{"kind": "autoencoder", "hidden": [8, 0]}"#,
                "hidden",
                "width 0",
            ),
            (
                r#"{"kind": "autoencoder", "hidden": []}"#,
                "hidden",
                "is empty",
            ),
            (r#"{"kind": "autoencoder", "epochs": 0}"#, "epochs", "is 0"),
            (
                r#"{"kind": "autoencoder", "batch_size": 0}"#,
                "batch_size",
                "is 0",
            ),
            (
                r#"{"kind": "autoencoder", "learning_rate": -1}"#,
                "learning_rate",
                "-1",
            ),
            (
                r#"{"kind": "autoencoder", "max_train_rows": 0}"#,
                "max_train_rows",
                "is 0",
            ),
            (r#"{"kind": "zscore", "name": "a/b"}"#, "name", "a/b"),
        ];
        for (json, key, fragment) in cases {
            let err = parse(json).unwrap().validate().unwrap_err();
            let DetectorError::InvalidConfig { key: k, .. } = &err else {
                panic!("{err:?}")
            };
            let text = err.to_string();
            assert_eq!(*k, key, "{json}: {text}");
            assert!(text.contains(fragment), "{json}: {text}");
        }
    }

    #[test]
    fn resolved_configs_fill_defaults_and_round_trip() {
        for json in [
            r#"{"kind": "iforest"}"#,
            r#"{"kind": "iforest", "max_samples": 0.25, "max_features": 3, "contamination": "auto", "name": "f"}"#,
            r#"{"kind": "zscore", "threshold": {"k_sigma": 2.5}}"#,
            r#"{"kind": "autoencoder", "hidden": [4], "threshold": {"quantile": 0.9}}"#,
        ] {
            let resolved = parse(json).unwrap().resolved().unwrap();
            let text = serde_json::to_string(&resolved).unwrap();
            assert!(text.contains("\"name\""), "{text}");
            assert!(
                text.contains("contamination") || text.contains("threshold"),
                "{text}"
            );
            let back = parse(&text).unwrap();
            assert_eq!(back, resolved, "{text}");
            assert_eq!(back.resolved().unwrap(), resolved);
        }
        let text =
            serde_json::to_string(&parse(r#"{"kind": "iforest"}"#).unwrap().resolved().unwrap())
                .unwrap();
        assert_eq!(
            text,
            r#"{"kind":"iforest","name":"iforest","n_estimators":100,"max_samples":"auto","max_features":1.0,"bootstrap":false,"contamination":0.05}"#
        );
    }
}
