//! The stages of a run, each on one batch or one fit matrix: the feature spec, a batch's
//! features and context, the fit (scaler, detectors and thresholds on the fit rows) and
//! scoring a batch with fitted detectors.

use crate::config::{ExperimentConfig, FitLabel, FitOptions};
use crate::error::ExperimentError;
use crate::progress::StageProgress;
use crate::types::{DetectorScores, FeaturePipeline};
use std::borrow::Cow;
use webthreat_core::FeatureMatrix;
use webthreat_core::stats::{Middle, column_middles};
use webthreat_detectors::{FittedDetector, Reads};
use webthreat_features::{FeatureSpec, LogColumns, Scaler, build_matrix, numeric_columns};
use webthreat_ingest::{ColumnSummary, LogTable, RowFilter, SourceSpec, canonical};
use webthreat_report::{
    DetectorMetrics, DetectorSummary, FittedOn, MetricOf, Ranking, Spread, confusion,
};

/// The configured features or the format's default ones, less `features_exclude`; `None`
/// when they are every suitable numeric column of the table (known once it is read).
pub(crate) fn listed_features(config: &ExperimentConfig) -> Option<Vec<String>> {
    let names = match &config.features {
        Some(names) => names.clone(),
        None => config
            .data
            .format
            .default_features()?
            .iter()
            .map(|f| f.to_string())
            .collect(),
    };
    Some(without_excluded(names, config))
}

fn without_excluded(names: Vec<String>, config: &ExperimentConfig) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| !config.features_exclude.contains(n))
        .collect()
}

/// The features the run's rule detectors read (`beacon_score` for `kind: beacon`).
fn rule_features(config: &ExperimentConfig) -> Vec<&'static str> {
    config
        .detectors
        .iter()
        .filter_map(|d| match d.params().reads() {
            Reads::Feature(f) => Some(f),
            Reads::ScaledFeatures => None,
        })
        .collect()
}

/// The spec of `names`, with the rule detectors' features added.
fn spec_of(config: &ExperimentConfig, names: Vec<String>) -> Result<FeatureSpec, ExperimentError> {
    Ok(FeatureSpec::new(names, config.window_seconds)?
        .with_rule_features(&rule_features(config))?)
}

/// The configured features (with the rule detectors' ones), when the config or the format
/// lists them; `None` when they depend on the table.
pub(crate) fn listed_spec(
    config: &ExperimentConfig,
) -> Result<Option<FeatureSpec>, ExperimentError> {
    listed_features(config)
        .map(|names| spec_of(config, names))
        .transpose()
}

/// The configured source, with the columns the features need parsed as numbers.
pub(crate) fn source_spec(config: &ExperimentConfig) -> Result<SourceSpec, ExperimentError> {
    let mut source = config.data.clone();
    if let Some(spec) = listed_spec(config)? {
        source.numeric = spec.raw_numeric_columns();
        source.text = (spec.categorical_columns().into_iter())
            .filter(|c| !canonical::MAPPABLE.contains(&c.as_str()))
            .collect();
    }
    Ok(source)
}

/// The configured features, or the default ones of the log's format.
pub(crate) fn feature_spec(
    config: &ExperimentConfig,
    table: &LogTable,
) -> Result<FeatureSpec, ExperimentError> {
    let names =
        listed_features(config).unwrap_or_else(|| without_excluded(numeric_columns(table), config));
    spec_of(config, names)
}

/// The rows of the fit log a `fit:` section fits on.
pub(crate) fn fit_filter(fit: &FitOptions) -> RowFilter {
    RowFilter {
        normal_only: fit.label == Some(FitLabel::Normal),
        before_ms: fit.before_ms(),
        from_ms: None,
    }
}

/// The rows of the log that are scored: with `fit.before` and no training log of its own,
/// those from that time on (the earlier ones were fitted on); else every row.
pub(crate) fn score_filter(config: &ExperimentConfig) -> RowFilter {
    match &config.fit {
        Some(fit) if fit.data.is_none() => RowFilter {
            from_ms: fit.before_ms(),
            ..RowFilter::default()
        },
        _ => RowFilter::default(),
    }
}

