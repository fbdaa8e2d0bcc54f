//! Beacon scoring per connection pair: how much a pair's connections look like a program
//! checking in on a timer (command-and-control beaconing) rather than a person or a busy
//! service.
//!
//! The caller chooses what a pair is (for example source address, destination address and
//! destination port) and feeds every connection of the log into a [`BeaconTally`] as
//! `(pair key, time, bytes)`, plus every row's time into [`BeaconTally::observe_span`];
//! [`BeaconTally::finish`] scores each pair with at least [`BeaconParams::min_connections`]
//! connections into a [`BeaconTable`]. Tallies of parts of a log merge into the tally of the
//! whole log, whatever the order of the rows or how they were split.
//!
//! # The score
//!
//! The idea follows the beacon analysis of RITA by Active Countermeasures
//! (<https://github.com/activecm/rita>, its beacon analyzer): regular beacons have intervals
//! between connections and connection sizes with little skew and little dispersion (measured
//! with Bowley's quartile skewness and the median absolute deviation about the median, MADM),
//! they connect often, and they do so throughout the observation period. The formulation below
//! is our own; every component lies in `[0, 1]`, higher meaning more beacon-like.
//!
//! A pair's *check-ins* are its distinct time buckets (whole seconds at first, see *Bounded
//! memory*): several connections in the same second are one check-in. Its *intervals* are the
//! gaps between consecutive check-ins. Quantiles interpolate linearly at `(n - 1) p`. With
//! `Q1, Q2, Q3` the quartiles and `Bowley = (Q1 + Q3 - 2 Q2) / (Q3 - Q1)` (0 when the median equals a quartile, as in RITA:
//! Bowley is then ±1 whatever the shape, the case of a timer repeating one interval):
//!
//! - `interval_skew = 1 - |Bowley(intervals)|`;
//! - `interval_dispersion = max(1 - min(1, MADM(intervals) / median(intervals)), grid fit)`,
//!   where the grid fit says how many intervals are whole multiples of one period beyond what
//!   chance gives (a timer that skips ticks, as Trickbot's checks of its external address
//!   every 10 minutes on one of several services: intervals of 600, 1200, 3000 s ...). Both interval
//!   components rest on quartiles, so a few long gaps (a laptop asleep, a lost capture) move
//!   them little, and uniform jitter of 10 % of the period keeps MADM / median near 0.05.
//!   Both are 0 for a pair with fewer than 4 check-ins (3 intervals).
//! - `size_regularity = (1 - |Bowley(sizes)| + 1 - min(1, MADM(sizes) / max(median(sizes), 1))) / 2`
//!   over every connection's `bytes` (as the caller defines them).
//! - `count = min(1, check-ins / span hours)` with the log span (not the pair's) in hours, at
//!   least 1: a steady check-in at least once an hour over the whole log scores 1, twenty
//!   check-ins in one minute of a week-long log score 20 / 168. It counts check-ins, so jitter
//!   does not change it; beacons slower than hourly score in proportion to their rate.
//! - `coverage = occupied slots / slots of the log span`, slots of `max(1 h, 2 x median interval)`
//!   laid from the span's start: the share of the log in which the pair was present at its own
//!   pace. Slots of twice the median interval make it robust to jitter (a jittered check-in
//!   rarely leaves a whole slot empty) and let slow beacons score; a few long gaps cost only the
//!   slots they span, unlike `(last - first) / span`, which two stray connections at the ends of
//!   the log would set to 1 and one gap at either end would ruin.
//! - `score` = the plain mean of the five.
//!
//! # Bounded memory
//!
//! A [`PairTally`] keeps at most [`BeaconParams::max_points`] time buckets and as many size
//! buckets (plus a buffer of at most as many rows not yet sorted in). Time buckets start at
//! 1 s; while more remain distinct the width doubles (2 s, 4 s, ...). Sizes start exact; while
//! more remain distinct they keep one significant bit less. The final state is that of
//! bucketing every row at once at the finest such resolution, whatever the order (see the
//! [`PairTally`] docs). What the coarsening costs:
//!
//! - a bucket keeps the earliest second it holds, so intervals stay exact to the second, but
//!   check-ins closer than one width merge into one: a pair checking in more often than every
//!   width seconds loses its shortest intervals. The coarsening needs more than `max_points`
//!   distinct seconds, so it concerns only very busy pairs, whose jitter stays visible in the
//!   intervals between the kept seconds (two check-ins in one bucket read as one long interval);
//! - `count` counts buckets, so it saturates below 1 for logs longer than about
//!   `max_points / 2` hours whose pair was coarsened; raise `max_points` for such logs;
//! - sizes keep at least their top bits: MADM and quartiles of sizes are those of sizes rounded
//!   down to a relative precision of `2^-(bits - 1)`.
//!
//! # Example
//!
//! ```
//! use webthreat_beacon::{BeaconParams, BeaconTally};
//!
//! let mut tally = BeaconTally::new(BeaconParams::default());
//! for i in 0..1_000i64 {
//!     tally.add(&("10.0.0.5", "203.0.113.9", 443u16), i * 600_000, 512);
//! }
//! let table = tally.finish();
//! let pair = &table.pairs()[0];
//! assert!(pair.score > 0.99 && pair.median_interval_s == 600.0);
//! ```

