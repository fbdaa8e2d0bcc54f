//! Computing a [`FeatureSpec`] over a [`LogTable`]: element-wise features in plain Rust,
//! per-source window aggregates with polars window expressions.

use crate::baseline;
use crate::categories::{frequency, onehot, text_values};
use crate::context;
use crate::error::FeatureError;
use crate::spec::{Feature, FeatureSpec};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use webthreat_core::{Entities, EntityError, FeatureMatrix};
use webthreat_ingest::LogTable;
use webthreat_ingest::canonical::{
    self, BYTES_IN, BYTES_OUT, DST_IP, DST_PORT, END_TIME, LABEL, ROW_ID, SRC_IP, START_TIME,
};

const WINDOW_START: &str = "__window_start";
/// A destination (address, port) as one number, for `src_fan_out`.
const ENDPOINT: &str = "__endpoint";

/// Rows a thread lays out (or scales) at a time.
pub(crate) const BLOCK_ROWS: usize = 1 << 14;

/// Rows whose source IPs a thread numbers at a time.
const ENTITY_BLOCK_ROWS: usize = 1 << 17;

/// Builds the (unscaled) feature matrix, with row ids, entity keys and labels.
pub fn build_matrix(table: &LogTable, spec: &FeatureSpec) -> Result<FeatureMatrix, FeatureError> {
    let features = spec.features();
    for f in &features {
        for column in f.needs() {
            if !table.has(column) {
                return Err(FeatureError::MissingColumn {
                    feature: f.name(),
                    column: column.to_string(),
                });
            }
        }
        if let Some(c) = f.raw_column()
            && !table.has(c)
        {
            return Err(FeatureError::Unknown {
                name: f.name(),
                hint: Feature::vocabulary(),
            });
        }
    }
    let names = spec.column_names()?;
    let mut ctx = Context {
        table,
        spec,
        cache: HashMap::new(),
    };
    // the entity keys are built while the features are computed
    let (columns, entities) = rayon::join(
        || -> Result<Vec<Shared>, FeatureError> {
            let mut columns = Vec::with_capacity(names.len());
            for f in &features {
                match f {
                    Feature::OneHot(c) => {
                        let values = text_values(table, c)?;
                        let encoded = onehot(&values, spec.vocabulary(c)?);
                        columns.extend(encoded.into_iter().map(Arc::new));
                    }
                    _ => columns.push(ctx.values(f)?),
                }
            }
            Ok(columns)
        },
        || entities(table, spec.window_seconds),
    );
    let (columns, entities) = (columns?, entities?);
    let rows = table.df.height();
    let row_ids = values_or(table.df.column(ROW_ID)?.u64()?, 0);
    // row-major values, in row blocks across threads; the first non-finite value in row-major
    // order is reported whatever the thread count
    let width = columns.len();
    let mut values = vec![0.0; rows * width];
    let first_bad = values
        .par_chunks_mut((width * BLOCK_ROWS).max(1))
        .enumerate()
        .filter_map(|(b, block)| {
            for (k, row) in block.chunks_exact_mut(width).enumerate() {
                let r = b * BLOCK_ROWS + k;
                for (j, (out, col)) in row.iter_mut().zip(&columns).enumerate() {
                    *out = col[r];
                    if !out.is_finite() {
                        return Some((r, j));
                    }
                }
            }
            None
        })
        .min();
    if let Some((r, j)) = first_bad {
        return Err(FeatureError::NonFinite {
            feature: names[j].clone(),
            row: row_ids[r],
            value: columns[j][r],
            hint: "log1p needs values >= 0; raw columns must be finite",
        });
    }
    let labels = match table.df.column(LABEL) {
        Ok(c) => Some(c.bool()?.iter().map(|l| l.unwrap_or(false)).collect()),
        Err(_) => None,
    };
    Ok(FeatureMatrix::new(
        names, values, row_ids, entities, labels,
    )?)
}