/// What `fit` fitted on, for the report and `metrics.json` (`rows` rows fitted on).
pub(crate) fn fitted_on(config: &ExperimentConfig, fit: &FitOptions, rows: usize) -> FittedOn {
    let source = fit.data.as_ref().unwrap_or(&config.data.path);
    let mut selection = Vec::new();
    if fit.label == Some(FitLabel::Normal) {
        selection.push("the rows labeled normal".to_string());
    }
    if let Some(before) = &fit.before {
        selection.push(format!("the rows starting before {before}"));
    }
    if selection.is_empty() {
        selection.push("every row".to_string());
    }
    let mut selection = selection.join(", ");
    if fit.data.is_none() && fit.before.is_none() {
        selection.push_str(" (also scored)");
    }
    FittedOn {
        rows: rows as u64,
        source: source.display().to_string(),
        selection,
    }
}

/// One batch's rows as the later stages need them (the log table itself is dropped).
pub(crate) struct Batch {
    /// Unscaled features (report units) with row ids, entities and labels.
    pub raw: FeatureMatrix,
    /// Context columns for the report.
    pub columns: LogColumns,
    /// Distinct values of every column, for the constant-column note.
    pub summaries: Vec<ColumnSummary>,
}

impl Batch {
    /// Builds the features of `table`'s rows while its context columns (with each row's
    /// addresses, ports and protocol, which alerts name) are extracted.
    pub(crate) fn build(table: &LogTable, spec: &FeatureSpec) -> Result<Self, ExperimentError> {
        let (raw, context) = rayon::join(
            || build_matrix(table, spec),
            || -> Result<_, ExperimentError> {
                Ok((LogColumns::extract(table)?, table.column_summaries()?))
            },
        );
        let (columns, summaries) = context?;
        Ok(Self {
            raw: raw?,
            columns,
            summaries,
        })
    }

    /// The batch of `table` with a fitted pipeline (`spec` with the context of the data at
    /// hand, `scaler`), and its listed features scaled: what the detectors score.
    pub(crate) fn build_scaled(
        table: &LogTable,
        spec: &FeatureSpec,
        scaler: &Scaler,
    ) -> Result<(Self, FeatureMatrix), ExperimentError> {
        let batch = Self::build(table, spec)?;
        let scaled = scaler.transform(&*listed(spec, &batch.raw)?)?;
        Ok((batch, scaled))
    }
}

/// A fit: the feature pipeline and detectors fitted on the fit rows, and what the fit
/// computed on those rows on the way.
pub(crate) struct Fit {
    pub pipeline: FeaturePipeline,
    pub detectors: Vec<FittedDetector>,
    /// The fit rows' listed features, scaled.
    pub scaled: FeatureMatrix,
    /// Each detector's scores of the fit rows, in row order and sorted.
    pub training_scores: Vec<(Vec<f64>, Vec<f64>)>,
    /// What the detectors adjusted while fitting (a clamped `max_samples`, a subsample).
    pub notes: Vec<String>,
    /// With `repeat:` and labels, each detector's metrics on the fit rows for the seeds after
    /// the first (the first seed's come from the scoring loop).
    pub repeats: Vec<Vec<Option<DetectorMetrics>>>,
}

/// The listed features of `raw` (all its columns but the rule features), unscaled: what the
/// scaler sees. Borrowed when the run has no rule features.
pub(crate) fn listed<'m>(
    spec: &FeatureSpec,
    raw: &'m FeatureMatrix,
) -> Result<Cow<'m, FeatureMatrix>, ExperimentError> {
    let n = spec.listed_columns()?;
    Ok(if n == raw.n_cols() {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.select(&(0..n).collect::<Vec<_>>()))
    })
}

/// The matrix a detector reads: the scaled listed features, or its one feature unscaled
/// (row `row` alone when given, for explaining one row).
pub(crate) fn input_of<'m>(
    reads: Reads,
    raw: &FeatureMatrix,
    scaled: &'m FeatureMatrix,
) -> Result<Cow<'m, FeatureMatrix>, ExperimentError> {
    match reads {
        Reads::ScaledFeatures => Ok(Cow::Borrowed(scaled)),
        Reads::Feature(f) => {
            let j = raw.names().iter().position(|n| n == f).ok_or_else(|| {
                ExperimentError::Report(format!("feature {f} was not computed for its detector"))
            })?;
            Ok(Cow::Owned(raw.select(&[j])))
        }
    }
}

