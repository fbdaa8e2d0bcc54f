//! Scoring forests of at most four features on packed ranks (SIMD within a register).
//!
//! The trees of a group (consecutive trees, normally the whole forest) are scored on *ranks*:
//! per feature, the distinct split thresholds of the group are sorted, and the rank of a value
//! x is the number of them below x. For the r-th smallest threshold t (from 0), `x > t` exactly
//! when `rank(x) >= r + 1`, so comparisons of ranks give the same answers as comparisons of
//! values, NaN included (rank 0, never greater). With at most 32767 thresholds per feature a
//! rank fits in 15 bits, and the ranks of a row's (at most) four features fill the four 16-bit
//! lanes of one `u64` R, the top bit of every lane clear.
//!
//! Each tree's implicit complete binary tree (its heap layout, see [`super::tree`]) is
//! recoded: a split slot on feature f with the r-th threshold stores
//! `U = (0x7FFF - r) << 16 f`. In R + U lane f holds `rank(x_f) + 0x7FFF - r`, whose top bit is
//! set exactly when `x_f > t`; it stays below 2^16, so no lane carries into the next, and the
//! other lanes keep their top bit clear. A step is therefore `k = 2k + ((R + U[k]) & TOP != 0)`:
//! one load that depends on k (the key layout of [`Tree`] needs three, two of them chained) and
//! four integer operations (add, test, set, shift-add). Pass-through slots hold U = 0 (every
//! row goes left) and leaf slots the bits of the path length.
//!
//! A row's ranks are computed once per group, shared by all its trees: each feature's sorted
//! thresholds are indexed by buckets (`RankTable`), leaving a short
//! branch-free binary search within one bucket. The walk is compiled for each depth (0 to 12)
//! with its steps written out, so that indexes need neither masks nor bounds checks, and
//! consecutive trees of equal depth are walked together over four rows: eight independent
//! chains whose indexes and rows almost fit in registers. Trees that do not fit (deeper than
//! 12) are walked on their nodes.
//!
//! On CPUs with AVX-512 the same walk runs on eight rows per instruction ([`avx512`]), one
//! tree at a time; [`Walk`] names the two.
//!
//! Comparisons on ranks equal comparisons on values and the leaf values are the nodes' own, so
//! path lengths are bit-identical to [`Tree::path_length`] on either walk; every row adds its
//! trees in index order.

use super::tree::{HeapView, Tree, key, key_value};
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
pub mod avx512;

/// How packed heaps are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Walk {
    /// Portable code: four rows through two trees at a time.
    Scalar,
    /// Eight rows per instruction, one tree at a time ([`avx512`]); x86-64 CPUs with AVX-512 F.
    Avx512,
}

impl Walk {
    /// The walks this CPU can run, fastest last.
    pub fn supported() -> Vec<Walk> {
        let mut walks = vec![Walk::Scalar];
        #[cfg(target_arch = "x86_64")]
        if avx512::available() {
            walks.push(Walk::Avx512);
        }
        walks
    }

    /// The fastest walk this CPU can run.
    pub fn fastest() -> Walk {
        *Walk::supported()
            .last()
            .expect("the scalar walk runs everywhere")
    }
}

/// Rows walked through a tree together (pairs of trees take half as many).
const LANES: usize = 8;

/// Most features a forest may have to be scored on packed ranks.
pub const MAX_FEATURES: usize = 4;

/// Most distinct thresholds of one feature in a group (ranks must fit in 15 bits).
const MAX_THRESHOLDS: usize = 0x7FFF;

/// The top bit of every 16-bit lane.
const TOP: u64 = 0x8000_8000_8000_8000;

/// Packed-rank scoring data of a forest, derived from its trees.
#[derive(Clone, PartialEq)]
pub struct PackedForest {
    groups: Vec<Group>,
}

impl std::fmt::Debug for PackedForest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackedForest({} groups)", self.groups.len())
    }
}