/// The default feature list for a table without one: every numeric column except the row id,
/// the ports, and columns whose names say they are identities or ports (`id`, `*_id`, `*port*`),
/// which would make a detector learn addressing rather than behaviour. Timestamps and the label
/// are not numeric columns of a [`LogTable`].
pub fn numeric_columns(table: &LogTable) -> Vec<String> {
    let identity = |name: &str| {
        let lower = name.to_ascii_lowercase();
        canonical::NOT_DEFAULT_FEATURES.contains(&name)
            || lower == "id"
            || lower.ends_with("_id")
            || lower.ends_with(".id")
            || lower.contains("port")
    };
    table
        .df
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric() && !identity(c.name()))
        .map(|c| c.name().to_string())
        .collect()
}

/// A column's values, nulls replaced by `null`; chunks without nulls are copied whole.
pub(crate) fn values_or<T>(column: &ChunkedArray<T>, null: T::Native) -> Vec<T::Native>
where
    T: PolarsNumericType,
{
    let mut out = Vec::with_capacity(column.len());
    for chunk in column.downcast_iter() {
        if chunk.validity().is_none_or(|v| v.unset_bits() == 0) {
            out.extend_from_slice(chunk.values());
        } else {
            out.extend(chunk.iter().map(|v| v.copied().unwrap_or(null)));
        }
    }
    out
}

/// A feature's values, shared by the features computed from it.
type Shared = Arc<Vec<f64>>;

struct Context<'a> {
    table: &'a LogTable,
    spec: &'a FeatureSpec,
    /// Feature values by name (shared, not copied, when a feature is needed again).
    cache: HashMap<String, Shared>,
}

