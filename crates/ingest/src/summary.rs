//! Constant-column summaries: how many distinct values a column holds ([`Distinct`]), as far
//! as constant-column reporting cares, and [`summarize`] for a polars column.

use crate::timestamp::format_epoch_ms;
use polars::prelude::*;

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

/// Whether a column is constant, and its value if so.
pub(crate) fn summarize(col: &Column) -> PolarsResult<Distinct> {
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
            Some(format_epoch_ms(ms))
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

#[cfg(test)]
mod tests {
    use super::*;

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
