//! Evaluation metrics, the report model, plots and Markdown/HTML rendering.
//!
//! This crate renders data it is handed and computes no detection: the experiment crate
//! builds a [`ReportModel`] (with the helpers of [`histogram`] and [`evaluate`]) and calls
//! [`render_plots`], [`render_markdown`] and [`render_html`]. Every log-derived string is
//! escaped by the renderers; the same model always renders to identical bytes.

pub mod binned;
pub mod escape;
pub mod evaluate;
pub mod histogram;
pub mod model;
pub mod noise;
pub mod plots;
pub mod render;
#[cfg(test)]
mod test_fixture;
pub mod units;

use std::path::PathBuf;
use thiserror::Error;

pub use binned::BinnedScores;
pub use escape::{base64_encode, csv_cell, html_escape, markdown_escape};
pub use evaluate::{
    Confusion, CurvePoint, EvalError, Ranking, average_precision, confusion, jaccard, pr_curve,
    roc_auc, roc_curve,
};
pub use histogram::{
    Histogram, LabelCount, LogBins, ScatterPoint, linear_histogram, top_counts, top_of,
};
pub use model::{
    AgreementMatrix, BeaconRow, BeaconSection, DataSummary, DetectorMetrics, DetectorSummary,
    EntitySummary, FeatureExplanation, FittedOn, FlaggedRow, GraphData, GraphEdge, GraphNode,
    IntelListSummary, IntelMatchRow, IntelSection, MetricOf, PlotData, ReportModel, Spread,
    TimeBucket, Unit,
};
pub use plots::{PlotFile, PlotKind, PlotSpec, plot_specs, render_plots};
pub use render::{render_html, render_markdown};

/// Why a report could not be produced.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A metric could not be computed.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// Reading or writing a report file failed.
    #[error("could not write report file {}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The bundled DejaVu Sans font could not be registered with plotters.
    #[error("could not register the bundled DejaVu Sans font with plotters")]
    Font,
    /// plotters failed to draw a plot.
    #[error("could not draw plot {plot}: {message}")]
    Plot {
        /// Name of the plot being drawn.
        plot: String,
        /// What plotters reported.
        message: String,
    },
}