mod pair;
mod score;
mod stats;

pub use pair::PairTally;

use std::collections::HashMap;
use std::hash::Hash;

/// The threshold on [`BeaconPair::score`] above which a pair is reported as a beacon.
///
/// Chosen from a real capture and generated traffic. On the Trickbot week
/// (`../shared/data/zeek/trickbot-2018-11/conn.log`, 135 scored internal-to-external pairs) the
/// malware's checks of its external address every 10 minutes on one of several services score
/// 0.70 to 0.79 (the top pairs), a 201-second C2 series on port 443 0.72, and its bursts of
/// attempts to port 449 0.53 to 0.66 (regular intervals, but present in under 12 % of the week);
/// on generated traffic (`tests/synth_recall.rs`, 200k rows over 5.5 days, every output format)
/// beacons with uniform jitter of 0 to 50 % of their period score at least 0.94 and the best of
/// about 40 normal internal-to-external pairs 0.548. Poisson arrivals with constant sizes over
/// the whole log (an automated poller without a timer) would score about 0.8 and be flagged:
/// such a pair deserves a look too.
pub const DEFAULT_THRESHOLD: f64 = 0.7;

/// Upper limit of [`BeaconParams::min_connections`].
pub const MAX_MIN_CONNECTIONS: usize = 1_000_000;
/// Upper limit of [`BeaconParams::max_points`] (each pair may hold this many buckets).
pub const MAX_MAX_POINTS: usize = 1 << 20;

/// Settings of a beacon analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeaconParams {
    /// Pairs with fewer connections are counted but not scored (default 10; 4 to
    /// [`MAX_MIN_CONNECTIONS`]).
    pub min_connections: usize,
    /// Per-pair memory bound: time buckets and size buckets kept (default 4096; 64 to
    /// [`MAX_MAX_POINTS`]).
    pub max_points: usize,
}

impl Default for BeaconParams {
    fn default() -> Self {
        Self {
            min_connections: 10,
            max_points: 4096,
        }
    }
}

impl BeaconParams {
    /// Checks the limits; the error names the key and the accepted range.
    pub fn check(&self) -> Result<(), BeaconError> {
        let within = |key, value: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(BeaconError::InvalidParam {
                    key,
                    message: format!("must be between {lo} and {hi}, got {value}"),
                })
            }
        };
        within(
            "min_connections",
            self.min_connections,
            4,
            MAX_MIN_CONNECTIONS,
        )?;
        within("max_points", self.max_points, 64, MAX_MAX_POINTS)
    }
}

/// Errors of the beacon analysis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeaconError {
    /// A parameter outside its accepted range.
    #[error("`{key}` {message}")]
    InvalidParam {
        /// The parameter's name.
        key: &'static str,
        /// What is wrong, with the accepted range.
        message: String,
    },
}