/// Fits the scaler, then every detector and its threshold, on the unscaled fit rows `raw`.
pub(crate) fn fit(
    config: &ExperimentConfig,
    spec: FeatureSpec,
    raw: &FeatureMatrix,
) -> Result<Fit, ExperimentError> {
    let listed_raw = listed(&spec, raw)?;
    let scaler = Scaler::fit(config.scaling, &listed_raw)?;
    let scaled = scaler.transform(&listed_raw)?;
    // one selection per column gives the medians of both matrices
    let middles = column_middles(raw);
    let typical = middles.iter().map(Middle::median).collect();
    let scaled_medians = scaler.scaled_medians(&middles[..listed_raw.n_cols()]);
    drop(listed_raw);
    let mut detectors = Vec::with_capacity(config.detectors.len());
    let mut training_scores = Vec::with_capacity(config.detectors.len());
    let mut notes = Vec::new();
    let mut repeats = Vec::with_capacity(config.detectors.len());
    for detector in &config.detectors {
        let _stage = StageProgress::start(format!(
            "fitting {} on {} rows",
            detector.name(),
            scaled.n_rows()
        ));
        let reads = detector.params().reads();
        let input = input_of(reads, raw, &scaled)?;
        let medians = scaled_medians
            .clone()
            .filter(|_| reads == Reads::ScaledFeatures);
        let trained = webthreat_detectors::train(detector, &input, config.seed, medians.clone())
            .map_err(|e| detector_error(detector.name(), e))?;
        let mut seeds = Vec::new();
        if let Some(labels) = raw.labels().filter(|_| config.repeat > 1) {
            for r in 1..config.repeat as u64 {
                let again =
                    webthreat_detectors::train(detector, &input, config.seed + r, medians.clone())
                        .map_err(|e| detector_error(detector.name(), e))?;
                seeds.push(seed_metrics(&again, labels)?);
            }
        }
        repeats.push(seeds);
        detectors.push(trained.detector);
        training_scores.push((trained.scores, trained.sorted_scores));
        notes.extend(trained.notes);
    }
    Ok(Fit {
        pipeline: FeaturePipeline {
            spec,
            scaler,
            typical,
        },
        detectors,
        scaled,
        training_scores,
        notes,
        repeats,
    })
}

/// Sets a detector's repeats: its first seed's metrics (from the scoring loop) then `seeds`'
/// (those that could be ranked), and its metrics to their mean (the confusion counts stay the
/// first seed's). Nothing changes without repeats or without metrics.
pub(crate) fn with_repeats(summary: &mut DetectorSummary, seeds: Vec<Option<DetectorMetrics>>) {
    let Some(first) = summary.metrics else {
        return;
    };
    if seeds.is_empty() {
        return;
    }
    let all: Vec<DetectorMetrics> = std::iter::once(first)
        .chain(seeds.into_iter().flatten())
        .collect();
    let mean = |metric: MetricOf| Spread::of(&all.iter().map(metric).collect::<Vec<_>>()).mean;
    summary.metrics = Some(DetectorMetrics {
        roc_auc: mean(|m| m.roc_auc),
        pr_auc: mean(|m| m.pr_auc),
        precision: mean(|m| m.precision),
        recall: mean(|m| m.recall),
        f1: mean(|m| m.f1),
        confusion: first.confusion,
    });
    summary.repeats = all;
}

/// A fit's metrics against the labels of the rows it was fitted on (`None` when they hold one
/// class only: nothing to rank).
fn seed_metrics(
    trained: &webthreat_detectors::Trained,
    labels: &[bool],
) -> Result<Option<DetectorMetrics>, ExperimentError> {
    if labels.iter().all(|&l| l) || !labels.iter().any(|&l| l) {
        return Ok(None);
    }
    let report = |e: webthreat_report::EvalError| ExperimentError::Report(e.to_string());
    let ranking =
        Ranking::compute_sorted(&trained.scores, labels, &trained.sorted_scores).map_err(report)?;
    let flags = trained.detector.flags(&trained.scores);
    let confusion = confusion(&flags, labels).map_err(report)?;
    Ok(Some(DetectorMetrics {
        roc_auc: ranking.roc_auc,
        pr_auc: ranking.average_precision,
        precision: confusion.precision(),
        recall: confusion.recall(),
        f1: confusion.f1(),
        confusion,
    }))
}

/// Scores a batch with every detector (`raw`: its features, `scaled`: its listed features
/// scaled).
pub(crate) fn score(
    detectors: &[FittedDetector],
    raw: &FeatureMatrix,
    scaled: &FeatureMatrix,
) -> Result<Vec<DetectorScores>, ExperimentError> {
    detectors
        .iter()
        .map(|model| {
            let input = input_of(model.config().params().reads(), raw, scaled)?;
            let scores = model
                .score(&input)
                .map_err(|e| detector_error(model.name(), e))?;
            Ok(DetectorScores::new(model, scores, None))
        })
        .collect()
}

pub(crate) fn detector_error(name: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Detector {
        name: name.to_string(),
        message: e.to_string(),
    }
}
