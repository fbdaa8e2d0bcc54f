//! The packed-heap walk of [`super`] on AVX-512: eight rows per instruction.
//!
//! This is the crate's only `unsafe` code, and it is confined to this module: calling a
//! function compiled for AVX-512 (allowed only after the CPU was seen to support it), the
//! loads and gathers from slices whose bounds are checked before the loop, and the four
//! register-only instructions of a step, written in assembly.
//!
//! A block of eight rows' packed ranks fills one 512-bit register, as do their eight slot
//! indexes. A level is the scalar step of [`super`] on all eight lanes at once: fetch the slot
//! values U[k], add the ranks, test the lanes' top bits into a mask register (at most one is
//! set per lane), double the indexes and add one where the mask is set. The slot value of the
//! root is broadcast; those of levels 1 to 5 (slots 2 to 63) stay in eight registers and are
//! fetched with two-table permutes (`vpermt2q` reads an index's low four bits, so levels 1-3
//! use slots 0-15, level 4 slots 16-31, and level 5 blends two permutes by bit 4). Level 6
//! blends four permutes of slots 64-127 by bits 4 and 5 (its tables read from the heap or the
//! stack); deeper levels and the leaf values are gathered.
//! Eight blocks are walked together so that their chains overlap.
//!
//! The walk is bound by the vector units' throughput, so instruction count matters: the step
//! is four instructions of assembly (add, test, add, masked subtract of -1), where intrinsics
//! compile the mask-add to six (test, mask to all-ones, shift, add, or).
//!
//! The comparisons, leaf values and per-row order of additions are those of the scalar walk,
//! so the sums are bit-identical.

#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m512i, _mm512_add_pd, _mm512_i64gather_epi64, _mm512_i64gather_pd, _mm512_loadu_epi64,
    _mm512_loadu_pd, _mm512_mask_blend_epi64, _mm512_permutex2var_epi64, _mm512_set1_epi64,
    _mm512_storeu_pd, _mm512_test_epi64_mask,
};

use super::TOP;
use crate::iforest::tree::HEAP_MAX_DEPTH;

/// Rows in a block: the lanes of a 512-bit register of `u64`.
pub const BLOCK: usize = 8;

/// Slots held in registers: the first six levels of a heap.
const REGISTER_SLOTS: usize = 64;

/// Whether this CPU runs AVX-512 (F) code (the answer is cached by the standard library).
pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// Adds the path lengths of the packed `rows` in the heap `u` of depth `D` to `acc`, exactly as
/// the scalar walk does.
///
/// # Panics
/// If the CPU lacks AVX-512, if `u` has fewer than 2^(D+1) or 64 slots, or if `rows` and `acc`
/// differ in length or are not whole blocks.
pub fn add_heap<const D: u32>(u: &[u64], rows: &[u64], acc: &mut [f64]) {
    assert!(available(), "AVX-512 walk on a CPU without AVX-512");
    assert!(
        u.len() >= (2 << D) && u.len() >= REGISTER_SLOTS,
        "heap of {} slots for depth {D}",
        u.len()
    );
    assert_eq!(rows.len(), acc.len(), "one accumulator per row");
    assert_eq!(rows.len() % BLOCK, 0, "whole blocks of rows");
    // SAFETY: the CPU supports AVX-512 F (checked above), and the lengths `walk` relies on
    // were checked above.
    unsafe { walk::<D>(u, rows, acc) }
}

/// Blocks walked together: their chains of dependent permutes and gathers overlap.
const INTERLEAVE: usize = 8;

/// [`add_heap`] after its checks: groups of [`INTERLEAVE`] blocks, then single blocks.
///
/// # Safety
/// The CPU must support AVX-512 F; `u` must have at least max(2^(D+1), 64) slots; `rows` and
/// `acc` must have the same length, a multiple of [`BLOCK`].
#[target_feature(enable = "avx512f")]
unsafe fn walk<const D: u32>(u: &[u64], rows: &[u64], acc: &mut [f64]) {
    let (row_groups, row_rest) = rows.as_chunks::<{ BLOCK * INTERLEAVE }>();
    let (acc_groups, acc_rest) = acc.as_chunks_mut::<{ BLOCK * INTERLEAVE }>();
    for (r, a) in row_groups.iter().zip(acc_groups) {
        // SAFETY: the CPU and u as the caller guarantees; r and a hold INTERLEAVE blocks.
        unsafe { walk_blocks::<D, INTERLEAVE>(u, r, a) };
    }
    let (row_blocks, _) = row_rest.as_chunks::<BLOCK>();
    let (acc_blocks, _) = acc_rest.as_chunks_mut::<BLOCK>();
    for (r, a) in row_blocks.iter().zip(acc_blocks) {
        // SAFETY: the CPU and u as the caller guarantees; r and a hold one block.
        unsafe { walk_blocks::<D, 1>(u, r, a) };
    }
}

