//! Detector configuration: what a `detectors:` entry of an experiment YAML file may say.
//!
//! [`DetectorConfig`] is internally tagged by `kind` (`iforest`, `zscore`, `autoencoder`); each
//! variant's params struct rejects unknown keys and fills in defaults. Every variant accepts the
//! common keys `name` (defaults to the kind) and one threshold rule: `contamination: <fraction>`
//! (`contamination: auto` for `iforest` only) or `threshold: {quantile: q}` /
//! `threshold: {fixed: v}` / `threshold: {k_sigma: k}` (`zscore` only). Without a rule the
//! default is `contamination: 0.05` for every detector.
//!
//! ```
//! use webthreat_detectors::DetectorConfig;
//! let cfg: DetectorConfig = serde_json::from_str(
//!     r#"{"kind": "iforest", "n_estimators": 100, "max_samples": "auto", "contamination": 0.05}"#,
//! ).unwrap();
//! cfg.validate().unwrap();
//! assert_eq!(cfg.name(), "iforest");
//! ```

use crate::error::DetectorError;
use crate::threshold::ThresholdRule;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Contamination used when a config names no threshold rule.
pub const DEFAULT_CONTAMINATION: f64 = 0.05;

/// One detector entry of an experiment config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum DetectorConfig {
    /// Isolation Forest (`kind: iforest`).
    #[serde(rename = "iforest")]
    IsolationForest(IsolationForestParams),
    /// Per-feature standard scores (`kind: zscore`).
    #[serde(rename = "zscore")]
    ZScore(ZScoreParams),
    /// Reconstruction error of a small MLP autoencoder (`kind: autoencoder`).
    #[serde(rename = "autoencoder")]
    Autoencoder(AutoencoderParams),
}

/// Parameters of `kind: iforest` (names and meaning as scikit-learn's `IsolationForest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationForestParams {
    /// Name in outputs; defaults to `iforest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    /// Fraction of training rows to flag, or `auto` (flag score > 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contamination: Option<Contamination>,
    /// Alternative threshold rule: `{quantile: q}` or `{fixed: v}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdSpec>,
}

/// Parameters of `kind: zscore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZScoreParams {
    /// Name in outputs; defaults to `zscore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Center and spread: `mean` (mean / standard deviation, the default) or `median`
    /// (median / MAD x 1.4826).
    #[serde(default)]
    pub center: Center,
    /// How per-feature scores combine into a row score: `max` |z| (default) or `sum_sq` (sum of z^2).
    #[serde(default)]
    pub combine: Combine,
    /// Fraction of training rows to flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contamination: Option<Contamination>,
    /// Alternative threshold rule: `{quantile: q}`, `{fixed: v}` or `{k_sigma: k}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdSpec>,
}

/// Parameters of `kind: autoencoder`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderParams {
    /// Name in outputs; defaults to `autoencoder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    /// Fraction of training rows to flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contamination: Option<Contamination>,
    /// Alternative threshold rule: `{quantile: q}` or `{fixed: v}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdSpec>,
}

fn default_n_estimators() -> usize {
    100
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

impl Default for IsolationForestParams {
    fn default() -> Self {
        Self {
            name: None,
            n_estimators: default_n_estimators(),
            max_samples: MaxSamples::Auto,
            max_features: MaxFeatures::default(),
            bootstrap: false,
            contamination: None,
            threshold: None,
        }
    }
}

impl Default for ZScoreParams {
    fn default() -> Self {
        Self {
            name: None,
            center: Center::Mean,
            combine: Combine::Max,
            contamination: None,
            threshold: None,
        }
    }
}

impl Default for AutoencoderParams {
    fn default() -> Self {
        Self {
            name: None,
            hidden: default_hidden(),
            epochs: default_epochs(),
            learning_rate: default_learning_rate(),
            batch_size: default_batch_size(),
            max_train_rows: default_max_train_rows(),
            contamination: None,
            threshold: None,
        }
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

/// `contamination`: the fraction of training rows expected to be anomalous.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Contamination {
    /// Isolation Forest only: flag rows whose score exceeds 0.5 (scikit-learn's offset -0.5).
    Auto,
    /// Flag scores above the (1 - fraction) percentile of the training scores; fraction in (0, 0.5].
    Fraction(f64),
}

/// `threshold`: a threshold rule other than contamination.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ThresholdSpec {
    /// Flag scores above this quantile (in [0, 1]) of the training scores.
    Quantile(f64),
    /// Flag scores above this fixed value.
    Fixed(f64),
    /// `zscore` only: flag rows with |z| > k (combine `max`) or sum z^2 > k^2 (combine `sum_sq`).
    KSigma(f64),
}

/// Center and spread of the z-score detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Center {
    /// Mean and population standard deviation.
    #[default]
    Mean,
    /// Median and MAD x 1.4826 (consistent with the standard deviation for normal data).
    Median,
}

