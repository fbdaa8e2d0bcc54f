//! What to read and how: the `data:` section of an experiment config.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use crate::label::LabelSpec;
pub use crate::time_format::TimeFormat;

/// Source format: which [`crate::formats`] description reads the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The AWS CloudWatch web-traffic export (fixed column names).
    #[default]
    Cloudwatch,
    /// Any CSV, TSV, JSON-lines or Parquet table, with an optional column mapping.
    Table,
    /// Zeek logs (TSV with `#` directives, or JSON lines); conn.log fields are mapped.
    Zeek,
    /// AWS VPC Flow Logs (space-separated, default or custom field list).
    Vpcflow,
    /// AWS Application Load Balancer access logs.
    Alb,
}

impl Format {
    /// The name used in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Cloudwatch => "cloudwatch",
            Format::Table => "table",
            Format::Zeek => "zeek",
            Format::Vpcflow => "vpcflow",
            Format::Alb => "alb",
        }
    }

    /// The format's default feature list when a config names none (`None` for tables: every
    /// suitable numeric column).
    pub fn default_features(self) -> Option<&'static [&'static str]> {
        crate::formats::description(self).default_features
    }
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

/// What to do with a missing value (an empty field or a null token such as Zeek's `-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingPolicy {
    /// Stop with an error naming the value (with `on_bad_rows: skip`, reject the row).
    Fail,
    /// Reject the row into the rejects list, whatever `on_bad_rows` says.
    Skip,
    /// Read the value as 0 (numeric columns only).
    Zero,
    /// Keep the value missing: a null in a text column (its own category).
    Keep,
}

impl MissingPolicy {
    /// The config word.
    pub fn as_str(self) -> &'static str {
        match self {
            MissingPolicy::Fail => "fail",
            MissingPolicy::Skip => "skip",
            MissingPolicy::Zero => "zero",
            MissingPolicy::Keep => "keep",
        }
    }
}

/// The field separator of a delimited table: `,` (default), `tab`, `space` or any single
/// ASCII character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separator(pub u8);

impl Default for Separator {
    fn default() -> Self {
        Separator(b',')
    }
}

impl Serialize for Separator {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            b'\t' => s.serialize_str("tab"),
            b' ' => s.serialize_str("space"),
            b => s.serialize_str(&char::from(b).to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Separator {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "tab" | "\t" | "\\t" => Ok(Separator(b'\t')),
            "space" | " " => Ok(Separator(b' ')),
            one if one.len() == 1 && one.is_ascii() && !matches!(one, "\n" | "\r" | "\"") => {
                Ok(Separator(one.as_bytes()[0]))
            }
            other => Err(de::Error::custom(format!(
                "separator `{}`: expected `tab`, `space` or one ASCII character other than a quote or line end",
                other.escape_debug()
            ))),
        }
    }
}

/// Which source column holds each canonical column (table format only; the native formats map
/// their own fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    /// Column with bytes received by the server (sent by the client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_in: Option<String>,
    /// Column with bytes sent by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_out: Option<String>,
    /// Column with packets sent by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets_in: Option<String>,
    /// Column with packets sent by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets_out: Option<String>,
    /// Column with the session start timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Column with the session end timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Column with the session duration in seconds (gives `end_time` when that is unmapped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Column with the source IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    /// Column with the source port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<String>,
    /// Column with the destination IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<String>,
    /// Column with the destination port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<String>,
    /// Column with the protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Column with the application protocol (Zeek's `service`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Column with the firewall action (ACCEPT / REJECT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Column with the connection state (Zeek's `conn_state`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn_state: Option<String>,
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
            (PACKETS_IN, &self.packets_in),
            (PACKETS_OUT, &self.packets_out),
            (START_TIME, &self.start_time),
            (END_TIME, &self.end_time),
            (DURATION, &self.duration),
            (SRC_IP, &self.src_ip),
            (SRC_PORT, &self.src_port),
            (DST_IP, &self.dst_ip),
            (DST_PORT, &self.dst_port),
            (PROTOCOL, &self.protocol),
            (SERVICE, &self.service),
            (ACTION, &self.action),
            (CONN_STATE, &self.conn_state),
            (COUNTRY, &self.country),
        ]
        .into_iter()
        .filter_map(|(c, s)| s.as_deref().map(|s| (c, s)))
        .collect()
    }
}

