//! Canonical column names of a [`LogTable`](crate::LogTable) and the CloudWatch mapping.
//!
//! After ingest, mapped source columns carry these names whatever the source called them;
//! unmapped source columns keep their own names.

/// Data row index in the source file (0-based, header excluded); UInt64.
pub const ROW_ID: &str = "row_id";
/// Bytes received by the server; Float64, non-negative.
pub const BYTES_IN: &str = "bytes_in";
/// Bytes sent by the server; Float64, non-negative.
pub const BYTES_OUT: &str = "bytes_out";
/// Session start; Datetime(ms, UTC).
pub const START_TIME: &str = "start_time";
/// Session end; Datetime(ms, UTC), never before `start_time`.
pub const END_TIME: &str = "end_time";
/// Source IP; String.
pub const SRC_IP: &str = "src_ip";
/// Destination IP; String.
pub const DST_IP: &str = "dst_ip";
/// Destination port; Int64 in 0..=65535.
pub const DST_PORT: &str = "dst_port";
/// Protocol; String.
pub const PROTOCOL: &str = "protocol";
/// Source country code; String.
pub const COUNTRY: &str = "country";
/// Ground truth; Boolean, true = anomaly.
pub const LABEL: &str = "label";

/// Canonical columns that may be mapped from a source column, in a fixed order.
pub const MAPPABLE: [&str; 10] = [
    BYTES_IN, BYTES_OUT, START_TIME, END_TIME, SRC_IP, DST_IP, DST_PORT, PROTOCOL, COUNTRY, LABEL,
];

/// The CloudWatch export's columns for each canonical column (all required).
pub const CLOUDWATCH: [(&str, &str); 9] = [
    (BYTES_IN, "bytes_in"),
    (BYTES_OUT, "bytes_out"),
    (START_TIME, "creation_time"),
    (END_TIME, "end_time"),
    (SRC_IP, "src_ip"),
    (DST_IP, "dst_ip"),
    (DST_PORT, "dst_port"),
    (PROTOCOL, "protocol"),
    (COUNTRY, "src_ip_country_code"),
];
