//! Per-value validation: turns raw (string or typed) source columns into typed canonical
//! columns, recording a [`RowProblem`] for every value that is missing or invalid.

use crate::error::RowProblem;
use crate::spec::LabelSpec;
use crate::timestamp::parse_epoch_ms;
use polars::prelude::*;

/// Collects the problems found while converting the columns of a part of a source.
pub(crate) struct Problems {
    pub(crate) list: Vec<RowProblem>,
    /// Data-row index of the part's first row.
    first_row: u64,
}

impl Problems {
    /// No problems yet, in a part starting at data row `first_row`.
    pub(crate) fn starting_at(first_row: u64) -> Self {
        Self {
            list: Vec::new(),
            first_row,
        }
    }

    fn push(&mut self, row: usize, column: &str, value: Option<&str>, expected: &str) {
        self.list.push(RowProblem {
            row: self.first_row + row as u64,
            column: column.to_string(),
            value: value.unwrap_or("").to_string(),
            expected: expected.to_string(),
        });
    }
}

/// The source column's values as optional strings (typed Parquet columns are cast).
fn strings(col: &Column) -> PolarsResult<StringChunked> {
    Ok(col.cast(&DataType::String)?.str()?.clone())
}

/// What a numeric column must hold.
#[derive(Clone, Copy)]
pub(crate) enum NumberKind {
    /// Any finite number.
    Any,
    /// A finite number >= 0 (byte counts).
    NonNegative,
    /// An integer port in 0..=65535.
    Port,
}

impl NumberKind {
    fn expected(self) -> &'static str {
        match self {
            NumberKind::Any => "a finite number",
            NumberKind::NonNegative => "a non-negative number of bytes",
            NumberKind::Port => "an integer port number in 0..=65535",
        }
    }

    fn accepts(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                NumberKind::Any => true,
                NumberKind::NonNegative => v >= 0.0,
                NumberKind::Port => v.fract() == 0.0 && (0.0..=65535.0).contains(&v),
            }
    }
}

/// True when a typed numeric column holds only values `kind` accepts (nulls are not).
pub(crate) fn all_accepted(col: &Column, kind: NumberKind) -> bool {
    if !col.dtype().is_primitive_numeric() || col.null_count() > 0 {
        return false;
    }
    if let Ok(ints) = col.i64() {
        // exactly the integers whose f64 `kind` accepts (an i64 is finite and whole)
        let (low, high) = match kind {
            NumberKind::Any => (i64::MIN, i64::MAX),
            NumberKind::NonNegative => (0, i64::MAX),
            NumberKind::Port => (0, 65535),
        };
        return ints
            .downcast_iter()
            .all(|a| a.values().iter().all(|v| (low..=high).contains(v)));
    }
    match col.cast(&DataType::Float64) {
        Ok(c) => c
            .f64()
            .is_ok_and(|v| v.into_no_null_iter().all(|x| kind.accepts(x))),
        Err(_) => false,
    }
}

/// Parses a numeric column (named `name`); invalid entries become problems and NaN
/// placeholders. A typed column whose values are all valid is taken as it is, without a copy
/// when it is Float64.
pub(crate) fn numbers(
    col: &Column,
    source_name: &str,
    kind: NumberKind,
    name: &str,
    problems: &mut Problems,
) -> PolarsResult<Float64Chunked> {
    if all_accepted(col, kind) {
        let values = col.cast(&DataType::Float64)?;
        return Ok(values.f64()?.clone().with_name(name.into()));
    }
    let values = strings(col)?;
    let parsed: Vec<f64> = values
        .iter()
        .enumerate()
        .map(
            |(row, raw)| match raw.map(str::trim).map(str::parse::<f64>) {
                Some(Ok(v)) if kind.accepts(v) => v,
                _ => {
                    problems.push(row, source_name, raw, kind.expected());
                    f64::NAN
                }
            },
        )
        .collect();
    Ok(Float64Chunked::from_vec(name.into(), parsed))
}

/// Parses a port column (named `name`) like [`numbers`]; invalid entries become problems and
/// 0 placeholders. An Int64 column whose values are all ports is taken without a copy.
pub(crate) fn ports(
    col: &Column,
    source_name: &str,
    name: &str,
    problems: &mut Problems,
) -> PolarsResult<Int64Chunked> {
    if col.dtype() == &DataType::Int64 && all_accepted(col, NumberKind::Port) {
        return Ok(col.i64()?.clone().with_name(name.into()));
    }
    let values = numbers(col, source_name, NumberKind::Port, name, problems)?;
    let ports: Vec<i64> = values
        .into_no_null_iter()
        .map(|p| if p.is_nan() { 0 } else { p as i64 })
        .collect();
    Ok(Int64Chunked::from_vec(name.into(), ports))
}

