//! AWS Application Load Balancer access log entries, as documented in the Elastic Load Balancing
//! User Guide for Application Load Balancers ("Access logs for your Application Load Balancer":
//! access log entries, syntax and examples).
//!
//! One entry per row, LF line ends, no header: the 30 documented space-separated fields, some
//! in double quotes (which may contain spaces), then two unquoted extra fields `label` (0/1) and
//! `attack_type`; [`ALB_FIELDS`] names all 32. Example:
//!
//! ```text
//! https 2024-04-25T23:10:00.000000Z app/web-lb/50dc6c495c0c9188 94.188.138.238:54724 10.138.69.97:443 0.002 0.038 0.000 200 200 23377 57823 "GET https://www.example.com:443/index.html HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ..." ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-662ae070-f52563a72831c169c424381b" "www.example.com" "-" 0 2024-04-25T23:00:00.000000Z "forward" "-" "-" "10.138.69.97:443" "200" "-" "-" TID_4141f73481645b7fb67ea3e3a2c9a556 0 normal
//! ```
//!
//! Per row: `type` `https` when the row's protocol is HTTPS (the CloudWatch `protocol` column),
//! else `http`; `time` = the flow's end and `request_creation_time` = its start, both ISO-8601
//! with microseconds; `client:port` = client address and the deterministic ephemeral port of the
//! other formats; `target:port` = server address and port; processing times in seconds with
//! three decimals, deterministic per row; both status codes = the row's response code;
//! `received_bytes` = `bytes_in`, `sent_bytes` = `bytes_out`; the request line's method and path
//! depend on the kind (e.g. `/.env`, `/admin.php` for scans, `POST /api/upload` for
//! infiltration) with URL `scheme://www.example.com:<port><path>`; one of five fixed user agents;
//! `ssl_cipher ssl_protocol` = `ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2` for https, `- -` for http;
//! `trace_id` = `Root=1-<start as 8 hex digits>-<24 hex digits>`; `domain_name`
//! `www.example.com`; `chosen_cert_arn` `-`; `matched_rule_priority` 0; `actions_executed`
//! `forward`; `redirect_url`, `error_reason` `-`; `target:port_list` = the target;
//! `target_status_code_list` = the status code; `classification`, `classification_reason` `-`;
//! `conn_trace_id` = `TID_` and 32 hex digits.

use super::{Flow, RowFormat, Stamp, push_hex, row_hash, salt, src_port};
use crate::write::{push_ipv4, push_u64};
use crate::{GenSummary, TrafficKind};
use webthreat_core::log_fields::{self, with_extra};

/// All 32 fields of an entry: the 30 documented ones, then `label` and `attack_type`.
pub const ALB_FIELDS: [&str; 32] = with_extra(log_fields::ALB_FIELDS, ["label", "attack_type"]);

const ELB: &[u8] = b" app/web-lb/50dc6c495c0c9188 ";
const TLS: &[u8] = b"\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ";
const NO_TLS: &[u8] = b"\" - - ";
const TARGET_GROUP: &[u8] =
    b"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067 \"Root=1-";
/// From `domain_name` to `matched_rule_priority`.
const AFTER_TRACE: &[u8] = b"\" \"www.example.com\" \"-\" 0 ";
/// From `actions_executed` to the opening quote of `target:port_list`.
const AFTER_CREATION: &[u8] = b" \"forward\" \"-\" \"-\" \"";

const USER_AGENTS: [&[u8]; 5] = [
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    b"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    b"curl/8.5.0",
    b"python-requests/2.31.0",
];

/// `(method and space, path)` of the request lines of each kind.
fn requests(kind: TrafficKind) -> &'static [(&'static [u8], &'static [u8])] {
    match kind {
        TrafficKind::Normal => &[
            (b"GET ", b"/index.html"),
            (b"GET ", b"/"),
            (b"GET ", b"/products"),
            (b"GET ", b"/products/item?id=1042"),
            (b"GET ", b"/static/app.js"),
            (b"GET ", b"/static/style.css"),
            (b"POST ", b"/api/cart"),
            (b"GET ", b"/images/logo.png"),
        ],
        TrafficKind::Exfiltration => &[
            (b"GET ", b"/api/export?format=csv"),
            (b"GET ", b"/backup/db.sql.gz"),
            (b"GET ", b"/api/reports/download"),
        ],
        TrafficKind::Infiltration => &[
            (b"POST ", b"/api/upload"),
            (b"PUT ", b"/api/files/archive.bin"),
            (b"POST ", b"/upload.php"),
        ],
        TrafficKind::Flood => &[
            (b"GET ", b"/"),
            (b"POST ", b"/login"),
            (b"GET ", b"/search?q=a"),
        ],
        TrafficKind::Scan | TrafficKind::SlowScan => &[
            (b"GET ", b"/admin.php"),
            (b"GET ", b"/.env"),
            (b"GET ", b"/wp-login.php"),
            (b"GET ", b"/.git/config"),
            (b"GET ", b"/phpmyadmin/index.php"),
            (b"GET ", b"/cgi-bin/luci"),
            (b"GET ", b"/server-status"),
            (b"GET ", b"/actuator/env"),
        ],
        TrafficKind::Beacon => &[
            (b"GET ", b"/api/v1/status"),
            (b"POST ", b"/api/v1/telemetry"),
        ],
        // The mimicking kinds ask for what normal clients ask for, or nearly.
        TrafficKind::SlowExfiltration => &[
            (b"GET ", b"/api/orders?page=2"),
            (b"GET ", b"/api/customers?limit=500"),
            (b"GET ", b"/products"),
        ],
        TrafficKind::JitteredBeacon => &[
            (b"GET ", b"/static/img/cache.php"),
            (b"POST ", b"/static/img/cache.php"),
        ],
        TrafficKind::SessionFlood => &[
            (b"GET ", b"/"),
            (b"GET ", b"/products"),
            (b"POST ", b"/login"),
            (b"POST ", b"/api/cart"),
        ],
    }
}

