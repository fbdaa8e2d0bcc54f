//! Test data shared by the detectors' integration tests.

/// A seeded xorshift stream of numbers uniform in [0, 1) (53 bits each): the same numbers on
/// every host, with no floating-point math beyond one division.
pub fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}
