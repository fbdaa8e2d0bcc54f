//! The row context of a run: its threat-intel lists, loaded once, and the beacon table of
//! the log being scored, built from every row before any row is featurized.

use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use std::sync::Arc;
use webthreat_detectors::{BeaconParams, Direction, Params};
use webthreat_features::{FeatureSpec, PairAnalysis, RowContext};
use webthreat_intel::{Geo, Intel, NetworkSet};

/// The run's intel lists (none when the config lists none).
pub(crate) fn load_intel(config: &ExperimentConfig) -> Result<Option<Arc<Intel>>, ExperimentError> {
    if config.intel.lists.is_empty() {
        return Ok(None);
    }
    let intel = Intel::load(&config.intel.lists).map_err(|e| ExperimentError::Config {
        path: "intel".into(),
        message: e.to_string(),
    })?;
    Ok(Some(Arc::new(intel)))
}

/// The parameters of the run's `kind: beacon` detector, or the defaults when only the
/// `beacon_score` feature asks for the analysis.
pub(crate) fn beacon_params(config: &ExperimentConfig) -> BeaconParams {
    config
        .detectors
        .iter()
        .find_map(|d| match d.params() {
            Params::Beacon(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Whether the run's features need a beacon analysis: `spec`'s, or when the features are not
/// known before the log is read, the rule features of its detectors.
pub(crate) fn needs_beacons(config: &ExperimentConfig, spec: Option<&FeatureSpec>) -> bool {
    match spec {
        Some(spec) => spec.needs_beacons(),
        None => config
            .detectors
            .iter()
            .any(|d| matches!(d.params(), Params::Beacon(_))),
    }
}

/// The networks whose addresses are internal: the beacon detector's `internal_networks`, or
/// the private, link-local and loopback ranges.
pub(crate) fn internal_networks(config: &ExperimentConfig) -> Result<NetworkSet, ExperimentError> {
    match &beacon_params(config).internal_networks {
        Some(list) => NetworkSet::parse(list).map_err(|e| ExperimentError::Config {
            path: "detectors".into(),
            message: format!("beacon: internal_networks: {e}"),
        }),
        None => Ok(NetworkSet::private()),
    }
}

/// The GeoIP/ASN databases the config names, opened.
pub(crate) fn load_geo(config: &ExperimentConfig) -> Result<Option<Geo>, ExperimentError> {
    let Some(geo) = &config.intel.geoip else {
        return Ok(None);
    };
    let opened = Geo::open(geo.country.as_deref(), geo.asn.as_deref()).map_err(|e| {
        ExperimentError::Config {
            path: "intel.geoip".into(),
            message: e.to_string(),
        }
    })?;
    Ok(Some(opened))
}

/// A beacon analysis as the config asks for it, when `needed`.
pub(crate) fn pair_analysis(
    config: &ExperimentConfig,
    needed: bool,
) -> Result<Option<PairAnalysis>, ExperimentError> {
    if !needed {
        return Ok(None);
    }
    let params = beacon_params(config);
    let internal = match params.direction {
        Direction::Any => None,
        Direction::Outbound => Some(internal_networks(config)?),
    };
    Ok(Some(PairAnalysis::new(params.limits(), internal)))
}

/// The context of `spec` for the data at hand: the intel lists and, when given, the finished
/// beacon analysis.
pub(crate) fn row_context(intel: Option<Arc<Intel>>, analysis: Option<PairAnalysis>) -> RowContext {
    RowContext {
        intel,
        beacons: analysis.map(|a| Arc::new(a.finish())),
    }
}
