//! Plain-Rust copies of the log columns that reports summarise and alerts name (bytes, times,
//! addresses, ports, protocol; protocol and country as counts), so that crates downstream of
//! features need no polars.

use crate::build::values_or;
use crate::error::FeatureError;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use webthreat_ingest::LogTable;
use webthreat_ingest::canonical::{
    BYTES_IN, BYTES_OUT, COUNTRY, DST_IP, DST_PORT, PROTOCOL, SRC_IP, SRC_PORT, START_TIME,
};

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
    /// Source and destination addresses, when the log has sources.
    pub addresses: Option<Addresses>,
    /// Per row, the source port ([`LogColumns::NO_PORT`] when missing), when the log has one.
    pub src_port: Option<Vec<u32>>,
    /// Per row, the destination port ([`LogColumns::NO_PORT`] when missing), when the log has
    /// one.
    pub dst_port: Option<Vec<u32>>,
    /// Per row, the protocol as written, when the log has one.
    pub protocol_of_row: Option<Coded>,
}

/// A text column with each distinct value numbered once: per row, its value's index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coded {
    /// Distinct values (as written; a missing value is ""), in order of first appearance.
    pub names: Vec<Box<str>>,
    /// Per row, its value's index into `names`.
    pub rows: Vec<u32>,
}

impl Coded {
    /// Numbers the values of `column` (nulls as ""); runs of one value (exports mostly repeat
    /// the row before) are looked up once.
    fn extract(column: &StringChunked) -> Self {
        let mut numbering = Numbering::default();
        let rows = (column.iter())
            .map(|v| numbering.code(v.unwrap_or("")))
            .collect();
        Self {
            names: numbering.names,
            rows,
        }
    }

    /// The value of row `i`.
    pub fn of(&self, i: usize) -> Option<&str> {
        let code = *self.rows.get(i)?;
        self.names.get(code as usize).map(|n| &**n)
    }

    /// Rows per value.
    fn counts(&self) -> BTreeMap<String, u64> {
        let mut per_code = vec![0u64; self.names.len()];
        for &code in &self.rows {
            per_code[code as usize] += 1;
        }
        let mut out: BTreeMap<String, u64> = BTreeMap::new();
        for (name, n) in self.names.iter().zip(per_code) {
            *out.entry(name.to_string()).or_default() += n;
        }
        out
    }
}

/// The source and destination address of every row, each distinct address numbered once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Addresses {
    /// Distinct addresses (as written), in order of first appearance.
    pub names: Vec<Box<str>>,
    /// Per row, the source's index into `names`, or [`Addresses::NONE`].
    pub src: Vec<u32>,
    /// Per row, the destination's index into `names`, or [`Addresses::NONE`].
    pub dst: Vec<u32>,
}

impl Addresses {
    /// The index of a missing address.
    pub const NONE: u32 = u32::MAX;

    /// Numbers the addresses of the source column and, when the log has one, the
    /// destination column (else every destination is missing); runs of one address (a
    /// client's connections in a row, one server for many) are looked up once.
    fn extract(src: &StringChunked, dst: Option<&StringChunked>) -> Self {
        fn codes<'a>(numbering: &mut Numbering<'a>, column: &'a StringChunked) -> Vec<u32> {
            (column.iter())
                .map(|ip| ip.map_or(Addresses::NONE, |ip| numbering.code(ip)))
                .collect()
        }
        let mut numbering = Numbering::default();
        let src = codes(&mut numbering, src);
        let dst = match dst {
            Some(dst) => codes(&mut numbering, dst),
            None => vec![Self::NONE; src.len()],
        };
        Self {
            names: numbering.names,
            src,
            dst,
        }
    }

    /// The address of index `k`.
    pub fn name(&self, k: u32) -> Option<&str> {
        self.names.get(k as usize).map(|n| &**n)
    }
}

impl LogColumns {
    /// The port of a row that has none.
    pub const NO_PORT: u32 = u32::MAX;

