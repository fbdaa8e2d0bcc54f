//! Opening a log as-is: its files, then either polars' Parquet reader (one Parquet file) or
//! [`RecordChunks`] over the decoded text of every file. A text chunk is read directly when it
//! is plain ([`crate::plain`]), else parsed by polars' CSV reader with the layout's separator
//! and quoting (numeric columns typed, or, when that fails or finds a bad value, as all-string
//! columns so that every value can be validated and reported with its line), or, for JSON
//! lines, by [`crate::json_lines`].

use crate::chunks::RecordChunks;
use crate::error::IngestError;
use crate::files::{Encoding, log_files, sniff};
use crate::layout::{HeaderFound, Layout};
use crate::spec::SourceSpec;
use polars::prelude::*;
use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// An opened source.
pub(crate) enum RawSource {
    /// A Parquet file, read whole with its own types.
    Parquet {
        df: DataFrame,
        layout: Layout,
        file: PathBuf,
    },
    /// Text files, read in chunks (boxed: the reader's state is large).
    Records(Box<RecordChunks>),
}

/// Opens the log `spec` names: a Parquet file is read whole, text files are checked (header)
/// and chunked.
pub(crate) fn open_source(
    spec: &SourceSpec,
    rows_per_chunk: usize,
) -> Result<RawSource, IngestError> {
    let files = log_files(&spec.path)?;
    for file in &files {
        let metadata = std::fs::metadata(file).map_err(|source| IngestError::Open {
            path: file.clone(),
            source,
        })?;
        // a FIFO or device has no size and may never end
        if !metadata.is_file() {
            return Err(IngestError::Parse {
                path: file.clone(),
                message: "not a regular file (a directory, FIFO, device or socket); expected a \
                    log file"
                    .into(),
            });
        }
        if metadata.len() == 0 {
            return Err(IngestError::Empty {
                path: file.clone(),
                what: "file is empty",
            });
        }
    }
    if let [file] = &files[..]
        && sniff(file)? == Encoding::Parquet
    {
        let open = File::open(file).map_err(|source| IngestError::Open {
            path: file.clone(),
            source,
        })?;
        let df = ParquetReader::new(open)
            .finish()
            .map_err(|e| parse_error(file, e))?;
        if df.height() == 0 {
            return Err(no_rows(file));
        }
        let header = HeaderFound {
            names: df
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            consumed: 0,
            lines: 0,
            separator: None,
            nulls: Vec::new(),
            json: false,
        };
        let layout = Layout::resolve(spec, header, file)?;
        return Ok(RawSource::Parquet {
            df,
            layout,
            file: file.clone(),
        });
    }
    Ok(RawSource::Records(Box::new(RecordChunks::open(
        spec,
        files,
        rows_per_chunk,
    )?)))
}

pub(crate) fn no_rows(path: &Path) -> IngestError {
    IngestError::Empty {
        path: path.to_path_buf(),
        what: "no data rows",
    }
}

pub(crate) fn parse_error(path: &Path, e: PolarsError) -> IngestError {
    IngestError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Parses delimited text (header line first) with the given columns typed and every other
/// column as strings. With no typed columns nothing can fail to convert, so errors are
/// malformed records. Null tokens are not nulls here: a typed column holding one fails to
/// parse (the caller then reads every column as text), and text keeps them as written (an
/// empty field is null), so that the missing-value policy sees and reports them as the plain
/// reader does.
pub(crate) fn parse_delimited(
    text: &[u8],
    typed: &[(String, DataType)],
    layout: &Layout,
) -> PolarsResult<DataFrame> {
    let overwrite: Schema = typed
        .iter()
        .map(|(name, dtype)| Field::new(name.as_str().into(), dtype.clone()))
        .collect();
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_schema_overwrite(Some(Arc::new(overwrite)))
        .with_raise_if_empty(false)
        .map_parse_options(|o| {
            o.with_separator(layout.separator)
                .with_quote_char(layout.quote)
        })
        .into_reader_with_file_handle(Cursor::new(text))
        .finish()
}
