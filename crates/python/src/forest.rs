//! The engine of `webthreat.IsolationForest` (the scikit-learn estimator in
//! `python/webthreat/sklearn.py`): a detector of `webthreat_detectors` fitted with
//! `webthreat_detectors::train` on a dense float64 matrix, as a run fits `kind: iforest` on its
//! scaled features, and scoring matrices with it. Matrices cross as little-endian float64
//! bytes in row-major order (NumPy's `tobytes()`; the stable ABI has no buffer protocol).

use crate::error;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use webthreat_core::FeatureMatrix;
use webthreat_detectors::{DetectorConfig, FittedDetector};

/// A row-major matrix from float64 bytes (columns named `x0`, `x1`, ...).
fn matrix(values: &[u8], rows: usize, cols: usize) -> PyResult<FeatureMatrix> {
    if values.len() != rows * cols * 8 {
        return Err(error(format!(
            "{} bytes are not {rows} x {cols} float64 values",
            values.len()
        )));
    }
    let values: Vec<f64> = values
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let names = (0..cols).map(|j| format!("x{j}")).collect();
    FeatureMatrix::new(
        names,
        values,
        (0..rows as u64).collect(),
        Default::default(),
        None,
    )
    .map_err(error)
}

/// Runs `work` on `threads` worker threads (`None`: the global pool). Results do not depend
/// on the count.
fn on_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    match threads {
        None => Ok(work()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(error)?;
            Ok(pool.install(work))
        }
    }
}

fn f64_bytes<'py>(py: Python<'py>, values: &[f64]) -> Bound<'py, PyBytes> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    PyBytes::new(py, &bytes)
}

/// A fitted detector (an Isolation Forest, or any kind the config names) and its threshold.
#[pyclass(frozen, module = "webthreat._webthreat")]
pub struct Forest {
    detector: FittedDetector,
}

/// Fits the detector `config_json` describes (the YAML keys of a `detectors:` entry, as JSON)
/// on a `rows` x `cols` matrix with `seed`; returns it with its training scores (float64
/// bytes).
#[pyfunction]
#[pyo3(signature = (config_json, values, rows, cols, seed, threads = None))]
pub fn fit_forest<'py>(
    py: Python<'py>,
    config_json: &str,
    values: &[u8],
    rows: usize,
    cols: usize,
    seed: u64,
    threads: Option<usize>,
) -> PyResult<(Forest, Bound<'py, PyBytes>)> {
    let config: DetectorConfig = serde_json::from_str(config_json).map_err(error)?;
    let data = matrix(values, rows, cols)?;
    let trained = py
        .detach(|| {
            on_threads(threads, || {
                webthreat_detectors::train(&config, &data, seed, None)
            })
        })?
        .map_err(error)?;
    let scores = f64_bytes(py, &trained.scores);
    Ok((
        Forest {
            detector: trained.detector,
        },
        scores,
    ))
}

#[pymethods]
impl Forest {
    /// Scores (float64 bytes, higher = more anomalous) of a `rows` x `cols` matrix.
    #[pyo3(signature = (values, rows, cols, threads = None))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        values: &[u8],
        rows: usize,
        cols: usize,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let data = matrix(values, rows, cols)?;
        let scores = py
            .detach(|| on_threads(threads, || self.detector.score(&data)))?
            .map_err(error)?;
        Ok(f64_bytes(py, &scores))
    }

    /// The score threshold: a score above it is flagged.
    #[getter]
    fn threshold(&self) -> f64 {
        self.detector.threshold()
    }

    /// Features it was fitted on.
    #[getter]
    fn n_features(&self) -> usize {
        self.detector.feature_names().len()
    }

    /// The model file (`models/<name>.json` of a run).
    fn to_json(&self) -> PyResult<String> {
        self.detector.to_json().map_err(error)
    }

    /// A detector from its model file.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Forest> {
        Ok(Forest {
            detector: FittedDetector::from_json(text).map_err(error)?,
        })
    }

    /// Pickled as its model file.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let load = py.import("webthreat")?.getattr("_forest_from_json")?;
        Ok((load, (self.to_json()?,)))
    }
}
