//! [`read_log`] and [`read_log_batches`]: the ingest entry points, and [`LogTable`], their
//! validated result.

use crate::canonical::{self, CLOUDWATCH, END_TIME, LABEL, ROW_ID, START_TIME};
use crate::chunks::{Chunk, CsvChunks};
use crate::error::{IngestError, RowProblem};
use crate::plain::{self, PlainChunk, ReadAs};
use crate::raw::{RawSource, no_rows, open_source, parse_csv, parse_error};
use crate::spec::{BadRowPolicy, Format, SourceSpec};
use crate::validate::{self, NumberKind, Problems};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A row removed by `on_bad_rows: skip`, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Data row index in the source (0-based, header excluded).
    pub row: u64,
    /// Every bad value of the row.
    pub problems: Vec<RowProblem>,
}

/// How many distinct values a column holds, as far as constant-column reporting cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distinct {
    /// Every row holds this one value (`None`: every row is empty/null).
    One(Option<String>),
    /// At least two different values.
    Many,
}

impl Distinct {
    /// Combines the summaries of two parts of the same column.
    pub fn merge(&mut self, other: &Distinct) {
        if *self != *other {
            *self = Distinct::Many;
        }
    }
}

/// A column reduced to what the report needs from it: its name and whether it is constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSummary {
    /// Column name (canonical for mapped columns, the source's otherwise).
    pub name: String,
    /// Its values, summarised.
    pub distinct: Distinct,
}

/// A validated log: canonical typed columns plus the source's other numeric columns.
#[derive(Debug, Clone)]
pub struct LogTable {
    /// The data. `row_id` (UInt64) first, then mapped canonical columns, then the source's
    /// other numeric columns.
    pub df: DataFrame,
    /// Where it was read from.
    pub path: PathBuf,
    /// Data rows in the source (or batch), before rejection.
    pub source_rows: usize,
    /// Rows removed by `on_bad_rows: skip`.
    pub rejected: Vec<RejectedRow>,
    /// blake3 (hex) of the source file's bytes as they were read, when the whole file was read
    /// as CSV text (`None` for Parquet and for batches).
    pub file_blake3: Option<String>,
    /// Source columns that are text and not used by the analysis: not kept in `df` (they are
    /// most of a CloudWatch export's bytes), only summarised, in source order.
    pub text_columns: Vec<ColumnSummary>,
}

impl LogTable {
    /// True when the table has a canonical or source column of that name.
    pub fn has(&self, column: &str) -> bool {
        self.df.column(column).is_ok()
    }

    /// Rows kept (not rejected).
    pub fn rows(&self) -> usize {
        self.df.height()
    }

    /// True when ground-truth labels are present.
    pub fn has_labels(&self) -> bool {
        self.has(LABEL)
    }

    /// True when `column` is a summarised text column of the source.
    pub fn is_text_column(&self, column: &str) -> bool {
        self.text_columns.iter().any(|c| c.name == column)
    }

    /// Every column but `row_id`, summarised: `df` columns in table order, then the text
    /// columns.
    pub fn column_summaries(&self) -> Result<Vec<ColumnSummary>, IngestError> {
        let mut out = Vec::new();
        for col in self.df.columns() {
            if col.name() == ROW_ID {
                continue;
            }
            out.push(ColumnSummary {
                name: col.name().to_string(),
                distinct: summarize(col).map_err(|e| self.polars_error(e))?,
            });
        }
        out.extend(self.text_columns.iter().cloned());
        Ok(out)
    }

    /// Columns holding one single value in every row (nulls count as a value), in the order of
    /// [`LogTable::column_summaries`].
    pub fn constant_columns(&self) -> Result<Vec<String>, IngestError> {
        Ok(self
            .column_summaries()?
            .into_iter()
            .filter(|c| matches!(c.distinct, Distinct::One(_)))
            .map(|c| c.name)
            .collect())
    }

