//! The communication graph: bytes, rows and flagged rows per source -> destination edge,
//! folded batch by batch with bounded memory, and at the end the flagged edges with their
//! neighbourhood as the report's [`GraphData`].

use std::collections::HashMap;
use webthreat_features::{Addresses, LogColumns};
use webthreat_intel::{NetworkSet, parse_ip};
use webthreat_report::{GraphData, GraphEdge, GraphNode};

/// Edges kept while folding; past it only edges already kept or carrying a flagged row are.
const MAX_EDGES: usize = 200_000;
/// Hosts drawn at most.
const MAX_NODES: usize = 300;

/// A source -> destination edge, by address.
type Edge = (Box<str>, Box<str>);

#[derive(Debug, Default, Clone, Copy)]
struct EdgeStats {
    bytes: u128,
    rows: u64,
    flagged: u64,
}

/// The edges of the log.
#[derive(Debug, Default)]
pub(crate) struct GraphTally {
    edges: HashMap<Edge, EdgeStats>,
    /// Rows on edges not kept because of [`MAX_EDGES`].
    dropped_rows: u64,
}

impl GraphTally {
    /// Folds a batch's rows (`flagged`: flagged by any detector).
    pub(crate) fn add(&mut self, columns: &LogColumns, flagged: &[bool]) {
        let Some(addresses) = &columns.addresses else {
            return;
        };
        // one edge key per distinct (source, destination) of the batch
        let mut batch: HashMap<(u32, u32), EdgeStats> = HashMap::new();
        for (i, (&s, &d)) in addresses.src.iter().zip(&addresses.dst).enumerate() {
            if s == Addresses::NONE || d == Addresses::NONE {
                continue;
            }
            let bytes = [&columns.bytes_in, &columns.bytes_out]
                .iter()
                .map(|c| c.as_ref().map_or(0, |c| c[i].max(0.0) as u128))
                .sum::<u128>();
            let e = batch.entry((s, d)).or_default();
            e.bytes = e.bytes.saturating_add(bytes);
            e.rows += 1;
            e.flagged += u64::from(flagged[i]);
        }
        for ((s, d), stats) in batch {
            let key = (
                Box::from(addresses.name(s).unwrap_or_default()),
                Box::from(addresses.name(d).unwrap_or_default()),
            );
            let full = self.edges.len() >= MAX_EDGES;
            match self.edges.get_mut(&key) {
                Some(e) => {
                    e.bytes = e.bytes.saturating_add(stats.bytes);
                    e.rows += stats.rows;
                    e.flagged += stats.flagged;
                }
                None if !full || stats.flagged > 0 => {
                    self.edges.insert(key, stats);
                }
                None => self.dropped_rows += stats.rows,
            }
        }
    }

