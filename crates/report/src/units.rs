//! Text of a value in the unit of its log column ([`Unit`]): bytes, durations, counts, rates,
//! hours of the day and shares, as the report shows them.
//!
//! Every function takes any `f64` (values are log-derived) and returns a short, finite piece
//! of text: values too large or too small for their unit's words fall back to scientific
//! notation (`1e300 B`), non-finite values are written as Rust writes them (`NaN`, `inf`).
//! The text depends only on the value, so the same model always renders the same bytes.

use crate::model::Unit;

/// Decimal exponents outside this range are written in scientific notation by [`decimal`].
const PLAIN_EXPONENTS: std::ops::RangeInclusive<i32> = -4..=14;

/// Decimal SI prefixes of byte units, one per power of 1000 (`K` as the reports have always
/// written it).
const BYTE_PREFIXES: [&str; 9] = ["", "K", "M", "G", "T", "P", "E", "Z", "Y"];

/// `value` in `unit`: [`Unit::Plain`] as a plain number (integers without decimals, anything
/// else with 4 decimals), the others in human units (`144 MB`, `3m 20s`, `1,234`, `13:45`,
/// `12.5%`).
pub fn format_value(unit: Unit, value: f64) -> String {
    if unit == Unit::Plain {
        return plain(value);
    }
    if !value.is_finite() {
        return format!("{value}");
    }
    match unit {
        Unit::Plain => plain(value),
        Unit::Bytes => bytes(value),
        Unit::Seconds => duration(value),
        Unit::Count => count(value),
        Unit::BytesPerSecond => format!("{}/s", bytes(value)),
        Unit::Hours => hour_of_day(value),
        Unit::Share => format!("{}%", decimal(value * 100.0)),
    }
}

