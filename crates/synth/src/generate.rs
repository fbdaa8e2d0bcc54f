//! The streaming row writer: spreads normal rows over the windows, interleaves the planned attack
//! rows, decides each row once as a [`Flow`] and has the chosen output format append it to one
//! reused buffer that is flushed in large chunks.
//!
//! Random streams: stream 0 builds the client pool and the per-window row counts, stream 1 plans
//! the attacks and stream 2 draws the normal rows, so changing the attack settings does not
//! reshuffle the client population. Requested beacons and their outbound traffic
//! ([`crate::beacons`]) use streams 3 and 4 and nothing else when none are requested.

use crate::attacks::{self, AttackRow, MAIN_SERVER};
use crate::beacons;
use crate::format::{Alb, Cloudwatch, Flow, OutputFormat, RowFormat, VpcFlow, Zeek};
use crate::pool::{self, Client, ClientPool, Host};
use crate::rng::Sampler;
use crate::write::ipv4;
use crate::{GenConfig, GenSummary, SynthError, TrafficKind, WINDOW_SECS};
use std::io::Write;

/// Bytes buffered before each write to the output.
const FLUSH_AT: usize = 1 << 16;

/// Secondary web servers that receive a small share of normal traffic.
const OTHER_SERVERS: [u32; 3] = [
    ipv4(10, 138, 69, 98),
    ipv4(10, 138, 69, 102),
    ipv4(10, 138, 70, 15),
];

// Probabilities of normal-row variety, as thresholds on 16-bit random fields.
const P16: f64 = 65_536.0;
const HTTP_BELOW: u32 = (0.08 * P16) as u32;
const OTHER_SERVER_BELOW: u32 = (0.12 * P16) as u32;
const LATE_BELOW: u32 = (0.015 * P16) as u32;
const NOISE_BELOW: u32 = LATE_BELOW + (0.012 * P16) as u32;
/// Response codes of normal rows with cumulative 16-bit thresholds (200 about 93 %).
const CODES: [(u32, u16); 7] = [
    ((0.930 * P16) as u32, 200),
    ((0.950 * P16) as u32, 304),
    ((0.965 * P16) as u32, 302),
    ((0.975 * P16) as u32, 301),
    ((0.990 * P16) as u32, 404),
    ((0.995 * P16) as u32, 403),
    (65_536, 500),
];

/// Upper bound on normal byte counts (keeps pathological tails bounded).
const MAX_NORMAL_BYTES: f64 = 1.0e9;

/// Session byte counts rounded into the range of normal rows (40 and 44 bytes up to 1 GB).
pub(crate) fn clamp_normal_bytes(bytes_in: f64, bytes_out: f64) -> (u64, u64) {
    (
        bytes_in.clamp(40.0, MAX_NORMAL_BYTES).round() as u64,
        bytes_out.clamp(44.0, MAX_NORMAL_BYTES).round() as u64,
    )
}

/// Writes `cfg.rows` rows of labeled synthetic traffic to `out` in the format `cfg.format` and
/// reports what it wrote.
///
/// The default [`OutputFormat::Cloudwatch`] writes a CSV with the header [`HEADER`](crate::HEADER),
/// CRLF line endings and no newline after the last row; see [`OutputFormat`] for the others. Every
/// format carries the same rows in the same order. `out` is written in 64 KiB chunks, so
/// wrapping it in a `BufWriter` is unnecessary.
pub fn generate<W: Write>(cfg: &GenConfig, out: W) -> Result<GenSummary, SynthError> {
    cfg.validate()?;
    match cfg.format {
        OutputFormat::Cloudwatch => write_rows(cfg, out, Cloudwatch::new()),
        OutputFormat::Zeek => write_rows(cfg, out, Zeek::new(cfg.seed)),
        OutputFormat::VpcFlow => write_rows(cfg, out, VpcFlow::new(cfg.seed)),
        OutputFormat::Alb => write_rows(cfg, out, Alb::new(cfg.seed)),
    }
}

