//! The summary of a sweep or suite: every candidate (a detector with one combination of the
//! swept values) ranked by a metric on every data set, with mean ± sd over seeds, the average
//! rank, and on one data set how each candidate differs from the best beyond seed noise.
//! Written as `summary.md`, `summary.html` and `summary.json`.

use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use crate::outputs::{self, write_file};
use crate::plan::Variant;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use webthreat_report::noise::{SIGNIFICANCE, Seeded, Verdict, difference};
use webthreat_report::{Spread, html_escape, markdown_escape};

/// One finished run of a plan, as the summary needs it.
#[derive(Debug, Clone)]
pub(crate) struct SummaryRun {
    data_set: Option<String>,
    values: Vec<String>,
    id: String,
    /// Per detector (in config order): its name and the ranked metric (`None` without labels).
    detectors: Vec<(String, Option<(Spread, Seeded)>)>,
}

impl SummaryRun {
    /// Reads a committed run's metrics.
    pub(crate) fn read(variant: &Variant, dir: &Path, id: &str) -> Result<Self, ExperimentError> {
        let (_, metrics) = outputs::read_run(dir)?;
        let metric = variant.config.rank_by.as_str();
        let detectors = (variant.config.detectors.iter())
            .map(|d| {
                let ranked = metrics.detectors.get(d.name()).and_then(|m| {
                    let mean = m.metric(metric)?;
                    let of = |what: &str| m.spread.get(&format!("{metric}_{what}")).copied();
                    let spread = Spread {
                        mean,
                        sd: of("sd").unwrap_or(0.0),
                        min: of("min").unwrap_or(mean),
                        max: of("max").unwrap_or(mean),
                    };
                    Some((spread, m.seeded(metric, variant.config.seed)?))
                });
                (d.name().to_string(), ranked)
            })
            .collect();
        Ok(Self {
            data_set: variant.data_set.clone(),
            values: variant.values.clone(),
            id: id.to_string(),
            detectors,
        })
    }
}

/// A sweep's or suite's ranked candidates (`summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The experiment.
    pub experiment: String,
    /// The metric ranked by (higher is better).
    pub rank_by: String,
    /// Seeds per run (`repeat`).
    pub repeats: usize,
    /// The swept keys.
    pub swept: Vec<String>,
    /// The data sets (one unnamed entry, `""`, without a suite).
    pub data_sets: Vec<String>,
    /// Best first: by average rank, then by the first data set's mean.
    pub candidates: Vec<Candidate>,
}

/// A detector with one combination of swept values.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Detector name.
    pub detector: String,
    /// The swept keys' values (YAML text), in the order of [`Summary::swept`].
    pub values: Vec<String>,
    /// Per data set, in the order of [`Summary::data_sets`]; `None` without labels there.
    pub cells: Vec<Option<Cell>>,
    /// Mean of the ranks over the data sets with a value (1 is best; ties share the mean of
    /// their ranks).
    pub average_rank: Option<f64>,
    /// On one data set, the difference from the best candidate and whether it is beyond seed
    /// noise (absent for the best itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versus_best: Option<VersusBest>,
}

/// One candidate's ranked metric on one data set.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The run (`<experiment>/<id>`).
    pub run: String,
    /// Mean over seeds.
    pub mean: f64,
    /// Sample standard deviation over seeds (0 for one seed).
    pub sd: f64,
    /// Smallest seed's value.
    pub min: f64,
    /// Largest seed's value.
    pub max: f64,
    /// Seeds.
    pub seeds: usize,
    /// Rank among the candidates on this data set.
    pub rank: f64,
    /// The best on this data set, or not told apart from the best by the noise test.
    pub best_or_within_noise: bool,
    #[serde(skip)]
    seeded: Seeded,
}

/// How a candidate differs from the best one.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct VersusBest {
    /// Its mean minus the best's.
    pub delta: f64,
    /// The noise test.
    pub verdict: Verdict,
    /// Whether the difference cannot be told from seed noise.
    pub within_noise: bool,
}

