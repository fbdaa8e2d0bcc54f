//! The `webthreat` Python package's extension module, `webthreat._webthreat` (built by
//! maturin; `python/webthreat/` is its Python side). It converts and calls, and holds no
//! analysis of its own: Arrow tables come in through the Arrow C stream interface
//! ([`arrow`]), are read by `webthreat_ingest::read_arrow` (the validation every log takes)
//! and scored by `webthreat_experiment::SavedModel` (the steps of `score --run`) with the GIL
//! released ([`model`]); `run`/`fit` run a config as `cargo xtask run` does ([`runs`]), the engine
//! adapters' `fit` on a sample of a partitioned log ([`sample_fit`]); the
//! Isolation Forest estimator fits and scores with
//! `webthreat_detectors` ([`forest`]).

mod arrow;
mod forest;
mod model;
mod runs;
mod sample_fit;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(
    _webthreat,
    WebthreatError,
    PyValueError,
    "A log, model or parameter webthreat cannot take; the message names what and where."
);

/// A webthreat error as a Python exception.
pub(crate) fn error(e: impl std::fmt::Display) -> PyErr {
    WebthreatError::new_err(e.to_string())
}

/// The extension module.
#[pymodule]
fn _webthreat(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("WebthreatError", m.py().get_type::<WebthreatError>())?;
    m.add("__version__", webthreat_experiment::VERSION)?;
    m.add_class::<model::Model>()?;
    m.add_class::<model::ScoreBatches>()?;
    m.add_class::<arrow::ArrowStream>()?;
    m.add_class::<forest::Forest>()?;
    m.add_class::<runs::Run>()?;
    m.add_class::<sample_fit::SampleFit>()?;
    m.add_function(wrap_pyfunction!(sample_fit::sample_fit, m)?)?;
    m.add_function(wrap_pyfunction!(runs::run_config, m)?)?;
    m.add_function(wrap_pyfunction!(model::load_model, m)?)?;
    m.add_function(wrap_pyfunction!(model::model_from_files, m)?)?;
    m.add_function(wrap_pyfunction!(forest::fit_forest, m)?)?;
    Ok(())
}