/// A plain number: integers (below 1e15) without decimals, anything else with 4 decimals.
pub fn plain(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

/// The three significant digits of the finite, non-zero `|value|` (a 3-character string) and
/// the decimal exponent of the first: `144e6` -> `("144", 8)`, `0.5` -> `("500", -1)`.
fn three_digits(value: f64) -> (String, i32) {
    // Rust writes `{:.2e}` as `d.dde<exp>`, correctly rounded
    let text = format!("{:.2e}", value.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    (mantissa.replace('.', ""), exponent.parse().unwrap_or(0))
}

/// `digits` with the decimal point after `int_digits` of them (padded with zeros when there
/// are fewer digits) and trailing zeros of the fraction dropped: `("120", 1)` -> `1.2`.
fn place_point(digits: &str, int_digits: usize) -> String {
    if digits.len() <= int_digits {
        return format!("{digits:0<int_digits$}");
    }
    let (int, fraction) = digits.split_at(int_digits);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{fraction}")
    }
}

/// Scientific notation with three significant digits, trailing zeros dropped: `1e300`,
/// `3.4e38`, `-1.23e-20`.
fn scientific(value: f64) -> String {
    let (digits, exponent) = three_digits(value);
    let sign = if value < 0.0 { "-" } else { "" };
    format!("{sign}{}e{exponent}", place_point(&digits, 1))
}

/// The finite `value` with three significant digits: plain decimals (`12.3`, `0.00125`,
/// `1230000`) for exponents in [`PLAIN_EXPONENTS`], else [`scientific`].
fn decimal(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let (digits, exponent) = three_digits(value);
    if !PLAIN_EXPONENTS.contains(&exponent) {
        return scientific(value);
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let text = if exponent >= 0 {
        place_point(&digits, exponent as usize + 1)
    } else {
        let zeros = "0".repeat((-exponent - 1) as usize);
        format!("0.{zeros}{}", digits.trim_end_matches('0'))
    };
    format!("{sign}{text}")
}

/// Bytes in decimal SI units with three significant digits: `512 B`, `11 KB`, `144 MB`,
/// `1.2 GB`; below a byte `0.5 B`; from 1000 YB on scientific (`3.4e38 B`).
fn bytes(value: f64) -> String {
    if value == 0.0 {
        return "0 B".into();
    }
    let (digits, exponent) = three_digits(value);
    let group = exponent.div_euclid(3);
    if group <= 0 {
        return format!("{} B", decimal(value));
    }
    let Some(prefix) = BYTE_PREFIXES.get(group as usize) else {
        return format!("{} B", scientific(value));
    };
    let sign = if value < 0.0 { "-" } else { "" };
    let int_digits = (exponent - 3 * group) as usize + 1;
    format!("{sign}{} {prefix}B", place_point(&digits, int_digits))
}

/// A duration: below a second in milliseconds (`125 ms`), below a minute in seconds with three
/// significant digits (`2.5 s`), then `3m 20s`, `4h 1m`, `2d 5h`, each rounded to its last
/// unit; from a million days on scientific seconds.
fn duration(seconds: f64) -> String {
    if seconds < 0.0 {
        return format!("-{}", duration(-seconds));
    }
    if seconds == 0.0 {
        return "0 s".into();
    }
    if seconds < 1.0 {
        let millis = decimal(seconds * 1000.0);
        // 0.9996 s is 1000 ms at three digits: say 1 s
        if millis != "1000" {
            return format!("{millis} ms");
        }
    }
    if seconds < 60.0 {
        let text = decimal(seconds.max(1.0));
        if text != "60" {
            return format!("{text} s");
        }
    }
    let whole_seconds = seconds.round();
    if whole_seconds < 3600.0 {
        let s = whole_seconds as u64;
        return format!("{}m {}s", s / 60, s % 60);
    }
    let minutes = (seconds / 60.0).round();
    if minutes < 24.0 * 60.0 {
        let m = minutes as u64;
        return format!("{}h {}m", m / 60, m % 60);
    }
    let hours = (seconds / 3600.0).round();
    if hours < 24.0 * 1e6 {
        let h = hours as u64;
        return format!("{}d {}h", h / 24, h % 24);
    }
    format!("{} s", scientific(seconds))
}

/// A count: the integer with thousands separators (`1,234,567`), a fractional count (a median)
/// with up to two decimals (`2.5`); from 1e21 on scientific.
fn count(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e21 {
        return scientific(value);
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let text = format!("{magnitude:.2}");
    let (int, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let fraction = fraction.trim_end_matches('0');
    let grouped = thousands(int);
    if fraction.is_empty() {
        // `-0` for a value that rounds to zero would be noise
        if grouped == "0" {
            "0".into()
        } else {
            format!("{sign}{grouped}")
        }
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// `digits` with a `,` between every group of three from the right.
fn thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An hour of the day as `HH:MM` (13.75 -> `13:45`, minutes rounded); a value outside the day
/// in hours with three significant digits (`30 h`, `-1 h`).
fn hour_of_day(hours: f64) -> String {
    if (0.0..24.0).contains(&hours) {
        let minutes = (hours * 60.0).round() as u32;
        if minutes < 24 * 60 {
            return format!("{:02}:{:02}", minutes / 60, minutes % 60);
        }
    }
    format!("{} h", decimal(hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_written_as_before() {
        assert_eq!(format_value(Unit::Plain, 3.0), "3");
        assert_eq!(format_value(Unit::Plain, 0.0), "0");
        assert_eq!(format_value(Unit::Plain, 0.5), "0.5000");
        assert_eq!(format_value(Unit::Plain, -2.0), "-2");
        assert_eq!(format_value(Unit::Plain, -18.784), "-18.7840");
        assert_eq!(format_value(Unit::Plain, 2_000_123.0), "2000123");
        assert_eq!(format_value(Unit::Plain, f64::NAN), "NaN");
        assert_eq!(format_value(Unit::Plain, 1e15), format!("{:.4}", 1e15));
        assert_eq!(Unit::default(), Unit::Plain);
    }

    #[test]
    fn bytes_use_decimal_si_units_with_three_significant_digits() {
        let cases = [
            (0.0, "0 B"),
            (0.5, "0.5 B"),
            (1.0, "1 B"),
            (512.0, "512 B"),
            (999.0, "999 B"),
            // rounds up into the next unit
            (999.6, "1 KB"),
            (1000.0, "1 KB"),
            (11_000.0, "11 KB"),
            (11_049.0, "11 KB"),
            (1234.0, "1.23 KB"),
            (144_000_000.0, "144 MB"),
            (143_999_999.0, "144 MB"),
            (1.2e9, "1.2 GB"),
            (5.5e24, "5.5 YB"),
            (999e24, "999 YB"),
            (1e27, "1e27 B"),
            (u128::MAX as f64, "3.4e38 B"),
            (1e300, "1e300 B"),
            (f64::MAX, "1.8e308 B"),
            (5e-324, "4.94e-324 B"),
        ];
        for (value, text) in cases {
            assert_eq!(format_value(Unit::Bytes, value), text, "{value:e}");
        }
        assert_eq!(format_value(Unit::BytesPerSecond, 1.2e6), "1.2 MB/s");
        assert_eq!(format_value(Unit::BytesPerSecond, 0.0), "0 B/s");
        assert_eq!(format_value(Unit::BytesPerSecond, 1e300), "1e300 B/s");
        assert_eq!(format_value(Unit::Bytes, f64::INFINITY), "inf");
        assert_eq!(format_value(Unit::Bytes, f64::NAN), "NaN");
    }

    #[test]
    fn durations_read_in_the_largest_sensible_units() {
        let cases = [
            (0.0, "0 s"),
            (0.000_5, "0.5 ms"),
            (0.125, "125 ms"),
            (0.999_99, "1 s"),
            (1.0, "1 s"),
            (2.5, "2.5 s"),
            (59.9, "59.9 s"),
            (59.99, "1m 0s"),
            (60.0, "1m 0s"),
            (200.0, "3m 20s"),
            (300.0, "5m 0s"),
            (3599.6, "1h 0m"),
            (3720.0, "1h 2m"),
            (4.0 * 3600.0 + 61.0, "4h 1m"),
            (86_399.0, "1d 0h"),
            (2.0 * 86_400.0 + 5.0 * 3600.0, "2d 5h"),
            (1e10, "115740d 18h"),
            (1e12, "1e12 s"),
            (u128::MAX as f64, "3.4e38 s"),
            (1e300, "1e300 s"),
        ];
        for (value, text) in cases {
            assert_eq!(format_value(Unit::Seconds, value), text, "{value:e}");
        }
    }

    #[test]
    fn counts_have_thousands_separators() {
        let cases = [
            (0.0, "0"),
            (7.0, "7"),
            (999.0, "999"),
            (1000.0, "1,000"),
            (1_234_567.0, "1,234,567"),
            (2.5, "2.5"),
            (1234.567, "1,234.57"),
            (0.001, "0"),
            (u64::MAX as f64, "18,446,744,073,709,551,616"),
            (u128::MAX as f64, "3.4e38"),
            (1e300, "1e300"),
        ];
        for (value, text) in cases {
            assert_eq!(format_value(Unit::Count, value), text, "{value:e}");
        }
    }

    #[test]
    fn hours_of_the_day_read_as_clock_times() {
        let cases = [
            (0.0, "00:00"),
            (13.75, "13:45"),
            (9.5, "09:30"),
            (23.99, "23:59"),
            (23.999, "24 h"),
            (30.0, "30 h"),
            (1e300, "1e300 h"),
        ];
        for (value, text) in cases {
            assert_eq!(format_value(Unit::Hours, value), text, "{value:e}");
        }
    }

    #[test]
    fn shares_are_percentages() {
        let cases = [
            (0.0, "0%"),
            (1.0, "100%"),
            (0.125, "12.5%"),
            (0.123_456, "12.3%"),
            (0.000_012_3, "0.00123%"),
            (1e300, "1e302%"),
        ];
        for (value, text) in cases {
            assert_eq!(format_value(Unit::Share, value), text, "{value:e}");
        }
    }

    #[test]
    fn decimals_keep_three_significant_digits() {
        assert_eq!(decimal(12.345), "12.3");
        assert_eq!(decimal(0.001_25), "0.00125");
        assert_eq!(decimal(1_230_000.0), "1230000");
        assert_eq!(decimal(-4.5), "-4.5");
        assert_eq!(decimal(1e-5), "1e-5");
        assert_eq!(decimal(1e15), "1e15");
        assert_eq!(thousands("1234567"), "1,234,567");
        assert_eq!(thousands("123"), "123");
    }
}
