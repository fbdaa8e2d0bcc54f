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
