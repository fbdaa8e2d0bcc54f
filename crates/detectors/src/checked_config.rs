//! A detector config whose values have been checked: what fitting and thresholding work with.

use crate::config::DetectorConfig;
use crate::kinds::Params;
use crate::threshold::ThresholdRule;

/// A checked detector config (from [`DetectorConfig::check`]): the name with its default
/// applied, a threshold rule that is in range and supported by the kind, and the kind's
/// parameters. Nothing downstream checks them again.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedConfig {
    name: String,
    rule: ThresholdRule,
    params: Params,
}

impl CheckedConfig {
    /// Built only by [`DetectorConfig::check`] and [`CheckedConfig::with_rule`].
    pub(crate) fn new(name: String, rule: ThresholdRule, params: Params) -> Self {
        Self { name, rule, params }
    }

    /// The detector's name in outputs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `iforest`, `zscore` or `autoencoder`.
    pub fn kind(&self) -> &'static str {
        self.params.kind()
    }

    /// The threshold rule.
    pub fn rule(&self) -> ThresholdRule {
        self.rule
    }

    /// The kind's parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The same config with another threshold rule, which is checked for this kind; the error
    /// says what is wrong with the rule.
    pub fn with_rule(&self, rule: ThresholdRule) -> Result<CheckedConfig, String> {
        rule.check_for(self.kind())?;
        Ok(Self {
            rule,
            ..self.clone()
        })
    }

    /// The resolved config: every default written out (`name` and the threshold rule).
    pub fn to_config(&self) -> DetectorConfig {
        DetectorConfig::explicit(&self.name, self.rule, self.params.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(json: &str) -> CheckedConfig {
        serde_json::from_str::<DetectorConfig>(json)
            .unwrap()
            .check()
            .unwrap()
    }

    #[test]
    fn defaults_are_applied_once_at_check_time() {
        let c = checked(r#"{"kind": "zscore"}"#);
        assert_eq!((c.name(), c.kind()), ("zscore", "zscore"));
        assert_eq!(c.rule(), ThresholdRule::Contamination(0.05));
        let c = checked(r#"{"kind": "iforest", "name": "f", "contamination": "auto"}"#);
        assert_eq!(
            (c.name(), c.rule()),
            ("f", ThresholdRule::ContaminationAuto)
        );
    }

    #[test]
    fn with_rule_checks_the_rule_for_the_kind() {
        let c = checked(r#"{"kind": "autoencoder"}"#);
        let err = c.with_rule(ThresholdRule::KSigma(3.0)).unwrap_err();
        assert!(err.contains("only applies to `zscore`"), "{err}");
        assert!(c.with_rule(ThresholdRule::Quantile(1.5)).is_err());
        let q = c.with_rule(ThresholdRule::Quantile(0.9)).unwrap();
        assert_eq!(q.rule(), ThresholdRule::Quantile(0.9));
        assert_eq!(q.params(), c.params());
    }

    #[test]
    fn to_config_is_the_resolved_config_and_checks_back_to_itself() {
        let raw: DetectorConfig =
            serde_json::from_str(r#"{"kind": "zscore", "threshold": {"fixed": 2}}"#).unwrap();
        let c = raw.check().unwrap();
        assert_eq!(c.to_config(), raw.resolved().unwrap());
        assert_eq!(c.to_config().check().unwrap(), c);
    }
}
