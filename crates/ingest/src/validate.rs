//! Per-value validation: turns raw (string or typed) source columns into typed canonical
//! columns, recording a [`RowProblem`] for every value that is missing or invalid.

use crate::chunks::LineMap;
use crate::error::RowProblem;
use crate::spec::{LabelSpec, MissingPolicy, TimeFormat};
use polars::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a part of a log comes from: its first data row, its file and its records' lines.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub first_row: u64,
    pub file: Arc<PathBuf>,
    pub lines: LineMap,
}

/// Collects the problems found while converting the columns of a part of a log, and counts
/// the missing values filled in.
pub(crate) struct Problems<'o> {
    pub(crate) list: Vec<RowProblem>,
    /// Rows (data-row indices) whose missing value was read as 0.
    pub(crate) zeroed: Vec<u64>,
    /// Rows whose missing value was kept as a null (text columns).
    pub(crate) kept: Vec<u64>,
    origin: &'o Origin,
}

impl<'o> Problems<'o> {
    /// No problems yet, in the part `origin` describes.
    pub(crate) fn new(origin: &'o Origin) -> Self {
        Self {
            list: Vec::new(),
            zeroed: Vec::new(),
            kept: Vec::new(),
            origin,
        }
    }

    fn problem(
        &self,
        row: usize,
        column: &str,
        value: Option<&str>,
        expected: &str,
        skip: bool,
    ) -> RowProblem {
        RowProblem {
            row: self.origin.first_row + row as u64,
            file: Arc::clone(&self.origin.file),
            line: self.origin.lines.line(row),
            column: column.to_string(),
            value: value.unwrap_or("").to_string(),
            expected: expected.to_string(),
            skip,
        }
    }

    fn push(&mut self, row: usize, column: &str, value: Option<&str>, expected: &str) {
        let p = self.problem(row, column, value, expected, false);
        self.list.push(p);
    }

    /// Records a missing value under `policy`; returns whether it is read as 0.
    fn missing(
        &mut self,
        row: usize,
        column: &str,
        value: Option<&str>,
        expected: &str,
        policy: MissingPolicy,
    ) -> bool {
        match policy {
            MissingPolicy::Zero => {
                self.zeroed.push(self.origin.first_row + row as u64);
                true
            }
            MissingPolicy::Keep => {
                self.kept.push(self.origin.first_row + row as u64);
                false
            }
            MissingPolicy::Skip => {
                let p = self.problem(
                    row,
                    column,
                    value,
                    &format!(
                        "a value (missing values of `{column}` are skipped by `missing: skip`)"
                    ),
                    true,
                );
                self.list.push(p);
                false
            }
            MissingPolicy::Fail => {
                let expected = format!(
                    "{expected}; the value is missing (`missing: {{{column}: zero}}` or `skip` would accept it)"
                );
                self.push(row, column, value, &expected);
                false
            }
        }
    }
}

/// A column's missing-value policy and the tokens that mean "missing".
#[derive(Clone, Copy)]
pub(crate) struct Missing<'a> {
    pub policy: MissingPolicy,
    pub nulls: &'a [String],
}

impl Missing<'_> {
    fn is_missing(&self, raw: Option<&str>) -> bool {
        raw.is_none_or(|r| self.nulls.iter().any(|n| n == r))
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
    /// A finite number >= 0 (byte and packet counts).
    NonNegative,
    /// A finite number of seconds >= 0 (durations).
    Seconds,
    /// An integer port in 0..=65535.
    Port,
}

