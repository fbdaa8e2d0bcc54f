//! Planning of the injected attacks: how many rows of each kind, grouped into campaigns
//! (one attacking address each), and the concrete rows with their signatures.
//!
//! Signatures (what a detector can key on):
//! - exfiltration: `bytes_out` in the megabytes to hundreds of megabytes with a tiny `bytes_in`;
//! - infiltration: `bytes_in` of tens to hundreds of megabytes with a tiny `bytes_out`;
//! - flood: a burst of short sessions (1-30 s) with small byte counts from one address in one
//!   10-minute window;
//! - scan: one address probing many distinct destination ports and/or hosts with tiny byte counts,
//!   answered by 403/404/400;
//! - beacon: one address with identical-size, identical-duration sessions at the same offset in
//!   windows a fixed period apart.
//!
//! The kinds that mimic normal traffic ([`TrafficKind::MIMICKING`]) have none of these: each of
//! their rows spans its whole 10-minute window as a normal row does (the export aggregates a
//! source's traffic per window), with byte counts inside the normal range. What gives them away
//! is small, or shows only across rows and windows:
//! - slow exfiltration: a regular client's address (a stolen account or a compromised client;
//!   not a bulk-transfer client) in 10-30 windows 1-3 windows apart, its `bytes_in` as usual,
//!   its `bytes_out` 1.25-3 times its usual share (one factor per campaign, smaller for clients
//!   whose ratio is already high): the out/in ratio is high for this client, but not beyond
//!   what other clients do; the client has no normal row in those windows;
//! - jittered beacon: a web shell polled from a new address on a timer (period 2-30 min, each
//!   sleep shortened by up to 20-50 % of it, check-in sizes within +-10 % of a base of 0.3-3 kB
//!   in and a regular client's out/in ratio); a row per window with check-ins, holding their
//!   sum;
//! - slow scan: 1-3 probes per window (mostly one) from a new address in windows 1-4 apart,
//!   every probe to a new port and/or host, tiny byte counts (like the one-off
//!   background-noise addresses of normal traffic), answered 403/404/400;
//! - session flood: 3-12 rows per window from one new address over 1-3 consecutive windows,
//!   each with the byte counts of a regular client's session (the address draws a regular
//!   client's profile).
//!
//! Tiny budgets stay sane: a multi-row kind whose share is smaller than its minimum campaign (or
//! that needs more windows than the run has) is converted into single-row
//! exfiltration/infiltration rows rather than producing a "flood" of two.

use crate::generate::clamp_normal_bytes;
use crate::pool::{AttackerPool, Client, ClientPool, Host};
use crate::rng::Sampler;
use crate::write::ipv4;
use crate::{AttackMix, TrafficKind, WINDOW_SECS};

/// The web server that receives nearly all traffic (the only `dst_ip` of the seed file).
pub(crate) const MAIN_SERVER: u32 = ipv4(10, 138, 69, 97);

const FLOOD_SIZE: (usize, usize) = (8, 400);
const SCAN_SIZE: (usize, usize) = (6, 120);
const BEACON_SIZE: (usize, usize) = (5, 60);
const EXFIL_SIZE: (usize, usize) = (1, 4);
const INFIL_SIZE: (usize, usize) = (1, 3);
const SLOW_EXFIL_SIZE: (usize, usize) = (10, 30);
const JITTERED_BEACON_SIZE: (usize, usize) = (10, 30);
const SLOW_SCAN_SIZE: (usize, usize) = (10, 30);
const SESSION_FLOOD_SIZE: (usize, usize) = (6, 30);

/// Number of attack kinds ([`TrafficKind::ATTACKS`]).
const KINDS: usize = TrafficKind::ATTACKS.len();

/// Ports a scanner tries first.
const SCAN_PORTS: &[u16] = &[
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 161, 389, 443, 445, 465, 587, 993, 995, 1433,
    1521, 2049, 2375, 3306, 3389, 5432, 5601, 5900, 5985, 6379, 7001, 8000, 8080, 8443, 8888, 9000,
    9090, 9200, 11211, 27017,
];

