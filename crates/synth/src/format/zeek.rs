//! A Zeek `conn.log` in Zeek's ASCII (TSV) log format, as documented in the Zeek manual's
//! "Logs > conn.log" page and the ASCII writer (`Log::WRITER_ASCII`) description.
//!
//! Layout (LF line ends; `\t` below stands for a tab, fields are tab-separated):
//!
//! ```text
//! #separator \x09
//! #set_separator\t,
//! #empty_field\t(empty)
//! #unset_field\t-
//! #path\tconn
//! #open\t2024-04-25-23-00-00              (start of the first window, %Y-%m-%d-%H-%M-%S)
//! #fields\tts\tuid\t...\tlabel\tattack_type      (ZEEK_FIELDS)
//! #types\ttime\tstring\t...\tstring\tstring      (ZEEK_TYPES)
//! <one record per row>
//! #close\t2024-04-26-04-00-00             (end of the last window)
//! ```
//!
//! Per row: `ts` = start in Unix seconds with six decimals (`1714086000.000000`); `uid` = `C`
//! plus 17 base-62 characters derived from the seed and row position; `id.orig_h` = client,
//! `id.orig_p` = a deterministic ephemeral port in 49152..=65535, `id.resp_h`/`id.resp_p` =
//! server; `proto` = `tcp`; `service` = `http` on port 80, `ssl` on 443, else `-`; `duration` =
//! end - start with six decimals; `orig_bytes` = `bytes_in`, `resp_bytes` = `bytes_out`;
//! `conn_state` `SF`, `local_orig` `F`, `local_resp` `T`, `missed_bytes` 0, `history`
//! `ShADadFf`; `orig_pkts` = `orig_bytes / 1400 + 2`, `orig_ip_bytes` = `orig_bytes + 40 *
//! orig_pkts` (likewise `resp_*`); `tunnel_parents` `-`; then `label` (0/1) and `attack_type`.
//!
//! Scan and slow-scan rows are rejected connections: `conn_state` `REJ`, `history` `Sr`, and
//! `duration`, `orig_bytes`, `resp_bytes` unset (`-`); their packet and IP-byte counts follow
//! the same rule as above, so the byte counts remain recoverable as `ip_bytes - 40 * pkts`.

use super::{Flow, RowFormat, Stamp, ip_bytes, packets, row_hash, salt, src_port};
use crate::GenSummary;
use crate::write::{push_ipv4, push_u64};

/// The `#fields` of the written `conn.log`: Zeek's standard `conn.log` columns through
/// `tunnel_parents`, then `label` and `attack_type`.
pub const ZEEK_FIELDS: [&str; 23] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
    "label",
    "attack_type",
];

/// The `#types` line, one per [`ZEEK_FIELDS`] entry.
pub const ZEEK_TYPES: [&str; 23] = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
    "string",
    "string",
];

/// Header lines before `#open`.
const PREAMBLE: &[u8] = b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
#unset_field\t-\n#path\tconn\n";

/// Base-62 digits of the uid.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Writer of [`OutputFormat::Zeek`](super::OutputFormat::Zeek).
pub(crate) struct Zeek {
    salt: u64,
}

impl Zeek {
    pub(crate) fn new(seed: u64) -> Self {
        Self { salt: salt(seed) }
    }
}

/// Appends `secs` as Zeek's log-file time `YYYY-MM-DD-HH-MM-SS`.
fn push_file_time(buf: &mut Vec<u8>, secs: i64) {
    let iso = *Stamp::new().get(secs);
    for &c in &iso[..19] {
        buf.push(if c == b'T' || c == b':' { b'-' } else { c });
    }
}

/// Appends `names` joined by tabs after `tag`, with a line end.
fn push_line(buf: &mut Vec<u8>, tag: &[u8], names: &[&str]) {
    buf.extend_from_slice(tag);
    for name in names {
        buf.push(b'\t');
        buf.extend_from_slice(name.as_bytes());
    }
    buf.push(b'\n');
}

impl RowFormat for Zeek {
    fn begin(&mut self, buf: &mut Vec<u8>, run: &GenSummary) {
        buf.extend_from_slice(PREAMBLE);
        buf.extend_from_slice(b"#open\t");
        push_file_time(buf, run.start);
        buf.push(b'\n');
        push_line(buf, b"#fields", &ZEEK_FIELDS);
        push_line(buf, b"#types", &ZEEK_TYPES);
    }

