//! Plots of a [`ReportModel`] drawn with plotters to `plots/<name>.png` and `plots/<name>.svg`.
//!
//! Text uses the DejaVu Sans font bundled by the `dejavu` crate, registered with plotters'
//! ab_glyph support, so no system font or fontconfig is needed and the PNG bytes are identical
//! across runs and machines for the same model.
//!
//! The model's numbers and strings come from untrusted logs. Every axis range is computed to
//! stay finite and non-empty whatever the values (plotters' tick computation never ends on an
//! infinite axis), and every string drawn goes through [`plot_text`].

mod beacon;
mod graph;

use crate::ReportError;
use crate::histogram::{Histogram, LabelCount, ScatterPoint};
use crate::model::{DetectorSummary, ReportModel};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::borrow::Cow;
use std::error::Error;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use webthreat_core::text::visible;

/// Pixel size of every plot but the larger ones of [`PlotKind::size`].
pub const PLOT_SIZE: (u32, u32) = (960, 540);
/// File name stem of the beacon interval histograms.
pub const BEACON_PLOT: &str = "beacon_intervals";
/// File name stem of the communication graph.
pub const GRAPH_PLOT: &str = "graph";
/// Most beacon pairs whose interval histograms are drawn (the first of the table).
pub const MAX_BEACON_PANELS: usize = 10;
/// Font family name under which DejaVu Sans is registered (plotters' default family).
const FONT_FAMILY: &str = "sans-serif";
/// Longest category label drawn on an axis; longer ones are shortened with `...`.
const MAX_AXIS_LABEL_CHARS: usize = 28;
/// Most categories drawn in one bar chart.
const MAX_BARS: usize = 25;
/// Largest magnitude of the ends of a linear axis whose data are more than `f64::MAX` apart
/// (of opposite signs). plotters computes `end - start` and steps its ticks from start to end:
/// with an infinite width or end that never finishes.
const LINEAR_AXIS_LIMIT: f64 = f64::MAX / 2.0;

const NORMAL_GREY: RGBColor = RGBColor(150, 150, 150);
const SUSPICIOUS_RED: RGBColor = RGBColor(214, 39, 40);
const BAR_BLUE: RGBColor = RGBColor(31, 119, 180);
const OUT_ORANGE: RGBColor = RGBColor(255, 127, 14);

type DrawResult = Result<(), Box<dyn Error>>;

/// Which chart a plot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    /// Log-scale histograms of bytes in and out.
    BytesDistribution,
    /// Rows per protocol.
    ConnectionsByProtocol,
    /// Rows per country.
    ConnectionsByCountry,
    /// Log-log scatter of bytes in against bytes out, suspicious rows in red.
    BytesScatter,
    /// Score histogram of the detector at this index of `ReportModel::detectors`.
    ScoreHistogram(usize),
    /// Flagged rows per source IP.
    SuspiciousBySrcIp,
    /// Flagged rows per destination port.
    SuspiciousByDstPort,
    /// Rows and bytes per time bucket.
    TrafficOverTime,
    /// ROC curves of every detector with labels.
    RocCurves,
    /// Precision-recall curves of every detector with labels.
    PrCurves,
    /// Interval histograms of the top beacon pairs, one small panel each.
    BeaconIntervals,
    /// The source -> destination graph of flagged traffic.
    CommunicationGraph,
    /// ROC AUC of every seed of repeated detectors, with their mean.
    SeedSpread,
}

impl PlotKind {
    /// Pixel size of the plot: [`PLOT_SIZE`], larger for the small multiples of the beacon
    /// intervals and for the graph.
    pub fn size(self) -> (u32, u32) {
        match self {
            PlotKind::BeaconIntervals => (1200, 560),
            PlotKind::CommunicationGraph => (1200, 900),
            _ => PLOT_SIZE,
        }
    }
}

/// A plot the model has data for: its file name stem, title and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotSpec {
    /// File name stem, e.g. `score_histogram_iforest`.
    pub name: String,
    /// Human-readable title (may contain a detector name; escape before rendering).
    pub title: String,
    /// Which chart to draw.
    pub kind: PlotKind,
}

impl PlotSpec {
    /// Relative path of the PNG from the report directory, `plots/<name>.png`.
    pub fn png_relative_path(&self) -> String {
        format!("plots/{}.png", self.name)
    }

    /// Relative path of the SVG from the report directory, `plots/<name>.svg`.
    pub fn svg_relative_path(&self) -> String {
        format!("plots/{}.svg", self.name)
    }
}

/// A rendered plot: its spec, where it was written and its contents.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotFile {
    /// What was drawn.
    pub spec: PlotSpec,
    /// Path of the PNG written.
    pub png_path: PathBuf,
    /// Path of the SVG written.
    pub svg_path: PathBuf,
    /// PNG file bytes.
    pub png: Vec<u8>,
    /// SVG document.
    pub svg: String,
}

/// Makes a detector name safe as part of a file name: ASCII letters, digits, `-` and `_` kept,
/// anything else replaced by `_`.
pub fn file_name_part(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "unnamed".to_string()
    } else {
        cleaned
    }
}

