//! Output formats: one flow value per generated row ([`Flow`]), formatted by one writer per
//! format into the generator's reused byte buffer.
//!
//! The generator decides every row once (what a row *is*: times, addresses, port, protocol,
//! response code, byte counts, kind) and hands it to a [`RowFormat`]; the formats differ only in
//! how they spell that row. Values a format needs but the row does not carry (the client's source
//! port, a Zeek connection uid, an ALB trace id, ...) are derived from the seed and the row's
//! position by [`row_hash`], so they are deterministic too and never touch the random streams:
//! the same seed gives the same rows in the same order in every format.

mod alb;
mod cloudwatch;
mod vpcflow;
mod zeek;

pub(crate) use alb::Alb;
pub(crate) use cloudwatch::Cloudwatch;
pub(crate) use vpcflow::VpcFlow;
pub(crate) use zeek::Zeek;

pub use alb::ALB_FIELDS;
pub use vpcflow::{VPC_FLOW_FIELDS, VPC_FLOW_NODATA_EVERY};
pub use zeek::{ZEEK_FIELDS, ZEEK_TYPES};

use crate::time::{TIMESTAMP_LEN, write_timestamp};
use crate::{GenSummary, TrafficKind};
use std::fmt;

/// The file format [`generate`](crate::generate()) writes; see [`GenConfig::format`](crate::GenConfig::format).
///
/// All formats carry the same rows in the same order for a given configuration, each with the
/// ground-truth `label` (0/1) and attack type name as its last two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum OutputFormat {
    /// The CloudWatch CSV of the public seed file plus `label,attack_type` (header
    /// [`HEADER`](crate::HEADER), CRLF line ends, no newline after the last row).
    #[default]
    Cloudwatch,
    /// A Zeek `conn.log` in its TSV form: `#` header lines, the fields [`ZEEK_FIELDS`] with the
    /// types [`ZEEK_TYPES`], a `#close` line; LF line ends. Scan and slow-scan rows are rejected
    /// connections (`REJ`) whose `duration`, `orig_bytes` and `resp_bytes` are unset (`-`).
    Zeek,
    /// AWS VPC Flow Logs as delivered to S3: a header line of the space-separated field names
    /// [`VPC_FLOW_FIELDS`], then space-separated records; LF line ends. One extra `NODATA`
    /// record follows every [`VPC_FLOW_NODATA_EVERY`]th row (these are not rows of the summary).
    VpcFlow,
    /// AWS Application Load Balancer access log entries: the 30 documented space-separated
    /// fields (some double-quoted) plus unquoted `label attack_type`, see [`ALB_FIELDS`]; no
    /// header, LF line ends.
    Alb,
}

impl OutputFormat {
    /// All formats, in declaration order.
    pub const ALL: [OutputFormat; 4] = [
        OutputFormat::Cloudwatch,
        OutputFormat::Zeek,
        OutputFormat::VpcFlow,
        OutputFormat::Alb,
    ];

