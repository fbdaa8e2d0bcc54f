//! Per-row explanations: which features drove a row's score.
//!
//! Every detector computes one non-negative contribution per feature for a row (see
//! [`FittedDetector::explain`](crate::FittedDetector::explain) for what it means per detector);
//! this module ranks them and pairs each with the row's value and the training median.

use serde::{Deserialize, Serialize};

/// One feature behind a row's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Feature name.
    pub feature: String,
    /// The row's value of the feature.
    pub actual: f64,
    /// The typical value: the feature's training median.
    pub typical: f64,
    /// How much the feature contributed (detector-specific unit; larger = more responsible).
    pub contribution: f64,
}

/// The `top_k` features by contribution (descending; ties by column order).
pub fn rank(
    names: &[String],
    row: &[f64],
    medians: &[f64],
    contributions: &[f64],
    top_k: usize,
) -> Vec<Explanation> {
    let mut order: Vec<usize> = (0..contributions.len()).collect();
    order.sort_by(|&a, &b| {
        contributions[b]
            .total_cmp(&contributions[a])
            .then(a.cmp(&b))
    });
    order
        .into_iter()
        .take(top_k)
        .map(|j| Explanation {
            feature: names[j].clone(),
            actual: row[j],
            typical: medians[j],
            contribution: contributions[j],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_contribution_then_column() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let out = rank(
            &names,
            &[1.0, 2.0, 3.0],
            &[0.0, 0.5, 1.0],
            &[0.2, 0.9, 0.2],
            2,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].feature, "b");
        assert_eq!(out[0].actual, 2.0);
        assert_eq!(out[0].typical, 0.5);
        assert_eq!(out[1].feature, "a");
        assert_eq!(
            rank(&names, &[1.0, 2.0, 3.0], &[0.0; 3], &[0.0; 3], 10).len(),
            3
        );
    }
}
