//! The feature vocabulary and a parsed feature list.

use crate::categories::Vocabulary;
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
    /// `onehot(col)`: one 0/1 column per frequent value of a text column, plus one for the
    /// rest (see [`crate::categories`]).
    OneHot(String),
    /// `freq(col)`: the share of the fit rows holding the row's value of a text column.
    Freq(String),
}

/// Named derived features, for parsing and help texts.
const DERIVED: [(&str, Feature); 8] = [
    ("session_duration", Feature::SessionDuration),
    ("avg_packet_size", Feature::AvgPacketSize),
    ("bytes_ratio", Feature::BytesRatio),
    ("hour_of_day", Feature::HourOfDay),
    ("src_sessions", Feature::SrcSessions),
    ("src_bytes", Feature::SrcBytes),
    ("src_distinct_ports", Feature::SrcDistinctPorts),
    ("src_distinct_dsts", Feature::SrcDistinctDsts),
];

impl Feature {
    /// True for per-source window aggregates (also inside `log1p`).
    pub fn is_window_aggregate(&self) -> bool {
        match self {
            Feature::SrcSessions
            | Feature::SrcBytes
            | Feature::SrcDistinctPorts
            | Feature::SrcDistinctDsts => true,
            Feature::Log1p(inner) => inner.is_window_aggregate(),
            _ => false,
        }
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
            "expected a numeric column of the data, one of {}, log1p(<feature>), or onehot(<text column>) / freq(<text column>)",
            derived.join(", ")
        )
    }

    /// The feature's canonical name.
    pub fn name(&self) -> String {
        match self {
            Feature::Column(c) => c.clone(),
            Feature::Log1p(inner) => format!("log1p({})", inner.name()),
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
            Feature::Log1p(inner) => inner.needs(),
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
    /// Vocabularies of the text columns `onehot`/`freq` encode, once fitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vocabularies: Vec<Vocabulary>,
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
            vocabularies: Vec::new(),
        })
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

    /// The parsed features.
    pub fn features(&self) -> Vec<Feature> {
        self.names
            .iter()
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