/// One injected attack row.
#[derive(Debug, Clone)]
pub(crate) struct AttackRow {
    /// Index of the 10-minute window.
    pub(crate) window: u32,
    /// `creation_time` minus the window start, in seconds.
    pub(crate) offset: u32,
    /// `end_time - creation_time`, in seconds.
    pub(crate) duration: u32,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) src: Host,
    pub(crate) dst_ip: u32,
    pub(crate) dst_port: u16,
    pub(crate) https: bool,
    pub(crate) code: u16,
    pub(crate) kind: TrafficKind,
    /// The regular client (index in the [`ClientPool`]) whose address the row uses, when the
    /// generator must keep that client's normal rows out of the row's window (slow
    /// exfiltration: the client's traffic of that window *is* the attack row).
    pub(crate) client: Option<usize>,
}

/// Splits `total` rows over the attack kinds in proportion to `mix` (largest remainder, ties to the
/// earlier kind), then moves budgets too small for a campaign to the single-row kinds.
pub(crate) fn budgets(total: usize, mix: &AttackMix, windows: usize) -> [usize; KINDS] {
    let weights = mix.weights();
    let sum: f64 = weights.iter().sum();
    let mut out = [0usize; KINDS];
    if total == 0 || sum <= 0.0 {
        return out;
    }
    let mut rem = [0.0f64; KINDS];
    for k in 0..KINDS {
        let exact = total as f64 * weights[k] / sum;
        out[k] = exact.floor() as usize;
        rem[k] = exact - out[k] as f64;
    }
    let mut missing = total - out.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..KINDS).collect();
    order.sort_by(|&a, &b| rem[b].total_cmp(&rem[a]).then(a.cmp(&b)));
    for &k in order.iter().cycle() {
        if missing == 0 {
            break;
        }
        if weights[k] > 0.0 {
            out[k] += 1;
            missing -= 1;
        }
    }
    // Sanity for small budgets: flood (2), scan (3), beacon (4) and the mimicking kinds (5-8)
    // need a minimum campaign size, and some of them that many windows.
    let single: Vec<usize> = [0usize, 1]
        .into_iter()
        .filter(|&k| weights[k] > 0.0)
        .collect();
    if !single.is_empty() {
        for (k, min, min_windows) in [
            (2, FLOOD_SIZE.0, 1),
            (3, SCAN_SIZE.0, 1),
            (4, BEACON_SIZE.0, BEACON_SIZE.0),
            (5, SLOW_EXFIL_SIZE.0, SLOW_EXFIL_SIZE.0),
            (6, JITTERED_BEACON_SIZE.0, JITTERED_BEACON_SIZE.0),
            (7, SLOW_SCAN_SIZE.0, SLOW_SCAN_SIZE.0),
            (8, SESSION_FLOOD_SIZE.0, 1),
        ] {
            let too_small = out[k] < min || windows < min_windows;
            if out[k] > 0 && too_small {
                for i in 0..out[k] {
                    out[single[i % single.len()]] += 1;
                }
                out[k] = 0;
            }
        }
    }
    out
}

/// Sizes of the campaigns that make up a budget: each in `min..=max` where possible (a tail
/// smaller than `min` is merged into the last campaign), and never above `cap`.
fn campaign_sizes(
    budget: usize,
    (min, max): (usize, usize),
    cap: usize,
    rng: &mut Sampler,
) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut left = budget;
    while left > 0 {
        let mut size = (rng.range(min as u64, max as u64) as usize).min(left);
        if left - size < min {
            size = left;
        }
        size = size.min(cap.max(1));
        sizes.push(size);
        left -= size;
    }
    sizes
}

