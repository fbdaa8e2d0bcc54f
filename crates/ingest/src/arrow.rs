//! [`read_arrow`]: a log handed over in memory as Arrow columns (a pyarrow, pandas or polars
//! table from Python) read the way a Parquet file is: its raw columns go through the one
//! validating and typing path ([`convert`]) every log takes, so a bad value is reported with
//! its column, row, value and what was expected, and the table comes out as any log does.

use crate::canonical::ROW_ID;
use crate::chunks::LineMap;
use crate::convert::{convert, required_columns};
use crate::converted::Converted;
use crate::error::{IngestError, RowProblem};
use crate::layout::{HeaderFound, Layout};
use crate::log_table::LogTable;
use crate::raw::no_rows;
use crate::spec::SourceSpec;
use crate::validate::Origin;
use polars::prelude::*;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// What errors name as the "file" of an in-memory table.
pub const ARROW_SOURCE: &str = "arrow table";

/// The raw columns of an in-memory table: per column its name and its chunks (Arrow arrays of
/// one type, in row order).
pub type ArrowColumns = Vec<(String, Vec<ArrayRef>)>;

/// Which of a table's columns (`names`, in order) reading it under `spec` uses: the mapped,
/// label, numeric and text columns it needs, and `row_id`. Scoring may leave the others out
/// (a read only summarises them); `None` when the names do not resolve under `spec` (the read
/// itself then says why).
pub fn columns_used(spec: &SourceSpec, names: &[String]) -> Option<Vec<bool>> {
    let layout = Layout::resolve(spec, header_of(names), &PathBuf::from(ARROW_SOURCE)).ok()?;
    let required = required_columns(spec, &layout);
    Some(
        names
            .iter()
            .map(|n| n == ROW_ID || required.contains(&n.as_str()))
            .collect(),
    )
}

/// A table's column names as a header found.
fn header_of(names: &[String]) -> HeaderFound {
    HeaderFound {
        names: names.to_vec(),
        consumed: 0,
        lines: 0,
        separator: None,
        nulls: Vec::new(),
        json: false,
    }
}

