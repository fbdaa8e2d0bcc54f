//! The feature vocabulary and a parsed feature list.

use crate::categories::Vocabulary;
use crate::context::RowContext;
use crate::error::FeatureError;
use serde::{Deserialize, Serialize};
use webthreat_ingest::canonical;

/// Default aggregation window: 10 minutes, the CloudWatch export's granularity.
pub const DEFAULT_WINDOW_SECONDS: u64 = 600;

/// One feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    /// A numeric column of the data, by name (canonical or source name).
    Column(String),
    /// `session_duration`: end_time - start_time in seconds.
    SessionDuration,
    /// `avg_packet_size`: (bytes_in + bytes_out) / session_duration, with durations below one
    /// second counted as one second (so a zero-length session yields its total bytes, never
    /// NaN or infinity).
    AvgPacketSize,
    /// `bytes_ratio`: (bytes_out + 1) / (bytes_in + 1); the +1 keeps empty sessions finite.
    BytesRatio,
    /// `hour_of_day`: start time of day in UTC hours, 0 <= h < 24.
    HourOfDay,
    /// `log1p(x)`: ln(1 + x) of another feature (values below 0 are an error).
    Log1p(Box<Feature>),
    /// `src_sessions`: sessions of the row's source IP in its time window.
    SrcSessions,
    /// `src_bytes`: bytes in + out of the row's source IP in its time window.
    SrcBytes,
    /// `src_distinct_ports`: distinct destination ports of the source IP in its window.
    SrcDistinctPorts,
    /// `src_distinct_dsts`: distinct destination IPs of the source IP in its window.
    SrcDistinctDsts,
    /// `src_fan_out`: distinct destination endpoints (address and port) of the source IP in
    /// its window: the out-degree of the source in the window's communication graph.
    SrcFanOut,
    /// `dst_fan_in`: distinct source IPs of the row's destination IP in its window: the
    /// in-degree of the destination in the window's communication graph.
    DstFanIn,
    /// `baseline_dev(<source window feature>)`: how far the source's value in this window is
    /// from that same source's own earlier windows (see [`crate::baseline`]).
    BaselineDev(Box<Feature>),
    /// `intel_match`: 1 when the row's source or destination is on a threat-intel blocklist
    /// (and not allowlisted), else 0.
    IntelMatch,
    /// `beacon_score`: the beacon score in [0, 1] of the row's (source, destination,
    /// destination port) pair over the whole log; 0 for pairs not scored.
    BeaconScore,
    /// `onehot(col)`: one 0/1 column per frequent value of a text column, plus one for the
    /// rest (see [`crate::categories`]).
    OneHot(String),
    /// `freq(col)`: the share of the fit rows holding the row's value of a text column.
    Freq(String),
}

/// Named derived features, for parsing and help texts.
const DERIVED: [(&str, Feature); 12] = [
    ("session_duration", Feature::SessionDuration),
    ("avg_packet_size", Feature::AvgPacketSize),
    ("bytes_ratio", Feature::BytesRatio),
    ("hour_of_day", Feature::HourOfDay),
    ("src_sessions", Feature::SrcSessions),
    ("src_bytes", Feature::SrcBytes),
    ("src_distinct_ports", Feature::SrcDistinctPorts),
    ("src_distinct_dsts", Feature::SrcDistinctDsts),
    ("src_fan_out", Feature::SrcFanOut),
    ("dst_fan_in", Feature::DstFanIn),
    ("intel_match", Feature::IntelMatch),
    ("beacon_score", Feature::BeaconScore),
];

impl Feature {
    /// True for per-entity window aggregates (also inside `log1p` and `baseline_dev`): they
    /// need every row of a window at once.
    pub fn is_window_aggregate(&self) -> bool {
        match self {
            Feature::SrcSessions
            | Feature::SrcBytes
            | Feature::SrcDistinctPorts
            | Feature::SrcDistinctDsts
            | Feature::SrcFanOut
            | Feature::DstFanIn
            | Feature::BaselineDev(_) => true,
            Feature::Log1p(inner) => inner.is_window_aggregate(),
            _ => false,
        }
    }

