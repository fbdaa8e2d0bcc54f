//! [`TimeFormat`]: how a log writes its timestamps, and parsing one to epoch milliseconds.

use crate::timestamp::parse_epoch_ms;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How timestamps are written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Each value as ISO-8601, or as epoch seconds / ms / µs / ns told apart by the digits
    /// before the decimal point (10 or fewer, 13, 16, 19); any other count is refused as
    /// ambiguous.
    #[default]
    Auto,
    /// ISO-8601 (see [`parse_epoch_ms`]).
    Iso8601,
    /// Epoch seconds, optionally fractional.
    EpochSeconds,
    /// Epoch milliseconds, optionally fractional.
    EpochMillis,
    /// Epoch microseconds, optionally fractional.
    EpochMicros,
    /// Epoch nanoseconds.
    EpochNanos,
    /// A strftime pattern (chrono's syntax), read as UTC unless it has an offset (`%z`).
    Pattern(String),
}

impl TimeFormat {
    /// True for [`TimeFormat::Auto`].
    pub fn is_auto(&self) -> bool {
        *self == TimeFormat::Auto
    }

    /// Milliseconds since the epoch (fractions of a millisecond are dropped), or `None` when
    /// `s` is not a timestamp of this format.
    pub fn parse(&self, s: &str) -> Option<i64> {
        let s = s.trim();
        match self {
            TimeFormat::Auto => parse_epoch_ms(s).or_else(|| {
                let digits = s.split('.').next()?.len();
                let scale = match digits {
                    1..=10 => 0,
                    13 => 3,
                    16 => 6,
                    19 => 9,
                    _ => return None,
                };
                parse_epoch(s, scale)
            }),
            TimeFormat::Iso8601 => parse_epoch_ms(s),
            TimeFormat::EpochSeconds => parse_epoch(s, 0),
            TimeFormat::EpochMillis => parse_epoch(s, 3),
            TimeFormat::EpochMicros => parse_epoch(s, 6),
            TimeFormat::EpochNanos => parse_epoch(s, 9),
            TimeFormat::Pattern(p) => parse_pattern(s, p),
        }
    }

    /// What a value must look like, for error messages.
    pub fn expected(&self) -> String {
        match self {
            TimeFormat::Auto => "a timestamp: ISO-8601 like 2024-04-25T23:00:00Z, or epoch \
                seconds/ms/µs/ns (10, 13, 16 or 19 digits; set `time_format` otherwise)"
                .into(),
            TimeFormat::Iso8601 => "an ISO-8601 UTC timestamp like 2024-04-25T23:00:00Z".into(),
            TimeFormat::EpochSeconds => "epoch seconds like 1541117137.618695".into(),
            TimeFormat::EpochMillis => "epoch milliseconds like 1541117137618".into(),
            TimeFormat::EpochMicros => "epoch microseconds like 1541117137618695".into(),
            TimeFormat::EpochNanos => "epoch nanoseconds like 1541117137618695000".into(),
            TimeFormat::Pattern(p) => format!("a timestamp of the pattern `{p}`"),
        }
    }
}

/// `digits(.digits)?` read as a count of 10^-`scale` seconds, to milliseconds (truncated).
fn parse_epoch(s: &str, scale: u32) -> Option<i64> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 19 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if s.ends_with('.') {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    // the fraction's first digits that reach below a millisecond are dropped
    let wanted = 3u32.saturating_sub(scale) as usize;
    let mut frac_ms: i64 = 0;
    for i in 0..wanted {
        let d = fraction
            .as_bytes()
            .get(i)
            .map_or(0, |b| i64::from(b - b'0'));
        frac_ms = frac_ms * 10 + d;
    }
    match scale {
        0..=3 => whole
            .checked_mul(10i64.pow(3 - scale))?
            .checked_add(frac_ms),
        _ => Some(whole / 10i64.pow(scale - 3)),
    }
}

fn parse_pattern(s: &str, pattern: &str) -> Option<i64> {
    if pattern.contains("%z") || pattern.contains("%:z") || pattern.contains("%#z") {
        return chrono::DateTime::parse_from_str(s, pattern)
            .ok()
            .map(|t| t.timestamp_millis());
    }
    chrono::NaiveDateTime::parse_from_str(s, pattern)
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

impl Serialize for TimeFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            TimeFormat::Auto => "auto",
            TimeFormat::Iso8601 => "iso8601",
            TimeFormat::EpochSeconds => "epoch_s",
            TimeFormat::EpochMillis => "epoch_ms",
            TimeFormat::EpochMicros => "epoch_us",
            TimeFormat::EpochNanos => "epoch_ns",
            TimeFormat::Pattern(p) => p,
        })
    }
}

impl<'de> Deserialize<'de> for TimeFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.as_str() {
            "auto" => TimeFormat::Auto,
            "iso8601" | "iso" => TimeFormat::Iso8601,
            "epoch_s" | "epoch" => TimeFormat::EpochSeconds,
            "epoch_ms" => TimeFormat::EpochMillis,
            "epoch_us" => TimeFormat::EpochMicros,
            "epoch_ns" => TimeFormat::EpochNanos,
            p if p.contains('%') => TimeFormat::Pattern(p.to_string()),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "time_format `{}`: expected auto, iso8601, epoch_s, epoch_ms, epoch_us, epoch_ns or a strftime pattern with `%` fields",
                    other.escape_debug()
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_units_and_fractions_truncate_to_milliseconds() {
        let ms = 1_541_117_137_618;
        for (format, text) in [
            (TimeFormat::EpochSeconds, "1541117137.618695"),
            (TimeFormat::EpochMillis, "1541117137618.9"),
            (TimeFormat::EpochMicros, "1541117137618695"),
            (TimeFormat::EpochNanos, "1541117137618695123"),
            (TimeFormat::Auto, "1541117137.618695"),
            (TimeFormat::Auto, "1541117137618"),
            (TimeFormat::Auto, "1541117137618695"),
            (TimeFormat::Auto, "2018-11-02T00:05:37.618Z"),
            (
                TimeFormat::Pattern("%d/%m/%Y %H:%M:%S%.f".into()),
                "02/11/2018 00:05:37.618",
            ),
            (
                TimeFormat::Pattern("%d/%b/%Y:%H:%M:%S%.f %z".into()),
                "02/Nov/2018:01:05:37.618 +0100",
            ),
        ] {
            assert_eq!(format.parse(text), Some(ms), "{format:?} {text}");
        }
        assert_eq!(
            TimeFormat::EpochSeconds.parse("1541117137"),
            Some(1_541_117_137_000)
        );
        for bad in ["", "-", "1.", ".5", "-1", "1e9", "15411171376", "abc"] {
            assert_eq!(TimeFormat::Auto.parse(bad), None, "{bad}");
        }
        assert_eq!(TimeFormat::EpochSeconds.parse("99999999999999999999"), None);
    }

    #[test]
    fn config_words_round_trip() {
        for word in [
            "auto", "iso8601", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns", "%Y%m%d",
        ] {
            let f: TimeFormat = serde_yaml::from_str(&format!("'{word}'")).unwrap();
            let back = serde_yaml::to_string(&f).unwrap();
            assert_eq!(serde_yaml::from_str::<TimeFormat>(&back).unwrap(), f);
        }
        assert!(serde_yaml::from_str::<TimeFormat>("seconds").is_err());
    }
}