    /// The port of row `i` of a port column.
    pub fn port(column: Option<&[u32]>, i: usize) -> Option<u16> {
        let port = *column?.get(i)?;
        u16::try_from(port).ok()
    }

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
            Ok(Some(count_values(c.str()?)))
        };
        let start_ms = match df.column(START_TIME) {
            Ok(c) => Some(values_or(c.cast(&DataType::Int64)?.i64()?, 0)),
            Err(_) => None,
        };
        let ports = |name: &str| -> Result<Option<Vec<u32>>, FeatureError> {
            let Ok(c) = df.column(name) else {
                return Ok(None);
            };
            let c = c.cast(&DataType::Int64)?;
            Ok(Some(
                (c.i64()?.iter())
                    .map(|p| {
                        p.and_then(|p| u16::try_from(p).ok())
                            .map_or(Self::NO_PORT, u32::from)
                    })
                    .collect(),
            ))
        };
        let protocol_of_row = match df.column(PROTOCOL) {
            Ok(c) => Some(Coded::extract(c.cast(&DataType::String)?.str()?)),
            Err(_) => None,
        };
        Ok(Self {
            bytes_in: floats(BYTES_IN)?,
            bytes_out: floats(BYTES_OUT)?,
            start_ms,
            protocol: protocol_of_row.as_ref().map(Coded::counts),
            country: counts(COUNTRY)?,
            has_src_ip: df.column(SRC_IP).is_ok(),
            addresses: match df.column(SRC_IP) {
                Ok(src) => {
                    let dst = df.column(DST_IP).ok().map(|d| d.str()).transpose()?;
                    Some(Addresses::extract(src.str()?, dst))
                }
                Err(_) => None,
            },
            src_port: ports(SRC_PORT)?,
            dst_port: ports(DST_PORT)?,
            protocol_of_row,
        })
    }
}

/// Rows per value of a text column (nulls count as ""). Runs of one value (exports mostly
/// repeat the row before) are counted before they are hashed.
fn count_values(column: &StringChunked) -> BTreeMap<String, u64> {
    let mut counts: HashMap<&str, u64, foldhash::fast::RandomState> = HashMap::default();
    let mut run: Option<(&str, u64)> = None;
    for value in column.iter().map(|v| v.unwrap_or("")) {
        match &mut run {
            Some((text, n)) if *text == value => *n += 1,
            _ => {
                if let Some((text, n)) = run.replace((value, 1)) {
                    *counts.entry(text).or_default() += n;
                }
            }
        }
    }
    if let Some((text, n)) = run {
        *counts.entry(text).or_default() += n;
    }
    counts
        .into_iter()
        .map(|(text, n)| (text.to_string(), n))
        .collect()
}

/// Numbers text values in order of first appearance; a run of one value (logs mostly repeat
/// the row before) is looked up once.
#[derive(Default)]
struct Numbering<'a> {
    index: HashMap<&'a str, u32, foldhash::fast::RandomState>,
    names: Vec<Box<str>>,
    last: Option<(&'a str, u32)>,
}

impl<'a> Numbering<'a> {
    /// The number of `value`, given anew when it is first seen.
    fn code(&mut self, value: &'a str) -> u32 {
        if let Some((text, code)) = self.last
            && text == value
        {
            return code;
        }
        let names = &mut self.names;
        let code = *self.index.entry(value).or_insert_with(|| {
            names.push(value.into());
            (names.len() - 1) as u32
        });
        self.last = Some((value, code));
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(values: &[Option<&str>]) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for v in values {
            *out.entry(v.unwrap_or("").to_string()).or_default() += 1;
        }
        out
    }

    #[test]
    fn counts_are_those_of_the_texts_over_chunks_and_nulls() {
        let long = "a-value-longer-than-twelve";
        let values = [
            Some("TCP"),
            Some("TCP"),
            Some(""),
            Some("twelve bytes"),
            Some(long),
            Some("UDP"),
            Some("TCP"),
            Some(long),
            Some("twelve bytez"),
            Some("TCP"),
        ];
        let column = |values: &[Option<&str>]| {
            let mut c = StringChunked::new("c".into(), &values[..6]);
            c.append(&StringChunked::new("c".into(), &values[6..]))
                .unwrap();
            c
        };
        assert_eq!(count_values(&column(&values)), naive(&values));
        assert_eq!(Coded::extract(&column(&values)).counts(), naive(&values));
        let mut with_null = values;
        with_null[1] = None;
        assert_eq!(count_values(&column(&with_null)), naive(&with_null));
        let coded = Coded::extract(&column(&with_null));
        assert_eq!(coded.counts(), naive(&with_null));
        assert_eq!(naive(&with_null)[""], 2);
        // every row keeps its own value, in row order
        for (i, v) in with_null.iter().enumerate() {
            assert_eq!(coded.of(i), Some(v.unwrap_or("")));
        }
        assert_eq!(coded.names.len(), 6);
    }
}
