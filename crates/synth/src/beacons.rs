//! Requested beacons ([`BeaconPlan`]) and the outbound traffic they hide in: internal hosts
//! checking in on a timer with a known jitter with external addresses, among internal hosts
//! talking to external services at irregular times.
//!
//! Only [`GenConfig::beacons`](crate::GenConfig::beacons) non-empty adds these rows; they come
//! out of the normal-row budget (so `rows` stays exact) and use their own random streams (3 to
//! plan, 4 to interleave), so the rest of the traffic is drawn as without them.
//!
//! - A beacon pair is an internal source (`10.40.0.0/16`), an external destination (public
//!   ranges) and port 443, 8443 or 8080. It checks in from a random phase at the start of the
//!   run to its end; each sleep is `period_s x (1 - jitter x u)` with `u` uniform in `[0, 1)`
//!   (the jitter of common C2 frameworks: up to `jitter` of the period taken off each sleep).
//!   Sizes are nearly constant (a per-pair base plus 0-16 bytes in, 0-32 bytes out), sessions
//!   1-3 s. Rows are [`TrafficKind::Beacon`] (label 1); [`BeaconTruth`] lists every pair.
//! - Outbound normal traffic: `max(20, 3 x beacon pairs)` internal sources in the same `/16`,
//!   each with one external service (port 443 or 80), connecting at Poisson times (mean gap
//!   log-uniform in 5-60 min) thinned to a fifth outside 08:00-18:00 UTC, a third of arrivals
//!   followed by 1-5 more connections within half a minute, with log-normal sizes; label 0.

use crate::format::Flow;
use crate::rng::Sampler;
use crate::write::ipv4;
use crate::{GenConfig, SynthError, TrafficKind, WINDOW_SECS};
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// One group of beacon pairs with the same period and jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeaconPlan {
    /// Jitter as a fraction of the period, in `[0, 1)`: each sleep is the period minus a uniform
    /// random share of up to `jitter` of it.
    pub jitter: f64,
    /// Period in seconds (1 to 86 400).
    pub period_s: u64,
    /// Number of pairs (1 to 1000).
    pub pairs: usize,
}

impl BeaconPlan {
    /// Three pairs per jitter level, with periods of 300, 600 and 900 s: the plans of
    /// `xtask gen-data --beacons`.
    pub fn levels(jitters: &[f64]) -> Vec<BeaconPlan> {
        jitters
            .iter()
            .flat_map(|&jitter| {
                [300, 600, 900].map(|period_s| BeaconPlan {
                    jitter,
                    period_s,
                    pairs: 1,
                })
            })
            .collect()
    }

    pub(crate) fn check(&self) -> Result<(), SynthError> {
        let bad = |what: String| Err(SynthError::Beacon(what));
        if !(0.0..1.0).contains(&self.jitter) {
            return bad(format!("jitter must be in [0, 1), got {}", self.jitter));
        }
        if !(1..=86_400).contains(&self.period_s) {
            return bad(format!(
                "period_s must be between 1 and 86400, got {}",
                self.period_s
            ));
        }
        if !(1..=1_000).contains(&self.pairs) {
            return bad(format!(
                "pairs must be between 1 and 1000, got {}",
                self.pairs
            ));
        }
        Ok(())
    }
}

/// One generated beacon pair: what a detector should find.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconTruth {
    /// Internal source address.
    pub src: Ipv4Addr,
    /// External destination address.
    pub dst: Ipv4Addr,
    /// Destination port.
    pub dst_port: u16,
    /// The plan's jitter.
    pub jitter: f64,
    /// The plan's period in seconds.
    pub period_s: u64,
    /// Rows of the pair.
    pub rows: usize,
}

/// `jitter` is checked finite before any truth exists, so equality is total.
impl Eq for BeaconTruth {}

/// External destinations of beacons (`/16` prefixes) and of outbound normal services.
const C2_PREFIXES: [[u8; 2]; 4] = [[185, 220], [91, 215], [23, 94], [45, 137]];
const SERVICE_PREFIXES: [[u8; 2]; 4] = [[151, 101], [104, 18], [52, 84], [142, 250]];
/// Beacon destination ports.
const C2_PORTS: [u16; 3] = [443, 8443, 8080];

/// The extra rows, grouped by window and sorted by time within each, and the truth.
pub(crate) struct Extra {
    pub(crate) per_window: Vec<Vec<Flow>>,
    pub(crate) truth: Vec<BeaconTruth>,
    pub(crate) rows: usize,
}

