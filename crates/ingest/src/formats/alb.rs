//! AWS Application Load Balancer access logs: space-separated records without a header, the
//! request, user agent and a few other fields in double quotes, fields in the documented order
//! (newer fields appended over the years; records may end early or carry more). `client:port`
//! and `target:port` hold an address and a port (`-` when the request reached no target);
//! `request_creation_time` starts a request and `time` ends it, both ISO-8601.

use super::{Description, FieldMap, HeaderRule, NETWORK_MISSING, Part, TimeFormatOf, whole};
use crate::canonical::*;
use crate::spec::MissingPolicy;
use webthreat_core::log_fields::ALB_FIELDS;

const fn part(canonical: &'static str, source: &'static str, part: Part) -> FieldMap {
    FieldMap {
        canonical,
        source,
        part,
    }
}

/// `elb_status_code` is `-` when the client closed the connection before a response.
const MISSING: [(&str, MissingPolicy); 8] = {
    let n = NETWORK_MISSING;
    [
        n[0],
        n[1],
        n[2],
        n[3],
        n[4],
        n[5],
        n[6],
        ("elb_status_code", MissingPolicy::Zero),
    ]
};

pub(crate) const DESCRIPTION: Description = Description {
    separator: Some(b' '),
    quote: Some(b'"'),
    comment: None,
    header: HeaderRule::Positional(&ALB_FIELDS),
    time: Some(TimeFormatOf::Iso8601),
    fields: Some(&[
        whole(PROTOCOL, "type"),
        whole(START_TIME, "request_creation_time"),
        whole(END_TIME, "time"),
        part(SRC_IP, "client:port", Part::Host),
        part(SRC_PORT, "client:port", Part::Port),
        part(DST_IP, "target:port", Part::Host),
        part(DST_PORT, "target:port", Part::Port),
        whole(BYTES_IN, "received_bytes"),
        whole(BYTES_OUT, "sent_bytes"),
    ]),
    all_fields_required: false,
    missing: &MISSING,
    json_lines: false,
    default_features: Some(&[
        "log1p(bytes_in)",
        "log1p(bytes_out)",
        "session_duration",
        "elb_status_code",
    ]),
};
