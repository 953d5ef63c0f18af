//! RFC 3339 date-times, as CPIM `DateTime` (RFC 3862 §4.4) and the IMDN `<datetime>`
//! element (RFC 5438 §7.2.1.1) carry them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of what [`write`] appends: `YYYY-MM-DDThh:mm:ssZ`.
pub const LENGTH: usize = 20;

/// Seconds from the epoch to 9999-12-31T23:59:59Z, the last time RFC 3339 can write.
const MAX_SECONDS: u64 = 253_402_300_799;

/// Why a date-time was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateTimeError {
    /// The text does not follow the RFC 3339 `date-time` grammar.
    #[error("date-time is not RFC 3339: unexpected input at byte {offset}")]
    Syntax {
        /// Byte offset of the first character that does not fit.
        offset: usize,
    },
    /// A field is out of its range (month 13, 31 April, hour 24, ...), or the instant is
    /// before 1970.
    #[error("date-time field {field} is out of range")]
    OutOfRange {
        /// The field.
        field: &'static str,
    },
}

/// Appends `time` as an RFC 3339 UTC date-time in whole seconds (`2026-05-13T10:00:00Z`).
///
/// A time before 1970 is written as the epoch, one after year 9999 as its last second.
pub fn write(out: &mut Vec<u8>, time: SystemTime) {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(MAX_SECONDS);
    // Both fit: seconds <= MAX_SECONDS.
    let days = (seconds / 86_400) as i64;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    push_digits(out, year as u64, 4);
    out.push(b'-');
    push_digits(out, u64::from(month), 2);
    out.push(b'-');
    push_digits(out, u64::from(day), 2);
    out.push(b'T');
    push_digits(out, of_day / 3600, 2);
    out.push(b':');
    push_digits(out, of_day / 60 % 60, 2);
    out.push(b':');
    push_digits(out, of_day % 60, 2);
    out.push(b'Z');
}

/// Parses an RFC 3339 `date-time` (§5.6): `2000-12-13T13:40:00-08:00`,
/// `2026-05-13T10:00:00.250Z`. `t` and `z` may be lower case; a leap second (60) counts
/// as the first second of the next minute; fractions past nanoseconds are dropped.
pub fn parse(text: &str) -> Result<SystemTime, DateTimeError> {
    let mut scanner = Digits {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = scanner.number(4)?;
    scanner.expect(b'-')?;
    let month = scanner.number(2)?;
    scanner.expect(b'-')?;
    let day = scanner.number(2)?;
    if !matches!(scanner.next(), Some(b'T' | b't')) {
        return Err(scanner.error_before());
    }
    let hour = scanner.number(2)?;
    scanner.expect(b':')?;
    let minute = scanner.number(2)?;
    scanner.expect(b':')?;
    let second = scanner.number(2)?;
    let mut nanos = 0u32;
    if scanner.peek() == Some(b'.') {
        scanner.pos += 1;
        let mut count = 0usize;
        while let Some(digit) = scanner.peek().filter(u8::is_ascii_digit) {
            if count < 9 {
                nanos = nanos * 10 + u32::from(digit - b'0');
            }
            count += 1;
            scanner.pos += 1;
        }
        if count == 0 {
            return Err(scanner.error_here());
        }
        for _ in count..9 {
            nanos *= 10;
        }
    }
    let offset_seconds: i64 = match scanner.next() {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = scanner.number(2)?;
            scanner.expect(b':')?;
            let minutes = scanner.number(2)?;
            if hours > 23 || minutes > 59 {
                return Err(DateTimeError::OutOfRange { field: "offset" });
            }
            let value = i64::from(hours * 3600 + minutes * 60);
            if sign == b'-' { -value } else { value }
        }
        _ => return Err(scanner.error_before()),
    };
    if scanner.pos != text.len() {
        return Err(scanner.error_here());
    }
    if !(1..=12).contains(&month) {
        return Err(DateTimeError::OutOfRange { field: "month" });
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(DateTimeError::OutOfRange { field: "day" });
    }
    if hour > 23 {
        return Err(DateTimeError::OutOfRange { field: "hour" });
    }
    if minute > 59 {
        return Err(DateTimeError::OutOfRange { field: "minute" });
    }
    if second > 60 {
        return Err(DateTimeError::OutOfRange { field: "second" });
    }
    // All fields are bounded (year <= 9999), so none of this can overflow an i64.
    let days = days_from_civil(i64::from(year), month, day);
    let seconds =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
            - offset_seconds;
    let seconds =
        u64::try_from(seconds).map_err(|_| DateTimeError::OutOfRange { field: "year" })?;
    Ok(UNIX_EPOCH + Duration::new(seconds, nanos))
}

