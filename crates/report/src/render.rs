//! Markdown and self-contained HTML rendering of a [`ReportModel`].
//!
//! Both formats are rendered from the same list of sections, built once from the model,
//! so they always show the same numbers. Every cell is plain, untrusted text escaped by the
//! output format ([`markdown_escape`] or [`html_escape`]); numbers use fixed precision:
//! scores, thresholds and metrics 4 decimals, byte and row counts as plain integers, the values
//! of explaining features and beacon intervals in their log units ([`crate::units`]).
//!
//! The beacon, communication-graph and threat-intel sections ([`network`]) show their plots in
//! place; every other rendered plot is shown under "Plots" at the end.

mod network;

use crate::escape::{base64_encode, html_escape, markdown_escape};
use crate::model::{DetectorMetrics, DetectorSummary, FlaggedRow, ReportModel, Spread};
use crate::noise::{SIGNIFICANCE, Seeded, difference};
use crate::plots::PlotFile;
use crate::units::format_value;
use std::fmt::Write;

/// Decimals of scores, thresholds, metrics and agreement values.
const DECIMALS: usize = 4;

/// Text shown for a value that does not apply.
const NOT_AVAILABLE: &str = "n/a";

/// A table: a header row and body rows of plain (unescaped) text.
#[derive(Debug, Clone, PartialEq)]
struct Table {
    headers: Vec<String>,
    /// Right-align this column (numbers).
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&str, bool)]) -> Self {
        Self {
            headers: columns.iter().map(|(name, _)| name.to_string()).collect(),
            numeric: columns.iter().map(|(_, numeric)| *numeric).collect(),
            rows: Vec::new(),
        }
    }
}

/// One titled part of the report: an optional note, an optional table, then any further
/// blocks.
#[derive(Debug, Clone, PartialEq)]
struct Section {
    heading: String,
    note: Option<String>,
    table: Option<Table>,
    rest: Vec<Block>,
}

/// A part of a [`Section`] after its note and table.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    /// A heading one level below the section's.
    Subheading(String),
    /// A paragraph of plain (unescaped) text.
    Note(String),
    /// A table.
    Table(Table),
    /// The plot of this name, shown here when it was rendered, with a caption under it.
    Figure { plot: String, caption: String },
}

/// Fixed-precision decimal.
fn fixed(value: f64) -> String {
    format!("{value:.DECIMALS$}")
}

fn optional(value: Option<String>) -> String {
    value.unwrap_or_else(|| NOT_AVAILABLE.to_string())
}