    /// The format's name: `cloudwatch`, `zeek`, `vpcflow` or `alb`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Cloudwatch => "cloudwatch",
            OutputFormat::Zeek => "zeek",
            OutputFormat::VpcFlow => "vpcflow",
            OutputFormat::Alb => "alb",
        }
    }

    /// Parses a name written by [`as_str`](Self::as_str) (exact, lower case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// A conventional file extension: `csv` for CloudWatch, `log` for the others.
    pub const fn extension(self) -> &'static str {
        match self {
            OutputFormat::Cloudwatch => "csv",
            OutputFormat::Zeek | OutputFormat::VpcFlow | OutputFormat::Alb => "log",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The content of one generated row, independent of the output format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flow {
    /// First second of the flow (CloudWatch `creation_time`), Unix seconds.
    pub(crate) start: i64,
    /// Last second of the flow (CloudWatch `end_time`), Unix seconds; always after `start`.
    pub(crate) end: i64,
    /// Client address (big-endian IPv4).
    pub(crate) src_ip: u32,
    /// Client country code (two ASCII letters).
    pub(crate) country: [u8; 2],
    /// Server address (big-endian IPv4).
    pub(crate) dst_ip: u32,
    /// Server port.
    pub(crate) dst_port: u16,
    /// Whether the CloudWatch `protocol` is `HTTPS` (else `HTTP`).
    pub(crate) https: bool,
    /// HTTP response code.
    pub(crate) code: u16,
    /// Bytes from the client to the server.
    pub(crate) bytes_in: u64,
    /// Bytes from the server to the client.
    pub(crate) bytes_out: u64,
    /// Ground truth.
    pub(crate) kind: TrafficKind,
}

/// One output format's writer. Implementations append to `buf` only (the generator flushes it)
/// and must not allocate per row.
pub(crate) trait RowFormat {
    /// Appends whatever precedes the first row (a header, or nothing).
    fn begin(&mut self, buf: &mut Vec<u8>, run: &GenSummary);
    /// Appends the row at 0-based position `index`.
    fn row(&mut self, buf: &mut Vec<u8>, index: u64, flow: &Flow);
    /// Appends whatever follows the last row (a trailer, or nothing).
    fn finish(&mut self, buf: &mut Vec<u8>, run: &GenSummary);
}

/// Salt of the per-row derived values of one seed.
pub(crate) fn salt(seed: u64) -> u64 {
    mix(seed ^ 0x5EED_F0E7_A7C0_0001)
}

/// A 64-bit hash of `(salt, row index, lane)`; lanes give independent values for one row.
#[inline]
pub(crate) fn row_hash(salt: u64, index: u64, lane: u64) -> u64 {
    mix(salt
        .wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(lane.wrapping_mul(0xD1B5_4A32_D192_ED03)))
}

/// The SplitMix64 finalizer.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The client's (ephemeral) source port of row `index`, in `49152..=65535`; the same in every
/// format that has one.
#[inline]
pub(crate) fn src_port(salt: u64, index: u64) -> u16 {
    49_152 + (row_hash(salt, index, 0) % 16_384) as u16
}

/// Packets carrying `bytes` of payload: `bytes / 1400 + 2`.
#[inline]
pub(crate) const fn packets(bytes: u64) -> u64 {
    bytes / 1_400 + 2
}

/// Payload plus 40 bytes of IPv4 and TCP headers per packet.
#[inline]
pub(crate) const fn ip_bytes(bytes: u64) -> u64 {
    bytes + 40 * packets(bytes)
}

/// Appends the low `digits` hex digits of `v` (lower case, zero-padded).
#[inline]
pub(crate) fn push_hex(buf: &mut Vec<u8>, v: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for k in (0..digits).rev() {
        buf.push(HEX[((v >> (4 * k)) & 0xf) as usize]);
    }
}

/// A formatted ISO-8601 timestamp cache: rows of one window share their times, so most rows
/// reuse the previous text instead of redoing the calendar arithmetic.
pub(crate) struct Stamp {
    secs: i64,
    text: [u8; TIMESTAMP_LEN],
}

impl Stamp {
    pub(crate) const fn new() -> Self {
        Self {
            secs: i64::MIN,
            text: [0; TIMESTAMP_LEN],
        }
    }

    /// `secs` as `YYYY-MM-DDTHH:MM:SSZ`.
    #[inline]
    pub(crate) fn get(&mut self, secs: i64) -> &[u8; TIMESTAMP_LEN] {
        if secs != self.secs {
            write_timestamp(&mut self.text, secs);
            self.secs = secs;
        }
        &self.text
    }
}

/// Generates `rows` rows (3 % attacks by default, here 10 %, half of them of the kinds that
/// mimic normal traffic, so every kind shows up) of `seed` in `format`, for the tests of the
/// formats.
#[cfg(test)]
pub(crate) fn generate_as(format: OutputFormat, rows: usize, seed: u64) -> (String, GenSummary) {
    let cfg = crate::GenConfig {
        rows,
        seed,
        attack_fraction: 0.1,
        attack_mix: crate::AttackMix::mimicking(0.5),
        format,
        ..crate::GenConfig::default()
    };
    let mut out = Vec::new();
    let summary = crate::generate(&cfg, &mut out).expect("generate");
    (String::from_utf8(out).expect("utf8"), summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    /// What every format must agree on for one row.
    #[derive(Debug, PartialEq, Eq)]
    struct Key {
        /// `bytes_in`, where the format has it.
        bytes_in: Option<u64>,
        /// `bytes_in + bytes_out`, where the format has both or only their sum.
        bytes: Option<u64>,
        start: i64,
        src: String,
        /// The client's source port, where the format has one.
        src_port: Option<u16>,
        label: u8,
        kind: TrafficKind,
    }

    fn key(
        bytes_in: Option<u64>,
        bytes: Option<u64>,
        start: i64,
        src: &str,
        src_port: Option<u16>,
        label: &str,
        kind: &str,
    ) -> Key {
        let kind = TrafficKind::from_name(kind).expect("attack type");
        let label = label.parse().expect("label");
        assert_eq!(label, kind.label());
        Key {
            bytes_in,
            bytes,
            start,
            src: src.to_owned(),
            src_port,
            label,
            kind,
        }
    }

    fn parse_cloudwatch(text: &str) -> Vec<Key> {
        text.split("\r\n")
            .skip(1)
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                let (bytes_in, bytes_out): (u64, u64) =
                    (f[0].parse().unwrap(), f[1].parse().unwrap());
                let start = parse_timestamp(f[2]).unwrap();
                key(
                    Some(bytes_in),
                    Some(bytes_in + bytes_out),
                    start,
                    f[4],
                    None,
                    f[16],
                    f[17],
                )
            })
            .collect()
    }

    fn parse_zeek(text: &str) -> Vec<Key> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                let start = f[0].strip_suffix(".000000").unwrap().parse().unwrap();
                let (orig, resp) = (f[9].parse::<u64>().ok(), f[10].parse::<u64>().ok());
                let bytes = orig.zip(resp).map(|(a, b)| a + b);
                let port = Some(f[3].parse().unwrap());
                key(orig, bytes, start, f[2], port, f[21], f[22])
            })
            .collect()
    }

    fn parse_vpcflow(text: &str) -> Vec<Key> {
        text.lines()
            .skip(1)
            .filter(|l| !l.contains(" NODATA "))
            .map(|line| {
                let f: Vec<&str> = line.split(' ').collect();
                let bytes = Some(f[9].parse().unwrap());
                let port = Some(f[5].parse().unwrap());
                key(
                    None,
                    bytes,
                    f[10].parse().unwrap(),
                    f[3],
                    port,
                    f[14],
                    f[15],
                )
            })
            .collect()
    }

    fn parse_alb(text: &str) -> Vec<Key> {
        text.lines()
            .map(|line| {
                let f = alb::split_quoted(line);
                let bytes_in: u64 = f[10].parse().unwrap();
                let bytes_out: u64 = f[11].parse().unwrap();
                let whole = f[21].strip_suffix(".000000Z").unwrap();
                let start = parse_timestamp(&format!("{whole}Z")).unwrap();
                let (ip, port) = f[3].rsplit_once(':').unwrap();
                let port = Some(port.parse().unwrap());
                key(
                    Some(bytes_in),
                    Some(bytes_in + bytes_out),
                    start,
                    ip,
                    port,
                    f[30],
                    f[31],
                )
            })
            .collect()
    }

    /// Whether two formats' views of one row agree on everything both have.
    fn agree(a: &Key, b: &Key) -> bool {
        let same = |x: Option<u64>, y: Option<u64>| x.zip(y).is_none_or(|(x, y)| x == y);
        let same_port = a.src_port.zip(b.src_port).is_none_or(|(x, y)| x == y);
        same(a.bytes_in, b.bytes_in)
            && same(a.bytes, b.bytes)
            && same_port
            && (a.start, &a.src, a.label, a.kind) == (b.start, &b.src, b.label, b.kind)
    }

    #[test]
    fn every_format_has_the_same_rows_in_the_same_order() {
        for (rows, seed) in [(300, 11), (5_003, 12)] {
            let (cloudwatch, summary) = generate_as(OutputFormat::Cloudwatch, rows, seed);
            let reference = parse_cloudwatch(&cloudwatch);
            assert_eq!(reference.len(), rows);
            for format in [OutputFormat::Zeek, OutputFormat::VpcFlow, OutputFormat::Alb] {
                let (text, s) = generate_as(format, rows, seed);
                assert_eq!(s, summary, "{format}");
                let parsed = match format {
                    OutputFormat::Zeek => parse_zeek(&text),
                    OutputFormat::VpcFlow => parse_vpcflow(&text),
                    _ => parse_alb(&text),
                };
                assert_eq!(parsed.len(), rows, "{format}");
                for (i, (a, b)) in reference.iter().zip(&parsed).enumerate() {
                    assert!(agree(a, b), "{format} row {i}: {a:?} vs {b:?}");
                    // Only Zeek scan rows leave bytes_in unset.
                    let unset = format == OutputFormat::Zeek && a.kind.is_refused_probe();
                    assert_eq!(b.bytes.is_none(), unset, "{format} row {i}");
                }
                for kind in TrafficKind::ALL {
                    let n = parsed.iter().filter(|k| k.kind == kind).count();
                    assert_eq!(n, summary.count(kind), "{format} {kind}");
                }
                let labeled = parsed.iter().filter(|k| k.label == 1).count();
                assert_eq!(labeled, summary.attacks(), "{format}");
            }
            // The source port of a row is the same in every format that has one.
            let ports = |f| {
                let (text, _) = generate_as(f, rows, seed);
                match f {
                    OutputFormat::Zeek => parse_zeek(&text),
                    OutputFormat::VpcFlow => parse_vpcflow(&text),
                    _ => parse_alb(&text),
                }
                .into_iter()
                .map(|k| k.src_port)
                .collect::<Vec<_>>()
            };
            let zeek_ports = ports(OutputFormat::Zeek);
            assert_eq!(zeek_ports, ports(OutputFormat::VpcFlow));
            assert_eq!(zeek_ports, ports(OutputFormat::Alb));
        }
    }

    #[test]
    fn deterministic_in_every_format_and_chunking() {
        for format in OutputFormat::ALL {
            let cfg = crate::GenConfig {
                rows: 6_000,
                seed: 99,
                format,
                ..crate::GenConfig::default()
            };
            let mut a = Vec::new();
            crate::generate(&cfg, &mut a).unwrap();
            let mut chunked = std::io::BufWriter::with_capacity(7, Vec::new());
            crate::generate(&cfg, &mut chunked).unwrap();
            assert_eq!(chunked.into_inner().unwrap(), a, "{format}");
            let mut other = Vec::new();
            crate::generate(&crate::GenConfig { seed: 100, ..cfg }, &mut other).unwrap();
            assert_ne!(a, other, "{format}");
        }
    }

    #[test]
    fn explicit_cloudwatch_is_the_default_output() {
        assert_eq!(crate::GenConfig::default().format, OutputFormat::Cloudwatch);
        let (text, _) = generate_as(OutputFormat::Cloudwatch, 282, 42);
        let cfg = crate::GenConfig {
            rows: 282,
            seed: 42,
            attack_fraction: 0.1,
            attack_mix: crate::AttackMix::mimicking(0.5),
            ..crate::GenConfig::default()
        };
        let mut default = Vec::new();
        crate::generate(&cfg, &mut default).unwrap();
        assert_eq!(text.as_bytes(), default);
    }

    #[test]
    fn cloudwatch_bytes_are_pinned() {
        // The first rows of the default 282-row seed-42 file, as written before the formats
        // were split out; guards against any drift of the CloudWatch output.
        let cfg = crate::GenConfig {
            rows: 282,
            ..crate::GenConfig::default()
        };
        let mut csv = Vec::new();
        crate::generate(&cfg, &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        let mut lines = text.split("\r\n").skip(1);
        assert_eq!(
            lines.next(),
            Some(
                "23377,57823,2024-04-25T23:00:00Z,2024-04-25T23:10:00Z,94.188.138.238,IL,HTTPS,200,\
                 443,10.138.69.97,Suspicious Web Traffic,Adversary Infrastructure Interaction,\
                 AWS_VPC_Flow,prod_webserver,2024-04-25T23:00:00Z,waf_rule,0,normal"
            )
        );
        assert_eq!(
            lines.next(),
            Some(
                "24501,33140,2024-04-25T23:00:00Z,2024-04-25T23:10:00Z,147.161.12.216,AT,HTTPS,\
                 200,443,10.138.69.97,Suspicious Web Traffic,Adversary Infrastructure Interaction,\
                 AWS_VPC_Flow,prod_webserver,2024-04-25T23:00:00Z,waf_rule,0,normal"
            )
        );
        assert_eq!(text.len(), 64_045);
    }

    #[test]
    fn names_round_trip() {
        for f in OutputFormat::ALL {
            assert_eq!(OutputFormat::from_name(f.as_str()), Some(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!(
            OutputFormat::from_name("vpcflow"),
            Some(OutputFormat::VpcFlow)
        );
        assert_eq!(OutputFormat::from_name("Zeek"), None);
        assert_eq!(OutputFormat::from_name("csv"), None);
        assert_eq!(OutputFormat::Zeek.extension(), "log");
        assert_eq!(OutputFormat::Cloudwatch.extension(), "csv");
    }

    #[test]
    fn derived_values_stay_in_range() {
        let s = salt(42);
        for i in 0..100_000 {
            assert!(src_port(s, i) >= 49_152);
        }
        assert_eq!(packets(0), 2);
        assert_eq!(packets(1_400), 3);
        assert_eq!(ip_bytes(100), 180);
        let mut buf = Vec::new();
        push_hex(&mut buf, 0x662a_e0f0, 8);
        push_hex(&mut buf, 0xab, 4);
        assert_eq!(buf, b"662ae0f000ab");
    }
}
