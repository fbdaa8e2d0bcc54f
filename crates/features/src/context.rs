//! What features look up besides their row: the run's threat-intel lists (`intel_match`) and
//! the beacon scores of its connection pairs (`beacon_score`), computed over the whole log
//! before any row is featurized ([`PairAnalysis`] folds the log's batches into a beacon table).

use crate::error::FeatureError;
use polars::prelude::*;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use webthreat_beacon::{BeaconParams, BeaconTable, BeaconTally};
use webthreat_ingest::LogTable;
use webthreat_ingest::canonical::{BYTES_IN, DST_IP, DST_PORT, SRC_IP, START_TIME};
use webthreat_intel::{Intel, NetworkSet, parse_ip};

/// A connection pair: source address, destination address, destination port (as written).
pub type PairKey = (Box<str>, Box<str>, u32);

/// The run's lookups for `intel_match` and `beacon_score` (not saved with the model: they
/// belong to the data being scored).
#[derive(Clone, Default)]
pub struct RowContext {
    /// The threat-intel lists.
    pub intel: Option<Arc<Intel>>,
    /// The beacon scores of the log's pairs.
    pub beacons: Option<Arc<PairScores>>,
}

impl fmt::Debug for RowContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowContext")
            .field("intel", &self.intel.as_ref().map(|i| i.lists().len()))
            .field(
                "beacons",
                &self.beacons.as_ref().map(|b| b.table.pairs().len()),
            )
            .finish()
    }
}

impl PartialEq for RowContext {
    fn eq(&self, other: &Self) -> bool {
        fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
        }
        same(&self.intel, &other.intel) && same(&self.beacons, &other.beacons)
    }
}

/// Pair scores of one source: by destination address, then destination port.
type ScoresByDestination = HashMap<Box<str>, HashMap<u32, f64>>;

/// A beacon table with a lookup by borrowed addresses.
pub struct PairScores {
    /// The scored pairs, highest score first.
    pub table: BeaconTable<PairKey>,
    /// The analysis's internal networks (`None`: every pair was analysed).
    pub internal: Option<NetworkSet>,
    by_source: HashMap<Box<str>, ScoresByDestination>,
}

impl PairScores {
    /// The score of a pair; 0 for a pair that was not scored (too few connections, or not
    /// from an internal to an external address).
    pub fn score(&self, src: &str, dst: &str, port: u32) -> f64 {
        (self.by_source.get(src))
            .and_then(|d| d.get(dst))
            .and_then(|p| p.get(&port))
            .copied()
            .unwrap_or(0.0)
    }
}

/// The beacon analysis of a log, batch by batch: which pairs are analysed, and their tallies.
/// Addresses are numbered as they first appear, so a row costs two lookups and no allocation.
pub struct PairAnalysis {
    internal: Option<NetworkSet>,
    tally: BeaconTally<(u32, u32, u32)>,
    /// The number of each address seen.
    codes: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    /// Per number: the address, and whether the pair analysis takes it as a source
    /// (internal) and as a destination (external and not multicast or broadcast).
    addresses: Vec<(Box<str>, bool, bool)>,
}

impl PairAnalysis {
    /// An analysis of the pairs from an address of `internal` to one outside it, or of every
    /// pair when `internal` is `None`.
    pub fn new(params: BeaconParams, internal: Option<NetworkSet>) -> Self {
        Self {
            internal,
            tally: BeaconTally::new(params),
            codes: HashMap::default(),
            addresses: Vec::new(),
        }
    }