/// The plots `model` has data for, in report order. Plots without data are left out.
pub fn plot_specs(model: &ReportModel) -> Vec<PlotSpec> {
    let plots = &model.plots;
    let spec = |name: String, title: &str, kind| PlotSpec {
        name,
        title: title.to_string(),
        kind,
    };
    let mut specs = Vec::new();
    if plots.bytes_in.is_some() || plots.bytes_out.is_some() {
        specs.push(spec(
            "bytes_distribution".into(),
            "Bytes in / out distribution (log scale)",
            PlotKind::BytesDistribution,
        ));
    }
    if !plots.by_protocol.is_empty() {
        specs.push(spec(
            "connections_by_protocol".into(),
            "Connections by protocol",
            PlotKind::ConnectionsByProtocol,
        ));
    }
    if !plots.by_country.is_empty() {
        specs.push(spec(
            "connections_by_country".into(),
            "Connections by country",
            PlotKind::ConnectionsByCountry,
        ));
    }
    if !plots.scatter.is_empty() {
        specs.push(spec(
            "bytes_scatter".into(),
            "Bytes in vs bytes out (log-log)",
            PlotKind::BytesScatter,
        ));
    }
    for (index, detector) in model.detectors.iter().enumerate() {
        if detector.score_histogram.is_some() {
            specs.push(spec(
                format!("score_histogram_{}", file_name_part(&detector.name)),
                &format!("Score distribution: {}", detector.name),
                PlotKind::ScoreHistogram(index),
            ));
        }
    }
    if !plots.flagged_by_src_ip.is_empty() {
        specs.push(spec(
            "suspicious_by_src_ip".into(),
            "Suspicious rows by source IP",
            PlotKind::SuspiciousBySrcIp,
        ));
    }
    if !plots.flagged_by_dst_port.is_empty() {
        specs.push(spec(
            "suspicious_by_dst_port".into(),
            "Suspicious rows by destination port",
            PlotKind::SuspiciousByDstPort,
        ));
    }
    if !plots.traffic.is_empty() {
        specs.push(spec(
            "traffic_over_time".into(),
            "Traffic over time",
            PlotKind::TrafficOverTime,
        ));
    }
    if model.detectors.iter().any(|d| !d.roc_curve.is_empty()) {
        specs.push(spec("roc_curves".into(), "ROC curves", PlotKind::RocCurves));
    }
    if model.detectors.iter().any(|d| !d.pr_curve.is_empty()) {
        specs.push(spec(
            "pr_curves".into(),
            "Precision-recall curves",
            PlotKind::PrCurves,
        ));
    }
    if model.detectors.iter().any(|d| d.repeats.len() > 1) {
        specs.push(spec(
            "seed_spread".into(),
            "ROC AUC of every seed",
            PlotKind::SeedSpread,
        ));
    }
    if model.beacons.as_ref().is_some_and(|b| !b.pairs.is_empty()) {
        specs.push(spec(
            BEACON_PLOT.into(),
            "Intervals between connections of the top beacon pairs",
            PlotKind::BeaconIntervals,
        ));
    }
    if model.graph.as_ref().is_some_and(|g| !g.nodes.is_empty()) {
        specs.push(spec(
            GRAPH_PLOT.into(),
            "Communication graph",
            PlotKind::CommunicationGraph,
        ));
    }
    specs
}

/// Registers DejaVu Sans as plotters' `sans-serif` family (once per process).
fn ensure_font() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok { Ok(()) } else { Err(ReportError::Font) }
}

/// Draws every plot of [`plot_specs`] into `out_dir/plots/` as PNG and SVG and returns them.
pub fn render_plots(model: &ReportModel, out_dir: &Path) -> Result<Vec<PlotFile>, ReportError> {
    ensure_font()?;
    let plots_dir = out_dir.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|source| ReportError::Io {
        path: plots_dir.clone(),
        source,
    })?;
    plot_specs(model)
        .into_iter()
        .map(|spec| render_one(model, spec, &plots_dir))
        .collect()
}

fn render_one(
    model: &ReportModel,
    spec: PlotSpec,
    plots_dir: &Path,
) -> Result<PlotFile, ReportError> {
    let plot_error = |error: Box<dyn Error>| ReportError::Plot {
        plot: spec.name.clone(),
        message: error.to_string(),
    };
    let png_path = plots_dir.join(format!("{}.png", spec.name));
    let svg_path = plots_dir.join(format!("{}.svg", spec.name));
    {
        let root = BitMapBackend::new(&png_path, spec.kind.size()).into_drawing_area();
        draw_plot(&root, model, &spec).map_err(plot_error)?;
        root.present().map_err(|e| plot_error(e.into()))?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, spec.kind.size()).into_drawing_area();
        draw_plot(&root, model, &spec).map_err(plot_error)?;
        root.present().map_err(|e| plot_error(e.into()))?;
    }
    std::fs::write(&svg_path, &svg).map_err(|source| ReportError::Io {
        path: svg_path.clone(),
        source,
    })?;
    let png = std::fs::read(&png_path).map_err(|source| ReportError::Io {
        path: png_path.clone(),
        source,
    })?;
    Ok(PlotFile {
        spec,
        png_path,
        svg_path,
        png,
        svg,
    })
}

fn draw_plot<DB>(root: &DrawingArea<DB, Shift>, model: &ReportModel, spec: &PlotSpec) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let plots = &model.plots;
    let title = &plot_text(&spec.title);
    match spec.kind {
        PlotKind::BytesDistribution => draw_bytes_distribution(root, model, title),
        PlotKind::ConnectionsByProtocol => {
            draw_bars(root, &plots.by_protocol, title, "connections")
        }
        PlotKind::ConnectionsByCountry => draw_bars(root, &plots.by_country, title, "connections"),
        PlotKind::BytesScatter => draw_scatter(root, model, title),
        PlotKind::ScoreHistogram(index) => {
            draw_score_histogram(root, &model.detectors[index], title)
        }
        PlotKind::SuspiciousBySrcIp => {
            draw_bars(root, &plots.flagged_by_src_ip, title, "flagged rows")
        }
        PlotKind::SuspiciousByDstPort => {
            draw_bars(root, &plots.flagged_by_dst_port, title, "flagged rows")
        }
        PlotKind::TrafficOverTime => draw_traffic(root, model, title),
        PlotKind::RocCurves => draw_curves(root, model, title, CurveKind::Roc),
        PlotKind::PrCurves => draw_curves(root, model, title, CurveKind::Pr),
        PlotKind::BeaconIntervals => match &model.beacons {
            Some(beacons) => beacon::draw_beacon_intervals(root, beacons, title),
            None => Ok(()),
        },
        PlotKind::CommunicationGraph => match &model.graph {
            Some(graph) => graph::draw_graph(root, graph, title),
            None => Ok(()),
        },
        PlotKind::SeedSpread => draw_seed_spread(root, model, title),
    }
}

