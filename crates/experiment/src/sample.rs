//! Seeded bounded samples: a row's membership depends only on the seed and its row id, so a
//! sample is the same whatever the batch size or thread count.
//!
//! [`BottomK`] keeps the `k` items with the smallest hashes; [`RowSample`] uses it to keep
//! feature rows (the streaming fit sample, the reference rows of explanations).

use crate::error::ExperimentError;
use std::collections::BinaryHeap;
use webthreat_core::{Entities, FeatureMatrix};

/// SplitMix64 of the seed and a row id: a well-mixed 64-bit hash deciding sample membership.
pub(crate) fn row_hash(seed: u64, row: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(row)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `k` items with the smallest hashes seen so far (bottom-k sampling).
pub(crate) struct BottomK<T> {
    k: usize,
    /// Max-heap of (hash, slot): the root is the first to go.
    heap: BinaryHeap<(u64, usize)>,
    items: Vec<T>,
}

impl<T> BottomK<T> {
    pub(crate) fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::new(),
            items: Vec::new(),
        }
    }

    /// Keeps `item` if its hash is among the `k` smallest; `make` builds it only then.
    pub(crate) fn offer(&mut self, hash: u64, make: impl FnOnce() -> T) {
        if self.k == 0 {
            return;
        }
        if self.items.len() < self.k {
            self.heap.push((hash, self.items.len()));
            self.items.push(make());
        } else if let Some(&(largest, slot)) = self.heap.peek()
            && hash < largest
        {
            self.heap.pop();
            self.items[slot] = make();
            self.heap.push((hash, slot));
        }
    }

    /// The kept items with their hashes, in no particular order.
    pub(crate) fn into_hashed_items(self) -> Vec<(u64, T)> {
        let mut hashes = vec![0; self.items.len()];
        for (hash, slot) in self.heap {
            hashes[slot] = hash;
        }
        hashes.into_iter().zip(self.items).collect()
    }
}

/// A uniform sample of feature rows (raw values, row id, label) by seeded row-id hash.
pub(crate) struct RowSample {
    seed: u64,
    names: Vec<String>,
    rows: BottomK<(u64, Vec<f64>, Option<bool>)>,
    /// Rows offered.
    offered: usize,
}

impl RowSample {
    pub(crate) fn new(seed: u64, k: usize, names: &[String]) -> Self {
        Self {
            seed,
            names: names.to_vec(),
            rows: BottomK::new(k),
            offered: 0,
        }
    }

    /// Offers every row of `raw`.
    pub(crate) fn offer(&mut self, raw: &FeatureMatrix) {
        self.offered += raw.n_rows();
        for i in 0..raw.n_rows() {
            let id = raw.row_ids()[i];
            self.rows.offer(row_hash(self.seed, id), || {
                (id, raw.row(i).to_vec(), raw.labels().map(|l| l[i]))
            });
        }
    }

    /// Rows offered so far.
    pub(crate) fn offered(&self) -> usize {
        self.offered
    }

    /// The sampled rows in row-id order (no entities).
    pub(crate) fn into_matrix(self) -> Result<FeatureMatrix, ExperimentError> {
        let mut rows: Vec<_> = self
            .rows
            .into_hashed_items()
            .into_iter()
            .map(|(_, row)| row)
            .collect();
        rows.sort_by_key(|r| r.0);
        let labels: Option<Vec<bool>> = rows.iter().map(|r| r.2).collect();
        let ids = rows.iter().map(|r| r.0).collect();
        let values = rows.into_iter().flat_map(|r| r.1).collect();
        FeatureMatrix::new(self.names, values, ids, Entities::default(), labels)
            .map_err(|e| ExperimentError::Report(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bottom_k_keeps_the_smallest_hashes_whatever_the_order() {
        let hashes: Vec<u64> = (0..100).map(|i| row_hash(7, i)).collect();
        let mut expected = hashes.clone();
        expected.sort_unstable();
        expected.truncate(10);
        for order in [hashes.clone(), hashes.iter().rev().copied().collect()] {
            let mut sample = BottomK::new(10);
            for h in order {
                sample.offer(h, || h);
            }
            let mut kept: Vec<u64> = sample
                .into_hashed_items()
                .into_iter()
                .map(|(hash, item)| {
                    assert_eq!(hash, item);
                    item
                })
                .collect();
            kept.sort_unstable();
            assert_eq!(kept, expected);
        }
    }

    #[test]
    fn row_sample_is_independent_of_batching() {
        let names = vec!["x".to_string()];
        let matrix = |rows: std::ops::Range<u64>| {
            FeatureMatrix::new(
                names.clone(),
                rows.clone().map(|r| r as f64).collect(),
                rows.collect(),
                Entities::default(),
                None,
            )
            .unwrap()
        };
        let mut whole = RowSample::new(3, 20, &names);
        whole.offer(&matrix(0..100));
        let mut batched = RowSample::new(3, 20, &names);
        for start in (0..100).step_by(7) {
            batched.offer(&matrix(start..(start + 7).min(100)));
        }
        assert_eq!(batched.offered(), 100);
        let (a, b) = (whole.into_matrix().unwrap(), batched.into_matrix().unwrap());
        assert_eq!(a.n_rows(), 20);
        assert_eq!(a.row_ids(), b.row_ids());
        assert!(a.row_ids().windows(2).all(|w| w[0] < w[1]));
    }
}