    /// Folds a batch in. Rows without a source or destination are not pairs, but their times
    /// still widen the log's span.
    pub fn add(&mut self, table: &LogTable) -> Result<(), FeatureError> {
        for column in [SRC_IP, DST_IP, START_TIME] {
            if !table.has(column) {
                return Err(FeatureError::MissingColumn {
                    feature: "beacon_score".into(),
                    column: column.into(),
                });
            }
        }
        let df = &table.df;
        let src = df.column(SRC_IP)?.str()?;
        let dst = df.column(DST_IP)?.str()?;
        let time = df.column(START_TIME)?.cast(&DataType::Int64)?;
        let time = time.i64()?;
        let port = match df.column(DST_PORT) {
            Ok(c) => Some(c.cast(&DataType::UInt32)?),
            Err(_) => None,
        };
        let port = port.as_ref().map(|c| c.u32()).transpose()?;
        let bytes = match df.column(BYTES_IN) {
            Ok(c) => Some(c.cast(&DataType::Float64)?),
            Err(_) => None,
        };
        let bytes = bytes.as_ref().map(|c| c.f64()).transpose()?;
        // iterators, not `get(i)`: a lookup by index searches the columns' chunks every time
        let rows = table.rows();
        let mut ports = port.map(|p| p.iter());
        let mut sizes = bytes.map(|b| b.iter());
        let endpoints = src.iter().zip(dst.iter()).zip(time.iter());
        // the batch's connections grouped by pair (a sort), so each pair is looked up once
        let mut connections: Vec<((u32, u32, u32), i64, u64)> = Vec::with_capacity(rows);
        for ((s, d), t) in endpoints.take(rows) {
            let p = ports
                .as_mut()
                .and_then(Iterator::next)
                .flatten()
                .unwrap_or(0);
            let b = sizes
                .as_mut()
                .and_then(Iterator::next)
                .flatten()
                .unwrap_or(0.0);
            let Some(t) = t else { continue };
            self.tally.observe_span(t);
            let (Some(s), Some(d)) = (s, d) else {
                continue;
            };
            let (s, d) = (self.code(s), self.code(d));
            if self.addresses[s as usize].1 && self.addresses[d as usize].2 {
                connections.push(((s, d, p), t, b.max(0.0) as u64));
            }
        }
        connections.sort_unstable_by_key(|c| c.0);
        for run in connections.chunk_by(|a, b| a.0 == b.0) {
            self.tally
                .add_many(&run[0].0, run.iter().map(|&(_, t, b)| (t, b)));
        }
        Ok(())
    }

    /// The number of address `ip`, numbering it (and deciding its roles) when new.
    fn code(&mut self, ip: &str) -> u32 {
        if let Some(&k) = self.codes.get(ip) {
            return k;
        }
        let (source, destination) = match &self.internal {
            None => (true, true),
            Some(internal) => {
                let address = parse_ip(ip);
                let inside = address.is_some_and(|a| internal.contains(a));
                (inside, !inside && !address.is_some_and(is_local_scope))
            }
        };
        let k = self.addresses.len() as u32;
        self.addresses.push((ip.into(), source, destination));
        self.codes.insert(ip.into(), k);
        k
    }

    /// The scored pairs.
    pub fn finish(self) -> PairScores {
        let addresses = self.addresses;
        let name = |k: u32| addresses[k as usize].0.clone();
        let table = (self.tally.finish()).map_keys(|(s, d, p)| (name(s), name(d), p));
        let mut by_source: HashMap<Box<str>, ScoresByDestination> = HashMap::new();
        for pair in table.pairs() {
            let (s, d, p) = &pair.key;
            by_source
                .entry(s.clone())
                .or_default()
                .entry(d.clone())
                .or_default()
                .insert(*p, pair.score);
        }
        PairScores {
            table,
            internal: self.internal,
            by_source,
        }
    }
}

/// Whether `ip` is a multicast or broadcast address: never an external host, whatever the
/// internal networks (LLMNR and mDNS queries to 224.0.0.252 repeat on a timer too).
fn is_local_scope(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_multicast(),
    }
}

/// `intel_match` of every row: 1 when its source or destination address is on a blocklist
/// (and not allowlisted: an allowlist wins), else 0.
pub(crate) fn intel_match(table: &LogTable, intel: &Intel) -> Result<Vec<f64>, FeatureError> {
    let df = &table.df;
    let src = df.column(SRC_IP)?.str()?;
    let dst = match df.column(DST_IP) {
        Ok(c) => Some(c.str()?.clone()),
        Err(_) => None,
    };
    fn blocked<'a>(known: &mut HashMap<&'a str, bool>, intel: &Intel, ip: Option<&'a str>) -> bool {
        let Some(ip) = ip else { return false };
        *known
            .entry(ip)
            .or_insert_with(|| parse_ip(ip).is_some_and(|a| intel.blocked(a).is_some()))
    }
    let mut known: HashMap<&str, bool> = HashMap::new();
    Ok((0..table.rows())
        .map(|i| {
            let hit = blocked(&mut known, intel, src.get(i))
                || blocked(&mut known, intel, dst.as_ref().and_then(|d| d.get(i)));
            f64::from(u8::from(hit))
        })
        .collect())
}

/// `beacon_score` of every row: its pair's score.
pub(crate) fn beacon_score(table: &LogTable, pairs: &PairScores) -> Result<Vec<f64>, FeatureError> {
    let df = &table.df;
    let src = df.column(SRC_IP)?.str()?;
    let dst = df.column(DST_IP)?.str()?;
    let port = df.column(DST_PORT)?.cast(&DataType::UInt32)?;
    let port = port.u32()?;
    Ok((0..table.rows())
        .map(|i| match (src.get(i), dst.get(i)) {
            (Some(s), Some(d)) => pairs.score(s, d, port.get(i).unwrap_or(0)),
            _ => 0.0,
        })
        .collect())
}