/// One column per repeated detector: a point per seed's ROC AUC and a red bar at their mean.
fn draw_seed_spread<DB>(
    root: &DrawingArea<DB, Shift>,
    model: &ReportModel,
    title: &str,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let repeated: Vec<(&str, Vec<f64>)> = (model.detectors.iter())
        .filter(|d| d.repeats.len() > 1)
        .map(|d| {
            let values = d
                .repeats
                .iter()
                .map(|m| m.roc_auc)
                .filter(|v| v.is_finite());
            (d.name.as_str(), values.collect())
        })
        .collect();
    let all = || repeated.iter().flat_map(|(_, v)| v.iter().copied());
    let lo = all().fold(1.0f64, f64::min).clamp(0.0, 1.0);
    let hi = all().fold(0.0f64, f64::max).clamp(0.0, 1.0);
    let pad = ((hi - lo) * 0.1).max(0.005);
    let (lo, hi) = ((lo - pad).max(0.0), (hi + pad).min(1.0));
    let n = repeated.len();
    let names: Vec<String> = repeated
        .iter()
        .map(|(name, _)| plot_text(name).into_owned())
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo..hi)?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            match (i - x).abs() < 1e-9 && i >= 0.0 {
                true => names.get(i as usize).cloned().unwrap_or_default(),
                false => String::new(),
            }
        })
        .y_desc("ROC AUC")
        .disable_x_mesh()
        .label_style((FONT_FAMILY, 14))
        .draw()?;
    for (i, (_, values)) in repeated.iter().enumerate() {
        let x = i as f64;
        chart.draw_series(
            values
                .iter()
                .map(|&v| Circle::new((x, v), 4, BAR_BLUE.filled())),
        )?;
        if !values.is_empty() {
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x - 0.25, mean), (x + 0.25, mean)],
                SUSPICIOUS_RED.stroke_width(3),
            )))?;
        }
    }
    Ok(())
}

/// Model text made safe to draw: control and bidirectional characters escaped by
/// [`visible`], and likewise U+FFFE and U+FFFF. plotters' SVG backend escapes `< > & " '`
/// but writes every other character as it is, and an XML document cannot hold most control
/// characters or these two noncharacters, even as references.
fn plot_text(text: &str) -> Cow<'_, str> {
    let forbidden_in_xml = |c| matches!(c, '\u{FFFE}' | '\u{FFFF}');
    match visible(text) {
        shown if !shown.contains(forbidden_in_xml) => shown,
        shown => {
            let mut out = String::with_capacity(shown.len() + 8);
            for c in shown.chars() {
                if forbidden_in_xml(c) {
                    out.extend(c.escape_unicode());
                } else {
                    out.push(c);
                }
            }
            Cow::Owned(out)
        }
    }
}

/// A category label from the model as drawn: [`plot_text`], then [`short_label`].
fn label_text(label: &str) -> String {
    short_label(&plot_text(label))
}

/// The largest of `floor` and the finite `values`.
fn finite_max(values: impl IntoIterator<Item = f64>, floor: f64) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(floor, f64::max)
}

/// The smallest and largest finite value of `values`, `None` when there is none.
fn finite_bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |bounds, v| match bounds {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A linear axis over the finite `lo..=hi` with `pad_fraction` (below 1) of its width added
/// on each side, finite and never empty whatever the values: the padding is at least 1e-9
/// and a millionth of a millionth of the ends' magnitude (so the ends differ even for
/// `lo == hi == 1e300`); it is left out where it would carry the width past `f64::MAX`, and
/// an axis wider than that is cut to `±`[`LINEAR_AXIS_LIMIT`].
fn linear_axis(lo: f64, hi: f64, pad_fraction: f64) -> Range<f64> {
    let (lo, hi) = (lo.min(hi), hi.max(lo));
    if !(hi - lo).is_finite() {
        // ends of opposite signs: the cut axis still holds 0
        return lo.max(-LINEAR_AXIS_LIMIT)..hi.min(LINEAR_AXIS_LIMIT);
    }
    let pad = ((hi - lo) * pad_fraction)
        .max(1e-9)
        .max(lo.abs().max(hi.abs()) * 1e-12);
    let (start, end) = ((lo - pad).max(f64::MIN), (hi + pad).min(f64::MAX));
    if (end - start).is_finite() {
        start..end
    } else {
        // `hi - lo` is close to f64::MAX, so far from empty
        lo..hi
    }
}

/// End of a logarithmic axis from 1 holding values up to the finite `max` (at least 1):
/// `max * 1.5`, but never past `f64::MAX` (plotters' log-axis ticks never end at infinity).
fn log_axis_end(max: f64) -> f64 {
    if max <= f64::MAX / 1.5 {
        max * 1.5
    } else {
        f64::MAX
    }
}

/// Axis label for a count or byte value: integers below a million, else scientific.
fn format_axis_value(value: f64) -> String {
    if value.abs() < 1e6 {
        format!("{value:.0}")
    } else {
        format!("{value:.1e}")
    }
}

/// A score with `decimals` decimals, in scientific notation from a million up (a score of
/// 1e308 would otherwise be written with 309 digits).
fn format_score(value: f64, decimals: usize) -> String {
    if value.abs() < 1e6 {
        format!("{value:.decimals$}")
    } else {
        format!("{value:.decimals$e}")
    }
}

/// Shortens `label` to [`MAX_AXIS_LABEL_CHARS`] characters.
fn short_label(label: &str) -> String {
    shorten(label, MAX_AXIS_LABEL_CHARS)
}

/// Shortens `label` to `max` characters (at least 4), ending a shortened one with `...`.
fn shorten(label: &str, max: usize) -> String {
    let max = max.max(4);
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let kept: String = label.chars().take(max - 3).collect();
        format!("{kept}...")
    }
}