/// How the z-score detector combines per-feature scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The largest |z| of the row.
    #[default]
    Max,
    /// The sum of z^2 over the row's features.
    SumSq,
}

impl DetectorConfig {
    /// The detector kind as written in YAML (`iforest`, `zscore`, `autoencoder`).
    pub fn kind(&self) -> &'static str {
        match self {
            DetectorConfig::IsolationForest(_) => "iforest",
            DetectorConfig::ZScore(_) => "zscore",
            DetectorConfig::Autoencoder(_) => "autoencoder",
        }
    }

    /// The detector's name in outputs: `name` when given, else the kind.
    pub fn name(&self) -> &str {
        self.name_field().unwrap_or(self.kind())
    }

    fn name_field(&self) -> Option<&str> {
        match self {
            DetectorConfig::IsolationForest(p) => p.name.as_deref(),
            DetectorConfig::ZScore(p) => p.name.as_deref(),
            DetectorConfig::Autoencoder(p) => p.name.as_deref(),
        }
    }

    fn rule_fields(&self) -> (Option<Contamination>, Option<ThresholdSpec>) {
        match self {
            DetectorConfig::IsolationForest(p) => (p.contamination, p.threshold),
            DetectorConfig::ZScore(p) => (p.contamination, p.threshold),
            DetectorConfig::Autoencoder(p) => (p.contamination, p.threshold),
        }
    }

    fn rule_fields_mut(&mut self) -> (&mut Option<Contamination>, &mut Option<ThresholdSpec>) {
        match self {
            DetectorConfig::IsolationForest(p) => (&mut p.contamination, &mut p.threshold),
            DetectorConfig::ZScore(p) => (&mut p.contamination, &mut p.threshold),
            DetectorConfig::Autoencoder(p) => (&mut p.contamination, &mut p.threshold),
        }
    }

    fn invalid(&self, key: &'static str, message: String) -> DetectorError {
        DetectorError::InvalidConfig {
            detector: self.name().to_string(),
            key,
            message,
        }
    }

    /// The threshold rule this config asks for (`contamination: 0.05` when none is given).
    ///
    /// Fails when both `contamination` and `threshold` are given.
    pub fn threshold_rule(&self) -> Result<ThresholdRule, DetectorError> {
        match self.rule_fields() {
            (Some(_), Some(_)) => Err(self.invalid(
                "threshold",
                "and `contamination` are both set: give exactly one threshold rule".to_string(),
            )),
            (Some(Contamination::Auto), None) => Ok(ThresholdRule::ContaminationAuto),
            (Some(Contamination::Fraction(c)), None) => Ok(ThresholdRule::Contamination(c)),
            (None, Some(ThresholdSpec::Quantile(q))) => Ok(ThresholdRule::Quantile(q)),
            (None, Some(ThresholdSpec::Fixed(v))) => Ok(ThresholdRule::Fixed(v)),
            (None, Some(ThresholdSpec::KSigma(k))) => Ok(ThresholdRule::KSigma(k)),
            (None, None) => Ok(ThresholdRule::Contamination(DEFAULT_CONTAMINATION)),
        }
    }

    /// Replaces the threshold rule (the rule is assumed valid for this kind; see
    /// [`ThresholdRule::check_for`]).
    pub fn set_threshold_rule(&mut self, rule: ThresholdRule) {
        let (contamination, threshold) = self.rule_fields_mut();
        *contamination = None;
        *threshold = None;
        match rule {
            ThresholdRule::Contamination(c) => *contamination = Some(Contamination::Fraction(c)),
            ThresholdRule::ContaminationAuto => *contamination = Some(Contamination::Auto),
            ThresholdRule::Quantile(q) => *threshold = Some(ThresholdSpec::Quantile(q)),
            ThresholdRule::Fixed(v) => *threshold = Some(ThresholdSpec::Fixed(v)),
            ThresholdRule::KSigma(k) => *threshold = Some(ThresholdSpec::KSigma(k)),
        }
    }

    /// The same config with every default made explicit: `name` set (to the kind when absent)
    /// and the threshold rule written out. Serializing a resolved config and reading it back
    /// gives an equal config.
    pub fn resolved(&self) -> Result<DetectorConfig, DetectorError> {
        self.validate()?;
        let mut out = self.clone();
        let name = self.name().to_string();
        let rule = self.threshold_rule()?;
        match &mut out {
            DetectorConfig::IsolationForest(p) => p.name = Some(name),
            DetectorConfig::ZScore(p) => p.name = Some(name),
            DetectorConfig::Autoencoder(p) => p.name = Some(name),
        }
        out.set_threshold_rule(rule);
        Ok(out)
    }

    /// Checks every value; the error names the key, the value and what was expected.
    pub fn validate(&self) -> Result<(), DetectorError> {
        if let Some(name) = self.name_field() {
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
        match self {
            DetectorConfig::IsolationForest(p) => self.validate_iforest(p)?,
            DetectorConfig::ZScore(_) => {}
            DetectorConfig::Autoencoder(p) => self.validate_autoencoder(p)?,
        }
        let rule = self.threshold_rule()?;
        rule.check_for(self.kind())
            .map_err(|message| self.invalid(rule.key(), message))
    }

    fn validate_iforest(&self, p: &IsolationForestParams) -> Result<(), DetectorError> {
        if p.n_estimators == 0 {
            return Err(self.invalid("n_estimators", "is 0: expected at least 1 tree".into()));
        }
        match p.max_samples {
            MaxSamples::Count(0) => {
                return Err(self.invalid(
                    "max_samples",
                    "is 0: expected `auto`, an integer >= 1 or a fraction in (0, 1]".into(),
                ));
            }
            MaxSamples::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(self.invalid(
                    "max_samples",
                    format!("is {f}: expected `auto`, an integer >= 1 or a fraction in (0, 1]"),
                ));
            }
            _ => {}
        }
        match p.max_features {
            MaxFeatures::Count(0) => Err(self.invalid(
                "max_features",
                "is 0: expected an integer >= 1 or a fraction in (0, 1]".into(),
            )),
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => Err(self.invalid(
                "max_features",
                format!("is {f}: expected an integer >= 1 or a fraction in (0, 1]"),
            )),
            _ => Ok(()),
        }
    }

    fn validate_autoencoder(&self, p: &AutoencoderParams) -> Result<(), DetectorError> {
        if p.hidden.is_empty() {
            return Err(self.invalid(
                "hidden",
                "is empty: expected at least one hidden layer width, e.g. [8, 3]".into(),
            ));
        }
        if let Some(pos) = p.hidden.iter().position(|&h| h == 0) {
            return Err(self.invalid(
                "hidden",
                format!(
                    "{:?} has width 0 at position {pos}: every layer needs at least 1 unit",
                    p.hidden
                ),
            ));
        }
        if p.epochs == 0 {
            return Err(self.invalid("epochs", "is 0: expected at least 1".into()));
        }
        if !(p.learning_rate.is_finite() && p.learning_rate > 0.0) {
            return Err(self.invalid(
                "learning_rate",
                format!(
                    "is {}: expected a positive number such as 0.001",
                    p.learning_rate
                ),
            ));
        }
        if p.batch_size == 0 {
            return Err(self.invalid("batch_size", "is 0: expected at least 1".into()));
        }
        if p.max_train_rows == 0 {
            return Err(self.invalid("max_train_rows", "is 0: expected at least 1".into()));
        }
        Ok(())
    }
}