    /// True for features that need more of the log than the windows around the row
    /// (`beacon_score`: every connection of the row's pair; `baseline_dev`: the source's
    /// earlier windows), also inside `log1p`: a log scored as it grows cannot have them.
    pub fn needs_whole_log(&self) -> bool {
        match self {
            Feature::BeaconScore | Feature::BaselineDev(_) => true,
            Feature::Log1p(inner) => inner.needs_whole_log(),
            _ => false,
        }
    }

    /// True for aggregates of the row's source IP over its window, the features a
    /// `baseline_dev` compares with the source's own history.
    fn is_source_window_aggregate(&self) -> bool {
        matches!(
            self,
            Feature::SrcSessions
                | Feature::SrcBytes
                | Feature::SrcDistinctPorts
                | Feature::SrcDistinctDsts
                | Feature::SrcFanOut
        )
    }

    /// Parses a feature name: a derived name, `log1p(<feature>)`, or a column name.
    pub fn parse(name: &str) -> Result<Feature, FeatureError> {
        let trimmed = name.trim();
        if let Some(inner) = trimmed
            .strip_prefix("log1p(")
            .and_then(|r| r.strip_suffix(')'))
        {
            return Ok(Feature::Log1p(Box::new(Feature::parse(inner)?)));
        }
        if let Some(inner) = trimmed
            .strip_prefix("baseline_dev(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let inner = Feature::parse(inner)?;
            if !inner.is_source_window_aggregate() {
                return Err(FeatureError::Unknown {
                    name: name.to_string(),
                    hint: "baseline_dev(<feature>) takes one of src_sessions, src_bytes, \
                        src_distinct_ports, src_distinct_dsts, src_fan_out"
                        .into(),
                });
            }
            return Ok(Feature::BaselineDev(Box::new(inner)));
        }
        for (prefix, make) in [
            ("onehot(", Feature::OneHot as fn(String) -> Feature),
            ("freq(", Feature::Freq),
        ] {
            if let Some(column) = trimmed
                .strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(')'))
            {
                let column = column.trim();
                if column.is_empty() || column.contains(['(', ')']) {
                    break;
                }
                return Ok(make(column.to_string()));
            }
        }
        if trimmed.is_empty() || trimmed.contains(['(', ')']) {
            return Err(FeatureError::Unknown {
                name: name.to_string(),
                hint: Self::vocabulary(),
            });
        }
        Ok(DERIVED
            .iter()
            .find(|(n, _)| *n == trimmed)
            .map(|(_, f)| f.clone())
            .unwrap_or_else(|| Feature::Column(trimmed.to_string())))
    }

    /// What names are accepted.
    pub fn vocabulary() -> String {
        let derived: Vec<&str> = DERIVED.iter().map(|(n, _)| *n).collect();
        format!(
            "expected a numeric column of the data, one of {}, log1p(<feature>), baseline_dev(<source window feature>), or onehot(<text column>) / freq(<text column>)",
            derived.join(", ")
        )
    }

    /// The feature's canonical name.
    pub fn name(&self) -> String {
        match self {
            Feature::Column(c) => c.clone(),
            Feature::Log1p(inner) => format!("log1p({})", inner.name()),
            Feature::BaselineDev(inner) => format!("baseline_dev({})", inner.name()),
            Feature::OneHot(c) => format!("onehot({c})"),
            Feature::Freq(c) => format!("freq({c})"),
            other => DERIVED
                .iter()
                .find(|(_, f)| f == other)
                .map(|(n, _)| n.to_string())
                .unwrap_or_default(),
        }
    }

    /// Canonical columns the feature is computed from (raw columns are checked separately).
    pub fn needs(&self) -> Vec<&'static str> {
        use canonical::*;
        match self {
            Feature::Column(_) | Feature::OneHot(_) | Feature::Freq(_) => vec![],
            Feature::SessionDuration => vec![START_TIME, END_TIME],
            Feature::AvgPacketSize => vec![BYTES_IN, BYTES_OUT, START_TIME, END_TIME],
            Feature::BytesRatio => vec![BYTES_IN, BYTES_OUT],
            Feature::HourOfDay => vec![START_TIME],
            Feature::Log1p(inner) | Feature::BaselineDev(inner) => inner.needs(),
            Feature::SrcFanOut => vec![SRC_IP, START_TIME, DST_IP, DST_PORT],
            Feature::IntelMatch => vec![SRC_IP],
            Feature::BeaconScore => vec![SRC_IP, DST_IP, DST_PORT, START_TIME],
            Feature::DstFanIn => vec![DST_IP, START_TIME, SRC_IP],
            Feature::SrcSessions => vec![SRC_IP, START_TIME],
            Feature::SrcBytes => vec![SRC_IP, START_TIME, BYTES_IN, BYTES_OUT],
            Feature::SrcDistinctPorts => vec![SRC_IP, START_TIME, DST_PORT],
            Feature::SrcDistinctDsts => vec![SRC_IP, START_TIME, DST_IP],
        }
    }

    /// The text column this feature encodes, if it is categorical.
    pub fn categorical_column(&self) -> Option<&str> {
        match self {
            Feature::OneHot(c) | Feature::Freq(c) => Some(c),
            _ => None,
        }
    }

    /// The raw column this feature reads directly, if it is (or wraps) one.
    pub fn raw_column(&self) -> Option<&str> {
        match self {
            Feature::Column(c) => Some(c),
            Feature::Log1p(inner) => inner.raw_column(),
            _ => None,
        }
    }
}

