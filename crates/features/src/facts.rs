//! Plain-Rust copies of the log columns that reports summarise (bytes, times, protocol,
//! country), so that crates downstream of features need no polars.

use crate::error::FeatureError;
use polars::prelude::*;
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
    /// Protocol per row.
    pub protocol: Option<Vec<String>>,
    /// Source country per row.
    pub country: Option<Vec<String>>,
    /// Number of distinct source IPs, when the log has them.
    pub distinct_src_ips: Option<u64>,
}

impl LogColumns {
    /// Copies the context columns out of a table.
    pub fn extract(table: &LogTable) -> Result<Self, FeatureError> {
        let df = &table.df;
        let floats = |name: &str| -> Result<Option<Vec<f64>>, FeatureError> {
            match df.column(name) {
                Ok(c) => Ok(Some(
                    c.cast(&DataType::Float64)?
                        .f64()?
                        .iter()
                        .map(|v| v.unwrap_or(0.0))
                        .collect(),
                )),
                Err(_) => Ok(None),
            }
        };
        let texts = |name: &str| -> Result<Option<Vec<String>>, FeatureError> {
            match df.column(name) {
                Ok(c) => Ok(Some(
                    c.cast(&DataType::String)?
                        .str()?
                        .iter()
                        .map(|v| v.unwrap_or("").to_string())
                        .collect(),
                )),
                Err(_) => Ok(None),
            }
        };
        let start_ms = match df.column(START_TIME) {
            Ok(c) => Some(
                c.cast(&DataType::Int64)?
                    .i64()?
                    .iter()
                    .map(|v| v.unwrap_or(0))
                    .collect(),
            ),
            Err(_) => None,
        };
        let distinct_src_ips = match df.column(SRC_IP) {
            Ok(c) => Some(c.n_unique()? as u64),
            Err(_) => None,
        };
        Ok(Self {
            bytes_in: floats(BYTES_IN)?,
            bytes_out: floats(BYTES_OUT)?,
            start_ms,
            protocol: texts(PROTOCOL)?,
            country: texts(COUNTRY)?,
            distinct_src_ips,
        })
    }
}
