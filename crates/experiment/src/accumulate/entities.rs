//! Per source IP and per destination port tallies: rows, flagged rows, bytes and highest
//! severity, folded batch by batch; the report's entity tables and flagged-by bars.

use super::TOP_CATEGORIES;
use std::collections::{BTreeMap, HashMap};
use webthreat_core::Entities;
use webthreat_features::LogColumns;
use webthreat_report::{EntitySummary, LabelCount, top_of};

/// Rows of the per-IP and per-port tables.
const TOP_ENTITIES: usize = 20;

/// Source IPs a bounded tally (a streamed or followed run) keeps: past it, the lower-ranked
/// half is dropped, so memory does not grow with the addresses a long log brings.
const MAX_IPS: usize = 100_000;

/// Per source IP and per destination port activity, folded row by row (in memory or batch by
/// batch): rows, flagged rows, bytes and highest severity.
#[derive(Default)]
pub(crate) struct EntityTally {
    /// Hashed rather than ordered: one lookup per distinct key of a batch (ordered by key in
    /// `finish`).
    ips: HashMap<String, EntitySummary, foldhash::fast::RandomState>,
    ports: HashMap<u16, EntitySummary, foldhash::fast::RandomState>,
    /// Keep at most [`MAX_IPS`] source IPs.
    bounded: bool,
    /// Source IPs dropped for the bound, and the rows they had then.
    dropped: (u64, u64),
}

impl EntityTally {
    /// A tally that keeps at most [`MAX_IPS`] source IPs (the top-ranked, as the report ranks
    /// them), when `bounded`.
    pub(crate) fn new(bounded: bool) -> Self {
        Self {
            bounded,
            ..Self::default()
        }
    }

    /// Adds rows with their entity keys, context columns, any-detector flag and severity.
    pub(crate) fn add(
        &mut self,
        entities: &Entities,
        cols: &LogColumns,
        any_flag: &[bool],
        max_severity: &[u8],
    ) {
        let fold = |s: &mut EntitySummary, i: usize| {
            s.rows += 1;
            s.flagged += u64::from(any_flag[i]);
            // whole bytes summed in u128 (exact and independent of batching; a value beyond
            // u128 saturates, and the report says so)
            let whole = |b: &Option<Vec<f64>>| b.as_ref().map_or(0, |b| b[i] as u128);
            s.bytes_in = s.bytes_in.saturating_add(whole(&cols.bytes_in));
            s.bytes_out = s.bytes_out.saturating_add(whole(&cols.bytes_out));
            s.max_severity = s.max_severity.max(max_severity[i]);
        };
        // rows are tallied by address index and by port (through a table indexed by port
        // number: a hash lookup per row took longer), then merged into the totals
        let mut by_ip = vec![EntitySummary::default(); entities.ips().len()];
        let mut port_slot = vec![u32::MAX; 1 << 16];
        let mut by_port: Vec<(u16, EntitySummary)> = Vec::new();
        for i in 0..entities.len() {
            if let Some(ip) = entities.src_ip_index(i) {
                fold(&mut by_ip[ip], i);
            }
            if let Some(port) = entities.dst_port(i) {
                let slot = &mut port_slot[usize::from(port)];
                if *slot == u32::MAX {
                    *slot = by_port.len() as u32;
                    by_port.push((port, EntitySummary::default()));
                }
                fold(&mut by_port[*slot as usize].1, i);
            }
        }
        let merge = |total: &mut EntitySummary, part: EntitySummary| {
            total.rows += part.rows;
            total.flagged += part.flagged;
            total.bytes_in = total.bytes_in.saturating_add(part.bytes_in);
            total.bytes_out = total.bytes_out.saturating_add(part.bytes_out);
            total.max_severity = total.max_severity.max(part.max_severity);
        };
        for (ip, part) in entities.ips().iter().zip(by_ip) {
            if part.rows == 0 {
                continue;
            }
            let total = self
                .ips
                .entry(ip.to_string())
                .or_insert_with(|| EntitySummary {
                    key: ip.to_string(),
                    ..EntitySummary::default()
                });
            merge(total, part);
        }
        for (port, part) in by_port {
            merge(self.ports.entry(port).or_default(), part);
        }
        if self.bounded && self.ips.len() > MAX_IPS {
            self.drop_lower_half();
        }
    }

    /// Keeps the [`MAX_IPS`] / 2 source IPs ranked highest (as the report's table ranks them).
    fn drop_lower_half(&mut self) {
        let mut all: Vec<EntitySummary> = self.ips.drain().map(|(_, s)| s).collect();
        all.sort_by(ranking);
        for gone in all.drain(MAX_IPS / 2..) {
            self.dropped.0 += 1;
            self.dropped.1 += gone.rows;
        }
        self.ips = all.into_iter().map(|s| (s.key.clone(), s)).collect();
    }

