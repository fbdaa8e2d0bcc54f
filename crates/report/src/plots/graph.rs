//! The communication graph: hosts as circles on two rings, source -> destination edges as
//! lines, drawn with a deterministic layout and a legend.
//!
//! Layout: internal hosts on an inner circle, most bytes first, clockwise from the top (one
//! internal host sits in the centre); external hosts on an outer ring, evenly spaced in the
//! order of their targets: the angle of the internal host they exchanged most bytes with (the
//! others spread around the turn), then by bytes, so the edges of one internal host fan out to
//! the arc beside it instead of crossing the whole picture. A ring of many hosts
//! alternates between two radii so neighbours do not overlap. With hosts of one kind only, they
//! all go on the outer ring. The order uses integer keys only (bytes, indices), so the same
//! graph always gives the same picture.
//!
//! Node area grows with the logarithm of the host's bytes; flagged hosts get a red ring; edges
//! with flagged rows are red and drawn over the grey others. Labels name the flagged hosts and
//! then the largest, at most [`MAX_LABELS`], leaving out a label that would overlap one
//! already written. The graph is bounded whatever the model holds:
//! at most [`MAX_DRAWN_NODES`] hosts and [`MAX_DRAWN_EDGES`] edges are drawn, and the legend
//! says when some were not.

use super::{
    BAR_BLUE, DrawResult, FONT_FAMILY, NORMAL_GREY, OUT_ORANGE, SUSPICIOUS_RED, caption_font,
    plot_text, shorten,
};
use crate::model::GraphData;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::cmp::Reverse;
use std::f64::consts::{FRAC_PI_2, TAU};

/// Most hosts drawn (the caller keeps a few hundred; more would not be readable anyway).
pub(super) const MAX_DRAWN_NODES: usize = 1000;
/// Most edges drawn: those with flagged rows first, then by bytes.
pub(super) const MAX_DRAWN_EDGES: usize = 5000;
/// Most hosts labelled.
pub(super) const MAX_LABELS: usize = 24;
/// Longest label drawn, in characters.
const MAX_LABEL_CHARS: usize = 26;
/// Width of the legend on the right, in pixels.
const LEGEND_WIDTH: u32 = 260;
/// Smallest and largest node radius, in pixels.
const NODE_RADIUS: (f64, f64) = (3.0, 16.0);
/// Hosts on a ring above which it alternates between two radii.
const STAGGER_ABOVE: usize = 60;

/// Where each host is drawn: `None` for a host beyond [`MAX_DRAWN_NODES`].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Layout {
    /// Per node: centre in pixels, radius in pixels, and the direction from the picture's
    /// centre (radians; labels are written outwards along it).
    pub nodes: Vec<Option<Placed>>,
    /// Indices of the edges drawn, grey ones first then flagged ones, each group by bytes.
    pub edges: Vec<usize>,
}

/// One drawn host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Placed {
    pub x: i32,
    pub y: i32,
    pub radius: i32,
    pub angle: f64,
}

/// Node radius for `bytes` when the largest host has `max_bytes`: the area grows linearly
/// with `log10(1 + bytes)` from the smallest to the largest radius.
fn node_radius(bytes: u128, max_bytes: u128) -> f64 {
    let (small, large) = NODE_RADIUS;
    let log = |b: u128| (b as f64).ln_1p();
    let share = if max_bytes == 0 {
        0.0
    } else {
        (log(bytes) / log(max_bytes)).clamp(0.0, 1.0)
    };
    (small * small + (large * large - small * small) * share).sqrt()
}

