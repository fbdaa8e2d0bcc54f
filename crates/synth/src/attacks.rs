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
//! Tiny budgets stay sane: a multi-row kind whose share is smaller than its minimum campaign is
//! converted into single-row exfiltration/infiltration rows rather than producing a "flood" of two.

use crate::pool::{AttackerPool, ClientPool, Host};
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
}

/// Splits `total` rows over the attack kinds in proportion to `mix` (largest remainder, ties to the
/// earlier kind), then moves budgets too small for a campaign to the single-row kinds.
pub(crate) fn budgets(total: usize, mix: &AttackMix, windows: usize) -> [usize; 5] {
    let weights = mix.weights();
    let sum: f64 = weights.iter().sum();
    let mut out = [0usize; 5];
    if total == 0 || sum <= 0.0 {
        return out;
    }
    let mut rem = [0.0f64; 5];
    for k in 0..5 {
        let exact = total as f64 * weights[k] / sum;
        out[k] = exact.floor() as usize;
        rem[k] = exact - out[k] as f64;
    }
    let mut missing = total - out.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..5).collect();
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
    // Sanity for small budgets: flood (2), scan (3), beacon (4) need a minimum campaign size.
    let single: Vec<usize> = [0usize, 1]
        .into_iter()
        .filter(|&k| weights[k] > 0.0)
        .collect();
    if !single.is_empty() {
        let beacon_min = BEACON_SIZE.0;
        for (k, min) in [(2, FLOOD_SIZE.0), (3, SCAN_SIZE.0), (4, beacon_min)] {
            let too_small = out[k] < min || (k == 4 && windows < beacon_min);
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
            });
        }
        rows[first..].sort_by_key(|r| r.offset);
    }

    // Scan: distinct (dst_ip, dst_port) targets by construction, over one or two windows.
    let scan_net = ipv4(10, 138, 64, 0);
    for size in campaign_sizes(budget[3], SCAN_SIZE, usize::MAX, rng) {
        let src = attackers.fresh(rng);
        let span = if size > 60 && windows >= 2 { 2 } else { 1 };
        let start = win(rng, span);
        let mode = rng.below(10); // 0-4 port sweep, 5-7 host sweep, 8-9 both
        let mut ports = SCAN_PORTS.to_vec();
        rng.shuffle(&mut ports);
        let high_base = rng.range(30_000, 65_000) as u16;
        let fixed_port = ports[0];
        let host_base = rng.range(1, 4_096 - 130) as u32;
        let fixed_host = scan_net + rng.range(1, 1_023) as u32;
        for j in 0..size {
            let port_j = if j < ports.len() {
                ports[j]
            } else {
                high_base + (j - ports.len()) as u16
            };
            let (dst_ip, dst_port) = match mode {
                0..=4 => (fixed_host, port_j),
                5..=7 => (scan_net + host_base + j as u32, fixed_port),
                _ => (scan_net + host_base + j as u32, port_j),
            };
            let u = rng.unit();
            let code = if u < 0.45 {
                403
            } else if u < 0.9 {
                404
            } else {
                400
            };
            rows.push(AttackRow {
                window: start + (j * span / size) as u32,
                offset: 0,
                duration: WINDOW_SECS as u32,
                bytes_in: rng.range(40, 120),
                bytes_out: rng.range(40, 200),
                src,
                dst_ip,
                dst_port,
                https: dst_port == 443 || dst_port == 8443,
                code,
                kind: TrafficKind::Scan,
            });
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
            });
        }
    }

    rows.sort_by_key(|r| (r.window, r.offset));
    rows
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
        };
        assert_eq!(budgets(3, &only_scan, 10), [0, 0, 0, 3, 0]);
        assert_eq!(budgets(50, &only_scan, 10), [0, 0, 0, 50, 0]);
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
