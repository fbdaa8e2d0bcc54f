//! The report accumulator: every report section, plot and metric is folded from the batches
//! of a run, one batch at a time, and built into a [`ReportModel`] at the end.
//!
//! An in-memory run adds one batch, a streamed run many; the only difference the run chooses
//! is [`ScoreKeeping`]: exact ranking metrics where every score is kept, binned where memory is
//! bounded. Everything else is folded the same way (sums, merged counts, seeded bottom-k
//! samples and a bounded table of the most severe flagged rows), so it does not depend on how
//! the rows were batched.

mod entities;
mod flagged;
mod graph;
mod intel;
mod ranking;
mod traffic;

use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use crate::types::DetectorScores;
use entities::EntityTally;
use flagged::FlaggedTable;
pub(crate) use flagged::{LogUnits, explain_rows};
use graph::GraphTally;
use intel::IntelTally;
pub(crate) use intel::{AddressHits, Hit};
pub(crate) use ranking::ScoreKeeping;
use ranking::{DetectorTally, report_error};
use traffic::{PlotTally, TimeSpan};
use webthreat_core::FeatureMatrix;
use webthreat_detectors::FittedDetector;
use webthreat_features::LogColumns;
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_ingest::{ColumnSummary, Distinct};
use webthreat_intel::{Intel, NetworkSet};
use webthreat_report::{AgreementMatrix, DataSummary, DetectorSummary, PlotData, ReportModel};

/// Bars in the category plots.
const TOP_CATEGORIES: usize = 12;
/// Points drawn in the scatter plot.
const SCATTER_POINTS: usize = 5000;
/// Bins of the score histograms.
const SCORE_BINS: usize = 40;

/// One scored batch, as the accumulator reads it.
pub(crate) struct BatchView<'a> {
    /// Unscaled features (report units), with row ids, entities and labels.
    pub raw: &'a FeatureMatrix,
    /// Scaled features (what the detectors saw).
    pub scaled: &'a FeatureMatrix,
    /// Context columns of the batch's log rows.
    pub columns: &'a LogColumns,
    /// Distinct values of the batch's text columns.
    pub summaries: &'a [ColumnSummary],
    /// The detectors, in config order.
    pub detectors: &'a [FittedDetector],
    /// Each detector's results on the batch (flags of allowlisted rows already removed).
    pub scores: &'a [DetectorScores],
    /// The intel hits of the batch's addresses, when the run has intel lists.
    pub hits: Option<&'a AddressHits>,
}

/// Everything the report needs, folded batch by batch.
pub(crate) struct ReportAccumulator {
    experiment: String,
    source_path: String,
    plots: bool,
    rows: u64,
    rejected: u64,
    /// Every batch so far had labels.
    labeled: bool,
    /// Rows labeled anomalous.
    positives: u64,
    /// Every label in row order (exact score keeping only).
    labels: Vec<bool>,
    keeping: ScoreKeeping,
    /// (name, kind, threshold) per detector.
    detector_facts: Vec<(String, String, f64)>,
    detectors: Vec<DetectorTally>,
    /// Rows flagged by both detectors `a` and `b`.
    both_flagged: Vec<Vec<u64>>,
    feature_names: Vec<String>,
    columns: Option<Vec<ColumnSummary>>,
    has_src_ip: bool,
    span: TimeSpan,
    entities: EntityTally,
    flagged: FlaggedTable,
    /// Plot data, when the run draws plots.
    plot: Option<PlotTally>,
    /// The communication graph, when the run draws plots.
    graph: Option<GraphTally>,
    /// Intel matches, when the run has intel lists.
    intel: Option<IntelTally>,
}