/// Trees `start..start + heaps.len()` of the forest with their rank tables.
#[derive(Clone, PartialEq)]
struct Group {
    start: usize,
    /// Per feature (`MAX_FEATURES` of them), its thresholds.
    ranks: [RankTable; MAX_FEATURES],
    /// Searches within a bucket take `steps` steps (the same for every feature).
    steps: u32,
    /// Per tree, its packed heap, or `None` when the tree is walked on its nodes.
    heaps: Vec<Option<PackedHeap>>,
}

#[derive(Clone, PartialEq)]
enum PackedHeap {
    /// Depth <= 8.
    Small(Packed<512>),
    /// Depth 9..=12.
    Large(Packed<8192>),
}

/// A tree's heap recoded in `N` >= 2^(depth + 1) slots: U of split and pass-through slots, bits
/// of the path length of leaf slots.
#[derive(Clone, PartialEq)]
struct Packed<const N: usize> {
    depth: u32,
    value: Box<[u64; N]>,
}

impl PackedForest {
    /// Packed-rank data for `trees` splitting on `d` <= [`MAX_FEATURES`] features, or `None`
    /// if d is larger (trees splitting on a feature >= d are left to their own layout).
    pub fn build(trees: &[Tree], d: usize) -> Option<PackedForest> {
        if d == 0 || d > MAX_FEATURES {
            return None;
        }
        let heaps: Vec<Option<HeapView<'_>>> = trees
            .iter()
            .map(|t| t.heap().filter(|h| h.feature_bound <= d))
            .collect();
        let mut groups = Vec::new();
        let mut start = 0;
        while start < trees.len() {
            // extend the group while every feature has at most MAX_THRESHOLDS splits (counting
            // repeated thresholds; a single tree of depth <= 12 has at most 4095)
            let mut counts = [0usize; MAX_FEATURES];
            let mut end = start;
            while end < trees.len() {
                let mut c = counts;
                for (f, _) in heaps[end].iter().flat_map(splits) {
                    c[f] += 1;
                }
                if end > start && c.iter().any(|&n| n > MAX_THRESHOLDS) {
                    break;
                }
                counts = c;
                end += 1;
            }
            groups.push(Group::build(start, &heaps[start..end]));
            start = end;
        }
        Some(PackedForest { groups })
    }

    /// Adds the path lengths in every tree of the row-major `rows` (`d` columns) to `acc` (one
    /// entry per row), tree by tree in index order, as [`Tree::add_path_lengths`] would, on the
    /// `walk` given (which this CPU must support, see [`Walk::supported`]).
    pub fn add_path_lengths(
        &self,
        walk: Walk,
        trees: &[Tree],
        rows: &[f64],
        d: usize,
        acc: &mut [f64],
    ) {
        let n = rows.len() / d;
        assert_eq!(acc.len(), n, "one accumulator per row");
        // whole blocks of LANES rows; the padding rows have rank 0 everywhere
        let padded = n.div_ceil(LANES) * LANES;
        let mut packed = vec![0u64; padded];
        let mut sums = acc.to_vec();
        sums.resize(padded, 0.0);
        for group in &self.groups {
            if group.heaps.iter().any(Option::is_some) {
                group.pack(rows, d, &mut packed[..n]);
            }
            let mut t = 0;
            while t < group.heaps.len() {
                if walk == Walk::Avx512
                    && let Some(heap) = &group.heaps[t]
                {
                    heap.add_avx512(&packed, &mut sums);
                    t += 1;
                    continue;
                }
                if let (Some(a), Some(Some(b))) = (&group.heaps[t], group.heaps.get(t + 1))
                    && a.add_pair(b, &packed, &mut sums)
                {
                    t += 2;
                    continue;
                }
                match &group.heaps[t] {
                    Some(heap) => heap.add(&packed, &mut sums),
                    // no heap: deeper than 12 (or splitting on a feature >= d), and then the
                    // tree has no heap of its own either
                    None => trees[group.start + t].add_path_lengths_nodes(rows, d, &mut sums[..n]),
                }
                t += 1;
            }
        }
        acc.copy_from_slice(&sums[..n]);
    }
}

