//! Shared data types of the webthreat pipeline.
//!
//! [`FeatureMatrix`] is the hand-off between the `features` crate (which knows polars) and the
//! `detectors` crate (which does not): a dense row-major `f64` matrix with feature names, the
//! source row of every row, optional entity keys ([`Entities`]) and optional ground-truth labels.
//!
//! Invariant: every value in a constructed matrix is finite; construction rejects NaN and
//! infinity with the row and feature that carried it. [`stats`] holds the order statistics
//! (medians, numpy-linear quantiles) every crate needs, [`decimal`] fast exact number text for
//! large CSV outputs, [`log_fields`] the documented field lists of the native log formats,
//! [`text`] the escaping of control and bidirectional characters in log-derived text before it
//! is shown anywhere (terminal, report, plot, CSV).

pub mod decimal;
mod entities;
pub mod log_fields;
pub mod stats;
pub mod text;

pub use entities::{Entities, EntityError};
use thiserror::Error;

/// Errors raised when a [`FeatureMatrix`] is built from inconsistent parts.
#[derive(Debug, Error, PartialEq)]
pub enum MatrixError {
    /// `values.len()` is not `rows * names.len()`.
    #[error("feature matrix has {values} values, expected {rows} rows x {cols} features = {}", rows * cols)]
    Shape {
        /// Number of values handed in.
        values: usize,
        /// Number of rows expected.
        rows: usize,
        /// Number of feature names.
        cols: usize,
    },
    /// A per-row vector (row ids, entities, labels) has the wrong length.
    #[error("{what} has {got} entries, expected one per row ({rows})")]
    RowCount {
        /// Which vector is wrong.
        what: &'static str,
        /// Its length.
        got: usize,
        /// Number of rows.
        rows: usize,
    },
    /// A value is NaN or infinite.
    #[error("feature `{feature}` is {value} at source row {row}: detectors need finite numbers")]
    NonFinite {
        /// Feature name.
        feature: String,
        /// Source row id.
        row: u64,
        /// The offending value.
        value: f64,
    },
    /// A row handed to [`FeatureMatrix::from_rows`] has the wrong number of values.
    #[error("row {row} has {got} values, expected {cols}")]
    RaggedRow {
        /// Row index.
        row: usize,
        /// Values in that row.
        got: usize,
        /// Number of features.
        cols: usize,
    },
    /// The matrix has no feature columns.
    #[error("feature matrix has no features")]
    NoFeatures,
    /// Two features share a name.
    #[error("feature `{0}` appears twice")]
    DuplicateFeature(String),
}

/// Dense, row-major matrix of finite features, one row per log record.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    names: Vec<String>,
    values: Vec<f64>,
    row_ids: Vec<u64>,
    entities: Entities,
    labels: Option<Vec<bool>>,
}