impl ReportAccumulator {
    /// An empty accumulator for `config`'s report of `detectors`.
    pub(crate) fn new(
        config: &ExperimentConfig,
        detectors: &[FittedDetector],
        keeping: ScoreKeeping,
    ) -> Self {
        let options = &config.report;
        Self {
            experiment: config.name.clone(),
            source_path: config.data.path.display().to_string(),
            plots: options.plots,
            rows: 0,
            rejected: 0,
            labeled: true,
            positives: 0,
            labels: Vec::new(),
            keeping,
            detector_facts: detectors
                .iter()
                .map(|d| (d.name().to_string(), d.kind().to_string(), d.threshold()))
                .collect(),
            detectors: detectors
                .iter()
                .map(|_| DetectorTally::new(keeping))
                .collect(),
            both_flagged: vec![vec![0; detectors.len()]; detectors.len()],
            feature_names: Vec::new(),
            columns: None,
            has_src_ip: false,
            span: TimeSpan::default(),
            entities: EntityTally::new(keeping == ScoreKeeping::Binned),
            flagged: FlaggedTable::new(options.top_flagged, options.explain_features),
            plot: options
                .plots
                .then(|| PlotTally::new(config.seed, config.window_seconds)),
            graph: options.plots.then(GraphTally::default),
            intel: (!config.intel.lists.is_empty()).then(IntelTally::default),
        }
    }

    /// Counts flags removed because an address of their row was allowlisted.
    pub(crate) fn add_suppressed(&mut self, flags: u64) {
        if let Some(intel) = &mut self.intel {
            intel.suppressed_flags += flags;
        }
    }

    /// Counts rows rejected by `on_bad_rows: skip`.
    pub(crate) fn add_rejected(&mut self, rows: usize) {
        self.rejected += rows as u64;
    }