/// The generator proper, monomorphized per format (no dynamic dispatch per row).
fn write_rows<W: Write, F: RowFormat>(
    cfg: &GenConfig,
    mut out: W,
    format: F,
) -> Result<GenSummary, SynthError> {
    let attack_total = cfg.attack_rows();
    let windows = cfg.resolved_windows();
    let extra = beacons::plan(cfg, windows);
    let Some(normal_total) = (cfg.rows - attack_total).checked_sub(extra.rows) else {
        return Err(SynthError::Beacon(format!(
            "the beacons and their outbound traffic need {} rows but only {} normal rows are left; \
             raise rows or lower the attack fraction",
            extra.rows,
            cfg.rows - attack_total
        )));
    };
    let n_ips = cfg.resolved_source_ips();

    let mut setup = Sampler::new(cfg.seed, 0);
    let clients = ClientPool::new(n_ips, &mut setup);
    let per_window = spread(normal_total, windows, &mut setup);
    let plan = attacks::plan(
        attack_total,
        &cfg.attack_mix,
        windows,
        &clients,
        &mut Sampler::new(cfg.seed, 1),
    );
    debug_assert_eq!(plan.len(), attack_total);

    let mut writer = RowWriter {
        buf: Vec::with_capacity(FLUSH_AT + 4096),
        summary: GenSummary {
            windows,
            source_ips: n_ips,
            start: cfg.start,
            end: cfg.start + (windows as u64 * WINDOW_SECS) as i64,
            beacons: extra.truth,
            ..GenSummary::default()
        },
        format,
    };
    writer.format.begin(&mut writer.buf, &writer.summary);

    let mut rng = Sampler::new(cfg.seed, 2);
    let mut mix_extra = Sampler::new(cfg.seed, 4);
    let mut last_seen = vec![u32::MAX; n_ips];
    // Regular clients whose traffic of the previous window was an attack row: none of their
    // normal rows may arrive late into that window.
    let mut taken_before: Vec<usize> = Vec::new();
    let mut taken_now: Vec<usize> = Vec::new();
    let mut next_attack = 0;
    for (w, &normal_here) in per_window.iter().enumerate() {
        let w = w as u32;
        let attack_end = next_attack
            + plan[next_attack..]
                .iter()
                .take_while(|a| a.window == w)
                .count();
        let window_start = cfg.start + i64::from(w) * WINDOW_SECS as i64;
        // A regular client whose traffic of this window is an attack row has no normal row in it.
        std::mem::swap(&mut taken_before, &mut taken_now);
        taken_now.clear();
        for a in &plan[next_attack..attack_end] {
            if let Some(idx) = a.client {
                last_seen[idx] = w;
                taken_now.push(idx);
            }
        }

        let mut normal_left = normal_here as u64;
        let mut attack_left = (attack_end - next_attack) as u64;
        let extras = &extra.per_window[w as usize];
        let mut extra_next = 0;
        while normal_left + attack_left + (extras.len() - extra_next) as u64 > 0 {
            // beacon and outbound rows, in time order, at random places among the others
            let extra_left = (extras.len() - extra_next) as u64;
            if extra_left > 0
                && mix_extra.below(extra_left + normal_left + attack_left) < extra_left
            {
                writer.emit(&extras[extra_next]);
                extra_next += 1;
            } else if attack_left > 0 && rng.below(normal_left + attack_left) < attack_left {
                writer.emit(&attack_flow(&plan[next_attack], window_start));
                next_attack += 1;
                attack_left -= 1;
            } else {
                let mut idx = pick_client(&clients, &mut last_seen, w, &mut rng);
                // never a client whose traffic of this window is an attack row (while others
                // remain: the bound only matters for pools of one or two clients)
                for _ in 0..64 {
                    if !taken_now.contains(&idx) {
                        break;
                    }
                    idx = pick_client(&clients, &mut last_seen, w, &mut rng);
                }
                let may_be_late = !taken_before.contains(&idx);
                let client = &clients.clients[idx];
                writer.emit(&normal_flow(client, w, may_be_late, cfg.start, &mut rng));
                normal_left -= 1;
            }
            if writer.buf.len() >= FLUSH_AT {
                out.write_all(&writer.buf)?;
                writer.buf.clear();
            }
        }
    }
    debug_assert_eq!(next_attack, plan.len());
    writer.format.finish(&mut writer.buf, &writer.summary);
    out.write_all(&writer.buf)?;
    out.flush()?;
    Ok(writer.summary)
}

/// Spreads `total` rows over `windows` windows with +-50 % jitter; the counts sum to `total`.
fn spread(total: usize, windows: usize, rng: &mut Sampler) -> Vec<u32> {
    let weights: Vec<f64> = (0..windows).map(|_| rng.uniform(0.5, 1.5)).collect();
    let sum: f64 = weights.iter().sum();
    let mut counts = Vec::with_capacity(windows);
    let mut acc = 0.0;
    let mut given = 0usize;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        let upto = if i + 1 == windows {
            total
        } else {
            ((total as f64 * acc / sum).floor() as usize).clamp(given, total)
        };
        counts.push((upto - given) as u32);
        given = upto;
    }
    counts
}

/// A popularity-weighted client (its index in the pool), avoiding clients already seen in this
/// window when possible (flow logs aggregate one row per address and window).
fn pick_client(pool: &ClientPool, last_seen: &mut [u32], window: u32, rng: &mut Sampler) -> usize {
    let mut idx = rng.weighted(&pool.cumulative);
    for _ in 0..8 {
        if last_seen[idx] != window {
            break;
        }
        idx = rng.weighted(&pool.cumulative);
    }
    last_seen[idx] = window;
    idx
}

/// The output buffer, the running summary and the output format.
struct RowWriter<F> {
    buf: Vec<u8>,
    summary: GenSummary,
    format: F,
}

impl<F: RowFormat> RowWriter<F> {
    /// Formats `flow` as the next row and counts it.
    #[inline]
    fn emit(&mut self, flow: &Flow) {
        self.format
            .row(&mut self.buf, self.summary.rows as u64, flow);
        self.summary.add(flow.kind);
    }
}

/// Draws one normal row of `client` (or, rarely, of a one-off noise address) in window `w` of a
/// run starting at `first_start`.
///
/// Kept apart from the (generic) formatting so that the sampling code is compiled once.
fn normal_flow(
    client: &Client,
    w: u32,
    may_be_late: bool,
    first_start: i64,
    rng: &mut Sampler,
) -> Flow {
    let bits = rng.next_u64();
    let proto_f = (bits & 0xffff) as u32;
    let code_f = ((bits >> 16) & 0xffff) as u32;
    let dst_f = ((bits >> 32) & 0xffff) as u32;
    let role_f = (bits >> 48) as u32;

    let (src, bytes_in, bytes_out) = if (LATE_BELOW..NOISE_BELOW).contains(&role_f) {
        let host = pool::noise_host(rng);
        let bytes_in = rng.log_uniform(40.0, 1_000.0);
        let bytes_out = rng.log_uniform(44.0, 5_000.0);
        (host, bytes_in, bytes_out)
    } else {
        let (bytes_in, bytes_out) = client.session_bytes(rng);
        let host = Host {
            ip: client.ip,
            country: client.country,
        };
        (host, bytes_in, bytes_out)
    };
    let (bytes_in, bytes_out) = clamp_normal_bytes(bytes_in, bytes_out);

    let https = proto_f >= HTTP_BELOW;
    let code = CODES
        .iter()
        .find(|(below, _)| code_f < *below)
        .map_or(200, |&(_, c)| c);
    let dst_ip = if dst_f < OTHER_SERVER_BELOW {
        OTHER_SERVERS[(dst_f % 3) as usize]
    } else {
        MAIN_SERVER
    };
    // A late-arriving record of the previous window makes the file only roughly ordered.
    let window = if role_f < LATE_BELOW && w > 0 && may_be_late {
        w - 1
    } else {
        w
    };
    let start = first_start + i64::from(window) * WINDOW_SECS as i64;
    Flow {
        start,
        end: start + WINDOW_SECS as i64,
        src_ip: src.ip,
        country: src.country,
        dst_ip,
        dst_port: if https { 443 } else { 80 },
        https,
        code,
        bytes_in,
        bytes_out,
        kind: TrafficKind::Normal,
    }
}

