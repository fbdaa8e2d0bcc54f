//! Path-length normalisation of the Isolation Forest (Liu et al. 2008, scikit-learn's
//! `_average_path_length`).

/// Euler-Mascheroni constant, as `numpy.euler_gamma`.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Average path length of an unsuccessful binary-search-tree search among `n` points:
/// c(0) = c(1) = 0, c(2) = 1, c(n) = 2 H(n - 1) - 2 (n - 1) / n with H(i) = ln(i) + gamma
/// (`ln` of the pure-Rust `libm`: the same bits on every host).
///
/// This is the expected remaining depth of a leaf that still holds `n` samples, and c(psi)
/// normalises the mean path length into the anomaly score.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * (libm::log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// Depth limit of a tree grown on `psi` samples: ceil(log2(max(psi, 2))), as scikit-learn.
pub fn max_depth(psi: usize) -> u32 {
    psi.max(2).next_power_of_two().trailing_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_of_n_matches_scikit_learn() {
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        // sklearn: _average_path_length([3, 256]) = [1.20739236, 10.24477092]
        assert!((average_path_length(3) - 1.207_392_357_589_623).abs() < 1e-12);
        assert!((average_path_length(256) - 10.244_770_920_119_917).abs() < 1e-12);
        // grows like 2 ln n
        assert!(average_path_length(100_000) > 22.0 && average_path_length(100_000) < 23.0);
    }

    #[test]
    fn depth_limit_is_ceil_log2() {
        assert_eq!(max_depth(1), 1);
        assert_eq!(max_depth(2), 1);
        assert_eq!(max_depth(3), 2);
        assert_eq!(max_depth(4), 2);
        assert_eq!(max_depth(5), 3);
        assert_eq!(max_depth(255), 8);
        assert_eq!(max_depth(256), 8);
        assert_eq!(max_depth(257), 9);
        for psi in 2..5000usize {
            assert_eq!(
                max_depth(psi),
                (psi as f64).log2().ceil() as u32,
                "psi {psi}"
            );
        }
    }
}