    #[inline]
    fn row(&mut self, b: &mut Vec<u8>, index: u64, flow: &Flow) {
        let rejected = flow.kind.is_refused_probe();
        push_u64(b, flow.start as u64);
        b.extend_from_slice(b".000000\tC");
        for (lane, digits) in [(1, 9), (2, 8)] {
            let mut h = row_hash(self.salt, index, lane);
            for _ in 0..digits {
                b.push(BASE62[(h % 62) as usize]);
                h /= 62;
            }
        }
        b.push(b'\t');
        push_ipv4(b, flow.src_ip);
        b.push(b'\t');
        push_u64(b, u64::from(src_port(self.salt, index)));
        b.push(b'\t');
        push_ipv4(b, flow.dst_ip);
        b.push(b'\t');
        push_u64(b, u64::from(flow.dst_port));
        b.extend_from_slice(match flow.dst_port {
            80 => b"\ttcp\thttp\t",
            443 => b"\ttcp\tssl\t",
            _ => b"\ttcp\t-\t",
        });
        if rejected {
            b.extend_from_slice(b"-\t-\t-\tREJ\tF\tT\t0\tSr\t");
        } else {
            push_u64(b, (flow.end - flow.start) as u64);
            b.extend_from_slice(b".000000\t");
            push_u64(b, flow.bytes_in);
            b.push(b'\t');
            push_u64(b, flow.bytes_out);
            b.extend_from_slice(b"\tSF\tF\tT\t0\tShADadFf\t");
        }
        push_u64(b, packets(flow.bytes_in));
        b.push(b'\t');
        push_u64(b, ip_bytes(flow.bytes_in));
        b.push(b'\t');
        push_u64(b, packets(flow.bytes_out));
        b.push(b'\t');
        push_u64(b, ip_bytes(flow.bytes_out));
        b.extend_from_slice(b"\t-\t");
        b.push(b'0' + flow.kind.label());
        b.push(b'\t');
        b.extend_from_slice(flow.kind.as_str().as_bytes());
        b.push(b'\n');
    }

    fn finish(&mut self, buf: &mut Vec<u8>, run: &GenSummary) {
        buf.extend_from_slice(b"#close\t");
        push_file_time(buf, run.end);
        buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrafficKind;
    use crate::format::{OutputFormat, generate_as};

    #[test]
    fn header_records_and_unset_fields() {
        let (log, s) = generate_as(OutputFormat::Zeek, 1_000, 5);
        assert!(log.ends_with('\n') && !log.contains('\r'));
        let lines: Vec<&str> = log.lines().collect();
        let fields = format!("#fields\t{}", ZEEK_FIELDS.join("\t"));
        let types = format!("#types\t{}", ZEEK_TYPES.join("\t"));
        assert_eq!(
            lines[..8],
            [
                "#separator \\x09",
                "#set_separator\t,",
                "#empty_field\t(empty)",
                "#unset_field\t-",
                "#path\tconn",
                "#open\t2024-04-25-23-00-00",
                fields.as_str(),
                types.as_str(),
            ]
        );
        let close = crate::time::format_timestamp(s.end).replace([':', 'T'], "-");
        assert_eq!(lines[lines.len() - 1], format!("#close\t{}", &close[..19]));
        let records = &lines[8..lines.len() - 1];
        assert_eq!(records.len(), s.rows);
        assert!(records.iter().all(|r| !r.starts_with('#')));

        let mut labels = [0usize; 2];
        let mut uids = std::collections::BTreeSet::new();
        let mut scans = 0;
        for r in records {
            let f: Vec<&str> = r.split('\t').collect();
            assert_eq!(f.len(), ZEEK_FIELDS.len(), "{r}");
            let kind = TrafficKind::from_name(f[22]).expect("attack_type");
            labels[f[21].parse::<usize>().expect("label")] += 1;
            assert_eq!(f[21], kind.label().to_string());
            assert!(f[0].ends_with(".000000") && f[0].len() == 17, "{r}");
            assert!(f[1].len() == 18 && f[1].starts_with('C'), "{r}");
            assert!(f[1].bytes().all(|c| c.is_ascii_alphanumeric()));
            uids.insert(f[1]);
            let port: u16 = f[3].parse().expect("orig_p");
            assert!(port >= 49_152);
            assert_eq!(f[6], "tcp");
            let service = match f[5] {
                "80" => "http",
                "443" => "ssl",
                _ => "-",
            };
            assert_eq!(f[7], service, "{r}");
            assert_eq!(&f[12..15], ["F", "T", "0"]);
            assert_eq!(f[20], "-");
            let num = |i: usize| f[i].parse::<u64>().expect(ZEEK_FIELDS[i]);
            if kind.is_refused_probe() {
                scans += 1;
                assert_eq!(&f[8..12], ["-", "-", "-", "REJ"], "{r}");
                assert_eq!(f[15], "Sr");
            } else {
                assert!(f[8].ends_with(".000000") && num(9) > 0 && num(10) > 0);
                assert_eq!((f[11], f[15]), ("SF", "ShADadFf"));
                assert_eq!(num(17), num(9) + 40 * num(16));
                assert_eq!(num(19), num(10) + 40 * num(18));
            }
            assert_eq!(num(16), (num(17) - 40 * num(16)) / 1400 + 2);
        }
        assert_eq!(labels, [s.normal, s.attacks()]);
        assert_eq!(scans, s.scan + s.slow_scan);
        assert!(scans > 0, "the unset-field path needs scan rows");
        assert_eq!(uids.len(), s.rows, "uids are unique");
    }

    #[test]
    fn zero_rows_is_header_and_close() {
        let (log, _) = generate_as(OutputFormat::Zeek, 0, 1);
        assert_eq!(log.lines().count(), 9);
        assert!(log.lines().all(|l| l.starts_with('#')));
    }
}