/// (feature, threshold key) of the split slots of a heap (pass-throughs, and splits on a NaN
/// threshold, send every row left and are left out).
fn splits<'a>(h: &'a HeapView<'_>) -> impl Iterator<Item = (usize, u64)> + 'a {
    let internal = 1..1 << h.depth;
    (h.value[internal.clone()].iter().zip(&h.feature[internal]))
        .filter(|&(&v, _)| v != u64::MAX)
        .map(|(&v, &f)| (f as usize, v))
}

impl Group {
    fn build(start: usize, heaps: &[Option<HeapView<'_>>]) -> Group {
        let mut thresholds: [Vec<u64>; MAX_FEATURES] = Default::default();
        for (f, k) in heaps.iter().flatten().flat_map(splits) {
            thresholds[f].push(k);
        }
        // the features' tables (sorting their thresholds) are independent
        let mut ranks: [RankTable; MAX_FEATURES] = Default::default();
        ranks
            .par_iter_mut()
            .zip(thresholds.into_par_iter())
            .for_each(|(r, keys)| *r = RankTable::new(keys));
        let steps = ranks.iter().map(|r| r.steps).max().unwrap_or(0);
        let ranks = ranks.map(|r| r.padded(steps));
        let heaps = heaps
            .par_iter()
            .map(|h| {
                let h = h.as_ref()?;
                let internal = 1usize << h.depth;
                let u = h
                    .value
                    .iter()
                    .zip(h.feature)
                    .enumerate()
                    .map(|(k, (&v, &f))| {
                        if k >= internal {
                            v // leaf: the bits of its path length
                        } else if v == u64::MAX {
                            0 // every row goes left
                        } else {
                            // the rank of a threshold is its index among the thresholds
                            let r = ranks[f as usize].rank(key_value(v), steps);
                            (0x7FFF - r as u64) << (16 * f)
                        }
                    });
                Some(if h.depth <= 8 {
                    PackedHeap::Small(Packed::new(h.depth, u))
                } else {
                    PackedHeap::Large(Packed::new(h.depth, u))
                })
            })
            .collect();
        Group {
            start,
            ranks,
            steps,
            heaps,
        }
    }

    /// Writes the packed ranks of every row of the row-major `rows` (`d` columns) to `out`.
    fn pack(&self, rows: &[f64], d: usize, out: &mut [u64]) {
        match d {
            1 => self.pack_d::<1>(rows, out),
            2 => self.pack_d::<2>(rows, out),
            3 => self.pack_d::<3>(rows, out),
            _ => self.pack_d::<4>(rows, out),
        }
    }

    fn pack_d<const D: usize>(&self, rows: &[f64], out: &mut [u64]) {
        let (rows, _) = rows.as_chunks::<D>();
        let tables: [&RankTable; D] = std::array::from_fn(|f| &self.ranks[f]);
        for (o, row) in out.iter_mut().zip(rows) {
            // the searches of the features are independent and overlap their loads
            let x: [u64; D] = row.map(key);
            let mut base: [usize; D] = std::array::from_fn(|f| tables[f].start(x[f]));
            for step in (0..self.steps).rev() {
                for f in 0..D {
                    // branch-free: the comparisons are unpredictable
                    let below = tables[f].keys[base[f] + (1 << step) - 1] < x[f];
                    base[f] += usize::from(below) << step;
                }
            }
            let mut packed = 0;
            for f in 0..D {
                let rank = base[f] + usize::from(tables[f].keys[base[f]] < x[f]);
                packed |= (rank as u64) << (16 * f);
            }
            *o = packed;
        }
    }
}

/// The distinct thresholds of one feature in a group, sorted, with a bucket index: a value's
/// rank is the number of thresholds in lower buckets plus a short search in its own.
///
/// Buckets are cut in the order of keys ([`key`], which orders values), binade by binade (the
/// sign and exponent bits of a key), from the smallest threshold's binade to the largest's.
/// The mantissa bits from a binade's smallest threshold to its largest are cut into equal
/// parts, as many as needed for at most two thresholds per part (up to sixteen parts per
/// threshold). A key's bucket is its binade's first bucket plus its part (0 below the
/// binade's smallest threshold, the last part above its largest): a monotone function of the
/// key. Keys below the smallest binade fall in bucket 0, those above the largest in a last,
/// empty bucket. Buckets by binade follow the features' long tails, which equal-width buckets
/// in value cannot.
#[derive(Clone, PartialEq, Default)]
struct RankTable {
    /// Binade of the smallest threshold.
    lo: u64,
    /// One entry for the keys below `lo`, one per binade from `lo` to the largest threshold's,
    /// one for the keys above.
    binades: Vec<Binade>,
    /// `start[b]`: number of thresholds in buckets below b.
    start: Vec<u32>,
    /// Sorted distinct threshold keys, then `u64::MAX` padding.
    keys: Vec<u64>,
    /// Number of thresholds.
    len: usize,
    /// Binary-search steps that cover the largest bucket: 2^steps > its size.
    steps: u32,
}

/// How the keys of one binade are cut into buckets.
#[derive(Clone, Copy, PartialEq, Default)]
struct Binade {
    /// Mantissa bits of its smallest threshold.
    from: u64,
    /// Its first bucket.
    first: u32,
    /// Its number of parts - 1.
    last: u32,
    /// The shift of (mantissa bits - `from`) to a part.
    shift: u32,
}

/// Mantissa bits of a key: those below its binade.
const MANTISSA_BITS: u32 = 52;

/// The mantissa bits of a key.
fn mantissa(k: u64) -> u64 {
    k & ((1 << MANTISSA_BITS) - 1)
}

impl Binade {
    /// The part of the key with mantissa bits `m`.
    #[inline]
    fn part(&self, m: u64) -> usize {
        (m.saturating_sub(self.from) >> self.shift).min(u64::from(self.last)) as usize
    }