// ---- serde for the number-or-keyword values ----

fn number_or_auto<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    auto: T,
    from_int: fn(u64) -> T,
    from_float: fn(f64) -> T,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V<T> {
        expecting: &'static str,
        auto: Option<T>,
        from_int: fn(u64) -> T,
        from_float: fn(f64) -> T,
    }
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            Ok((self.from_int)(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            u64::try_from(v)
                .map(self.from_int)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            Ok((self.from_float)(v))
        }
        fn visit_str<E: de::Error>(mut self, v: &str) -> Result<T, E> {
            match self.auto.take() {
                Some(auto) if v == "auto" => Ok(auto),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
    }
    deserializer.deserialize_any(V {
        expecting,
        auto: Some(auto),
        from_int,
        from_float,
    })
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
        number_or_auto(
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
        let parsed = number_or_auto(
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
        number_or_auto(
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

    fn parse(json: &str) -> Result<DetectorConfig, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_documented_examples_parse_with_defaults() {
        let c = parse(r#"{"kind": "iforest", "n_estimators": 100, "max_samples": "auto", "contamination": 0.05}"#)
            .unwrap();
        c.validate().unwrap();
        let DetectorConfig::IsolationForest(p) = &c else {
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
            DetectorConfig::ZScore(ZScoreParams {
                contamination: Some(Contamination::Fraction(0.05)),
                ..Default::default()
            })
        );

        let c = parse(
            r#"{"kind": "autoencoder", "hidden": [8, 3], "epochs": 200, "contamination": 0.05}"#,
        )
        .unwrap();
        c.validate().unwrap();
        let DetectorConfig::Autoencoder(p) = &c else {
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
        let DetectorConfig::IsolationForest(p) = &c else {
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
        let DetectorConfig::IsolationForest(p) = &c else {
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
