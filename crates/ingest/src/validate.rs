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
    match col.cast(&DataType::Float64) {
        Ok(c) => c
            .f64()
            .is_ok_and(|v| v.into_no_null_iter().all(|x| kind.accepts(x))),
        Err(_) => false,
    }
}

/// Parses a numeric column; invalid entries become problems and NaN placeholders. A typed
/// column whose values are all valid is taken as it is.
pub(crate) fn numbers(
    col: &Column,
    source_name: &str,
    kind: NumberKind,
    problems: &mut Problems,
) -> PolarsResult<Vec<f64>> {
    if all_accepted(col, kind) {
        let values = col.cast(&DataType::Float64)?;
        return Ok(values.f64()?.into_no_null_iter().collect());
    }
    let values = strings(col)?;
    Ok(values
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
        .collect())
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

/// Parses a timestamp column to epoch milliseconds.
pub(crate) fn timestamps(
    col: &Column,
    source_name: &str,
    problems: &mut Problems,
) -> PolarsResult<Vec<Option<i64>>> {
    if let DataType::Datetime(_, _) = col.dtype() {
        let ms = col
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            .cast(&DataType::Int64)?;
        return Ok(ms
            .i64()?
            .iter()
            .enumerate()
            .map(|(row, v)| {
                if v.is_none() {
                    problems.push(row, source_name, None, "a timestamp");
                }
                v
            })
            .collect());
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

/// Records a problem for every row whose end precedes its start (rows with an unparsed
/// timestamp already have a problem and are not checked again).
pub(crate) fn check_order(
    start: &[Option<i64>],
    end: &[Option<i64>],
    end_source: &Column,
    end_name: &str,
    start_name: &str,
    problems: &mut Problems,
) -> PolarsResult<()> {
    // the raw end values are only needed for the problems found
    let mut raw: Option<StringChunked> = None;
    for (row, (s, e)) in start.iter().zip(end).enumerate() {
        if let (Some(s), Some(e)) = (s, e)
            && e < s
        {
            let expected = format!(
                "a time not before `{start_name}` ({})",
                crate::timestamp::format_epoch_ms(*s)
            );
            let raw = match &mut raw {
                Some(raw) => raw,
                None => raw.insert(strings(end_source)?),
            };
            problems.push(row, end_name, raw.get(row), &expected);
        }
    }
    Ok(())
}

/// A string column under its canonical name (typed Parquet values are cast to strings).
pub(crate) fn string_column(col: &Column, name: &str) -> PolarsResult<Column> {
    let mut out = col.cast(&DataType::String)?;
    out.rename(name.into());
    Ok(out)
}