    fn polars_error(&self, e: PolarsError) -> IngestError {
        IngestError::Polars {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

/// Whether a column is constant, and its value if so.
fn summarize(col: &Column) -> PolarsResult<Distinct> {
    if col.is_empty() {
        return Ok(Distinct::One(None));
    }
    // compared with the first value: stops at the first difference, no hashing
    let physical = col.as_materialized_series().to_physical_repr();
    let dtype = physical.dtype();
    let varied = if dtype.is_string() {
        varies(physical.str()?.iter())
    } else if dtype.is_bool() {
        varies(physical.bool()?.iter())
    } else if dtype.is_float() {
        // NaN counts as one value, as in `n_unique`
        let bits = |v: Option<f64>| v.map(|x| if x.is_nan() { f64::NAN } else { x }.to_bits());
        varies(physical.cast(&DataType::Float64)?.f64()?.iter().map(bits))
    } else if dtype.is_signed_integer() {
        varies(physical.cast(&DataType::Int64)?.i64()?.iter())
    } else if dtype.is_unsigned_integer() {
        varies(physical.cast(&DataType::UInt64)?.u64()?.iter())
    } else {
        col.n_unique()? > 1
    };
    if varied {
        return Ok(Distinct::Many);
    }
    let first = match col.get(0)? {
        AnyValue::Null => None,
        AnyValue::String(v) => Some(v.to_string()),
        AnyValue::StringOwned(v) => Some(v.to_string()),
        AnyValue::Datetime(v, unit, _) | AnyValue::DatetimeOwned(v, unit, _) => {
            let ms = match unit {
                TimeUnit::Milliseconds => v,
                TimeUnit::Microseconds => v.div_euclid(1_000),
                TimeUnit::Nanoseconds => v.div_euclid(1_000_000),
            };
            Some(crate::timestamp::format_epoch_ms(ms))
        }
        other => Some(other.to_string()),
    };
    Ok(Distinct::One(first))
}

/// Whether any value differs from the first.
fn varies<T: PartialEq>(mut values: impl Iterator<Item = T>) -> bool {
    let first = values.next();
    values.any(|v| Some(v) != first)
}

/// Data rows parsed at a time when a whole log is read: bounds the CSV text held in memory.
/// Two chunk buffers take turns (one read while the other is converted), so their size is
/// memory the kernel must supply: on a 1M-row log 2^17 rows (about 28 MB of text) took 0.29 s
/// to read on 2 threads and 107k page faults, against 0.33 s and 122k for 2^18.
const WHOLE_FILE_CHUNK_ROWS: usize = 1 << 17;

/// Data rows of the first chunk of a whole log (each next chunk doubles, up to
/// [`WHOLE_FILE_CHUNK_ROWS`]).
const FIRST_CHUNK_ROWS: usize = 1 << 15;

/// Reads and validates a whole log.
pub fn read_log(spec: &SourceSpec) -> Result<LogTable, IngestError> {
    let path = spec.path.as_path();
    let mut parts = Vec::new();
    let mut file_blake3 = None;
    match open_source(path, WHOLE_FILE_CHUNK_ROWS)? {
        RawSource::Parquet(df) => {
            let header = column_names(&df);
            parts.push(convert(df, &header, Vec::new(), spec, 0, false)?);
        }
        RawSource::Csv(chunks) => {
            // the next chunk is read while this one is converted; small chunks first, so that
            // converting starts soon
            let mut chunks = chunks.ramp_up_from(FIRST_CHUNK_ROWS);
            let mut next = chunks.next_chunk()?;
            while let Some(chunk) = next {
                let (part, following) =
                    rayon::join(|| convert_chunk(&chunk, spec), || chunks.next_chunk());
                parts.push(part?);
                chunks.recycle(chunk.text);
                next = following?;
            }
            file_blake3 = chunks.file_blake3();
        }
    }
    let whole = Converted::concat(parts, path)?.ok_or_else(|| no_rows(path))?;
    let mut table = whole.into_table(spec, false)?;
    table.file_blake3 = file_blake3;
    Ok(table)
}

/// Reads a CSV log in batches of at most `batch_rows` data rows, each validated on its own
/// (row ids and error rows stay those of the whole file). Memory is bounded by the batch size,
/// whatever the file's size. With `on_bad_rows: fail` the first batch holding a bad value ends
/// the iteration with its error; with `skip`, a batch may come back with no rows.
pub fn read_log_batches(spec: &SourceSpec, batch_rows: usize) -> Result<LogBatches, IngestError> {
    match open_source(&spec.path, batch_rows)? {
        RawSource::Csv(chunks) => Ok(LogBatches {
            spec: spec.clone(),
            chunks,
            any: false,
        }),
        RawSource::Parquet(_) => Err(IngestError::Parse {
            path: spec.path.clone(),
            message: "batch reading supports CSV files only; read Parquet without batches".into(),
        }),
    }
}

/// Iterator over the validated batches of a CSV log, see [`read_log_batches`].
pub struct LogBatches {
    spec: SourceSpec,
    chunks: CsvChunks,
    any: bool,
}

impl Iterator for LogBatches {
    type Item = Result<LogTable, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        let chunk = match self.chunks.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) if self.any => return None,
            Ok(None) => {
                self.any = true;
                return Some(Err(no_rows(&self.spec.path)));
            }
            Err(e) => return Some(Err(e)),
        };
        self.any = true;
        let table = convert_chunk(&chunk, &self.spec).and_then(|c| c.into_table(&self.spec, true));
        self.chunks.recycle(chunk.text);
        Some(table)
    }
}