/// Plans the beacon and outbound rows of `cfg` over `windows` windows.
pub(crate) fn plan(cfg: &GenConfig, windows: usize) -> Extra {
    let mut per_window: Vec<Vec<Flow>> = vec![Vec::new(); windows];
    let mut truth = Vec::new();
    if cfg.beacons.is_empty() {
        return Extra {
            per_window,
            truth,
            rows: 0,
        };
    }
    let mut rng = Sampler::new(cfg.seed, 3);
    let start = cfg.start;
    let end = start + windows as i64 * WINDOW_SECS as i64;
    let mut used = HashSet::new();
    let mut fresh = |prefix: [u8; 2], rng: &mut Sampler| loop {
        let ip = ipv4(
            prefix[0],
            prefix[1],
            rng.range(1, 255) as u8,
            rng.range(1, 255) as u8,
        );
        if used.insert(ip) {
            return ip;
        }
    };
    let mut rows = 0;
    let mut push = |flow: Flow, per_window: &mut Vec<Vec<Flow>>| {
        let w = ((flow.start - start) / WINDOW_SECS as i64) as usize;
        per_window[w].push(flow);
        rows += 1;
    };
    let flow = |t: i64, src: u32, dst: u32, port: u16, dur: i64, sizes: (u64, u64), kind| {
        let window_end = start + ((t - start) / WINDOW_SECS as i64 + 1) * WINDOW_SECS as i64;
        Flow {
            start: t,
            end: (t + dur).min(window_end),
            src_ip: src,
            country: *b"US",
            dst_ip: dst,
            dst_port: port,
            https: port != 80,
            code: 200,
            bytes_in: sizes.0,
            bytes_out: sizes.1,
            kind,
        }
    };

    let mut beacon_pairs = 0;
    for plan in &cfg.beacons {
        for _ in 0..plan.pairs {
            beacon_pairs += 1;
            let src = fresh([10, 40], &mut rng);
            let dst = fresh(C2_PREFIXES[rng.index(C2_PREFIXES.len())], &mut rng);
            let port = C2_PORTS[rng.index(C2_PORTS.len())];
            let (base_in, base_out) = (rng.range(200, 1_200), rng.range(100, 3_000));
            let period = plan.period_s as f64;
            let mut t = start as f64 + rng.unit() * period;
            let mut n = 0;
            while (t as i64) < end {
                let sizes = (base_in + rng.below(17), base_out + rng.below(33));
                let dur = rng.range(1, 4) as i64;
                push(
                    flow(t as i64, src, dst, port, dur, sizes, TrafficKind::Beacon),
                    &mut per_window,
                );
                n += 1;
                t += period * (1.0 - plan.jitter * rng.unit());
            }
            truth.push(BeaconTruth {
                src: Ipv4Addr::from(src),
                dst: Ipv4Addr::from(dst),
                dst_port: port,
                jitter: plan.jitter,
                period_s: plan.period_s,
                rows: n,
            });
        }
    }

    for _ in 0..(3 * beacon_pairs).max(20) {
        let src = fresh([10, 40], &mut rng);
        let dst = fresh(
            SERVICE_PREFIXES[rng.index(SERVICE_PREFIXES.len())],
            &mut rng,
        );
        let port = if rng.chance(0.8) { 443 } else { 80 };
        let mean_gap = rng.log_uniform(300.0, 3_600.0);
        let (median_in, median_out) = (rng.log_uniform(1e3, 2e4), rng.log_uniform(5e3, 1e5));
        let mut t = start as f64;
        loop {
            t += -mean_gap * crate::rng::ln(1.0 - rng.unit());
            if t as i64 >= end {
                break;
            }
            let hour = (t as i64).rem_euclid(86_400) / 3_600;
            if !(8..18).contains(&hour) && !rng.chance(0.2) {
                continue;
            }
            let burst = if rng.chance(1.0 / 3.0) {
                rng.range(1, 6)
            } else {
                0
            };
            let mut at = t as i64;
            for _ in 0..=burst {
                if at >= end {
                    break;
                }
                let sizes = (
                    rng.log_normal(median_in, 1.0).clamp(40.0, 1e8) as u64,
                    rng.log_normal(median_out, 1.2).clamp(44.0, 1e9) as u64,
                );
                let dur = rng.range(1, 60) as i64;
                push(
                    flow(at, src, dst, port, dur, sizes, TrafficKind::Normal),
                    &mut per_window,
                );
                at += rng.range(1, 31) as i64;
            }
        }
    }
    for w in &mut per_window {
        w.sort_by_key(|f| (f.start, f.src_ip));
    }
    Extra {
        per_window,
        truth,
        rows,
    }
}
