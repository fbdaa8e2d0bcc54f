//! Sweeps and suites: one config expanded into the runs of one experiment (every combination of
//! the swept values, on every data set of the suite), run one after another, and summarised.
//!
//! Each variant is an ordinary experiment config (no `sweep`, no `suite`), checked before the
//! first run starts, so a typo in the tenth combination fails before nine runs are spent.

use crate::config::{ExperimentConfig, SuiteEntry, Sweep, set_key};
use crate::error::ExperimentError;
use crate::store::RunStore;
use crate::summary::{Summary, SummaryRun};
use crate::types::{RunOptions, RunOutcome};
use std::path::{Path, PathBuf};
use webthreat_core::text::visible;

/// The most runs one config may expand into.
pub const PLAN_LIMIT: usize = 1000;

/// Where an experiment's summaries go: `<store>/<experiment>/summaries/<id>/`.
pub const SUMMARIES_DIR: &str = "summaries";

/// One run of a sweep or suite.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The run's config: the base with the data set's and the combination's keys set.
    pub config: ExperimentConfig,
    /// The data set's name, in a suite.
    pub data_set: Option<String>,
    /// The swept keys' values of this combination (YAML text), in the sweep's key order.
    pub values: Vec<String>,
}

impl Variant {
    /// `cardio, detectors.0.n_estimators=25`: what this run is, for progress lines.
    pub fn label(&self, keys: &[String]) -> String {
        label(self.data_set.as_deref(), keys, &self.values)
    }
}

fn label(data_set: Option<&str>, keys: &[String], values: &[String]) -> String {
    let mut parts: Vec<String> = data_set.iter().map(|s| s.to_string()).collect();
    parts.extend(keys.iter().zip(values).map(|(k, v)| format!("{k}={v}")));
    parts.join(", ")
}

/// The swept keys, in the order written.
pub fn swept_keys(sweep: &Sweep) -> Vec<String> {
    sweep.0.keys().map(yaml_text).collect()
}

/// Every run a config with a `sweep` or `suite` expands into, checked: data sets outermost,
/// then the combinations with the first swept key changing slowest.
pub fn variants(config: &ExperimentConfig) -> Result<Vec<Variant>, String> {
    let axes = axes(&config.sweep)?;
    let data_sets = data_sets(&config.suite)?;
    let combinations: usize = axes.iter().map(|(_, values)| values.len()).product();
    let total = combinations.saturating_mul(data_sets.len().max(1));
    if total > PLAN_LIMIT {
        return Err(format!(
            "sweep: {total} runs; at most {PLAN_LIMIT} (sweep fewer values or split the suite)"
        ));
    }
    let mut base = config.clone();
    base.sweep = Sweep::default();
    base.suite.clear();
    let base = serde_yaml::to_value(&base).map_err(|e| e.to_string())?;
    let data_sets: Vec<Option<(String, &Path, Option<&serde_yaml::Mapping>)>> =
        if data_sets.is_empty() {
            vec![None]
        } else {
            data_sets.into_iter().map(Some).collect()
        };
    let keys: Vec<String> = axes.iter().map(|(k, _)| k.clone()).collect();
    let mut out = Vec::with_capacity(total);
    for data_set in &data_sets {
        for n in 0..combinations {
            let mut value = base.clone();
            if let Some((name, path, set)) = data_set {
                let path = serde_yaml::Value::String(path.display().to_string());
                set_key(&mut value, "data.path", path).map_err(|e| format!("suite: {e}"))?;
                for (key, v) in set.iter().flat_map(|set| set.iter()) {
                    set_key(&mut value, &yaml_text(key), v.clone())
                        .map_err(|e| format!("suite: {}: {e}", visible(name)))?;
                }
            }
            // mixed radix: the last key changes fastest
            let mut rest = n;
            let mut values = vec![String::new(); axes.len()];
            for (i, (key, options)) in axes.iter().enumerate().rev() {
                let v = &options[rest % options.len()];
                rest /= options.len();
                values[i] = yaml_text(v);
                set_key(&mut value, key, v.clone()).map_err(|e| format!("sweep: {e}"))?;
            }
            let data_set = data_set.as_ref().map(|(name, ..)| name.clone());
            let place = label(data_set.as_deref(), &keys, &values);
            let what = if axes.is_empty() { "suite" } else { "sweep" };
            let run: ExperimentConfig = serde_yaml::from_value(value)
                .map_err(|e| format!("{what}: {}: {e}", visible(&place)))?;
            run.validate()
                .map_err(|e| format!("{what}: {}: {e}", visible(&place)))?;
            out.push(Variant {
                config: run,
                data_set,
                values,
            });
        }
    }
    Ok(out)
}

