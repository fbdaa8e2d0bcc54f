//! The registered detector kinds: one line each (see the crate docs for adding one).

use crate::autoencoder::AutoencoderParams;
use crate::iforest::IsolationForestParams;
use crate::registry::registry;
use crate::zscore::ZScoreParams;

registry! {
    /// Isolation Forest (`kind: iforest`).
    IsolationForest("iforest"): IsolationForestParams,
    /// Per-feature standard scores (`kind: zscore`).
    ZScore("zscore"): ZScoreParams,
    /// Reconstruction error of a small MLP autoencoder (`kind: autoencoder`).
    Autoencoder("autoencoder"): AutoencoderParams,
}

/// The kinds that support `rule`, in registration order.
pub(crate) fn accepting(rule: &crate::threshold::ThresholdRule) -> Vec<&'static str> {
    KINDS
        .iter()
        .copied()
        .filter(|kind| accepts(kind, rule))
        .collect()
}