/// Plans all attack rows for a run, sorted by `(window, offset)`.
pub(crate) fn plan(
    total: usize,
    mix: &AttackMix,
    windows: usize,
    clients: &ClientPool,
    rng: &mut Sampler,
) -> Vec<AttackRow> {
    let budget = budgets(total, mix, windows);
    let mut attackers = AttackerPool::new();
    let mut rows = Vec::with_capacity(total);
    let win = |rng: &mut Sampler, span: usize| -> u32 {
        rng.index(windows.saturating_sub(span) + 1) as u32
    };

    // Exfiltration and infiltration: a few consecutive windows of one address; half of the
    // campaigns come from a regular client (a compromised or insider host).
    for (kind, size_range, k) in [
        (TrafficKind::Exfiltration, EXFIL_SIZE, 0),
        (TrafficKind::Infiltration, INFIL_SIZE, 1),
    ] {
        for size in campaign_sizes(budget[k], size_range, usize::MAX, rng) {
            let src = if rng.chance(0.5) {
                let c = &clients.clients[rng.weighted(&clients.cumulative)];
                Host {
                    ip: c.ip,
                    country: c.country,
                }
            } else {
                attackers.fresh(rng)
            };
            let consecutive = windows >= size;
            let start = win(rng, if consecutive { size } else { 1 });
            for j in 0..size {
                let (bytes_in, bytes_out) = if kind == TrafficKind::Exfiltration {
                    (
                        rng.log_uniform(200.0, 4_000.0),
                        rng.log_uniform(8.0e6, 2.5e8),
                    )
                } else {
                    (
                        rng.log_uniform(3.0e7, 6.0e8),
                        rng.log_uniform(40.0, 2_000.0),
                    )
                };
                rows.push(AttackRow {
                    window: start + if consecutive { j as u32 } else { 0 },
                    offset: 0,
                    duration: WINDOW_SECS as u32,
                    bytes_in: bytes_in.round() as u64,
                    bytes_out: bytes_out.round() as u64,
                    src,
                    dst_ip: MAIN_SERVER,
                    dst_port: 443,
                    https: true,
                    code: 200,
                    kind,
                    client: None,
                });
            }
        }
    }

    // Flood: one window, many short small sessions at scattered offsets.
    for size in campaign_sizes(budget[2], FLOOD_SIZE, usize::MAX, rng) {
        let src = attackers.fresh(rng);
        let window = win(rng, 1);
        let https = rng.chance(0.6);
        let first = rows.len();
        for _ in 0..size {
            let duration = rng.range(1, 30) as u32;
            let offset = rng.range(0, WINDOW_SECS - 30) as u32;
            let u = rng.unit();
            let code = if u < 0.7 {
                200
            } else if u < 0.85 {
                429
            } else {
                503
            };
            rows.push(AttackRow {
                window,
                offset,
                duration,
                bytes_in: rng.log_uniform(60.0, 1_500.0).round() as u64,
                bytes_out: rng.log_uniform(40.0, 2_500.0).round() as u64,
                src,
                dst_ip: MAIN_SERVER,
                dst_port: if https { 443 } else { 80 },
                https,
                code,
                kind: TrafficKind::Flood,
                client: None,
            });
        }
        rows[first..].sort_by_key(|r| r.offset);
    }

    // Scan: distinct (dst_ip, dst_port) targets by construction, over one or two windows.
    for size in campaign_sizes(budget[3], SCAN_SIZE, usize::MAX, rng) {
        let src = attackers.fresh(rng);
        let span = if size > 60 && windows >= 2 { 2 } else { 1 };
        let start = win(rng, span);
        let targets = ScanTargets::new(rng);
        for j in 0..size {
            rows.push(probe(
                &targets,
                j,
                start + (j * span / size) as u32,
                src,
                TrafficKind::Scan,
                rng,
            ));
        }
    }

    // Beacon: identical sessions at a fixed phase every `period` windows.
    for size in campaign_sizes(budget[4], BEACON_SIZE, windows, rng) {
        let src = attackers.fresh(rng);
        let mut period = rng.range(1, 3) as usize;
        while period > 1 && (size - 1) * period + 1 > windows {
            period -= 1;
        }
        let start = win(rng, (size - 1) * period + 1);
        let duration = rng.range(5, 60) as u32;
        let offset = rng.range(0, WINDOW_SECS - 60) as u32;
        let bytes_in = rng.range(300, 1_500);
        let bytes_out = rng.range(200, 900);
        for j in 0..size {
            rows.push(AttackRow {
                window: start + (j * period) as u32,
                offset,
                duration,
                bytes_in,
                bytes_out,
                src,
                dst_ip: MAIN_SERVER,
                dst_port: 443,
                https: true,
                code: 200,
                kind: TrafficKind::Beacon,
                client: None,
            });
        }
    }

    plan_mimicking(&budget, windows, clients, &mut attackers, &mut rows, rng);

    rows.sort_by_key(|r| (r.window, r.offset));
    rows
}