    /// Folds one scored batch.
    pub(crate) fn add(&mut self, batch: &BatchView<'_>) -> Result<(), ExperimentError> {
        let raw = batch.raw;
        let n = raw.n_rows();
        self.rows += n as u64;
        if self.feature_names.is_empty() {
            self.feature_names = raw.names().to_vec();
        }
        match &mut self.columns {
            None => self.columns = Some(batch.summaries.to_vec()),
            Some(all) => {
                for (mine, theirs) in all.iter_mut().zip(batch.summaries) {
                    mine.distinct.merge(&theirs.distinct);
                }
            }
        }
        let labels = raw.labels();
        self.labeled &= labels.is_some();
        if let Some(l) = labels {
            self.positives += l.iter().filter(|x| **x).count() as u64;
            if self.keeping == ScoreKeeping::Exact {
                self.labels.extend_from_slice(l);
            }
        }
        for (tally, results) in self.detectors.iter_mut().zip(batch.scores) {
            tally.add(results, labels)?;
        }
        for (a, ra) in batch.scores.iter().enumerate() {
            for (b, rb) in batch.scores.iter().enumerate() {
                self.both_flagged[a][b] += ra
                    .flags
                    .iter()
                    .zip(&rb.flags)
                    .filter(|(x, y)| **x && **y)
                    .count() as u64;
            }
        }
        let any_flag: Vec<bool> = (0..n)
            .map(|i| batch.scores.iter().any(|d| d.flags[i]))
            .collect();
        let max_severity: Vec<u8> = (0..n)
            .map(|i| {
                batch
                    .scores
                    .iter()
                    .map(|d| d.severity_u8(i))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        self.has_src_ip |= batch.columns.has_src_ip;
        self.span.add(batch.columns);
        self.entities
            .add(raw.entities(), batch.columns, &any_flag, &max_severity);
        if let Some(plot) = &mut self.plot {
            plot.add(batch.columns, raw.row_ids(), &any_flag);
        }
        if let Some(graph) = &mut self.graph {
            graph.add(batch.columns, &any_flag);
        }
        if let (Some(tally), Some(addresses), Some(hits)) =
            (&mut self.intel, &batch.columns.addresses, batch.hits)
        {
            tally.add(addresses, hits, &any_flag);
        }
        self.flagged.add(batch)
    }

    /// The report model (no volatile fields) and notes on how its metrics were computed;
    /// `typical` are the features' typical values (medians of the reference rows) shown
    /// beside the flagged rows' values.
    /// `internal`: the networks drawn as internal hosts in the graph; `intel`: the run's
    /// lists.
    pub(crate) fn finish(
        self,
        typical: &[f64],
        internal: &NetworkSet,
        intel: Option<&Intel>,
    ) -> Result<(ReportModel, Vec<String>), ExperimentError> {
        let negatives = self.rows - self.positives;
        let labeled = self.labeled && self.positives > 0 && negatives > 0;
        let mut notes = Vec::new();
        let mut detectors = Vec::with_capacity(self.detectors.len());
        for ((name, kind, threshold), tally) in self.detector_facts.iter().zip(&self.detectors) {
            let summary = DetectorSummary {
                name: name.clone(),
                kind: kind.clone(),
                threshold: *threshold,
                ..DetectorSummary::default()
            };
            let (summary, note) = tally.summarize(summary, self.plots, labeled, &self.labels)?;
            notes.extend(note);
            detectors.push(summary);
        }
        let agreement = (detectors.len() > 1)
            .then(|| {
                let names: Vec<String> = detectors.iter().map(|d| d.name.clone()).collect();
                let flagged: Vec<u64> = self.detectors.iter().map(|t| t.flagged).collect();
                AgreementMatrix::from_counts(names, &flagged, &self.both_flagged)
            })
            .transpose()
            .map_err(report_error)?;
        let distinct_ips = self.entities.distinct_ips().map(|n| n as u64);
        notes.extend(self.entities.note());
        let (ip_summary, port_summary, flagged_by_src_ip, flagged_by_dst_port) =
            self.entities.finish();
        let plots = match self.plot {
            Some(plot) => PlotData {
                flagged_by_src_ip,
                flagged_by_dst_port,
                ..plot.finish(&self.span)
            },
            None => PlotData::default(),
        };
        let data = DataSummary {
            source_path: self.source_path,
            rows: self.rows,
            rejected_rows: self.rejected,
            first_timestamp: self.span.min_ms.map(format_epoch_ms),
            last_timestamp: self.span.max_ms.map(format_epoch_ms),
            distinct_src_ips: distinct_ips.filter(|_| self.has_src_ip),
            constant_columns: self
                .columns
                .unwrap_or_default()
                .into_iter()
                .filter(|c| matches!(c.distinct, Distinct::One(_)))
                .map(|c| c.name)
                .collect(),
            feature_names: self.feature_names.clone(),
            labeled_anomalies: self.labeled.then_some(self.positives),
            fitted_on: None,
        };
        notes.extend(
            (data.labeled_anomalies.is_some())
                .then(|| data.label_warning())
                .flatten(),
        );
        let graph = self.graph.and_then(|g| {
            let (graph, note) = g.finish(internal);
            notes.extend(note);
            graph
        });
        let intel = match (self.intel, intel) {
            (Some(tally), Some(lists)) => {
                let (section, note) = tally.finish(lists);
                notes.extend(note);
                Some(section)
            }
            _ => None,
        };
        let model = ReportModel {
            title: format!("webthreat report: {}", self.experiment),
            experiment: self.experiment,
            run_id: String::new(),
            data,
            detectors,
            agreement,
            flagged_rows: self.flagged.finish(&self.feature_names, typical),
            ip_summary,
            port_summary,
            plots,
            beacons: None,
            graph,
            intel,
        };
        Ok((model, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use webthreat_core::Entities;
    use webthreat_detectors::DetectorConfig;

    const ROWS: usize = 200;

    /// Features of rows `range`: two columns, every 23rd row an outlier (and labeled so).
    fn matrix(range: std::ops::Range<usize>) -> FeatureMatrix {
        let value = |i: usize, j: usize| match i % 23 == 4 {
            true => 50.0 + (i * (j + 3)) as f64,
            false => ((i * 7919 + j * 31) % 97) as f64 / 10.0,
        };
        let rows: Vec<usize> = range.collect();
        let entities = Entities::new(
            vec!["10.0.0.1".into(), "10.0.0.2".into(), "192.168.1.9".into()],
            rows.iter().map(|i| (*i % 3) as u32).collect(),
            rows.iter()
                .map(|&i| Entities::port_code(i, Some([443, 80][i % 2])))
                .collect::<Result<_, _>>()
                .unwrap(),
            rows.iter()
                .map(|&i| Entities::window_code(i, Some(600 * (i as i64 / 50))))
                .collect::<Result<_, _>>()
                .unwrap(),
        )
        .unwrap();
        FeatureMatrix::new(
            vec!["a".into(), "b".into()],
            rows.iter()
                .flat_map(|&i| [value(i, 0), value(i, 1)])
                .collect(),
            rows.iter().map(|&i| i as u64 + 1).collect(),
            entities,
            Some(rows.iter().map(|&i| i % 23 == 4).collect()),
        )
        .unwrap()
    }

    fn columns(raw: &FeatureMatrix) -> LogColumns {
        let ids = raw.row_ids();
        let mut protocol = BTreeMap::new();
        for id in ids {
            *protocol
                .entry(["TCP", "UDP"][*id as usize % 2].to_string())
                .or_insert(0) += 1;
        }
        LogColumns {
            bytes_in: Some(raw.column(0)),
            bytes_out: Some(raw.column(1)),
            start_ms: Some(ids.iter().map(|id| *id as i64 * 30_000).collect()),
            protocol: Some(protocol),
            country: None,
            has_src_ip: true,
            ..LogColumns::default()
        }
    }

    fn detectors(raw: &FeatureMatrix) -> Vec<FittedDetector> {
        [
            "{\"kind\": \"zscore\", \"contamination\": 0.06}",
            "{\"kind\": \"iforest\", \"n_estimators\": 20}",
        ]
        .iter()
        .map(|json| {
            let config: DetectorConfig = serde_json::from_str(json).unwrap();
            webthreat_detectors::train(&config, raw, 7, None)
                .unwrap()
                .detector
        })
        .collect()
    }

    fn test_config(plots: bool) -> ExperimentConfig {
        let mut config = ExperimentConfig::parse(
            "name: t\ndata:\n  path: x.csv\nreport:\n  top_flagged: 6\n  explain_features: 2\ndetectors:\n  - kind: zscore\n",
            &[],
        )
        .unwrap();
        config.report.plots = plots;
        config
    }

    /// The report model of the rows folded in batches starting at `cuts`.
    fn fold(keeping: ScoreKeeping, plots: bool, cuts: &[usize]) -> (ReportModel, Vec<String>) {
        let whole = matrix(0..ROWS);
        let models = detectors(&whole);
        let mut acc = ReportAccumulator::new(&test_config(plots), &models, keeping);
        let mut bounds = cuts.to_vec();
        bounds.push(ROWS);
        for pair in bounds.windows(2) {
            let raw = matrix(pair[0]..pair[1]);
            let scores: Vec<DetectorScores> = models
                .iter()
                .map(|m| DetectorScores::new(m, m.score(&raw).unwrap(), None))
                .collect();
            let summaries = vec![ColumnSummary {
                name: "proto".into(),
                distinct: Distinct::One(Some("TCP".into())),
            }];
            acc.add(&BatchView {
                raw: &raw,
                scaled: &raw,
                columns: &columns(&raw),
                summaries: &summaries,
                detectors: &models,
                scores: &scores,
                hits: None,
            })
            .unwrap();
        }
        acc.add_rejected(3);
        acc.finish(&[1.5, 2.5], &NetworkSet::private(), None)
            .unwrap()
    }

    #[test]
    fn batching_does_not_change_the_report() {
        for keeping in [ScoreKeeping::Exact, ScoreKeeping::Binned] {
            let one = fold(keeping, true, &[0]);
            assert_eq!(one, fold(keeping, true, &[0, 1, 77, 150]), "{keeping:?}");
            assert_eq!(one, fold(keeping, true, &[0, 100]), "{keeping:?}");
        }
    }

    #[test]
    fn binned_and_exact_runs_differ_only_in_ranking_metrics_and_histograms() {
        let (exact, exact_notes) = fold(ScoreKeeping::Exact, true, &[0]);
        let (binned, binned_notes) = fold(ScoreKeeping::Binned, true, &[0, 50]);
        assert!(exact_notes.is_empty());
        assert_eq!(binned_notes.len(), 2, "{binned_notes:?}");
        assert!(binned_notes[0].contains("binned to 12 significant bits"));
        assert_eq!(exact.data, binned.data);
        assert_eq!(exact.flagged_rows, binned.flagged_rows);
        assert_eq!(exact.ip_summary, binned.ip_summary);
        assert_eq!(exact.port_summary, binned.port_summary);
        assert_eq!(exact.agreement, binned.agreement);
        assert_eq!(exact.plots.scatter, binned.plots.scatter);
        assert_eq!(exact.plots.traffic, binned.plots.traffic);
        for (e, b) in exact.detectors.iter().zip(&binned.detectors) {
            assert_eq!((e.flagged, e.threshold), (b.flagged, b.threshold));
            let (em, bm) = (e.metrics.unwrap(), b.metrics.unwrap());
            assert_eq!(em.confusion, bm.confusion);
            assert!(
                (em.roc_auc - bm.roc_auc).abs() < 1e-3,
                "{} vs {}",
                em.roc_auc,
                bm.roc_auc
            );
        }
    }

    #[test]
    fn the_report_holds_what_was_folded() {
        let (model, _) = fold(ScoreKeeping::Exact, true, &[0, 60]);
        assert_eq!(
            (model.data.rows, model.data.rejected_rows),
            (ROWS as u64, 3)
        );
        assert_eq!(model.data.distinct_src_ips, Some(3));
        assert_eq!(model.data.constant_columns, vec!["proto"]);
        assert_eq!(
            model.data.first_timestamp.as_deref(),
            Some("1970-01-01T00:00:30Z")
        );
        // the most severe flagged rows first, each explained with the typical values given
        let rows = &model.flagged_rows;
        assert_eq!(rows.len(), 6);
        assert!(rows.windows(2).all(|w| (w[0].severity, w[0].score)
            >= (w[1].severity, w[1].score)
            || w[0].detector != w[1].detector));
        for row in rows {
            assert_eq!(row.top_features.len(), 2);
            for f in &row.top_features {
                let typical = if f.feature == "a" { 1.5 } else { 2.5 };
                assert_eq!(f.typical, typical);
            }
        }
        let zscore = &model.detectors[0];
        let flagged_outliers = (0..ROWS).filter(|i| i % 23 == 4).count() as u64;
        assert_eq!(
            zscore.metrics.unwrap().confusion.tp + zscore.metrics.unwrap().confusion.fn_,
            flagged_outliers
        );
        let agreement = model.agreement.unwrap();
        assert_eq!(agreement.jaccard[0][0], 1.0);
        assert_eq!(agreement.jaccard[0][1], agreement.jaccard[1][0]);
        assert_eq!(model.plots.scatter.len(), ROWS);
        assert_eq!(
            model.plots.traffic.iter().map(|b| b.rows).sum::<u64>(),
            ROWS as u64
        );
        assert_eq!(
            model.plots.by_protocol.iter().map(|c| c.count).sum::<u64>(),
            ROWS as u64
        );
    }

    #[test]
    fn without_plots_no_plot_data_is_kept() {
        let (model, _) = fold(ScoreKeeping::Exact, false, &[0]);
        assert_eq!(model.plots, PlotData::default());
        assert!(model.detectors.iter().all(|d| d.score_histogram.is_none()));
        assert!(!model.ip_summary.is_empty());
    }
}