/// Places the hosts of `graph` in a `width` x `height` pixel area.
pub(super) fn layout(graph: &GraphData, width: u32, height: u32) -> Layout {
    let nodes = &graph.nodes;
    // the hosts drawn: most bytes first
    let mut drawn: Vec<usize> = (0..nodes.len()).collect();
    drawn.sort_by_key(|&i| (Reverse(nodes[i].bytes), i));
    drawn.truncate(MAX_DRAWN_NODES);
    let mut is_drawn = vec![false; nodes.len()];
    for &i in &drawn {
        is_drawn[i] = true;
    }
    let valid_edge = |e: &crate::model::GraphEdge| {
        e.src < nodes.len() && e.dst < nodes.len() && is_drawn[e.src] && is_drawn[e.dst]
    };
    let inner: Vec<usize> = drawn
        .iter()
        .copied()
        .filter(|&i| nodes[i].internal)
        .collect();
    let mut outer: Vec<usize> = drawn
        .iter()
        .copied()
        .filter(|&i| !nodes[i].internal)
        .collect();
    // each external host beside the internal host it exchanged most bytes with
    let mut inner_rank = vec![usize::MAX; nodes.len()];
    for (rank, &i) in inner.iter().enumerate() {
        inner_rank[i] = rank;
    }
    let mut peer: Vec<Option<(u128, usize)>> = vec![None; nodes.len()];
    for edge in graph.edges.iter().filter(|e| valid_edge(e)) {
        for (host, other) in [(edge.src, edge.dst), (edge.dst, edge.src)] {
            let rank = inner_rank[other];
            if rank == usize::MAX || nodes[host].internal {
                continue;
            }
            // most bytes, then the higher-ranked internal host
            let better = match peer[host] {
                None => true,
                Some((bytes, best)) => (edge.bytes, Reverse(rank)) > (bytes, Reverse(best)),
            };
            if better {
                peer[host] = Some((edge.bytes, rank));
            }
        }
    }
    // each external host's place on the ring as a fraction of a turn from the top: its peer's
    // on the inner circle, or (without one) spread evenly; kept as exact integer fractions
    let unpeered: Vec<usize> = outer
        .iter()
        .copied()
        .filter(|&i| peer[i].is_none())
        .collect();
    let mut target: Vec<(u128, u128)> = vec![(0, 1); nodes.len()];
    for &i in &outer {
        if let Some((_, rank)) = peer[i] {
            target[i] = (rank as u128, inner.len() as u128);
        }
    }
    for (k, &i) in unpeered.iter().enumerate() {
        target[i] = (k as u128, unpeered.len() as u128);
    }
    outer.sort_by(|&a, &b| {
        let ((na, da), (nb, db)) = (target[a], target[b]);
        (na * db)
            .cmp(&(nb * da))
            .then(nodes[b].bytes.cmp(&nodes[a].bytes))
            .then(a.cmp(&b))
    });

    let (cx, cy) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
    // room for the largest node and a label
    let outer_radius = (cx.min(cy) - NODE_RADIUS.1 - 40.0).max(10.0);
    let max_bytes = drawn.first().map_or(0, |&i| nodes[i].bytes);
    let mut placed: Vec<Option<Placed>> = vec![None; nodes.len()];
    let mut place_ring = |ring: &[usize], radius: f64| {
        let n = ring.len();
        for (k, &i) in ring.iter().enumerate() {
            let (angle, r) = if n == 1 && radius < outer_radius {
                (FRAC_PI_2, 0.0)
            } else {
                let stagger = if n > STAGGER_ABOVE && k % 2 == 1 {
                    0.9
                } else {
                    1.0
                };
                (-FRAC_PI_2 + TAU * k as f64 / n as f64, radius * stagger)
            };
            placed[i] = Some(Placed {
                x: (cx + r * angle.cos()).round() as i32,
                y: (cy + r * angle.sin()).round() as i32,
                radius: node_radius(nodes[i].bytes, max_bytes).round() as i32,
                angle,
            });
        }
    };
    if inner.is_empty() || outer.is_empty() {
        place_ring(&drawn_order(&inner, &outer), outer_radius);
    } else {
        place_ring(&inner, outer_radius * 0.42);
        place_ring(&outer, outer_radius);
    }

    let mut edges: Vec<usize> = (0..graph.edges.len())
        .filter(|&e| valid_edge(&graph.edges[e]))
        .collect();
    // keep the flagged and the heaviest, then draw grey under red
    edges.sort_by_key(|&e| {
        let edge = &graph.edges[e];
        (Reverse(edge.flagged > 0), Reverse(edge.bytes), e)
    });
    edges.truncate(MAX_DRAWN_EDGES);
    edges.sort_by_key(|&e| {
        let edge = &graph.edges[e];
        (edge.flagged > 0, Reverse(edge.bytes), e)
    });
    Layout {
        nodes: placed,
        edges,
    }
}

/// The one non-empty ring of hosts of one kind (the other is empty).
fn drawn_order(inner: &[usize], outer: &[usize]) -> Vec<usize> {
    if inner.is_empty() {
        outer.to_vec()
    } else {
        inner.to_vec()
    }
}

