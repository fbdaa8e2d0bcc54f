//! What to read and how: the `data:` section of an experiment config.

use crate::canonical::CLOUDWATCH;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Source format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The AWS CloudWatch web-traffic export (fixed column names).
    #[default]
    Cloudwatch,
    /// Any CSV or Parquet table, with an optional column mapping.
    Table,
}

/// What to do with a row holding an invalid value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BadRowPolicy {
    /// Stop with an error naming the first bad value.
    #[default]
    Fail,
    /// Drop the row, keep its reason in the rejects list.
    Skip,
}

/// Which source column holds each canonical column (table format only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    /// Column with bytes received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_in: Option<String>,
    /// Column with bytes sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_out: Option<String>,
    /// Column with the session start timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Column with the session end timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Column with the source IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    /// Column with the destination IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<String>,
    /// Column with the destination port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<String>,
    /// Column with the protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Column with the source country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl ColumnMap {
    /// (canonical name, source column) pairs that are set, in canonical order.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        use crate::canonical::*;
        [
            (BYTES_IN, &self.bytes_in),
            (BYTES_OUT, &self.bytes_out),
            (START_TIME, &self.start_time),
            (END_TIME, &self.end_time),
            (SRC_IP, &self.src_ip),
            (DST_IP, &self.dst_ip),
            (DST_PORT, &self.dst_port),
            (PROTOCOL, &self.protocol),
            (COUNTRY, &self.country),
        ]
        .into_iter()
        .filter_map(|(c, s)| s.as_deref().map(|s| (c, s)))
        .collect()
    }
}

/// The ground-truth column and how its values map to anomaly / normal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelSpec {
    /// Just the column name: values 0/1 or true/false (1/true = anomaly).
    Column(String),
    /// Column plus string values: `{column: label, anomaly: [Malicious], normal: [Benign]}`.
    Mapped {
        /// Column name.
        column: String,
        /// Values meaning anomaly.
        anomaly: Vec<String>,
        /// Values meaning normal.
        normal: Vec<String>,
    },
}

impl LabelSpec {
    /// The label column's name.
    pub fn column(&self) -> &str {
        match self {
            LabelSpec::Column(c) | LabelSpec::Mapped { column: c, .. } => c,
        }
    }

    /// Parses one raw label value; `None` when it is not a recognised value.
    pub fn parse(&self, raw: &str) -> Option<bool> {
        let raw = raw.trim();
        match self {
            LabelSpec::Column(_) => {
                // ASCII case is ignored, without a lowercased copy per value
                let is = |words: [&str; 3]| words.iter().any(|w| raw.eq_ignore_ascii_case(w));
                if is(["1", "true", "1.0"]) {
                    Some(true)
                } else if is(["0", "false", "0.0"]) {
                    Some(false)
                } else {
                    None
                }
            }
            LabelSpec::Mapped {
                anomaly, normal, ..
            } => {
                if anomaly.iter().any(|a| a == raw) {
                    Some(true)
                } else if normal.iter().any(|n| n == raw) {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }

    /// Human description of the accepted values, for error messages.
    pub fn expected(&self) -> String {
        match self {
            LabelSpec::Column(_) => "a label 0/1 or true/false".into(),
            LabelSpec::Mapped {
                anomaly, normal, ..
            } => format!("a label in anomaly {:?} or normal {:?}", anomaly, normal),
        }
    }
}

/// A log source: path, format, optional mapping and label, bad-row policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// CSV or Parquet file.
    pub path: PathBuf,
    /// Source format.
    #[serde(default)]
    pub format: Format,
    /// Ground-truth label column, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelSpec>,
    /// Column mapping (table format).
    #[serde(default, skip_serializing_if = "is_default_map")]
    pub columns: ColumnMap,
    /// Columns that must be numeric (set by the pipeline from the selected features). For tables
    /// without this list every fully numeric column is parsed as a number, the rest stay strings.
    #[serde(skip)]
    pub numeric: Vec<String>,
    /// What to do with rows holding invalid values.
    #[serde(default)]
    pub on_bad_rows: BadRowPolicy,
}

fn is_default_map(m: &ColumnMap) -> bool {
    *m == ColumnMap::default()
}

impl SourceSpec {
    /// A CloudWatch source with defaults.
    pub fn cloudwatch(path: impl Into<PathBuf>) -> Self {
        Self::new(path, Format::Cloudwatch)
    }

    /// A generic table source with defaults.
    pub fn table(path: impl Into<PathBuf>) -> Self {
        Self::new(path, Format::Table)
    }

    /// (canonical, source column) pairs of the columns this source maps, for its format.
    pub(crate) fn mapping(&self) -> Vec<(&'static str, String)> {
        match self.format {
            Format::Cloudwatch => CLOUDWATCH
                .iter()
                .map(|(c, s)| (*c, s.to_string()))
                .collect(),
            Format::Table => self
                .columns
                .pairs()
                .into_iter()
                .map(|(c, s)| (c, s.to_string()))
                .collect(),
        }
    }

    fn new(path: impl Into<PathBuf>, format: Format) -> Self {
        Self {
            path: path.into(),
            format,
            label: None,
            columns: ColumnMap::default(),
            numeric: Vec::new(),
            on_bad_rows: BadRowPolicy::Fail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_labels_ignore_ascii_case_and_surrounding_space() {
        let spec = LabelSpec::Column("label".into());
        for (raw, want) in [
            ("1", Some(true)),
            ("TRUE", Some(true)),
            (" True ", Some(true)),
            ("1.0", Some(true)),
            ("0", Some(false)),
            ("False", Some(false)),
            ("0.0\t", Some(false)),
            ("yes", None),
            ("", None),
            ("2", None),
            ("1.00", None),
        ] {
            assert_eq!(spec.parse(raw), want, "{raw:?}");
        }
    }
}
