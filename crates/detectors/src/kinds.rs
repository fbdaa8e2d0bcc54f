//! The registered detector kinds: one line each (see the crate docs for adding one).

use crate::autoencoder::AutoencoderParams;
use crate::iforest::IsolationForestParams;
use crate::registry::registry;
use crate::rule::{BeaconParams, IntelParams};
use crate::zscore::ZScoreParams;

registry! {
    /// Isolation Forest (`kind: iforest`).
    IsolationForest("iforest"): IsolationForestParams,
    /// Per-feature standard scores (`kind: zscore`).
    ZScore("zscore"): ZScoreParams,
    /// Reconstruction error of a small MLP autoencoder (`kind: autoencoder`).
    Autoencoder("autoencoder"): AutoencoderParams,
    /// Connection pairs that beacon: regular intervals and sizes (`kind: beacon`).
    Beacon("beacon"): BeaconParams,
    /// Addresses on a threat-intel blocklist (`kind: intel`).
    Intel("intel"): IntelParams,
}

/// The kinds that support `rule`, in registration order.
pub(crate) fn accepting(rule: &crate::threshold::ThresholdRule) -> Vec<&'static str> {
    KINDS
        .iter()
        .copied()
        .filter(|kind| accepts(kind, rule))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::ThresholdRule;

    #[test]
    fn every_kind_is_listed_once_with_its_rules() {
        assert_eq!(
            KINDS,
            &["iforest", "zscore", "autoencoder", "beacon", "intel"]
        );
        assert_eq!(accepting(&ThresholdRule::ContaminationAuto), ["iforest"]);
        assert_eq!(accepting(&ThresholdRule::KSigma(3.0)), ["zscore"]);
        assert_eq!(accepting(&ThresholdRule::Quantile(0.9)), KINDS);
        assert!(!accepts("forest", &ThresholdRule::Fixed(1.0)));
    }

    #[test]
    fn params_and_models_know_their_kind() {
        for (params, kind) in [
            (Params::from(IsolationForestParams::default()), "iforest"),
            (Params::from(ZScoreParams::default()), "zscore"),
            (Params::from(AutoencoderParams::default()), "autoencoder"),
        ] {
            assert_eq!(params.kind(), kind);
            assert!(params.check().is_ok());
        }
    }
}
