//! Feature scaling with parameters that serialize.
//!
//! - `standard`: (x - mean) / std, population std as scikit-learn's StandardScaler. Means and
//!   standard deviations come from smartcore, reading each column in place (columns in
//!   parallel); a zero std (constant column) is replaced by 1, as scikit-learn does, so
//!   constant columns become 0 instead of the ±inf smartcore's own transform would produce
//!   when the mean is not exactly representable.
//! - `robust`: (x - median) / IQR with linearly interpolated quartiles; a zero IQR becomes 1.
//! - `none`: identity.

use crate::build::BLOCK_ROWS;
use crate::error::FeatureError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::{Array, ArrayView2};
use webthreat_core::stats::{Middle, quantile_sorted};
use webthreat_core::{Entities, FeatureMatrix};

/// One column of a row-major matrix's values, seen as a one-column smartcore matrix without
/// copying it.
struct ColumnOf<'a> {
    values: &'a [f64],
    col: usize,
    n_rows: usize,
    n_cols: usize,
}

impl std::fmt::Debug for ColumnOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column {} of {} x {}",
            self.col, self.n_rows, self.n_cols
        )
    }
}

impl Array<f64, (usize, usize)> for ColumnOf<'_> {
    fn get(&self, (row, col): (usize, usize)) -> &f64 {
        assert_eq!(col, 0, "a one-column matrix");
        &self.values[row * self.n_cols + self.col]
    }

    fn shape(&self) -> (usize, usize) {
        (self.n_rows, 1)
    }

    fn is_empty(&self) -> bool {
        self.n_rows == 0
    }

    fn iterator<'b>(&'b self, _axis: u8) -> Box<dyn Iterator<Item = &'b f64> + 'b> {
        Box::new((0..self.n_rows).map(move |r| self.get((r, 0))))
    }
}

impl ArrayView2<f64> for ColumnOf<'_> {}

/// Scaling method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    /// No scaling.
    None,
    /// Mean / standard deviation.
    #[default]
    Standard,
    /// Median / interquartile range.
    Robust,
}

