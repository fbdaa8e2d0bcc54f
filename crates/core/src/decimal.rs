//! Fast decimal text for large CSV outputs (`scores.csv`, generated logs): the bytes of
//! `format!("{:.N}", x)` and of integers, appended to byte buffers without going through
//! `core::fmt` (which was ~8% of a 1M-row run's CPU) or checking UTF-8.
//!
//! [`push_fixed`] scales x by 10^N in floating point and rounds to an integer. The product is
//! within half an ulp of the exact x * 10^N, under 2^-21 while it stays below 2^32, so unless its
//! fractional part is within 1e-6 of one half the integer is the correctly rounded one that
//! `core::fmt` prints. Values near a tie, negative, non-finite or too large take the `core::fmt`
//! path, so the output is always byte-identical to it.

use std::io::Write as _;

/// Largest `x * 10^N` the fast path takes.
const FAST_LIMIT: f64 = 4_294_967_296.0;

/// Appends `x` with `DECIMALS` digits after the point, exactly as `{:.DECIMALS}` formats it.
pub fn push_fixed<const DECIMALS: u32>(out: &mut Vec<u8>, x: f64) {
    let scale = 10u64.pow(DECIMALS);
    let Some(n) = rounded(x, scale) else {
        let _ = write!(out, "{x:.prec$}", prec = DECIMALS as usize);
        return;
    };
    push_u64(out, n / scale);
    if DECIMALS > 0 {
        out.push(b'.');
        let mut buf = [b'0'; 20];
        let digits = u64_digits(n % scale, &mut buf).len();
        // the digits with their leading zeros (the buffer starts as zeros)
        out.extend_from_slice(&buf[buf.len() - digits.max(DECIMALS as usize)..]);
    }
}

/// `x * scale` rounded to the nearest integer, when that is surely what `core::fmt` prints:
/// `None` for NaN, infinities, large values, -0.0 and negatives (its sign handling), and
/// products too close to a tie to round from.
fn rounded(x: f64, scale: u64) -> Option<u64> {
    let y = x * scale as f64;
    if y.is_nan() || y >= FAST_LIMIT || x.is_sign_negative() {
        return None;
    }
    // y is in [0, 2^32): truncation is its floor, exactly (and needs no libm call on baseline
    // x86-64, unlike `floor`)
    let whole = y as u64;
    let fraction = y - whole as f64;
    if (fraction - 0.5).abs() <= 1e-6 {
        return None;
    }
    Some(whole + u64::from(fraction > 0.5))
}

/// Appends the decimal digits of `n`.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(u64_digits(n, &mut [0; 20]));
}

/// "00" to "99", two digits per number.
const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// The decimal digits of `n`, written at the end of `buf` two at a time.
#[inline]
pub fn u64_digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    while n >= 100 {
        let pair = 2 * (n % 100) as usize;
        n /= 100;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = 2 * n as usize;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        buf[start] = b'0' + n as u8;
    }
    &buf[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<const D: u32>(x: f64) {
        let mut s = Vec::new();
        push_fixed::<D>(&mut s, x);
        assert_eq!(
            s,
            format!("{x:.prec$}", prec = D as usize).as_bytes(),
            "x = {x:e}"
        );
    }

    #[test]
    fn fixed_matches_core_fmt() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            0.5,
            1.0 / 128.0, // 7812.5 millionths: a tie, rounded to even
            0.0000005,
            0.0000015,
            0.9999995,
            0.99999949999,
            99.95,
            100.0,
            12.25,
            -3.5,
            4294.967295,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        // a deterministic spread over [0, 1] and [0, 100], plus their neighbours
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let spread = (0..200_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        });
        for x in specials.into_iter().chain(spread) {
            for x in [x, x.next_up(), x.next_down(), x * 100.0] {
                check::<6>(x);
                check::<1>(x);
                check::<0>(x);
            }
        }
        // exact ties at both precisions
        for k in 0..2000u32 {
            check::<1>(f64::from(k) / 10.0 + 0.05);
            check::<6>(f64::from(k) / 128.0);
        }
    }

    #[test]
    fn integers() {
        let powers = (0..20).flat_map(|e| {
            let p = 10u64.pow(e);
            [p - 1, p, p + 1]
        });
        for n in (0..100_000).chain(powers).chain([u64::MAX]) {
            let mut s = Vec::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string().as_bytes());
        }
    }
}
