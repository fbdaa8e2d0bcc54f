//! `webthreat.run(config, data=None)` and `webthreat.fit(data, config)` for notebooks: a
//! config (a YAML file, or YAML/JSON text) run by `webthreat_experiment::run` as `cargo xtask
//! run` runs it, with the GIL released; the result is a [`Run`] (the run directory, its rows
//! and per-detector lines) whose `model()` is the run's saved model.

use crate::arrow::import_columns;
use crate::error;
use crate::model::{Model, load_model};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::{Path, PathBuf};
use webthreat_experiment::{ExperimentConfig, RunOptions, RunOutcome};
use webthreat_ingest::{ARROW_SOURCE, read_arrow};

/// A finished run.
#[pyclass(frozen, module = "webthreat._webthreat")]
pub struct Run {
    pub(crate) outcome: RunOutcome,
}

#[pymethods]
impl Run {
    /// The committed run directory.
    #[getter]
    fn dir(&self) -> PathBuf {
        self.outcome.dir.clone()
    }

    /// Run id.
    #[getter]
    fn id(&self) -> String {
        self.outcome.id.clone()
    }

    /// Rows analysed.
    #[getter]
    fn rows(&self) -> usize {
        self.outcome.rows
    }

    /// Rows rejected by `on_bad_rows: skip`.
    #[getter]
    fn rejected(&self) -> usize {
        self.outcome.rejected
    }

    /// Notes the run made (labels ignored, values filled in, ...).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.outcome.notes.clone()
    }

    /// Per detector: name, kind, flagged rows, threshold, and with labels roc_auc, pr_auc, f1.
    #[getter]
    fn detectors<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.outcome
            .detectors
            .iter()
            .map(|d| {
                let line = PyDict::new(py);
                line.set_item("name", &d.name)?;
                line.set_item("kind", &d.kind)?;
                line.set_item("flagged", d.flagged)?;
                line.set_item("threshold", d.threshold)?;
                line.set_item("roc_auc", d.roc_auc)?;
                line.set_item("pr_auc", d.pr_auc)?;
                line.set_item("f1", d.f1)?;
                Ok(line)
            })
            .collect()
    }

    /// The run's saved model (`load_model(run.dir)`).
    fn model(&self, py: Python<'_>) -> PyResult<Model> {
        load_model(py, self.outcome.dir.clone())
    }

    fn __repr__(&self) -> String {
        format!(
            "webthreat.Run({}, rows={}, flagged={:?})",
            self.outcome.dir.display(),
            self.outcome.rows,
            self.outcome
                .detectors
                .iter()
                .map(|d| (d.name.as_str(), d.flagged))
                .collect::<Vec<_>>()
        )
    }
}

/// The config of a YAML file (`text` false) or of YAML/JSON text, with overrides and data.
pub(crate) fn config(
    source: &str,
    text: bool,
    data: Option<&Path>,
    set: &[String],
) -> Result<ExperimentConfig, String> {
    if !text {
        return ExperimentConfig::load(Path::new(source), set, data).map_err(|e| e.to_string());
    }
    let mut config = ExperimentConfig::parse(source, set)?;
    if let Some(data) = data {
        config.data.path = data.to_path_buf();
    }
    config.validate()?;
    Ok(config)
}

/// Runs a config (a file path, or YAML/JSON text when `text`) into the run store `out`;
/// `data` overrides its data path, or replaces its data by a table (anything with
/// `__arrow_c_stream__`, read under the config's data section); `set` holds `key=value`
/// overrides.
#[pyfunction]
#[pyo3(signature = (config_source, text, data = None, out = PathBuf::from("experiments"), set = Vec::new()))]
pub fn run_config(
    py: Python<'_>,
    config_source: &str,
    text: bool,
    data: Option<Bound<'_, PyAny>>,
    out: PathBuf,
    set: Vec<String>,
) -> PyResult<Run> {
    let table = match &data {
        Some(data) if data.hasattr("__arrow_c_stream__")? => Some(import_columns(data, |_| None)?),
        _ => None,
    };
    let path = match (&data, &table) {
        (_, Some(_)) => Some(PathBuf::from(ARROW_SOURCE)),
        (Some(data), None) => Some(data.extract::<PathBuf>()?),
        (None, None) => None,
    };
    let config = config(config_source, text, path.as_deref(), &set).map_err(error)?;
    if config.is_plan() {
        return Err(error(
            "a config with sweep: or suite: is a plan of many runs: run it with `webthreat run`",
        ));
    }
    let options = RunOptions {
        store_root: out,
        data_overridden: path.is_some(),
        record_git: false,
    };
    let outcome = py
        .detach(|| match table {
            Some(columns) => webthreat_experiment::run_read(&config, &options, |spec| {
                read_arrow(columns.clone(), spec, 0)
            }),
            None => webthreat_experiment::run(&config, &options),
        })
        .map_err(error)?;
    Ok(Run { outcome })
}
