//! `SampleFit`, the engine adapters' `fit` (`webthreat_experiment::SampleFit`): the ids of the
//! rows of a partition its fit sample takes, and the run fitted on the merged samples.
//! Picklable as its config (YAML) and sample size.

use crate::arrow::import_columns;
use crate::error;
use crate::runs::{Run, config};
use pyo3::prelude::*;
use std::path::PathBuf;
use webthreat_experiment::{ExperimentConfig, RunOptions, SampleFit as Checked};
use webthreat_ingest::read_arrow;

/// A config checked for fitting on a sample of a partitioned log.
#[pyclass(frozen, module = "webthreat._webthreat")]
pub struct SampleFit {
    inner: Checked,
}

/// Checks a config (a file path, or YAML/JSON text when `text`) for a fit on a sample of
/// `fit_rows` rows of a partitioned log.
#[pyfunction]
#[pyo3(signature = (config_source, text, fit_rows = None, set = Vec::new()))]
pub fn sample_fit(
    config_source: &str,
    text: bool,
    fit_rows: Option<usize>,
    set: Vec<String>,
) -> PyResult<SampleFit> {
    let config: ExperimentConfig = config(config_source, text, None, &set).map_err(error)?;
    Ok(SampleFit {
        inner: Checked::new(config, fit_rows).map_err(error)?,
    })
}

#[pymethods]
impl SampleFit {
    /// The row ids (a pyarrow UInt64 array, ascending) of the rows of `data` (a partition
    /// with a `row_id` column) that the fit sample takes.
    fn sample_ids<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let columns = import_columns(data, |_| None)?;
        let ids = data
            .py()
            .detach(|| {
                let table = self
                    .inner
                    .read(|spec| read_arrow(columns.clone(), spec, 0))?;
                self.inner.sample_ids(&table)
            })
            .map_err(error)?;
        // at most fit_rows ids: a list is cheap enough
        data.py()
            .import("pyarrow")?
            .call_method1("array", (ids, "uint64"))
    }

    /// Runs the config on `data` (the merged sample: the rows `sample_ids` takes from the
    /// partitions' samples) into the run store `out`; `log_rows` is the partitions' row count.
    #[pyo3(signature = (data, log_rows, out = PathBuf::from("experiments")))]
    fn fit(&self, data: &Bound<'_, PyAny>, log_rows: u64, out: PathBuf) -> PyResult<Run> {
        let columns = import_columns(data, |_| None)?;
        let options = RunOptions {
            store_root: out,
            data_overridden: true,
            record_git: false,
        };
        let outcome = data
            .py()
            .detach(|| {
                let table = self
                    .inner
                    .read(|spec| read_arrow(columns.clone(), spec, 0))?;
                self.inner.fit(table, log_rows, &options)
            })
            .map_err(error)?;
        Ok(Run { outcome })
    }

    /// The sample size.
    #[getter]
    fn fit_rows(&self) -> usize {
        self.inner.fit_rows()
    }

    /// Pickled as its config and sample size, checked again when unpickled.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let yaml = self.inner.config().to_yaml().map_err(error)?;
        let load = py.import("webthreat._webthreat")?.getattr("sample_fit")?;
        let args = (yaml, true, self.inner.fit_rows()).into_pyobject(py)?;
        Ok((load, args.into_any()))
    }
}