/// True when every non-empty value of the column parses as a finite number (and one exists).
pub(crate) fn looks_numeric(col: &Column) -> PolarsResult<bool> {
    if col.dtype().is_primitive_numeric() {
        return Ok(true);
    }
    let values = strings(col)?;
    let mut any = false;
    for raw in values.iter().flatten() {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        match raw.parse::<f64>() {
            Ok(v) if v.is_finite() => any = true,
            _ => return Ok(false),
        }
    }
    Ok(any)
}

/// Parses a timestamp column to epoch milliseconds, null where a value is missing or invalid
/// (each a problem). A Datetime column is taken without a copy.
pub(crate) fn timestamps(
    col: &Column,
    source_name: &str,
    problems: &mut Problems,
) -> PolarsResult<Int64Chunked> {
    if let DataType::Datetime(_, _) = col.dtype() {
        let ms = col
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            .cast(&DataType::Int64)?;
        let ms = ms.i64()?.clone();
        if ms.null_count() > 0 {
            for (row, v) in ms.iter().enumerate() {
                if v.is_none() {
                    problems.push(row, source_name, None, "a timestamp");
                }
            }
        }
        return Ok(ms);
    }
    let values = strings(col)?;
    Ok(values
        .iter()
        .enumerate()
        .map(|(row, raw)| {
            let parsed = raw.and_then(parse_epoch_ms);
            if parsed.is_none() {
                problems.push(
                    row,
                    source_name,
                    raw,
                    "an ISO-8601 UTC timestamp like 2024-04-25T23:00:00Z",
                );
            }
            parsed
        })
        .collect())
}

/// Parses a label column with the label spec.
pub(crate) fn labels(
    col: &Column,
    spec: &LabelSpec,
    problems: &mut Problems,
) -> PolarsResult<Vec<bool>> {
    let values = strings(col)?;
    let expected = spec.expected();
    Ok(values
        .iter()
        .enumerate()
        .map(|(row, raw)| {
            raw.and_then(|r| spec.parse(r)).unwrap_or_else(|| {
                problems.push(row, spec.column(), raw, &expected);
                false
            })
        })
        .collect())
}

/// (row, start) of every row whose end precedes its start; rows missing either are skipped.
pub(crate) fn reversed_rows(start: &Int64Chunked, end: &Int64Chunked) -> Vec<(usize, i64)> {
    let aligned = start.null_count() == 0
        && end.null_count() == 0
        && start.chunk_lengths().eq(end.chunk_lengths());
    if !aligned {
        return (start.iter().zip(end.iter()).enumerate())
            .filter_map(|(row, times)| match times {
                (Some(s), Some(e)) if e < s => Some((row, s)),
                _ => None,
            })
            .collect();
    }
    // the arrays' values directly, chunk by chunk
    let mut offset = 0;
    let mut found = Vec::new();
    for (s, e) in start.downcast_iter().zip(end.downcast_iter()) {
        let (s, e) = (s.values(), e.values());
        found.extend(
            (s.iter().zip(e.iter()).enumerate())
                .filter(|(_, (s, e))| e < s)
                .map(|(row, (s, _))| (offset + row, *s)),
        );
        offset += s.len();
    }
    found
}

/// Records a problem for every row whose end precedes its start (rows with an unparsed
/// timestamp already have a problem and are not checked again).
pub(crate) fn check_order(
    start: &Int64Chunked,
    end: &Int64Chunked,
    end_source: &Column,
    end_name: &str,
    start_name: &str,
    problems: &mut Problems,
) -> PolarsResult<()> {
    let reversed = reversed_rows(start, end);
    if reversed.is_empty() {
        return Ok(());
    }
    // the raw end values are only needed for the problems found
    let raw = strings(end_source)?;
    for (row, s) in reversed {
        let expected = format!(
            "a time not before `{start_name}` ({})",
            crate::timestamp::format_epoch_ms(s)
        );
        problems.push(row, end_name, raw.get(row), &expected);
    }
    Ok(())
}

/// A string column under its canonical name (typed Parquet values are cast to strings).
pub(crate) fn string_column(col: &Column, name: &str) -> PolarsResult<Column> {
    let mut out = col.cast(&DataType::String)?;
    out.rename(name.into());
    Ok(out)
}