/// The five components of a beacon score, each in `[0, 1]` (formulas in the [crate docs](crate)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Components {
    /// `1 - |Bowley skewness|` of the intervals between check-ins.
    pub interval_skew: f64,
    /// `1 - min(1, MADM / median)` of the intervals.
    pub interval_dispersion: f64,
    /// Mean of `1 - |Bowley skewness|` and `1 - min(1, MADM / max(median, 1))` of the sizes.
    pub size_regularity: f64,
    /// `min(1, check-ins / log span in hours)`.
    pub count: f64,
    /// Share of the log span's slots (`max(1 h, 2 x median interval)`) with a check-in.
    pub coverage: f64,
}

impl Components {
    /// The plain mean of the five components: the beacon score.
    pub fn mean(&self) -> f64 {
        (self.interval_skew
            + self.interval_dispersion
            + self.size_regularity
            + self.count
            + self.coverage)
            / 5.0
    }
}

/// One scored pair.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconPair<K> {
    /// The caller's pair key.
    pub key: K,
    /// Connections of the pair (exact).
    pub connections: u64,
    /// Time of the first connection (Unix milliseconds, exact).
    pub first_ms: i64,
    /// Time of the last connection (Unix milliseconds, exact).
    pub last_ms: i64,
    /// Beacon score in `[0, 1]`: the mean of the components.
    pub score: f64,
    /// The components of the score.
    pub components: Components,
    /// Median interval between check-ins in seconds (0 with fewer than two check-ins).
    pub median_interval_s: f64,
    /// Intervals in at most 20 equal bins from the shortest to `min(longest, 3 x median)`
    /// (longer intervals in the last bin): `(bin lower edge in seconds, intervals)`.
    pub interval_histogram: Vec<(f64, u64)>,
    /// Width of the pair's time buckets in seconds (1 unless the pair was coarsened to fit
    /// [`BeaconParams::max_points`]).
    pub resolution_s: f64,
}

/// Connections of a log per pair, mergeable; [`finish`](Self::finish) scores them.
#[derive(Debug, Clone)]
pub struct BeaconTally<K> {
    params: BeaconParams,
    pairs: HashMap<K, PairTally, foldhash::fast::FixedState>,
    span: Option<(i64, i64)>,
}

impl<K: Hash + Eq + Ord + Clone> BeaconTally<K> {
    /// An empty tally. `params` should have passed [`BeaconParams::check`]; values out of range
    /// are clamped into it.
    pub fn new(params: BeaconParams) -> Self {
        let params = BeaconParams {
            min_connections: params.min_connections.clamp(4, MAX_MIN_CONNECTIONS),
            max_points: params.max_points.clamp(64, MAX_MAX_POINTS),
        };
        Self {
            params,
            pairs: HashMap::default(),
            span: None,
        }
    }

    /// Adds one connection of pair `key` at `time_ms` (Unix milliseconds) of `bytes` bytes; it
    /// also widens the log span.
    pub fn add(&mut self, key: &K, time_ms: i64, bytes: u64) {
        self.observe_span(time_ms);
        if let Some(t) = self.pairs.get_mut(key) {
            t.add(time_ms, bytes);
        } else {
            let mut t = PairTally::new(self.params.max_points);
            t.add(time_ms, bytes);
            self.pairs.insert(key.clone(), t);
        }
    }

    /// Adds connections `(time_ms, bytes)` of one pair `key` (as [`add`](Self::add) each, with
    /// one lookup of the pair).
    pub fn add_many(&mut self, key: &K, connections: impl IntoIterator<Item = (i64, u64)>) {
        let tally = match self.pairs.get_mut(key) {
            Some(t) => t,
            None => self
                .pairs
                .entry(key.clone())
                .or_insert_with(|| PairTally::new(self.params.max_points)),
        };
        let mut span = self.span;
        for (time_ms, bytes) in connections {
            tally.add(time_ms, bytes);
            span = Some(match span {
                Some((a, b)) => (a.min(time_ms), b.max(time_ms)),
                None => (time_ms, time_ms),
            });
        }
        self.span = span;
    }