/// Writer of [`OutputFormat::Alb`](super::OutputFormat::Alb).
pub(crate) struct Alb {
    salt: u64,
    start: Stamp,
    end: Stamp,
}

impl Alb {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            salt: salt(seed),
            start: Stamp::new(),
            end: Stamp::new(),
        }
    }
}

/// Appends an ISO-8601 timestamp `YYYY-MM-DDTHH:MM:SSZ` as `YYYY-MM-DDTHH:MM:SS.000000Z`.
#[inline]
fn push_micros(b: &mut Vec<u8>, iso: &[u8]) {
    b.extend_from_slice(&iso[..19]);
    b.extend_from_slice(b".000000Z");
}

/// Appends `ms` milliseconds as seconds with three decimals.
#[inline]
fn push_secs_ms(b: &mut Vec<u8>, ms: u64) {
    push_u64(b, ms / 1_000);
    b.push(b'.');
    let r = ms % 1_000;
    b.extend_from_slice(&[
        b'0' + (r / 100) as u8,
        b'0' + (r / 10 % 10) as u8,
        b'0' + (r % 10) as u8,
    ]);
}

/// Appends `ip:port`.
#[inline]
fn push_endpoint(b: &mut Vec<u8>, ip: u32, port: u16) {
    push_ipv4(b, ip);
    b.push(b':');
    push_u64(b, u64::from(port));
}

impl RowFormat for Alb {
    fn begin(&mut self, _buf: &mut Vec<u8>, _run: &GenSummary) {}

    #[inline]
    fn row(&mut self, b: &mut Vec<u8>, index: u64, flow: &Flow) {
        let timing = row_hash(self.salt, index, 7);
        let pick = row_hash(self.salt, index, 8);
        let code = u64::from(flow.code);

        b.extend_from_slice(if flow.https { b"https " } else { b"http " });
        push_micros(b, self.end.get(flow.end));
        b.extend_from_slice(ELB);
        push_endpoint(b, flow.src_ip, src_port(self.salt, index));
        b.push(b' ');
        push_endpoint(b, flow.dst_ip, flow.dst_port);
        b.push(b' ');
        push_secs_ms(b, timing % 3);
        b.push(b' ');
        let transfer_ms = (flow.bytes_in.max(flow.bytes_out) / 1_000_000).min(5_000);
        push_secs_ms(b, 1 + (timing >> 8) % 40 + transfer_ms);
        b.push(b' ');
        push_secs_ms(b, (timing >> 16) % 2);
        b.push(b' ');
        push_u64(b, code);
        b.push(b' ');
        push_u64(b, code);
        b.push(b' ');
        push_u64(b, flow.bytes_in);
        b.push(b' ');
        push_u64(b, flow.bytes_out);

        let options = requests(flow.kind);
        let (method, path) = options[(pick % options.len() as u64) as usize];
        b.extend_from_slice(b" \"");
        b.extend_from_slice(method);
        b.extend_from_slice(if flow.https {
            b"https://www.example.com:"
        } else {
            b"http://www.example.com:"
        });
        push_u64(b, u64::from(flow.dst_port));
        b.extend_from_slice(path);
        b.extend_from_slice(b" HTTP/1.1\" \"");
        b.extend_from_slice(USER_AGENTS[((pick >> 32) % USER_AGENTS.len() as u64) as usize]);
        b.extend_from_slice(if flow.https { TLS } else { NO_TLS });

        b.extend_from_slice(TARGET_GROUP);
        push_hex(b, flow.start as u64, 8);
        b.push(b'-');
        push_hex(b, row_hash(self.salt, index, 3), 16);
        push_hex(b, row_hash(self.salt, index, 4), 8);
        b.extend_from_slice(AFTER_TRACE);
        push_micros(b, self.start.get(flow.start));
        b.extend_from_slice(AFTER_CREATION);
        push_endpoint(b, flow.dst_ip, flow.dst_port);
        b.extend_from_slice(b"\" \"");
        push_u64(b, code);
        b.extend_from_slice(b"\" \"-\" \"-\" TID_");
        push_hex(b, row_hash(self.salt, index, 5), 16);
        push_hex(b, row_hash(self.salt, index, 6), 16);
        b.push(b' ');
        b.push(b'0' + flow.kind.label());
        b.push(b' ');
        b.extend_from_slice(flow.kind.as_str().as_bytes());
        b.push(b'\n');
    }

