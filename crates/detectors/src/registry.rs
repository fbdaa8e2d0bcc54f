//! The `registry!` macro behind [`crate::kinds`]: from one line per detector kind it writes
//! the enums and dispatch that the rest of the crate uses, so no other file lists the kinds.
//!
//! For `Variant("kind"): ParamsType` it generates:
//! * [`Params`](crate::kinds::Params)`::Variant(ParamsType)`, the parameters of one kind;
//! * [`Model`](crate::kinds::Model)`::Variant(<ParamsType as Detector>::Model)`, serialized as
//!   `{"<variant in snake_case>": {...}}` in model files;
//! * `RawConfig`, the YAML form of a detector entry, internally tagged by `kind: "kind"`;
//! * [`KINDS`](crate::kinds::KINDS), and which kinds accept a threshold rule.

macro_rules! registry {
    ($(
        $(#[$doc:meta])*
        $variant:ident($kind:literal): $params:ty,
    )*) => {
        /// The parameters of one detector kind.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Params {
            $($(#[$doc])* $variant($params),)*
        }

        /// The fitted model of one detector kind.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Model {
            $($(#[$doc])* $variant(<$params as $crate::detector::Detector>::Model),)*
        }

        /// A detector entry as written in YAML, tagged by `kind`.
        #[derive(Clone, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind")]
        pub(crate) enum RawConfig {
            $(#[serde(rename = $kind)] $variant(<$params as $crate::detector::Detector>::Keys),)*
        }

        /// Every kind, as written in YAML, in registration order.
        pub const KINDS: &[&str] = &[$($kind),*];

        $(
            impl From<$params> for Params {
                fn from(p: $params) -> Self {
                    Params::$variant(p)
                }
            }
        )*

        impl Params {
            /// The kind as written in YAML.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Params::$variant(_) => $kind,)*
                }
            }

            /// What the kind is fitted on and scores.
            pub fn reads(&self) -> $crate::detector::Reads {
                match self {
                    $(Params::$variant(p) => $crate::detector::Detector::reads(p),)*
                }
            }

            /// The threshold rule when the config gives none.
            pub(crate) fn default_rule(&self) -> $crate::threshold::ThresholdRule {
                match self {
                    $(Params::$variant(_) => <$params as $crate::detector::Detector>::default_rule(),)*
                }
            }

            pub(crate) fn check(&self) -> Result<(), $crate::detector::InvalidParam> {
                match self {
                    $(Params::$variant(p) => $crate::detector::Detector::check(p),)*
                }
            }

            pub(crate) fn fit_notes(&self, n_rows: usize, n_features: usize) -> Vec<String> {
                match self {
                    $(Params::$variant(p) => {
                        $crate::detector::Detector::fit_notes(p, n_rows, n_features)
                    })*
                }
            }

            /// Checks that `model` is of this kind and one these parameters fit.
            pub(crate) fn check_model(&self, model: &Model) -> Result<(), String> {
                match (self, model) {
                    $((Params::$variant(p), Model::$variant(m)) => {
                        $crate::detector::Detector::check_model(p, m)
                    })*
                    #[allow(unreachable_patterns)]
                    _ => Err(format!(
                        "the config is a `{}` detector but the model is a `{}` model",
                        self.kind(),
                        model.kind()
                    )),
                }
            }

            pub(crate) fn fit(
                &self,
                name: &str,
                data: &webthreat_core::FeatureMatrix,
                seed: u64,
            ) -> Result<Model, $crate::error::DetectorError> {
                match self {
                    $(Params::$variant(p) => {
                        $crate::detector::Detector::fit(p, name, data, seed).map(Model::$variant)
                    })*
                }
            }
        }

        /// Whether the kind `kind` supports `rule` (false for an unknown kind).
        pub(crate) fn accepts(kind: &str, rule: &$crate::threshold::ThresholdRule) -> bool {
            match kind {
                $($kind => <$params as $crate::detector::Detector>::accepts(rule),)*
                _ => false,
            }
        }

        impl Model {
            /// The kind (as written in YAML) this model belongs to.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Model::$variant(_) => $kind,)*
                }
            }

            pub(crate) fn score(&self, values: &[f64]) -> Vec<f64> {
                match self {
                    $(Model::$variant(m) => $crate::detector::DetectorModel::score(m, values),)*
                }
            }

            pub(crate) fn contributions_of_rows(&self, rows: &[&[f64]]) -> Vec<Vec<f64>> {
                match self {
                    $(Model::$variant(m) => {
                        $crate::detector::DetectorModel::contributions_of_rows(m, rows)
                    })*
                }
            }

            pub(crate) fn check(&self, n_features: usize) -> Result<(), String> {
                match self {
                    $(Model::$variant(m) => $crate::detector::DetectorModel::check(m, n_features),)*
                }
            }

            pub(crate) fn rule_threshold(
                &self,
                rule: $crate::threshold::ThresholdRule,
            ) -> Option<f64> {
                match self {
                    $(Model::$variant(m) => {
                        $crate::detector::DetectorModel::rule_threshold(m, rule)
                    })*
                }
            }
        }

        impl RawConfig {
            pub(crate) fn into_parts(self) -> ($crate::detector::CommonKeys, Params) {
                match self {
                    $(RawConfig::$variant(keys) => {
                        let k: $crate::detector::Keyed<$params> = keys.into();
                        (k.common, Params::$variant(k.params))
                    })*
                }
            }

            pub(crate) fn from_parts(common: $crate::detector::CommonKeys, params: Params) -> Self {
                match params {
                    $(Params::$variant(params) => {
                        RawConfig::$variant($crate::detector::Keyed { common, params }.into())
                    })*
                }
            }
        }
    };
}
pub(crate) use registry;
