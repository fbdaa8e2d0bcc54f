//! Any table: CSV (or another single-byte separator) with a header line, JSON lines, or
//! Parquet, mapped by the config's `columns:`, times as `time_format` says. Byte, packet,
//! duration and port columns read a missing value as 0; other numeric columns fail on one.

use super::{Description, HeaderRule, NETWORK_MISSING};

pub(crate) const DESCRIPTION: Description = Description {
    separator: None,
    quote: Some(b'"'),
    comment: None,
    header: HeaderRule::FirstLine,
    time: None,
    fields: None,
    all_fields_required: true,
    missing: &NETWORK_MISSING,
    json_lines: true,
    default_features: None,
};