/// The sweep's keys and their values, each key with at least one value.
fn axes(sweep: &Sweep) -> Result<Vec<(String, Vec<serde_yaml::Value>)>, String> {
    let mut axes = Vec::new();
    for (key, values) in sweep.0.iter() {
        let key = yaml_text(key);
        if matches!(key.split('.').next(), Some("sweep" | "suite" | "name")) {
            return Err(format!(
                "sweep: `{}` cannot be swept: runs of one sweep share their experiment name, and sweeps do not nest",
                visible(&key)
            ));
        }
        let values = match values {
            serde_yaml::Value::Sequence(v) if !v.is_empty() => v.clone(),
            _ => {
                return Err(format!(
                    "sweep: `{}`: expected a non-empty list of values, e.g. [25, 50, 100]",
                    visible(&key)
                ));
            }
        };
        axes.push((key, values));
    }
    Ok(axes)
}

/// A suite's data set: its unique name, path, and the keys set for it.
type DataSet<'a> = (String, &'a Path, Option<&'a serde_yaml::Mapping>);

/// The suite's data sets with their unique names.
fn data_sets(suite: &[SuiteEntry]) -> Result<Vec<DataSet<'_>>, String> {
    let mut out: Vec<DataSet<'_>> = Vec::new();
    for entry in suite {
        let (path, name, set) = match entry {
            SuiteEntry::Path(path) => (path.as_path(), None, None),
            SuiteEntry::Detailed { path, name, set } => (path.as_path(), name.clone(), Some(set)),
        };
        let name = name.unwrap_or_else(|| file_stem(path));
        if out.iter().any(|(n, ..)| *n == name) {
            return Err(format!(
                "suite: two data sets are named `{}`; give one of them a `name:`",
                visible(&name)
            ));
        }
        out.push((name, path, set));
    }
    Ok(out)
}

/// A file's name without its extensions: its first non-empty `.`-separated part
/// (`cardio.csv` -> `cardio`, `conn.log.gz` -> `conn`, `.hidden.log` -> `hidden`).
pub fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    match name.split('.').find(|part| !part.is_empty()) {
        Some(stem) => stem.to_string(),
        None => name,
    }
}

/// A YAML scalar as written (`25`, `auto`, `[8, 3]`), for labels and summaries.
fn yaml_text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// What a sweep or suite produced.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    /// Every run, in order.
    pub runs: Vec<RunOutcome>,
    /// The summary.
    pub summary: Summary,
    /// The committed summary directory (`summary.md`, `summary.html`, `summary.json`).
    pub dir: PathBuf,
}

