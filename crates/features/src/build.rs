//! Computing a [`FeatureSpec`] over a [`LogTable`]: element-wise features in plain Rust,
//! per-source window aggregates with polars window expressions.

use crate::error::FeatureError;
use crate::spec::{Feature, FeatureSpec};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use webthreat_core::{EntityKey, FeatureMatrix};
use webthreat_ingest::LogTable;
use webthreat_ingest::canonical::{
    BYTES_IN, BYTES_OUT, DST_IP, DST_PORT, END_TIME, LABEL, ROW_ID, SRC_IP, START_TIME,
};

const WINDOW_START: &str = "__window_start";

/// Rows a thread lays out (or scales) at a time.
pub(crate) const BLOCK_ROWS: usize = 1 << 14;

/// Rows whose entity keys a thread builds at a time (large, so that the rows of an address
/// mostly share one allocation).
const ENTITY_BLOCK_ROWS: usize = 1 << 18;

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
    let mut ctx = Context {
        table,
        window_seconds: spec.window_seconds,
        cache: HashMap::new(),
    };
    // the entity keys are built while the features are computed
    let (columns, entities) = rayon::join(
        || {
            features
                .iter()
                .map(|f| ctx.values(f))
                .collect::<Result<Vec<_>, _>>()
        },
        || entities(table, spec.window_seconds),
    );
    let (columns, entities) = (columns?, entities?);
    let rows = table.df.height();
    let row_ids: Vec<u64> = table
        .df
        .column(ROW_ID)?
        .u64()?
        .into_no_null_iter()
        .collect();
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
            feature: features[j].name(),
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
        spec.names.clone(),
        values,
        row_ids,
        entities,
        labels,
    )?)
}

/// The default feature list for a table without one: every numeric column except the row id.
pub fn numeric_columns(table: &LogTable) -> Vec<String> {
    table
        .df
        .columns()
        .iter()
        .filter(|c| c.name() != ROW_ID && c.dtype().is_primitive_numeric())
        .map(|c| c.name().to_string())
        .collect()
}

/// A column's values, nulls replaced by `null`; chunks without nulls are copied whole.
fn values_or<T>(column: &ChunkedArray<T>, null: T::Native) -> Vec<T::Native>
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

struct Context<'a> {
    table: &'a LogTable,
    window_seconds: u64,
    /// Feature values by name (shared, not copied, when a feature is needed again).
    cache: HashMap<String, Arc<Vec<f64>>>,
}