    /// Distinct source IPs seen; `None` once some were dropped (they may have come back).
    pub(crate) fn distinct_ips(&self) -> Option<usize> {
        (self.dropped.0 == 0).then_some(self.ips.len())
    }

    /// What the report should say when source IPs were dropped for the bound.
    pub(crate) fn note(&self) -> Option<String> {
        let (ips, rows) = self.dropped;
        (ips > 0).then(|| {
            format!(
                "per-IP table: past {MAX_IPS} source IPs the lower-ranked half is dropped to                  bound memory; {ips} were dropped with {rows} rows (an IP seen again counts                  from then on), so the count of distinct source IPs is not given"
            )
        })
    }

    /// (top IPs, top ports, flagged rows per IP, flagged rows per port).
    pub(crate) fn finish(
        self,
    ) -> (
        Vec<EntitySummary>,
        Vec<EntitySummary>,
        Vec<LabelCount>,
        Vec<LabelCount>,
    ) {
        let ports: BTreeMap<String, EntitySummary> = self
            .ports
            .into_iter()
            .map(|(port, mut s)| {
                s.key = port.to_string();
                (s.key.clone(), s)
            })
            .collect();
        let flagged_by = |map: &BTreeMap<String, EntitySummary>| {
            top_of(
                map.values().filter(|s| s.flagged > 0).map(|s| LabelCount {
                    label: s.key.clone(),
                    count: s.flagged,
                }),
                TOP_CATEGORIES,
            )
        };
        let ips: BTreeMap<String, EntitySummary> = self.ips.into_iter().collect();
        let (by_ip, by_port) = (flagged_by(&ips), flagged_by(&ports));
        (top_entities(ips), top_entities(ports), by_ip, by_port)
    }
}

/// The report's order of entities: most flagged, then most severe, busiest, by key.
fn ranking(x: &EntitySummary, y: &EntitySummary) -> std::cmp::Ordering {
    y.flagged
        .cmp(&x.flagged)
        .then(y.max_severity.cmp(&x.max_severity))
        .then(y.rows.cmp(&x.rows))
        .then(x.key.cmp(&y.key))
}

/// The [`TOP_ENTITIES`] entities ranked highest.
fn top_entities(by_key: BTreeMap<String, EntitySummary>) -> Vec<EntitySummary> {
    let mut all: Vec<EntitySummary> = by_key.into_values().collect();
    all.sort_by(ranking);
    all.truncate(TOP_ENTITIES);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of `n` rows, row `i` from source IP `prefix.i`, the first `flagged` flagged.
    fn fold(tally: &mut EntityTally, prefix: &str, n: usize, flagged: usize) {
        let ips: Vec<Box<str>> = (0..n).map(|i| format!("{prefix}.{i}").into()).collect();
        let rows: Vec<u32> = (0..n as u32).collect();
        let entities = Entities::new(ips, rows, vec![443; n], Vec::new()).unwrap();
        let cols = LogColumns::default();
        let flags: Vec<bool> = (0..n).map(|i| i < flagged).collect();
        tally.add(&entities, &cols, &flags, &vec![0; n]);
    }

    #[test]
    fn a_bounded_tally_keeps_the_top_ranked_ips_and_says_what_it_dropped() {
        let mut bounded = EntityTally::new(true);
        fold(&mut bounded, "10.0", MAX_IPS, 3);
        assert_eq!(
            (bounded.distinct_ips(), bounded.note()),
            (Some(MAX_IPS), None)
        );
        fold(&mut bounded, "10.1", 1, 0);
        assert_eq!(bounded.ips.len(), MAX_IPS / 2);
        assert_eq!(bounded.distinct_ips(), None);
        let note = bounded.note().unwrap();
        assert!(
            note.contains(&format!("{} were dropped", MAX_IPS / 2 + 1)),
            "{note}"
        );
        // the flagged IPs are kept, and come first in the report's table
        let (top, ..) = bounded.finish();
        let flagged: Vec<&str> = top.iter().take(3).map(|s| s.key.as_str()).collect();
        assert_eq!(flagged, ["10.0.0", "10.0.1", "10.0.2"]);
        // an unbounded tally keeps them all
        let mut whole = EntityTally::new(false);
        fold(&mut whole, "10.0", MAX_IPS + 1, 0);
        assert_eq!(whole.distinct_ips(), Some(MAX_IPS + 1));
    }
}