struct Digits<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Digits<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn error_here(&self) -> DateTimeError {
        DateTimeError::Syntax { offset: self.pos }
    }

    fn error_before(&self) -> DateTimeError {
        DateTimeError::Syntax {
            offset: self.pos.saturating_sub(1),
        }
    }

    fn expect(&mut self, wanted: u8) -> Result<(), DateTimeError> {
        if self.next() == Some(wanted) {
            Ok(())
        } else {
            Err(self.error_before())
        }
    }

    /// Exactly `count` decimal digits.
    fn number(&mut self, count: usize) -> Result<u32, DateTimeError> {
        let mut value = 0u32;
        for _ in 0..count {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(self.error_here()),
            }
        }
        Ok(value)
    }
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year 0 to 9999, month 1 to 12).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (non-negative, before year 10000).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (year, month as u32, day as u32)
}

fn push_digits(out: &mut Vec<u8>, value: u64, width: u32) {
    let mut divisor = 10u64.pow(width.saturating_sub(1));
    while divisor > 0 {
        out.push(b'0' + (value / divisor % 10) as u8);
        divisor /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(time: SystemTime) -> String {
        let mut out = Vec::new();
        write(&mut out, time);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn writes_known_instants() {
        assert_eq!(written(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // 2000-12-13T21:40:00Z, the RFC 3862 example's instant in UTC.
        let example = UNIX_EPOCH + Duration::from_secs(976_743_600);
        assert_eq!(written(example), "2000-12-13T21:40:00Z");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(written(leap_day), "2000-02-29T00:00:00Z");
        let last = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(written(last), "9999-12-31T23:59:59Z");
        assert_eq!(
            written(UNIX_EPOCH + Duration::from_millis(1999)).len(),
            LENGTH
        );
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let example = UNIX_EPOCH + Duration::from_secs(976_743_600);
        assert_eq!(parse("2000-12-13T13:40:00-08:00"), Ok(example));
        assert_eq!(parse("2000-12-13t21:40:00z"), Ok(example));
        assert_eq!(
            parse("2000-12-13T21:40:00.25Z"),
            Ok(example + Duration::from_millis(250))
        );
        assert_eq!(
            parse("2000-12-13T21:40:00.1234567891234Z"),
            Ok(example + Duration::from_nanos(123_456_789))
        );
    }

    #[test]
    fn every_day_round_trips() {
        for day in (0..2_932_896u64).step_by(97) {
            let time = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 3_723);
            assert_eq!(parse(&written(time)), Ok(time), "day {day}");
        }
    }

    #[test]
    fn refuses_bad_text() {
        for bad in [
            "",
            "2000-13-01T00:00:00Z",
            "2001-02-29T00:00:00Z",
            "2000-04-31T00:00:00Z",
            "2000-01-01T24:00:00Z",
            "2000-01-01T00:00:00",
            "2000-01-01 00:00:00Z",
            "2000-01-01T00:00:00.Z",
            "2000-01-01T00:00:00+0100",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+00:01",
            "2000-01-01T00:00:00Zjunk",
            "２000-01-01T00:00:00Z",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
