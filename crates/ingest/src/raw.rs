//! Opening a file as-is: existence, emptiness and header checks, then either polars' Parquet
//! reader or [`CsvChunks`] over the CSV text. A CSV chunk is read directly when it is plain
//! ([`crate::plain`]), else parsed with the numeric columns typed by polars or, when that fails
//! or finds a bad value, as all-string columns so that every value can be validated and
//! reported with its row.

use crate::chunks::CsvChunks;
use crate::error::IngestError;
use polars::prelude::*;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Seek};
use std::path::Path;

/// An opened source.
pub(crate) enum RawSource {
    /// A Parquet file, read whole with its own types.
    Parquet(DataFrame),
    /// A CSV file, read in chunks.
    Csv(CsvChunks),
}

/// Opens `path`: Parquet is read whole, CSV is checked (header) and chunked.
pub(crate) fn open_source(path: &Path, rows_per_chunk: usize) -> Result<RawSource, IngestError> {
    let open_err = |source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(open_err)?;
    let size = file.metadata().map_err(open_err)?.len();
    if size == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
            what: "file is empty",
        });
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("parquet" | "pq") => {
            let df = ParquetReader::new(file)
                .finish()
                .map_err(|e| parse_error(path, e))?;
            if df.height() == 0 {
                return Err(no_rows(path));
            }
            Ok(RawSource::Parquet(df))
        }
        Some("csv" | "txt") | None => {
            let header = read_header(&file, path)?;
            check_unique(&header, path)?;
            file.rewind().map_err(open_err)?;
            Ok(RawSource::Csv(CsvChunks::open(file, path, rows_per_chunk)?))
        }
        Some(_) => Err(IngestError::UnsupportedFile {
            path: path.to_path_buf(),
        }),
    }
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

/// Parses CSV text (header line first) with the given columns typed and every other column as
/// strings. With no typed columns nothing can fail to convert, so errors are malformed CSV.
pub(crate) fn parse_csv(text: &[u8], typed: &[(String, DataType)]) -> PolarsResult<DataFrame> {
    let overwrite: Schema = typed
        .iter()
        .map(|(name, dtype)| Field::new(name.as_str().into(), dtype.clone()))
        .collect();
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_schema_overwrite(Some(Arc::new(overwrite)))
        .with_raise_if_empty(false)
        .into_reader_with_file_handle(Cursor::new(text))
        .finish()
}

/// The header line's column names (CSV quoting honoured, BOM and CR stripped).
fn read_header(file: &File, path: &Path) -> Result<Vec<String>, IngestError> {
    let mut line = String::new();
    BufReader::new(file)
        .read_line(&mut line)
        .map_err(|source| IngestError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let line = line
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
            what: "header line is empty",
        });
    }
    Ok(split_csv_line(line))
}

/// The fields of one CSV line (double quotes honoured).
pub(crate) fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn check_unique(header: &[String], path: &Path) -> Result<(), IngestError> {
    for (second, name) in header.iter().enumerate() {
        if let Some(first) = header[..second].iter().position(|h| h == name) {
            return Err(IngestError::DuplicateHeader {
                path: path.to_path_buf(),
                column: name.clone(),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_splitting_honours_quotes() {
        assert_eq!(
            split_csv_line("a,\"b,c\",\"d\"\"e\""),
            vec!["a", "b,c", "d\"e"]
        );
        assert_eq!(split_csv_line("x,"), vec!["x", ""]);
    }
}
