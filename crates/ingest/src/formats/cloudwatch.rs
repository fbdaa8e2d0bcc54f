//! The AWS CloudWatch web-traffic export: comma CSV with a header line, ISO-8601 times, and
//! fixed column names, all required. A missing value is an error: the export has none.

use super::{Description, HeaderRule, TimeFormatOf, whole};
use crate::canonical::*;

pub(crate) const DESCRIPTION: Description = Description {
    separator: Some(b','),
    quote: Some(b'"'),
    comment: None,
    header: HeaderRule::FirstLine,
    time: Some(TimeFormatOf::Iso8601),
    fields: Some(&[
        whole(BYTES_IN, "bytes_in"),
        whole(BYTES_OUT, "bytes_out"),
        whole(START_TIME, "creation_time"),
        whole(END_TIME, "end_time"),
        whole(SRC_IP, "src_ip"),
        whole(DST_IP, "dst_ip"),
        whole(DST_PORT, "dst_port"),
        whole(PROTOCOL, "protocol"),
        whole(COUNTRY, "src_ip_country_code"),
    ]),
    all_fields_required: true,
    missing: &[],
    json_lines: false,
    default_features: Some(&[
        "bytes_in",
        "bytes_out",
        "session_duration",
        "avg_packet_size",
    ]),
};
