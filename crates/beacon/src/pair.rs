//! One pair's connections in bounded memory ([`PairTally`]): the check-in times at an adaptive
//! power-of-two resolution (the earliest second of each occupied bucket) and the connection sizes at an adaptive number of
//! significant bits, plus exact connection count and first/last times.
//!
//! Both reductions are idempotent coarsenings that compose: a time bucket at width `2^k` s is
//! `floor(second / 2^k)`, and `floor(floor(s / 2^k) / 2) = floor(s / 2^(k+1))`, so the earliest
//! second of a bucket is the earliest of the earliest seconds of its halves; a size keeps its
//! top `b` significant bits, and truncating to `b` then to `b - 1` bits equals truncating to
//! `b - 1` bits. The resolution only coarsens while more than `max_points` distinct buckets
//! remain, and the number of distinct buckets only grows with the rows and only shrinks with
//! coarsening, so the compacted state is always the finest resolution that holds the whole
//! multiset in `max_points` buckets: the same whatever the order of the rows or how they were
//! split into tallies before merging.

/// The finest size precision: every bit of a `u64` kept.
const EXACT_BITS: u32 = 64;

/// One connection pair's check-ins and sizes in bounded memory; see the [module docs](self).
///
/// Besides at most `max_points` compacted time buckets and `max_points` compacted size buckets,
/// a tally buffers at most `max_points` rows not yet compacted (compaction sorts them in, so
/// adding a row costs amortised `O(log max_points)`).
#[derive(Debug, Clone)]
pub struct PairTally {
    max_points: usize,
    connections: u64,
    first_ms: i64,
    last_ms: i64,
    /// Time bucket width is `2^time_shift` seconds.
    time_shift: u32,
    /// The earliest whole second of each bucket at `time_shift` that holds a row, sorted (one
    /// per bucket).
    times: Vec<i64>,
    /// Whole seconds of rows not yet compacted.
    pending_times: Vec<i64>,
    /// Significant bits kept of each size.
    size_bits: u32,
    /// Sorted distinct size keys at `size_bits` with their connection counts.
    sizes: Vec<(u64, u64)>,
    /// Sizes of rows not yet compacted.
    pending_sizes: Vec<u64>,
}

impl PairTally {
    /// An empty tally keeping at most `max_points` buckets of each kind (at least 2).
    pub fn new(max_points: usize) -> Self {
        Self {
            max_points: max_points.max(2),
            connections: 0,
            first_ms: i64::MAX,
            last_ms: i64::MIN,
            time_shift: 0,
            times: Vec::new(),
            pending_times: Vec::new(),
            size_bits: EXACT_BITS,
            sizes: Vec::new(),
            pending_sizes: Vec::new(),
        }
    }

    /// Adds one connection at `time_ms` (Unix milliseconds) of `bytes` bytes.
    pub fn add(&mut self, time_ms: i64, bytes: u64) {
        self.connections += 1;
        self.first_ms = self.first_ms.min(time_ms);
        self.last_ms = self.last_ms.max(time_ms);
        self.pending_times.push(time_ms.div_euclid(1000));
        self.pending_sizes.push(bytes);
        if self.pending_times.len() >= self.max_points {
            self.compact();
        }
    }

    /// Adds every connection of `other`; the result is the tally of all rows of both.
    pub fn merge(&mut self, mut other: PairTally) {
        self.connections += other.connections;
        self.first_ms = self.first_ms.min(other.first_ms);
        self.last_ms = self.last_ms.max(other.last_ms);
        // Bring both compacted parts to the coarser resolution; pending rows stay raw.
        let shift = self.time_shift.max(other.time_shift);
        self.time_shift = shift;
        self.times.append(&mut other.times);
        self.times.sort_unstable();
        keep_earliest(&mut self.times, shift);
        self.pending_times.append(&mut other.pending_times);

        let bits = self.size_bits.min(other.size_bits);
        rekey_sizes(&mut self.sizes, bits);
        rekey_sizes(&mut other.sizes, bits);
        self.size_bits = bits;
        self.sizes.append(&mut other.sizes);
        self.sizes.sort_unstable();
        merge_runs(&mut self.sizes);
        self.pending_sizes.append(&mut other.pending_sizes);
        self.compact();
    }