impl Summary {
    /// Ranks the runs' candidates.
    pub(crate) fn build(
        config: &ExperimentConfig,
        swept: Vec<String>,
        runs: &[SummaryRun],
    ) -> Self {
        let mut data_sets: Vec<String> = Vec::new();
        for r in runs {
            let name = r.data_set.clone().unwrap_or_default();
            if !data_sets.contains(&name) {
                data_sets.push(name);
            }
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        for r in runs {
            let column = (data_sets.iter())
                .position(|d| {
                    Some(d) == r.data_set.as_ref() || (d.is_empty() && r.data_set.is_none())
                })
                .unwrap_or(0);
            for (detector, ranked) in &r.detectors {
                let at = match (candidates.iter())
                    .position(|c| &c.detector == detector && c.values == r.values)
                {
                    Some(at) => at,
                    None => {
                        candidates.push(Candidate {
                            detector: detector.clone(),
                            values: r.values.clone(),
                            cells: vec![None; data_sets.len()],
                            average_rank: None,
                            versus_best: None,
                        });
                        candidates.len() - 1
                    }
                };
                candidates[at].cells[column] = ranked.as_ref().map(|(spread, seeded)| Cell {
                    run: format!("{}/{}", config.name, r.id),
                    mean: spread.mean,
                    sd: spread.sd,
                    min: spread.min,
                    max: spread.max,
                    seeds: seeded.values.len(),
                    rank: 0.0,
                    best_or_within_noise: false,
                    seeded: seeded.clone(),
                });
            }
        }
        rank(&mut candidates, data_sets.len());
        mark_the_best(&mut candidates, data_sets.len());
        if data_sets.len() == 1
            && let Some(best) = candidates.first().and_then(|c| c.cells[0].clone())
        {
            for c in candidates.iter_mut().skip(1) {
                if let Some(cell) = &c.cells[0] {
                    let verdict = difference(&best.seeded, &cell.seeded).1;
                    c.versus_best = Some(VersusBest {
                        delta: cell.mean - best.mean,
                        verdict,
                        within_noise: verdict.within_noise(),
                    });
                }
            }
        }
        Summary {
            experiment: config.name.clone(),
            rank_by: config.rank_by.as_str().to_string(),
            repeats: config.repeat,
            swept,
            data_sets,
            candidates,
        }
    }

    fn title(&self) -> String {
        let kind = match (self.swept.is_empty(), self.data_sets.len() > 1) {
            (false, true) => "Sweep and suite",
            (false, false) => "Sweep",
            (true, _) => "Suite",
        };
        format!("{kind} summary: {}", self.experiment)
    }

    /// What the table shows, in one paragraph.
    fn legend(&self) -> String {
        let seeds = if self.repeats > 1 {
            format!("mean ± sd over {} seeds per run", self.repeats)
        } else {
            "one seed per run: differences smaller than the seed spread (ROC AUC moves by 0.02-0.03 between seeds on public benchmark tables) cannot be told from noise; add `repeat: 5`".into()
        };
        let mut text = format!(
            "Ranked by {} ({seeds}; higher is better). Rank 1 is best on a data set; tied candidates share the mean of their ranks; the average rank is over the data sets where the candidate has a value.",
            self.rank_by
        );
        let _ = write!(
            text,
            " In bold: the best on each data set, and those seed noise cannot tell from it (a paired t-test over the seeds both were fitted with, p ≥ {SIGNIFICANCE}; without shared seeds, overlapping mean ± sd)."
        );
        if self.data_sets.len() == 1 && self.candidates.len() > 1 {
            text.push_str(" \"vs best\" is each row's difference from the first and its test.");
        }
        text
    }

    /// The table as rows of cells: header, then one row per candidate. On one data set the
    /// first column is the rank; on several, the position, with the average rank last.
    /// A cell is its text and whether it is emphasised (best, or within noise of the best).
    fn table(&self) -> (Vec<String>, Vec<Vec<(String, bool)>>) {
        let one = self.data_sets.len() == 1;
        let mut header = vec![
            if one { "rank" } else { "position" }.to_string(),
            "detector".into(),
        ];
        header.extend(self.swept.iter().cloned());
        if one {
            header.extend([self.rank_by.clone(), "vs best".into(), "run".into()]);
        } else {
            header.extend(self.data_sets.iter().cloned());
            header.push("average rank".into());
        }
        let value = |cell: &Option<Cell>| match cell {
            Some(cell) if cell.seeds > 1 => (
                format!("{:.4} ± {:.4}", cell.mean, cell.sd),
                cell.best_or_within_noise,
            ),
            Some(cell) => (format!("{:.4}", cell.mean), cell.best_or_within_noise),
            None => ("-".into(), false),
        };
        let average = |c: &Candidate| c.average_rank.map_or("-".into(), |r| format!("{r:.2}"));
        let plain = |text: String| (text, false);
        let rows = (self.candidates.iter().enumerate())
            .map(|(i, c)| {
                let mut row = vec![
                    plain(if one { average(c) } else { (i + 1).to_string() }),
                    plain(c.detector.clone()),
                ];
                row.extend(c.values.iter().cloned().map(plain));
                if one {
                    row.push(value(&c.cells[0]));
                    row.push(plain(match (&c.versus_best, &c.cells[0]) {
                        (Some(v), _) => format!("{:+.4}, {}", v.delta, v.verdict.describe()),
                        (None, Some(_)) => "best".into(),
                        (None, None) => "-".into(),
                    }));
                    row.push(plain(
                        c.cells[0]
                            .as_ref()
                            .map_or("-".into(), |cell| cell.run.clone()),
                    ));
                } else {
                    row.extend(c.cells.iter().map(value));
                    row.push(plain(average(c)));
                }
                row
            })
            .collect();
        (header, rows)
    }

    /// `summary.md`.
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# {}\n\n{}\n\n",
            markdown_escape(&self.title()),
            self.legend()
        );
        let (header, rows) = self.table();
        let _ = writeln!(
            md,
            "| {} |",
            (header.iter())
                .map(|h| markdown_escape(h))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
        for row in rows {
            let _ = writeln!(
                md,
                "| {} |",
                (row.iter())
                    .map(|(text, bold)| match bold {
                        true => format!("**{}**", markdown_escape(text)),
                        false => markdown_escape(text),
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        if self.data_sets.len() > 1 {
            md.push_str("\n## Runs\n\n");
            let _ = writeln!(md, "| data set | {} |", self.run_columns().join(" | "));
            let _ = writeln!(md, "|---|{}", "---|".repeat(self.run_columns().len()));
            for (i, data_set) in self.data_sets.iter().enumerate() {
                let _ = writeln!(
                    md,
                    "| {} | {} |",
                    markdown_escape(data_set),
                    self.runs_of(i).join(" | ")
                );
            }
        }
        md
    }

    /// The distinct value combinations (one column each in the runs table).
    fn run_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.candidates {
            let label = if self.swept.is_empty() {
                "run".to_string()
            } else {
                (self.swept.iter().zip(&c.values))
                    .map(|(k, v)| markdown_escape(&format!("{k}={v}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !out.contains(&label) {
                out.push(label);
            }
        }
        out
    }

    /// The run of each value combination on data set `i`.
    fn runs_of(&self, i: usize) -> Vec<String> {
        let mut seen: Vec<&Vec<String>> = Vec::new();
        let mut out = Vec::new();
        for c in &self.candidates {
            if seen.contains(&&c.values) {
                continue;
            }
            seen.push(&c.values);
            let run = (self.candidates.iter())
                .filter(|o| o.values == c.values)
                .find_map(|o| o.cells[i].as_ref().map(|cell| cell.run.clone()));
            out.push(run.unwrap_or_else(|| "-".into()));
        }
        out
    }

    /// `summary.html`: the same table, self-contained.
    pub fn html(&self) -> String {
        let (header, rows) = self.table();
        let mut html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>body{{font-family:sans-serif;margin:2em;}}table{{border-collapse:collapse;}}th,td{{border:1px solid #ccc;padding:4px 8px;text-align:right;}}th{{background:#f4f4f4;}}td:nth-child(2){{text-align:left;}}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p>{legend}</p>\n<table>\n<tr>",
            title = html_escape(&self.title()),
            legend = html_escape(&self.legend()),
        );
        for h in &header {
            let _ = write!(html, "<th>{}</th>", html_escape(h));
        }
        html.push_str("</tr>\n");
        for row in rows {
            html.push_str("<tr>");
            for (text, bold) in row {
                let text = html_escape(&text);
                let _ = match bold {
                    true => write!(html, "<td><b>{text}</b></td>"),
                    false => write!(html, "<td>{text}</td>"),
                };
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n</body>\n</html>\n");
        html
    }

    /// Writes `summary.md`, `summary.html` and `summary.json` into `dir`.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), ExperimentError> {
        write_file(&dir.join("summary.md"), self.markdown())?;
        write_file(&dir.join("summary.html"), self.html())?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| ExperimentError::Report(e.to_string()))?;
        write_file(&dir.join("summary.json"), json + "\n")
    }
}

/// Marks on every data set the best cell and those a noise test cannot tell from it (with one
/// seed there is no test, and only the best is marked).
fn mark_the_best(candidates: &mut [Candidate], data_sets: usize) {
    for d in 0..data_sets {
        let best = (candidates.iter())
            .filter_map(|c| c.cells[d].as_ref())
            .max_by(|a, b| a.mean.total_cmp(&b.mean))
            .map(|cell| (cell.mean, cell.seeded.clone()));
        let Some((best_mean, best)) = best else {
            continue;
        };
        for cell in candidates.iter_mut().filter_map(|c| c.cells[d].as_mut()) {
            let verdict = difference(&best, &cell.seeded).1;
            cell.best_or_within_noise =
                cell.mean == best_mean || (verdict != Verdict::OneSeed && verdict.within_noise());
        }
    }
}

/// Ranks every data set's cells (1 = highest mean; ties share the mean of their ranks), sets
/// the average ranks and orders the candidates best first (stable).
fn rank(candidates: &mut [Candidate], data_sets: usize) {
    for d in 0..data_sets {
        let mut order: Vec<(usize, f64)> = (candidates.iter().enumerate())
            .filter_map(|(i, c)| c.cells[d].as_ref().map(|cell| (i, cell.mean)))
            .collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut start = 0;
        while start < order.len() {
            let end = (start..order.len())
                .find(|&j| order[j].1 != order[start].1)
                .unwrap_or(order.len());
            // positions start..end (0-based) share ranks start+1 ..= end
            let shared = (start + 1 + end) as f64 / 2.0;
            for &(i, _) in &order[start..end] {
                if let Some(cell) = candidates[i].cells[d].as_mut() {
                    cell.rank = shared;
                }
            }
            start = end;
        }
    }
    for c in candidates.iter_mut() {
        let ranks: Vec<f64> = c.cells.iter().flatten().map(|cell| cell.rank).collect();
        c.average_rank =
            (!ranks.is_empty()).then(|| ranks.iter().sum::<f64>() / ranks.len() as f64);
    }
    candidates.sort_by(|a, b| {
        let key = |c: &Candidate| c.average_rank.unwrap_or(f64::INFINITY);
        let first = |c: &Candidate| {
            c.cells
                .first()
                .and_then(|x| x.as_ref())
                .map_or(f64::NEG_INFINITY, |x| x.mean)
        };
        key(a)
            .total_cmp(&key(b))
            .then_with(|| first(b).total_cmp(&first(a)))
    });
}
