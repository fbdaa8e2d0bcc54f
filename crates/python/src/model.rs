//! `webthreat.load_model(run_dir)` -> [`Model`]: a run's saved models
//! (`webthreat_experiment::SavedModel`), scoring Arrow tables into the columns of the run's
//! `scores.csv` with the GIL released; picklable as its run files (the size of their JSON).

use crate::arrow::{ArrowStream, import_columns};
use crate::error;
use polars_arrow::array::{ArrayRef, BooleanArray, PrimitiveArray, Utf8Array};
use polars_arrow::datatypes::{ArrowDataType, TimeUnit};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use webthreat_experiment::{Partitioning, RunFiles, SavedModel, Scored};
use webthreat_ingest::read_arrow;

/// A run's feature pipeline, detectors and thresholds, as `score --run` uses them.
#[pyclass(frozen, module = "webthreat._webthreat")]
pub struct Model {
    inner: Arc<SavedModel>,
}

/// Loads the saved models of a run directory (every model file checked against the blake3
/// `run.json` records).
#[pyfunction]
pub fn load_model(py: Python<'_>, run_dir: PathBuf) -> PyResult<Model> {
    let inner = py.detach(|| SavedModel::load(&run_dir)).map_err(error)?;
    Ok(Model {
        inner: Arc::new(inner),
    })
}

/// A model from the run files `Model.__reduce__` gave (unpickling).
#[pyfunction]
pub fn model_from_files(
    dir: PathBuf,
    texts: BTreeMap<String, String>,
    resources: BTreeMap<PathBuf, Bound<'_, PyBytes>>,
) -> PyResult<Model> {
    let resources = (resources.into_iter())
        .map(|(path, bytes)| (path, bytes.as_bytes().to_vec()))
        .collect();
    let files = RunFiles {
        dir,
        texts,
        resources,
    };
    let inner = SavedModel::from_files(files).map_err(error)?;
    Ok(Model {
        inner: Arc::new(inner),
    })
}

/// Rows of a table's columns (those of its first column).
fn rows_of(columns: &webthreat_ingest::ArrowColumns) -> u64 {
    columns.first().map_or(0, |(_, chunks)| {
        chunks.iter().map(|c| c.len() as u64).sum::<u64>()
    })
}

/// Scores `data`: a log file's path (`str` or `os.PathLike`: read as `score --run` reads it,
/// in the run's format) or a table (see [`score_table`]).
fn score_data(model: &SavedModel, data: &Bound<'_, PyAny>) -> PyResult<Scored> {
    if !(data.is_instance_of::<PyString>() || data.hasattr("__fspath__")?) {
        return score_table(model, data, 0);
    }
    let path: PathBuf = data.extract()?;
    let scored = data
        .py()
        .detach(|| model.score(model.read_file(&path)?))
        .map_err(error)?;
    warn_rejected(data.py(), &scored)?;
    Ok(scored)
}

/// Reads and scores `data` (rows numbered from `first_row` unless it has a `row_id` column)
/// with the GIL released.
fn score_table(model: &SavedModel, data: &Bound<'_, PyAny>, first_row: u64) -> PyResult<Scored> {
    // the columns scoring does not read are left out (a read would only summarise them)
    let columns = import_columns(data, |names| model.columns_used(names))?;
    let scored = data
        .py()
        .detach(|| {
            let table = model.read(|spec| read_arrow(columns.clone(), spec, first_row))?;
            model.score(table)
        })
        .map_err(error)?;
    warn_rejected(data.py(), &scored)?;
    Ok(scored)
}

/// Rows read: those scored and those `on_bad_rows: skip` rejected.
fn rows_read(scored: &Scored) -> u64 {
    (scored.rows() + scored.rejected().len()) as u64
}

/// A Python warning for the rows `on_bad_rows: skip` removed: they are not dropped silently.
fn warn_rejected(py: Python<'_>, scored: &Scored) -> PyResult<()> {
    let Some(first) = scored.rejected().first() else {
        return Ok(());
    };
    let message = format!(
        "{} of {} rows rejected (on_bad_rows: skip) and not scored; the first: {}",
        scored.rejected().len(),
        rows_read(scored),
        first
            .problems
            .first()
            .map(|p| p.to_string())
            .unwrap_or_default()
    );
    let message = std::ffi::CString::new(message.replace('\0', " ")).map_err(error)?;
    let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
    PyErr::warn(py, category.as_any(), &message, 1)
}

/// Rows per record batch of a scores table: batches are built in parallel.
const BATCH_ROWS: usize = 1 << 16;