    /// Connections added (exact, not bucketed).
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// Folds the buffered rows into the buckets and coarsens until at most `max_points`
    /// buckets of each kind remain.
    pub(crate) fn compact(&mut self) {
        self.times.append(&mut self.pending_times);
        self.times.sort_unstable();
        keep_earliest(&mut self.times, self.time_shift);
        while self.times.len() > self.max_points {
            self.time_shift += 1;
            keep_earliest(&mut self.times, self.time_shift);
        }

        let bits = self.size_bits;
        self.sizes
            .extend(self.pending_sizes.drain(..).map(|v| (size_key(v, bits), 1)));
        self.sizes.sort_unstable();
        merge_runs(&mut self.sizes);
        while self.sizes.len() > self.max_points {
            self.size_bits -= 1;
            rekey_sizes(&mut self.sizes, self.size_bits);
        }
    }

    /// The compacted view the scores read: call [`compact`](Self::compact) first.
    pub(crate) fn view(&self) -> TallyView<'_> {
        debug_assert!(self.pending_times.is_empty() && self.pending_sizes.is_empty());
        TallyView {
            connections: self.connections,
            first_ms: self.first_ms,
            last_ms: self.last_ms,
            width_s: (1u64 << self.time_shift.min(62)) as f64,
            buckets: &self.times,
            sizes: &self.sizes,
        }
    }
}

/// Two tallies are equal when they hold the same compacted state (pending rows are compacted
/// on copies first).
impl PartialEq for PairTally {
    fn eq(&self, other: &Self) -> bool {
        let norm = |t: &PairTally| {
            let mut t = t.clone();
            t.compact();
            t
        };
        let (a, b) = (norm(self), norm(other));
        a.max_points == b.max_points
            && a.connections == b.connections
            && a.first_ms == b.first_ms
            && a.last_ms == b.last_ms
            && a.time_shift == b.time_shift
            && a.times == b.times
            && a.size_bits == b.size_bits
            && a.sizes == b.sizes
    }
}

/// A compacted tally, as the scores read it.
pub(crate) struct TallyView<'a> {
    pub(crate) connections: u64,
    pub(crate) first_ms: i64,
    pub(crate) last_ms: i64,
    /// Time bucket width in seconds.
    pub(crate) width_s: f64,
    /// The earliest whole second (Unix) of each occupied time bucket, sorted.
    pub(crate) buckets: &'a [i64],
    /// Sorted distinct size keys with their connection counts.
    pub(crate) sizes: &'a [(u64, u64)],
}

/// Keeps the earliest of sorted whole seconds in each bucket of `2^shift` seconds: the
/// minimum is the same whatever the order the seconds came in or the resolutions they passed
/// through, and intervals between the kept seconds stay exact to the second.
fn keep_earliest(times: &mut Vec<i64>, shift: u32) {
    let shift = shift.min(63);
    times.dedup_by_key(|s| *s >> shift);
}

/// `v` with only its top `bits` significant bits kept.
fn size_key(v: u64, bits: u32) -> u64 {
    let len = 64 - v.leading_zeros();
    if len <= bits {
        v
    } else {
        let drop = len - bits;
        if drop >= 64 { 0 } else { (v >> drop) << drop }
    }
}

/// Re-keys sorted size runs to `bits` significant bits (a monotone map, so they stay sorted)
/// and merges runs that meet.
fn rekey_sizes(sizes: &mut Vec<(u64, u64)>, bits: u32) {
    for s in sizes.iter_mut() {
        s.0 = size_key(s.0, bits);
    }
    merge_runs(sizes);
}