/// Columns polars may type while reading a CSV chunk: byte counts and plain numeric columns
/// as Float64, the port as Int64.
fn typed_columns(spec: &SourceSpec) -> Vec<(String, DataType)> {
    let mut out: Vec<(String, DataType)> = Vec::new();
    for (canonical_name, source) in mapping(spec) {
        match canonical_name {
            canonical::BYTES_IN | canonical::BYTES_OUT => out.push((source, DataType::Float64)),
            canonical::DST_PORT => out.push((source, DataType::Int64)),
            _ => {}
        }
    }
    let label = spec.label.as_ref().map(|l| l.column());
    for name in &spec.numeric {
        if !out.iter().any(|(n, _)| n == name) && Some(name.as_str()) != label {
            out.push((name.clone(), DataType::Float64));
        }
    }
    out
}

/// Parses a chunk: directly when it is plain CSV ([`plain`]) and its typed values are all
/// valid, else with its numeric columns typed by polars when every value of them is valid, else
/// as all-string columns (so that each bad value is reported with its raw text).
fn convert_chunk(chunk: &Chunk, spec: &SourceSpec) -> Result<Converted, IngestError> {
    convert_chunk_via(chunk, spec, true)
}

/// [`convert_chunk`]; `plain`: whether the plain reader may be tried (tests compare both).
fn convert_chunk_via(
    chunk: &Chunk,
    spec: &SourceSpec,
    plain: bool,
) -> Result<Converted, IngestError> {
    let path = spec.path.as_path();
    let typed = typed_columns(spec);
    if let Some(direct) = plain.then(|| read_plain(chunk, spec, &typed)).flatten() {
        return convert(
            direct.df,
            &direct.header,
            direct.summaries,
            spec,
            chunk.first_row,
            true,
        );
    }
    let fast = parse_csv(&chunk.text, &typed)
        .ok()
        .filter(|df| df.height() == chunk.rows && typed_values_valid(df, spec, &typed));
    let df = match fast {
        Some(df) => df,
        None => parse_csv(&chunk.text, &[]).map_err(|e| parse_error(path, e))?,
    };
    if df.height() != chunk.rows {
        return Err(IngestError::Parse {
            path: path.to_path_buf(),
            message: format!(
                "expected {} records from data row {} but the CSV reader found {}",
                chunk.rows,
                chunk.first_row,
                df.height()
            ),
        });
    }
    let header = column_names(&df);
    convert(df, &header, Vec::new(), spec, chunk.first_row, false)
}

