//! Per-entity baselines: `baseline_dev(<source window feature>)` compares a source's value in
//! a window with the same source's own earlier windows, so a host that suddenly behaves unlike
//! itself stands out even when its values are ordinary for the population.
//!
//! For a source with windows `w_1 < w_2 < ...` (the windows in which it has rows) and window
//! values `x_i`, the deviation in window `w_k` is
//! `(ln(1 + x_k) - median_j ln(1 + x_j)) / max(1.4826 * MAD_j, 0.25)` over the at most
//! [`HISTORY`] windows `j < k` before it: a robust z-score on a log scale, so sessions, bytes
//! and counts share one scale (1 is about `e^0.25`, 28%, above the source's usual value when
//! its history is steady). With fewer than [`MIN_HISTORY`] earlier windows the deviation is 0:
//! there is no baseline yet. Every row of a window gets its window's deviation.

use polars::prelude::StringChunked;
use std::collections::HashMap;

/// Earlier windows a baseline looks back on (the most recent ones).
pub const HISTORY: usize = 48;
/// Earlier windows a source needs before its deviation is other than 0.
pub const MIN_HISTORY: usize = 3;
/// The smallest spread a deviation is divided by (log scale).
const MIN_SPREAD: f64 = 0.25;

/// The deviation of every row's window value from its source's own earlier windows;
/// `sources`, `windows` and `values` are per row (a row's value is its window's value). A
/// missing source is a source of its own.
pub(crate) fn deviations(sources: &StringChunked, windows: &[i64], values: &[f64]) -> Vec<f64> {
    // one value per (source, window)
    let mut per_source: HashMap<Option<&str>, Vec<(i64, f64)>> = HashMap::new();
    let mut seen: HashMap<(Option<&str>, i64), ()> = HashMap::new();
    for ((source, &window), &value) in sources.iter().zip(windows).zip(values) {
        if seen.insert((source, window), ()).is_none() {
            per_source.entry(source).or_default().push((window, value));
        }
    }
    let mut deviation: HashMap<(Option<&str>, i64), f64> = HashMap::with_capacity(seen.len());
    for (source, mut series) in per_source {
        series.sort_by_key(|&(w, _)| w);
        let logs: Vec<f64> = (series.iter())
            .map(|&(_, v)| libm::log1p(v.max(0.0)))
            .collect();
        for (k, &(window, _)) in series.iter().enumerate() {
            let history = &logs[k.saturating_sub(HISTORY)..k];
            deviation.insert((source, window), robust_z(logs[k], history));
        }
    }
    (sources.iter().zip(windows))
        .map(|(source, &window)| deviation[&(source, window)])
        .collect()
}

/// `(x - median) / max(1.4826 * MAD, MIN_SPREAD)` of `history`; 0 with too short a history.
fn robust_z(x: f64, history: &[f64]) -> f64 {
    if history.len() < MIN_HISTORY {
        return 0.0;
    }
    let mut sorted = history.to_vec();
    let center = median_in_place(&mut sorted);
    let mut spread: Vec<f64> = history.iter().map(|h| (h - center).abs()).collect();
    let mad = median_in_place(&mut spread);
    (x - center) / (1.4826 * mad).max(MIN_SPREAD)
}

fn median_in_place(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: &[(&str, i64, f64)]) -> Vec<f64> {
        let sources = StringChunked::from_iter(rows.iter().map(|r| Some(r.0)));
        let windows: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let values: Vec<f64> = rows.iter().map(|r| r.2).collect();
        deviations(&sources, &windows, &values)
    }

    #[test]
    fn a_host_unlike_its_own_past_stands_out_though_others_do_the_same() {
        // host a: 10 sessions per window, then 200; host b: always 200
        let mut rows = Vec::new();
        for w in 0..10 {
            rows.push(("a", w, 10.0));
            rows.push(("b", w, 200.0));
        }
        rows.push(("a", 10, 200.0));
        rows.push(("b", 10, 200.0));
        let dev = run(&rows);
        let a_last = dev[20];
        let b_last = dev[21];
        assert!(a_last > 10.0, "{a_last}");
        assert_eq!(b_last, 0.0);
        // no baseline before three earlier windows
        assert_eq!(&dev[0..6], &[0.0; 6]);
    }

    #[test]
    fn rows_of_one_window_share_its_deviation_whatever_the_row_order() {
        let rows = [
            ("a", 3, 50.0),
            ("a", 0, 5.0),
            ("a", 1, 6.0),
            ("a", 3, 50.0),
            ("a", 2, 5.0),
        ];
        let dev = run(&rows);
        assert_eq!(dev[0], dev[3]);
        assert!(dev[0] > 5.0);
        assert_eq!(dev[1], 0.0);
    }

    #[test]
    fn history_is_bounded_to_the_most_recent_windows() {
        // an old regime (1000) followed by HISTORY windows of 10: 10 is ordinary again
        let mut rows: Vec<(&str, i64, f64)> = (0..20).map(|w| ("a", w, 1000.0)).collect();
        rows.extend((20..20 + HISTORY as i64).map(|w| ("a", w, 10.0)));
        rows.push(("a", 20 + HISTORY as i64, 10.0));
        let dev = run(&rows);
        assert_eq!(*dev.last().unwrap(), 0.0);
    }
}
