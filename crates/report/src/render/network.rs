//! The report sections about who talks to whom: beacons (regular source -> destination
//! pairs), the communication graph of flagged traffic, and threat-intel list matches.
//!
//! Each builds a [`Section`] of plain text from the model, or none when the model lacks the
//! data; escaping is left to the output format as for every section.

use super::{Block, Section, Table, byte_total, fixed};
use crate::model::{BeaconSection, GraphData, IntelSection, ReportModel, Unit};
use crate::plots::{BEACON_PLOT, GRAPH_PLOT, MAX_BEACON_PANELS};
use crate::units::format_value;

/// Most flagged edges listed under the communication graph.
const MAX_GRAPH_EDGE_ROWS: usize = 20;

/// What the beacon score means, shown above the table.
const BEACON_EXPLANATION: &str = "A beacon is a host that calls the same destination again \
and again on a timer, as malware implants poll their command-and-control servers. Following \
RITA's beacon analysis, each source -> destination pair with enough connections is scored by \
components in [0, 1], higher meaning more beacon-like: interval skew and interval dispersion \
(how symmetric and how tight the times between connections are), size regularity (how alike \
the connection sizes are), count (how many connections over the observed span) and coverage \
(how much of the span the pair is present in). The score combines them; pairs at or above the \
threshold are flagged.";

/// The "Beacons" section, when the model has a beacon analysis.
pub(super) fn beacon_section(model: &ReportModel) -> Option<Section> {
    let beacons = model.beacons.as_ref()?;
    let mut rest = vec![Block::Note(beacon_scope(beacons))];
    if beacons.pairs.is_empty() {
        rest.push(Block::Note(
            "No pair had enough connections to be scored.".into(),
        ));
    } else {
        rest.push(Block::Table(beacon_table(beacons)));
        rest.push(Block::Figure {
            plot: BEACON_PLOT.into(),
            caption: format!(
                "Intervals between connections of the first {} pairs, numbered as in the \
                 table; flagged pairs in red.",
                beacons.pairs.len().min(MAX_BEACON_PANELS)
            ),
        });
    }
    Some(Section {
        heading: "Beacons".into(),
        note: Some(BEACON_EXPLANATION.into()),
        table: None,
        rest,
    })
}

/// The detector, the pairs analysed and scored, the threshold and the internal networks.
fn beacon_scope(beacons: &BeaconSection) -> String {
    let flagged = beacons.pairs.iter().filter(|p| p.flagged).count();
    let networks = if beacons.internal_networks.is_empty() {
        "No internal networks were given: every pair was analysed.".to_string()
    } else {
        format!(
            "Internal networks: {}.",
            beacons.internal_networks.join(", ")
        )
    };
    format!(
        "Detector {}: {} pairs analysed, {} with at least {} connections scored; threshold {}. \
         {} pairs shown, highest score first, {flagged} of them flagged. {networks}",
        beacons.detector,
        beacons.analysed_pairs,
        beacons.scored_pairs,
        beacons.min_connections,
        fixed(beacons.threshold),
        beacons.pairs.len(),
    )
}

fn beacon_table(beacons: &BeaconSection) -> Table {
    let mut table = Table::new(&[
        ("#", true),
        ("Source", false),
        ("Destination", false),
        ("Dst port", true),
        ("Connections", true),
        ("Score", true),
        ("Flagged", false),
        ("Interval skew", true),
        ("Interval dispersion", true),
        ("Size regularity", true),
        ("Count", true),
        ("Coverage", true),
        ("Median interval", true),
        ("First seen", false),
        ("Last seen", false),
    ]);
    table.rows = beacons
        .pairs
        .iter()
        .enumerate()
        .map(|(i, pair)| {
            vec![
                (i + 1).to_string(),
                pair.src_ip.clone(),
                pair.dst_ip.clone(),
                pair.dst_port.to_string(),
                pair.connections.to_string(),
                fixed(pair.score),
                if pair.flagged { "yes" } else { "no" }.into(),
                fixed(pair.interval_skew),
                fixed(pair.interval_dispersion),
                fixed(pair.size_regularity),
                fixed(pair.count),
                fixed(pair.coverage),
                format_value(Unit::Seconds, pair.median_interval_s),
                pair.first_seen.clone(),
                pair.last_seen.clone(),
            ]
        })
        .collect();
    table
}

/// The "Communication graph" section, when the model has a graph.
pub(super) fn graph_section(model: &ReportModel) -> Option<Section> {
    let graph = model.graph.as_ref()?;
    let internal = graph.nodes.iter().filter(|n| n.internal).count();
    let flagged_nodes = graph.nodes.iter().filter(|n| n.flagged).count();
    let flagged_edges = graph.edges.iter().filter(|e| e.flagged > 0).count();
    let omitted = omitted_text(graph);
    let mut rest = Vec::new();
    if graph.nodes.is_empty() {
        rest.push(Block::Note(format!("The graph has no node. {omitted}")));
    } else {
        rest.push(Block::Figure {
            plot: GRAPH_PLOT.into(),
            caption: format!(
                "Internal hosts on the inner circle, most bytes first clockwise from the top; \
                 external hosts on the outer ring, each beside the internal host it exchanged \
                 most bytes with. Node area grows with the logarithm of the bytes, flagged \
                 hosts are ringed in red; red edges carry flagged rows, grey edges do not; \
                 labels name the flagged and then the largest hosts. {omitted}"
            ),
        });
    }
    let table = flagged_edge_table(graph);
    if !table.rows.is_empty() {
        rest.push(Block::Subheading("Flagged edges".into()));
        rest.push(Block::Table(table));
    }
    Some(Section {
        heading: "Communication graph".into(),
        note: Some(format!(
            "Source -> destination graph of the flagged traffic and its neighbourhood: {} hosts \
             ({internal} internal, {flagged_nodes} endpoints of flagged rows) and {} edges \
             ({flagged_edges} carrying flagged rows).",
            graph.nodes.len(),
            graph.edges.len(),
        )),
        table: None,
        rest,
    })
}