impl NumberKind {
    fn expected(self) -> &'static str {
        match self {
            NumberKind::Any => "a finite number",
            NumberKind::NonNegative => "a non-negative count",
            NumberKind::Seconds => "a non-negative number of seconds",
            NumberKind::Port => "an integer port number in 0..=65535",
        }
    }

    fn accepts(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                NumberKind::Any => true,
                NumberKind::NonNegative | NumberKind::Seconds => v >= 0.0,
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
            NumberKind::NonNegative | NumberKind::Seconds => (0, i64::MAX),
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
    missing: Missing<'_>,
    problems: &mut Problems,
) -> PolarsResult<Float64Chunked> {
    if all_accepted(col, kind) {
        let values = col.cast(&DataType::Float64)?;
        return Ok(values.f64()?.clone().with_name(name.into()));
    }
    // a typed column whose only problems are nulls (missing values the plain reader read)
    if col.dtype().is_primitive_numeric() && all_accepted(&col.drop_nulls(), kind) {
        let values = col.cast(&DataType::Float64)?;
        let filled: Vec<f64> = (values.f64()?.iter().enumerate())
            .map(|(row, v)| match v {
                Some(v) => v,
                None => {
                    let zero =
                        problems.missing(row, source_name, None, kind.expected(), missing.policy);
                    if zero { 0.0 } else { f64::NAN }
                }
            })
            .collect();
        return Ok(Float64Chunked::from_vec(name.into(), filled));
    }
    let values = strings(col)?;
    let parsed: Vec<f64> = values
        .iter()
        .enumerate()
        .map(|(row, raw)| {
            if missing.is_missing(raw) {
                let zero = problems.missing(row, source_name, raw, kind.expected(), missing.policy);
                return if zero { 0.0 } else { f64::NAN };
            }
            match raw.map(str::trim).map(str::parse::<f64>) {
                Some(Ok(v)) if kind.accepts(v) => v,
                _ => {
                    problems.push(row, source_name, raw, kind.expected());
                    f64::NAN
                }
            }
        })
        .collect();
    Ok(Float64Chunked::from_vec(name.into(), parsed))
}

/// Parses a port column (named `name`) like [`numbers`]; invalid entries become problems and
/// 0 placeholders. An Int64 column whose values are all ports is taken without a copy.
pub(crate) fn ports(
    col: &Column,
    source_name: &str,
    name: &str,
    missing: Missing<'_>,
    problems: &mut Problems,
) -> PolarsResult<Int64Chunked> {
    if col.dtype() == &DataType::Int64 && all_accepted(col, NumberKind::Port) {
        return Ok(col.i64()?.clone().with_name(name.into()));
    }
    let values = numbers(col, source_name, NumberKind::Port, name, missing, problems)?;
    let ports: Vec<i64> = values
        .into_no_null_iter()
        .map(|p| if p.is_nan() { 0 } else { p as i64 })
        .collect();
    Ok(Int64Chunked::from_vec(name.into(), ports))
}