/// The hosts labelled: flagged ones, then the others, each by bytes, at most [`MAX_LABELS`].
fn labelled(graph: &GraphData, layout: &Layout) -> Vec<usize> {
    let mut hosts: Vec<usize> = (0..graph.nodes.len())
        .filter(|&i| layout.nodes[i].is_some())
        .collect();
    hosts.sort_by_key(|&i| {
        let node = &graph.nodes[i];
        (Reverse(node.flagged), Reverse(node.bytes), i)
    });
    hosts.truncate(MAX_LABELS);
    hosts
}

/// The pixel box a label of 12-pixel text is estimated to cover (7 pixels a character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LabelBox {
    left: i32,
    top: i32,
    right: i32,
    bottom: i32,
}

impl LabelBox {
    const CHAR_WIDTH: i32 = 7;
    const HEIGHT: i32 = 14;

    /// The box of `chars` characters anchored at `at` as `horizontal`, `vertical` say.
    fn around((x, y): (i32, i32), chars: usize, horizontal: HPos, vertical: VPos) -> Self {
        let width = Self::CHAR_WIDTH.saturating_mul(i32::try_from(chars).unwrap_or(i32::MAX));
        let left = match horizontal {
            HPos::Left => x,
            HPos::Center => x - width / 2,
            HPos::Right => x - width,
        };
        let top = match vertical {
            VPos::Top => y,
            VPos::Center => y - Self::HEIGHT / 2,
            VPos::Bottom => y - Self::HEIGHT,
        };
        Self {
            left,
            top,
            right: left.saturating_add(width),
            bottom: top + Self::HEIGHT,
        }
    }

    fn overlaps(&self, other: &Self) -> bool {
        self.left < other.right
            && other.left < self.right
            && self.top < other.bottom
            && other.top < self.bottom
    }
}

/// Draws `graph` with its legend under `title`.
pub(super) fn draw_graph<DB>(
    root: &DrawingArea<DB, Shift>,
    graph: &GraphData,
    title: &str,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let root = root.titled(title, caption_font())?;
    let (width, _) = root.dim_in_pixel();
    let (area, legend) = root.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    let (w, h) = area.dim_in_pixel();
    let layout = layout(graph, w, h);
    let position = |i: usize| layout.nodes[i].map(|p| (p.x, p.y));

    for &e in &layout.edges {
        let edge = &graph.edges[e];
        let (Some(from), Some(to)) = (position(edge.src), position(edge.dst)) else {
            continue;
        };
        if from == to {
            continue;
        }
        let style = if edge.flagged > 0 {
            SUSPICIOUS_RED.mix(0.85).stroke_width(2)
        } else {
            NORMAL_GREY.mix(0.45).stroke_width(1)
        };
        area.draw(&PathElement::new([from, to], style))?;
    }

    // larger nodes first, so smaller ones stay visible on top
    let mut order: Vec<usize> = (0..graph.nodes.len())
        .filter(|&i| layout.nodes[i].is_some())
        .collect();
    order.sort_by_key(|&i| (Reverse(graph.nodes[i].bytes), i));
    for i in order {
        let (Some(p), node) = (layout.nodes[i], &graph.nodes[i]) else {
            continue;
        };
        let fill = if node.internal { BAR_BLUE } else { OUT_ORANGE };
        area.draw(&Circle::new((p.x, p.y), p.radius, fill.mix(0.9).filled()))?;
        let ring = if node.flagged {
            SUSPICIOUS_RED.stroke_width(3)
        } else {
            BLACK.mix(0.6).stroke_width(1)
        };
        area.draw(&Circle::new((p.x, p.y), p.radius, ring))?;
    }

    // labels that would overlap one already written are left out
    let mut taken: Vec<LabelBox> = Vec::new();
    for i in labelled(graph, &layout) {
        let Some(p) = layout.nodes[i] else {
            continue;
        };
        let (cos, sin) = (p.angle.cos(), p.angle.sin());
        let gap = f64::from(p.radius) + 5.0;
        let at = (
            p.x + (gap * cos).round() as i32,
            p.y + (gap * sin).round() as i32,
        );
        let horizontal = if cos.abs() < 0.2 {
            HPos::Center
        } else if cos > 0.0 {
            HPos::Left
        } else {
            HPos::Right
        };
        let vertical = if sin > 0.7 {
            VPos::Top
        } else if sin < -0.7 {
            VPos::Bottom
        } else {
            VPos::Center
        };
        let style = TextStyle::from((FONT_FAMILY, 12))
            .color(&BLACK)
            .pos(Pos::new(horizontal, vertical));
        let text = shorten(&plot_text(&graph.nodes[i].ip), MAX_LABEL_CHARS);
        let label = LabelBox::around(at, text.chars().count(), horizontal, vertical);
        if taken.iter().any(|other| other.overlaps(&label)) {
            continue;
        }
        taken.push(label);
        area.draw(&Text::new(text, at, style))?;
    }

    draw_legend(&legend, graph, &layout)
}

