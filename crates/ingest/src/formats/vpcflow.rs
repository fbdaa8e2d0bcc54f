//! AWS VPC Flow Logs: space-separated records, with a header line of field names when
//! delivered to S3 (any custom field list), or the default version-2 fields without one (as
//! delivered to CloudWatch Logs). `start`/`end` are epoch seconds; NODATA and SKIPDATA records
//! carry `-` in every flow field and are rejected into the rejects list by the `src_ip` default
//! `missing: skip` (they are not flows).

use super::{Description, HeaderRule, NETWORK_MISSING, TimeFormatOf, whole};
use crate::canonical::*;
use crate::spec::MissingPolicy;
use webthreat_core::log_fields::VPC_FLOW_V2_FIELDS;

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
        (SRC_IP, MissingPolicy::Skip),
    ]
};

pub(crate) const DESCRIPTION: Description = Description {
    separator: Some(b' '),
    quote: None,
    comment: None,
    header: HeaderRule::FirstLineIf {
        first: "version",
        fields: &VPC_FLOW_V2_FIELDS,
    },
    time: Some(TimeFormatOf::EpochSeconds),
    fields: Some(&[
        whole(SRC_IP, "srcaddr"),
        whole(DST_IP, "dstaddr"),
        whole(SRC_PORT, "srcport"),
        whole(DST_PORT, "dstport"),
        whole(PROTOCOL, "protocol"),
        whole(PACKETS_IN, "packets"),
        whole(BYTES_IN, "bytes"),
        whole(START_TIME, "start"),
        whole(END_TIME, "end"),
        whole(ACTION, "action"),
    ]),
    all_fields_required: false,
    missing: &MISSING,
    json_lines: false,
    default_features: Some(&["log1p(bytes_in)", "log1p(packets_in)", "session_duration"]),
};