/// `feature=actual (typical typical)` for each explaining feature, joined by `; `, the values
/// written in the feature's unit (`bytes_out=144 MB (typical 11 KB)`).
fn top_features_text(row: &FlaggedRow) -> String {
    row.top_features
        .iter()
        .map(|f| {
            format!(
                "{}={} (typical {})",
                f.feature,
                format_value(f.unit, f.actual),
                format_value(f.unit, f.typical)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn data_section(model: &ReportModel) -> Section {
    let data = &model.data;
    let mut table = Table::new(&[("Field", false), ("Value", false)]);
    let mut add = |field: &str, value: String| table.rows.push(vec![field.to_string(), value]);
    add("Source", data.source_path.clone());
    add("Rows", data.rows.to_string());
    if let Some(fit) = &data.fitted_on {
        add(
            "Fitted on",
            format!("{} rows of {}: {}", fit.rows, fit.source, fit.selection),
        );
    }
    add("Rejected rows", data.rejected_rows.to_string());
    add("First timestamp", optional(data.first_timestamp.clone()));
    add("Last timestamp", optional(data.last_timestamp.clone()));
    add(
        "Distinct source IPs",
        optional(data.distinct_src_ips.map(|n| n.to_string())),
    );
    add("Features", data.feature_names.join(", "));
    add(
        "Constant columns",
        if data.constant_columns.is_empty() {
            "none".to_string()
        } else {
            data.constant_columns.join(", ")
        },
    );
    Section {
        heading: "Data summary".into(),
        note: None,
        table: Some(table),
        rest: Vec::new(),
    }
}

fn detector_row(detector: &DetectorSummary, with_metrics: bool) -> Vec<String> {
    let mut row = vec![
        detector.name.clone(),
        detector.kind.clone(),
        fixed(detector.threshold),
        detector.flagged.to_string(),
    ];
    if with_metrics {
        match &detector.metrics {
            Some(m) => {
                // with repeats: the mean over seeds ± their standard deviation
                row.extend(DetectorMetrics::REPEATED.iter().map(|&(_, metric)| {
                    match detector.spread(metric) {
                        Some(s) => format!("{} ± {}", fixed(s.mean), fixed(s.sd)),
                        None => fixed(metric(m)),
                    }
                }));
                row.extend([
                    m.confusion.tp.to_string(),
                    m.confusion.fp.to_string(),
                    m.confusion.tn.to_string(),
                    m.confusion.fn_.to_string(),
                ]);
            }
            None => row.extend(std::iter::repeat_n(NOT_AVAILABLE.to_string(), 9)),
        }
    }
    row
}

/// What repeated fits mean for the Detectors table, when the run repeated them.
fn repeats_note(model: &ReportModel) -> Option<String> {
    let n = model.detectors.iter().map(|d| d.repeats.len()).max()?;
    (n > 1).then(|| {
        format!(
            "Each detector was fitted with {n} seeds: ROC AUC, PR AUC, precision, recall and F1 \
             are their mean ± sample standard deviation; thresholds, flags, scores and \
             explanations are those of the first seed."
        )
    })
}

fn detectors_section(model: &ReportModel) -> Section {
    let with_metrics = model.detectors.iter().any(|d| d.metrics.is_some());
    let mut columns = vec![
        ("Detector", false),
        ("Kind", false),
        ("Threshold", true),
        ("Flagged", true),
    ];
    if with_metrics {
        columns.extend([
            ("ROC AUC", true),
            ("PR AUC", true),
            ("Precision", true),
            ("Recall", true),
            ("F1", true),
            ("TP", true),
            ("FP", true),
            ("TN", true),
            ("FN", true),
        ]);
    }
    let mut table = Table::new(&columns);
    table.rows = model
        .detectors
        .iter()
        .map(|d| detector_row(d, with_metrics))
        .collect();
    Section {
        heading: "Detectors".into(),
        note: [model.data.label_warning(), repeats_note(model)]
            .into_iter()
            .flatten()
            .reduce(|a, b| format!("{a} {b}")),
        table: Some(table),
        rest: Vec::new(),
    }
}

/// With repeats and two or more detectors with metrics: each detector's ROC AUC against the
/// best one's, tested against seed noise over the seeds both were fitted with.
fn versus_section(model: &ReportModel) -> Option<Section> {
    let repeated: Vec<(&DetectorSummary, Spread, Seeded)> = (model.detectors.iter())
        .filter(|d| d.repeats.len() > 1)
        .filter_map(|d| {
            let seeded = Seeded::from_first(0, d.repeats.iter().map(|m| m.roc_auc));
            Some((d, d.spread(|m| m.roc_auc)?, seeded))
        })
        .collect();
    if repeated.len() < 2 {
        return None;
    }
    let (best, _, best_roc) = repeated
        .iter()
        .max_by(|a, b| a.1.mean.total_cmp(&b.1.mean))?;
    let mut table = Table::new(&[
        ("Detector", false),
        ("ROC AUC", true),
        ("Against the best", false),
    ]);
    for (d, spread, seeded) in &repeated {
        let against = if d.name == best.name {
            "best".to_string()
        } else {
            let (delta, verdict) = difference(best_roc, seeded);
            format!("{}, {}", signed_fixed(delta), verdict.describe())
        };
        table.rows.push(vec![
            d.name.clone(),
            format!("{} ± {}", fixed(spread.mean), fixed(spread.sd)),
            against,
        ]);
    }
    Some(Section {
        heading: "Detectors against each other".into(),
        note: Some(format!(
            "Is one detector better than another on this data, or is the difference seed noise? Each detector's ROC AUC against the best one's ({}), over the same seeds: a paired t-test on the per-seed differences; within noise when p ≥ {SIGNIFICANCE}.",
            best.name
        )),
        table: Some(table),
        rest: Vec::new(),
    })
}

fn signed_fixed(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", fixed(v))
    } else {
        fixed(v)
    }
}

fn agreement_section(model: &ReportModel) -> Option<Section> {
    let matrix = model.agreement.as_ref()?;
    let mut columns = vec![("", false)];
    columns.extend(matrix.detectors.iter().map(|name| (name.as_str(), true)));
    let mut table = Table::new(&columns);
    table.rows = matrix
        .detectors
        .iter()
        .zip(&matrix.jaccard)
        .map(|(name, values)| {
            std::iter::once(name.clone())
                .chain(values.iter().map(|&v| fixed(v)))
                .collect()
        })
        .collect();
    Some(Section {
        heading: "Detector agreement".into(),
        note: Some(
            "Jaccard index of the rows each pair of detectors flagged (1 = identical).".into(),
        ),
        table: Some(table),
        rest: Vec::new(),
    })
}

fn flagged_section(model: &ReportModel) -> Section {
    let mut table = Table::new(&[
        ("Row", true),
        ("Source IP", false),
        ("Dst port", true),
        ("Timestamp", false),
        ("Detector", false),
        ("Score", true),
        ("Severity", true),
        ("Top features", false),
    ]);
    table.rows = model
        .flagged_rows
        .iter()
        .map(|row| {
            vec![
                row.row.to_string(),
                optional(row.src_ip.clone()),
                optional(row.dst_port.map(|p| p.to_string())),
                optional(row.timestamp.clone()),
                row.detector.clone(),
                fixed(row.score),
                row.severity.to_string(),
                top_features_text(row),
            ]
        })
        .collect();
    let empty = model.flagged_rows.is_empty();
    Section {
        heading: "Flagged rows".into(),
        note: Some(if empty {
            "No rows were flagged.".into()
        } else {
            format!(
                "{} flagged rows shown, as selected by the run (severity 0-100).",
                model.flagged_rows.len()
            )
        }),
        table: (!empty).then_some(table),
        rest: Vec::new(),
    }
}

fn entity_section(
    heading: &str,
    key_name: &str,
    entities: &[crate::model::EntitySummary],
) -> Option<Section> {
    if entities.is_empty() {
        return None;
    }
    let mut table = Table::new(&[
        (key_name, false),
        ("Rows", true),
        ("Flagged", true),
        ("Bytes in", true),
        ("Bytes out", true),
        ("Max severity", true),
    ]);
    table.rows = entities
        .iter()
        .map(|e| {
            vec![
                e.key.clone(),
                e.rows.to_string(),
                e.flagged.to_string(),
                byte_total(e.bytes_in),
                byte_total(e.bytes_out),
                e.max_severity.to_string(),
            ]
        })
        .collect();
    Some(Section {
        heading: heading.to_string(),
        note: None,
        table: Some(table),
        rest: Vec::new(),
    })
}

/// The report's sections, in order, for both output formats.
fn sections(model: &ReportModel) -> Vec<Section> {
    let mut sections = vec![data_section(model), detectors_section(model)];
    sections.extend(versus_section(model));
    sections.extend(agreement_section(model));
    sections.push(flagged_section(model));
    sections.extend(entity_section("Source IPs", "Source IP", &model.ip_summary));
    sections.extend(entity_section(
        "Destination ports",
        "Dst port",
        &model.port_summary,
    ));
    sections.extend(network::beacon_section(model));
    sections.extend(network::graph_section(model));
    sections.extend(network::intel_section(model));
    sections
}

/// The names of the plots some section shows as a [`Block::Figure`] (the others are shown
/// under "Plots").
fn placed_plots(sections: &[Section]) -> Vec<&str> {
    sections
        .iter()
        .flat_map(|s| &s.rest)
        .filter_map(|block| match block {
            Block::Figure { plot, .. } => Some(plot.as_str()),
            _ => None,
        })
        .collect()
}

/// "Experiment X, run N", or just "Experiment X" when the caller leaves the run id empty
/// (run ids are volatile; reports that must be identical across reruns omit them).
fn run_line(model: &ReportModel) -> String {
    if model.run_id.is_empty() {
        format!("Experiment {}", model.experiment)
    } else {
        format!("Experiment {}, run {}", model.experiment, model.run_id)
    }
}

fn markdown_table(out: &mut String, table: &Table) {
    let row_text = |cells: &[String]| {
        let escaped: Vec<String> = cells.iter().map(|c| markdown_escape(c)).collect();
        format!("| {} |\n", escaped.join(" | "))
    };
    out.push_str(&row_text(&table.headers));
    let separators: Vec<&str> = table
        .numeric
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", separators.join(" | "));
    for row in &table.rows {
        out.push_str(&row_text(row));
    }
}

/// Renders the report as Markdown; the rendered `plots` are referenced as
/// `plots/<name>.png` (none when the run draws no plots, so no link points at a missing file).
pub fn render_markdown(model: &ReportModel, plots: &[PlotFile]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", markdown_escape(&model.title));
    let _ = writeln!(out, "{}\n", markdown_escape(&run_line(model)));
    let sections = sections(model);
    for section in &sections {
        let _ = writeln!(out, "## {}\n", markdown_escape(&section.heading));
        if let Some(note) = &section.note {
            let _ = writeln!(out, "{}\n", markdown_escape(note));
        }
        if let Some(table) = &section.table {
            markdown_table(&mut out, table);
            out.push('\n');
        }
        for block in &section.rest {
            match block {
                Block::Subheading(text) => {
                    let _ = writeln!(out, "### {}\n", markdown_escape(text));
                }
                Block::Note(text) => {
                    let _ = writeln!(out, "{}\n", markdown_escape(text));
                }
                Block::Table(table) => {
                    markdown_table(&mut out, table);
                    out.push('\n');
                }
                Block::Figure { plot, caption } => {
                    if let Some(file) = plots.iter().find(|p| p.spec.name == *plot) {
                        markdown_image(&mut out, file);
                        let _ = writeln!(out, "{}\n", markdown_escape(caption));
                    }
                }
            }
        }
    }
    let placed = placed_plots(&sections);
    let rest: Vec<&PlotFile> = plots
        .iter()
        .filter(|p| !placed.contains(&p.spec.name.as_str()))
        .collect();
    if !rest.is_empty() {
        out.push_str("## Plots\n\n");
        for file in rest {
            let _ = writeln!(out, "### {}\n", markdown_escape(&file.spec.title));
            markdown_image(&mut out, file);
        }
    }
    out
}

/// `![title](plots/<name>.png) ([SVG](plots/<name>.svg))` and a blank line.
fn markdown_image(out: &mut String, PlotFile { spec, .. }: &PlotFile) {
    let _ = writeln!(
        out,
        "![{}]({}) ([SVG]({}))\n",
        markdown_escape(&spec.title),
        spec.png_relative_path(),
        spec.svg_relative_path()
    );
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left;vertical-align:top}\
th{background:#f0f0f0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
tr:nth-child(even) td{background:#fafafa}\
figure{margin:1em 0 2em}figure img{max-width:100%;border:1px solid #ddd}\
figcaption{color:#555;margin-top:0.3em}p.run{color:#555}";

fn html_table(out: &mut String, table: &Table) {
    let class = |numeric: bool| if numeric { " class=\"num\"" } else { "" };
    out.push_str("<table>\n<thead><tr>");
    for (header, &numeric) in table.headers.iter().zip(&table.numeric) {
        let _ = write!(out, "<th{}>{}</th>", class(numeric), html_escape(header));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (cell, &numeric) in row.iter().zip(&table.numeric) {
            let _ = write!(out, "<td{}>{}</td>", class(numeric), html_escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Renders the report as one self-contained HTML file: inline CSS, `plots` embedded as
/// base64 PNG data URIs, and every string HTML-escaped. A restrictive Content-Security-Policy
/// forbids scripts and any external resource.
pub fn render_html(model: &ReportModel, plots: &[PlotFile]) -> String {
    let mut out = String::new();
    let title = html_escape(&model.title);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src data:; style-src 'unsafe-inline'\">\n",
    );
    let _ = writeln!(
        out,
        "<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>"
    );
    let _ = writeln!(out, "<h1>{title}</h1>");
    let _ = writeln!(
        out,
        "<p class=\"run\">{}</p>",
        html_escape(&run_line(model))
    );
    let sections = sections(model);
    for section in &sections {
        let _ = writeln!(out, "<h2>{}</h2>", html_escape(&section.heading));
        if let Some(note) = &section.note {
            let _ = writeln!(out, "<p>{}</p>", html_escape(note));
        }
        if let Some(table) = &section.table {
            html_table(&mut out, table);
        }
        for block in &section.rest {
            match block {
                Block::Subheading(text) => {
                    let _ = writeln!(out, "<h3>{}</h3>", html_escape(text));
                }
                Block::Note(text) => {
                    let _ = writeln!(out, "<p>{}</p>", html_escape(text));
                }
                Block::Table(table) => html_table(&mut out, table),
                Block::Figure { plot, caption } => {
                    if let Some(file) = plots.iter().find(|p| p.spec.name == *plot) {
                        html_figure(&mut out, file, Some(caption));
                    }
                }
            }
        }
    }
    let placed = placed_plots(&sections);
    let rest: Vec<&PlotFile> = plots
        .iter()
        .filter(|p| !placed.contains(&p.spec.name.as_str()))
        .collect();
    if !rest.is_empty() {
        out.push_str("<h2>Plots</h2>\n");
        for plot in rest {
            html_figure(&mut out, plot, None);
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The plot as a `<figure>` with its PNG embedded, captioned with its title and `caption`.
fn html_figure(out: &mut String, plot: &PlotFile, caption: Option<&String>) {
    let title = html_escape(&plot.spec.title);
    let caption = match caption {
        Some(text) => format!("{title}. {}", html_escape(text)),
        None => title.clone(),
    };
    let _ = writeln!(
        out,
        "<figure id=\"plot-{}\"><img alt=\"{title}\" src=\"data:image/png;base64,{}\">\
         <figcaption>{caption}</figcaption></figure>",
        html_escape(&plot.spec.name),
        base64_encode(&plot.png)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::PlotSpec;
    use crate::test_fixture::{HOSTILE_FEATURE, HOSTILE_IP, sample_model};
    use crate::{PlotKind, ReportModel};
    use std::path::PathBuf;

    /// The plots `render_plots` would draw for `model`, with placeholder contents.
    fn planned_plots(model: &ReportModel) -> Vec<PlotFile> {
        crate::plot_specs(model)
            .into_iter()
            .map(|spec| fake_plot(&spec.name, &spec.title))
            .collect()
    }

    #[test]
    fn markdown_has_every_section_and_plot_links() {
        let model = sample_model();
        let md = render_markdown(&model, &planned_plots(&model));
        for heading in [
            "# Web traffic anomalies",
            "## Data summary",
            "## Detectors",
            "## Detector agreement",
            "## Flagged rows",
            "## Source IPs",
            "## Destination ports",
            "## Plots",
        ] {
            assert!(md.contains(heading), "missing {heading}");
        }
        assert!(md.contains("](plots/bytes_scatter.png)"));
        assert!(md.contains("](plots/score_histogram_iforest.png)"));
        assert!(md.contains("](plots/roc_curves.png)"));
        assert!(md.contains("| ROC AUC |"));
        // Fixed precision: score 4 decimals, bytes as plain integers.
        assert!(md.contains("| 0.7346 |"));
        assert!(md.contains("| 6000000 |"));
        assert!(md.contains("=2000123 (typical 512.5000)"));
    }

    #[test]
    fn markdown_links_only_rendered_plots() {
        let model = sample_model();
        let md = render_markdown(&model, &[]);
        assert!(!md.contains("## Plots"), "{md}");
        assert!(!md.contains("plots/"), "{md}");
        let md = render_markdown(&model, &[fake_plot("roc_curves", "ROC curves")]);
        assert!(md.contains("![ROC curves](plots/roc_curves.png)"), "{md}");
        assert!(!md.contains("plots/bytes_scatter"), "{md}");
    }

    #[test]
    fn markdown_neutralises_injection() {
        let model = sample_model();
        let md = render_markdown(&model, &planned_plots(&model));
        assert!(!md.contains("<script"), "{md}");
        assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // The `|` inside the feature name is escaped so the table keeps its columns.
        assert!(md.contains("&lt;/script&gt;\\|bytes=2000123"));
        for line in md.lines().filter(|l| l.starts_with("| 50 |")) {
            let unescaped_pipes = line.matches('|').count() - line.matches("\\|").count();
            assert_eq!(unescaped_pipes, 9, "{line}");
        }
    }

    #[test]
    fn labels_of_one_class_or_mostly_anomalies_are_warned_about() {
        let mut model = crate::test_fixture::sample_model();
        let note = |model: &ReportModel| {
            let md = render_markdown(model, &planned_plots(model));
            let detectors = md
                .split("## Detectors")
                .nth(1)
                .unwrap_or_default()
                .to_string();
            detectors
                .split("\n## ")
                .next()
                .unwrap_or_default()
                .to_string()
        };
        // 8 anomalies of 400: nothing to say
        assert!(!note(&model).contains("anomalies"), "{}", note(&model));
        model.data.labeled_anomalies = Some(0);
        assert!(note(&model).contains("one class only (all 400 rows normal)"));
        model.data.labeled_anomalies = Some(400);
        assert!(note(&model).contains("one class only (all 400 rows anomalous)"));
        model.data.labeled_anomalies = Some(300);
        assert!(
            note(&model).contains("75.0% of the labeled rows are anomalies")
                && note(&model).contains("ROC AUC below 0.5"),
            "{}",
            note(&model)
        );
        model.data.labeled_anomalies = None;
        assert!(note(&model).contains("No labels"));
    }

    #[test]
    fn markdown_omits_sections_without_data() {
        let model = ReportModel {
            title: "empty".into(),
            ..ReportModel::default()
        };
        let md = render_markdown(&model, &planned_plots(&model));
        assert!(md.contains("No rows were flagged."));
        assert!(md.contains("No labels"));
        assert!(!md.contains("## Plots"));
        assert!(!md.contains("## Detector agreement"));
        assert!(!md.contains("## Source IPs"));
    }

    fn fake_plot(name: &str, title: &str) -> PlotFile {
        PlotFile {
            spec: PlotSpec {
                name: name.into(),
                title: title.into(),
                kind: PlotKind::RocCurves,
            },
            png_path: PathBuf::from(format!("plots/{name}.png")),
            svg_path: PathBuf::from(format!("plots/{name}.svg")),
            png: b"PNGDATA".to_vec(),
            svg: String::new(),
        }
    }

    #[test]
    fn html_escapes_every_log_derived_string() {
        let model = sample_model();
        let html = render_html(&model, &[fake_plot("roc_curves", "Score: <script>")]);
        assert!(!html.contains("<script"), "unescaped script tag in HTML");
        assert!(html.contains(&html_escape(HOSTILE_IP)));
        assert!(html.contains(&html_escape(HOSTILE_FEATURE)));
        assert!(html.contains("src=\"data:image/png;base64,UE5HREFUQQ==\""));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<style>"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    /// Both documents of `model`, checked to hold no raw control or bidirectional character
    /// and no script.
    fn documents_without_raw_controls(model: &ReportModel) -> Vec<(&'static str, String)> {
        let plots = planned_plots(model);
        let documents = vec![
            ("markdown", render_markdown(model, &plots)),
            ("html", render_html(model, &plots)),
        ];
        for (format, text) in &documents {
            let raw: Vec<char> = text
                .chars()
                .filter(|&c| crate::test_fixture::is_forbidden_raw(c))
                .collect();
            assert!(raw.is_empty(), "{format} holds raw {raw:?}");
            assert!(!text.contains("<script"), "{format}");
        }
        documents
    }

    #[test]
    fn control_and_bidi_characters_never_reach_the_documents_raw() {
        let model = crate::test_fixture::control_text_model();
        for (format, text) in documents_without_raw_controls(&model) {
            // a log value stays on its line: the CR LF inside it is escaped too
            assert!(!text.contains('\r'), "{format}");
            assert!(text.contains("u{1b}"), "{format}");
            assert!(text.contains("u{202e}gpj.exe"), "{format}");
        }
    }

    #[test]
    #[ignore = "manual preview"]
    fn write_preview() {
        let dir = PathBuf::from(std::env::var("WEBTHREAT_PLOT_PREVIEW").unwrap());
        let model = sample_model();
        let plots = crate::render_plots(&model, &dir).unwrap();
        std::fs::write(dir.join("report.md"), render_markdown(&model, &plots)).unwrap();
        std::fs::write(dir.join("report.html"), render_html(&model, &plots)).unwrap();
    }

    #[test]
    fn markdown_with_every_section_matches_snapshot() {
        let model = crate::test_fixture::sections_model();
        insta::assert_snapshot!(render_markdown(&model, &planned_plots(&model)));
    }

    #[test]
    fn html_with_every_section_matches_snapshot() {
        let model = crate::test_fixture::sections_model();
        insta::assert_snapshot!(render_html(&model, &planned_plots(&model)));
    }

    #[test]
    fn new_sections_place_their_plots_and_leave_the_rest_under_plots() {
        let model = crate::test_fixture::sections_model();
        let plots = planned_plots(&model);
        for text in [render_markdown(&model, &plots), render_html(&model, &plots)] {
            let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle}"));
            // shown once each, inside their sections, before the general plots
            for name in ["beacon_intervals", "graph"] {
                let png = format!("plots/{name}.png");
                let id = format!("id=\"plot-{name}\"");
                assert!(
                    text.matches(&png).count() + text.matches(&id).count() == 1,
                    "{name}"
                );
            }
            let beacons = at("Beacons");
            let graph = at("Communication graph");
            let intel = at("Threat intel");
            let plots = text.rfind("Plots").unwrap();
            assert!(beacons < graph && graph < intel && intel < plots);
        }
        // without rendered plots, no figure and no link
        let md = render_markdown(&model, &[]);
        assert!(!md.contains("plots/"), "{md}");
        assert!(md.contains("## Beacons") && md.contains("## Threat intel"));
    }

    #[test]
    fn explanations_are_written_in_log_units() {
        let model = crate::test_fixture::sections_model();
        let md = render_markdown(&model, &[]);
        for text in [
            "bytes\\_out=144 MB (typical 11 KB)",
            "duration=3m 20s (typical 2.5 s)",
            "src\\_rows\\_1h=12,345 (typical 7)",
            "bytes\\_per\\_second=1.2 MB/s (typical 512 B/s)",
            "hour=03:15 (typical 13:45)",
            "out\\_share=99.5% (typical 12.5%)",
            "\\|bytes=-1.5000 (typical 0.2500)",
        ] {
            assert!(md.contains(text), "missing {text}");
        }
    }

    #[test]
    fn new_sections_escape_log_derived_strings() {
        use crate::test_fixture::{HOSTILE_ENTRY, HOSTILE_LIST};
        let model = crate::test_fixture::sections_model();
        let plots = planned_plots(&model);
        let md = render_markdown(&model, &plots);
        let html = render_html(&model, &plots);
        for text in [&md, &html] {
            assert!(!text.contains("<script"));
            assert!(!text.contains("<img src=x"));
            assert!(!text.contains("<b>list"));
            assert!(!text.contains('\u{202E}'));
        }
        assert!(html.contains(&html_escape(HOSTILE_LIST)));
        assert!(html.contains(&html_escape(HOSTILE_ENTRY)));
        assert!(md.contains(&markdown_escape(HOSTILE_LIST)));
        assert!(md.contains(&markdown_escape(HOSTILE_ENTRY)));
        // every row of the beacon and intel tables keeps its columns
        for line in md.lines().filter(|l| l.starts_with("| ")) {
            let cells = line.matches('|').count() - line.matches("\\|").count();
            assert!(cells >= 3, "{line}");
        }
        let beacon_rows: Vec<&str> = md
            .lines()
            .filter(|l| l.contains("| 203.0.113.") && l.contains(":"))
            .collect();
        assert!(!beacon_rows.is_empty());
        for line in beacon_rows.iter().filter(|l| l.contains("T00:00:03Z")) {
            let cells = line.matches('|').count() - line.matches("\\|").count();
            assert_eq!(cells, 16, "{line}");
        }
    }

    #[test]
    fn control_text_in_new_sections_never_reaches_the_documents_raw() {
        let model = crate::test_fixture::sections_control_text_model();
        for (format, text) in documents_without_raw_controls(&model) {
            for tag in ["src", "dst", "list", "entry", "net", "beacon"] {
                assert!(text.contains(&format!("{tag}\\")), "{format}: {tag}");
            }
        }
    }

    #[test]
    fn feature_values_use_fixed_formats() {
        assert_eq!(format_value(crate::Unit::Plain, 3.0), "3");
        assert_eq!(format_value(crate::Unit::Plain, 0.5), "0.5000");
        assert_eq!(format_value(crate::Unit::Plain, f64::NAN), "NaN");
        assert_eq!(fixed(1.0 / 3.0), "0.3333");
    }
}

/// A byte total as text: the integer, or a statement that it was beyond what is kept.
fn byte_total(v: u128) -> String {
    if v == u128::MAX {
        format!("> {:e} (saturated)", u128::MAX as f64)
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod byte_total_tests {
    use super::byte_total;

    #[test]
    fn totals_are_exact_integers_or_say_they_saturated() {
        assert_eq!(byte_total(0), "0");
        assert_eq!(
            byte_total(20_000_000_000_000_000_000),
            "20000000000000000000"
        );
        assert_eq!(byte_total(u128::MAX), "> 3.402823669209385e38 (saturated)");
    }
}