fn draw_legend<DB>(
    legend: &DrawingArea<DB, Shift>,
    graph: &GraphData,
    layout: &Layout,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let text = |s: String, at: (i32, i32)| {
        Text::new(
            s,
            at,
            TextStyle::from((FONT_FAMILY, 14))
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )
    };
    let (x, mut y) = (10, 30);
    let symbol_x = x + 12;
    let text_x = x + 34;
    let node = |fill: RGBColor, ring: ShapeStyle, y: i32| {
        [
            Circle::new((symbol_x, y), 8, fill.mix(0.9).filled()),
            Circle::new((symbol_x, y), 8, ring),
        ]
    };
    for (fill, ring, what) in [
        (BAR_BLUE, BLACK.mix(0.6).stroke_width(1), "internal host"),
        (OUT_ORANGE, BLACK.mix(0.6).stroke_width(1), "external host"),
        (
            NORMAL_GREY,
            SUSPICIOUS_RED.stroke_width(3),
            "endpoint of a flagged row",
        ),
    ] {
        for circle in node(fill, ring, y) {
            legend.draw(&circle)?;
        }
        legend.draw(&text(what.into(), (text_x, y)))?;
        y += 28;
    }
    for (style, what) in [
        (
            SUSPICIOUS_RED.mix(0.85).stroke_width(2),
            "edge with flagged rows",
        ),
        (NORMAL_GREY.stroke_width(1), "other edge"),
    ] {
        legend.draw(&PathElement::new([(x, y), (x + 24, y)], style))?;
        legend.draw(&text(what.into(), (text_x, y)))?;
        y += 28;
    }
    y += 10;
    let drawn_nodes = layout.nodes.iter().filter(|p| p.is_some()).count();
    let mut lines = vec![
        "node area: log of bytes".to_string(),
        format!("{} hosts, {} edges", graph.nodes.len(), graph.edges.len()),
    ];
    if drawn_nodes < graph.nodes.len() {
        lines.push(format!("{drawn_nodes} largest hosts drawn"));
    }
    if layout.edges.len() < graph.edges.len() {
        lines.push(format!("{} edges drawn", layout.edges.len()));
    }
    lines.push(match graph.omitted_nodes {
        0 => "no host left out".to_string(),
        n => format!("{n} more hosts left out"),
    });
    for line in lines {
        legend.draw(&text(line, (x, y)))?;
        y += 22;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GraphEdge, GraphNode};
    use crate::test_fixture::graph_data;

    fn in_area(p: &Placed, (w, h): (u32, u32)) -> bool {
        (0..w as i32).contains(&p.x) && (0..h as i32).contains(&p.y)
    }

    #[test]
    fn layout_places_every_host_inside_the_area_deterministically() {
        let graph = graph_data(40, 260);
        let a = layout(&graph, 940, 860);
        assert_eq!(a, layout(&graph, 940, 860));
        assert_eq!(a.nodes.len(), 300);
        for p in a.nodes.iter().map(|p| p.expect("all 300 drawn")) {
            assert!(in_area(&p, (940, 860)), "{p:?}");
            let radius = f64::from(p.radius);
            assert!((NODE_RADIUS.0..=NODE_RADIUS.1).contains(&radius), "{p:?}");
        }
        // flagged edges drawn last, over the grey ones
        let flags: Vec<bool> = a
            .edges
            .iter()
            .map(|&e| graph.edges[e].flagged > 0)
            .collect();
        assert!(flags.is_sorted(), "{flags:?}");
        assert_eq!(a.edges.len(), graph.edges.len());
    }

    #[test]
    fn internal_hosts_are_inside_the_external_ring() {
        let graph = graph_data(5, 20);
        let placed = layout(&graph, 900, 900);
        let distance = |i: usize| {
            let p = placed.nodes[i].unwrap();
            f64::from(p.x - 450).hypot(f64::from(p.y - 450))
        };
        let inner = (0..5).map(distance).fold(0.0, f64::max);
        let outer = (5..25).map(distance).fold(f64::MAX, f64::min);
        assert!(inner < outer, "{inner} >= {outer}");
        // the largest internal host at the top
        let top = (0..5)
            .max_by_key(|&i| (graph.nodes[i].bytes, Reverse(i)))
            .unwrap();
        let p = placed.nodes[top].unwrap();
        assert!(p.x == 450 && p.y < 450, "{p:?}");
    }

    #[test]
    fn oversized_graphs_and_bad_edges_stay_bounded() {
        let nodes: Vec<GraphNode> = (0..MAX_DRAWN_NODES + 5)
            .map(|i| GraphNode {
                ip: i.to_string(),
                bytes: i as u128,
                internal: false,
                flagged: false,
            })
            .collect();
        let edges = (0..MAX_DRAWN_EDGES + 10)
            .map(|i| GraphEdge {
                src: i % nodes.len(),
                dst: (i * 7 + 1) % (nodes.len() + 3), // some past the end
                bytes: i as u128,
                rows: 1,
                flagged: u64::from(i % 100 == 0),
            })
            .collect();
        let graph = GraphData {
            nodes,
            edges,
            omitted_nodes: u64::MAX,
        };
        let placed = layout(&graph, 940, 860);
        assert_eq!(
            placed.nodes.iter().filter(|p| p.is_some()).count(),
            MAX_DRAWN_NODES
        );
        // the smallest hosts are the ones left out
        assert!(placed.nodes[..5].iter().all(Option::is_none));
        assert!(placed.edges.len() <= MAX_DRAWN_EDGES);
        for &e in &placed.edges {
            let edge = &graph.edges[e];
            assert!(placed.nodes.get(edge.src).is_some_and(Option::is_some));
            assert!(placed.nodes.get(edge.dst).is_some_and(Option::is_some));
        }
        assert_eq!(labelled(&graph, &placed).len(), MAX_LABELS);
    }

    #[test]
    fn external_hosts_sit_beside_their_internal_peer() {
        let graph = graph_data(8, 24);
        let placed = layout(&graph, 900, 900);
        let angle = |i: usize| placed.nodes[i].unwrap().angle;
        // the shortest turn between two angles
        let apart = |a: f64, b: f64| {
            let d = (a - b).rem_euclid(TAU);
            d.min(TAU - d)
        };
        // the heaviest edge of each external host ends near it
        let mut close = 0;
        let mut far = 0;
        for j in 8..32 {
            let best = graph
                .edges
                .iter()
                .filter(|e| e.dst == j)
                .max_by_key(|e| (e.bytes, Reverse(e.src)));
            if let Some(edge) = best {
                if apart(angle(edge.src), angle(j)) < TAU / 4.0 {
                    close += 1;
                } else {
                    far += 1;
                }
            }
        }
        assert!(close > 3 * far, "{close} close, {far} far");
    }

    #[test]
    fn label_boxes_overlap_only_when_they_cross() {
        let a = LabelBox::around((100, 100), 10, HPos::Left, VPos::Center);
        assert_eq!(
            a,
            LabelBox {
                left: 100,
                top: 93,
                right: 170,
                bottom: 107
            }
        );
        let b = LabelBox::around((160, 100), 4, HPos::Left, VPos::Top);
        let c = LabelBox::around((100, 120), 10, HPos::Right, VPos::Top);
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
        let huge = LabelBox::around((0, 0), usize::MAX, HPos::Center, VPos::Bottom);
        assert!(huge.left <= huge.right);
    }

    #[test]
    fn node_area_grows_with_log_bytes() {
        assert_eq!(node_radius(0, 0), NODE_RADIUS.0);
        assert_eq!(node_radius(0, u128::MAX), NODE_RADIUS.0);
        assert_eq!(node_radius(u128::MAX, u128::MAX), NODE_RADIUS.1);
        let (a, b) = (
            node_radius(1000, 1_000_000),
            node_radius(1_000_000, 1_000_000),
        );
        assert!(NODE_RADIUS.0 < a && a < b, "{a} {b}");
    }
}