    /// Widens the log span to include `time_ms`: call it for every row of the log, analysed or
    /// not (rows filtered out of the analysis still tell how long the log is).
    pub fn observe_span(&mut self, time_ms: i64) {
        self.span = Some(match self.span {
            Some((a, b)) => (a.min(time_ms), b.max(time_ms)),
            None => (time_ms, time_ms),
        });
    }

    /// Adds everything `other` tallied (pairs and span).
    pub fn merge(&mut self, other: Self) {
        if let Some((a, b)) = other.span {
            self.observe_span(a);
            self.observe_span(b);
        }
        for (k, t) in other.pairs {
            match self.pairs.get_mut(&k) {
                Some(mine) => mine.merge(t),
                None => {
                    self.pairs.insert(k, t);
                }
            }
        }
    }

    /// Pairs tallied so far.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether nothing was tallied.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Scores every pair with at least `min_connections` connections.
    pub fn finish(self) -> BeaconTable<K> {
        let span = self.span.unwrap_or((0, 0));
        let analysed = self.pairs.len();
        let min = self.params.min_connections as u64;
        let mut pairs: Vec<BeaconPair<K>> = self
            .pairs
            .into_iter()
            .filter(|(_, t)| t.connections() >= min)
            .map(|(key, mut t)| {
                t.compact();
                let view = t.view();
                let s = score::score(&view, span);
                BeaconPair {
                    key,
                    connections: view.connections,
                    first_ms: view.first_ms,
                    last_ms: view.last_ms,
                    score: s.components.mean(),
                    components: s.components,
                    median_interval_s: s.median_interval_s,
                    interval_histogram: s.histogram,
                    resolution_s: view.width_s,
                }
            })
            .collect();
        pairs.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        let index = pairs
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key.clone(), i))
            .collect();
        BeaconTable {
            pairs,
            index,
            analysed,
            span,
        }
    }
}

/// Scored pairs, highest score first (ties by key).
#[derive(Debug, Clone)]
pub struct BeaconTable<K> {
    pairs: Vec<BeaconPair<K>>,
    index: HashMap<K, usize, foldhash::fast::FixedState>,
    analysed: usize,
    span: (i64, i64),
}

impl<K: Hash + Eq> BeaconTable<K> {
    /// The pairs with at least `min_connections` connections, by score descending then key.
    pub fn pairs(&self) -> &[BeaconPair<K>] {
        &self.pairs
    }

    /// The scored pair `key`, if it had enough connections.
    pub fn get(&self, key: &K) -> Option<&BeaconPair<K>> {
        self.index.get(key).map(|&i| &self.pairs[i])
    }

    /// Every pair tallied, scored or not.
    pub fn analysed_pairs(&self) -> usize {
        self.analysed
    }

    /// The log span `(first, last)` in Unix milliseconds (`(0, 0)` for an empty log).
    pub fn span_ms(&self) -> (i64, i64) {
        self.span
    }

    /// The same table with every key replaced by `rename(key)` (such as numbered addresses
    /// by the addresses), re-sorted by score descending then new key.
    pub fn map_keys<K2: Hash + Eq + Ord + Clone>(
        self,
        mut rename: impl FnMut(K) -> K2,
    ) -> BeaconTable<K2> {
        let mut pairs: Vec<BeaconPair<K2>> = (self.pairs.into_iter())
            .map(|p| BeaconPair {
                key: rename(p.key),
                connections: p.connections,
                first_ms: p.first_ms,
                last_ms: p.last_ms,
                score: p.score,
                components: p.components,
                median_interval_s: p.median_interval_s,
                interval_histogram: p.interval_histogram,
                resolution_s: p.resolution_s,
            })
            .collect();
        pairs.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        let index = (pairs.iter().enumerate())
            .map(|(i, p)| (p.key.clone(), i))
            .collect();
        BeaconTable {
            pairs,
            index,
            analysed: self.analysed,
            span: self.span,
        }
    }
}

#[cfg(test)]
mod tests;