    /// The cut of a binade for its sorted keys (none: one part) and its first bucket: parts for at
    /// most two keys each, if at most sixteen parts per key do it.
    fn cut(keys: &[u64], first: u32) -> Binade {
        let (Some(&lo), Some(&hi)) = (keys.first(), keys.last()) else {
            return Binade {
                first,
                ..Binade::default()
            };
        };
        let from = mantissa(lo);
        let span = mantissa(hi) - from;
        let bits = |n: u64| u64::BITS - n.leading_zeros();
        // about two parts per key to begin with
        let mut shift = bits(span).saturating_sub(bits(2 * keys.len() as u64));
        loop {
            let binade = Binade {
                from,
                first,
                last: (span >> shift) as u32,
                shift,
            };
            let largest = keys
                .chunk_by(|&a, &b| binade.part(mantissa(a)) == binade.part(mantissa(b)))
                .map(<[u64]>::len)
                .max()
                .unwrap_or(0);
            if largest <= 2 || shift == 0 || u64::from(binade.last) >= 16 * keys.len() as u64 {
                return binade;
            }
            shift -= 1;
        }
    }
}

impl RankTable {
    /// The table of the thresholds with these keys (any order, repeats allowed, no NaN).
    fn new(mut keys: Vec<u64>) -> RankTable {
        keys.sort_unstable();
        keys.dedup();
        let lo = keys.first().map_or(0, |k| k >> MANTISSA_BITS);
        let hi = keys.last().map_or(0, |k| k >> MANTISSA_BITS);
        let mut binades = vec![Binade::default()];
        let mut buckets = 0;
        let mut rest = &keys[..];
        for binade in lo..=hi {
            let here = rest.partition_point(|k| k >> MANTISSA_BITS == binade);
            let cut = Binade::cut(&rest[..here], buckets);
            buckets += cut.last + 1;
            binades.push(cut);
            rest = &rest[here..];
        }
        binades.push(Binade {
            first: buckets,
            ..Binade::default()
        });
        let mut table = RankTable {
            lo,
            binades,
            start: vec![0; buckets as usize + 2],
            len: keys.len(),
            keys,
            steps: 0,
        };
        for &k in &table.keys {
            let b = table.bucket(k);
            table.start[b + 1] += 1;
        }
        let largest = table.start.iter().copied().max().unwrap_or(0);
        for b in 1..table.start.len() {
            table.start[b] += table.start[b - 1];
        }
        table.steps = u32::BITS - largest.leading_zeros();
        table
    }

