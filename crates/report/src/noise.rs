//! Whether a difference between two metrics measured over seeds is beyond seed noise.
//!
//! Two detectors (or two parameter values) fitted with the same seeds are compared by a paired
//! t-test over those seeds: the differences seed by seed, their mean, and the two-sided p-value
//! of Student's t with `seeds - 1` degrees of freedom. Without shared seeds, two repeated
//! measurements are told apart only when their mean ± sd ranges do not overlap. One seed on
//! either side cannot tell a difference from noise at all.

use crate::Spread;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Below this p-value a paired difference is beyond noise.
pub const SIGNIFICANCE: f64 = 0.05;

/// One metric of one detector, seed by seed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seeded {
    /// `(seed, value)` in the order the seeds were fitted.
    pub values: Vec<(u64, f64)>,
}

impl Seeded {
    /// The values of seeds `first ..` in order.
    pub fn from_first(first: u64, values: impl IntoIterator<Item = f64>) -> Self {
        Self {
            values: (first..).zip(values).collect(),
        }
    }

    fn plain(&self) -> Vec<f64> {
        self.values.iter().map(|(_, v)| *v).collect()
    }
}

/// How a difference compares with seed noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum Verdict {
    /// A side has one seed: its noise is unknown.
    OneSeed,
    /// A paired t-test over the seeds both sides share.
    Paired {
        /// Shared seeds.
        seeds: usize,
        /// Standard deviation of the per-seed differences.
        sd: f64,
        /// Two-sided p-value.
        p: f64,
    },
    /// No shared seeds: whether the mean ± sd ranges overlap.
    Overlap {
        /// The ranges overlap.
        overlapping: bool,
    },
}

impl Verdict {
    /// True when the difference cannot be told from seed noise (including one seed).
    pub fn within_noise(&self) -> bool {
        match *self {
            Verdict::OneSeed => true,
            Verdict::Paired { p, .. } => p.is_nan() || p >= SIGNIFICANCE,
            Verdict::Overlap { overlapping } => overlapping,
        }
    }

    /// A short phrase for a table cell: `p = 0.031 (5 paired seeds)`, `within noise (...)`.
    pub fn describe(&self) -> String {
        match *self {
            Verdict::OneSeed => "one seed cannot tell".into(),
            Verdict::Paired { seeds, p, .. } => {
                let test = format!("{} over {seeds} paired seeds", p_value(p));
                if self.within_noise() {
                    format!("within noise ({test})")
                } else {
                    test
                }
            }
            Verdict::Overlap { overlapping: true } => "within noise (seed spreads overlap)".into(),
            Verdict::Overlap { overlapping: false } => "beyond noise (seed spreads apart)".into(),
        }
    }
}

/// `p = 0.031`, or `p below 0.001` (no `<`: the phrase goes into Markdown and HTML as is).
fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p below 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

/// How `b` differs from `a`: the difference of the means, and how it compares with noise.
pub fn difference(a: &Seeded, b: &Seeded) -> (f64, Verdict) {
    let (a_spread, b_spread) = (Spread::of(&a.plain()), Spread::of(&b.plain()));
    let delta = b_spread.mean - a_spread.mean;
    if a.values.len() < 2 || b.values.len() < 2 {
        return (delta, Verdict::OneSeed);
    }
    let paired: Vec<f64> = a
        .values
        .iter()
        .filter_map(|(seed, va)| {
            let (_, vb) = b.values.iter().find(|(s, _)| s == seed)?;
            Some(vb - va)
        })
        .collect();
    if paired.len() >= 2 {
        let (sd, p) = paired_t(&paired);
        return (
            delta,
            Verdict::Paired {
                seeds: paired.len(),
                sd,
                p,
            },
        );
    }
    let range = |s: &Spread| (s.mean - s.sd, s.mean + s.sd);
    let ((lo_a, hi_a), (lo_b, hi_b)) = (range(&a_spread), range(&b_spread));
    (
        delta,
        Verdict::Overlap {
            overlapping: lo_a <= hi_b && lo_b <= hi_a,
        },
    )
}

/// The sd of the differences and the two-sided p-value of their mean being 0.
fn paired_t(differences: &[f64]) -> (f64, f64) {
    let n = differences.len() as f64;
    let Spread { mean: m, sd: s, .. } = Spread::of(differences);
    if s == 0.0 {
        // every seed moved by the same amount: certain unless that amount is 0
        return (0.0, if m == 0.0 { 1.0 } else { 0.0 });
    }
    let t = m / (s / n.sqrt());
    let p = match StudentsT::new(0.0, 1.0, n - 1.0) {
        Ok(dist) => 2.0 * dist.sf(t.abs()),
        Err(_) => f64::NAN,
    };
    (s, p.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consistent_paired_gain_is_beyond_noise() {
        let a = Seeded::from_first(1, [0.90, 0.92, 0.91, 0.93, 0.89]);
        let b = Seeded::from_first(1, [0.92, 0.93, 0.93, 0.94, 0.91]);
        let (delta, verdict) = difference(&a, &b);
        assert!((delta - 0.016).abs() < 1e-12);
        let Verdict::Paired { seeds, p, .. } = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(seeds, 5);
        // differences 0.02 0.01 0.02 0.01 0.02: mean 0.016, sd 0.005477, t = 6.53 on 4 df
        assert!((p - 0.00283).abs() < 1e-4, "{p}");
        assert!(!verdict.within_noise());
    }

    #[test]
    fn a_gain_that_changes_sign_across_seeds_is_within_noise() {
        let a = Seeded::from_first(1, [0.90, 0.92, 0.91]);
        let b = Seeded::from_first(1, [0.93, 0.90, 0.92]);
        let (_, verdict) = difference(&a, &b);
        assert!(verdict.within_noise(), "{verdict:?}");
        assert!(verdict.describe().starts_with("within noise (p = "));
    }

    #[test]
    fn one_seed_cannot_tell_and_unpaired_runs_compare_their_spreads() {
        let one = Seeded::from_first(1, [0.95]);
        let many = Seeded::from_first(1, [0.90, 0.92]);
        assert_eq!(difference(&one, &many).1, Verdict::OneSeed);
        let apart = Seeded::from_first(10, [0.99, 0.98]);
        assert_eq!(
            difference(&many, &apart).1,
            Verdict::Overlap { overlapping: false }
        );
        let near = Seeded::from_first(10, [0.91, 0.93]);
        assert!(difference(&many, &near).1.within_noise());
    }

    #[test]
    fn identical_shifts_are_certain_and_identical_values_are_not_differences() {
        let a = Seeded::from_first(1, [0.5, 0.6]);
        let b = Seeded::from_first(1, [0.6, 0.7]);
        let Verdict::Paired { p, .. } = difference(&a, &b).1 else {
            panic!()
        };
        assert_eq!(p, 0.0);
        let Verdict::Paired { p, .. } = difference(&a, &a).1 else {
            panic!()
        };
        assert_eq!(p, 1.0);
    }
}