/// The features to compute, in output order, the aggregation window and the fitted
/// vocabularies of categorical features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Feature names as written in the config.
    pub names: Vec<String>,
    /// Window length for per-source aggregates, in seconds.
    pub window_seconds: u64,
    /// Features computed only for rule detectors (`beacon_score` for `kind: beacon`), after
    /// the listed ones: not scaled, not read by the other detectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_features: Vec<String>,
    /// Vocabularies of the text columns `onehot`/`freq` encode, once fitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vocabularies: Vec<Vocabulary>,
    /// The lookups of `intel_match` and `beacon_score`: set for the data at hand, not saved.
    #[serde(skip)]
    pub context: RowContext,
}

impl FeatureSpec {
    /// Parses and checks a feature list.
    pub fn new(names: Vec<String>, window_seconds: u64) -> Result<Self, FeatureError> {
        if window_seconds == 0 {
            return Err(FeatureError::BadWindow(window_seconds));
        }
        let mut seen: Vec<String> = Vec::new();
        for name in &names {
            let canonical_name = Feature::parse(name)?.name();
            if seen.contains(&canonical_name) {
                return Err(FeatureError::Duplicate(canonical_name));
            }
            seen.push(canonical_name);
        }
        Ok(Self {
            names: seen,
            window_seconds,
            rule_features: Vec::new(),
            vocabularies: Vec::new(),
            context: RowContext::default(),
        })
    }

    /// Adds the features rule detectors read that the list lacks (checked like the list).
    pub fn with_rule_features(mut self, features: &[&str]) -> Result<Self, FeatureError> {
        for name in features {
            let name = Feature::parse(name)?.name();
            if !self.names.contains(&name) && !self.rule_features.contains(&name) {
                self.rule_features.push(name);
            }
        }
        Ok(self)
    }

    /// How many leading matrix columns come from the listed features (the rest are rule
    /// features): the columns the scaler and the learning detectors see.
    pub fn listed_columns(&self) -> Result<usize, FeatureError> {
        Ok(self.column_names()?.len() - self.rule_features.len())
    }

