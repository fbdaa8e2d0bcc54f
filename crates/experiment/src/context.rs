//! The row context of a run: its threat-intel lists, loaded once, and the beacon table of
//! the log being scored, built from every row before any row is featurized.

use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use webthreat_detectors::{BeaconParams, Direction, Params};
use webthreat_features::{FeatureSpec, PairAnalysis, RowContext};
use webthreat_intel::{Geo, GeoDb, Intel, IntelError, IntelList, NetworkSet};

/// The run's intel lists (none when the config lists none), read from their files.
pub(crate) fn load_intel(config: &ExperimentConfig) -> Result<Option<Arc<Intel>>, ExperimentError> {
    intel_from(config, &read_file)
}

/// The run's intel lists, their files' bytes given by `read`.
pub(crate) fn intel_from(
    config: &ExperimentConfig,
    read: ReadFile<'_>,
) -> Result<Option<Arc<Intel>>, ExperimentError> {
    if config.intel.lists.is_empty() {
        return Ok(None);
    }
    let lists = (config.intel.lists.iter())
        .map(|spec| IntelList::from_bytes(spec, &read(&spec.path)?))
        .collect::<Result<Vec<_>, IntelError>>()
        .and_then(Intel::from_lists)
        .map_err(|e| ExperimentError::Config {
            path: "intel".into(),
            message: e.to_string(),
        })?;
    Ok(Some(Arc::new(lists)))
}

/// The bytes of a file a config names besides the log (an intel list, a GeoIP database).
pub(crate) type ReadFile<'a> = &'a dyn Fn(&Path) -> Result<Vec<u8>, IntelError>;

/// Reads a file a config names.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, IntelError> {
    std::fs::read(path).map_err(|source| IntelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The files a config reads besides the log: its intel lists and GeoIP databases.
pub(crate) fn resource_paths(config: &ExperimentConfig) -> Vec<PathBuf> {
    let lists = config.intel.lists.iter().map(|spec| spec.path.clone());
    let geo = (config.intel.geoip.iter()).flat_map(|g| g.country.iter().chain(&g.asn).cloned());
    lists.chain(geo).collect()
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
    geo_from(config, &read_file)
}

/// The run's GeoIP databases, their files' bytes given by `read`.
pub(crate) fn geo_from(
    config: &ExperimentConfig,
    read: ReadFile<'_>,
) -> Result<Option<Geo>, ExperimentError> {
    let Some(geo) = &config.intel.geoip else {
        return Ok(None);
    };
    let open = |path: &Option<PathBuf>| {
        (path.as_deref())
            .map(|path| GeoDb::from_bytes(path, read(path)?))
            .transpose()
    };
    let opened = (|| {
        Ok::<_, IntelError>(Geo {
            country: open(&geo.country)?,
            asn: open(&geo.asn)?,
        })
    })()
    .map_err(|e| ExperimentError::Config {
        path: "intel.geoip".into(),
        message: e.to_string(),
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
