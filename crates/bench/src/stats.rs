//! Repetitions, medians and the process's peak resident set size.

use std::time::Instant;

/// Median of `values` (mean of the two middle values for an even count); NaN when empty.
pub use webthreat_core::stats::median;

/// Runs `f` `reps` times (at least once), returning the wall-clock seconds of each repetition
/// and the last repetition's output. `f` gets the repetition index.
pub fn time_reps<T, E>(
    reps: usize,
    mut f: impl FnMut(usize) -> Result<T, E>,
) -> Result<(Vec<f64>, T), E> {
    let mut times = Vec::with_capacity(reps.max(1));
    let mut last = None;
    for rep in 0..reps.max(1) {
        let clock = Instant::now();
        let out = f(rep)?;
        times.push(clock.elapsed().as_secs_f64());
        last = Some(out);
    }
    Ok((times, last.expect("at least one repetition")))
}

/// Peak resident set size of this process in bytes (`VmHWM` in `/proc/self/status`), when the
/// platform has it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// Resets the peak resident set size to the current one (Linux: writing `5` to
/// `/proc/self/clear_refs`); returns whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `VmHWM:    123456 kB` -> bytes.
pub(crate) fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn time_reps_runs_each_repetition() {
        let mut seen = Vec::new();
        let (times, last) = time_reps(3, |rep| {
            seen.push(rep);
            Ok::<_, ()>(rep * 10)
        })
        .unwrap();
        assert_eq!(times.len(), 3);
        assert_eq!(seen, [0, 1, 2]);
        assert_eq!(last, 20);
    }

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\tx\nVmPeak:\t  999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(2048 * 1024));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
    }
}
