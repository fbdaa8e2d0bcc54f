//! Plots of a [`ReportModel`] drawn with plotters to `plots/<name>.png` and `plots/<name>.svg`.
//!
//! Text uses the DejaVu Sans font bundled by the `dejavu` crate, registered with plotters'
//! ab_glyph support, so no system font or fontconfig is needed and the PNG bytes are identical
//! across runs and machines for the same model.

use crate::ReportError;
use crate::histogram::{Histogram, LabelCount};
use crate::model::{DetectorSummary, ReportModel};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Pixel size of every plot.
pub const PLOT_SIZE: (u32, u32) = (960, 540);
/// Font family name under which DejaVu Sans is registered (plotters' default family).
const FONT_FAMILY: &str = "sans-serif";
/// Longest category label drawn on an axis; longer ones are shortened with `...`.
const MAX_AXIS_LABEL_CHARS: usize = 28;
/// Most categories drawn in one bar chart.
const MAX_BARS: usize = 25;

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
        let root = BitMapBackend::new(&png_path, PLOT_SIZE).into_drawing_area();
        draw_plot(&root, model, &spec).map_err(plot_error)?;
        root.present().map_err(|e| plot_error(e.into()))?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
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
    match spec.kind {
        PlotKind::BytesDistribution => draw_bytes_distribution(root, model, &spec.title),
        PlotKind::ConnectionsByProtocol => {
            draw_bars(root, &plots.by_protocol, &spec.title, "connections")
        }
        PlotKind::ConnectionsByCountry => {
            draw_bars(root, &plots.by_country, &spec.title, "connections")
        }
        PlotKind::BytesScatter => draw_scatter(root, model, &spec.title),
        PlotKind::ScoreHistogram(index) => {
            draw_score_histogram(root, &model.detectors[index], &spec.title)
        }
        PlotKind::SuspiciousBySrcIp => {
            draw_bars(root, &plots.flagged_by_src_ip, &spec.title, "flagged rows")
        }
        PlotKind::SuspiciousByDstPort => draw_bars(
            root,
            &plots.flagged_by_dst_port,
            &spec.title,
            "flagged rows",
        ),
        PlotKind::TrafficOverTime => draw_traffic(root, model, &spec.title),
        PlotKind::RocCurves => draw_curves(root, model, &spec.title, CurveKind::Roc),
        PlotKind::PrCurves => draw_curves(root, model, &spec.title, CurveKind::Pr),
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

/// Shortens `label` to [`MAX_AXIS_LABEL_CHARS`] characters.
fn short_label(label: &str) -> String {
    if label.chars().count() <= MAX_AXIS_LABEL_CHARS {
        label.to_string()
    } else {
        let kept: String = label.chars().take(MAX_AXIS_LABEL_CHARS - 3).collect();
        format!("{kept}...")
    }
}

fn caption_font() -> (&'static str, u32) {
    (FONT_FAMILY, 24)
}

fn histogram_bars<'a>(
    histogram: &'a Histogram,
    style: ShapeStyle,
) -> impl Iterator<Item = Rectangle<(f64, f64)>> + 'a {
    histogram
        .bins()
        .map(move |(lo, hi, count)| Rectangle::new([(lo, 0.0), (hi, count as f64)], style))
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
    let x_max = series
        .iter()
        .filter_map(|(_, h, _)| h.edges.last().copied())
        .fold(1.0f64, f64::max);
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
            .draw_series(histogram_bars(histogram, color.mix(0.5).filled()))?
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
    let labels: Vec<String> = counts.iter().rev().map(|c| short_label(&c.label)).collect();
    let max = counts.iter().map(|c| c.count).max().unwrap_or(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(220)
        .build_cartesian_2d(
            0u64..(max + max / 10 + 1),
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
    // Shift by one so zero bytes can sit on the log axes.
    let shifted = |v: f64| v.max(0.0) + 1.0;
    let x_max = points
        .iter()
        .map(|p| shifted(p.bytes_in))
        .fold(10.0, f64::max);
    let y_max = points
        .iter()
        .map(|p| shifted(p.bytes_out))
        .fold(10.0, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1.0..x_max * 1.5).log_scale(),
            (1.0..y_max * 1.5).log_scale(),
        )?;
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
            .draw_series(points.iter().filter(|p| p.flagged == flagged).map(|p| {
                Circle::new(
                    (shifted(p.bytes_in), shifted(p.bytes_out)),
                    if flagged { 4 } else { 2 },
                    color.filled(),
                )
            }))?
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
    let first = histogram.edges.first().copied().unwrap_or(0.0);
    let last = histogram.edges.last().copied().unwrap_or(1.0);
    let (mut x_min, mut x_max) = (first, last);
    if threshold.is_finite() {
        x_min = x_min.min(threshold);
        x_max = x_max.max(threshold);
    }
    let pad = ((x_max - x_min) * 0.03).max(1e-9);
    let y_max = (histogram.max_count() as f64 * 1.1).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((x_min - pad)..(x_max + pad), 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("score")
        .y_desc("rows")
        .x_label_formatter(&|v| format!("{v:.3}"))
        .y_label_formatter(&|v| format_axis_value(*v))
        .label_style((FONT_FAMILY, 14))
        .draw()?;
    chart
        .draw_series(histogram_bars(histogram, BAR_BLUE.mix(0.7).filled()))?
        .label("scores")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], BAR_BLUE.filled()));
    if threshold.is_finite() {
        chart
            .draw_series(LineSeries::new(
                [(threshold, 0.0), (threshold, y_max)],
                SUSPICIOUS_RED.stroke_width(3),
            ))?
            .label(format!("threshold {threshold:.4}"))
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
                .map(|b| short_label(&b.start))
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
                points.iter().map(|p| (p.x, p.y)),
                color.stroke_width(2),
            ))?
            .label(format!(
                "{}{}",
                short_label(&detector.name),
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
    use crate::test_fixture::sample_model;

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
            ]
        );
        assert!(plot_specs(&ReportModel::default()).is_empty());
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
}