/// Merges adjacent runs with equal keys of a key-sorted vector, adding their counts.
fn merge_runs(sizes: &mut Vec<(u64, u64)>) {
    sizes.dedup_by(|next, kept| {
        if next.0 == kept.0 {
            kept.1 += next.1;
            true
        } else {
            false
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The state of bucketing every row at once at the finest resolution that fits.
    fn direct(rows: &[(i64, u64)], max_points: usize) -> (u32, Vec<i64>, u32, Vec<(u64, u64)>) {
        let mut shift = 0;
        let times = loop {
            let mut t: Vec<i64> = rows.iter().map(|r| r.0.div_euclid(1000)).collect();
            t.sort_unstable();
            t.dedup_by_key(|s| *s >> shift);
            if t.len() <= max_points {
                break t;
            }
            shift += 1;
        };
        let mut bits = EXACT_BITS;
        let sizes = loop {
            let mut s: Vec<(u64, u64)> = rows.iter().map(|r| (size_key(r.1, bits), 1)).collect();
            s.sort_unstable();
            merge_runs(&mut s);
            if s.len() <= max_points {
                break s;
            }
            bits -= 1;
        };
        (shift, times, bits, sizes)
    }

    fn tally(rows: &[(i64, u64)], max_points: usize) -> PairTally {
        let mut t = PairTally::new(max_points);
        for &(time, bytes) in rows {
            t.add(time, bytes);
        }
        t.compact();
        t
    }

    #[test]
    fn size_keys_compose() {
        for v in [0u64, 1, 2, 3, 255, 256, 1_000_003, u64::MAX] {
            for b in 1..=64 {
                assert_eq!(
                    size_key(size_key(v, b), b - 1),
                    size_key(v, b - 1),
                    "{v} {b}"
                );
            }
            assert_eq!(size_key(v, 64), v);
        }
        assert_eq!(size_key(0b1011_0111, 3), 0b1010_0000);
    }

    #[test]
    fn a_million_connections_keep_at_most_max_points_buckets() {
        let mut t = PairTally::new(4096);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..1_000_000i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t.add(i * 997 + (x % 5000) as i64, x % 1_000_000);
            assert!(t.times.len() <= 4096 && t.pending_times.len() <= 4096);
            assert!(t.sizes.len() <= 4096 && t.pending_sizes.len() <= 4096);
        }
        t.compact();
        assert_eq!(t.connections(), 1_000_000);
        assert!(t.times.len() <= 4096 && t.sizes.len() <= 4096);
        assert!(t.time_shift > 0 && t.size_bits < 64);
        assert_eq!(t.sizes.iter().map(|s| s.1).sum::<u64>(), 1_000_000);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn state_is_that_of_bucketing_everything_at_once(
            rows in prop::collection::vec((-5_000_000i64..50_000_000, 0u64..100_000), 0..600),
            max_points in 2usize..80,
        ) {
            let t = tally(&rows, max_points);
            let (shift, times, bits, sizes) = direct(&rows, max_points);
            prop_assert_eq!(t.time_shift, shift);
            prop_assert_eq!(&t.times, &times);
            prop_assert_eq!(t.size_bits, bits);
            prop_assert_eq!(&t.sizes, &sizes);
        }

        #[test]
        fn order_and_batches_do_not_matter(
            rows in prop::collection::vec((0i64..86_400_000 * 7, 0u64..5_000), 1..500),
            cuts in prop::collection::vec(0usize..500, 0..6),
            seed in any::<u64>(),
            max_points in 2usize..100,
        ) {
            let whole = tally(&rows, max_points);
            // a seeded permutation
            let mut shuffled = rows.clone();
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (shuffled.len() + 1)).collect();
            cuts.push(0);
            cuts.push(shuffled.len());
            cuts.sort_unstable();
            let mut merged = PairTally::new(max_points);
            for w in cuts.windows(2) {
                let mut part = PairTally::new(max_points);
                for &(time, bytes) in &shuffled[w[0]..w[1]] {
                    part.add(time, bytes);
                }
                // merge in both directions
                if w[0] % 2 == 0 {
                    merged.merge(part);
                } else {
                    part.merge(merged);
                    merged = part;
                }
            }
            prop_assert!(merged == whole);
            merged.compact();
            prop_assert_eq!(merged.times, whole.times.clone());
            prop_assert_eq!(merged.sizes, whole.sizes.clone());
        }
    }
}
