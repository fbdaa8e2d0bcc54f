//! Deterministic generator of web traffic with labeled injected attacks, written as a CloudWatch
//! CSV, a Zeek `conn.log`, AWS VPC Flow Logs or AWS ALB access logs.
//!
//! [`generate`] by default writes a CSV with exactly the columns and format of the public
//! `CloudWatch_Traffic_Web_Attack.csv` seed file (CRLF line endings, no newline after the last
//! row, ISO-8601 UTC timestamps, 10-minute flow windows) plus two ground-truth columns, `label`
//! (0/1) and `attack_type` (see [`TrafficKind`]). [`GenConfig::format`] selects another
//! [`OutputFormat`]; every format carries the same rows, in the same order, with the same two
//! ground-truth fields last.
//!
//! Normal traffic mimics the seed file: a pool of client addresses with its country mix, heavy-tailed
//! per-client byte counts with medians near 13 kB and a few bulk-transfer clients in the megabytes,
//! mostly HTTPS/443/200 with some HTTP/80 and other response codes, one-off background-noise
//! addresses with tiny byte counts, and occasional late rows so the file is only roughly
//! time-ordered. Attacks of five obvious kinds are injected with distinct signatures, and on
//! request ([`AttackMix::mimicking`], `xtask gen-data --mimic`) four kinds that mimic normal
//! traffic and stand out only a little, or only over many windows (see [`TrafficKind`]). The
//! same [`GenConfig`] always produces byte-identical output, on every platform: all randomness
//! comes from seeded ChaCha8 streams through portable sampling code, and format-only values
//! (source ports, connection ids) are hashes of the seed and row position.
//!
//! ```
//! let cfg = webthreat_synth::GenConfig { rows: 500, seed: 7, ..Default::default() };
//! let mut csv = Vec::new();
//! let summary = webthreat_synth::generate(&cfg, &mut csv).unwrap();
//! assert_eq!(summary.rows, 500);
//! assert!(csv.starts_with(b"bytes_in,bytes_out,creation_time,"));
//!
//! let zeek = webthreat_synth::GenConfig {
//!     format: webthreat_synth::OutputFormat::Zeek,
//!     ..cfg
//! };
//! let mut log = Vec::new();
//! assert_eq!(webthreat_synth::generate(&zeek, &mut log).unwrap(), summary);
//! assert!(log.starts_with(b"#separator \\x09\n"));
//! ```

mod attacks;
mod beacons;
mod format;
mod generate;
mod pool;
mod rng;
pub mod time;
mod write;

pub use beacons::{BeaconPlan, BeaconTruth};
pub use format::{
    ALB_FIELDS, OutputFormat, VPC_FLOW_FIELDS, VPC_FLOW_NODATA_EVERY, ZEEK_FIELDS, ZEEK_TYPES,
};
pub use generate::generate;

use std::fmt;

/// Length of one flow-log aggregation window in seconds (`end_time - creation_time` of normal rows).
pub const WINDOW_SECS: u64 = 600;

/// The header line written by [`generate`] in the default [`OutputFormat::Cloudwatch`]: the seed
/// file's 16 columns plus `label,attack_type`.
pub const HEADER: &str = "bytes_in,bytes_out,creation_time,end_time,src_ip,src_ip_country_code,\
protocol,response.code,dst_port,dst_ip,rule_names,observation_name,source.meta,source.name,time,\
detection_types,label,attack_type";

/// First window start of the seed file, 2024-04-25T23:00:00Z, the default [`GenConfig::start`].
pub const SEED_FILE_START: i64 = 1_714_086_000;

