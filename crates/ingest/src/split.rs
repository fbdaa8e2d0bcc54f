//! Finds the field ends of plain delimited text (every separator and `\n`) 64 bytes at a time.
//!
//! A block of 64 bytes becomes a 64-bit mask with a bit set at each separator, and the
//! separators are read off the mask with trailing-zero counts. Searching for the next
//! separator field by field (`memchr2`) costs a call and a set-up per field; fields of a
//! CloudWatch export are about 12 bytes long, so the search barely vectorises (PERFORMANCE.md
//! has the measurements).
//!
//! On x86_64 a block's mask is four SSE2 compares and byte-mask moves: SSE2 is part of the
//! x86_64 baseline, so no CPU check is needed. This is the crate's only `unsafe` code: the
//! intrinsics are `unsafe` to call and the loads read 16 bytes at a time inside a 64-byte
//! array. Other targets compute the mask eight bytes at a time in plain integer arithmetic,
//! and the tests check both ways against each other.

/// Bytes per mask.
const BLOCK: usize = 64;

/// The positions of the separator and `\n` in `bytes`, in increasing order.
pub(crate) struct Separators<'a> {
    bytes: &'a [u8],
    separator: u8,
    /// Position of the block `mask` describes.
    base: usize,
    /// Separators of the block at `base` not yet returned.
    mask: u64,
}

impl<'a> Separators<'a> {
    pub(crate) fn new(bytes: &'a [u8], separator: u8) -> Self {
        Self {
            bytes,
            separator,
            base: 0,
            mask: block_mask(bytes, separator),
        }
    }

    /// Moves on to the separators at or after `pos`, which must be after every separator
    /// returned so far.
    #[inline]
    pub(crate) fn skip_to(&mut self, pos: usize) {
        if pos >= self.base + BLOCK {
            // blocks stay at multiples of BLOCK from the start
            self.base = pos - pos % BLOCK;
            if self.base >= self.bytes.len() {
                self.mask = 0;
                return;
            }
            self.mask = block_mask(&self.bytes[self.base..], self.separator);
        }
        self.mask &= u64::MAX << (pos - self.base);
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += BLOCK;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = block_mask(&self.bytes[self.base..], self.separator);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// Separator mask of the first 64 bytes of `bytes` (a shorter tail is padded with zeros, which
/// are never a separator).
#[inline]
fn block_mask(bytes: &[u8], separator: u8) -> u64 {
    match bytes.first_chunk::<BLOCK>() {
        Some(block) => separator_mask(block, separator),
        None => {
            let mut block = [0; BLOCK];
            block[..bytes.len()].copy_from_slice(bytes);
            // bytes.len() < BLOCK, so the shift is below 64
            let valid = match bytes.len() {
                0 => 0,
                n => u64::MAX >> (BLOCK - n),
            };
            separator_mask(&block, separator) & valid
        }
    }
}

#[cfg(target_arch = "x86_64")]
use sse2_mask as separator_mask;

#[cfg(not(target_arch = "x86_64"))]
use word_mask as separator_mask;

/// Bit `i` set where `block[i]` is `separator` or `\n`: SSE2 compares.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline]
fn sse2_mask(block: &[u8; BLOCK], separator: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut mask = 0;
    // SAFETY: SSE2 is in every x86_64 CPU (the target's baseline features); each unaligned
    // load reads bytes 16k..16k+16 of the 64-byte array.
    unsafe {
        let comma = _mm_set1_epi8(separator as i8);
        let newline = _mm_set1_epi8(b'\n' as i8);
        for k in 0..BLOCK / 16 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
            let hits = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, newline));
            mask |= u64::from(_mm_movemask_epi8(hits) as u16) << (16 * k);
        }
    }
    mask
}

/// Bit `i` set where `block[i]` is `separator` or `\n`: eight bytes at a time in integer
/// arithmetic.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn word_mask(block: &[u8; BLOCK], separator: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // the top bit of each zero byte of `x`, exactly (no borrow between bytes)
    let zero_bytes = |x: u64| !((x & LOW7).wrapping_add(LOW7) | x | LOW7);
    let mut mask = 0;
    for (k, word) in block.as_chunks::<8>().0.iter().enumerate() {
        let word = u64::from_le_bytes(*word);
        let hits = zero_bytes(word ^ (ONES * u64::from(separator)))
            | zero_bytes(word ^ (ONES * u64::from(b'\n')));
        // gather the eight top bits (bits 7, 15, .., 63) into one byte, byte i to bit i
        let byte = (hits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= byte << (8 * k);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(bytes: &[u8]) -> Vec<usize> {
        expected_with(bytes, b',')
    }

    fn expected_with(bytes: &[u8], separator: u8) -> Vec<usize> {
        (0..bytes.len())
            .filter(|&i| bytes[i] == separator || bytes[i] == b'\n')
            .collect()
    }

    #[test]
    fn any_separator_byte() {
        let text: Vec<u8> = b"a\tb c,d\n\te f\t\n"
            .iter()
            .copied()
            .cycle()
            .take(300)
            .collect();
        for separator in [b'\t', b' ', b',', b'|'] {
            for len in [0, 1, 63, 64, 65, 200, 300] {
                let bytes = &text[..len];
                let got: Vec<usize> = Separators::new(bytes, separator).collect();
                assert_eq!(got, expected_with(bytes, separator));
            }
        }
    }

    #[test]
    fn every_separator_in_order_at_any_length() {
        let line = b"16662,17560,2024-04-25T23:00:00Z,104.129.23.198,,US\n\xc3\xa9,\r\n,,";
        let text: Vec<u8> = line.iter().copied().cycle().take(700).collect();
        for len in 0..text.len() {
            let bytes = &text[..len];
            assert_eq!(
                Separators::new(bytes, b',').collect::<Vec<_>>(),
                expected(bytes)
            );
        }
    }

    #[test]
    fn skipping_ahead_finds_the_separators_from_there() {
        let line = b"16662,17560,2024-04-25T23:00:00Z,104.129.23.198,,US\n";
        let text: Vec<u8> = line.iter().copied().cycle().take(300).collect();
        let all = expected(&text);
        for read in 0..=all.len() {
            // `read` separators returned, then a jump to each later position
            let from = if read == 0 { 0 } else { all[read - 1] + 1 };
            for to in from..=text.len() {
                let mut seps = Separators::new(&text, b',');
                assert!(seps.by_ref().take(read).eq(all[..read].iter().copied()));
                seps.skip_to(to);
                let want: Vec<usize> = all.iter().copied().filter(|&i| i >= to).collect();
                assert_eq!(seps.collect::<Vec<_>>(), want, "after {read}, to {to}");
            }
        }
    }

    #[test]
    fn both_masks_agree_on_every_byte_value() {
        // every byte value at every position, with separators beside them
        for value in 0..=255u8 {
            for at in 0..BLOCK {
                let mut block = [b'x'; BLOCK];
                block[at] = value;
                block[(at + 1) % BLOCK] = b',';
                block[(at + 7) % BLOCK] = b'\n';
                assert_eq!(word_mask(&block, b','), separator_mask(&block, b','));
                assert_eq!(word_mask(&block, 0), separator_mask(&block, 0));
                let mut want = 0u64;
                for i in expected(&block) {
                    want |= 1 << i;
                }
                assert_eq!(separator_mask(&block, b','), want);
            }
        }
    }
}