/// A fitted scaler: per-feature center and scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Method.
    pub method: Scaling,
    /// Feature names it was fitted on.
    pub features: Vec<String>,
    /// Subtracted per feature.
    pub center: Vec<f64>,
    /// Divided by per feature (never 0).
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits the scaler on a matrix.
    pub fn fit(method: Scaling, x: &FeatureMatrix) -> Result<Self, FeatureError> {
        let n = x.n_rows();
        let d = x.n_cols();
        if n == 0 {
            return Err(FeatureError::NoRows);
        }
        let (center, scale) = match method {
            Scaling::None => (vec![0.0; d], vec![1.0; d]),
            // one column per task: each column's sums run over its rows in order, as they
            // would over the whole matrix
            Scaling::Standard => (0..d)
                .into_par_iter()
                .map(|col| {
                    let m = ColumnOf {
                        values: x.values(),
                        col,
                        n_rows: n,
                        n_cols: d,
                    };
                    let (mean, std) = (m.mean_by(0)[0], m.std_dev(0)[0]);
                    if mean.is_finite() && std.is_finite() {
                        (mean, nonzero(std))
                    } else {
                        // the sums overflowed (values near f64::MAX): the same statistics of
                        // the column divided by its largest magnitude, scaled back
                        let (mean, std) = mean_std_without_overflow(&x.column(col));
                        (mean, nonzero(std))
                    }
                })
                .unzip(),
            Scaling::Robust => (0..d)
                .map(|j| {
                    let mut col = x.column(j);
                    col.sort_by(f64::total_cmp);
                    let q = |p: f64| quantile_sorted(&col, p);
                    // an IQR beyond f64::MAX (quartiles near both ends) is the largest finite
                    let iqr = (q(0.75) - q(0.25)).min(f64::MAX);
                    (q(0.5), nonzero(iqr))
                })
                .unzip(),
        };
        Ok(Self {
            method,
            features: x.names().to_vec(),
            center,
            scale,
        })
    }

    /// Checks a scaler read from a file: fitted on exactly `columns`, one finite center and one
    /// finite scale above 0 per column.
    pub fn check(&self, columns: &[String]) -> Result<(), FeatureError> {
        let bad = |what: String| Err(FeatureError::BadScaler(what));
        if self.features != columns {
            return bad(format!(
                "fitted on {:?}, but the feature list gives {columns:?}",
                self.features
            ));
        }
        if self.center.len() != columns.len() || self.scale.len() != columns.len() {
            return bad(format!(
                "{} centers and {} scales for {} features",
                self.center.len(),
                self.scale.len(),
                columns.len()
            ));
        }
        for (j, name) in columns.iter().enumerate() {
            let (c, s) = (self.center[j], self.scale[j]);
            if !(c.is_finite() && s.is_finite() && s > 0.0) {
                return bad(format!(
                    "`{name}`: center {c} and scale {s}; expected a finite center and a finite scale above 0"
                ));
            }
        }
        Ok(())
    }

    /// Feature `j`'s value `v`, scaled. When `v - center` overflows (values near both ends of
    /// f64) the two are divided by the scale first.
    #[inline]
    fn transform_value(&self, j: usize, v: f64) -> f64 {
        let (c, s) = (self.center[j], self.scale[j]);
        let d = v - c;
        if d.is_finite() { d / s } else { v / s - c / s }
    }

    /// The medians of the scaled columns, from the [`Middle`]s of the unscaled ones (`None` if
    /// a center or scale is not finite or a scale not above 0). Scaling keeps the order of
    /// values (a finite `s > 0` and rounding keep it), so the middle values of a scaled column
    /// are the scaled middle values, and its median the same number a selection on it gives.
    pub fn scaled_medians(&self, raw: &[Middle]) -> Option<Vec<f64>> {
        let keeps_order = (self.center.iter()).all(|c| c.is_finite())
            && (self.scale.iter()).all(|s| s.is_finite() && *s > 0.0);
        (keeps_order && raw.len() == self.scale.len()).then(|| {
            (raw.iter().enumerate())
                .map(|(j, m)| m.map(|v| self.transform_value(j, v)).median())
                .collect()
        })
    }

    /// Applies the scaler, keeping row ids and labels. Entity keys are not copied: the scaled
    /// matrix is detector input, and the unscaled one keeps them for reports.
    pub fn transform(&self, x: &FeatureMatrix) -> Result<FeatureMatrix, FeatureError> {
        if x.names() != self.features.as_slice() {
            return Err(FeatureError::ScalerMismatch {
                expected: self.features.clone(),
                got: x.names().to_vec(),
            });
        }
        // rows in blocks across threads; each value is computed alone, so the result does not
        // depend on the thread count
        let block = x.n_cols() * BLOCK_ROWS;
        let mut values = vec![0.0; x.values().len()];
        values
            .par_chunks_mut(block)
            .zip(x.values().par_chunks(block))
            .for_each(|(out, input)| {
                for (out, input) in out
                    .chunks_exact_mut(x.n_cols())
                    .zip(input.chunks_exact(x.n_cols()))
                {
                    for (j, (o, v)) in out.iter_mut().zip(input).enumerate() {
                        *o = self.transform_value(j, *v);
                    }
                }
            });
        Ok(FeatureMatrix::new(
            x.names().to_vec(),
            values,
            x.row_ids().to_vec(),
            Entities::default(),
            x.labels().map(<[bool]>::to_vec),
        )?)
    }
}

/// Population mean and standard deviation of `values` computed on `values / max |value|`, so
/// that no sum overflows, then scaled back (finite whenever the values are).
fn mean_std_without_overflow(values: &[f64]) -> (f64, f64) {
    let k = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if k == 0.0 || values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|v| v / k).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|v| (v / k - mean) * (v / k - mean))
        .sum::<f64>()
        / n;
    (mean * k, var.sqrt() * k)
}

