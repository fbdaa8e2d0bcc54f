//! Computing a [`FeatureSpec`] over a [`LogTable`]: element-wise features in plain Rust,
//! per-source window aggregates with polars window expressions.

use crate::error::FeatureError;
use crate::spec::{Feature, FeatureSpec};
use polars::prelude::*;
use std::collections::HashMap;
use webthreat_core::{EntityKey, FeatureMatrix};
use webthreat_ingest::LogTable;
use webthreat_ingest::canonical::{
    BYTES_IN, BYTES_OUT, DST_IP, DST_PORT, END_TIME, LABEL, ROW_ID, SRC_IP, START_TIME,
};

const WINDOW_START: &str = "__window_start";

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
    // the entity keys (a string per row) are built while the features are computed
    let (columns, entities) = rayon::join(
        || {
            features
                .iter()
                .map(|f| ctx.values(f))
                .collect::<Result<Vec<Vec<f64>>, _>>()
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
    let mut values = Vec::with_capacity(rows * columns.len());
    for r in 0..rows {
        for (j, col) in columns.iter().enumerate() {
            let v = col[r];
            if !v.is_finite() {
                return Err(FeatureError::NonFinite {
                    feature: features[j].name(),
                    row: row_ids[r],
                    value: v,
                    hint: "log1p needs values >= 0; raw columns must be finite",
                });
            }
            values.push(v);
        }
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

struct Context<'a> {
    table: &'a LogTable,
    window_seconds: u64,
    cache: HashMap<String, Vec<f64>>,
}

impl Context<'_> {
    fn values(&mut self, f: &Feature) -> Result<Vec<f64>, FeatureError> {
        let key = f.name();
        if let Some(v) = self.cache.get(&key) {
            return Ok(v.clone());
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
                    .zip(&duration)
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
        self.cache.insert(key, v.clone());
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
        Ok(col.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }

    fn millis(&self, name: &str) -> Result<Vec<i64>, FeatureError> {
        let col = self.table.df.column(name)?.cast(&DataType::Int64)?;
        Ok(col.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
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

fn entities(table: &LogTable, window_seconds: u64) -> Result<Vec<EntityKey>, FeatureError> {
    let df = &table.df;
    let mut src: Option<Vec<Option<String>>> = match df.column(SRC_IP) {
        Ok(c) => Some(c.str()?.iter().map(|s| s.map(str::to_string)).collect()),
        Err(_) => None,
    };
    let port: Option<Vec<Option<i64>>> = match df.column(DST_PORT) {
        Ok(c) => Some(c.cast(&DataType::Int64)?.i64()?.iter().collect()),
        Err(_) => None,
    };
    let window: Option<Vec<Option<i64>>> = match df.column(START_TIME) {
        Ok(c) => {
            let w = window_seconds as i64;
            Some(
                c.cast(&DataType::Int64)?
                    .i64()?
                    .iter()
                    .map(|ms| ms.map(|ms| ms.div_euclid(1000).div_euclid(w) * w))
                    .collect(),
            )
        }
        Err(_) => None,
    };
    if src.is_none() && port.is_none() && window.is_none() {
        return Ok(Vec::new());
    }
    Ok((0..df.height())
        .map(|i| EntityKey {
            src_ip: src.as_mut().and_then(|s| s[i].take()),
            dst_port: port.as_ref().and_then(|p| p[i]),
            window_start: window.as_ref().and_then(|w| w[i]),
        })
        .collect())
}
