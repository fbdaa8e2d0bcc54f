//! Per source IP and per destination port tallies: rows, flagged rows, bytes and highest
//! severity, folded batch by batch; the report's entity tables and flagged-by bars.

use super::TOP_CATEGORIES;
use std::collections::{BTreeMap, HashMap};
use webthreat_core::Entities;
use webthreat_features::LogColumns;
use webthreat_report::{EntitySummary, LabelCount, top_of};

/// Rows of the per-IP and per-port tables.
const TOP_ENTITIES: usize = 20;

/// Per source IP and per destination port activity, folded row by row (in memory or batch by
/// batch): rows, flagged rows, bytes and highest severity.
#[derive(Default)]
pub(crate) struct EntityTally {
    /// Hashed rather than ordered: one lookup per distinct key of a batch (ordered by key in
    /// `finish`).
    ips: HashMap<String, EntitySummary, foldhash::fast::RandomState>,
    ports: HashMap<u16, EntitySummary, foldhash::fast::RandomState>,
}

impl EntityTally {
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
    }

    /// Distinct source IPs seen.
    pub(crate) fn distinct_ips(&self) -> usize {
        self.ips.len()
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

/// The [`TOP_ENTITIES`] most flagged entities (then most severe, busiest, by key).
fn top_entities(by_key: BTreeMap<String, EntitySummary>) -> Vec<EntitySummary> {
    let mut all: Vec<EntitySummary> = by_key.into_values().collect();
    all.sort_by(|x, y| {
        y.flagged
            .cmp(&x.flagged)
            .then(y.max_severity.cmp(&x.max_severity))
            .then(y.rows.cmp(&x.rows))
            .then(x.key.cmp(&y.key))
    });
    all.truncate(TOP_ENTITIES);
    all
}
