//! Parameters of `kind: beacon` and `kind: intel` and their [`Detector`] implementations.

use super::FeatureRule;
use crate::detector::{Detector, InvalidParam, Reads, detector_params};
use crate::error::DetectorError;
use crate::threshold::ThresholdRule;
use serde::{Deserialize, Serialize};
use webthreat_core::FeatureMatrix;

/// The feature `kind: beacon` reads.
pub const BEACON_FEATURE: &str = "beacon_score";
/// The feature `kind: intel` reads.
pub const INTEL_FEATURE: &str = "intel_match";

/// The most networks `internal_networks` may list.
const NETWORKS_LIMIT: usize = 100_000;

detector_params! {
    /// Parameters of `kind: beacon`: the pair analysis behind the `beacon_score` feature.
    pub struct BeaconParams / BeaconKeys {
        /// Pairs with fewer connections are not scored (their rows score 0); at least 4.
        #[serde(default = "default_min_connections")]
        pub min_connections: usize,
        /// Time buckets (and size buckets) a pair keeps at most: the memory bound per pair.
        #[serde(default = "default_max_points")]
        pub max_points: usize,
        /// The networks whose addresses are internal (CIDRs or addresses); absent = the
        /// private, link-local and loopback ranges.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub internal_networks: Option<Vec<String>>,
        /// Which pairs are analysed: `outbound` (internal source to external destination,
        /// the default, as RITA does) or `any`.
        #[serde(default)]
        pub direction: Direction,
    }
}

fn default_min_connections() -> usize {
    10
}

fn default_max_points() -> usize {
    4096
}

impl BeaconParams {
    /// The limits of the pair analysis these parameters ask for.
    pub fn limits(&self) -> webthreat_beacon::BeaconParams {
        webthreat_beacon::BeaconParams {
            min_connections: self.min_connections,
            max_points: self.max_points,
        }
    }

    fn value_of(&self, key: &str) -> usize {
        match key {
            "min_connections" => self.min_connections,
            _ => self.max_points,
        }
    }
}

impl Default for BeaconParams {
    fn default() -> Self {
        Self {
            min_connections: default_min_connections(),
            max_points: default_max_points(),
            internal_networks: None,
            direction: Direction::Outbound,
        }
    }
}

/// Which connection pairs the beacon analysis looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From an internal source to an external destination.
    #[default]
    Outbound,
    /// Every pair.
    Any,
}

detector_params! {
    /// Parameters of `kind: intel` (none: the lists are the run's `intel:` section).
    #[derive(Default)]
    pub struct IntelParams / IntelKeys {}
}

fn fit_rule(
    feature: &'static str,
    name: &str,
    data: &FeatureMatrix,
) -> Result<FeatureRule, DetectorError> {
    if data.names() != [feature] {
        return Err(DetectorError::FeatureMismatch {
            detector: name.to_string(),
            expected: vec![feature.to_string()],
            got: data.names().to_vec(),
        });
    }
    Ok(FeatureRule::new(feature))
}

fn check_rule_model(feature: &str, model: &FeatureRule) -> Result<(), String> {
    if model.feature() != feature {
        return Err(format!(
            "feature: is {:?}, expected {feature:?}",
            webthreat_core::text::visible(model.feature())
        ));
    }
    Ok(())
}

impl Detector for BeaconParams {
    type Model = FeatureRule;
    type Keys = BeaconKeys;

    fn check(&self) -> Result<(), InvalidParam> {
        self.limits().check().map_err(|e| match e {
            webthreat_beacon::BeaconError::InvalidParam { key, message } => {
                InvalidParam::new(key, format!("is {}: {message}", self.value_of(key)))
            }
        })?;
        if let Some(networks) = &self.internal_networks {
            if networks.len() > NETWORKS_LIMIT {
                return Err(InvalidParam::new(
                    "internal_networks",
                    format!(
                        "lists {} networks: at most {NETWORKS_LIMIT}",
                        networks.len()
                    ),
                ));
            }
            webthreat_intel::NetworkSet::parse(networks)
                .map_err(|e| InvalidParam::new("internal_networks", e.to_string()))?;
        }
        Ok(())
    }

    fn reads(&self) -> Reads {
        Reads::Feature(BEACON_FEATURE)
    }

    fn default_rule() -> ThresholdRule {
        ThresholdRule::Fixed(webthreat_beacon::DEFAULT_THRESHOLD)
    }

    fn fit(
        &self,
        name: &str,
        data: &FeatureMatrix,
        _seed: u64,
    ) -> Result<FeatureRule, DetectorError> {
        fit_rule(BEACON_FEATURE, name, data)
    }

    fn check_model(&self, model: &FeatureRule) -> Result<(), String> {
        check_rule_model(BEACON_FEATURE, model)
    }
}

impl Detector for IntelParams {
    type Model = FeatureRule;
    type Keys = IntelKeys;

    fn check(&self) -> Result<(), InvalidParam> {
        Ok(())
    }

    fn reads(&self) -> Reads {
        Reads::Feature(INTEL_FEATURE)
    }

    /// A row is flagged when an address of it is on a blocklist (`intel_match` is 1).
    fn default_rule() -> ThresholdRule {
        ThresholdRule::Fixed(0.5)
    }

    fn fit(
        &self,
        name: &str,
        data: &FeatureMatrix,
        _seed: u64,
    ) -> Result<FeatureRule, DetectorError> {
        fit_rule(INTEL_FEATURE, name, data)
    }

    fn check_model(&self, model: &FeatureRule) -> Result<(), String> {
        check_rule_model(INTEL_FEATURE, model)
    }
}