impl FeatureMatrix {
    /// Builds a matrix, checking shape, distinct names and finiteness.
    ///
    /// `entities` may be empty (no entity keys known); otherwise it has one entry per row.
    pub fn new(
        names: Vec<String>,
        values: Vec<f64>,
        row_ids: Vec<u64>,
        entities: Entities,
        labels: Option<Vec<bool>>,
    ) -> Result<Self, MatrixError> {
        let cols = names.len();
        if cols == 0 {
            return Err(MatrixError::NoFeatures);
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(MatrixError::DuplicateFeature(name.clone()));
            }
        }
        let rows = row_ids.len();
        if values.len() != rows * cols {
            return Err(MatrixError::Shape {
                values: values.len(),
                rows,
                cols,
            });
        }
        if !entities.is_empty() && entities.len() != rows {
            return Err(MatrixError::RowCount {
                what: "entity keys",
                got: entities.len(),
                rows,
            });
        }
        if let Some(labels) = &labels
            && labels.len() != rows
        {
            return Err(MatrixError::RowCount {
                what: "labels",
                got: labels.len(),
                rows,
            });
        }
        if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
            return Err(MatrixError::NonFinite {
                feature: names[pos % cols].clone(),
                row: row_ids[pos / cols],
                value: values[pos],
            });
        }
        Ok(Self {
            names,
            values,
            row_ids,
            entities,
            labels,
        })
    }

    /// Convenience constructor for plain numeric data: row ids 0..n, no entities, no labels.
    pub fn from_rows(names: Vec<String>, rows: &[Vec<f64>]) -> Result<Self, MatrixError> {
        let cols = names.len();
        let mut values = Vec::with_capacity(rows.len() * cols);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != cols {
                return Err(MatrixError::RaggedRow {
                    row: i,
                    got: row.len(),
                    cols,
                });
            }
            values.extend_from_slice(row);
        }
        let row_ids = (0..rows.len() as u64).collect();
        Self::new(names, values, row_ids, Entities::default(), None)
    }

    /// Returns a copy with the given labels attached (checked like [`FeatureMatrix::new`]).
    pub fn with_labels(self, labels: Option<Vec<bool>>) -> Result<Self, MatrixError> {
        Self::new(self.names, self.values, self.row_ids, self.entities, labels)
    }

    /// Feature names, in column order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.row_ids.len()
    }
    /// Number of features.
    pub fn n_cols(&self) -> usize {
        self.names.len()
    }
    /// All values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    /// One row's values.
    pub fn row(&self, i: usize) -> &[f64] {
        let c = self.n_cols();
        &self.values[i * c..(i + 1) * c]
    }
    /// One column's values, copied out.
    pub fn column(&self, j: usize) -> Vec<f64> {
        self.values
            .chunks_exact(self.n_cols())
            .map(|row| row[j])
            .collect()
    }
    /// The columns `columns` (indices, in that order) with the same row ids, as a matrix of
    /// their own without entity keys or labels (what a detector reading those columns needs).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, columns: &[usize]) -> FeatureMatrix {
        let d = self.n_cols();
        let mut values = Vec::with_capacity(self.n_rows() * columns.len());
        for row in self.values.chunks_exact(d) {
            values.extend(columns.iter().map(|&j| row[j]));
        }
        FeatureMatrix {
            names: columns.iter().map(|&j| self.names[j].clone()).collect(),
            values,
            row_ids: self.row_ids.clone(),
            entities: Entities::default(),
            labels: None,
        }
    }
    /// Source row id of every row (0-based data row in the input file).
    pub fn row_ids(&self) -> &[u64] {
        &self.row_ids
    }
    /// Entity keys, one per row, or empty when the source had none.
    pub fn entities(&self) -> &Entities {
        &self.entities
    }
    /// Ground-truth labels (true = anomaly), when the source had them.
    pub fn labels(&self) -> Option<&[bool]> {
        self.labels.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_columns_keep_rows_and_order() {
        let m = FeatureMatrix::from_rows(
            names(&["a", "b", "c"]),
            &[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]],
        )
        .unwrap();
        let s = m.select(&[2, 0]);
        assert_eq!(s.names(), &names(&["c", "a"]));
        assert_eq!(s.values(), &[3.0, 1.0, 6.0, 4.0]);
        assert_eq!(s.row_ids(), m.row_ids());
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_and_columns_are_row_major() {
        let m = FeatureMatrix::from_rows(names(&["a", "b"]), &[vec![1.0, 2.0], vec![3.0, 4.0]])
            .unwrap();
        assert_eq!(m.n_rows(), 2);
        assert_eq!(m.row(1), &[3.0, 4.0]);
        assert_eq!(m.column(1), vec![2.0, 4.0]);
        assert_eq!(m.row_ids(), &[0, 1]);
    }

    #[test]
    fn non_finite_values_are_rejected_with_their_place() {
        let err =
            FeatureMatrix::from_rows(names(&["a", "b"]), &[vec![1.0, 2.0], vec![f64::NAN, 4.0]])
                .unwrap_err();
        match err {
            MatrixError::NonFinite { feature, row, .. } => {
                assert_eq!(feature, "a");
                assert_eq!(row, 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = FeatureMatrix::from_rows(names(&["a"]), &[vec![f64::INFINITY]]).unwrap_err();
        assert!(matches!(err, MatrixError::NonFinite { .. }));
    }

    #[test]
    fn shape_and_names_are_checked() {
        assert_eq!(
            FeatureMatrix::new(
                names(&["a"]),
                vec![1.0, 2.0],
                vec![0],
                Entities::default(),
                None
            ),
            Err(MatrixError::Shape {
                values: 2,
                rows: 1,
                cols: 1
            })
        );
        assert_eq!(
            FeatureMatrix::new(vec![], vec![], vec![], Entities::default(), None),
            Err(MatrixError::NoFeatures)
        );
        assert_eq!(
            FeatureMatrix::new(
                names(&["a", "a"]),
                vec![1.0, 2.0],
                vec![0],
                Entities::default(),
                None
            ),
            Err(MatrixError::DuplicateFeature("a".into()))
        );
        assert!(matches!(
            FeatureMatrix::new(
                names(&["a"]),
                vec![1.0],
                vec![0],
                Entities::default(),
                Some(vec![true, false])
            ),
            Err(MatrixError::RowCount { what: "labels", .. })
        ));
    }
}
