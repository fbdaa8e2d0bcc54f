//! Arrow through the PyCapsule interface: a table in (any object with `__arrow_c_stream__`:
//! pyarrow, pandas, polars) as raw columns for `webthreat_ingest::read_arrow`, and a table
//! out ([`ArrowStream`], which pyarrow and polars read), both with polars-arrow's C data and
//! stream interface (`polars_arrow::ffi`). The one module with `unsafe`: taking the C stream
//! struct out of the producer's capsule and reading it are FFI by nature.
#![allow(unsafe_code)]

use crate::error;
use polars_arrow::array::{ArrayRef, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_arrow::ffi::{ArrowArrayStream, ArrowArrayStreamReader, export_iterator};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods};
use std::ffi::CStr;
use webthreat_ingest::ArrowColumns;

const STREAM: &CStr = c"arrow_array_stream";

/// The columns of `data` (an object with `__arrow_c_stream__`), chunk by chunk, those `used`
/// selects by name (all when it says `None`); the buffers are shared with the producer, not
/// copied.
pub(crate) fn import_columns(
    data: &Bound<'_, PyAny>,
    used: impl FnOnce(&[String]) -> Option<Vec<bool>>,
) -> PyResult<ArrowColumns> {
    if !data.hasattr("__arrow_c_stream__")? {
        let kind = data.get_type().name()?;
        return Err(error(format!(
            "expected a table with an Arrow stream (`__arrow_c_stream__`: a pyarrow Table or \
             RecordBatchReader, a pandas or polars DataFrame), got a {kind}"
        )));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: a capsule named `arrow_array_stream` holds an `ArrowArrayStream` (the Arrow
    // PyCapsule interface); it is moved out and an empty (released) one left behind, so the
    // capsule's destructor does not release it again.
    let stream = unsafe {
        std::ptr::replace(
            pointer.cast::<ArrowArrayStream>().as_ptr(),
            ArrowArrayStream::empty(),
        )
    };
    // SAFETY: the producer promises a stream that follows the C stream interface.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }.map_err(error)?;
    let ArrowDataType::Struct(fields) = reader.field().dtype().clone() else {
        return Err(error(format!(
            "expected an Arrow stream of record batches (a struct type), got {:?}",
            reader.field().dtype()
        )));
    };
    let mut columns: ArrowColumns = fields
        .iter()
        .map(|f| (f.name.to_string(), Vec::new()))
        .collect();
    // SAFETY: as above; every array is of the stream's struct type
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch.map_err(error)?;
        let batch = batch
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| error("an Arrow stream batch is not a struct array"))?;
        for ((_, chunks), values) in columns.iter_mut().zip(batch.values()) {
            chunks.push(values.clone());
        }
    }
    let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
    if let Some(used) = used(&names) {
        let mut used = used.into_iter();
        columns.retain(|_| used.next().unwrap_or(true));
    }
    Ok(columns)
}

/// An Arrow table produced by webthreat, readable by anything that takes the Arrow PyCapsule
/// stream interface (`pyarrow.table(t)`, `polars.DataFrame(t)`): record batches of the same
/// columns; each call of `__arrow_c_stream__` streams them anew.
#[pyclass(frozen, module = "webthreat._webthreat")]
pub struct ArrowStream {
    fields: Vec<Field>,
    /// Per batch, its rows and one array of that many values per field.
    batches: Vec<(usize, Vec<ArrayRef>)>,
}

impl ArrowStream {
    /// A table of these columns (each of `rows` values), as one batch.
    pub(crate) fn new(columns: Vec<(String, ArrayRef)>, rows: usize) -> Self {
        let (names, arrays) = columns.into_iter().unzip();
        Self::from_batches(names, vec![(rows, arrays)])
    }

    /// A table of batches of the columns `names` (each batch one array per name, of its rows;
    /// the batches' types are the first batch's).
    pub(crate) fn from_batches(names: Vec<String>, batches: Vec<(usize, Vec<ArrayRef>)>) -> Self {
        let fields = match batches.first() {
            Some((_, arrays)) => (names.iter().zip(arrays))
                .map(|(name, a)| Field::new(name.as_str().into(), a.dtype().clone(), true))
                .collect(),
            None => Vec::new(),
        };
        Self { fields, batches }
    }

    fn rows(&self) -> usize {
        self.batches.iter().map(|(rows, _)| rows).sum()
    }
}

#[pymethods]
impl ArrowStream {
    /// The table as an Arrow C stream (the Arrow PyCapsule interface); a requested schema is
    /// not applied (the spec allows producers to ignore it).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let dtype = ArrowDataType::Struct(self.fields.clone());
        let batches: Vec<_> = (self.batches.iter())
            .map(|(rows, arrays)| {
                Ok(StructArray::new(dtype.clone(), *rows, arrays.clone(), None).boxed())
            })
            .collect();
        let field = Field::new("".into(), dtype, false);
        let stream = export_iterator(Box::new(batches.into_iter()), field);
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    /// Rows.
    fn __len__(&self) -> usize {
        self.rows()
    }

    /// Column names.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.to_string()).collect()
    }
}