/// Runs every variant of a sweep or suite and writes the summary; `on_run` sees each finished
/// run. A failed run stops the plan (the runs before it stay, complete; no summary is written).
pub fn run_plan(
    config: &ExperimentConfig,
    options: &RunOptions,
    mut on_run: impl FnMut(&str, &RunOutcome),
) -> Result<PlanOutcome, ExperimentError> {
    let config_error = |message: String| ExperimentError::Config {
        path: PathBuf::from(format!("{}.yaml", config.name)),
        message,
    };
    let keys = swept_keys(&config.sweep);
    let variants = variants(config).map_err(config_error)?;
    let mut runs = Vec::with_capacity(variants.len());
    let mut summary_runs = Vec::with_capacity(variants.len());
    for variant in &variants {
        let label = variant.label(&keys);
        let outcome = crate::driver::run(&variant.config, options).map_err(|e| {
            ExperimentError::Report(format!("{}: run {}: {e}", config.name, visible(&label)))
        })?;
        on_run(&label, &outcome);
        summary_runs.push(SummaryRun::read(variant, &outcome.dir, &outcome.id)?);
        runs.push(outcome);
    }
    let summary = Summary::build(config, keys, &summary_runs);
    let store = RunStore::new(&options.store_root);
    let pending = store.begin(&format!("{}/{SUMMARIES_DIR}", config.name))?;
    summary.write(pending.dir())?;
    let dir = pending.commit()?;
    Ok(PlanOutcome { runs, summary, dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ExperimentConfig, String> {
        let c = ExperimentConfig::parse(text, &[])?;
        c.validate()?;
        Ok(c)
    }

    const BASE: &str =
        "name: t\nseed: 1\ndata:\n  path: a.csv\n  format: table\ndetectors:\n  - kind: iforest\n";

    #[test]
    fn a_sweep_expands_into_every_combination_last_key_fastest() {
        let c = parse(&format!(
            "{BASE}sweep:\n  detectors.0.n_estimators: [25, 50]\n  seed: [7, 8, 9]\n"
        ))
        .unwrap();
        let v = variants(&c).unwrap();
        assert_eq!(v.len(), 6);
        let seen: Vec<(String, u64)> = v
            .iter()
            .map(|v| (v.values[0].clone(), v.config.seed))
            .collect();
        assert_eq!(seen[0], ("25".into(), 7));
        assert_eq!(seen[2], ("25".into(), 9));
        assert_eq!(seen[3], ("50".into(), 7));
        assert!(v.iter().all(|v| !v.config.is_plan()));
        assert_eq!(
            v[4].label(&swept_keys(&c.sweep)),
            "detectors.0.n_estimators=50, seed=8"
        );
    }

    #[test]
    fn a_suite_sets_each_data_sets_path_and_keys() {
        let c = parse(&format!(
            "{BASE}suite:\n  - x/cardio.csv\n  - path: y/conn.log.gz\n    set: {{data.format: zeek}}\n  - path: z/cardio.csv\n    name: cardio2\n"
        ))
        .unwrap();
        let v = variants(&c).unwrap();
        let names: Vec<_> = v.iter().map(|v| v.data_set.clone().unwrap()).collect();
        assert_eq!(names, ["cardio", "conn", "cardio2"]);
        assert_eq!(v[1].config.data.path, Path::new("y/conn.log.gz"));
        assert_eq!(v[1].config.data.format, webthreat_ingest::Format::Zeek);
        assert_eq!(v[0].config.data.format, webthreat_ingest::Format::Table);
    }

    #[test]
    fn bad_plans_are_refused_before_any_run_with_the_combination_named() {
        let err = parse(&format!(
            "{BASE}sweep:\n  detectors.0.n_estimators: [25, 0]\n"
        ))
        .unwrap_err();
        assert!(
            err.starts_with("sweep: detectors.0.n_estimators=0:") && err.contains("n_estimators"),
            "{err}"
        );
        let err = parse(&format!("{BASE}sweep:\n  seed: 3\n")).unwrap_err();
        assert!(err.contains("non-empty list"), "{err}");
        let err = parse(&format!("{BASE}sweep:\n  name: [a, b]\n")).unwrap_err();
        assert!(err.contains("cannot be swept"), "{err}");
        let err = parse(&format!("{BASE}suite: [a/x.csv, b/x.csv]\n")).unwrap_err();
        assert!(err.contains("two data sets are named `x`"), "{err}");
        let err = parse(&format!(
            "{BASE}sweep:\n  seed: [{}]\n",
            (0..1001)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ))
        .unwrap_err();
        assert!(err.contains("at most 1000"), "{err}");
    }
}