impl Context<'_> {
    fn values(&mut self, f: &Feature) -> Result<Shared, FeatureError> {
        let key = f.name();
        if let Some(v) = self.cache.get(&key) {
            return Ok(Arc::clone(v));
        }
        let v = match f {
            Feature::Column(c) => self.numeric(c)?,
            Feature::SessionDuration => {
                let start = self.int64(START_TIME)?;
                let end = self.int64(END_TIME)?;
                let (start, end) = (start.i64()?, end.i64()?);
                let seconds = |s: i64, e: i64| (e - s) as f64 / 1000.0;
                // over the columns' chunks, without copying them out first: chunk by chunk
                // when they line up and hold no nulls (read as 0), else value by value
                let no_nulls = start.null_count() == 0 && end.null_count() == 0;
                let lined_up = (start.downcast_iter().map(|a| a.len()))
                    .eq(end.downcast_iter().map(|a| a.len()));
                if no_nulls && lined_up {
                    let mut out = Vec::with_capacity(start.len());
                    for (s, e) in start.downcast_iter().zip(end.downcast_iter()) {
                        out.extend(
                            s.values()
                                .iter()
                                .zip(e.values().iter())
                                .map(|(&s, &e)| seconds(s, e)),
                        );
                    }
                    out
                } else {
                    (start.iter().zip(end.iter()))
                        .map(|(s, e)| seconds(s.unwrap_or(0), e.unwrap_or(0)))
                        .collect()
                }
            }
            Feature::AvgPacketSize => {
                let duration = self.values(&Feature::SessionDuration)?;
                let (bin, bout) = self.bytes()?;
                (bin.iter().zip(bout.iter()))
                    .zip(duration.iter())
                    .map(|((i, o), d)| (i + o) / d.max(1.0))
                    .collect()
            }
            Feature::BytesRatio => {
                let (bin, bout) = self.bytes()?;
                bin.iter()
                    .zip(bout.iter())
                    .map(|(i, o)| (o + 1.0) / (i + 1.0))
                    .collect()
            }
            Feature::HourOfDay => self
                .millis(START_TIME)?
                .iter()
                .map(|ms| ms.rem_euclid(86_400_000) as f64 / 3_600_000.0)
                .collect(),
            Feature::Log1p(inner) => self
                .values(inner)?
                .iter()
                .map(|v| if *v >= 0.0 { libm::log1p(*v) } else { f64::NAN })
                .collect(),
            Feature::SrcSessions
            | Feature::SrcBytes
            | Feature::SrcDistinctPorts
            | Feature::SrcDistinctDsts
            | Feature::SrcFanOut
            | Feature::DstFanIn => self.window_aggregate(f)?,
            Feature::BaselineDev(inner) => {
                let values = self.values(inner)?;
                let windows = self.windows()?;
                let sources = self.table.df.column(SRC_IP)?.str()?.clone();
                baseline::deviations(&sources, &windows, &values)
            }
            Feature::IntelMatch => {
                let intel = self.spec.context.intel.as_deref().ok_or_else(|| {
                    FeatureError::NoContext("intel_match: the run's intel lists".into())
                })?;
                context::intel_match(self.table, intel)?
            }
            Feature::BeaconScore => {
                let pairs = self.spec.context.beacons.as_deref().ok_or_else(|| {
                    FeatureError::NoContext("beacon_score: the log's beacon table".into())
                })?;
                context::beacon_score(self.table, pairs)?
            }
            Feature::Freq(c) => frequency(&text_values(self.table, c)?, self.spec.vocabulary(c)?),
            Feature::OneHot(_) => {
                return Err(FeatureError::Unknown {
                    name: format!("log1p({})", f.name()),
                    hint: "onehot(<column>) is several columns and cannot be transformed".into(),
                });
            }
        };
        let v = Arc::new(v);
        self.cache.insert(key, Arc::clone(&v));
        Ok(v)
    }

    fn numeric(&self, name: &str) -> Result<Vec<f64>, FeatureError> {
        if self.table.is_text_column(name) {
            return Err(FeatureError::NotNumeric {
                feature: name.to_string(),
                dtype: DataType::String.to_string(),
            });
        }
        let col = self.table.df.column(name)?;
        if !col.dtype().is_primitive_numeric() {
            return Err(FeatureError::NotNumeric {
                feature: name.to_string(),
                dtype: col.dtype().to_string(),
            });
        }
        let col = col.cast(&DataType::Float64)?;
        Ok(values_or(col.f64()?, f64::NAN))
    }

    fn millis(&self, name: &str) -> Result<Vec<i64>, FeatureError> {
        Ok(values_or(self.int64(name)?.i64()?, 0))
    }

    /// A time column as Int64 milliseconds.
    fn int64(&self, name: &str) -> Result<Column, FeatureError> {
        Ok(self.table.df.column(name)?.cast(&DataType::Int64)?)
    }

    /// Bytes in and out: the feature columns of those names (computed once, shared).
    fn bytes(&mut self) -> Result<(Shared, Shared), FeatureError> {
        let bin = self.values(&Feature::Column(BYTES_IN.to_string()))?;
        let bout = self.values(&Feature::Column(BYTES_OUT.to_string()))?;
        Ok((bin, bout))
    }

    /// A number for every distinct destination (address, port) of the rows, by first
    /// appearance (a missing address or port is a value of its own).
    fn endpoints(&self) -> Result<Vec<u64>, FeatureError> {
        let addresses = self.table.df.column(DST_IP)?.str()?;
        let ports = self.table.df.column(DST_PORT)?.cast(&DataType::Int64)?;
        let mut codes: HashMap<(Option<&str>, Option<i64>), u64> = HashMap::new();
        Ok((addresses.iter().zip(ports.i64()?.iter()))
            .map(|key| {
                let next = codes.len() as u64;
                *codes.entry(key).or_insert(next)
            })
            .collect())
    }

    /// The window number of every row ([`window_numbers`]).
    fn windows(&self) -> Result<Vec<i64>, FeatureError> {
        window_numbers(self.table, self.spec.window_seconds)
    }

    /// Per (entity, window) aggregates broadcast back to every row with `over`: the entity is
    /// the source IP, or the destination IP for `dst_fan_in`.
    fn window_aggregate(&mut self, f: &Feature) -> Result<Vec<f64>, FeatureError> {
        let windows = self.windows()?;
        let by_source = [col(SRC_IP), col(WINDOW_START)];
        let expr = match f {
            Feature::SrcSessions => len().over(by_source)?,
            Feature::SrcBytes => (col(BYTES_IN) + col(BYTES_OUT)).sum().over(by_source)?,
            Feature::SrcDistinctPorts => col(DST_PORT).n_unique().over(by_source)?,
            Feature::SrcDistinctDsts => col(DST_IP).n_unique().over(by_source)?,
            Feature::SrcFanOut => col(ENDPOINT).n_unique().over(by_source)?,
            Feature::DstFanIn => col(SRC_IP)
                .n_unique()
                .over([col(DST_IP), col(WINDOW_START)])?,
            _ => unreachable!("only window features reach window_aggregate"),
        };
        let mut needed: Vec<&str> = f.needs();
        needed.retain(|c| *c != START_TIME);
        let mut frame = self.table.df.select(needed)?;
        frame.with_column(Column::new(WINDOW_START.into(), windows))?;
        if *f == Feature::SrcFanOut {
            frame.with_column(Column::new(ENDPOINT.into(), self.endpoints()?))?;
        }
        let out = frame
            .lazy()
            .select([expr.cast(DataType::Float64).alias("value")])
            .collect()?;
        Ok(out
            .column("value")?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }
}