    /// The text columns categorical features encode (each once, in feature order).
    pub fn categorical_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.features() {
            if let Some(c) = f.categorical_column()
                && !out.iter().any(|o| o == c)
            {
                out.push(c.to_string());
            }
        }
        out
    }

    /// The vocabulary of a text column, once fitted.
    pub fn vocabulary(&self, column: &str) -> Result<&Vocabulary, FeatureError> {
        self.vocabularies
            .iter()
            .find(|v| v.column == column)
            .ok_or_else(|| FeatureError::NotFitted(column.to_string()))
    }

    /// The matrix's column names: one per feature, several per `onehot` feature.
    pub fn column_names(&self) -> Result<Vec<String>, FeatureError> {
        let mut out = Vec::new();
        for f in self.features() {
            match &f {
                Feature::OneHot(c) => out.extend(self.vocabulary(c)?.onehot_names(&f.name())),
                _ => out.push(f.name()),
            }
        }
        Ok(out)
    }

    /// The parsed features: the listed ones, then the rule features.
    pub fn features(&self) -> Vec<Feature> {
        (self.names.iter().chain(&self.rule_features))
            .map(|n| Feature::parse(n).expect("checked in FeatureSpec::new"))
            .collect()
    }

    /// Names of the features that aggregate over a source's time window, so need every row of
    /// the window at once (all others depend on their own row only).
    pub fn window_features(&self) -> Vec<String> {
        self.features()
            .iter()
            .filter(|f| f.is_window_aggregate())
            .map(Feature::name)
            .collect()
    }

    /// Whether a feature needs more of the log than the windows around a row
    /// (`beacon_score`, `baseline_dev`; see [`Feature::needs_whole_log`]).
    pub fn needs_whole_log(&self) -> bool {
        self.features().iter().any(Feature::needs_whole_log)
    }

    /// Whether a feature needs the run's intel lists (`intel_match`).
    pub fn needs_intel(&self) -> bool {
        self.features().contains(&Feature::IntelMatch)
    }

    /// Whether a feature needs the log's beacon table (`beacon_score`).
    pub fn needs_beacons(&self) -> bool {
        self.features().contains(&Feature::BeaconScore)
    }

    /// Source columns that must be parsed as numbers (raw columns that are not canonical).
    pub fn raw_numeric_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.features() {
            if let Some(c) = f.raw_column()
                && !canonical::MAPPABLE.contains(&c)
                && !out.iter().any(|o| o == c)
            {
                out.push(c.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_vocabulary() {
        assert_eq!(
            Feature::parse("session_duration").unwrap(),
            Feature::SessionDuration
        );
        assert_eq!(
            Feature::parse("log1p(bytes_in)").unwrap(),
            Feature::Log1p(Box::new(Feature::Column("bytes_in".into())))
        );
        assert_eq!(
            Feature::parse("log1p(log1p(src_bytes))").unwrap().name(),
            "log1p(log1p(src_bytes))"
        );
        assert_eq!(
            Feature::parse(" sbytes ").unwrap(),
            Feature::Column("sbytes".into())
        );
        assert!(Feature::parse("log1p(bytes_in").is_err());
        assert!(Feature::parse("").is_err());
    }

    #[test]
    fn spec_rejects_duplicates_and_zero_window() {
        assert!(matches!(
            FeatureSpec::new(vec!["bytes_in".into(), " bytes_in".into()], 600),
            Err(FeatureError::Duplicate(_))
        ));
        assert!(matches!(
            FeatureSpec::new(vec!["bytes_in".into()], 0),
            Err(FeatureError::BadWindow(0))
        ));
    }

    #[test]
    fn raw_numeric_columns_excludes_canonical_and_derived() {
        let spec = FeatureSpec::new(
            vec![
                "bytes_in".into(),
                "log1p(response.code)".into(),
                "avg_packet_size".into(),
                "response.code".into(),
            ],
            600,
        )
        .unwrap();
        assert_eq!(
            spec.raw_numeric_columns(),
            vec!["response.code".to_string()]
        );
    }
}
