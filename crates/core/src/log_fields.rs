//! Field lists of the native log formats, as their public documentation gives them: shared by
//! the reader (`ingest`, which names the fields of records without a header) and the generator
//! (`synth`, which writes them).

/// AWS VPC Flow Logs' default (version 2) fields, in record order.
pub const VPC_FLOW_V2_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// AWS Application Load Balancer access-log fields, in record order (AWS appends new fields at
/// the end over time).
pub const ALB_FIELDS: [&str; 30] = [
    "type",
    "time",
    "elb",
    "client:port",
    "target:port",
    "request_processing_time",
    "target_processing_time",
    "response_processing_time",
    "elb_status_code",
    "target_status_code",
    "received_bytes",
    "sent_bytes",
    "request",
    "user_agent",
    "ssl_cipher",
    "ssl_protocol",
    "target_group_arn",
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "matched_rule_priority",
    "request_creation_time",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target:port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
    "conn_trace_id",
];

/// `fields` followed by `extra` (a const list of a format's fields plus a generator's own).
pub const fn with_extra<const N: usize, const E: usize, const T: usize>(
    fields: [&'static str; N],
    extra: [&'static str; E],
) -> [&'static str; T] {
    assert!(N + E == T, "T must be N + E");
    let mut out = [""; T];
    let mut i = 0;
    while i < N {
        out[i] = fields[i];
        i += 1;
    }
    while i < T {
        out[i] = extra[i - N];
        i += 1;
    }
    out
}