/// Reads an in-memory table of a log's raw columns (named as in the log's files) as `spec`
/// says, through the same validation as a log file. Row ids: a `row_id` column of
/// non-negative integers without nulls, when the table has one; else the rows' positions
/// counted from `first_row` (so that batches of one stream get the ids a file read whole
/// gives them). Problems name the row by its position from `first_row` and the "line" as that
/// position plus one, in [`ARROW_SOURCE`].
pub fn read_arrow(
    columns: ArrowColumns,
    spec: &SourceSpec,
    first_row: u64,
) -> Result<LogTable, IngestError> {
    let path = PathBuf::from(ARROW_SOURCE);
    let polars_err = |e: PolarsError| IngestError::Polars {
        path: path.clone(),
        message: e.to_string(),
    };
    for (i, (name, _)) in columns.iter().enumerate() {
        if let Some(first) = columns[..i].iter().position(|(n, _)| n == name) {
            return Err(IngestError::DuplicateHeader {
                path,
                column: name.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
    }
    let taken: Vec<(String, Series)> = columns
        .into_par_iter()
        .map(|(name, chunks)| Ok((name.clone(), into_series(name, chunks)?)))
        .collect::<PolarsResult<_>>()
        .map_err(polars_err)?;
    let mut names = Vec::with_capacity(taken.len());
    let mut series = Vec::with_capacity(taken.len());
    let mut given_ids = None;
    for (name, s) in taken {
        if name == ROW_ID {
            given_ids = Some(row_ids(&s.into_column(), first_row, &path)?);
            names.push(name);
            continue;
        }
        names.push(name);
        series.push(s.into_column());
    }
    names.retain(|n| n != ROW_ID);
    let height = series.first().map_or(0, Column::len);
    if height == 0 {
        return Err(no_rows(&path));
    }
    let df = DataFrame::new(height, series).map_err(polars_err)?;
    let layout = Layout::resolve(spec, header_of(&names), &path)?;
    let origin = Origin {
        first_row,
        file: Arc::new(path.clone()),
        lines: LineMap::numbered(first_row + 1),
    };
    let part = convert(df, &names, Vec::new(), spec, &layout, &origin, false)?;
    let whole = Converted::concat(vec![part], &path)?.ok_or_else(|| no_rows(&path))?;
    let mut table = whole.into_table(spec, first_row > 0)?;
    if let Some(ids) = given_ids {
        renumber(&mut table, &ids, first_row).map_err(polars_err)?;
    }
    Ok(table)
}

/// A column of Arrow chunks as a polars Series: every chunk taken into polars' layout (text as
/// views, times in milliseconds) in parallel, then joined without a copy.
fn into_series(name: String, chunks: Vec<ArrayRef>) -> PolarsResult<Series> {
    if chunks.len() < 2 {
        return Series::from_arrow_chunks(name.into(), chunks);
    }
    let parts: Vec<Series> = chunks
        .into_par_iter()
        .map(|chunk| Series::from_arrow(name.as_str().into(), chunk))
        .collect::<PolarsResult<_>>()?;
    let mut parts = parts.into_iter();
    let mut whole = parts.next().expect("two chunks or more");
    for part in parts {
        whole.append_owned(part)?;
    }
    Ok(whole)
}

/// The values of a `row_id` column: integers, none missing or negative.
fn row_ids(col: &Column, first_row: u64, path: &std::path::Path) -> Result<Vec<u64>, IngestError> {
    let problem = |row: usize, value: String| IngestError::BadValue {
        path: path.to_path_buf(),
        first: Box::new(RowProblem {
            row: first_row + row as u64,
            file: Arc::new(path.to_path_buf()),
            line: first_row + row as u64 + 1,
            column: ROW_ID.into(),
            value,
            expected: "a row id: a non-negative integer".into(),
            skip: false,
        }),
        others: 0,
        read_through: None,
    };
    if !col.dtype().is_integer() {
        let value = col.get(0).map(|v| v.to_string()).unwrap_or_default();
        return Err(problem(0, format!("{value} (of type {})", col.dtype())));
    }
    let polars_err = |e: PolarsError| IngestError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let values: Vec<Option<u64>> = if col.dtype().is_unsigned_integer() {
        let v = col.cast(&DataType::UInt64).map_err(polars_err)?;
        v.u64().map_err(polars_err)?.iter().collect()
    } else {
        let v = col.cast(&DataType::Int64).map_err(polars_err)?;
        let v = v.i64().map_err(polars_err)?;
        if let Some((i, bad)) = v.iter().enumerate().find(|(_, v)| v.is_some_and(|v| v < 0)) {
            return Err(problem(i, bad.unwrap_or_default().to_string()));
        }
        v.iter().map(|v| v.map(|v| v as u64)).collect()
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| problem(i, String::new())))
        .collect()
}

/// Replaces the positional row ids of `table` (and of its rejected rows) by the given ones.
fn renumber(table: &mut LogTable, ids: &[u64], first_row: u64) -> PolarsResult<()> {
    let given = |row: u64| ids[(row - first_row) as usize];
    let positions = table.df.column(ROW_ID)?.u64()?.clone();
    let renumbered: UInt64Chunked = positions
        .into_no_null_iter()
        .map(given)
        .collect_ca(ROW_ID.into());
    table.df.replace(ROW_ID, renumbered.into_column())?;
    for r in &mut table.rejected {
        r.row = given(r.row);
        for p in &mut r.problems {
            p.row = given(p.row);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::BadRowPolicy;

    /// A column as one Arrow chunk, as an Arrow producer hands it over.
    fn arrow(s: Series) -> Vec<ArrayRef> {
        vec![s.rechunk().to_arrow(0, CompatLevel::oldest())]
    }

    fn spec(on_bad_rows: BadRowPolicy) -> SourceSpec {
        let mut spec: SourceSpec = serde_yaml::from_str(
            "path: x.csv\nformat: table\ncolumns: {bytes_in: bytes_in, src_ip: src_ip}\n",
        )
        .unwrap();
        spec.on_bad_rows = on_bad_rows;
        spec
    }

    fn columns(bytes: &[Option<i64>], ids: Option<&[i64]>) -> ArrowColumns {
        let n = bytes.len();
        let ips: Vec<String> = (0..n).map(|i| format!("10.0.0.{i}")).collect();
        let mut cols: ArrowColumns = vec![
            (
                "bytes_in".into(),
                arrow(Series::new("bytes_in".into(), bytes)),
            ),
            ("src_ip".into(), arrow(Series::new("src_ip".into(), ips))),
        ];
        if let Some(ids) = ids {
            cols.push((ROW_ID.into(), arrow(Series::new(ROW_ID.into(), ids))));
        }
        cols
    }

    fn ids(table: &LogTable) -> Vec<u64> {
        table.row_ids().unwrap()
    }

    #[test]
    fn rows_are_numbered_from_first_row_or_by_their_row_id_column() {
        let spec = spec(BadRowPolicy::Fail);
        let t = read_arrow(columns(&[Some(1), Some(2)], None), &spec, 10).unwrap();
        assert_eq!(ids(&t), [10, 11]);
        assert!(t.has("src_ip") && t.has("bytes_in"));
        let t = read_arrow(columns(&[Some(1), Some(2)], Some(&[7, 3])), &spec, 0).unwrap();
        assert_eq!(ids(&t), [7, 3]);
        assert!(!t.text_columns.iter().any(|c| c.name == ROW_ID));
    }

    #[test]
    fn a_bad_value_names_its_column_row_and_value() {
        let err = read_arrow(
            columns(&[Some(1), Some(-5)], None),
            &spec(BadRowPolicy::Fail),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("arrow table")
                && err.contains("data row 1")
                && err.contains("`bytes_in`")
                && err.contains("`-5`"),
            "{err}"
        );
        let err = read_arrow(
            columns(&[Some(1), Some(2)], Some(&[0, -1])),
            &spec(BadRowPolicy::Fail),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`row_id`") && err.contains("`-1`"), "{err}");
    }

    #[test]
    fn skipped_rows_keep_their_given_ids() {
        let t = read_arrow(
            columns(&[Some(1), Some(-5), Some(3)], Some(&[100, 200, 300])),
            &spec(BadRowPolicy::Skip),
            0,
        )
        .unwrap();
        assert_eq!(ids(&t), [100, 300]);
        assert_eq!(t.rejected[0].row, 200);
    }
}