/// The tokens that mean "no value" by default: an empty field, Zeek's and AWS's `-`, and
/// Zeek's `(empty)`.
pub const DEFAULT_NULL_VALUES: [&str; 3] = ["", "-", "(empty)"];

/// A log source: path, format, optional mapping and label, dialect and missing-value policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// A file (plain, `.gz` or `.zst`, told apart by content), a directory of such files or a
    /// glob pattern; many files are read as one log in path order.
    #[serde(default)]
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
    /// Field separator (table format; the native formats know theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<Separator>,
    /// How timestamps are written (table format; the native formats know theirs).
    #[serde(default, skip_serializing_if = "TimeFormat::is_auto")]
    pub time_format: TimeFormat,
    /// Tokens read as a missing value (default [`DEFAULT_NULL_VALUES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_values: Option<Vec<String>>,
    /// Missing-value policy per column (canonical or source name) or `default`; unlisted
    /// columns take their format's default (see [`crate::formats`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, MissingPolicy>,
    /// Columns that must be numeric (set by the pipeline from the selected features). For tables
    /// without this list every fully numeric column is parsed as a number, the rest stay strings.
    #[serde(skip)]
    pub numeric: Vec<String>,
    /// Source columns kept as text (set by the pipeline from categorical features); other
    /// unmapped text columns are only summarised.
    #[serde(skip)]
    pub text: Vec<String>,
    /// What to do with rows holding invalid values.
    #[serde(default)]
    pub on_bad_rows: BadRowPolicy,
    /// The longest a record may be, in bytes (default [`DEFAULT_MAX_RECORD_BYTES`]): reading
    /// fails on a longer one, so memory and time stay bounded whatever a file holds.
    #[serde(
        default = "default_max_record_bytes",
        skip_serializing_if = "is_default_max_record_bytes"
    )]
    pub max_record_bytes: u64,
}

/// The default longest record: 1 MiB (an ALB line with a long URL is a few KiB).
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 1 << 20;

fn default_max_record_bytes() -> u64 {
    DEFAULT_MAX_RECORD_BYTES
}

fn is_default_max_record_bytes(n: &u64) -> bool {
    *n == DEFAULT_MAX_RECORD_BYTES
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

    /// A source of the given format with defaults.
    pub fn new(path: impl Into<PathBuf>, format: Format) -> Self {
        Self {
            path: path.into(),
            format,
            label: None,
            columns: ColumnMap::default(),
            separator: None,
            time_format: TimeFormat::Auto,
            null_values: None,
            missing: BTreeMap::new(),
            numeric: Vec::new(),
            text: Vec::new(),
            on_bad_rows: BadRowPolicy::Fail,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }

    /// The tokens read as a missing value.
    pub fn null_tokens(&self) -> Vec<String> {
        self.null_values
            .clone()
            .unwrap_or_else(|| DEFAULT_NULL_VALUES.map(String::from).to_vec())
    }
}

/// Parses `{column: name, anomaly: [...], normal: [...]}` or a bare column name, with errors that
/// name the `label` key's fields rather than an enum.
pub(crate) struct LabelVisitor;

impl<'de> Visitor<'de> for LabelVisitor {
    type Value = LabelSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(
            "a label column name, or `{column: <name>, anomaly: [values]}` and/or `normal: [values]`",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LabelSpec, E> {
        Ok(LabelSpec::Column(v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LabelSpec, A::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Mapped {
            column: String,
            #[serde(default)]
            anomaly: Option<Vec<String>>,
            #[serde(default)]
            normal: Option<Vec<String>>,
        }
        let m = Mapped::deserialize(de::value::MapAccessDeserializer::new(map))?;
        LabelSpec::mapped(m.column, m.anomaly, m.normal).map_err(de::Error::custom)
    }
}
