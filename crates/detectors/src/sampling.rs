//! Seeded random streams and index sampling.
//!
//! Every random choice derives from the user's `u64` seed through [`stream`]: the seed picks the
//! ChaCha8 key and the purpose (e.g. the tree index) picks the ChaCha stream, so the draws of
//! one task never depend on how many other tasks ran before it or on which thread.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

/// An independent random stream for task `stream` under `seed`.
pub fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// `k` distinct indices from `0..n` (k <= n), uniformly, in O(k) time and memory for k << n.
///
/// Uses a partial Fisher-Yates shuffle when `k` is a large part of `n` and Floyd's algorithm
/// otherwise; both are deterministic for a given stream.
pub fn without_replacement(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    if k.saturating_mul(4) >= n {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = rng.random_range(i..n);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    } else {
        let mut chosen = Vec::with_capacity(k);
        let mut seen = HashSet::with_capacity(k);
        for j in (n - k)..n {
            let t = rng.random_range(0..=j);
            let pick = if seen.contains(&t) { j } else { t };
            seen.insert(pick);
            chosen.push(pick);
        }
        chosen
    }
}

/// `k` indices from `0..n` drawn with replacement.
pub fn with_replacement(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Vec<usize> {
    (0..k).map(|_| rng.random_range(0..n)).collect()
}

/// Shuffles `items` in place (Fisher-Yates).
pub fn shuffle<T>(rng: &mut ChaCha8Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_in_range_and_reproducible() {
        for &(n, k) in &[(10, 10), (10, 3), (1000, 256), (1_000_000, 256), (5, 0)] {
            let a = without_replacement(&mut stream(7, 1), n, k);
            let b = without_replacement(&mut stream(7, 1), n, k);
            assert_eq!(a, b);
            assert_eq!(a.len(), k);
            let set: HashSet<_> = a.iter().collect();
            assert_eq!(set.len(), k);
            assert!(a.iter().all(|&i| i < n));
        }
        assert_ne!(
            without_replacement(&mut stream(7, 1), 1000, 10),
            without_replacement(&mut stream(7, 2), 1000, 10)
        );
    }

    #[test]
    fn floyd_sampling_is_roughly_uniform() {
        let mut counts = [0usize; 20];
        let mut rng = stream(3, 0);
        for _ in 0..20_000 {
            for i in without_replacement(&mut rng, 20, 2) {
                counts[i] += 1;
            }
        }
        // expected 2000 each
        assert!(
            counts.iter().all(|&c| (1800..2200).contains(&c)),
            "{counts:?}"
        );
    }
}
