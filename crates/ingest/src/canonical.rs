//! Canonical column names of a [`LogTable`](crate::LogTable): one flow schema for every format.
//!
//! After ingest, mapped source columns carry these names whatever the source called them;
//! unmapped source columns keep their own names. Where the Elastic Common Schema has a field of
//! the same meaning, its name is given; the names stay short because they are also feature
//! names in configs.

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
/// Packets sent by the client (ECS `source.packets`); Float64, non-negative.
pub const PACKETS_IN: &str = "packets_in";
/// Packets sent by the server (ECS `destination.packets`); Float64, non-negative.
pub const PACKETS_OUT: &str = "packets_out";
/// Session length in seconds (ECS `event.duration`, in seconds here); Float64, non-negative.
/// A source with a duration and no end time gets `end_time = start_time + duration`.
pub const DURATION: &str = "duration";
/// Source IP (ECS `source.ip`); String.
pub const SRC_IP: &str = "src_ip";
/// Source port (ECS `source.port`); Int64 in 0..=65535.
pub const SRC_PORT: &str = "src_port";
/// Destination IP (ECS `destination.ip`); String.
pub const DST_IP: &str = "dst_ip";
/// Destination port (ECS `destination.port`); Int64 in 0..=65535.
pub const DST_PORT: &str = "dst_port";
/// Transport or web protocol (ECS `network.transport`); String.
pub const PROTOCOL: &str = "protocol";
/// Application protocol, such as Zeek's `service` (ECS `network.protocol`); String.
pub const SERVICE: &str = "service";
/// Firewall decision, such as VPC Flow Logs' ACCEPT / REJECT (ECS `event.action`); String.
pub const ACTION: &str = "action";
/// Connection state, such as Zeek's `conn_state` (no ECS field); String.
pub const CONN_STATE: &str = "conn_state";
/// Source country code (ECS `source.geo.country_iso_code`); String.
pub const COUNTRY: &str = "country";
/// Ground truth; Boolean, true = anomaly.
pub const LABEL: &str = "label";

/// Canonical columns holding byte or packet counts or durations (non-negative numbers).
pub const QUANTITIES: [&str; 5] = [BYTES_IN, BYTES_OUT, PACKETS_IN, PACKETS_OUT, DURATION];

/// Canonical columns holding ports.
pub const PORTS: [&str; 2] = [SRC_PORT, DST_PORT];

/// Canonical columns holding timestamps.
pub const TIMES: [&str; 2] = [START_TIME, END_TIME];

/// Canonical columns that are not features by default: identities, times and ground truth.
pub const NOT_DEFAULT_FEATURES: [&str; 7] = [
    ROW_ID, START_TIME, END_TIME, SRC_PORT, DST_PORT, LABEL, SRC_IP,
];

/// Canonical columns that a source column may be mapped to, in a fixed order.
pub const MAPPABLE: [&str; 17] = [
    BYTES_IN,
    BYTES_OUT,
    PACKETS_IN,
    PACKETS_OUT,
    START_TIME,
    END_TIME,
    DURATION,
    SRC_IP,
    SRC_PORT,
    DST_IP,
    DST_PORT,
    PROTOCOL,
    SERVICE,
    ACTION,
    CONN_STATE,
    COUNTRY,
    LABEL,
];