    /// The table with enough `u64::MAX` padding for searches of `steps` steps.
    fn padded(mut self, steps: u32) -> RankTable {
        self.keys.resize(self.len + (1 << steps), u64::MAX);
        self
    }

    /// The bucket of key `k`.
    #[inline]
    fn bucket(&self, k: u64) -> usize {
        // the entry below the smallest binade, the binade's, or the one above the largest
        let at = (k >> MANTISSA_BITS) as i64 - self.lo as i64 + 1;
        let binade = &self.binades[at.clamp(0, self.binades.len() as i64 - 1) as usize];
        binade.first as usize + binade.part(mantissa(k))
    }

    /// Number of thresholds in the buckets below the one of key `k`.
    #[inline]
    fn start(&self, k: u64) -> usize {
        self.start[self.bucket(k)] as usize
    }

    /// Number of thresholds below `x`, searching windows of 2^`steps` (of a padded table).
    fn rank(&self, x: f64, steps: u32) -> usize {
        let x_key = key(x);
        let mut base = self.start(x_key);
        for step in (0..steps).rev() {
            base += usize::from(self.keys[base + (1 << step) - 1] < x_key) << step;
        }
        base + usize::from(self.keys[base] < x_key)
    }
}

impl<const N: usize> Packed<N> {
    /// The heap of `depth` <= log2(N) - 1 with the given slot values.
    fn new(depth: u32, u: impl Iterator<Item = u64>) -> Self {
        let mut value = Box::new([0u64; N]);
        for (v, u) in value.iter_mut().zip(u) {
            *v = u;
        }
        Packed { depth, value }
    }
}

/// Runs `$body` with the const `$d` equal to `$depth`, one of the listed depths.
macro_rules! with_depth {
    ($depth:expr, $d:ident, [$($n:literal),*], $body:expr) => {
        match $depth {
            $($n => {
                const $d: u32 = $n;
                $body
            })*
            depth => unreachable!("heap of depth {depth}"),
        }
    };
}

impl PackedHeap {
    /// Adds the path lengths of the packed `rows` to `acc` (same length, a multiple of
    /// [`LANES`]).
    fn add(&self, rows: &[u64], acc: &mut [f64]) {
        match self {
            PackedHeap::Small(h) => with_depth!(h.depth, D, [0, 1, 2, 3, 4, 5, 6, 7, 8], {
                add_single::<512, D>(&h.value, rows, acc)
            }),
            PackedHeap::Large(h) => with_depth!(h.depth, D, [9, 10, 11, 12], {
                add_single::<8192, D>(&h.value, rows, acc)
            }),
        }
    }

    /// Like `self.add`, on the AVX-512 walk (which the CPU must support).
    fn add_avx512(&self, rows: &[u64], acc: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        match self {
            PackedHeap::Small(h) => with_depth!(h.depth, D, [0, 1, 2, 3, 4, 5, 6, 7, 8], {
                avx512::add_heap::<D>(&h.value[..], rows, acc)
            }),
            PackedHeap::Large(h) => with_depth!(h.depth, D, [9, 10, 11, 12], {
                avx512::add_heap::<D>(&h.value[..], rows, acc)
            }),
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (rows, acc);
            unreachable!("the AVX-512 walk needs x86-64");
        }
    }