fn caption_font() -> (&'static str, u32) {
    (FONT_FAMILY, 24)
}

/// The bars of `histogram` within the x axis `x_range`: bins with a non-finite edge are left
/// out, edges beyond the axis drawn at its end.
fn histogram_bars<'a>(
    histogram: &'a Histogram,
    x_range: Range<f64>,
    style: ShapeStyle,
) -> impl Iterator<Item = Rectangle<(f64, f64)>> + 'a {
    let on_axis = move |x: f64| x.clamp(x_range.start, x_range.end);
    histogram
        .bins()
        .filter(|(lo, hi, _)| lo.is_finite() && hi.is_finite())
        .map(move |(lo, hi, count)| {
            Rectangle::new([(on_axis(lo), 0.0), (on_axis(hi), count as f64)], style)
        })
}

fn draw_bytes_distribution<DB>(
    root: &DrawingArea<DB, Shift>,
    model: &ReportModel,
    title: &str,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let series: Vec<(&str, &Histogram, RGBColor)> = [
        ("bytes in", model.plots.bytes_in.as_ref(), BAR_BLUE),
        ("bytes out", model.plots.bytes_out.as_ref(), OUT_ORANGE),
    ]
    .into_iter()
    .filter_map(|(name, hist, color)| hist.map(|h| (name, h, color)))
    .collect();
    // edges are log10(1 + bytes): at most about 309 for finite bytes
    let x_max = finite_max(
        series.iter().flat_map(|(_, h, _)| h.edges.iter().copied()),
        1.0,
    );
    let y_max = series
        .iter()
        .map(|(_, h, _)| h.max_count())
        .max()
        .unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..(y_max * 1.1).max(1.0))?;
    chart
        .configure_mesh()
        .x_desc("bytes (log10 of 1 + value)")
        .y_desc("rows")
        .x_label_formatter(&|v| format!("1e{v:.0}"))
        .y_label_formatter(&|v| format_axis_value(*v))
        .label_style((FONT_FAMILY, 14))
        .draw()?;
    for (name, histogram, color) in series {
        chart
            .draw_series(histogram_bars(
                histogram,
                0.0..x_max,
                color.mix(0.5).filled(),
            ))?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FONT_FAMILY, 14))
        .draw()?;
    Ok(())
}

