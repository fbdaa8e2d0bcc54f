//! The interval histograms of the top beacon pairs: one small panel per pair, numbered as in
//! the report's beacon table, bars red for a flagged pair.

use super::{
    BAR_BLUE, DrawResult, FONT_FAMILY, MAX_BEACON_PANELS, SUSPICIOUS_RED, caption_font,
    format_axis_value, plot_text, shorten,
};
use crate::model::{BeaconRow, BeaconSection, Unit};
use crate::units::format_value;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Panels per row of the grid.
const COLUMNS: usize = 5;
/// Longest panel title drawn, in characters.
const MAX_PANEL_TITLE_CHARS: usize = 34;

/// Draws the first [`MAX_BEACON_PANELS`] pairs of `beacons` as a grid of histograms.
pub(super) fn draw_beacon_intervals<DB>(
    root: &DrawingArea<DB, Shift>,
    beacons: &BeaconSection,
    title: &str,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let pairs = &beacons.pairs[..beacons.pairs.len().min(MAX_BEACON_PANELS)];
    if pairs.is_empty() {
        return Ok(());
    }
    let root = root.titled(title, caption_font())?;
    let columns = pairs.len().min(COLUMNS);
    let rows = pairs.len().div_ceil(COLUMNS);
    let panels = root.split_evenly((rows, columns));
    for (index, (panel, pair)) in panels.iter().zip(pairs).enumerate() {
        draw_panel(panel, index + 1, pair)?;
    }
    Ok(())
}

/// `number. src -> dst:port`, made safe and short enough for a panel.
fn panel_title(number: usize, pair: &BeaconRow) -> String {
    let text = format!(
        "{number}. {} -> {}:{}",
        plot_text(&pair.src_ip),
        plot_text(&pair.dst_ip),
        pair.dst_port
    );
    shorten(&text, MAX_PANEL_TITLE_CHARS)
}

fn draw_panel<DB>(panel: &DrawingArea<DB, Shift>, number: usize, pair: &BeaconRow) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let bins = &pair.interval_histogram;
    if bins.is_empty() {
        let panel = panel.titled(&panel_title(number, pair), (FONT_FAMILY, 13))?;
        let (width, height) = panel.dim_in_pixel();
        let centre = TextStyle::from((FONT_FAMILY, 13))
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let at = (i32::try_from(width / 2)?, i32::try_from(height / 2)?);
        panel.draw(&Text::new("no intervals", at, centre))?;
        return Ok(());
    }
    let color = if pair.flagged {
        SUSPICIOUS_RED
    } else {
        BAR_BLUE
    };
    // bins by index: the edges (log-derived) never reach an axis range
    let n = bins.len();
    let y_max = bins.iter().map(|&(_, count)| count).max().unwrap_or(0) as f64;
    let y_end = (y_max * 1.1).max(1.0);
    let mut chart = ChartBuilder::on(panel)
        .caption(panel_title(number, pair), (FONT_FAMILY, 13))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(42)
        .build_cartesian_2d(0.0..n as f64, 0.0..y_end)?;
    let edge_label = |v: &f64| {
        let index = v.round();
        if (v - index).abs() < 1e-9 && index >= 0.0 {
            bins.get(index as usize)
                .map(|&(edge, _)| format_value(Unit::Seconds, edge))
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(4)
        .y_labels(4)
        .x_label_formatter(&edge_label)
        .y_label_formatter(&|v| format_axis_value(*v))
        .label_style((FONT_FAMILY, 11))
        .draw()?;
    chart.draw_series(bins.iter().enumerate().map(|(i, &(_, count))| {
        let mut bar = Rectangle::new(
            [(i as f64, 0.0), ((i + 1) as f64, count as f64)],
            color.mix(0.8).filled(),
        );
        bar.set_margin(0, 0, 1, 1);
        bar
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panel_titles_are_numbered_safe_and_short() {
        let pair = BeaconRow {
            src_ip: "10.0.0.1".into(),
            dst_ip: "203.0.113.7".into(),
            dst_port: 443,
            ..BeaconRow::default()
        };
        assert_eq!(panel_title(1, &pair), "1. 10.0.0.1 -> 203.0.113.7:443");
        let hostile = BeaconRow {
            src_ip: "\u{1b}[2J\u{202E}<x>".into(),
            dst_ip: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".into(),
            ..pair
        };
        let title = panel_title(10, &hostile);
        assert_eq!(title.chars().count(), MAX_PANEL_TITLE_CHARS);
        assert!(
            title.starts_with("10. \\u{1b}[2J\\u{202e}<x> -> 200"),
            "{title}"
        );
        assert!(title.ends_with("..."), "{title}");
    }
}