/// The targets of one scan: a port sweep of one host, a host sweep on one port, or both at once;
/// the `j`th probe's target differs from every earlier one (for `j` below 1,000).
struct ScanTargets {
    mode: u64,
    ports: Vec<u16>,
    high_base: u16,
    host_base: u32,
    fixed_host: u32,
}

impl ScanTargets {
    /// Scans go to the web servers' network.
    const NET: u32 = ipv4(10, 138, 64, 0);

    fn new(rng: &mut Sampler) -> Self {
        let mode = rng.below(10); // 0-4 port sweep, 5-7 host sweep, 8-9 both
        let mut ports = SCAN_PORTS.to_vec();
        rng.shuffle(&mut ports);
        let high_base = rng.range(30_000, 65_000) as u16;
        let host_base = rng.range(1, 4_096 - 130) as u32;
        let fixed_host = Self::NET + rng.range(1, 1_023) as u32;
        Self {
            mode,
            ports,
            high_base,
            host_base,
            fixed_host,
        }
    }

    /// `(dst_ip, dst_port)` of the `j`th probe.
    fn target(&self, j: usize) -> (u32, u16) {
        let port_j = if j < self.ports.len() {
            self.ports[j]
        } else {
            self.high_base.wrapping_add((j - self.ports.len()) as u16)
        };
        let host_j = Self::NET + self.host_base + j as u32;
        match self.mode {
            0..=4 => (self.fixed_host, port_j),
            5..=7 => (host_j, self.ports[0]),
            _ => (host_j, port_j),
        }
    }
}

/// The `j`th probe of a scan of `kind`: tiny byte counts, answered 403, 404 or 400 (slow-scan
/// answers have at least the 44 bytes of the smallest normal rows).
fn probe(
    targets: &ScanTargets,
    j: usize,
    window: u32,
    src: Host,
    kind: TrafficKind,
    rng: &mut Sampler,
) -> AttackRow {
    let (dst_ip, dst_port) = targets.target(j);
    let u = rng.unit();
    let code = if u < 0.45 {
        403
    } else if u < 0.9 {
        404
    } else {
        400
    };
    AttackRow {
        window,
        offset: 0,
        duration: WINDOW_SECS as u32,
        bytes_in: rng.range(40, 120),
        bytes_out: rng.range(if kind == TrafficKind::Scan { 40 } else { 44 }, 200),
        src,
        dst_ip,
        dst_port,
        https: dst_port == 443 || dst_port == 8443,
        code,
        kind,
        client: None,
    }
}

/// A window-long row (as normal rows are) of a mimicking kind to the main web server.
fn window_row(
    window: u32,
    (bytes_in, bytes_out): (u64, u64),
    src: Host,
    https: bool,
    code: u16,
    kind: TrafficKind,
) -> AttackRow {
    AttackRow {
        window,
        offset: 0,
        duration: WINDOW_SECS as u32,
        bytes_in,
        bytes_out,
        src,
        dst_ip: MAIN_SERVER,
        dst_port: if https { 443 } else { 80 },
        https,
        code,
        kind,
        client: None,
    }
}

/// Gaps (in windows) between `n` rows of a campaign, each in `1..=max_gap`, all 1 when the
/// drawn gaps would not fit `windows`; returns the gaps and the span `1 + sum(gaps)`.
fn gaps(n: usize, max_gap: u64, windows: usize, rng: &mut Sampler) -> (Vec<u32>, usize) {
    let mut gaps: Vec<u32> = (1..n).map(|_| rng.range(1, max_gap) as u32).collect();
    let mut span = 1 + gaps.iter().map(|&g| g as usize).sum::<usize>();
    if span > windows {
        gaps.fill(1);
        span = n;
    }
    (gaps, span)
}