/// The columns of `scores.csv` as Arrow record batches: `row_id`, the entity columns, per
/// detector `<name>_score`, `<name>_severity`, `<name>_flag`, the address columns, `label`;
/// built (and the scored rows dropped) with the GIL released.
fn scores_table(py: Python<'_>, scored: Scored) -> ArrowStream {
    py.detach(move || {
        let batches = scores_batches(&scored);
        let names = batches[0].iter().map(|(name, _)| name.clone()).collect();
        let batches = (batches.into_iter())
            .map(|columns| {
                let arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, a)| a).collect();
                (arrays[0].len(), arrays)
            })
            .collect();
        ArrowStream::from_batches(names, batches)
    })
}

/// The batches of [`scores_table`], each of at most [`BATCH_ROWS`] rows (one empty batch when
/// no row is scored), built in parallel.
fn scores_batches(scored: &Scored) -> Vec<Vec<(String, ArrayRef)>> {
    let n = scored.rows();
    let addresses = scored.address_columns();
    // `n.max(1)`: no rows make one empty batch
    let ranges: Vec<Range<usize>> = (0..n.max(1))
        .step_by(BATCH_ROWS)
        .map(|start| start..n.min(start + BATCH_ROWS))
        .collect();
    ranges
        .into_par_iter()
        .map(|rows| scores_batch(scored, &addresses, rows))
        .collect()
}

/// The columns of [`scores_table`] for the scored rows `rows`; `addresses` holds the address
/// columns of every row.
fn scores_batch(
    scored: &Scored,
    addresses: &[(&'static str, Vec<&str>)],
    rows: Range<usize>,
) -> Vec<(String, ArrayRef)> {
    let mut columns: Vec<(String, ArrayRef)> = vec![(
        "row_id".into(),
        PrimitiveArray::<u64>::from_slice(&scored.row_ids()[rows.clone()]).boxed(),
    )];
    if scored.has_entities() {
        let e = scored.entities();
        let ips = Utf8Array::<i32>::from_trusted_len_iter(rows.clone().map(|i| e.src_ip(i)));
        let ports =
            PrimitiveArray::<u16>::from_trusted_len_iter(rows.clone().map(|i| e.dst_port(i)));
        let windows =
            PrimitiveArray::<i64>::from_trusted_len_iter(rows.clone().map(|i| e.window_start(i)));
        let utc = ArrowDataType::Timestamp(TimeUnit::Second, Some("UTC".into()));
        columns.push(("src_ip".into(), ips.boxed()));
        columns.push(("dst_port".into(), ports.boxed()));
        columns.push(("window_start".into(), windows.to(utc).boxed()));
    }
    for d in scored.detectors() {
        columns.push((
            format!("{}_score", d.name),
            PrimitiveArray::<f64>::from_slice(&d.scores[rows.clone()]).boxed(),
        ));
        columns.push((
            format!("{}_severity", d.name),
            PrimitiveArray::<f64>::from_slice(&d.severity[rows.clone()]).boxed(),
        ));
        columns.push((
            format!("{}_flag", d.name),
            BooleanArray::from_slice(&d.flags[rows.clone()]).boxed(),
        ));
    }
    for (name, cells) in addresses {
        let cells: Utf8Array<i32> = cells[rows.clone()].iter().map(|c| Some(*c)).collect();
        columns.push(((*name).into(), cells.boxed()));
    }
    if let Some(labels) = scored.labels() {
        columns.push((
            "label".into(),
            BooleanArray::from_slice(&labels[rows]).boxed(),
        ));
    }
    columns
}

/// `pyarrow.table(stream)`.
fn to_pyarrow<'py>(py: Python<'py>, stream: ArrowStream) -> PyResult<Bound<'py, PyAny>> {
    py.import("pyarrow")?
        .call_method1("table", (Bound::new(py, stream)?,))
}