/// The kind of traffic a row belongs to; its name is the `attack_type` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrafficKind {
    /// Benign traffic (`label` 0).
    Normal,
    /// Data theft: very large `bytes_out` with a tiny `bytes_in` (ratio in the thousands).
    Exfiltration,
    /// Payload delivery: very large `bytes_in` with a tiny `bytes_out`.
    Infiltration,
    /// A burst of many short (1-30 s), small sessions from one address in one window.
    Flood,
    /// One address probing many distinct destination ports/hosts with tiny byte counts,
    /// answered by 403/404/400.
    Scan,
    /// Command-and-control beaconing: identical small sessions at a fixed phase, periodically
    /// across many windows.
    Beacon,
    /// Low-and-slow data theft through a regular client's address (a stolen account or a
    /// compromised client): in 10-30 windows 1-3 windows apart, one window-long row (the
    /// client's traffic of that window) with the client's ordinary `bytes_in` and 1.25-3 times
    /// its usual share of `bytes_out`, inside the range of normal rows.
    SlowExfiltration,
    /// A web shell polled by its operator on a jittered timer (period 2-30 min, each sleep
    /// shortened by up to 20-50 % of the period, check-in sizes within +-10 % of a base of
    /// 0.3-3 kB in): one window-long row per window with check-ins, holding their sum.
    JitteredBeacon,
    /// A port or host scan spread over hours: 1-3 probes per window (mostly one) in windows 1-4
    /// apart, each to a new target, with tiny byte counts and 403/404/400 answers.
    SlowScan,
    /// A flood of ordinary-looking sessions: 3-12 window-long rows per window from one new
    /// address over 1-3 consecutive windows, each with the byte counts of a regular client.
    SessionFlood,
}

impl TrafficKind {
    /// All kinds, `Normal` first, in declaration order.
    pub const ALL: [TrafficKind; 10] = [
        TrafficKind::Normal,
        TrafficKind::Exfiltration,
        TrafficKind::Infiltration,
        TrafficKind::Flood,
        TrafficKind::Scan,
        TrafficKind::Beacon,
        TrafficKind::SlowExfiltration,
        TrafficKind::JitteredBeacon,
        TrafficKind::SlowScan,
        TrafficKind::SessionFlood,
    ];

    /// The nine attack kinds, in the order of [`AttackMix::weights`].
    pub const ATTACKS: [TrafficKind; 9] = [
        TrafficKind::Exfiltration,
        TrafficKind::Infiltration,
        TrafficKind::Flood,
        TrafficKind::Scan,
        TrafficKind::Beacon,
        TrafficKind::SlowExfiltration,
        TrafficKind::JitteredBeacon,
        TrafficKind::SlowScan,
        TrafficKind::SessionFlood,
    ];

    /// The four attack kinds that mimic normal traffic (none in the default [`AttackMix`]).
    pub const MIMICKING: [TrafficKind; 4] = [
        TrafficKind::SlowExfiltration,
        TrafficKind::JitteredBeacon,
        TrafficKind::SlowScan,
        TrafficKind::SessionFlood,
    ];

    /// The `attack_type` column value (`normal`, `exfiltration`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            TrafficKind::Normal => "normal",
            TrafficKind::Exfiltration => "exfiltration",
            TrafficKind::Infiltration => "infiltration",
            TrafficKind::Flood => "flood",
            TrafficKind::Scan => "scan",
            TrafficKind::Beacon => "beacon",
            TrafficKind::SlowExfiltration => "slow_exfiltration",
            TrafficKind::JitteredBeacon => "jittered_beacon",
            TrafficKind::SlowScan => "slow_scan",
            TrafficKind::SessionFlood => "session_flood",
        }
    }

    /// Parses an `attack_type` column value.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether this kind is an injected attack (`label` 1).
    pub const fn is_attack(self) -> bool {
        !matches!(self, TrafficKind::Normal)
    }

    /// The `label` column value: 1 for attacks, 0 for normal traffic.
    pub const fn label(self) -> u8 {
        self.is_attack() as u8
    }

    /// Whether rows of this kind are probes the target refused (scans): Zeek writes them as
    /// `REJ` connections, VPC Flow Logs as `REJECT` records.
    pub const fn is_refused_probe(self) -> bool {
        matches!(self, TrafficKind::Scan | TrafficKind::SlowScan)
    }
}

