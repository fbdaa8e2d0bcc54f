//! Categorical features: a text column's fitted vocabulary (its most frequent values with their
//! shares of the fit rows) and the two encodings of a row's value, `onehot(col)` (one 0/1 column
//! per kept value plus one for every other value) and `freq(col)` (the value's share; values
//! outside the vocabulary are rarer than every kept value and read as 0).
//!
//! A missing value is the category `(missing)`. The vocabulary is counted over every row a run
//! reads (both the in-memory and the streamed fit count all rows, so they agree) and saved with
//! the feature pipeline, so `score` encodes new data with the training vocabulary.

use crate::error::FeatureError;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use webthreat_ingest::LogTable;

/// Values `onehot(col)` keeps as columns of their own (the rest share one `other` column).
pub const ONEHOT_VALUES: usize = 10;

/// Values `freq(col)` keeps with their share (rarer ones read as 0).
pub const FREQ_VALUES: usize = 1000;

/// The category of a missing value.
pub const MISSING: &str = "(missing)";

/// A text column's most frequent values on the fit rows, by decreasing count (ties by value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Source or canonical column.
    pub column: String,
    /// (value, share of the counted rows), at most [`FREQ_VALUES`].
    pub values: Vec<(String, f64)>,
}

impl Vocabulary {
    /// The values `onehot` gives a column of their own.
    pub fn onehot_values(&self) -> &[(String, f64)] {
        &self.values[..self.values.len().min(ONEHOT_VALUES)]
    }

    /// Column names of `onehot(<column>)`: one per kept value, then `other`.
    pub fn onehot_names(&self, feature: &str) -> Vec<String> {
        self.onehot_values()
            .iter()
            .map(|(v, _)| format!("{feature}={v}"))
            .chain(std::iter::once(format!("{feature}=(other)")))
            .collect()
    }
}

/// Counts the values of text columns over batches, to fit their vocabularies.
#[derive(Debug, Default)]
pub struct CategoryCounter {
    counts: Vec<(String, HashMap<String, u64>)>,
}

impl CategoryCounter {
    /// A counter of `columns`.
    pub fn new(columns: Vec<String>) -> Self {
        Self {
            counts: columns.into_iter().map(|c| (c, HashMap::new())).collect(),
        }
    }

    /// Whether there is anything to count.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Counts the values of one batch.
    pub fn add(&mut self, table: &LogTable) -> Result<(), FeatureError> {
        for (column, counts) in &mut self.counts {
            for value in text_values(table, column)?.iter() {
                *counts
                    .entry(value.unwrap_or(MISSING).to_string())
                    .or_default() += 1;
            }
        }
        Ok(())
    }

    /// The vocabularies of the counted columns.
    pub fn finish(self) -> Vec<Vocabulary> {
        self.counts
            .into_iter()
            .map(|(column, counts)| {
                let total: u64 = counts.values().sum();
                let mut values: Vec<(String, u64)> = counts.into_iter().collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                values.truncate(FREQ_VALUES);
                let values = values
                    .into_iter()
                    .map(|(v, n)| (v, n as f64 / total.max(1) as f64))
                    .collect();
                Vocabulary { column, values }
            })
            .collect()
    }
}

/// A text column of the table (an error naming it when it is absent or not text).
pub(crate) fn text_values(table: &LogTable, column: &str) -> Result<StringChunked, FeatureError> {
    let col = table
        .df
        .column(column)
        .map_err(|_| FeatureError::MissingColumn {
            feature: format!("categories of {column}"),
            column: column.to_string(),
        })?;
    Ok(col.cast(&DataType::String)?.str()?.clone())
}

/// The `onehot` columns of a text column under `vocabulary`.
pub(crate) fn onehot(values: &StringChunked, vocabulary: &Vocabulary) -> Vec<Vec<f64>> {
    let kept = vocabulary.onehot_values();
    let index: HashMap<&str, usize> = kept
        .iter()
        .enumerate()
        .map(|(i, (v, _))| (v.as_str(), i))
        .collect();
    let mut columns = vec![vec![0.0; values.len()]; kept.len() + 1];
    for (row, value) in values.iter().enumerate() {
        let at = index
            .get(value.unwrap_or(MISSING))
            .copied()
            .unwrap_or(kept.len());
        columns[at][row] = 1.0;
    }
    columns
}

/// The `freq` column of a text column under `vocabulary`.
pub(crate) fn frequency(values: &StringChunked, vocabulary: &Vocabulary) -> Vec<f64> {
    let share: HashMap<&str, f64> = vocabulary
        .values
        .iter()
        .map(|(v, s)| (v.as_str(), *s))
        .collect();
    values
        .iter()
        .map(|v| share.get(v.unwrap_or(MISSING)).copied().unwrap_or(0.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[Option<&str>]) -> StringChunked {
        StringChunked::from_iter_options("c".into(), values.iter().copied())
    }

    #[test]
    fn vocabularies_rank_by_count_then_value_and_encode_unseen_values() {
        let mut counter = CategoryCounter::new(vec!["c".into()]);
        let mut counts = counter.counts.remove(0);
        for (v, n) in [("dns", 5), ("http", 3), ("ssl", 3), (MISSING, 1)] {
            counts.1.insert(v.into(), n);
        }
        counter.counts.push(counts);
        let vocabulary = counter.finish().remove(0);
        let names: Vec<&str> = vocabulary.values.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(names, ["dns", "http", "ssl", MISSING]);
        assert_eq!(vocabulary.values[0].1, 5.0 / 12.0);
        let values = strings(&[Some("http"), None, Some("ftp")]);
        let columns = onehot(&values, &vocabulary);
        assert_eq!(columns.len(), 5);
        assert_eq!(columns[1], [1.0, 0.0, 0.0]);
        assert_eq!(columns[3], [0.0, 1.0, 0.0]);
        assert_eq!(columns[4], [0.0, 0.0, 1.0]);
        assert_eq!(
            frequency(&values, &vocabulary),
            [3.0 / 12.0, 1.0 / 12.0, 0.0]
        );
        assert_eq!(vocabulary.onehot_names("onehot(c)")[4], "onehot(c)=(other)");
    }
}
