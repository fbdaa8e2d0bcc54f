//! UTC calendar arithmetic and the ISO-8601 timestamp format of the CloudWatch export
//! (`2024-04-25T23:00:00Z`), written without any date library.
//!
//! The day-number conversions follow the well-known proleptic-Gregorian "civil from days"
//! algorithm (400-year eras of 146,097 days, years starting in March so that the leap day is
//! the last day of the year), implemented here with plain integer arithmetic.

/// Seconds in one day.
const DAY: i64 = 86_400;

/// Latest second that still formats with a four-digit year: 9999-12-31T23:59:59Z.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// Length of a formatted timestamp, `YYYY-MM-DDTHH:MM:SSZ`.
pub const TIMESTAMP_LEN: usize = 20;

/// Days since 1970-01-01 of the civil date `year-month-day` (proleptic Gregorian calendar).
///
/// `month` is 1..=12 and `day` 1..=31; the result is negative before the epoch.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // 0..=399
    let mp = i64::from((month + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146096
    era * 146_097 + doe - 719_468
}

/// Civil date `(year, month, day)` of a day number counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365
    let mp = (5 * doy + 2) / 153; // 0..=11, March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes `secs` (Unix seconds, `0..=MAX_TIMESTAMP`) as `YYYY-MM-DDTHH:MM:SSZ` into `out`.
///
/// Values outside the supported range are clamped; the generator validates its time span
/// up front so this never happens for generated rows.
pub fn write_timestamp(out: &mut [u8; TIMESTAMP_LEN], secs: i64) {
    let secs = secs.clamp(0, MAX_TIMESTAMP);
    let (year, month, day) = civil_from_days(secs.div_euclid(DAY));
    let sod = secs.rem_euclid(DAY);
    let (h, m, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    let y = year as u32;
    *out = *b"0000-00-00T00:00:00Z";
    out[0] = b'0' + (y / 1000) as u8;
    out[1] = b'0' + (y / 100 % 10) as u8;
    out[2] = b'0' + (y / 10 % 10) as u8;
    out[3] = b'0' + (y % 10) as u8;
    two_digits(&mut out[5..7], month);
    two_digits(&mut out[8..10], day);
    two_digits(&mut out[11..13], h as u32);
    two_digits(&mut out[14..16], m as u32);
    two_digits(&mut out[17..19], s as u32);
}

fn two_digits(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

/// Formats `secs` (Unix seconds) as an ISO-8601 UTC timestamp such as `2024-04-25T23:00:00Z`.
pub fn format_timestamp(secs: i64) -> String {
    let mut buf = [0u8; TIMESTAMP_LEN];
    write_timestamp(&mut buf, secs);
    buf.iter().map(|&b| char::from(b)).collect()
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SSZ` back into Unix seconds.
///
/// Returns `None` for any other shape or an impossible date or time (such as February 30).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != TIMESTAMP_LEN
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    Some(days * DAY + i64::from(h * 3600 + m * 60 + s))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(parse_timestamp("2024-04-25T23:00:00Z"), Some(1_714_086_000));
        assert_eq!(format_timestamp(1_714_086_000), "2024-04-25T23:00:00Z");
        assert_eq!(format_timestamp(1_714_086_600), "2024-04-25T23:10:00Z");
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_timestamp(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(format_timestamp(MAX_TIMESTAMP), "9999-12-31T23:59:59Z");
        assert_eq!(parse_timestamp("2024-04-26T09:50:00Z"), Some(1_714_125_000));
    }

    #[test]
    fn round_trip_every_day_and_sample_seconds() {
        // Every day from 1970 to well past 2100 (covers 2000 and 2100 century rules).
        let last = days_from_civil(2200, 1, 1);
        let mut prev = None;
        for d in 0..last {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
            if let Some((py, pm, pd)) = prev {
                assert!((y, m, day) > (py, pm, pd));
            }
            prev = Some((y, m, day));
        }
        for secs in (0..4_102_444_800_i64).step_by(86_413 * 7 + 17) {
            assert_eq!(parse_timestamp(&format_timestamp(secs)), Some(secs));
        }
    }

    #[test]
    fn leap_years() {
        assert!(parse_timestamp("2024-02-29T00:00:00Z").is_some());
        assert!(parse_timestamp("2000-02-29T00:00:00Z").is_some());
        assert!(parse_timestamp("2100-02-29T00:00:00Z").is_none());
        assert!(parse_timestamp("2023-02-29T00:00:00Z").is_none());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2024-04-25 23:00:00Z",
            "2024-04-25T23:00:00",
            "2024-13-01T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-04-25T24:00:00Z",
            "2024-04-25T23:60:00Z",
            "2024-04-25T23:00:60Z",
            "2024-0a-25T23:00:00Z",
            "+024-04-25T23:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }
}