    /// The graph of the flagged edges' hosts and their neighbours (most bytes first), at most
    /// [`MAX_NODES`] hosts; `None` when nothing was flagged. A note says when edges were not
    /// kept.
    pub(crate) fn finish(self, internal: &NetworkSet) -> (Option<GraphData>, Option<String>) {
        let note = (self.dropped_rows > 0).then(|| {
            format!(
                "communication graph: {} rows on edges beyond the first {MAX_EDGES} were not kept",
                self.dropped_rows
            )
        });
        let mut edges: Vec<(Edge, EdgeStats)> = self.edges.into_iter().collect();
        // flagged edges first (most flagged rows, then most bytes), then the rest by bytes;
        // ties by addresses, so the order never depends on hashing
        edges.sort_by(|(ka, a), (kb, b)| {
            (b.flagged.min(1).cmp(&a.flagged.min(1)))
                .then(b.flagged.cmp(&a.flagged))
                .then(b.bytes.cmp(&a.bytes))
                .then(ka.cmp(kb))
        });
        if edges.first().is_none_or(|(_, e)| e.flagged == 0) {
            return (None, note);
        }
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut nodes: Vec<GraphNode> = Vec::new();
        let mut chosen: Vec<GraphEdge> = Vec::new();
        let flagged_hosts: std::collections::HashSet<&str> = edges
            .iter()
            .filter(|(_, e)| e.flagged > 0)
            .flat_map(|((s, d), _)| [&**s, &**d])
            .collect();
        let mut omitted: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for ((s, d), e) in &edges {
            // the neighbourhood: edges touching a host of a flagged edge
            if e.flagged == 0 && !flagged_hosts.contains(&**s) && !flagged_hosts.contains(&**d) {
                continue;
            }
            let new = [&**s, &**d]
                .iter()
                .filter(|h| !index.contains_key(**h))
                .count();
            if nodes.len() + new > MAX_NODES {
                for h in [&**s, &**d] {
                    if !index.contains_key(h) {
                        omitted.insert(h);
                    }
                }
                continue;
            }
            let mut ends = [0; 2];
            for (end, host) in ends.iter_mut().zip([&**s, &**d]) {
                *end = *index.entry(host).or_insert_with(|| {
                    nodes.push(GraphNode {
                        ip: host.to_string(),
                        bytes: 0,
                        internal: parse_ip(host).is_some_and(|ip| internal.contains(ip)),
                        flagged: flagged_hosts.contains(host),
                    });
                    nodes.len() - 1
                });
            }
            let [src, dst] = ends;
            for k in [src, dst] {
                nodes[k].bytes = nodes[k].bytes.saturating_add(e.bytes);
            }
            chosen.push(GraphEdge {
                src,
                dst,
                bytes: e.bytes,
                rows: e.rows,
                flagged: e.flagged,
            });
        }
        let graph = GraphData {
            nodes,
            edges: chosen,
            omitted_nodes: omitted.iter().filter(|h| !index.contains_key(**h)).count() as u64,
        };
        (Some(graph), note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(pairs: &[(&str, &str, f64)]) -> LogColumns {
        let mut names: Vec<Box<str>> = Vec::new();
        let mut code = |ip: &str| -> u32 {
            match names.iter().position(|n| &**n == ip) {
                Some(k) => k as u32,
                None => {
                    names.push(ip.into());
                    (names.len() - 1) as u32
                }
            }
        };
        let src = pairs.iter().map(|p| code(p.0)).collect();
        let dst = pairs.iter().map(|p| code(p.1)).collect();
        LogColumns {
            bytes_in: Some(pairs.iter().map(|p| p.2).collect()),
            addresses: Some(Addresses { names, src, dst }),
            ..LogColumns::default()
        }
    }

    #[test]
    fn flagged_edges_and_their_neighbours_make_the_graph_whatever_the_batching() {
        let rows = [
            ("10.0.0.1", "203.0.113.9", 100.0),
            ("10.0.0.1", "198.51.100.1", 5.0),
            ("10.0.0.2", "198.51.100.7", 7.0),
            ("10.0.0.1", "203.0.113.9", 50.0),
        ];
        let flags = [true, false, false, false];
        let mut whole = GraphTally::default();
        whole.add(&columns(&rows), &flags);
        let mut split = GraphTally::default();
        split.add(&columns(&rows[..2]), &flags[..2]);
        split.add(&columns(&rows[2..]), &flags[2..]);
        let (a, _) = whole.finish(&NetworkSet::private());
        let (b, _) = split.finish(&NetworkSet::private());
        assert_eq!(a, b);
        let g = a.unwrap();
        // 10.0.0.2's edge touches no flagged host: left out
        let ips: Vec<&str> = g.nodes.iter().map(|n| n.ip.as_str()).collect();
        assert_eq!(ips, ["10.0.0.1", "203.0.113.9", "198.51.100.1"]);
        assert_eq!(g.edges[0].bytes, 150);
        assert_eq!((g.edges[0].rows, g.edges[0].flagged), (2, 1));
        assert!(g.nodes[0].internal && !g.nodes[1].internal);
    }

    #[test]
    fn nothing_flagged_draws_no_graph() {
        let mut t = GraphTally::default();
        t.add(&columns(&[("10.0.0.1", "203.0.113.9", 1.0)]), &[false]);
        assert!(t.finish(&NetworkSet::private()).0.is_none());
    }
}