#[pymethods]
impl Model {
    /// Scores a log: a table of its columns (anything with `__arrow_c_stream__`), or the path
    /// of a log file (`str` or `os.PathLike`; a file, plain or compressed, a directory or a
    /// glob, read in the run's format as `score --run` reads it, by webthreat's own reader);
    /// returns a pyarrow Table with the columns and values of the run's `scores.csv`.
    fn score<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let scored = score_data(&self.inner, data)?;
        to_pyarrow(data.py(), scores_table(data.py(), scored))
    }

    /// As `score`, returning the Arrow table without pyarrow (any Arrow PyCapsule consumer
    /// reads it).
    fn score_arrow(&self, data: &Bound<'_, PyAny>) -> PyResult<ArrowStream> {
        let scored = score_data(&self.inner, data)?;
        Ok(scores_table(data.py(), scored))
    }

    /// The `scores.csv` text of the log's rows (a table or a path, as `score` takes them; with
    /// its header line when `header`): the bytes a run writes for them.
    #[pyo3(signature = (data, header = true))]
    fn scores_csv<'py>(
        &self,
        data: &Bound<'py, PyAny>,
        header: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let scored = score_data(&self.inner, data)?;
        Ok(PyBytes::new(data.py(), &scored.to_scores_csv(header)))
    }

    /// Scores the tables an iterable yields, one after another, as batches of one log: rows
    /// without a `row_id` column are numbered on from the previous batch's. Refused for a model
    /// whose features need the whole table (beacon scores, window aggregates).
    fn score_batches(&self, batches: &Bound<'_, PyAny>) -> PyResult<ScoreBatches> {
        if self.inner.partitioning() != Partitioning::AnyRows {
            return Err(error(
                "this model's features (beacon_score, baseline_dev, window aggregates) look at \
                 other rows of the log: score the whole table with Model.score, not in batches",
            ));
        }
        Ok(ScoreBatches {
            model: Arc::clone(&self.inner),
            batches: batches.try_iter()?.into_any().unbind(),
            next_row: AtomicU64::new(0),
        })
    }

    /// How a log may be split into partitions scored apart and still score as the whole log:
    /// `"any_rows"` (every feature of a row comes from that row), `"by_window"` (window
    /// aggregates: partitions must hold whole time windows, keyed by `window_keys`) or
    /// `"whole_log"` (beacon scores or baselines read the whole log: no split).
    #[getter]
    fn partitioning(&self) -> &'static str {
        match self.inner.partitioning() {
            Partitioning::AnyRows => "any_rows",
            Partitioning::ByWindow { .. } => "by_window",
            Partitioning::WholeLog => "whole_log",
        }
    }

    /// The time window of the window aggregates, in seconds (`None` without them).
    #[getter]
    fn window_seconds(&self) -> Option<u64> {
        match self.inner.partitioning() {
            Partitioning::ByWindow { seconds } => Some(seconds),
            _ => None,
        }
    }

    /// The window number of every row of `data` (a pyarrow Int64 array in row order): rows
    /// partitioned so that each window's rows are together score as the whole log does.
    fn window_keys<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let mut columns = import_columns(data, |names| self.inner.columns_used(names))?;
        let rows = rows_of(&columns);
        // numbered by position, so that each key finds its row
        columns.retain(|(name, _)| name != "row_id");
        let keys = data
            .py()
            .detach(|| {
                let table = self
                    .inner
                    .read(|spec| read_arrow(columns.clone(), spec, 0))?;
                self.inner.window_keys(&table, rows as usize)
            })
            .map_err(error)?;
        let keys = PrimitiveArray::<i64>::from_vec(keys).boxed();
        to_pyarrow(
            data.py(),
            ArrowStream::new(vec![("window".into(), keys)], rows as usize),
        )?
        .get_item("window")?
        .call_method0("combine_chunks")
    }

    /// Detector names, in column order.
    #[getter]
    fn detectors(&self) -> Vec<String> {
        self.inner
            .detector_names()
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// Each detector's score threshold (a score above it is flagged).
    #[getter]
    fn thresholds<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for d in self.inner.detectors() {
            out.set_item(d.name(), d.threshold())?;
        }
        Ok(out)
    }

    /// The run directory it was loaded from.
    #[getter]
    fn run_dir(&self) -> PathBuf {
        self.inner.files().dir.clone()
    }

    /// Pickled as its run files (with the intel lists and GeoIP databases its config reads),
    /// loaded (and checked) again when unpickled.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let files = self.inner.files();
        let load = py.import("webthreat")?.getattr("_model_from_files")?;
        let resources = PyDict::new(py);
        for (path, bytes) in &files.resources {
            resources.set_item(path, PyBytes::new(py, bytes))?;
        }
        let args = (files.dir.clone(), files.texts.clone(), resources).into_pyobject(py)?;
        Ok((load, args.into_any()))
    }

    fn __repr__(&self) -> String {
        format!(
            "webthreat.Model({}, detectors={:?})",
            self.inner.files().dir.display(),
            self.inner.detector_names()
        )
    }
}

/// The iterator `Model.score_batches` returns: one pyarrow Table of scores per batch.
#[pyclass(frozen, module = "webthreat._webthreat")]
pub struct ScoreBatches {
    model: Arc<SavedModel>,
    batches: Py<PyAny>,
    next_row: AtomicU64,
}

#[pymethods]
impl ScoreBatches {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let batch = match self.batches.bind(py).call_method0("__next__") {
            Ok(batch) => batch,
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => return Ok(None),
            Err(e) => return Err(e),
        };
        let first_row = self.next_row.load(Ordering::Relaxed);
        let scored = score_table(&self.model, &batch, first_row)?;
        self.next_row
            .store(first_row + rows_read(&scored), Ordering::Relaxed);
        Ok(Some(to_pyarrow(py, scores_table(py, scored))?))
    }
}
