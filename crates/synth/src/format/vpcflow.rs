//! AWS VPC Flow Logs as published to Amazon S3, as documented in the Amazon VPC User Guide
//! ("Logging IP traffic using VPC Flow Logs": flow log records, available fields, and "Flow log
//! files" for S3 delivery).
//!
//! The file starts with a header line of the space-separated field names, [`VPC_FLOW_FIELDS`]:
//! the default version-2 format (`version account-id interface-id srcaddr dstaddr srcport
//! dstport protocol packets bytes start end action log-status`) plus two custom trailing fields
//! `label attack-type`. Records are space-separated with LF line ends:
//!
//! ```text
//! 2 123456789012 eni-0a1b2c3d4e5f60718 94.188.138.238 10.138.69.97 54724 443 6 61 81200 1714086000 1714086600 ACCEPT OK 0 normal
//! ```
//!
//! `srcaddr` is the client and `dstaddr` the server; `srcport` is the deterministic ephemeral port
//! in 49152..=65535 that the other formats use too; `protocol` 6 (TCP); `packets` = the packets
//! of both directions, `bytes_in / 1400 + 2 + bytes_out / 1400 + 2`; `bytes` = `bytes_in +
//! bytes_out`; `start`/`end` in Unix seconds; `action` `ACCEPT`, or `REJECT` for scan and
//! slow-scan rows; `log-status` `OK`; then `label` (0/1) and the attack type name.
//!
//! After every [`VPC_FLOW_NODATA_EVERY`]th row (row positions `n` with `n % 5000 == 4999`) one
//! extra `NODATA` record with the previous row's `start` and `end` follows, as AWS writes for an
//! interface without traffic in an aggregation interval:
//!
//! ```text
//! 2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1714086000 1714086600 - NODATA - -
//! ```
//!
//! These records are not rows of the [`GenSummary`]: a file of `r` rows has
//! `r / 5000` of them, and a reader should skip them (or treat them as unlabeled).

use super::{Flow, RowFormat, packets, salt, src_port};
use crate::GenSummary;
use crate::write::{push_ipv4, push_u64};
use webthreat_core::log_fields::{VPC_FLOW_V2_FIELDS, with_extra};

/// The header line's field names, in record order: the default (version 2) fields, then two
/// custom ones.
pub const VPC_FLOW_FIELDS: [&str; 16] = with_extra(VPC_FLOW_V2_FIELDS, ["label", "attack-type"]);

/// One `NODATA` record follows every this many rows.
pub const VPC_FLOW_NODATA_EVERY: u64 = 5_000;

/// `version account-id interface-id` of every record.
const PREFIX: &[u8] = b"2 123456789012 eni-0a1b2c3d4e5f60718 ";

/// Writer of [`OutputFormat::VpcFlow`](super::OutputFormat::VpcFlow).
pub(crate) struct VpcFlow {
    salt: u64,
}

impl VpcFlow {
    pub(crate) fn new(seed: u64) -> Self {
        Self { salt: salt(seed) }
    }
}

impl RowFormat for VpcFlow {
    fn begin(&mut self, buf: &mut Vec<u8>, _run: &GenSummary) {
        buf.extend_from_slice(VPC_FLOW_FIELDS.join(" ").as_bytes());
        buf.push(b'\n');
    }

    #[inline]
    fn row(&mut self, b: &mut Vec<u8>, index: u64, flow: &Flow) {
        b.extend_from_slice(PREFIX);
        push_ipv4(b, flow.src_ip);
        b.push(b' ');
        push_ipv4(b, flow.dst_ip);
        b.push(b' ');
        push_u64(b, u64::from(src_port(self.salt, index)));
        b.push(b' ');
        push_u64(b, u64::from(flow.dst_port));
        b.extend_from_slice(b" 6 ");
        push_u64(b, packets(flow.bytes_in) + packets(flow.bytes_out));
        b.push(b' ');
        push_u64(b, flow.bytes_in + flow.bytes_out);
        b.push(b' ');
        push_u64(b, flow.start as u64);
        b.push(b' ');
        push_u64(b, flow.end as u64);
        b.extend_from_slice(if flow.kind.is_refused_probe() {
            b" REJECT OK "
        } else {
            b" ACCEPT OK "
        });
        b.push(b'0' + flow.kind.label());
        b.push(b' ');
        b.extend_from_slice(flow.kind.as_str().as_bytes());
        b.push(b'\n');
        if index % VPC_FLOW_NODATA_EVERY == VPC_FLOW_NODATA_EVERY - 1 {
            b.extend_from_slice(PREFIX);
            b.extend_from_slice(b"- - - - - - - ");
            push_u64(b, flow.start as u64);
            b.push(b' ');
            push_u64(b, flow.end as u64);
            b.extend_from_slice(b" - NODATA - -\n");
        }
    }

    fn finish(&mut self, _buf: &mut Vec<u8>, _run: &GenSummary) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrafficKind;
    use crate::format::{OutputFormat, generate_as};

    fn check(rows: usize, seed: u64) {
        let (log, s) = generate_as(OutputFormat::VpcFlow, rows, seed);
        assert!(log.ends_with('\n') && !log.contains('\r') && !log.contains('\t'));
        let mut lines = log.lines();
        assert_eq!(
            lines.next(),
            Some(
                "version account-id interface-id srcaddr dstaddr srcport dstport protocol \
                 packets bytes start end action log-status label attack-type"
            )
        );
        let mut labels = [0usize; 2];
        let mut records = 0;
        let mut nodata = 0;
        let mut last_times = ("", "");
        for line in lines {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 16, "{line}");
            assert_eq!(&f[..3], ["2", "123456789012", "eni-0a1b2c3d4e5f60718"]);
            if f[13] == "NODATA" {
                nodata += 1;
                assert_eq!(records % 5_000, 0, "NODATA after every 5000th row");
                assert!(
                    f[3..10]
                        .iter()
                        .chain(&[f[12], f[14], f[15]])
                        .all(|v| *v == "-")
                );
                assert_eq!((f[10], f[11]), last_times);
                continue;
            }
            records += 1;
            let kind = TrafficKind::from_name(f[15]).expect("attack-type");
            labels[f[14].parse::<usize>().expect("label")] += 1;
            assert_eq!(f[14], kind.label().to_string());
            let num = |i: usize| f[i].parse::<u64>().expect(VPC_FLOW_FIELDS[i]);
            assert!((49_152..=65_535).contains(&num(5)));
            assert_eq!(f[7], "6");
            assert!(num(8) >= 4 && num(9) > 0 && num(11) > num(10));
            let action = if kind.is_refused_probe() {
                "REJECT"
            } else {
                "ACCEPT"
            };
            assert_eq!((f[12], f[13]), (action, "OK"));
            last_times = (f[10], f[11]);
        }
        assert_eq!(records, s.rows);
        assert_eq!(nodata, s.rows / 5_000);
        assert_eq!(labels, [s.normal, s.attacks()]);
    }

    #[test]
    fn header_records_and_nodata() {
        check(300, 5);
        check(10_000, 6);
        check(4_999, 7);
    }
}