    fn finish(&mut self, _buf: &mut Vec<u8>, _run: &GenSummary) {}
}

/// Splits an entry at spaces outside double quotes; quoted fields keep their quotes.
#[cfg(test)]
pub(crate) fn split_quoted(line: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                fields.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    assert!(!quoted, "unbalanced quotes: {line}");
    fields.push(&line[start..]);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{OutputFormat, generate_as};
    use crate::time::parse_timestamp;

    /// `YYYY-MM-DDTHH:MM:SS.000000Z` to Unix seconds.
    fn micros(text: &str) -> i64 {
        let whole = text
            .strip_suffix(".000000Z")
            .expect("microsecond timestamp");
        parse_timestamp(&format!("{whole}Z")).expect("timestamp")
    }

    #[test]
    fn entries_have_32_fields() {
        let (log, s) = generate_as(OutputFormat::Alb, 300, 5);
        assert!(log.ends_with('\n') && !log.contains('\r') && !log.contains('\t'));
        let mut labels = [0usize; 2];
        let mut lines = 0;
        let mut spaced_agent = false;
        for line in log.lines() {
            lines += 1;
            let f = split_quoted(line);
            assert_eq!(f.len(), ALB_FIELDS.len(), "{line}");
            let kind = TrafficKind::from_name(f[31]).expect("attack_type");
            labels[f[30].parse::<usize>().expect("label")] += 1;
            assert_eq!(f[30], kind.label().to_string());
            let quoted = [12, 13, 17, 18, 19, 22, 23, 24, 25, 26, 27, 28];
            for (i, v) in f.iter().enumerate() {
                assert_eq!(
                    v.starts_with('"'),
                    quoted.contains(&i),
                    "{}: {line}",
                    ALB_FIELDS[i]
                );
            }
            assert!(["http", "https"].contains(&f[0]));
            let (end, start) = (micros(f[1]), micros(f[21]));
            assert!(end > start, "{line}");
            assert_eq!(f[2], "app/web-lb/50dc6c495c0c9188");
            let (_, client_port) = f[3].rsplit_once(':').expect("client:port");
            assert!(client_port.parse::<u16>().expect("port") >= 49_152);
            assert_eq!(f[25], format!("\"{}\"", f[4]));
            for i in 5..8 {
                let t: f64 = f[i].parse().expect(ALB_FIELDS[i]);
                assert!((0.0..10.0).contains(&t) && f[i].len() == 5, "{line}");
            }
            assert_eq!(f[8], f[9]);
            assert_eq!(f[26], format!("\"{}\"", f[8]));
            let _: u64 = f[10].parse().expect("received_bytes");
            let _: u64 = f[11].parse().expect("sent_bytes");
            let port = f[4].rsplit_once(':').expect("target:port").1;
            let url = format!("{}://www.example.com:{port}/", f[0]);
            assert!(
                f[12].contains(&url) && f[12].ends_with(" HTTP/1.1\""),
                "{line}"
            );
            spaced_agent |= f[13].contains("; ");
            let tls = if f[0] == "https" {
                ["ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2"]
            } else {
                ["-", "-"]
            };
            assert_eq!(f[14..16], tls);
            assert!(f[16].starts_with("arn:aws:elasticloadbalancing:"));
            let trace = f[17].trim_matches('"');
            let (root, id) = trace.rsplit_once('-').expect("trace id");
            assert_eq!(root, format!("Root=1-{start:08x}"));
            assert!(id.len() == 24 && id.bytes().all(|c| c.is_ascii_hexdigit()));
            assert_eq!(f[18..21], ["\"www.example.com\"", "\"-\"", "0"]);
            assert_eq!(f[22..25], ["\"forward\"", "\"-\"", "\"-\""]);
            assert_eq!(f[27..29], ["\"-\"", "\"-\""]);
            assert!(f[29].starts_with("TID_") && f[29].len() == 36);
            if kind.is_refused_probe() {
                assert!(!f[12].contains("/index.html"));
            }
        }
        assert_eq!(lines, s.rows);
        assert_eq!(labels, [s.normal, s.attacks()]);
        assert!(spaced_agent);
    }

    #[test]
    fn zero_rows_is_empty() {
        assert_eq!(generate_as(OutputFormat::Alb, 0, 1).0, "");
    }
}
