//! One declarative description per log format: how its records are written (separator,
//! quoting, comment lines, header, null tokens, time encoding), which of its fields become
//! which canonical columns, and what a missing value means for each. Every read path (the
//! plain reader, polars' CSV reader, the JSON-lines reader) takes the [`Layout`] resolved from
//! a description and a file's header, so a new format is one new file here plus its tests.
//!
//! [`Layout`]: crate::layout::Layout

mod alb;
mod cloudwatch;
mod table;
mod vpcflow;
mod zeek;

use crate::spec::{Format, MissingPolicy, TimeFormat};

/// How a format names its columns.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HeaderRule {
    /// The first line names the columns (CSV style).
    FirstLine,
    /// Zeek's `#` directives: `#separator`, `#fields`, `#unset_field`, `#empty_field`.
    ZeekDirectives,
    /// The first line names the columns when its first field is `first`; otherwise the records
    /// carry `fields` in this order (VPC Flow Logs delivered without a header).
    FirstLineIf {
        /// The first field name of a header line.
        first: &'static str,
        /// The field list of a log without a header line.
        fields: &'static [&'static str],
    },
    /// No header: the records carry these fields by position; fields beyond the list (added by
    /// newer versions of the format) are named `field_<n>` (1-based).
    Positional(&'static [&'static str]),
}

/// Which part of a source field a canonical column takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The whole field.
    Whole,
    /// The address of an `address:port` field.
    Host,
    /// The port of an `address:port` field.
    Port,
}

/// A canonical column taken from a source field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldMap {
    /// Canonical column.
    pub canonical: &'static str,
    /// Source field.
    pub source: &'static str,
    /// Which part of the field.
    pub part: Part,
}

/// Shorthand for a [`FieldMap`] of a whole field.
pub(crate) const fn whole(canonical: &'static str, source: &'static str) -> FieldMap {
    FieldMap {
        canonical,
        source,
        part: Part::Whole,
    }
}

/// A format's description.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Description {
    /// Field separator of delimited records (`None`: the config's `separator`, comma by default).
    pub separator: Option<u8>,
    /// Quote character of delimited records (a quoted field may hold separators and newlines).
    pub quote: Option<u8>,
    /// Lines starting with this byte are directives or comments, not records.
    pub comment: Option<u8>,
    /// How columns are named.
    pub header: HeaderRule,
    /// How timestamps are written (`None`: the config's `time_format`).
    pub time: Option<TimeFormatOf>,
    /// The format's own field mapping (`None`: the config's `columns`).
    pub fields: Option<&'static [FieldMap]>,
    /// Whether every field of `fields` must be present (otherwise those present are used).
    pub all_fields_required: bool,
    /// The default missing-value policy of canonical columns not listed in the config's
    /// `missing:`; columns not named here fall back to [`fallback_missing`].
    pub missing: &'static [(&'static str, MissingPolicy)],
    /// Whether a file whose first byte is `{` is read as JSON lines.
    pub json_lines: bool,
    /// Default feature list when a config names none (`None`: every numeric column that is not
    /// an identity, a time or the label).
    pub default_features: Option<&'static [&'static str]>,
}

/// A fixed time format of a native log (kept as data so descriptions stay `const`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TimeFormatOf {
    /// ISO-8601.
    Iso8601,
    /// Epoch seconds, optionally fractional.
    EpochSeconds,
}

impl TimeFormatOf {
    pub(crate) fn format(self) -> TimeFormat {
        match self {
            TimeFormatOf::Iso8601 => TimeFormat::Iso8601,
            TimeFormatOf::EpochSeconds => TimeFormat::EpochSeconds,
        }
    }
}

/// The description of `format`.
pub(crate) fn description(format: Format) -> &'static Description {
    match format {
        Format::Cloudwatch => &cloudwatch::DESCRIPTION,
        Format::Table => &table::DESCRIPTION,
        Format::Zeek => &zeek::DESCRIPTION,
        Format::Vpcflow => &vpcflow::DESCRIPTION,
        Format::Alb => &alb::DESCRIPTION,
    }
}

/// The missing-value policy of a column no format default and no config entry names:
/// quantities read as 0 in the native formats, text stays missing, anything else fails.
pub(crate) fn fallback_missing(numeric: bool) -> MissingPolicy {
    if numeric {
        MissingPolicy::Fail
    } else {
        MissingPolicy::Keep
    }
}

/// Missing-value defaults shared by the network-log formats: counts and durations read as 0
/// (Zeek and AWS leave them unset when nothing was measured), ports as 0, text stays missing,
/// and a flow without a time fails.
pub(crate) const NETWORK_MISSING: [(&str, MissingPolicy); 7] = {
    use crate::canonical::*;
    [
        (BYTES_IN, MissingPolicy::Zero),
        (BYTES_OUT, MissingPolicy::Zero),
        (PACKETS_IN, MissingPolicy::Zero),
        (PACKETS_OUT, MissingPolicy::Zero),
        (DURATION, MissingPolicy::Zero),
        (SRC_PORT, MissingPolicy::Zero),
        (DST_PORT, MissingPolicy::Zero),
    ]
};