/// The window number of every row of `table`: its start time (Unix milliseconds, 0 when it
/// has none) divided by the window length, rounded down. Window aggregates count the rows of
/// one number together, so a log split by it (co-partitioned) gives every row the values the
/// whole log gives it.
pub fn window_numbers(table: &LogTable, window_seconds: u64) -> Result<Vec<i64>, FeatureError> {
    let window_ms = window_seconds as i64 * 1000;
    let start = table.df.column(START_TIME)?.cast(&DataType::Int64)?;
    Ok(values_or(start.i64()?, 0)
        .iter()
        .map(|ms| ms.div_euclid(window_ms))
        .collect())
}

fn entities(table: &LogTable, window_seconds: u64) -> Result<Entities, FeatureError> {
    let df = &table.df;
    let int64 = |name: &str| -> Result<Option<Column>, FeatureError> {
        match df.column(name) {
            Ok(c) => Ok(Some(c.cast(&DataType::Int64)?)),
            Err(_) => Ok(None),
        }
    };
    let (port, start) = (int64(DST_PORT)?, int64(START_TIME)?);
    let src = df.column(SRC_IP).ok().map(|c| c.str()).transpose()?;
    let port = port.as_ref().map(|c| c.i64()).transpose()?;
    let start = start.as_ref().map(|c| c.i64()).transpose()?;
    let window_ms = window_seconds as i64 * 1000;
    let ((ips, ip_of_row), (port_of_row, window_of_row)) = rayon::join(
        || src.map_or_else(Default::default, |src| intern_ips(src, ENTITY_BLOCK_ROWS)),
        || {
            rayon::join(
                || codes(port, Entities::port_code),
                || {
                    // floor(floor(ms / 1000) / w) = floor(ms / 1000w) for positive divisors
                    codes(start, |row, ms| {
                        let start = ms.map(|ms| ms.div_euclid(window_ms) * window_seconds as i64);
                        Entities::window_code(row, start)
                    })
                },
            )
        },
    );
    Ok(Entities::new(ips, ip_of_row, port_of_row?, window_of_row?)?)
}

/// One code per row of `column` (none without the column); a chunk without nulls is read from
/// its values directly, not through polars' optional-value iterator.
fn codes<T>(
    column: Option<&Int64Chunked>,
    code: impl Fn(usize, Option<i64>) -> Result<T, EntityError>,
) -> Result<Vec<T>, EntityError> {
    let Some(column) = column else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(column.len());
    for array in column.downcast_iter() {
        let first = out.len();
        if array.validity().is_none_or(|v| v.unset_bits() == 0) {
            for (k, v) in array.values().iter().enumerate() {
                out.push(code(first + k, Some(*v))?);
            }
        } else {
            for (k, v) in array.iter().enumerate() {
                out.push(code(first + k, v.copied())?);
            }
        }
    }
    Ok(out)
}