fn nonzero(s: f64) -> f64 {
    if s > 0.0 && s.is_finite() { s } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_near_f64_max_keep_a_finite_scale_and_stand_out() {
        let mut rows: Vec<Vec<f64>> = (0..50).map(|i| vec![f64::from(i)]).collect();
        rows.push(vec![1e308]);
        rows.push(vec![1e308]);
        let x = matrix(&rows);
        for method in [Scaling::Standard, Scaling::Robust] {
            let scaler = Scaler::fit(method, &x).unwrap();
            assert!(
                scaler.center[0].is_finite() && scaler.scale[0].is_finite(),
                "{method:?}"
            );
            let scaled = scaler.transform(&x).unwrap();
            let col = scaled.column(0);
            // the extreme rows stay the largest, far from the rest
            let rest_max = col[..50].iter().cloned().fold(f64::MIN, f64::max);
            assert!(
                col[50] > rest_max && col[51] > rest_max,
                "{method:?}: {col:?}"
            );
        }
        // a standard deviation computed without overflow is the true one, scaled
        let (mean, std) = mean_std_without_overflow(&[1e308, -1e308]);
        assert_eq!((mean, std), (0.0, 1e308));
        // both ends of f64: the transform does not overflow either
        let x = matrix(&[vec![-1.7e308], vec![1.7e308], vec![0.0]]);
        let scaled = Scaler::fit(Scaling::Standard, &x)
            .unwrap()
            .transform(&x)
            .unwrap();
        assert!(scaled.column(0).iter().all(|v| v.is_finite()));
    }

    fn matrix(rows: &[Vec<f64>]) -> FeatureMatrix {
        let names = (0..rows[0].len()).map(|j| format!("f{j}")).collect();
        FeatureMatrix::from_rows(names, rows).unwrap()
    }

    #[test]
    fn standard_matches_population_std_and_handles_constants() {
        let x = matrix(&[
            vec![1.0, 0.1],
            vec![2.0, 0.1],
            vec![3.0, 0.1],
            vec![4.0, 0.1],
        ]);
        let s = Scaler::fit(Scaling::Standard, &x).unwrap();
        assert!((s.center[0] - 2.5).abs() < 1e-12);
        assert!((s.scale[0] - 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(s.scale[1], 1.0);
        let t = s.transform(&x).unwrap();
        assert!((t.row(0)[0] + 1.5 / 1.25f64.sqrt()).abs() < 1e-12);
        assert!(t.column(1).iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn scaled_medians_are_the_medians_of_the_scaled_columns_bit_for_bit() {
        use webthreat_core::stats::{column_medians, column_middles};
        // long-tailed, tied, signed-zero and constant columns, odd and even row counts
        for n in [1, 2, 7, 1000, 1001] {
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    let x = i as f64;
                    let wave = ((i * 7919) % 1013) as f64;
                    vec![
                        (wave / 3.0).exp2() * 1e-3,
                        (wave * 0.37).round() - 200.0,
                        if i % 3 == 0 { -0.0 } else { 0.0 },
                        0.1,
                        x * 1e300 - wave,
                    ]
                })
                .collect();
            let x = matrix(&rows);
            let middles = column_middles(&x);
            for method in [Scaling::None, Scaling::Standard, Scaling::Robust] {
                let s = Scaler::fit(method, &x).unwrap();
                let want = column_medians(&s.transform(&x).unwrap());
                let got = s.scaled_medians(&middles).unwrap();
                let bits = |v: &[f64]| v.iter().map(|m| m.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{method:?}, {n} rows");
            }
        }
        // a scale that could reverse the order is refused
        let x = matrix(&[vec![1.0], vec![2.0]]);
        let mut s = Scaler::fit(Scaling::Standard, &x).unwrap();
        s.scale[0] = -1.0;
        assert_eq!(s.scaled_medians(&column_middles(&x)), None);
    }

    #[test]
    fn standard_statistics_are_smartcores_on_the_whole_matrix_bit_for_bit() {
        use smartcore::linalg::basic::arrays::Array2;
        use smartcore::linalg::basic::matrix::DenseMatrix;
        // values whose sums round differently in different orders
        let rows: Vec<Vec<f64>> = (0..1000)
            .map(|i| {
                let v = f64::from(i);
                vec![(v * 0.37).sin() * 1e6, 1.0 / (v + 0.3), v * v * 1e-3]
            })
            .collect();
        let x = matrix(&rows);
        let s = Scaler::fit(Scaling::Standard, &x).unwrap();
        let whole = DenseMatrix::new(1000, 3, x.values().to_vec(), false).unwrap();
        let means = whole.column_mean();
        let stds: Vec<f64> = whole.std_dev(0);
        for j in 0..3 {
            assert_eq!(s.center[j].to_bits(), means[j].to_bits(), "mean {j}");
            assert_eq!(s.scale[j].to_bits(), stds[j].to_bits(), "std {j}");
        }
    }

    #[test]
    fn robust_uses_median_and_iqr() {
        let x = matrix(&[vec![1.0], vec![2.0], vec![3.0], vec![4.0], vec![100.0]]);
        let s = Scaler::fit(Scaling::Robust, &x).unwrap();
        assert_eq!(s.center, vec![3.0]);
        assert_eq!(s.scale, vec![2.0]);
        let t = s.transform(&x).unwrap();
        assert_eq!(t.row(4), &[48.5]);
    }

    #[test]
    fn none_is_identity_and_mismatch_is_an_error() {
        let x = matrix(&[vec![1.0, 5.0], vec![2.0, 7.0]]);
        let s = Scaler::fit(Scaling::None, &x).unwrap();
        assert_eq!(s.transform(&x).unwrap(), x);
        let other =
            FeatureMatrix::from_rows(vec!["g".into(), "f1".into()], &[vec![1.0, 2.0]]).unwrap();
        assert!(matches!(
            s.transform(&other),
            Err(FeatureError::ScalerMismatch { .. })
        ));
    }
}
