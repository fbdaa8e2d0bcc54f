//! Seeded random sampling that is portable bit for bit.
//!
//! The generator must produce byte-identical files for a seed on every platform and with every
//! future `rand` release, so all sampling here is written down explicitly on top of the raw
//! `u64` stream of ChaCha8: integer ranges by 128-bit multiply, floats from the top 53 bits,
//! normals by Marsaglia's polar method. The logarithm and exponential are computed with
//! plain IEEE-754 additions, multiplications and divisions (and `sqrt`, which IEEE-754 also
//! rounds exactly) instead of the platform `libm`, whose last-bit results may differ between
//! systems.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LN2: f64 = std::f64::consts::LN_2;

/// SplitMix64 step, used only to expand `(seed, stream)` into a 256-bit ChaCha key.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic sampler: one independent ChaCha8 stream per `(seed, stream)` pair.
pub(crate) struct Sampler {
    rng: ChaCha8Rng,
    spare_normal: Option<f64>,
}

impl Sampler {
    /// Creates the stream `stream` of `seed`; different streams are statistically independent.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut state = seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let mut key = [0u8; 32];
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        Self {
            rng: ChaCha8Rng::from_seed(key),
            spare_normal: None,
        }
    }

    /// A raw uniformly distributed `u64`.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform integer in `0..n` (`n > 0`; returns 0 for `n == 0`). Bias is below `n / 2^64`.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform integer in `lo..=hi` (`lo <= hi`).
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.below(hi - lo + 1)
    }

    /// Uniform `usize` index in `0..n`.
    #[inline]
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform float in `[0, 1)` with 53 random bits.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform float in `[lo, hi)`.
    #[inline]
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// `true` with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal deviate (Marsaglia polar method; the second deviate is cached).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.unit() - 1.0;
            let v = 2.0 * self.unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let factor = (-2.0 * ln(s) / s).sqrt();
                self.spare_normal = Some(v * factor);
                return u * factor;
            }
        }
    }

    /// Log-normal deviate with the given median and log-space standard deviation.
    #[inline]
    pub(crate) fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }

    /// Log-uniform deviate in `[lo, hi)` (`0 < lo <= hi`).
    #[inline]
    pub(crate) fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo * exp(ln(hi / lo) * self.unit())
    }

    /// Index drawn with probability proportional to the increments of `cumulative`
    /// (a non-decreasing table of running weight totals whose last entry is positive).
    pub(crate) fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative[cumulative.len() - 1];
        let target = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= target)
            .min(cumulative.len() - 1)
    }

    /// Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// Natural logarithm of a positive, finite, normal `x`, using only exactly rounded operations.
pub(crate) fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // Mantissa scaled into [1, 2).
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    // ln(m) = 2 atanh(s) with s = (m-1)/(m+1), |s| <= 0.172: odd power series.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    for _ in 0..12 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    exponent as f64 * LN2 + 2.0 * sum
}

/// `e^x` for finite `x` using only exactly rounded operations (saturates outside +-700).
pub(crate) fn exp(x: f64) -> f64 {
    let x = x.clamp(-700.0, 700.0);
    let k = (x / LN2).round();
    let r = x - k * LN2; // |r| <= ln2 / 2 (+ tiny rounding)
    // Taylor series of e^r, Horner form, to degree 14.
    let mut p = 1.0;
    let mut n = 14.0;
    while n > 0.0 {
        p = 1.0 + p * r / n;
        n -= 1.0;
    }
    let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_and_exp_match_std_closely() {
        let mut s = Sampler::new(1, 0);
        for _ in 0..10_000 {
            let x = s.log_uniform(1e-15, 1e15);
            let rel = (ln(x) - x.ln()).abs() / x.ln().abs().max(1.0);
            assert!(rel < 1e-14, "ln({x}) = {} vs {}", ln(x), x.ln());
            let y = s.uniform(-40.0, 40.0);
            let rel = (exp(y) - y.exp()).abs() / y.exp();
            assert!(rel < 1e-14, "exp({y}) = {} vs {}", exp(y), y.exp());
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let a: Vec<u64> = (0..8).map(|_| Sampler::new(7, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Sampler::new(7, 0);
        let mut y = Sampler::new(7, 1);
        let mut z = Sampler::new(8, 0);
        let (xs, ys, zs): (Vec<u64>, Vec<u64>, Vec<u64>) = (0..4)
            .map(|_| (x.next_u64(), y.next_u64(), z.next_u64()))
            .fold((vec![], vec![], vec![]), |mut acc, (a, b, c)| {
                acc.0.push(a);
                acc.1.push(b);
                acc.2.push(c);
                acc
            });
        assert_ne!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn normal_moments() {
        let mut s = Sampler::new(3, 0);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| s.normal()).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }

    #[test]
    fn ranges_and_weights() {
        let mut s = Sampler::new(4, 0);
        let mut hits = [0usize; 3];
        for _ in 0..30_000 {
            let v = s.range(5, 7);
            assert!((5..=7).contains(&v));
            hits[(v - 5) as usize] += 1;
        }
        assert!(hits.iter().all(|&h| h > 9_000), "{hits:?}");
        let cum = [1.0, 1.0, 4.0];
        let mut picks = [0usize; 3];
        for _ in 0..40_000 {
            picks[s.weighted(&cum)] += 1;
        }
        assert_eq!(picks[1], 0);
        assert!(
            (picks[2] as f64 / picks[0] as f64 - 3.0).abs() < 0.2,
            "{picks:?}"
        );
    }
}