/// The planned attack row `row` of the window starting at `window_start`.
fn attack_flow(row: &AttackRow, window_start: i64) -> Flow {
    let start = window_start + i64::from(row.offset);
    Flow {
        start,
        end: start + i64::from(row.duration),
        src_ip: row.src.ip,
        country: row.src.country,
        dst_ip: row.dst_ip,
        dst_port: row.dst_port,
        https: row.https,
        code: row.code,
        bytes_in: row.bytes_in,
        bytes_out: row.bytes_out,
        kind: row.kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;
    use crate::{AttackMix, HEADER, SEED_FILE_START};
    use std::collections::{BTreeMap, BTreeSet};

    #[derive(Debug, Clone)]
    struct Row {
        bytes_in: u64,
        bytes_out: u64,
        creation: i64,
        end: i64,
        src: String,
        country: String,
        protocol: String,
        code: u16,
        port: u16,
        dst: String,
        label: u8,
        kind: TrafficKind,
    }

    fn run(cfg: &GenConfig) -> (Vec<u8>, GenSummary) {
        let mut out = Vec::new();
        let summary = generate(cfg, &mut out).expect("generate");
        (out, summary)
    }

    fn cfg(rows: usize, seed: u64) -> GenConfig {
        GenConfig {
            rows,
            seed,
            ..GenConfig::default()
        }
    }

    fn parse(csv: &[u8]) -> Vec<Row> {
        let text = std::str::from_utf8(csv).expect("utf8");
        let mut lines = text.split("\r\n");
        assert_eq!(lines.next(), Some(HEADER));
        lines
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                assert_eq!(f.len(), 18, "{line}");
                let creation = parse_timestamp(f[2]).expect("creation_time");
                assert_eq!(f[14], f[2], "time == creation_time");
                assert_eq!(
                    &f[10..14],
                    [
                        "Suspicious Web Traffic",
                        "Adversary Infrastructure Interaction",
                        "AWS_VPC_Flow",
                        "prod_webserver"
                    ]
                );
                assert_eq!(f[15], "waf_rule");
                Row {
                    bytes_in: f[0].parse().expect("bytes_in"),
                    bytes_out: f[1].parse().expect("bytes_out"),
                    creation,
                    end: parse_timestamp(f[3]).expect("end_time"),
                    src: f[4].to_owned(),
                    country: f[5].to_owned(),
                    protocol: f[6].to_owned(),
                    code: f[7].parse().expect("code"),
                    port: f[8].parse().expect("port"),
                    dst: f[9].to_owned(),
                    label: f[16].parse().expect("label"),
                    kind: TrafficKind::from_name(f[17]).expect("attack_type"),
                }
            })
            .collect()
    }

    fn by_src(rows: &[Row], kind: TrafficKind) -> BTreeMap<String, Vec<Row>> {
        let mut map: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.kind == kind) {
            map.entry(r.src.clone()).or_default().push(r.clone());
        }
        map
    }

    fn median(mut v: Vec<u64>) -> u64 {
        v.sort_unstable();
        v[v.len() / 2]
    }

    #[test]
    fn header_and_line_format_are_exact() {
        let (csv, _) = run(&cfg(300, 1));
        let header = "bytes_in,bytes_out,creation_time,end_time,src_ip,src_ip_country_code,\
protocol,response.code,dst_port,dst_ip,rule_names,observation_name,source.meta,source.name,time,\
detection_types,label,attack_type\r\n";
        assert!(csv.starts_with(header.as_bytes()));
        assert!(!csv.ends_with(b"\n") && !csv.ends_with(b"\r"));
        // Every LF is part of a CRLF and every CR is followed by LF.
        for (i, &c) in csv.iter().enumerate() {
            if c == b'\n' {
                assert_eq!(csv[i - 1], b'\r', "bare LF at byte {i}");
            }
            if c == b'\r' {
                assert_eq!(csv[i + 1], b'\n', "bare CR at byte {i}");
            }
        }
        assert_eq!(csv.iter().filter(|&&c| c == b'\n').count(), 300);
        let first = std::str::from_utf8(&csv)
            .unwrap()
            .split("\r\n")
            .nth(1)
            .unwrap();
        assert!(first.contains(",2024-04-25T23:"), "{first}");
    }

    #[test]
    fn header_matches_the_seed_file() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/cloudwatch/CloudWatch_Traffic_Web_Attack.csv"
        );
        let Ok(seed) = std::fs::read(path) else {
            eprintln!("seed file not found at {path}; skipping");
            return;
        };
        let seed_header = &seed[..seed.windows(2).position(|w| w == b"\r\n").unwrap()];
        let expected = [seed_header, b",label,attack_type"].concat();
        assert_eq!(HEADER.as_bytes(), &expected[..]);
    }

    #[test]
    fn zero_rows_writes_only_the_header() {
        let (csv, summary) = run(&cfg(0, 1));
        assert_eq!(csv, HEADER.as_bytes());
        assert_eq!(summary.rows, 0);
    }

    #[test]
    fn deterministic_per_seed() {
        let (a, sa) = run(&cfg(3_000, 99));
        let (b, sb) = run(&cfg(3_000, 99));
        let (c, _) = run(&cfg(3_000, 100));
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert_ne!(a, c);
        // Chunked output through a tiny writer is identical too.
        let mut chunked = std::io::BufWriter::with_capacity(7, Vec::new());
        generate(&cfg(3_000, 99), &mut chunked).unwrap();
        assert_eq!(chunked.into_inner().unwrap(), a);
    }

    #[test]
    fn exact_row_counts_and_sane_tiny_runs() {
        for (rows, mimic) in [1, 2, 3, 10, 33, 100, 282, 1_000, 4_321]
            .into_iter()
            .flat_map(|rows| [(rows, 0.0), (rows, 0.6), (rows, 1.0)])
        {
            for fraction in [0.0, 0.03, 0.2, 1.0] {
                let c = GenConfig {
                    attack_fraction: fraction,
                    attack_mix: AttackMix::mimicking(mimic),
                    ..cfg(rows, rows as u64)
                };
                let (csv, s) = run(&c);
                let parsed = parse(&csv);
                assert_eq!(parsed.len(), rows);
                assert_eq!(s.rows, rows);
                let total: usize = TrafficKind::ALL.iter().map(|&k| s.count(k)).sum();
                assert_eq!(total, rows);
                assert_eq!(s.attacks(), c.attack_rows());
                for kind in TrafficKind::ALL {
                    let n = parsed.iter().filter(|r| r.kind == kind).count();
                    assert_eq!(n, s.count(kind), "{rows} rows, {fraction}: {kind}");
                }
                // Multi-row attacks are never degenerate crumbs (while the single-row kinds
                // have a share to take the crumbs).
                if mimic == 1.0 {
                    continue;
                }
                let windows = s.windows;
                for (ip, g) in by_src(&parsed, TrafficKind::Flood) {
                    assert!(g.len() >= 8, "flood from {ip} has {} rows", g.len());
                }
                for (ip, g) in by_src(&parsed, TrafficKind::Scan) {
                    assert!(g.len() >= 6, "scan from {ip} has {} rows", g.len());
                }
                for (ip, g) in by_src(&parsed, TrafficKind::Beacon) {
                    assert!(g.len() >= 5.min(windows), "beacon from {ip}: {}", g.len());
                }
                for kind in [
                    TrafficKind::SlowExfiltration,
                    TrafficKind::JitteredBeacon,
                    TrafficKind::SlowScan,
                ] {
                    for (ip, g) in by_src(&parsed, kind) {
                        assert!(g.len() >= 10, "{kind} from {ip}: {}", g.len());
                    }
                }
                for (ip, g) in by_src(&parsed, TrafficKind::SessionFlood) {
                    assert!(g.len() >= 6, "session flood from {ip}: {}", g.len());
                }
            }
        }
    }

    #[test]
    fn labels_follow_attack_types() {
        let (csv, _) = run(&GenConfig {
            attack_fraction: 0.1,
            attack_mix: AttackMix::mimicking(0.5),
            ..cfg(5_000, 3)
        });
        let rows = parse(&csv);
        for r in &rows {
            assert_eq!(r.label == 1, r.kind != TrafficKind::Normal);
            assert!(r.label <= 1);
        }
        let kinds: BTreeSet<TrafficKind> = rows.iter().map(|r| r.kind).collect();
        assert_eq!(kinds.len(), 10, "all kinds present: {kinds:?}");
    }

    #[test]
    fn attack_fraction_is_honoured() {
        for (rows, fraction) in [(20_000, 0.03), (20_000, 0.1), (999, 0.05), (100, 0.03)] {
            let (csv, s) = run(&GenConfig {
                attack_fraction: fraction,
                ..cfg(rows, 5)
            });
            let labeled = parse(&csv).iter().filter(|r| r.label == 1).count();
            let expected = (rows as f64 * fraction).round() as usize;
            assert_eq!(labeled, expected);
            assert_eq!(s.attacks(), expected);
        }
        for mix in [AttackMix::default(), AttackMix::mimicking(0.6)] {
            let (_, s) = run(&GenConfig {
                attack_mix: mix,
                ..cfg(100_000, 8)
            });
            let weights: f64 = mix.weights().iter().sum();
            for (kind, w) in TrafficKind::ATTACKS.iter().zip(mix.weights()) {
                let share = s.count(*kind) as f64 / s.attacks() as f64;
                assert!((share - w / weights).abs() < 0.01, "{kind}: {share}");
            }
            let mimicking: usize = TrafficKind::MIMICKING.iter().map(|&k| s.count(k)).sum();
            let expected = if mix == AttackMix::default() {
                0.0
            } else {
                0.6
            };
            assert!((mimicking as f64 / s.attacks() as f64 - expected).abs() < 0.01);
        }
        assert_eq!(AttackMix::mimicking(0.0), AttackMix::default());
    }

    #[test]
    fn timestamps_windows_and_rough_order() {
        let c = GenConfig {
            attack_mix: AttackMix::mimicking(0.5),
            ..cfg(20_000, 11)
        };
        let (csv, s) = run(&c);
        let rows = parse(&csv);
        let mut out_of_order = 0;
        let mut latest = 0;
        for r in &rows {
            assert!(r.creation >= s.start && r.end <= s.end, "{r:?}");
            assert!(r.end > r.creation);
            let window_start = r.creation - (r.creation - s.start) % WINDOW_SECS as i64;
            assert!(r.end <= window_start + WINDOW_SECS as i64, "{r:?}");
            if !matches!(r.kind, TrafficKind::Flood | TrafficKind::Beacon) {
                assert_eq!(r.end - r.creation, WINDOW_SECS as i64, "{r:?}");
                assert_eq!(r.creation, window_start);
            }
            // Never more than one window behind the newest window so far.
            let window = (r.creation - s.start) / WINDOW_SECS as i64;
            assert!(window >= latest - 1, "{r:?}");
            if window < latest {
                out_of_order += 1;
            }
            latest = latest.max(window);
        }
        assert!(out_of_order > 0, "rows should be only roughly ordered");
        assert!(out_of_order < rows.len() / 20, "{out_of_order}");
        assert_eq!(rows[0].creation, SEED_FILE_START);
    }

    #[test]
    fn normal_traffic_resembles_the_seed_file() {
        let (csv, s) = run(&cfg(50_000, 21));
        let normal: Vec<Row> = parse(&csv)
            .into_iter()
            .filter(|r| r.kind == TrafficKind::Normal)
            .collect();
        let med_in = median(normal.iter().map(|r| r.bytes_in).collect());
        let med_out = median(normal.iter().map(|r| r.bytes_out).collect());
        assert!(
            (8_000..20_000).contains(&med_in),
            "median bytes_in {med_in}"
        );
        assert!(
            (8_000..20_000).contains(&med_out),
            "median bytes_out {med_out}"
        );
        let max_in = normal.iter().map(|r| r.bytes_in).max().unwrap();
        assert!(max_in > 1_000_000, "heavy tail: max bytes_in {max_in}");
        let share = |f: &dyn Fn(&Row) -> bool| {
            normal.iter().filter(|r| f(r)).count() as f64 / normal.len() as f64
        };
        let https = share(&|r| r.protocol == "HTTPS" && r.port == 443);
        let http = share(&|r| r.protocol == "HTTP" && r.port == 80);
        assert!((0.85..0.97).contains(&https) && (https + http - 1.0).abs() < 1e-12);
        let ok = share(&|r| r.code == 200);
        assert!((0.88..0.97).contains(&ok), "200 share {ok}");
        let main = share(&|r| r.dst == "10.138.69.97");
        assert!((0.8..0.95).contains(&main), "main server share {main}");
        let mut countries: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &normal {
            *countries.entry(r.country.as_str()).or_default() += 1;
        }
        for cc in ["US", "CA", "DE", "AT", "NL", "AE", "IL"] {
            assert!(countries.contains_key(cc), "{cc} missing: {countries:?}");
        }
        let top = countries.iter().max_by_key(|(_, n)| **n).unwrap();
        assert_eq!(*top.0, "US");
        let ips: BTreeSet<&str> = normal.iter().map(|r| r.src.as_str()).collect();
        assert!(ips.len() >= s.source_ips, "{} distinct", ips.len());
    }

    #[test]
    fn more_clients_for_more_rows() {
        let distinct = |rows| {
            let (csv, _) = run(&cfg(rows, 2));
            parse(&csv)
                .iter()
                .filter(|r| r.kind == TrafficKind::Normal)
                .map(|r| r.src.clone())
                .collect::<BTreeSet<_>>()
                .len()
        };
        let (small, large) = (distinct(300), distinct(30_000));
        assert!(small >= 20 && large > 5 * small, "{small} vs {large}");
    }

    #[test]
    fn attack_signatures() {
        let (csv, _) = run(&GenConfig {
            attack_fraction: 0.08,
            ..cfg(40_000, 17)
        });
        let rows = parse(&csv);
        let normal_ratio_max = rows
            .iter()
            .filter(|r| r.kind == TrafficKind::Normal)
            .map(|r| r.bytes_out as f64 / r.bytes_in as f64)
            .fold(0.0, f64::max);
        let normal_in_per_out_max = rows
            .iter()
            .filter(|r| r.kind == TrafficKind::Normal)
            .map(|r| r.bytes_in as f64 / r.bytes_out as f64)
            .fold(0.0, f64::max);
        for r in rows.iter().filter(|r| r.kind == TrafficKind::Exfiltration) {
            assert!(
                r.bytes_out >= 1_000 * r.bytes_in && r.bytes_out >= 1_000_000,
                "{r:?}"
            );
            assert!(r.bytes_out as f64 / r.bytes_in as f64 > 10.0 * normal_ratio_max);
        }
        for r in rows.iter().filter(|r| r.kind == TrafficKind::Infiltration) {
            assert!(
                r.bytes_in >= 1_000 * r.bytes_out && r.bytes_in >= 10_000_000,
                "{r:?}"
            );
            assert!(r.bytes_in as f64 / r.bytes_out as f64 > 10.0 * normal_in_per_out_max);
        }
        let floods = by_src(&rows, TrafficKind::Flood);
        assert!(!floods.is_empty());
        for (ip, g) in &floods {
            assert!(g.len() >= 8, "{ip}");
            let window = (g[0].creation - SEED_FILE_START) / WINDOW_SECS as i64;
            for r in g {
                assert!((1..=30).contains(&(r.end - r.creation)), "{r:?}");
                assert!(r.bytes_in <= 2_000 && r.bytes_out <= 3_000, "{r:?}");
                assert_eq!((r.creation - SEED_FILE_START) / WINDOW_SECS as i64, window);
            }
        }
        let scans = by_src(&rows, TrafficKind::Scan);
        assert!(!scans.is_empty());
        for (ip, g) in &scans {
            let targets: BTreeSet<(&str, u16)> =
                g.iter().map(|r| (r.dst.as_str(), r.port)).collect();
            assert_eq!(targets.len(), g.len(), "{ip}: repeated targets");
            assert!(g.len() >= 6);
            for r in g {
                assert!(r.bytes_in <= 200 && r.bytes_out <= 200, "{r:?}");
                assert!([400, 403, 404].contains(&r.code), "{r:?}");
            }
        }
        let beacons = by_src(&rows, TrafficKind::Beacon);
        assert!(!beacons.is_empty());
        for (ip, g) in &beacons {
            assert!(g.len() >= 5, "{ip}");
            let first = &g[0];
            let phase = (first.creation - SEED_FILE_START) % WINDOW_SECS as i64;
            let gaps: BTreeSet<i64> = g
                .windows(2)
                .map(|p| p[1].creation - p[0].creation)
                .collect();
            assert_eq!(gaps.len(), 1, "{ip}: irregular gaps {gaps:?}");
            for r in g {
                assert_eq!((r.bytes_in, r.bytes_out), (first.bytes_in, first.bytes_out));
                assert_eq!(r.end - r.creation, first.end - first.creation);
                assert_eq!((r.creation - SEED_FILE_START) % WINDOW_SECS as i64, phase);
                assert!(r.bytes_in < 2_000 && r.bytes_out < 2_000);
            }
        }
        // Attackers other than exfiltration/infiltration never reuse a normal client address.
        let normal_ips: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.kind == TrafficKind::Normal)
            .map(|r| r.src.as_str())
            .collect();
        for kind in [TrafficKind::Flood, TrafficKind::Scan, TrafficKind::Beacon] {
            for ip in by_src(&rows, kind).keys() {
                assert!(!normal_ips.contains(ip.as_str()), "{kind} {ip}");
            }
        }
    }

    #[test]
    fn mimicking_kinds_stay_inside_normal_traffic() {
        let (csv, s) = run(&GenConfig {
            attack_fraction: 0.08,
            attack_mix: AttackMix::mimicking(0.6),
            ..cfg(40_000, 17)
        });
        let rows = parse(&csv);
        let window = |r: &Row| (r.creation - SEED_FILE_START) / WINDOW_SECS as i64;
        let normal: Vec<&Row> = rows
            .iter()
            .filter(|r| r.kind == TrafficKind::Normal)
            .collect();
        let normal_ips: BTreeSet<&str> = normal.iter().map(|r| r.src.as_str()).collect();
        let range = |f: fn(&Row) -> u64| {
            let v: Vec<u64> = normal.iter().map(|r| f(r)).collect();
            (*v.iter().min().unwrap(), *v.iter().max().unwrap())
        };
        let (in_range, out_range) = (range(|r| r.bytes_in), range(|r| r.bytes_out));
        let ratio = |r: &Row| r.bytes_out as f64 / r.bytes_in as f64;
        let normal_ratio_max = normal.iter().map(|r| ratio(r)).fold(0.0, f64::max);
        for kind in TrafficKind::MIMICKING {
            assert!(s.count(kind) > 100, "{kind}: {}", s.count(kind));
            for r in rows.iter().filter(|r| r.kind == kind) {
                // window-long rows with byte counts inside the normal range
                assert_eq!(r.end - r.creation, WINDOW_SECS as i64, "{r:?}");
                assert!((in_range.0..=in_range.1).contains(&r.bytes_in), "{r:?}");
                assert!((out_range.0..=out_range.1).contains(&r.bytes_out), "{r:?}");
                assert!(ratio(r) <= normal_ratio_max, "{r:?}");
            }
        }

        // Slow exfiltration: a regular client, many windows, a raised share of bytes_out, and no
        // normal row of the client in those windows.
        let exfil = by_src(&rows, TrafficKind::SlowExfiltration);
        assert!(!exfil.is_empty());
        for (ip, g) in &exfil {
            assert!(normal_ips.contains(ip.as_str()), "{ip}");
            let windows: BTreeSet<i64> = g.iter().map(window).collect();
            assert_eq!(windows.len(), g.len(), "{ip}: one row per window");
            assert!(g.len() >= 10, "{ip}");
            let spread = windows.last().unwrap() - windows.first().unwrap();
            assert!(
                spread >= g.len() as i64 - 1 && spread <= 3 * g.len() as i64,
                "{ip}"
            );
            let own: Vec<&&Row> = normal.iter().filter(|r| &r.src == ip).collect();
            assert!(own.iter().all(|r| !windows.contains(&window(r))), "{ip}");
            let median_ratio = |v: Vec<f64>| {
                let mut v = v;
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let usual = median_ratio(own.iter().map(|r| ratio(r)).collect());
            let raised = median_ratio(g.iter().map(ratio).collect());
            assert!(
                (1.0..5.0).contains(&(raised / usual)),
                "{ip}: {usual} -> {raised}"
            );
        }

        // Jittered beacons: a new address, one row per window, sums of similar check-ins.
        let beacons = by_src(&rows, TrafficKind::JitteredBeacon);
        assert!(!beacons.is_empty());
        for (ip, g) in &beacons {
            assert!(!normal_ips.contains(ip.as_str()), "{ip}");
            let windows: BTreeSet<i64> = g.iter().map(window).collect();
            assert_eq!(windows.len(), g.len(), "{ip}: one row per window");
            assert!(g.len() >= 10, "{ip}");
            let sizes: BTreeSet<u64> = g.iter().map(|r| r.bytes_in).collect();
            assert!(sizes.len() > g.len() / 2, "{ip}: sizes vary");
            // every check-in is within +-10 % of the same base sizes, so the rows' out/in ratios
            // stay within 0.9/1.1 and 1.1/0.9 of the base ratio
            let ratios: Vec<f64> = g.iter().map(ratio).collect();
            let (lo, hi) = ratios
                .iter()
                .fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
            assert!(
                hi / lo <= (1.1 / 0.9) * (1.1 / 0.9) + 1e-9,
                "{ip}: {lo} .. {hi}"
            );
            assert!(g.iter().all(|r| (r.code, r.port) == (200, 443)));
        }

        // Slow scans: 1-3 probes per window, new targets, tiny byte counts, over hours.
        let scans = by_src(&rows, TrafficKind::SlowScan);
        assert!(!scans.is_empty());
        for (ip, g) in &scans {
            assert!(!normal_ips.contains(ip.as_str()), "{ip}");
            let mut per_window: BTreeMap<i64, usize> = BTreeMap::new();
            for r in g {
                *per_window.entry(window(r)).or_default() += 1;
                assert!(r.bytes_in <= 200 && r.bytes_out <= 200, "{r:?}");
                assert!([400, 403, 404].contains(&r.code), "{r:?}");
            }
            assert!(per_window.values().all(|&n| (1..=3).contains(&n)), "{ip}");
            assert!(per_window.len() >= g.len().div_ceil(3) && per_window.len() >= 4);
            let targets: BTreeSet<(&str, u16)> =
                g.iter().map(|r| (r.dst.as_str(), r.port)).collect();
            assert_eq!(targets.len(), g.len(), "{ip}: repeated targets");
        }

        // Session floods: 3-12 ordinary sessions per window from a new address, 1-3 windows.
        let floods = by_src(&rows, TrafficKind::SessionFlood);
        assert!(!floods.is_empty());
        for (ip, g) in &floods {
            assert!(!normal_ips.contains(ip.as_str()), "{ip}");
            let mut per_window: BTreeMap<i64, usize> = BTreeMap::new();
            for r in g {
                *per_window.entry(window(r)).or_default() += 1;
            }
            assert!((1..=3).contains(&per_window.len()), "{ip}: {per_window:?}");
            let (first, last) = (per_window.keys().next(), per_window.keys().last());
            assert_eq!(last.unwrap() - first.unwrap() + 1, per_window.len() as i64);
            assert!(per_window.values().all(|&n| (3..=12).contains(&n)), "{ip}");
            let median_in = median(g.iter().map(|r| r.bytes_in).collect());
            assert!(median_in > 1_000, "{ip}: sessions of ordinary size");
        }
    }

    #[test]
    fn mimicking_kinds_fit_tiny_pools_and_few_windows() {
        for (source_ips, windows) in [(1, 1), (1, 12), (2, 2), (3, 5), (3, 40)] {
            for mimic in [0.5, 1.0] {
                let c = GenConfig {
                    attack_fraction: 0.3,
                    attack_mix: AttackMix::mimicking(mimic),
                    source_ips: Some(source_ips),
                    windows: Some(windows),
                    ..cfg(600, 4)
                };
                let (csv, s) = run(&c);
                let rows = parse(&csv);
                assert_eq!((rows.len(), s.attacks()), (600, 180));
                assert!(
                    rows.iter().all(|r| r.end <= s.end),
                    "{source_ips} {windows}"
                );
            }
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = |c: GenConfig| generate(&c, Vec::new()).unwrap_err().to_string();
        assert!(
            bad(GenConfig {
                attack_fraction: 1.5,
                ..cfg(10, 1)
            })
            .contains("attack_fraction")
        );
        assert!(
            bad(GenConfig {
                attack_fraction: f64::NAN,
                ..cfg(10, 1)
            })
            .contains("attack_fraction")
        );
        let mix = AttackMix {
            scan: -1.0,
            ..AttackMix::default()
        };
        assert!(
            bad(GenConfig {
                attack_mix: mix,
                ..cfg(10, 1)
            })
            .contains("attack mix")
        );
        let zero = AttackMix {
            exfiltration: 0.0,
            infiltration: 0.0,
            flood: 0.0,
            scan: 0.0,
            beacon: 0.0,
            ..AttackMix::mimicking(0.0)
        };
        assert!(
            bad(GenConfig {
                attack_mix: zero,
                ..cfg(1_000, 1)
            })
            .contains("attack mix")
        );
        // All-zero weights are fine when no attacks are requested.
        assert!(
            generate(
                &GenConfig {
                    attack_mix: zero,
                    attack_fraction: 0.0,
                    ..cfg(10, 1)
                },
                Vec::new()
            )
            .is_ok()
        );
        assert!(
            bad(GenConfig {
                windows: Some(0),
                ..cfg(10, 1)
            })
            .contains("windows")
        );
        assert!(
            bad(GenConfig {
                source_ips: Some(0),
                ..cfg(10, 1)
            })
            .contains("source_ips")
        );
        assert!(
            bad(GenConfig {
                start: -1,
                ..cfg(10, 1)
            })
            .contains("time span")
        );
        assert!(
            bad(GenConfig {
                start: crate::time::MAX_TIMESTAMP - 100,
                ..cfg(10, 1)
            })
            .contains("time span")
        );
    }

    #[test]
    fn explicit_pool_and_window_settings() {
        let c = GenConfig {
            source_ips: Some(4),
            windows: Some(3),
            ..cfg(500, 6)
        };
        let (csv, s) = run(&c);
        let rows = parse(&csv);
        assert_eq!((s.source_ips, s.windows), (4, 3));
        let normal_ips: BTreeSet<&str> = rows
            .iter()
            .filter(|r| {
                r.kind == TrafficKind::Normal
                    && !r.src.starts_with("65.")
                    && !r.src.starts_with("19")
                    && !r.src.starts_with("167.")
            })
            .map(|r| r.src.as_str())
            .collect();
        assert_eq!(normal_ips.len(), 4);
        assert!(rows.iter().all(|r| r.end <= SEED_FILE_START + 3 * 600));
    }

    /// `xtask gen-data --rows 5000 --seed 7 --mimic 0.75 --attack-fraction 0.05` (data/README.md).
    fn bundled() -> GenConfig {
        GenConfig {
            attack_fraction: 0.05,
            attack_mix: AttackMix::mimicking(0.75),
            ..cfg(5_000, 7)
        }
    }

    #[test]
    fn the_bundled_samples_are_reproduced() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/");
        for (format, file) in [
            (OutputFormat::Cloudwatch, "sample.csv"),
            (OutputFormat::Zeek, "sample.zeek.log"),
            (OutputFormat::VpcFlow, "sample.vpcflow.log"),
        ] {
            let expected = std::fs::read(format!("{data}{file}")).expect("bundled sample");
            let (out, summary) = run(&GenConfig {
                format,
                ..bundled()
            });
            assert!(out == expected, "{file} differs");
            assert!(summary.beacons.is_empty());
            // the counts data/README.md gives
            let counts: Vec<usize> = TrafficKind::ALL.iter().map(|&k| summary.count(k)).collect();
            assert_eq!(counts, [4_750, 13, 12, 16, 12, 9, 47, 47, 47, 47]);
        }
    }

    #[test]
    fn beacons_come_out_of_the_normal_budget_internal_to_external() {
        let c = GenConfig {
            beacons: crate::BeaconPlan::levels(&[0.0, 0.5]),
            ..cfg(30_000, 5)
        };
        let (csv, s) = run(&c);
        let rows = parse(&csv);
        assert_eq!((rows.len(), s.rows), (30_000, 30_000));
        assert_eq!(
            s.attacks(),
            c.attack_rows() + s.beacons.iter().map(|b| b.rows).sum::<usize>()
        );
        assert_eq!(s.beacons.len(), 6);
        let (plain, _) = run(&cfg(30_000, 5));
        let plain = parse(&plain);
        for b in &s.beacons {
            let (src, dst) = (b.src.to_string(), b.dst.to_string());
            assert!(b.src.is_private() && !b.dst.is_private(), "{b:?}");
            let mine: Vec<&Row> = rows.iter().filter(|r| r.src == src).collect();
            assert_eq!(mine.len(), b.rows);
            assert!(b.rows as u64 >= s.windows as u64 * WINDOW_SECS / b.period_s / 2);
            for r in &mine {
                assert_eq!(
                    (&r.dst, r.port, r.kind),
                    (&dst, b.dst_port, TrafficKind::Beacon)
                );
                assert!(r.creation >= s.start && r.end <= s.end && r.end > r.creation);
            }
            let gaps: BTreeSet<i64> = mine
                .windows(2)
                .map(|p| p[1].creation - p[0].creation)
                .collect();
            if b.jitter == 0.0 {
                assert!(
                    gaps.iter()
                        .all(|g| (b.period_s as i64 - 1..=b.period_s as i64).contains(g)),
                    "{gaps:?}"
                );
            } else {
                assert!(gaps.len() > 50, "{b:?}");
            }
            assert!(plain.iter().all(|r| r.src != src));
        }
        // outbound normal traffic from the same /16
        let outbound = rows
            .iter()
            .filter(|r| r.kind == TrafficKind::Normal && r.src.starts_with("10.40."))
            .count();
        assert!(outbound > 1_000, "{outbound}");
        // the rest of the traffic is drawn as without beacons: the same attacks in order
        let attacks = |rows: &[Row]| -> Vec<(String, i64)> {
            rows.iter()
                .filter(|r| {
                    r.label == 1 && r.kind != TrafficKind::Beacon
                        || r.kind == TrafficKind::Beacon && !r.src.starts_with("10.40.")
                })
                .map(|r| (r.src.clone(), r.creation))
                .collect()
        };
        assert_eq!(attacks(&rows), attacks(&plain));
    }

    #[test]
    fn beacon_plans_are_checked() {
        let bad = |plan: crate::BeaconPlan, rows| {
            generate(
                &GenConfig {
                    beacons: vec![plan],
                    ..cfg(rows, 1)
                },
                Vec::new(),
            )
            .unwrap_err()
            .to_string()
        };
        let ok = crate::BeaconPlan {
            jitter: 0.1,
            period_s: 600,
            pairs: 1,
        };
        assert!(bad(crate::BeaconPlan { jitter: 1.0, ..ok }, 10_000).contains("jitter"));
        assert!(
            bad(
                crate::BeaconPlan {
                    jitter: f64::NAN,
                    ..ok
                },
                10_000
            )
            .contains("jitter")
        );
        assert!(bad(crate::BeaconPlan { period_s: 0, ..ok }, 10_000).contains("period_s"));
        assert!(bad(crate::BeaconPlan { pairs: 0, ..ok }, 10_000).contains("pairs"));
        assert!(bad(crate::BeaconPlan { period_s: 10, ..ok }, 10_000).contains("need"));
    }
}
