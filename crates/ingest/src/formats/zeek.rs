//! Zeek logs: TSV with `#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`,
//! `#open`, `#fields`, `#types` and `#close` directive lines (Zeek's ASCII writer), or JSON
//! lines (one object per record, unset fields left out). Times are epoch seconds with
//! microseconds. conn.log fields are mapped (`orig` is the client, `resp` the server); other
//! logs (dns.log, http.log) map whichever of these fields they have.

use super::{Description, FieldMap, HeaderRule, NETWORK_MISSING, TimeFormatOf, whole};
use crate::canonical::*;

const FIELDS: [FieldMap; 13] = [
    whole(START_TIME, "ts"),
    whole(DURATION, "duration"),
    whole(SRC_IP, "id.orig_h"),
    whole(SRC_PORT, "id.orig_p"),
    whole(DST_IP, "id.resp_h"),
    whole(DST_PORT, "id.resp_p"),
    whole(PROTOCOL, "proto"),
    whole(SERVICE, "service"),
    whole(CONN_STATE, "conn_state"),
    whole(BYTES_IN, "orig_bytes"),
    whole(BYTES_OUT, "resp_bytes"),
    whole(PACKETS_IN, "orig_pkts"),
    whole(PACKETS_OUT, "resp_pkts"),
];

pub(crate) const DESCRIPTION: Description = Description {
    separator: Some(b'\t'),
    quote: None,
    comment: Some(b'#'),
    header: HeaderRule::ZeekDirectives,
    time: Some(TimeFormatOf::EpochSeconds),
    fields: Some(&FIELDS),
    all_fields_required: false,
    missing: &NETWORK_MISSING,
    json_lines: true,
    default_features: Some(&[
        "log1p(bytes_in)",
        "log1p(bytes_out)",
        "log1p(packets_in)",
        "log1p(packets_out)",
        "log1p(session_duration)",
    ]),
};