fn draw_bars<DB>(
    root: &DrawingArea<DB, Shift>,
    counts: &[LabelCount],
    title: &str,
    value_name: &str,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let counts = &counts[..counts.len().min(MAX_BARS)];
    let n = counts.len();
    // Largest count at the top: category index 0 is drawn at the bottom.
    let labels: Vec<String> = counts.iter().rev().map(|c| label_text(&c.label)).collect();
    let max = counts.iter().map(|c| c.count).max().unwrap_or(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(220)
        .build_cartesian_2d(
            0u64..max.saturating_add(max / 10).saturating_add(1),
            (0..n.saturating_sub(1)).into_segmented(),
        )?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_formatter(&|v| format_axis_value(*v as f64))
        .x_desc(value_name)
        .label_style((FONT_FAMILY, 14))
        .draw()?;
    // Rectangles rather than plotters' Histogram series, whose HashMap makes the draw order
    // (and so the SVG bytes) vary between runs.
    chart.draw_series(counts.iter().rev().enumerate().map(|(i, c)| {
        let mut bar = Rectangle::new(
            [
                (0, SegmentValue::Exact(i)),
                (c.count, SegmentValue::Exact(i + 1)),
            ],
            BAR_BLUE.filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        bar
    }))?;
    Ok(())
}

fn draw_scatter<DB>(root: &DrawingArea<DB, Shift>, model: &ReportModel, title: &str) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let points = &model.plots.scatter;
    // Shift by one so zero bytes can sit on the log axes (NaN and negative values at zero).
    let shifted = |v: f64| v.max(0.0) + 1.0;
    let x_end = log_axis_end(finite_max(points.iter().map(|p| shifted(p.bytes_in)), 10.0));
    let y_end = log_axis_end(finite_max(
        points.iter().map(|p| shifted(p.bytes_out)),
        10.0,
    ));
    // an infinite value is drawn at the end of its axis
    let position = |p: &ScatterPoint| {
        (
            shifted(p.bytes_in).min(x_end),
            shifted(p.bytes_out).min(y_end),
        )
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((1.0..x_end).log_scale(), (1.0..y_end).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("bytes in + 1")
        .y_desc("bytes out + 1")
        .x_label_formatter(&|v| format_axis_value(*v))
        .y_label_formatter(&|v| format_axis_value(*v))
        .label_style((FONT_FAMILY, 14))
        .draw()?;
    for (flagged, name, color) in [
        (false, "Normal", NORMAL_GREY),
        (true, "Suspicious", SUSPICIOUS_RED),
    ] {
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|p| p.flagged == flagged)
                    .map(|p| Circle::new(position(p), if flagged { 4 } else { 2 }, color.filled())),
            )?
            .label(name)
            .legend(move |(x, y)| Circle::new((x + 7, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FONT_FAMILY, 14))
        .draw()?;
    Ok(())
}

fn draw_score_histogram<DB>(
    root: &DrawingArea<DB, Shift>,
    detector: &DetectorSummary,
    title: &str,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let Some(histogram) = detector.score_histogram.as_ref() else {
        return Ok(());
    };
    let threshold = detector.threshold;
    let threshold = threshold.is_finite().then_some(threshold);
    let (x_min, x_max) =
        finite_bounds(histogram.edges.iter().copied().chain(threshold)).unwrap_or((0.0, 1.0));
    let x_range = linear_axis(x_min, x_max, 0.03);
    let y_max = (histogram.max_count() as f64 * 1.1).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range.clone(), 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("score")
        .y_desc("rows")
        .x_label_formatter(&|v| format_score(*v, 3))
        .y_label_formatter(&|v| format_axis_value(*v))
        .label_style((FONT_FAMILY, 14))
        .draw()?;
    chart
        .draw_series(histogram_bars(
            histogram,
            x_range.clone(),
            BAR_BLUE.mix(0.7).filled(),
        ))?
        .label("scores")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], BAR_BLUE.filled()));
    if let Some(threshold) = threshold {
        // beyond the axis only when cut to `LINEAR_AXIS_LIMIT`
        let x = threshold.clamp(x_range.start, x_range.end);
        chart
            .draw_series(LineSeries::new(
                [(x, 0.0), (x, y_max)],
                SUSPICIOUS_RED.stroke_width(3),
            ))?
            .label(format!("threshold {}", format_score(threshold, 4)))
            .legend(|(x, y)| {
                PathElement::new([(x, y), (x + 15, y)], SUSPICIOUS_RED.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FONT_FAMILY, 14))
        .draw()?;
    Ok(())
}

fn draw_traffic<DB>(root: &DrawingArea<DB, Shift>, model: &ReportModel, title: &str) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let buckets = &model.plots.traffic;
    let n = buckets.len();
    let root = root.titled(title, caption_font())?;
    let panels = root.split_evenly((2, 1));
    let x_max = (n.max(2) - 1) as f64;
    let start_label = |v: &f64| {
        let index = v.round();
        if (v - index).abs() < 1e-9 && index >= 0.0 {
            buckets
                .get(index as usize)
                .map(|b| label_text(&b.start))
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    let series: [(&str, Vec<f64>, RGBColor); 2] = [
        (
            "rows",
            buckets.iter().map(|b| b.rows as f64).collect(),
            BAR_BLUE,
        ),
        (
            "bytes",
            buckets.iter().map(|b| b.bytes as f64).collect(),
            OUT_ORANGE,
        ),
    ];
    for (panel, (name, values, color)) in panels.iter().zip(series) {
        let y_max = values.iter().copied().fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(panel)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_labels(n.clamp(2, 6))
            .x_label_formatter(&start_label)
            .y_label_formatter(&|v| format_axis_value(*v))
            .y_desc(name)
            .label_style((FONT_FAMILY, 13))
            .draw()?;
        chart.draw_series(LineSeries::new(
            values.iter().enumerate().map(|(i, &v)| (i as f64, v)),
            color.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// Which curve [`draw_curves`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CurveKind {
    Roc,
    Pr,
}

fn draw_curves<DB>(
    root: &DrawingArea<DB, Shift>,
    model: &ReportModel,
    title: &str,
    kind: CurveKind,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (x_desc, y_desc) = match kind {
        CurveKind::Roc => ("false positive rate", "true positive rate"),
        CurveKind::Pr => ("recall", "precision"),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0, 0.0..1.02)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .label_style((FONT_FAMILY, 14))
        .draw()?;
    if kind == CurveKind::Roc {
        chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], NORMAL_GREY))?;
    }
    for (index, detector) in model.detectors.iter().enumerate() {
        let points = match kind {
            CurveKind::Roc => &detector.roc_curve,
            CurveKind::Pr => &detector.pr_curve,
        };
        if points.is_empty() {
            continue;
        }
        let color = Palette99::pick(index).to_rgba();
        let area = detector.metrics.map(|m| match kind {
            CurveKind::Roc => format!(" (AUC {:.4})", m.roc_auc),
            CurveKind::Pr => format!(" (AP {:.4})", m.pr_auc),
        });
        chart
            .draw_series(LineSeries::new(
                points
                    .iter()
                    .filter(|p| p.x.is_finite() && p.y.is_finite())
                    .map(|p| (p.x, p.y)),
                color.stroke_width(2),
            ))?
            .label(format!(
                "{}{}",
                label_text(&detector.name),
                area.unwrap_or_default()
            ))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(match kind {
            CurveKind::Roc => SeriesLabelPosition::LowerRight,
            CurveKind::Pr => SeriesLabelPosition::LowerLeft,
        })
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FONT_FAMILY, 14))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DetectorMetrics;
    use crate::test_fixture::sample_model;
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::time::{Duration, Instant};

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("webthreat-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn specs_follow_available_data() {
        let names: Vec<String> = plot_specs(&sample_model())
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            vec![
                "bytes_distribution",
                "connections_by_protocol",
                "connections_by_country",
                "bytes_scatter",
                "score_histogram_iforest",
                "score_histogram_zscore",
                "suspicious_by_src_ip",
                "suspicious_by_dst_port",
                "traffic_over_time",
                "roc_curves",
                "pr_curves",
                "seed_spread",
            ]
        );
        assert!(plot_specs(&ReportModel::default()).is_empty());
    }

    #[test]
    fn axis_ranges_are_finite_and_never_empty() {
        // the fixture's score histogram: unchanged by the bounds
        assert_eq!(linear_axis(0.0, 1.0, 0.03), -0.03..1.03);
        assert_eq!(linear_axis(0.5, 0.5, 0.03), (0.5 - 1e-9)..(0.5 + 1e-9));
        let extremes = [
            f64::MAX,
            1.2e308,
            1e300,
            5e-324,
            0.0,
            -5e-324,
            -1e300,
            -f64::MAX,
        ];
        for lo in extremes {
            for hi in extremes {
                let axis = linear_axis(lo, hi, 0.03);
                let what = format!("{lo:e}..={hi:e} -> {axis:?}");
                assert!(axis.start.is_finite() && axis.end.is_finite(), "{what}");
                assert!((axis.end - axis.start).is_finite(), "{what}");
                assert!(axis.start < axis.end, "{what}");
                if (hi - lo).abs() <= f64::MAX {
                    let (lo, hi) = (lo.min(hi), hi.max(lo));
                    assert!(axis.start <= lo && hi <= axis.end, "{what}");
                }
            }
        }
        assert_eq!(log_axis_end(10.0), 15.0);
        for max in [1.0, 1e300, 1.2e308, f64::MAX] {
            let end = log_axis_end(max);
            assert!(
                end.is_finite() && end >= max && end > 1.0,
                "{max:e} -> {end:e}"
            );
        }
    }

    #[test]
    fn file_name_part_keeps_safe_characters() {
        assert_eq!(file_name_part("iforest-2_b"), "iforest-2_b");
        assert_eq!(file_name_part("../a b"), "___a_b");
        assert_eq!(file_name_part(""), "unnamed");
    }

    #[test]
    fn plots_are_written_non_empty_and_identical_across_renders() {
        let model = sample_model();
        let first_dir = temp_dir("first");
        let second_dir = temp_dir("second");
        let first = render_plots(&model, &first_dir).unwrap();
        let second = render_plots(&model, &second_dir).unwrap();
        assert_eq!(first.len(), plot_specs(&model).len());
        for (a, b) in first.iter().zip(&second) {
            assert!(
                a.png.starts_with(b"\x89PNG"),
                "{} is not a PNG",
                a.spec.name
            );
            assert!(a.svg.starts_with("<svg"), "{} is not an SVG", a.spec.name);
            assert_eq!(std::fs::read(&a.png_path).unwrap(), a.png);
            assert_eq!(std::fs::read_to_string(&a.svg_path).unwrap(), a.svg);
            assert!(a.png.len() > 1000, "{} PNG is tiny", a.spec.name);
            assert!(
                a.png == b.png,
                "{} PNG differs between renders",
                a.spec.name
            );
            assert_eq!(a.svg, b.svg, "{} SVG differs between renders", a.spec.name);
        }
        assert!(first_dir.join("plots/roc_curves.png").is_file());
        assert!(first_dir.join("plots/score_histogram_zscore.svg").is_file());
        let _ = std::fs::remove_dir_all(first_dir);
        let _ = std::fs::remove_dir_all(second_dir);
    }

    #[test]
    fn svg_text_from_logs_is_escaped() {
        let dir = temp_dir("escape");
        let plots = render_plots(&sample_model(), &dir).unwrap();
        let by_ip = plots
            .iter()
            .find(|p| p.spec.name == "suspicious_by_src_ip")
            .unwrap();
        assert!(!by_ip.svg.contains("<script"));
        assert!(by_ip.svg.contains("&lt;script&gt;"));
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Longest a test lets `render_plots` run: the fixture draws in well under a second.
    const DEADLINE: Duration = Duration::from_secs(5);

    /// Renders `model` on another thread and fails, rather than hangs, when it is still
    /// drawing after [`DEADLINE`] (a hung thread spins on until the test process exits).
    fn render_within_deadline(model: ReportModel, name: &str) -> (Vec<PlotFile>, PathBuf) {
        let dir = temp_dir(name);
        let (sender, receiver) = mpsc::channel();
        let thread_dir = dir.clone();
        let start = Instant::now();
        std::thread::spawn(move || {
            let _ = sender.send(render_plots(&model, &thread_dir));
        });
        let plots = match receiver.recv_timeout(DEADLINE) {
            Ok(result) => result.unwrap_or_else(|e| panic!("{name}: {e}")),
            Err(RecvTimeoutError::Timeout) => panic!("{name}: still drawing after {DEADLINE:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("{name}: drawing panicked"),
        };
        assert!(start.elapsed() < DEADLINE, "{name}: {:?}", start.elapsed());
        (plots, dir)
    }

    /// A minimal XML 1.0 well-formedness check, enough for plotters' SVG: only XML characters
    /// and no raw control (but `\t \n \r`) or bidirectional character; `&` only in the five
    /// predefined or a numeric reference; `<` only in a comment, processing instruction or a
    /// tag with quoted attributes, the tags balanced under one root element.
    fn check_well_formed_xml(xml: &str) -> Result<(), String> {
        if let Some((at, c)) = xml.char_indices().find(|&(_, c)| {
            crate::test_fixture::is_forbidden_raw(c) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        }) {
            return Err(format!("raw {c:?} at byte {at}"));
        }
        fn reference(rest: &str) -> Result<usize, String> {
            let end = rest.find(';').ok_or("`&` without `;`")?;
            let name = &rest[1..end];
            let numeric = |digits: &str, radix| {
                !digits.is_empty() && u32::from_str_radix(digits, radix).is_ok()
            };
            let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                || name.strip_prefix("#x").is_some_and(|d| numeric(d, 16))
                || (!name.starts_with("#x")
                    && name.strip_prefix('#').is_some_and(|d| numeric(d, 10)));
            if ok {
                Ok(end + 1)
            } else {
                Err(format!("bad reference `&{name};`"))
            }
        }
        let is_name = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        };
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut rest = xml;
        while !rest.is_empty() {
            if let Some(body) = rest.strip_prefix("<!--") {
                let end = body.find("-->").ok_or("unterminated comment")?;
                rest = &body[end + 3..];
            } else if let Some(body) = rest.strip_prefix("<?") {
                let end = body
                    .find("?>")
                    .ok_or("unterminated processing instruction")?;
                rest = &body[end + 2..];
            } else if let Some(body) = rest.strip_prefix("</") {
                let end = body.find('>').ok_or("unterminated end tag")?;
                let name = body[..end].trim_end();
                if stack.pop() != Some(name) {
                    return Err(format!("unbalanced `</{name}>`"));
                }
                rest = &body[end + 1..];
            } else if let Some(body) = rest.strip_prefix('<') {
                let name_end = body
                    .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
                    .ok_or("unterminated start tag")?;
                let name = &body[..name_end];
                if !is_name(name) {
                    return Err(format!("bad tag name `{name}`"));
                }
                if stack.is_empty() {
                    roots += 1;
                }
                let mut attrs = &body[name_end..];
                loop {
                    attrs = attrs.trim_start();
                    if let Some(after) = attrs.strip_prefix("/>") {
                        rest = after;
                        break;
                    }
                    if let Some(after) = attrs.strip_prefix('>') {
                        stack.push(name);
                        rest = after;
                        break;
                    }
                    let eq = attrs
                        .find('=')
                        .ok_or(format!("attribute without value in <{name}>"))?;
                    if !is_name(attrs[..eq].trim_end()) {
                        return Err(format!("bad attribute name in <{name}>"));
                    }
                    let value = attrs[eq + 1..].trim_start();
                    let quote = value.chars().next().filter(|q| matches!(q, '"' | '\''));
                    let quote = quote.ok_or(format!("unquoted attribute in <{name}>"))?;
                    let close = value[1..].find(quote).ok_or("unterminated attribute")? + 1;
                    let mut text = &value[1..close];
                    while let Some(at) = text.find(['<', '&']) {
                        if text[at..].starts_with('<') {
                            return Err(format!("raw `<` in an attribute of <{name}>"));
                        }
                        text = &text[at + reference(&text[at..])?..];
                    }
                    attrs = &value[close + 1..];
                }
            } else if rest.starts_with('&') {
                if stack.is_empty() {
                    return Err("reference outside the root element".into());
                }
                rest = &rest[reference(rest)?..];
            } else {
                let end = rest.find(['<', '&']).unwrap_or(rest.len());
                if stack.is_empty() && !rest[..end].trim().is_empty() {
                    return Err("text outside the root element".into());
                }
                if rest[..end].contains("]]>") {
                    return Err("`]]>` in text".into());
                }
                rest = &rest[end..];
            }
        }
        match (stack.last(), roots) {
            (Some(open), _) => Err(format!("<{open}> never closed")),
            (None, 1) => Ok(()),
            (None, n) => Err(format!("{n} root elements")),
        }
    }

    #[test]
    fn the_well_formedness_check_rejects_broken_xml() {
        assert_eq!(
            check_well_formed_xml(
                "<svg a=\"1 &amp; 2\"><text>a &lt; b &#60; &#x3c;</text></svg>\n"
            ),
            Ok(())
        );
        for bad in [
            "<svg><text>a < b</text></svg>",
            "<svg><text>a & b</text></svg>",
            "<svg><text>&nbsp;</text></svg>",
            "<svg><text>x</svg>",
            "<svg a=1></svg>",
            "<svg a=\"<\"></svg>",
            "<svg></svg><svg></svg>",
            "<svg>\u{1b}[2J</svg>",
            "<svg>\u{202E}</svg>",
            "<svg>\u{FFFF}</svg>",
            "text<svg></svg>",
        ] {
            assert!(check_well_formed_xml(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sample_svgs_are_well_formed() {
        let (plots, dir) = render_within_deadline(sample_model(), "wellformed");
        for plot in &plots {
            check_well_formed_xml(&plot.svg).unwrap_or_else(|e| panic!("{}: {e}", plot.spec.name));
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn control_and_bidi_characters_in_plot_text_are_made_visible() {
        let model = crate::test_fixture::control_text_model();
        let (plots, dir) = render_within_deadline(model.clone(), "control-text");
        assert_eq!(plots.len(), 12);
        for plot in &plots {
            check_well_formed_xml(&plot.svg).unwrap_or_else(|e| panic!("{}: {e}", plot.spec.name));
            // plotters draws each text (a title, label, legend) as one line
            assert!(!plot.svg.contains("pwned\u{7}"), "{}", plot.spec.name);
        }
        let svg = |name: &str| &plots.iter().find(|p| p.spec.name == name).unwrap().svg;
        // labels are shortened after escaping: the start of the escape is drawn
        assert!(svg("connections_by_protocol").contains(">\n0\\u{1b}[2J\\u{1b}]0;pwned\\...\n<"));
        assert!(svg("traffic_over_time").contains(">\nt\\u{1b}[2J"));
        let histogram = format!(
            "score_histogram_{}",
            file_name_part(&model.detectors[0].name)
        );
        assert!(svg(&histogram).contains("Score distribution: det0\\u{1b}[2J"));
        assert!(svg("roc_curves").contains("det1\\u{1b}[2J"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn repeated_detectors_draw_every_seed_with_hostile_names() {
        let mut model = crate::test_fixture::control_text_model();
        let base = model.detectors[0].metrics.expect("fixture metrics");
        model.detectors[0].repeats = (0..10)
            .map(|k| DetectorMetrics {
                roc_auc: 0.9 + 0.005 * k as f64,
                ..base
            })
            .collect();
        model.detectors[0].name = "iforest\u{1b}[2J".into();
        let names: Vec<String> = plot_specs(&model).into_iter().map(|s| s.name).collect();
        assert!(names.contains(&"seed_spread".to_string()), "{names:?}");
        let (plots, dir) = render_within_deadline(model, "seeds");
        let plot = plots.iter().find(|p| p.spec.name == "seed_spread").unwrap();
        check_well_formed_xml(&plot.svg).unwrap();
        assert!(plot.svg.contains("\\u{1b}[2J"), "the name is drawn escaped");
        // ten seeds and their mean
        assert!(plot.svg.matches("<circle").count() >= 10);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn section_plots_are_listed_drawn_and_well_formed_with_hostile_labels() {
        let model = crate::test_fixture::sections_control_text_model();
        let names: Vec<String> = plot_specs(&model).into_iter().map(|s| s.name).collect();
        assert_eq!(names[names.len() - 2..], [BEACON_PLOT, GRAPH_PLOT]);
        let (plots, dir) = render_within_deadline(model.clone(), "sections");
        for name in [BEACON_PLOT, GRAPH_PLOT] {
            let plot = plots.iter().find(|p| p.spec.name == name).unwrap();
            check_well_formed_xml(&plot.svg).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!plot.svg.contains("<script"), "{name}");
            assert!(
                plot.svg.contains("\\u{1b}[2J"),
                "{name}: labels drawn escaped"
            );
            assert!(plot.png.starts_with(b"\x89PNG"), "{name}");
            let (width, height) = plot.spec.kind.size();
            assert!(
                plot.svg
                    .starts_with(&format!("<svg width=\"{width}\" height=\"{height}\"")),
                "{name}"
            );
            assert!(dir.join(format!("plots/{name}.svg")).is_file());
        }
        let graph = &plots
            .iter()
            .find(|p| p.spec.name == GRAPH_PLOT)
            .unwrap()
            .svg;
        assert!(graph.contains("42 more hosts left out"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn section_plots_are_identical_across_renders() {
        let model = crate::test_fixture::sections_model();
        let (first, first_dir) = render_within_deadline(model.clone(), "sections-a");
        let (second, second_dir) = render_within_deadline(model, "sections-b");
        for (a, b) in first.iter().zip(&second) {
            assert!(a.png == b.png, "{} PNG differs", a.spec.name);
            assert_eq!(a.svg, b.svg, "{} SVG differs", a.spec.name);
        }
        let _ = std::fs::remove_dir_all(first_dir);
        let _ = std::fs::remove_dir_all(second_dir);
    }

    #[test]
    fn a_300_node_graph_draws_in_bounded_time() {
        let model = ReportModel {
            graph: Some(crate::test_fixture::graph_data(60, 240)),
            ..ReportModel::default()
        };
        let (plots, dir) = render_within_deadline(model, "graph-300");
        assert_eq!(plots.len(), 1);
        check_well_formed_xml(&plots[0].svg).unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn section_plots_with_extreme_values_draw_in_bounded_time() {
        use crate::model::{BeaconRow, BeaconSection, GraphData, GraphEdge, GraphNode};
        let pair = |histogram: Vec<(f64, u64)>, flagged| BeaconRow {
            interval_histogram: histogram,
            flagged,
            median_interval_s: f64::NAN,
            ..BeaconRow::default()
        };
        let beacons = Some(BeaconSection {
            threshold: f64::INFINITY,
            pairs: vec![
                pair(vec![], true),
                pair(vec![(f64::NAN, u64::MAX), (f64::INFINITY, 0)], false),
                pair(vec![(-f64::MAX, 1), (f64::MAX, 2), (5e-324, 3)], true),
                pair((0..1000).map(|i| (i as f64, i)).collect(), false),
            ],
            ..BeaconSection::default()
        });
        let node = |bytes| GraphNode {
            ip: String::new(),
            bytes,
            internal: bytes % 2 == 0,
            flagged: bytes % 3 == 0,
        };
        let graph = Some(GraphData {
            nodes: vec![node(0), node(u128::MAX), node(u128::MAX - 1)],
            edges: vec![
                GraphEdge {
                    src: 0,
                    dst: 0,
                    bytes: u128::MAX,
                    rows: u64::MAX,
                    flagged: u64::MAX,
                },
                GraphEdge {
                    src: usize::MAX,
                    dst: 1,
                    ..GraphEdge::default()
                },
                GraphEdge {
                    src: 1,
                    dst: 2,
                    ..GraphEdge::default()
                },
            ],
            omitted_nodes: u64::MAX,
        });
        let model = ReportModel {
            beacons,
            graph,
            ..ReportModel::default()
        };
        let (plots, dir) = render_within_deadline(model, "sections-extreme");
        assert_eq!(plots.len(), 2);
        for plot in &plots {
            check_well_formed_xml(&plot.svg).unwrap_or_else(|e| panic!("{}: {e}", plot.spec.name));
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn extreme_values_draw_in_bounded_time() {
        for (name, model) in crate::test_fixture::extreme_value_models() {
            let expected = plot_specs(&model).len();
            let (plots, dir) = render_within_deadline(model, name);
            assert_eq!(plots.len(), expected, "{name}");
            for plot in &plots {
                let what = format!("{name}/{}", plot.spec.name);
                assert!(plot.png.starts_with(b"\x89PNG"), "{what}");
                assert!(
                    std::fs::metadata(&plot.png_path).unwrap().len() > 1000,
                    "{what}"
                );
                assert_eq!(
                    std::fs::read_to_string(&plot.svg_path).unwrap(),
                    plot.svg,
                    "{what}"
                );
                check_well_formed_xml(&plot.svg).unwrap_or_else(|e| panic!("{what}: {e}"));
            }
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod preview {
    /// Writes the fixture plots to $WEBTHREAT_PLOT_PREVIEW for a manual look.
    #[test]
    #[ignore = "manual preview"]
    fn write_preview() {
        let dir = std::path::PathBuf::from(std::env::var("WEBTHREAT_PLOT_PREVIEW").unwrap());
        super::render_plots(&crate::test_fixture::sample_model(), &dir).unwrap();
    }

    /// Writes the plots of the fixture with every section to $WEBTHREAT_PLOT_PREVIEW.
    #[test]
    #[ignore = "manual preview"]
    fn write_sections_preview() {
        let dir = std::path::PathBuf::from(std::env::var("WEBTHREAT_PLOT_PREVIEW").unwrap());
        let mut model = crate::test_fixture::sections_model();
        super::render_plots(&model, &dir).unwrap();
        model.graph = Some(crate::test_fixture::graph_data(40, 260));
        let big = dir.join("big");
        super::render_plots(&model, &big).unwrap();
    }
}