/// Plans the rows of the kinds that mimic normal traffic (budgets 5 to 8), after every other
/// kind, so that a mix without them leaves the other rows as they were.
fn plan_mimicking(
    budget: &[usize; KINDS],
    windows: usize,
    clients: &ClientPool,
    attackers: &mut AttackerPool,
    rows: &mut Vec<AttackRow>,
    rng: &mut Sampler,
) {
    let win = |rng: &mut Sampler, span: usize| -> u32 {
        rng.index(windows.saturating_sub(span) + 1) as u32
    };

    // Slow exfiltration: a regular client's rows with its usual bytes_in and a raised share of
    // bytes_out, in windows 1-3 apart (one row per window: the client's traffic of the window).
    for size in campaign_sizes(budget[5], SLOW_EXFIL_SIZE, windows, rng) {
        // a regular client (not a bulk-transfer one, whose raised bytes_out would leave the
        // normal range); the pool's first client is always regular
        let mut idx = rng.weighted(&clients.cumulative);
        for _ in 0..16 {
            if !clients.clients[idx].heavy {
                break;
            }
            idx = rng.weighted(&clients.cumulative);
        }
        if clients.clients[idx].heavy {
            idx = 0;
        }
        let client = &clients.clients[idx];
        let src = Host {
            ip: client.ip,
            country: client.country,
        };
        // A bit above the client's usual share, and no further than normal rows go (the pool's
        // clients have ratios up to 5): clients with high ratios get small factors.
        let factor = rng.uniform(1.5, 3.0).min(3.0 / client.ratio).max(1.25);
        let (gaps, span) = gaps(size, 3, windows, rng);
        let mut window = win(rng, span);
        let https = rng.chance(0.9);
        for j in 0..size {
            if j > 0 {
                window += gaps[j - 1];
            }
            let (bytes_in, bytes_out) = client.session_bytes(rng);
            let mut row = window_row(
                window,
                clamp_normal_bytes(bytes_in, bytes_out * factor),
                src,
                https,
                200,
                TrafficKind::SlowExfiltration,
            );
            row.client = Some(idx);
            rows.push(row);
        }
    }

    // Jittered beacon: check-ins every `period x (1 - jitter x u)` seconds, summed per window.
    for size in campaign_sizes(budget[6], JITTERED_BEACON_SIZE, windows, rng) {
        let src = attackers.fresh(rng);
        let window_s = WINDOW_SECS as f64;
        // A sleep never exceeds the period, so consecutive check-ins are at most
        // ceil(period / window) windows apart: cap the period so `size` windows fit.
        let most_apart = if size > 1 {
            ((windows - 1) / (size - 1)).max(1)
        } else {
            windows
        };
        let period = rng
            .log_uniform(120.0, 1_800.0)
            .min(most_apart as f64 * window_s);
        let jitter = rng.uniform(0.2, 0.5);
        let base_in = rng.log_uniform(300.0, 3_000.0);
        let base_out = base_in * rng.log_normal(1.05, 0.55).clamp(0.2, 5.0);
        let span = 1 + (size - 1) * (period / window_s).ceil() as usize;
        let first = win(rng, span.min(windows));
        let mut t = rng.unit() * period.min(window_s);
        let mut current = (0u32, 0.0f64, 0.0f64); // window offset, bytes in, bytes out
        let mut made = 0;
        loop {
            let w = (t / window_s) as u32;
            if w != current.0 && current.1 > 0.0 {
                rows.push(window_row(
                    first + current.0,
                    (current.1.round() as u64, current.2.round() as u64),
                    src,
                    true,
                    200,
                    TrafficKind::JitteredBeacon,
                ));
                made += 1;
                if made == size {
                    break;
                }
                current = (w, 0.0, 0.0);
            }
            current.0 = w;
            current.1 += base_in * rng.uniform(0.9, 1.1);
            current.2 += base_out * rng.uniform(0.9, 1.1);
            t += period * (1.0 - jitter * rng.unit());
        }
    }

    // Slow scan: 1-3 probes per window in windows 1-4 apart, every probe to a new target.
    for size in campaign_sizes(budget[7], SLOW_SCAN_SIZE, windows, rng) {
        let src = attackers.fresh(rng);
        let mut per_window = Vec::new();
        let mut left = size;
        while left > 0 {
            let u = rng.unit();
            let n = if u < 0.6 {
                1
            } else if u < 0.9 {
                2
            } else {
                3
            };
            per_window.push(n.min(left));
            left -= n.min(left);
        }
        let (gaps, span) = gaps(per_window.len(), 4, windows, rng);
        let mut window = win(rng, span);
        let targets = ScanTargets::new(rng);
        let mut j = 0;
        for (i, &n) in per_window.iter().enumerate() {
            if i > 0 {
                window += gaps[i - 1];
            }
            for _ in 0..n {
                rows.push(probe(&targets, j, window, src, TrafficKind::SlowScan, rng));
                j += 1;
            }
        }
    }

    // Session flood: a new address with a regular client's profile, 3-12 sessions per window
    // over 1-3 consecutive windows.
    for size in campaign_sizes(budget[8], SESSION_FLOOD_SIZE, usize::MAX, rng) {
        let src = attackers.fresh(rng);
        let profile = Client::regular(src, rng);
        let span = (rng.range(1, 3) as usize)
            .max(size.div_ceil(12))
            .min(size / 3)
            .clamp(1, windows);
        let start = win(rng, span);
        let https = rng.chance(0.9);
        for j in 0..size {
            let (bytes_in, bytes_out) = profile.session_bytes(rng);
            let code = if rng.chance(0.1) { 429 } else { 200 };
            rows.push(window_row(
                start + (j * span / size) as u32,
                clamp_normal_bytes(bytes_in, bytes_out),
                src,
                https,
                code,
                TrafficKind::SessionFlood,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_sum_and_small_sanity() {
        let mix = AttackMix::default();
        for total in [0, 1, 2, 3, 7, 30, 31, 100, 3_000] {
            let b = budgets(total, &mix, 50);
            assert_eq!(b.iter().sum::<usize>(), total, "{total}: {b:?}");
            assert!(b[2] == 0 || b[2] >= FLOOD_SIZE.0, "{b:?}");
            assert!(b[3] == 0 || b[3] >= SCAN_SIZE.0, "{b:?}");
            assert!(b[4] == 0 || b[4] >= BEACON_SIZE.0, "{b:?}");
        }
        let b = budgets(3_000, &mix, 2);
        assert_eq!(b[4], 0, "beacons need several windows: {b:?}");
    }

    #[test]
    fn budgets_respect_zero_weights() {
        let only_scan = AttackMix {
            exfiltration: 0.0,
            infiltration: 0.0,
            flood: 0.0,
            scan: 1.0,
            beacon: 0.0,
            ..AttackMix::mimicking(0.0)
        };
        assert_eq!(budgets(3, &only_scan, 10), [0, 0, 0, 3, 0, 0, 0, 0, 0]);
        assert_eq!(budgets(50, &only_scan, 10), [0, 0, 0, 50, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn campaign_sizes_cover_budget() {
        let mut rng = Sampler::new(9, 0);
        for budget in [0, 1, 5, 8, 9, 17, 400, 401, 5_000] {
            let sizes = campaign_sizes(budget, FLOOD_SIZE, usize::MAX, &mut rng);
            assert_eq!(sizes.iter().sum::<usize>(), budget);
            if budget >= FLOOD_SIZE.0 {
                assert!(sizes.iter().all(|&s| s >= FLOOD_SIZE.0), "{sizes:?}");
            }
            let capped = campaign_sizes(budget, BEACON_SIZE, 7, &mut rng);
            assert_eq!(capped.iter().sum::<usize>(), budget);
            assert!(capped.iter().all(|&s| s <= 7));
        }
    }
}