impl fmt::Display for TrafficKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Relative weights of the attack kinds among the injected rows (need not sum to 1).
///
/// The default holds the five obvious kinds only (and gives the output of earlier releases);
/// [`AttackMix::mimicking`] adds the four kinds that mimic normal traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttackMix {
    /// Weight of exfiltration rows.
    pub exfiltration: f64,
    /// Weight of infiltration rows.
    pub infiltration: f64,
    /// Weight of flood rows.
    pub flood: f64,
    /// Weight of scan rows.
    pub scan: f64,
    /// Weight of beacon rows.
    pub beacon: f64,
    /// Weight of slow (low-and-slow) exfiltration rows.
    pub slow_exfiltration: f64,
    /// Weight of jittered beacon rows.
    pub jittered_beacon: f64,
    /// Weight of slow scan rows.
    pub slow_scan: f64,
    /// Weight of session flood rows.
    pub session_flood: f64,
}

impl Default for AttackMix {
    fn default() -> Self {
        Self {
            exfiltration: 0.2,
            infiltration: 0.2,
            flood: 0.25,
            scan: 0.2,
            beacon: 0.15,
            slow_exfiltration: 0.0,
            jittered_beacon: 0.0,
            slow_scan: 0.0,
            session_flood: 0.0,
        }
    }
}

impl AttackMix {
    /// The default mix scaled to `1 - share` of the attack rows, with the four kinds that mimic
    /// normal traffic ([`TrafficKind::MIMICKING`]) taking `share` in equal parts (the mix of
    /// `xtask gen-data --mimic SHARE`; the bundled `data/sample.csv` has `share` 0.75 and an
    /// [`attack_fraction`](GenConfig::attack_fraction) of 0.05). `share` outside `[0, 1]` makes
    /// a mix [`GenConfig::validate`] refuses.
    ///
    /// ```
    /// use webthreat_synth::{AttackMix, GenConfig, TrafficKind};
    /// let cfg = GenConfig {
    ///     rows: 5_000,
    ///     seed: 7,
    ///     attack_fraction: 0.05,
    ///     attack_mix: AttackMix::mimicking(0.75),
    ///     ..GenConfig::default()
    /// };
    /// let summary = webthreat_synth::generate(&cfg, std::io::sink()).unwrap();
    /// assert_eq!(summary.attacks(), 250);
    /// assert_eq!(summary.count(TrafficKind::SlowExfiltration), 47);
    /// assert_eq!(AttackMix::mimicking(0.0), AttackMix::default());
    /// ```
    pub fn mimicking(share: f64) -> Self {
        let obvious = Self::default();
        let keep = 1.0 - share;
        let each = share / 4.0;
        Self {
            exfiltration: obvious.exfiltration * keep,
            infiltration: obvious.infiltration * keep,
            flood: obvious.flood * keep,
            scan: obvious.scan * keep,
            beacon: obvious.beacon * keep,
            slow_exfiltration: each,
            jittered_beacon: each,
            slow_scan: each,
            session_flood: each,
        }
    }

    /// Weights in [`TrafficKind::ATTACKS`] order.
    pub fn weights(&self) -> [f64; 9] {
        [
            self.exfiltration,
            self.infiltration,
            self.flood,
            self.scan,
            self.beacon,
            self.slow_exfiltration,
            self.jittered_beacon,
            self.slow_scan,
            self.session_flood,
        ]
    }
}