/// True when every non-empty value of the column parses as a finite number (and one exists).
pub(crate) fn looks_numeric(col: &Column, nulls: &[String]) -> PolarsResult<bool> {
    if col.dtype().is_primitive_numeric() {
        return Ok(true);
    }
    let values = strings(col)?;
    let mut any = false;
    for raw in values.iter().flatten() {
        let raw = raw.trim();
        if raw.is_empty() || nulls.iter().any(|n| n == raw) {
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
    format: &TimeFormat,
    missing: Missing<'_>,
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
    let expected = format.expected();
    // a missing time cannot be read as 0
    let missing = Missing {
        policy: match missing.policy {
            MissingPolicy::Skip => MissingPolicy::Skip,
            _ => MissingPolicy::Fail,
        },
        ..missing
    };
    Ok(values
        .iter()
        .enumerate()
        .map(|(row, raw)| {
            if missing.is_missing(raw) {
                problems.missing(row, source_name, raw, &expected, missing.policy);
                return None;
            }
            let parsed = raw.and_then(|r| format.parse(r));
            if parsed.is_none() {
                problems.push(row, source_name, raw, &expected);
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
    if let Some(read) = typed_labels(col, spec) {
        return Ok(read);
    }
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

/// The labels of a typed column without a text round trip, when that reads them as their text
/// would be read: a plain label column (`1`/`0`, `true`/`false`) of Booleans, or of integers
/// all 0 or 1, none missing. `None` otherwise (the values are then read as text, each bad one a
/// problem).
fn typed_labels(col: &Column, spec: &LabelSpec) -> Option<Vec<bool>> {
    if !matches!(spec, LabelSpec::Column(_)) || col.null_count() > 0 {
        return None;
    }
    if let Ok(flags) = col.bool() {
        return Some(flags.iter().map(|f| f == Some(true)).collect());
    }
    if !col.dtype().is_integer() {
        return None;
    }
    let ints = col.cast(&DataType::Int64).ok()?;
    let ints = ints.i64().ok()?;
    let mut out = Vec::with_capacity(ints.len());
    for a in ints.downcast_iter() {
        for &v in a.values().iter() {
            match v {
                0 => out.push(false),
                1 => out.push(true),
                _ => return None,
            }
        }
    }
    Some(out)
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

/// A string column under its canonical name (typed Parquet values are cast to strings), null
/// where a value is missing; a missing value is a problem unless its policy keeps it.
pub(crate) fn string_column(
    col: &Column,
    source_name: &str,
    name: &str,
    missing: Missing<'_>,
    problems: &mut Problems,
) -> PolarsResult<Column> {
    let values = strings(col)?;
    if values.null_count() == 0 && !has_null_token(&values, missing.nulls) {
        return Ok(values.with_name(name.into()).into_column());
    }
    let out: StringChunked = values
        .iter()
        .enumerate()
        .map(|(row, raw)| {
            if missing.is_missing(raw) {
                problems.missing(row, source_name, raw, "a value", missing.policy);
                None
            } else {
                raw
            }
        })
        .collect();
    Ok(out.with_name(name.into()).into_column())
}

/// Whether a value of `values` is one of the `nulls` tokens: only values of a token's length
/// (read from the views, without touching the text of the others) are compared.
fn has_null_token(values: &StringChunked, nulls: &[String]) -> bool {
    values.downcast_iter().any(|a| {
        (a.views().iter().enumerate()).any(|(i, view)| {
            let length = view.length as usize;
            nulls.iter().any(|n| n.len() == length)
                && a.get(i).is_some_and(|v| nulls.iter().any(|n| n == v))
        })
    })
}

/// The address or the port of `address:port` values (IPv6 addresses may be bracketed); a
/// missing value stays missing, a value without a port is a problem.
pub(crate) fn host_port_part(
    col: &Column,
    source_name: &str,
    want_port: bool,
    nulls: &[String],
    problems: &mut Problems,
) -> PolarsResult<Column> {
    let values = strings(col)?;
    let out: StringChunked = values
        .iter()
        .enumerate()
        .map(|(row, raw)| {
            let raw = raw?;
            if nulls.iter().any(|n| n == raw) {
                return None;
            }
            match raw.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && !port.is_empty() => {
                    let host = host.trim_start_matches('[').trim_end_matches(']');
                    Some(if want_port { port } else { host })
                }
                _ => {
                    // reported once, for the address part
                    if !want_port {
                        problems.push(row, source_name, Some(raw), "an address:port pair");
                    }
                    None
                }
            }
        })
        .collect();
    Ok(out.into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels and the (row, value) of each problem, read from `col` as `label: label`.
    fn read_labels(col: Series) -> (Vec<bool>, Vec<(u64, String)>) {
        let origin = Origin {
            first_row: 0,
            file: Arc::new(PathBuf::from("x.csv")),
            lines: LineMap::numbered(1),
        };
        let mut problems = Problems::new(&origin);
        let spec = LabelSpec::Column("label".into());
        let read = labels(&col.into_column(), &spec, &mut problems).unwrap();
        let found = problems
            .list
            .into_iter()
            .map(|p| (p.row, p.value))
            .collect();
        (read, found)
    }

    #[test]
    fn typed_labels_read_as_their_text_does() {
        let text = read_labels(Series::new("label".into(), ["1", "0", "true", "FALSE"]));
        assert_eq!(text, (vec![true, false, true, false], vec![]));
        let ints = read_labels(Series::new("label".into(), [1i64, 0, 1, 0]));
        assert_eq!(ints, (vec![true, false, true, false], vec![]));
        let small = read_labels(Series::new("label".into(), [0i32, 1]));
        assert_eq!(small, (vec![false, true], vec![]));
        let flags = read_labels(Series::new("label".into(), [true, false]));
        assert_eq!(flags, (vec![true, false], vec![]));
    }

    #[test]
    fn null_tokens_are_found_by_length_then_text() {
        let nulls = ["-".to_string(), "not-available".to_string()];
        let has = |values: &[&str]| {
            has_null_token(&StringChunked::from_slice("c".into(), values), &nulls)
        };
        assert!(has(&["10.0.0.1", "-", "x"]));
        // a token longer than a view's inline 12 bytes, and values of a token's length
        assert!(has(&["10.0.0.1", "not-available"]));
        assert!(!has(&["10.0.0.1", "+", "not-availablE", "x"]));
        assert!(!has_null_token(
            &StringChunked::from_slice("c".into(), &["-"]),
            &[]
        ));
    }

    #[test]
    fn a_typed_label_outside_0_and_1_or_missing_is_a_problem() {
        let (_, found) = read_labels(Series::new("label".into(), [1i64, 2, 0]));
        assert_eq!(found, [(1, "2".to_string())]);
        let (_, found) = read_labels(Series::new("label".into(), [Some(true), None]));
        assert_eq!(found, [(1, String::new())]);
    }
}
