//! ISO-8601 UTC timestamp parsing without a date library.
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS` with an optional fraction (`.f` up to nanoseconds, truncated
//! to milliseconds), a `T` or a space between date and time, and a zone of `Z`, `+00:00` or
//! `-00:00` (or none, read as UTC). Other offsets such as `+02:00` are applied.

/// Milliseconds since the Unix epoch for a timestamp, or `None` when it is not a valid one.
pub fn parse_epoch_ms(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis = 0i64;
    if let Some((&b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        let mut ms = 0;
        for i in 0..3 {
            ms = ms * 10
                + frac
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |c| i64::from(c - b'0'));
        }
        millis = ms;
        rest = &frac[n..];
    }
    let offset_minutes = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (milliseconds dropped when 0).
pub fn format_epoch_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if millis == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{millis:03}Z")
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_cloudwatch_format() {
        assert_eq!(
            parse_epoch_ms("2024-04-25T23:00:00Z"),
            Some(1_714_086_000_000)
        );
        assert_eq!(parse_epoch_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_epoch_ms("2000-02-29T12:30:15Z"),
            Some(951_827_415_000)
        );
    }

    #[test]
    fn accepts_fractions_offsets_and_spaces() {
        assert_eq!(parse_epoch_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_epoch_ms("1970-01-01 00:00:01.123456"), Some(1123));
        assert_eq!(parse_epoch_ms("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(parse_epoch_ms("1970-01-01T00:00:00-01:30"), Some(5_400_000));
    }

    #[test]
    fn rejects_invalid_dates_and_garbage() {
        for bad in [
            "",
            "2024-04-25",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-04-25T24:00:00Z",
            "2024-04-25T23:00:00+5",
            "2024/04/25T23:00:00Z",
            "not a time",
            "2024-04-25T23:00:00.Z",
        ] {
            assert_eq!(parse_epoch_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn format_round_trips() {
        for ms in [0, 1_714_086_000_000, 951_827_415_250, -86_400_000] {
            assert_eq!(parse_epoch_ms(&format_epoch_ms(ms)), Some(ms));
        }
        assert_eq!(format_epoch_ms(1_714_086_000_000), "2024-04-25T23:00:00Z");
    }
}