/// Walks `B` blocks of rows: the first `B` x [`BLOCK`] entries of `rows` and `acc`.
///
/// # Safety
/// The CPU must support AVX-512 F; `u` must have at least max(2^(D+1), 64) slots; `rows` and
/// `acc` must have at least `B` x [`BLOCK`] entries.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn walk_blocks<const D: u32, const B: usize>(u: &[u64], rows: &[u64], acc: &mut [f64]) {
    let top = _mm512_set1_epi64(TOP as i64);
    let one = _mm512_set1_epi64(1);
    let minus_one = _mm512_set1_epi64(-1);
    let sixteen = _mm512_set1_epi64(16);
    let thirty_two = _mm512_set1_epi64(32);
    let base = u.as_ptr().cast::<i64>();
    // SAFETY: u has at least REGISTER_SLOTS slots.
    let tables: [__m512i; REGISTER_SLOTS / BLOCK] =
        std::array::from_fn(|i| unsafe { _mm512_loadu_epi64(base.add(BLOCK * i)) });
    // SAFETY: rows holds B blocks of 8 u64s.
    let r: [__m512i; B] =
        std::array::from_fn(|b| unsafe { _mm512_loadu_epi64(rows.as_ptr().add(BLOCK * b).cast()) });
    // one level down for every block
    let root = _mm512_set1_epi64(u[1] as i64);
    let descend = |level: u32, k: &mut [__m512i; B]| {
        for b in 0..B {
            let slot = match level {
                // every row starts at the root, slot 1
                0 => root,
                1..4 => _mm512_permutex2var_epi64(tables[0], k[b], tables[1]),
                4 => _mm512_permutex2var_epi64(tables[2], k[b], tables[3]),
                5 => {
                    // slots 32..48 or 48..64, by bit 4 of the index
                    let low = _mm512_permutex2var_epi64(tables[4], k[b], tables[5]);
                    let high = _mm512_permutex2var_epi64(tables[6], k[b], tables[7]);
                    _mm512_mask_blend_epi64(_mm512_test_epi64_mask(k[b], sixteen), low, high)
                }
                6 => {
                    // slots 64..128 in four pairs of registers loaded from u (D > 6, so u
                    // has at least 256 slots), picked by bits 4 and 5 of the index
                    // SAFETY: slots 64..128 are within u.
                    let t = |i: usize| unsafe { _mm512_loadu_epi64(base.add(64 + BLOCK * i)) };
                    let p0 = _mm512_permutex2var_epi64(t(0), k[b], t(1));
                    let p1 = _mm512_permutex2var_epi64(t(2), k[b], t(3));
                    let p2 = _mm512_permutex2var_epi64(t(4), k[b], t(5));
                    let p3 = _mm512_permutex2var_epi64(t(6), k[b], t(7));
                    let b4 = _mm512_test_epi64_mask(k[b], sixteen);
                    let b5 = _mm512_test_epi64_mask(k[b], thirty_two);
                    _mm512_mask_blend_epi64(
                        b5,
                        _mm512_mask_blend_epi64(b4, p0, p1),
                        _mm512_mask_blend_epi64(b4, p2, p3),
                    )
                }
                // SAFETY: k < 2^(level+1) <= u.len() in every lane (see below).
                _ => unsafe { _mm512_i64gather_epi64::<8>(k[b], base) },
            };
            // k = 2k + 1 where the sum has a top bit set (of its four 16-bit lanes at most
            // the split feature's can be), else 2k
            // SAFETY: register-only AVX-512 F instructions, which the CPU supports
            unsafe {
                std::arch::asm!(
                    "vpaddq {sum}, {r}, {slot}",
                    "vptestmq {right}, {sum}, {top}",
                    "vpaddq {k}, {k}, {k}",
                    "vpsubq {k} {{{right}}}, {k}, {minus_one}",
                    sum = out(zmm_reg) _,
                    right = out(kreg) _,
                    r = in(zmm_reg) r[b],
                    slot = in(zmm_reg) slot,
                    top = in(zmm_reg) top,
                    minus_one = in(zmm_reg) minus_one,
                    k = inout(zmm_reg) k[b],
                    options(pure, nomem, nostack),
                );
            }
        }
    };
    // after s levels every index is in [2^s, 2^(s+1)), so below 2^(D+1) <= u.len()
    let mut k = [one; B];
    // the levels written out, each resolved at compile time (a loop over the levels, which
    // the compiler keeps, measured 2% slower)
    macro_rules! levels {
        ($($level:literal)*) => {$(
            if $level < D {
                descend($level, &mut k);
            }
        )*};
    }
    levels!(0 1 2 3 4 5 6 7 8 9 10 11);
    const _: () = assert!(HEAP_MAX_DEPTH == 12, "one line above per level");
    for (b, k) in k.into_iter().enumerate() {
        // SAFETY: k < 2^(D+1) <= u.len(); acc holds B blocks of 8 f64s.
        unsafe {
            let leaf = _mm512_i64gather_pd::<8>(k, base.cast());
            let a = acc.as_mut_ptr().add(BLOCK * b);
            _mm512_storeu_pd(a, _mm512_add_pd(_mm512_loadu_pd(a), leaf));
        }
    }
}