/// Settings of one generated data set. Every field has a default (see [`GenConfig::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Exact number of data rows to write (0 writes only the header).
    pub rows: usize,
    /// Seed of every random choice; the same config always gives byte-identical output.
    pub seed: u64,
    /// Start of the first 10-minute window, in Unix seconds (default 2024-04-25T23:00:00Z).
    pub start: i64,
    /// Fraction of rows that are injected attacks, in `[0, 1]`; the attack row count is
    /// `round(rows * attack_fraction)`.
    pub attack_fraction: f64,
    /// Relative share of each attack kind.
    pub attack_mix: AttackMix,
    /// Number of regular client addresses; `None` = about `1.7 * sqrt(rows)` (28 for the seed
    /// file's 282 rows), at least 3.
    pub source_ips: Option<usize>,
    /// Number of 10-minute windows spanned; `None` = enough for about a third of the clients to
    /// appear in each window (30 windows for 282 rows, about 12 days for a million rows).
    pub windows: Option<usize>,
    /// File format of the output (default [`OutputFormat::Cloudwatch`]); it changes only the
    /// spelling, never which rows are generated.
    pub format: OutputFormat,
    /// Beacons from internal hosts to external addresses at known jitter levels, hidden among
    /// internal hosts talking to external services at irregular times (see [`BeaconPlan`]).
    /// Empty by default, and then nothing of either is generated; their rows come out of the
    /// normal-row budget, so [`rows`](Self::rows) stays exact.
    pub beacons: Vec<BeaconPlan>,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            rows: 10_000,
            seed: 42,
            start: SEED_FILE_START,
            attack_fraction: 0.03,
            attack_mix: AttackMix::default(),
            source_ips: None,
            windows: None,
            format: OutputFormat::Cloudwatch,
            beacons: Vec::new(),
        }
    }
}

impl GenConfig {
    /// Number of attack rows this config injects.
    pub fn attack_rows(&self) -> usize {
        let a = (self.rows as f64 * self.attack_fraction).round();
        if a.is_finite() && a > 0.0 {
            (a as usize).min(self.rows)
        } else {
            0
        }
    }

    /// The client-pool size actually used (resolves `source_ips: None`).
    pub fn resolved_source_ips(&self) -> usize {
        self.source_ips
            .unwrap_or_else(|| ((self.rows as f64).sqrt() * 1.7).round().max(3.0) as usize)
    }

    /// The window count actually used (resolves `windows: None`).
    pub fn resolved_windows(&self) -> usize {
        self.windows.unwrap_or_else(|| {
            let per_window = (self.resolved_source_ips() as f64 / 3.0).max(1.0);
            ((self.rows as f64 / per_window).ceil() as usize).max(1)
        })
    }