/// The distinct addresses of `src`, in order of first appearance, and each row's index into
/// them ([`Entities::NO_IP`] for a null). Blocks of at most `block_rows` rows are interned
/// across threads, then their addresses numbered in block order, so the numbers do not depend
/// on the thread count.
fn intern_ips(src: &StringChunked, block_rows: usize) -> (Vec<Box<str>>, Vec<u32>) {
    let blocks: Vec<_> = src
        .downcast_iter()
        .flat_map(|array| {
            (0..array.len())
                .step_by(block_rows)
                .map(move |from| (array, from..(from + block_rows).min(array.len())))
        })
        .collect();
    // per block: its distinct addresses and each row's index among them
    let interned: Vec<(Vec<&str>, Vec<u32>)> = blocks
        .into_par_iter()
        .map(|(array, rows)| {
            let mut index: HashMap<&str, u32, foldhash::fast::RandomState> = HashMap::default();
            let mut distinct = Vec::new();
            let ids = rows
                .map(|i| {
                    let Some(ip) = array.get(i) else {
                        return Entities::NO_IP;
                    };
                    *index.entry(ip).or_insert_with(|| {
                        distinct.push(ip);
                        distinct.len() as u32 - 1
                    })
                })
                .collect();
            (distinct, ids)
        })
        .collect();
    let mut global: HashMap<&str, u32, foldhash::fast::RandomState> = HashMap::default();
    let mut ips = Vec::new();
    let renumbered: Vec<Vec<u32>> = interned
        .iter()
        .map(|(distinct, _)| {
            distinct
                .iter()
                .map(|&ip| {
                    *global.entry(ip).or_insert_with(|| {
                        ips.push(Box::<str>::from(ip));
                        ips.len() as u32 - 1
                    })
                })
                .collect()
        })
        .collect();
    let mut ip_of_row = vec![Entities::NO_IP; src.len()];
    let mut rest = &mut ip_of_row[..];
    let mut parts = Vec::with_capacity(interned.len());
    for (_, ids) in &interned {
        let (part, later) = rest.split_at_mut(ids.len());
        parts.push(part);
        rest = later;
    }
    parts
        .into_par_iter()
        .zip(&interned)
        .zip(&renumbered)
        .for_each(|((out, (_, ids)), numbers)| {
            for (o, &id) in out.iter_mut().zip(ids) {
                *o = if id == Entities::NO_IP {
                    id
                } else {
                    numbers[id as usize]
                };
            }
        });
    (ips, ip_of_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_rows_across_chunks_with_and_without_nulls() {
        let mut ports = Int64Chunked::from_slice("p".into(), &[80, 443]);
        ports
            .append(&Int64Chunked::new("p".into(), &[None, Some(22)]))
            .unwrap();
        ports
            .append(&Int64Chunked::from_slice("p".into(), &[8080]))
            .unwrap();
        let got = codes(Some(&ports), Entities::port_code).unwrap();
        let none = Entities::port_code(0, None).unwrap();
        assert_eq!(got, [80, 443, none, 22, 8080]);
        // an error names the row of the whole column
        ports
            .append(&Int64Chunked::from_slice("p".into(), &[70_000]))
            .unwrap();
        let err = codes(Some(&ports), Entities::port_code).unwrap_err();
        assert_eq!(
            err,
            EntityError::Port {
                row: 5,
                port: 70_000
            }
        );
        assert!(codes(None, Entities::port_code).unwrap().is_empty());
    }

    #[test]
    fn addresses_are_numbered_by_first_appearance_whatever_the_blocks() {
        let values = [Some("b"), Some("a"), None, Some("b"), Some("c"), Some("a")];
        let mut src = StringChunked::new("ip".into(), &values[..4]);
        // a second chunk, as a log read in chunks has
        src.append(&StringChunked::new("ip".into(), &values[4..]))
            .unwrap();
        let want = (
            vec!["b".into(), "a".into(), "c".into()],
            vec![0, 1, Entities::NO_IP, 0, 2, 1],
        );
        for block_rows in [1, 2, 3, 1 << 17] {
            assert_eq!(intern_ips(&src, block_rows), want, "blocks of {block_rows}");
        }
    }
}