impl Context<'_> {
    fn values(&mut self, f: &Feature) -> Result<Arc<Vec<f64>>, FeatureError> {
        let key = f.name();
        if let Some(v) = self.cache.get(&key) {
            return Ok(Arc::clone(v));
        }
        let v = match f {
            Feature::Column(c) => self.numeric(c)?,
            Feature::SessionDuration => {
                let start = self.millis(START_TIME)?;
                let end = self.millis(END_TIME)?;
                start
                    .iter()
                    .zip(&end)
                    .map(|(s, e)| (e - s) as f64 / 1000.0)
                    .collect()
            }
            Feature::AvgPacketSize => {
                let duration = self.values(&Feature::SessionDuration)?;
                let total = self.total_bytes()?;
                total
                    .iter()
                    .zip(duration.iter())
                    .map(|(t, d)| t / d.max(1.0))
                    .collect()
            }
            Feature::BytesRatio => {
                let bin = self.numeric(BYTES_IN)?;
                let bout = self.numeric(BYTES_OUT)?;
                bin.iter()
                    .zip(&bout)
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
                .map(|v| if *v >= 0.0 { v.ln_1p() } else { f64::NAN })
                .collect(),
            Feature::SrcSessions
            | Feature::SrcBytes
            | Feature::SrcDistinctPorts
            | Feature::SrcDistinctDsts => self.window_aggregate(f)?,
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
        let col = self.table.df.column(name)?.cast(&DataType::Int64)?;
        Ok(values_or(col.i64()?, 0))
    }

    fn total_bytes(&self) -> Result<Vec<f64>, FeatureError> {
        let bin = self.numeric(BYTES_IN)?;
        let bout = self.numeric(BYTES_OUT)?;
        Ok(bin.iter().zip(&bout).map(|(i, o)| i + o).collect())
    }

    /// Per (src_ip, window) aggregates broadcast back to every row with `over`.
    fn window_aggregate(&mut self, f: &Feature) -> Result<Vec<f64>, FeatureError> {
        let window_ms = self.window_seconds as i64 * 1000;
        let windows: Vec<i64> = self
            .millis(START_TIME)?
            .iter()
            .map(|ms| ms.div_euclid(window_ms))
            .collect();
        let partition = [col(SRC_IP), col(WINDOW_START)];
        let expr = match f {
            Feature::SrcSessions => len().over(partition)?,
            Feature::SrcBytes => (col(BYTES_IN) + col(BYTES_OUT)).sum().over(partition)?,
            Feature::SrcDistinctPorts => col(DST_PORT).n_unique().over(partition)?,
            Feature::SrcDistinctDsts => col(DST_IP).n_unique().over(partition)?,
            _ => unreachable!("only window features reach window_aggregate"),
        };
        let mut needed: Vec<&str> = f.needs();
        needed.retain(|c| *c != START_TIME);
        let mut frame = self.table.df.select(needed)?;
        frame.with_column(Column::new(WINDOW_START.into(), windows))?;
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

/// The next value of an optional column's iterator: `None` when the column is missing or the
/// value null.
fn next_of<T>(column: &mut Option<impl Iterator<Item = Option<T>>>) -> Option<T> {
    column.as_mut().and_then(Iterator::next).flatten()
}

fn entities(table: &LogTable, window_seconds: u64) -> Result<Vec<EntityKey>, FeatureError> {
    let df = &table.df;
    let int64 = |name: &str| -> Result<Option<Column>, FeatureError> {
        match df.column(name) {
            Ok(c) => Ok(Some(c.cast(&DataType::Int64)?)),
            Err(_) => Ok(None),
        }
    };
    let (port, start) = (int64(DST_PORT)?, int64(START_TIME)?);
    let src = df.column(SRC_IP).ok().map(|c| c.str()).transpose()?;
    if src.is_none() && port.is_none() && start.is_none() {
        return Ok(Vec::new());
    }
    let port = port.as_ref().map(|c| c.i64()).transpose()?;
    let start = start.as_ref().map(|c| c.i64()).transpose()?;
    let window_ms = window_seconds as i64 * 1000;
    let mut keys = vec![EntityKey::default(); df.height()];
    // blocks of rows across threads, each interning its addresses: the rows of one address
    // in a block share one allocation
    keys.par_chunks_mut(ENTITY_BLOCK_ROWS)
        .enumerate()
        .for_each(|(b, block)| {
            let (from, len) = ((b * ENTITY_BLOCK_ROWS) as i64, block.len());
            let (src, port, start) = (
                src.map(|c| c.slice(from, len)),
                port.map(|c| c.slice(from, len)),
                start.map(|c| c.slice(from, len)),
            );
            let mut src = src.as_ref().map(|c| c.iter());
            let mut port = port.as_ref().map(|c| c.iter());
            let mut start = start.as_ref().map(|c| c.iter());
            let mut interned: HashMap<&str, Arc<str>, foldhash::fast::RandomState> =
                HashMap::default();
            for key in block {
                *key = EntityKey {
                    src_ip: next_of(&mut src)
                        .map(|ip| Arc::clone(interned.entry(ip).or_insert_with(|| ip.into()))),
                    dst_port: next_of(&mut port),
                    // floor(floor(ms / 1000) / w) = floor(ms / 1000w) for positive divisors
                    window_start: next_of(&mut start)
                        .map(|ms| ms.div_euclid(window_ms) * window_seconds as i64),
                };
            }
        });
    Ok(keys)
}
