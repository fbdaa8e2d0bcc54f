//! Plain-Rust copies of the log columns that reports summarise (bytes, times; protocol and
//! country as counts), so that crates downstream of features need no polars.

use crate::build::values_or;
use crate::error::FeatureError;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use webthreat_ingest::LogTable;
use webthreat_ingest::canonical::{BYTES_IN, BYTES_OUT, COUNTRY, PROTOCOL, SRC_IP, START_TIME};

/// Per-row context columns of a log, each present when the log has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogColumns {
    /// Bytes received per row.
    pub bytes_in: Option<Vec<f64>>,
    /// Bytes sent per row.
    pub bytes_out: Option<Vec<f64>>,
    /// Session start per row, milliseconds since the epoch.
    pub start_ms: Option<Vec<i64>>,
    /// Rows per protocol (empty values count as "").
    pub protocol: Option<BTreeMap<String, u64>>,
    /// Rows per source country (empty values count as "").
    pub country: Option<BTreeMap<String, u64>>,
    /// Whether the log has a source IP column (its distinct values are counted from the
    /// entity keys).
    pub has_src_ip: bool,
}

impl LogColumns {
    /// Copies the context columns out of a table.
    pub fn extract(table: &LogTable) -> Result<Self, FeatureError> {
        let df = &table.df;
        let floats = |name: &str| -> Result<Option<Vec<f64>>, FeatureError> {
            match df.column(name) {
                Ok(c) => Ok(Some(values_or(c.cast(&DataType::Float64)?.f64()?, 0.0))),
                Err(_) => Ok(None),
            }
        };
        let counts = |name: &str| -> Result<Option<BTreeMap<String, u64>>, FeatureError> {
            let Ok(c) = df.column(name) else {
                return Ok(None);
            };
            let c = c.cast(&DataType::String)?;
            let mut by_value: HashMap<&str, u64, foldhash::fast::RandomState> = HashMap::default();
            // runs of one value (most rows of a log share its protocol) are counted, then added
            let mut run: Option<(&str, u64)> = None;
            for v in c.str()?.iter() {
                let v = v.unwrap_or("");
                match &mut run {
                    Some((value, n)) if *value == v => *n += 1,
                    _ => {
                        if let Some((value, n)) = run.replace((v, 1)) {
                            *by_value.entry(value).or_default() += n;
                        }
                    }
                }
            }
            if let Some((value, n)) = run {
                *by_value.entry(value).or_default() += n;
            }
            Ok(Some(
                by_value
                    .into_iter()
                    .map(|(k, n)| (k.to_string(), n))
                    .collect(),
            ))
        };
        let start_ms = match df.column(START_TIME) {
            Ok(c) => Some(values_or(c.cast(&DataType::Int64)?.i64()?, 0)),
            Err(_) => None,
        };
        Ok(Self {
            bytes_in: floats(BYTES_IN)?,
            bytes_out: floats(BYTES_OUT)?,
            start_ms,
            protocol: counts(PROTOCOL)?,
            country: counts(COUNTRY)?,
            has_src_ip: df.column(SRC_IP).is_ok(),
        })
    }
}