/// How many nodes the caller's limit left out of the graph, as a sentence.
fn omitted_text(graph: &GraphData) -> String {
    match graph.omitted_nodes {
        0 => "No host was left out.".into(),
        1 => "1 more host was left out by the node limit.".into(),
        n => format!("{n} more hosts were left out by the node limit."),
    }
}

/// The edges with flagged rows (most flagged rows first, then most bytes, then model order),
/// at most [`MAX_GRAPH_EDGE_ROWS`]; edges whose ends are not nodes are left out.
fn flagged_edge_table(graph: &GraphData) -> Table {
    let mut table = Table::new(&[
        ("Source", false),
        ("Destination", false),
        ("Rows", true),
        ("Flagged rows", true),
        ("Bytes", true),
    ]);
    let mut edges: Vec<_> = graph
        .edges
        .iter()
        .filter(|e| e.flagged > 0)
        .filter_map(|e| Some((graph.nodes.get(e.src)?, graph.nodes.get(e.dst)?, e)))
        .collect();
    // stable: ties keep model order
    edges.sort_by_key(|&(_, _, e)| std::cmp::Reverse((e.flagged, e.bytes)));
    table.rows = edges
        .into_iter()
        .take(MAX_GRAPH_EDGE_ROWS)
        .map(|(src, dst, edge)| {
            vec![
                src.ip.clone(),
                dst.ip.clone(),
                edge.rows.to_string(),
                edge.flagged.to_string(),
                byte_total(edge.bytes),
            ]
        })
        .collect();
    table
}

/// The "Threat intel" section, when the model has threat-intel lists.
pub(super) fn intel_section(model: &ReportModel) -> Option<Section> {
    let intel = model.intel.as_ref()?;
    let mut rest = Vec::new();
    if !intel.lists.is_empty() {
        rest.push(Block::Subheading("Lists".into()));
        rest.push(Block::Table(list_table(intel)));
    }
    rest.push(Block::Subheading("Matched addresses".into()));
    if intel.matches.is_empty() {
        rest.push(Block::Note("No address matched a list.".into()));
    } else {
        rest.push(Block::Note(format!(
            "{} addresses shown, most rows first: the list and the entry each matched.",
            intel.matches.len()
        )));
        rest.push(Block::Table(match_table(intel)));
    }
    Some(Section {
        heading: "Threat intel".into(),
        note: Some(format!(
            "{} lists; {} flags were removed because an address was on an allowlist.",
            intel.lists.len(),
            intel.suppressed_flags
        )),
        table: None,
        rest,
    })
}

fn list_table(intel: &IntelSection) -> Table {
    let mut table = Table::new(&[
        ("List", false),
        ("Kind", false),
        ("Entries", true),
        ("Matched rows", true),
    ]);
    table.rows = intel
        .lists
        .iter()
        .map(|list| {
            vec![
                list.name.clone(),
                list.kind.clone(),
                list.entries.to_string(),
                list.matched_rows.to_string(),
            ]
        })
        .collect();
    table
}

fn match_table(intel: &IntelSection) -> Table {
    let mut table = Table::new(&[
        ("Address", false),
        ("Side", false),
        ("List", false),
        ("Kind", false),
        ("Entry", false),
        ("Rows", true),
        ("Flagged", true),
    ]);
    table.rows = intel
        .matches
        .iter()
        .map(|m| {
            vec![
                m.ip.clone(),
                m.side.clone(),
                m.list.clone(),
                m.kind.clone(),
                m.entry.clone(),
                m.rows.to_string(),
                m.flagged.to_string(),
            ]
        })
        .collect();
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GraphEdge;
    use crate::test_fixture::{graph_data, sections_model};

    #[test]
    fn sections_are_absent_without_their_data() {
        let model = crate::test_fixture::sample_model();
        assert!(beacon_section(&model).is_none());
        assert!(graph_section(&model).is_none());
        assert!(intel_section(&model).is_none());
    }

    #[test]
    fn empty_sections_say_so() {
        let mut model = sections_model();
        model.beacons.as_mut().unwrap().pairs.clear();
        model.intel.as_mut().unwrap().matches.clear();
        model.graph = Some(GraphData::default());
        let beacons = beacon_section(&model).unwrap();
        assert!(beacons.rest.contains(&Block::Note(
            "No pair had enough connections to be scored.".into()
        )));
        assert!(
            !beacons
                .rest
                .iter()
                .any(|b| matches!(b, Block::Figure { .. }))
        );
        let graph = graph_section(&model).unwrap();
        assert_eq!(
            graph.rest,
            vec![Block::Note(
                "The graph has no node. No host was left out.".into()
            )]
        );
        let intel = intel_section(&model).unwrap();
        assert!(
            intel
                .rest
                .contains(&Block::Note("No address matched a list.".into()))
        );
    }

    #[test]
    fn flagged_edges_are_listed_most_flagged_first_and_bad_indices_skipped() {
        let mut graph = graph_data(3, 4);
        graph.edges.push(GraphEdge {
            src: 0,
            dst: 99,
            bytes: 1,
            rows: 1,
            flagged: 100,
        });
        graph.edges[1].flagged = 5;
        let table = flagged_edge_table(&graph);
        let flagged: Vec<&str> = table.rows.iter().map(|r| r[3].as_str()).collect();
        assert_eq!(flagged, ["5", "2", "2", "2"]);
    }
}
