//! Reading a file as-is: existence, emptiness and header checks, then polars' CSV or Parquet
//! reader. CSV columns are read as strings so that every value can be validated with its row.

use crate::error::IngestError;
use polars::prelude::*;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Reads `path` into a DataFrame: CSV as all-string columns, Parquet with its own types.
pub(crate) fn read_raw(path: &Path) -> Result<DataFrame, IngestError> {
    let open = |path: &Path| {
        File::open(path).map_err(|source| IngestError::Open {
            path: path.to_path_buf(),
            source,
        })
    };
    let file = open(path)?;
    let size = file
        .metadata()
        .map_err(|source| IngestError::Open {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if size == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
            what: "file is empty",
        });
    }
    let parse_err = |e: PolarsError| IngestError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let df = match extension.as_deref() {
        Some("parquet" | "pq") => ParquetReader::new(file).finish().map_err(parse_err)?,
        Some("csv" | "txt") | None => {
            let header = read_header(file, path)?;
            check_unique(&header, path)?;
            CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_raise_if_empty(false)
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .map_err(parse_err)?
                .finish()
                .map_err(parse_err)?
        }
        Some(_) => {
            return Err(IngestError::UnsupportedFile {
                path: path.to_path_buf(),
            });
        }
    };
    if df.height() == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
            what: "no data rows",
        });
    }
    Ok(df)
}

/// The header line's column names (CSV quoting honoured, BOM and CR stripped).
fn read_header(file: File, path: &Path) -> Result<Vec<String>, IngestError> {
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

fn split_csv_line(line: &str) -> Vec<String> {
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