    /// Checks the settings; [`generate`] calls this first.
    pub fn validate(&self) -> Result<(), SynthError> {
        if !(0.0..=1.0).contains(&self.attack_fraction) {
            return Err(SynthError::AttackFraction(self.attack_fraction));
        }
        let weights = self.attack_mix.weights();
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0)
            || (self.attack_rows() > 0 && weights.iter().sum::<f64>() <= 0.0)
        {
            return Err(SynthError::AttackMix(self.attack_mix));
        }
        if self.source_ips == Some(0) {
            return Err(SynthError::Zero("source_ips"));
        }
        if self.windows == Some(0) {
            return Err(SynthError::Zero("windows"));
        }
        let span = (self.resolved_windows() as i64).saturating_mul(WINDOW_SECS as i64);
        let end = self.start.saturating_add(span);
        if self.start < 0 || end > time::MAX_TIMESTAMP {
            return Err(SynthError::TimeRange {
                start: self.start,
                end,
            });
        }
        for plan in &self.beacons {
            plan.check()?;
        }
        Ok(())
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenSummary {
    /// Data rows written (excluding header and trailer lines, and the extra `NODATA` records of
    /// [`OutputFormat::VpcFlow`]); always equals [`GenConfig::rows`].
    pub rows: usize,
    /// Rows with `attack_type` = `normal`.
    pub normal: usize,
    /// Rows with `attack_type` = `exfiltration`.
    pub exfiltration: usize,
    /// Rows with `attack_type` = `infiltration`.
    pub infiltration: usize,
    /// Rows with `attack_type` = `flood`.
    pub flood: usize,
    /// Rows with `attack_type` = `scan`.
    pub scan: usize,
    /// Rows with `attack_type` = `beacon`.
    pub beacon: usize,
    /// Rows with `attack_type` = `slow_exfiltration`.
    pub slow_exfiltration: usize,
    /// Rows with `attack_type` = `jittered_beacon`.
    pub jittered_beacon: usize,
    /// Rows with `attack_type` = `slow_scan`.
    pub slow_scan: usize,
    /// Rows with `attack_type` = `session_flood`.
    pub session_flood: usize,
    /// Number of 10-minute windows spanned.
    pub windows: usize,
    /// Size of the regular client pool.
    pub source_ips: usize,
    /// Start of the first window (Unix seconds).
    pub start: i64,
    /// End of the last window (Unix seconds).
    pub end: i64,
    /// Every generated beacon pair of [`GenConfig::beacons`] (empty without them).
    pub beacons: Vec<BeaconTruth>,
}

impl GenSummary {
    /// Rows of the given kind.
    pub fn count(&self, kind: TrafficKind) -> usize {
        match kind {
            TrafficKind::Normal => self.normal,
            TrafficKind::Exfiltration => self.exfiltration,
            TrafficKind::Infiltration => self.infiltration,
            TrafficKind::Flood => self.flood,
            TrafficKind::Scan => self.scan,
            TrafficKind::Beacon => self.beacon,
            TrafficKind::SlowExfiltration => self.slow_exfiltration,
            TrafficKind::JitteredBeacon => self.jittered_beacon,
            TrafficKind::SlowScan => self.slow_scan,
            TrafficKind::SessionFlood => self.session_flood,
        }
    }

    /// Rows labeled 1 (all attack kinds together).
    pub fn attacks(&self) -> usize {
        self.rows - self.normal
    }

    fn add(&mut self, kind: TrafficKind) {
        let slot = match kind {
            TrafficKind::Normal => &mut self.normal,
            TrafficKind::Exfiltration => &mut self.exfiltration,
            TrafficKind::Infiltration => &mut self.infiltration,
            TrafficKind::Flood => &mut self.flood,
            TrafficKind::Scan => &mut self.scan,
            TrafficKind::Beacon => &mut self.beacon,
            TrafficKind::SlowExfiltration => &mut self.slow_exfiltration,
            TrafficKind::JitteredBeacon => &mut self.jittered_beacon,
            TrafficKind::SlowScan => &mut self.slow_scan,
            TrafficKind::SessionFlood => &mut self.session_flood,
        };
        *slot += 1;
        self.rows += 1;
    }
}

/// Errors of [`generate`] and [`GenConfig::validate`].
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// `attack_fraction` outside `[0, 1]` (or NaN).
    #[error("attack_fraction must be between 0 and 1, got {0}")]
    AttackFraction(f64),
    /// Negative or non-finite weights, or all weights zero while attacks are requested.
    #[error(
        "attack mix weights must be finite, non-negative and not all zero when attacks are requested, got {0:?}"
    )]
    AttackMix(AttackMix),
    /// A count that must be positive was set to zero.
    #[error("{0} must be at least 1 (or left unset for the automatic value)")]
    Zero(&'static str),
    /// The time span does not fit 1970-01-01 ..= 9999-12-31.
    #[error(
        "time span {start}..{end} (Unix seconds) must lie within 1970-01-01 and 9999-12-31; choose another start"
    )]
    TimeRange {
        /// Requested start.
        start: i64,
        /// Resulting end of the last window.
        end: i64,
    },
    /// A [`BeaconPlan`] out of range, or beacons needing more rows than the config has.
    #[error("beacons: {0}")]
    Beacon(String),
    /// Writing the output failed.
    #[error("writing generated traffic: {0}")]
    Io(#[from] std::io::Error),
}
