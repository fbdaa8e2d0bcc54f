//! The CloudWatch CSV: exactly the columns and spelling of the public
//! `CloudWatch_Traffic_Web_Attack.csv` seed file (an export of AWS CloudWatch / VPC Flow Logs
//! findings, see the Amazon CloudWatch Logs User Guide) plus `label,attack_type`.
//!
//! Header [`HEADER`], CRLF line ends, no line end after the last row, ISO-8601 UTC times
//! (`2024-04-25T23:00:00Z`). Columns: `bytes_in, bytes_out, creation_time, end_time, src_ip,
//! src_ip_country_code, protocol (HTTPS/HTTP), response.code, dst_port, dst_ip`, the seed file's
//! constants `Suspicious Web Traffic, Adversary Infrastructure Interaction, AWS_VPC_Flow,
//! prod_webserver`, `time` (= `creation_time`), `waf_rule`, then `label` (0/1) and `attack_type`.

use super::{Flow, RowFormat, Stamp};
use crate::write::{push_ipv4, push_u64};
use crate::{GenSummary, HEADER};

/// The seed file's constant columns between `dst_ip` and `time`.
const MIDDLE: &[u8] =
    b",Suspicious Web Traffic,Adversary Infrastructure Interaction,AWS_VPC_Flow,prod_webserver,";

/// Writer of [`OutputFormat::Cloudwatch`](super::OutputFormat::Cloudwatch).
pub(crate) struct Cloudwatch {
    start: Stamp,
    end: Stamp,
}

impl Cloudwatch {
    pub(crate) const fn new() -> Self {
        Self {
            start: Stamp::new(),
            end: Stamp::new(),
        }
    }
}

impl RowFormat for Cloudwatch {
    fn begin(&mut self, buf: &mut Vec<u8>, _run: &GenSummary) {
        buf.extend_from_slice(HEADER.as_bytes());
    }

    #[inline]
    fn row(&mut self, b: &mut Vec<u8>, _index: u64, flow: &Flow) {
        let creation = self.start.get(flow.start);
        let end = self.end.get(flow.end);
        b.extend_from_slice(b"\r\n");
        push_u64(b, flow.bytes_in);
        b.push(b',');
        push_u64(b, flow.bytes_out);
        b.push(b',');
        b.extend_from_slice(creation);
        b.push(b',');
        b.extend_from_slice(end);
        b.push(b',');
        push_ipv4(b, flow.src_ip);
        b.push(b',');
        b.extend_from_slice(&flow.country);
        b.extend_from_slice(if flow.https { b",HTTPS," } else { b",HTTP," });
        push_u64(b, u64::from(flow.code));
        b.push(b',');
        push_u64(b, u64::from(flow.dst_port));
        b.push(b',');
        push_ipv4(b, flow.dst_ip);
        b.extend_from_slice(MIDDLE);
        b.extend_from_slice(creation);
        b.extend_from_slice(b",waf_rule,");
        b.push(b'0' + flow.kind.label());
        b.push(b',');
        b.extend_from_slice(flow.kind.as_str().as_bytes());
    }

    fn finish(&mut self, _buf: &mut Vec<u8>, _run: &GenSummary) {}
}