/// The chunk read by [`plain::read`]: typed columns as polars would type them, mapped columns as
/// strings, the label parsed into booleans (unless a mapped column reads it too), the rest
/// summarised. `None` when it declines or a typed value is not valid, and when unlisted numeric
/// columns must be detected (which needs their values).
fn read_plain(
    chunk: &Chunk,
    spec: &SourceSpec,
    typed: &[(String, DataType)],
) -> Option<PlainChunk> {
    if spec.format == Format::Table && spec.numeric.is_empty() {
        return None;
    }
    let mapping = mapping(spec);
    let time_source = |canonical_name: &str| {
        mapping
            .iter()
            .find(|(c, _)| *c == canonical_name)
            .map(|(_, source)| source.as_str())
    };
    let (start, end) = (time_source(START_TIME), time_source(END_TIME));
    let kept: Vec<&str> = mapping.iter().map(|(_, source)| source.as_str()).collect();
    let direct = plain::read(&chunk.text, chunk.rows, |name| {
        match typed.iter().find(|(n, _)| n == name) {
            Some((_, DataType::Int64)) => ReadAs::Int,
            Some(_) => ReadAs::Float,
            None if Some(name) == start || Some(name) == end => ReadAs::Time,
            None => match &spec.label {
                Some(label) if label.column() == name && !kept.contains(&name) => {
                    ReadAs::Label(label)
                }
                _ if kept.contains(&name) => ReadAs::Text,
                _ => ReadAs::Summary,
            },
        }
    })?;
    // an end before its start is reported with the raw text, which only the polars path keeps
    let ordered = match (start, end) {
        (Some(start), Some(end)) => ends_not_before_starts(&direct.df, start, end)?,
        _ => true,
    };
    (ordered && typed_values_valid(&direct.df, spec, typed)).then_some(direct)
}

/// Whether every row of `df` has both Datetimes and its `end` not before its `start` (`None`
/// on a polars error).
fn ends_not_before_starts(df: &DataFrame, start: &str, end: &str) -> Option<bool> {
    let millis = |name: &str| df.column(name).ok()?.cast(&DataType::Int64).ok();
    let (start, end) = (millis(start)?, millis(end)?);
    let (start, end) = (start.i64().ok()?, end.i64().ok()?);
    Some(
        start.null_count() == 0
            && end.null_count() == 0
            && validate::reversed_rows(start, end).is_empty(),
    )
}

fn column_names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// True when the typed columns have no nulls and only acceptable values.
fn typed_values_valid(df: &DataFrame, spec: &SourceSpec, typed: &[(String, DataType)]) -> bool {
    let port = mapping(spec)
        .into_iter()
        .find(|(c, _)| *c == canonical::DST_PORT)
        .map(|(_, s)| s);
    typed.iter().all(|(name, _)| {
        let Ok(col) = df.column(name) else {
            return false;
        };
        if col.null_count() > 0 {
            return false;
        }
        let kind = if port.as_deref() == Some(name.as_str()) {
            NumberKind::Port
        } else if mapping(spec)
            .iter()
            .any(|(c, s)| s == name && matches!(*c, canonical::BYTES_IN | canonical::BYTES_OUT))
        {
            NumberKind::NonNegative
        } else {
            NumberKind::Any
        };
        validate::all_accepted(col, kind)
    })
}

/// One converted part of a source (a CSV chunk or a whole Parquet file), before the bad-row
/// policy is applied.
struct Converted {
    df: DataFrame,
    path: PathBuf,
    first_row: u64,
    rows: usize,
    problems: Vec<RowProblem>,
    text_columns: Vec<ColumnSummary>,
}