    /// Like `self.add` then `next.add` if both trees have the same depth (else adds nothing
    /// and returns false).
    fn add_pair(&self, next: &PackedHeap, rows: &[u64], acc: &mut [f64]) -> bool {
        match (self, next) {
            (PackedHeap::Small(a), PackedHeap::Small(b)) if a.depth == b.depth => {
                with_depth!(a.depth, D, [0, 1, 2, 3, 4, 5, 6, 7, 8], {
                    add_pair::<512, D>(&a.value, &b.value, rows, acc)
                })
            }
            (PackedHeap::Large(a), PackedHeap::Large(b)) if a.depth == b.depth => {
                with_depth!(a.depth, D, [9, 10, 11, 12], {
                    add_pair::<8192, D>(&a.value, &b.value, rows, acc)
                })
            }
            _ => return false,
        }
        true
    }
}

/// Adds the path lengths of the packed `rows` in a tree of depth `D` (`N` >= 2^(D+1) slots) to
/// `acc` (same length, a multiple of [`LANES`]). Not inlined, so that register allocation sees
/// only this loop.
#[inline(never)]
fn add_single<const N: usize, const D: u32>(u: &[u64; N], rows: &[u64], acc: &mut [f64]) {
    let (blocks, _) = rows.as_chunks::<LANES>();
    let (accs, _) = acc.as_chunks_mut::<LANES>();
    for (r, acc) in blocks.iter().zip(accs) {
        let mut k = [1u32; LANES];
        walk::<N, D, LANES>(u, r, &mut k, None);
        for (a, k) in acc.iter_mut().zip(k) {
            *a += f64::from_bits(u[k as usize]);
        }
    }
}

/// [`add_single`] for tree `a` then tree `b` (both of depth `D`): four rows walked through both
/// trees give eight independent chains whose indexes and rows fit in registers.
#[inline(never)]
fn add_pair<const N: usize, const D: u32>(
    a: &[u64; N],
    b: &[u64; N],
    rows: &[u64],
    acc: &mut [f64],
) {
    const ROWS: usize = LANES / 2;
    let (blocks, _) = rows.as_chunks::<ROWS>();
    let (accs, _) = acc.as_chunks_mut::<ROWS>();
    for (r, acc) in blocks.iter().zip(accs) {
        let mut ka = [1u32; ROWS];
        let mut kb = [1u32; ROWS];
        walk::<N, D, ROWS>(a, r, &mut ka, Some((b, &mut kb)));
        for ((acc, ka), kb) in acc.iter_mut().zip(ka).zip(kb) {
            *acc += f64::from_bits(a[ka as usize]);
            *acc += f64::from_bits(b[kb as usize]);
        }
    }
}

/// Walks the rows `D` steps down the tree `u` (and `other`, step by step alongside). The steps
/// are written out under constant conditions rather than looped: after s steps an index is
/// below 2^(s+1) <= `N`, which the compiler can then see, so it needs neither index masks nor
/// bounds checks.
#[inline(always)]
fn walk<const N: usize, const D: u32, const L: usize>(
    u: &[u64; N],
    rows: &[u64; L],
    k: &mut [u32; L],
    mut other: Option<(&[u64; N], &mut [u32; L])>,
) {
    if D > 0 {
        steps(u, rows, k, &mut other);
    }
    if D > 1 {
        steps(u, rows, k, &mut other);
    }
    if D > 2 {
        steps(u, rows, k, &mut other);
    }
    if D > 3 {
        steps(u, rows, k, &mut other);
    }
    if D > 4 {
        steps(u, rows, k, &mut other);
    }
    if D > 5 {
        steps(u, rows, k, &mut other);
    }
    if D > 6 {
        steps(u, rows, k, &mut other);
    }
    if D > 7 {
        steps(u, rows, k, &mut other);
    }
    if D > 8 {
        steps(u, rows, k, &mut other);
    }
    if D > 9 {
        steps(u, rows, k, &mut other);
    }
    if D > 10 {
        steps(u, rows, k, &mut other);
    }
    if D > 11 {
        steps(u, rows, k, &mut other);
    }
}

/// One step of every lane in `u` and, if given, in `other`.
#[inline(always)]
fn steps<const N: usize, const L: usize>(
    u: &[u64; N],
    rows: &[u64; L],
    k: &mut [u32; L],
    other: &mut Option<(&[u64; N], &mut [u32; L])>,
) {
    step(u, rows, k);
    if let Some((u, k)) = other {
        step(u, rows, k);
    }
}

/// One step of every lane: `k = 2k + (the lane's row goes right at slot k)`. Indexes are
/// `u32`, which keeps the compiler from spending instructions on 32-bit address arithmetic.
#[inline(always)]
fn step<const N: usize, const L: usize>(u: &[u64; N], rows: &[u64; L], k: &mut [u32; L]) {
    for (r, k) in rows.iter().zip(k.iter_mut()) {
        *k = 2 * *k + u32::from(r.wrapping_add(u[*k as usize]) & TOP != 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iforest::IsolationForestModel;
    use crate::iforest::tree::tests::probe_rows;
    use crate::iforest::tree::{HEAP_MAX_DEPTH, threshold_key};
    use crate::iforest::{IsolationForestParams, MaxFeatures, MaxSamples};
    use crate::sampling;
    use rand::RngExt;

    fn forest(d: usize, n: usize, params: &IsolationForestParams, seed: u64) -> Vec<Tree> {
        let mut rng = sampling::stream(seed, 5);
        let values: Vec<f64> = (0..n * d)
            .map(|_| (0..3).map(|_| rng.random::<f64>()).sum::<f64>() - 1.5)
            .collect();
        let model = IsolationForestModel::fit(params, "t", &values, d, seed).unwrap();
        model.trees().to_vec()
    }

    /// Packed scoring gives exactly the in-order sum of `path_length` over the trees.
    fn check(trees: &[Tree], d: usize, seed: u64) -> PackedForest {
        let packed = PackedForest::build(trees, d).expect("at most four features");
        let refs: Vec<&Tree> = trees.iter().collect();
        let rows = probe_rows(&refs, d, 1001, seed);
        for walk in Walk::supported() {
            let mut acc = vec![0.0; rows.len() / d];
            packed.add_path_lengths(walk, trees, &rows, d, &mut acc);
            for (row, a) in rows.chunks_exact(d).zip(&acc) {
                let want = trees.iter().fold(0.0, |sum, t| sum + t.path_length(row));
                assert_eq!(a.to_bits(), want.to_bits(), "{walk:?}, row {row:?}");
            }
        }
        packed
    }

    fn params(trees: usize, max_samples: usize) -> IsolationForestParams {
        IsolationForestParams {
            n_estimators: trees,
            max_samples: MaxSamples::Count(max_samples),
            ..Default::default()
        }
    }

    #[test]
    fn packed_walk_equals_path_lengths() {
        // (d, rows, trees, psi): depth 0, 4, 6, 7 (the AVX-512 walk's last register level
        // and first permuted one), 8 (pairs and an odd tree), 10 (large heaps)
        for (i, &(d, n, trees, psi)) in [
            (1, 300, 3, 1),
            (2, 300, 5, 10),
            (3, 1000, 3, 64),
            (2, 1000, 5, 100),
            (3, 2000, 7, 256),
            (4, 2000, 11, 256),
            (4, 3000, 4, 600),
        ]
        .iter()
        .enumerate()
        {
            let trees = forest(d, n, &params(trees, psi), i as u64);
            let packed = check(&trees, d, i as u64);
            assert!(packed.groups[0].heaps.iter().all(Option::is_some));
        }
    }

    #[test]
    fn feature_subsets_and_ties() {
        let p = IsolationForestParams {
            max_features: MaxFeatures::Count(2),
            ..params(9, 256)
        };
        let mut trees = forest(4, 1000, &p, 9);
        // coarse values: thresholds on ties, constant features, shallow leaves
        let mut rng = sampling::stream(3, 3);
        let values: Vec<f64> = (0..800 * 3)
            .map(|_| rng.random_range(0..4) as f64)
            .collect();
        let model = IsolationForestModel::fit(&params(6, 256), "t", &values, 3, 1).unwrap();
        check(model.trees(), 3, 3);
        // a forest whose trees are not all of one depth
        trees.extend(forest(4, 1000, &params(3, 40), 4));
        check(&trees, 4, 9);
    }

    #[test]
    fn deep_trees_and_many_thresholds_split_into_groups() {
        // one feature, 4096 samples: thousands of thresholds per tree, several groups
        let trees = forest(1, 5000, &params(40, 4096), 2);
        let packed = check(&trees, 1, 2);
        assert!(packed.groups.len() > 1, "{} groups", packed.groups.len());
        // deeper than 12: those trees are walked on their nodes
        let trees = forest(2, 20000, &params(3, 20000), 6);
        assert!(trees.iter().all(|t| t.depth() > HEAP_MAX_DEPTH));
        let packed = check(&trees, 2, 6);
        assert!(
            packed
                .groups
                .iter()
                .all(|g| g.heaps.iter().all(Option::is_none))
        );
    }

    #[test]
    fn ranks_count_the_thresholds_below() {
        let thresholds = [
            f64::NEG_INFINITY,
            -3.0,
            -0.0,
            0.0,
            1e-300,
            0.5,
            0.5,
            0.5f64.next_up(),
            2.0,
            1e308,
            f64::INFINITY,
        ];
        let values = thresholds
            .iter()
            .flat_map(|&t| [t, t.next_up(), t.next_down(), -t])
            .chain([f64::NAN, -f64::NAN, 7.0, -1e-320]);
        for n in [0, 1, 2, 3, thresholds.len()] {
            let table = RankTable::new(thresholds[..n].iter().map(|&t| threshold_key(t)).collect())
                .padded(4);
            for x in values.clone() {
                let kx = key(x);
                let base = table.start(kx);
                let below = table.keys[..table.len].iter().filter(|&&k| k < kx).count();
                // the bucket's search window holds the answer
                let window = &table.keys[base..base + (1 << table.steps)];
                let rank = base + window.iter().filter(|&&k| k < kx).count();
                assert_eq!(rank, below, "{n} thresholds, x = {x}");
            }
        }
    }

    #[test]
    fn long_tailed_thresholds_need_short_searches() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        // thresholds spread over many binades (as a long-tailed feature's are), a third of
        // them clustered in 5% of a binade; then the same with the cluster a billionth wide,
        // which takes longer searches but still finds every rank
        for (width, most_steps) in [(0.05, 3), (1e-9, 10)] {
            let mut thresholds: Vec<f64> = (0..3000)
                .map(|i| match i % 3 {
                    0 => (uniform() * 30.0 - 10.0).exp(),
                    1 => -(uniform() * 5.0).exp(),
                    _ => 1.0 + uniform() * width,
                })
                .collect();
            thresholds.push(0.0);
            let table = RankTable::new(thresholds.iter().map(|&t| threshold_key(t)).collect());
            let steps = table.steps;
            assert!(steps <= most_steps, "{steps} steps, cluster {width} wide");
            let table = table.padded(steps);
            let sorted = &table.keys[..table.len];
            for &t in &thresholds {
                for x in [t, t.next_up(), t.next_down(), -t, t * 1.5, t / 3.0] {
                    let below = sorted.partition_point(|&k| k < key(x));
                    assert_eq!(table.rank(x, steps), below, "x = {x}");
                }
            }
        }
    }
}