impl Converted {
    /// Concatenates consecutive parts (`None` when there are none).
    fn concat(parts: Vec<Converted>, path: &Path) -> Result<Option<Converted>, IngestError> {
        let polars_err = |e: PolarsError| IngestError::Polars {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut parts = parts.into_iter();
        let Some(mut whole) = parts.next() else {
            return Ok(None);
        };
        for part in parts {
            whole.df.vstack_mut_owned(part.df).map_err(polars_err)?;
            whole.rows += part.rows;
            whole.problems.extend(part.problems);
            for (mine, theirs) in whole.text_columns.iter_mut().zip(&part.text_columns) {
                mine.distinct.merge(&theirs.distinct);
            }
        }
        Ok(Some(whole))
    }

    /// Applies the bad-row policy. `batch`: this part is one batch of a batched read, so a
    /// batch whose rows were all rejected comes back empty instead of failing, and a failure
    /// says where reading stopped.
    fn into_table(self, spec: &SourceSpec, batch: bool) -> Result<LogTable, IngestError> {
        let path = self.path;
        let rejected = group_problems(self.problems);
        let df = match (spec.on_bad_rows, rejected.first()) {
            (_, None) => self.df,
            (BadRowPolicy::Fail, Some(first)) => {
                return Err(IngestError::BadValue {
                    path,
                    first: Box::new(first.problems[0].clone()),
                    others: rejected.len() - 1,
                    read_through: batch.then(|| self.first_row + self.rows as u64 - 1),
                });
            }
            (BadRowPolicy::Skip, Some(first)) if rejected.len() == self.rows && !batch => {
                return Err(IngestError::AllRowsRejected {
                    path,
                    rows: self.rows,
                    first: first.problems[0].clone(),
                });
            }
            (BadRowPolicy::Skip, Some(_)) => {
                let mut keep = vec![true; self.rows];
                for r in &rejected {
                    keep[(r.row - self.first_row) as usize] = false;
                }
                self.df
                    .filter(&BooleanChunked::from_slice("keep".into(), &keep))
                    .map_err(|e| IngestError::Polars {
                        path: path.clone(),
                        message: e.to_string(),
                    })?
            }
        };
        Ok(LogTable {
            df,
            path,
            source_rows: self.rows,
            rejected,
            text_columns: self.text_columns,
            file_blake3: None,
        })
    }
}

/// Validates and types the columns of one raw part whose first row is data row `first_row`.
/// `header` names the source's columns in order: those of `raw`, and the text columns already
/// reduced to `summaries`. `labels_read`: a Boolean label column of `raw` holds labels the plain
/// reader parsed already (a Parquet file's Boolean column is parsed as text, like any other).
fn convert(
    raw: DataFrame,
    header: &[String],
    summaries: Vec<(String, Distinct)>,
    spec: &SourceSpec,
    first_row: u64,
    labels_read: bool,
) -> Result<Converted, IngestError> {
    let path = spec.path.as_path();
    let polars_err = |e: PolarsError| IngestError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mapping = mapping(spec);
    check_columns(spec, &mapping, header, path)?;

    let height = raw.height();
    let mut problems = Problems::starting_at(first_row);
    let mut out: Vec<Column> = Vec::with_capacity(header.len() + 1);
    let mut mapped_sources = Vec::new();
    // the mapped columns and the label are validated in parallel, each with its own problems,
    // joined in the order a serial pass reports them in: mapped columns, times, label
    let validate_mapped = || {
        mapping
            .par_iter()
            .map(|(canonical_name, source)| {
                let mut problems = Problems::starting_at(first_row);
                let col = raw.column(source)?;
                let mapped = match *canonical_name {
                    canonical::BYTES_IN | canonical::BYTES_OUT => Mapped::Column(
                        validate::numbers(
                            col,
                            source,
                            NumberKind::NonNegative,
                            canonical_name,
                            &mut problems,
                        )?
                        .into_column(),
                    ),
                    canonical::DST_PORT => Mapped::Column(
                        validate::ports(col, source, canonical_name, &mut problems)?.into_column(),
                    ),
                    canonical::START_TIME | canonical::END_TIME => {
                        Mapped::Times(validate::timestamps(col, source, &mut problems)?)
                    }
                    other => Mapped::Column(validate::string_column(col, other)?),
                };
                Ok((mapped, problems))
            })
            .collect::<Vec<PolarsResult<(Mapped, Problems)>>>()
    };
    let validate_labels = || -> PolarsResult<Option<(Column, Problems)>> {
        let Some(label) = &spec.label else {
            return Ok(None);
        };
        let mut problems = Problems::starting_at(first_row);
        let col = raw.column(label.column())?;
        if labels_read && col.dtype() == &DataType::Boolean {
            return Ok(Some((col.clone().with_name(LABEL.into()), problems)));
        }
        let v = validate::labels(col, label, &mut problems)?;
        Ok(Some((Column::new(LABEL.into(), v), problems)))
    };
    let (validated, labels) = rayon::join(validate_mapped, validate_labels);
    let mut times: BTreeMap<&str, (Int64Chunked, &str)> = BTreeMap::new();
    for ((canonical_name, source), validated) in mapping.iter().zip(validated) {
        let (mapped, found) = validated.map_err(polars_err)?;
        problems.list.extend(found.list);
        mapped_sources.push(source.to_string());
        match mapped {
            Mapped::Column(c) => out.push(c),
            Mapped::Times(v) => {
                times.insert(canonical_name, (v, source));
            }
        }
    }
    if let (Some((start, start_src)), Some((end, end_src))) =
        (times.get(START_TIME), times.get(END_TIME))
    {
        let end_col = raw.column(end_src).map_err(polars_err)?;
        validate::check_order(start, end, end_col, end_src, start_src, &mut problems)
            .map_err(polars_err)?;
    }
    for (name, (values, _)) in times {
        // unparsed values (each a problem) read as 0
        let ms = if values.null_count() > 0 {
            values.fill_null_with_values(0).map_err(polars_err)?
        } else {
            values
        };
        let datetimes = ms
            .with_name(name.into())
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
        out.push(datetimes.into_column());
    }
    if let (Some(label), Some((v, found))) = (&spec.label, labels.map_err(polars_err)?) {
        mapped_sources.push(label.column().to_string());
        problems.list.extend(found.list);
        out.push(v);
    }

    let mut text_columns = Vec::new();
    let mut summaries = summaries.into_iter().peekable();
    for name in header {
        if mapped_sources.contains(name) {
            continue;
        }
        if let Some((_, distinct)) = summaries.next_if(|(n, _)| n == name) {
            text_columns.push(ColumnSummary {
                name: name.clone(),
                distinct,
            });
            continue;
        }
        let col = raw.column(name).map_err(polars_err)?;
        let wanted = spec.numeric.contains(name);
        let auto = spec.format == Format::Table
            && spec.numeric.is_empty()
            && validate::looks_numeric(col).map_err(polars_err)?;
        if wanted || auto {
            let v = validate::numbers(col, name, NumberKind::Any, name, &mut problems)
                .map_err(polars_err)?;
            out.push(v.into_column());
        } else {
            text_columns.push(ColumnSummary {
                name: name.clone(),
                distinct: summarize(col).map_err(polars_err)?,
            });
        }
    }
    drop(raw);
    let row_ids: Vec<u64> = (first_row..first_row + height as u64).collect();
    out.insert(
        0,
        UInt64Chunked::from_vec(ROW_ID.into(), row_ids).into_column(),
    );
    let df = DataFrame::new(height, out).map_err(polars_err)?;
    Ok(Converted {
        df,
        path: path.to_path_buf(),
        first_row,
        rows: height,
        problems: problems.list,
        text_columns,
    })
}

/// A validated mapped column: typed, or timestamps (typed after the start/end order check).
enum Mapped {
    Column(Column),
    Times(Int64Chunked),
}

/// (canonical, source column) pairs for the spec's format.
fn mapping(spec: &SourceSpec) -> Vec<(&'static str, String)> {
    match spec.format {
        Format::Cloudwatch => CLOUDWATCH
            .iter()
            .map(|(c, s)| (*c, s.to_string()))
            .collect(),
        Format::Table => spec
            .columns
            .pairs()
            .into_iter()
            .map(|(c, s)| (c, s.to_string()))
            .collect(),
    }
}

fn check_columns(
    spec: &SourceSpec,
    mapping: &[(&'static str, String)],
    header: &[String],
    path: &Path,
) -> Result<(), IngestError> {
    let mut required: Vec<&str> = mapping.iter().map(|(_, s)| s.as_str()).collect();
    if let Some(label) = &spec.label {
        required.push(label.column());
    }
    required.extend(spec.numeric.iter().map(String::as_str));
    let mut missing: Vec<String> = Vec::new();
    for r in required {
        if !header.iter().any(|h| h == r) && !missing.iter().any(|m| m == r) {
            missing.push(r.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            present: header.to_vec(),
        });
    }
    let label_column = spec.label.as_ref().map(|l| l.column());
    let targets = mapping
        .iter()
        .map(|(c, s)| (*c, s.as_str()))
        .chain(label_column.map(|l| (LABEL, l)));
    for (canonical_name, source) in targets {
        let taken = header.iter().any(|h| h == canonical_name)
            && !mapping.iter().any(|(_, s)| s == canonical_name)
            && label_column != Some(canonical_name);
        if source != canonical_name && taken {
            return Err(IngestError::NameCollision {
                path: path.to_path_buf(),
                column: source.to_string(),
                canonical: canonical_name.to_string(),
            });
        }
    }
    Ok(())
}

/// Groups problems by row (row order, then the order they were found).
fn group_problems(mut list: Vec<RowProblem>) -> Vec<RejectedRow> {
    list.sort_by_key(|p| p.row);
    let mut out: Vec<RejectedRow> = Vec::new();
    for p in list {
        match out.last_mut() {
            Some(last) if last.row == p.row => last.problems.push(p),
            _ => out.push(RejectedRow {
                row: p.row,
                problems: vec![p],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LabelSpec;

    fn shared(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(rel)
    }

    /// `text` (header line first) as a chunk whose first record is data row `first_row`.
    fn chunk(text: &str, first_row: u64) -> Chunk {
        let mut text = text.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let rows = text.lines().count() - 1;
        Chunk {
            text: text.into_bytes(),
            first_row,
            rows,
        }
    }

    /// Reads `text` both ways and checks that the parts are equal; returns whether the plain
    /// reader took it.
    fn same_both_ways(text: &str, spec: &SourceSpec) -> bool {
        let direct = read_plain(&chunk(text, 7), spec, &typed_columns(spec)).is_some();
        let a = convert_chunk_via(&chunk(text, 7), spec, true);
        let b = convert_chunk_via(&chunk(text, 7), spec, false);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert!(a.df.equals_missing(&b.df), "{}\nvs\n{}", a.df, b.df);
                assert_eq!(a.rows, b.rows);
                assert_eq!(a.text_columns, b.text_columns);
                assert_eq!(a.problems, b.problems);
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("{:?} vs {:?}", a.err(), b.err()),
        }
        direct
    }

    #[test]
    fn plain_reader_equals_the_polars_reader_on_the_shared_logs() {
        let seed = shared("cloudwatch/CloudWatch_Traffic_Web_Attack.csv");
        let text = std::fs::read_to_string(&seed).unwrap();
        assert!(same_both_ways(&text, &SourceSpec::cloudwatch(&seed)));

        // a table with a mapped column, typed columns and labels as names
        let unsw = shared("netsec/unsw-nb15_1_sampled.csv");
        let mut spec = SourceSpec::table(&unsw);
        spec.columns.bytes_in = Some("sbytes".into());
        spec.numeric = vec!["dur".into(), "Sload".into(), "sttl".into()];
        let (anomaly, normal) = (vec!["Malicious".into()], vec!["Benign".into()]);
        let column = "label".to_string();
        spec.label = Some(LabelSpec::Mapped {
            column,
            anomaly,
            normal,
        });
        let text = std::fs::read_to_string(&unsw).unwrap();
        assert!(same_both_ways(&text, &spec));
        // detecting numeric columns needs their values: the polars reader
        spec.numeric.clear();
        assert!(!same_both_ways(&text, &spec));
    }

    #[test]
    fn plain_reader_equals_the_polars_reader_on_edge_cases() {
        const HEADER: &str = "bytes_in,bytes_out,creation_time,end_time,src_ip,src_ip_country_code,protocol,dst_port,dst_ip,note,flag,label";
        let spec = SourceSpec {
            label: Some(LabelSpec::Column("label".into())),
            ..SourceSpec::cloudwatch("t.csv")
        };
        let row = |bytes_in: &str, country: &str, note: &str, flag: &str| {
            format!(
                "{bytes_in},2e3,2024-04-25T23:00:00Z,2024-04-25T23:10:00Z,1.2.3.4,{country},HTTPS,443,10.0.0.1,{note},{flag},0"
            )
        };
        let labelled = |label: &str| {
            let row = row("1", "US", "a", "x");
            format!("{},{label}", row.strip_suffix(",0").unwrap())
        };
        let cases: Vec<(Vec<String>, bool)> = vec![
            // CRLF is handled by both; empty mapped text is null, empty summaries are null
            (
                vec![row("10", "US", "", "x"), row("0012.50", "", "", "x")],
                true,
            ),
            (
                vec![row("1e2", "US", "a", ""), row("3", "US", "b", "")],
                true,
            ),
            // not plain: both give the polars reader's answer or error
            (vec![row("-1", "US", "a", "x")], false),
            (vec![row("+1", "US", "a", "x")], false),
            (vec![row("", "US", "a", "x")], false),
            (vec![row("1", "\"US\"", "a", "x")], false),
            (vec![row("1", "US", "a", "x") + ",extra"], false),
            // long integers take the general number parser
            (vec![row("12345678901234567", "US", "a", "x")], true),
            // labels are parsed as the spec says; one it does not know: the polars path
            (
                vec![labelled("TRUE"), labelled(" 0"), labelled("1.0")],
                true,
            ),
            (vec![labelled("1"), labelled("maybe")], false),
            // an end before its start, or a timestamp the parser rejects: the polars path
            (
                vec![
                    row("1", "US", "a", "x")
                        .replace("23:00:00Z,2024-04-25T23:10", "23:10:00Z,2024-04-25T23:00"),
                ],
                false,
            ),
            (
                vec![row("1", "US", "a", "x").replace("2024-04-25T23:00:00Z", "yesterday")],
                false,
            ),
        ];
        for (rows, plain) in cases {
            for eol in ["\n", "\r\n"] {
                let text = format!("{HEADER}{eol}{}{eol}", rows.join(eol));
                assert_eq!(same_both_ways(&text, &spec), plain, "{text}");
            }
        }
    }

    #[test]
    fn summaries_compare_every_type_with_the_first_value() {
        let df = df!(
            "int_same" => [Some(3i64), Some(3), Some(3)],
            "int_varied" => [Some(3i64), Some(3), Some(4)],
            "int_null_late" => [Some(3i64), Some(3), None],
            "uint_same" => [u64::MAX, u64::MAX, u64::MAX],
            "float_nan" => [f64::NAN, f64::NAN, f64::NAN],
            "float_varied" => [f64::NAN, f64::NAN, 1.0],
            "bool_same" => [true, true, true],
            "bool_varied" => [true, true, false],
            "nulls" => [None::<i32>, None, None],
        )
        .unwrap();
        let distinct: Vec<(String, Distinct)> = df
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), summarize(c).unwrap()))
            .collect();
        let one = |v: &str| Distinct::One(Some(v.to_string()));
        let expected = [
            ("int_same", one("3")),
            ("int_varied", Distinct::Many),
            ("int_null_late", Distinct::Many),
            ("uint_same", one(&u64::MAX.to_string())),
            ("float_nan", one("NaN")),
            ("float_varied", Distinct::Many),
            ("bool_same", one("true")),
            ("bool_varied", Distinct::Many),
            ("nulls", Distinct::One(None)),
        ];
        for ((name, got), (want_name, want)) in distinct.iter().zip(&expected) {
            assert_eq!(name, want_name);
            assert_eq!(got, want, "{name}");
        }
        // a datetime column is compared on its physical integers
        let times = Column::new("t".into(), [5i64, 5])
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap();
        assert_eq!(summarize(&times).unwrap(), one("1970-01-01T00:00:00.005Z"));
    }
}
