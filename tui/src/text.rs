//! Formatting helpers shared by the screens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An address without its `sip:` / `sips:` / `tel:` scheme.
pub fn short_aor(aor: &str) -> &str {
    aor.strip_prefix("sip:")
        .or_else(|| aor.strip_prefix("sips:"))
        .or_else(|| aor.strip_prefix("tel:"))
        .unwrap_or(aor)
}

/// Seconds since the epoch in local time (`offset` seconds east of UTC).
fn local_seconds(at: SystemTime, offset: i32) -> i64 {
    let seconds = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    seconds.saturating_add(i64::from(offset))
}

/// `HH:MM` of a time.
pub fn clock(at: SystemTime, offset: i32) -> String {
    let seconds = local_seconds(at, offset).rem_euclid(86_400);
    format!("{:02}:{:02}", seconds / 3600, seconds / 60 % 60)
}

/// `HH:MM:SS.mmm` of a time (the trace).
pub fn clock_millis(at: SystemTime, offset: i32) -> String {
    let millis = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis());
    let seconds = local_seconds(at, offset).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{millis:03}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The civil date (year, month, day) of a day number since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-from-civil inverse, on the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `HH:MM` for today, `YYYY-MM-DD HH:MM` otherwise.
pub fn stamp(at: SystemTime, now: SystemTime, offset: i32) -> String {
    let day = local_seconds(at, offset).div_euclid(86_400);
    let today = local_seconds(now, offset).div_euclid(86_400);
    if day == today {
        clock(at, offset)
    } else {
        let (year, month, date) = civil(day);
        format!("{year:04}-{month:02}-{date:02} {}", clock(at, offset))
    }
}

/// `42 s`, `9 min`, `3 h`.
pub fn duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 120 {
        format!("{seconds} s")
    } else if seconds < 7200 {
        format!("{} min", seconds / 60)
    } else {
        format!("{} h", seconds / 3600)
    }
}

/// The text a body shows as: UTF-8 text as it is, anything else described.
pub fn body_text(body: &[u8], content_type: &str) -> String {
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match (kind.starts_with("text/"), std::str::from_utf8(body)) {
        (true, Ok(text)) => text.to_owned(),
        _ => format!("[{} bytes of {}]", body.len(), kind),
    }
}

/// Cuts `text` to at most `width` characters, ending in `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_dates() {
        let at = UNIX_EPOCH + Duration::from_millis(1_796_000_000_123);
        assert_eq!(clock_millis(at, 0), "00:53:20.123");
        assert_eq!(clock(at, 3600), "01:53");
        assert_eq!(stamp(at, at, 0), "00:53");
        let later = at + Duration::from_secs(86_400 * 40);
        assert_eq!(stamp(at, later, 0), "2026-11-30 00:53");
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }

    #[test]
    fn bodies_and_fitting() {
        assert_eq!(body_text(b"hi", "text/plain;charset=UTF-8"), "hi");
        assert_eq!(body_text(&[0xff], "text/plain"), "[1 bytes of text/plain]");
        assert_eq!(
            body_text(b"<x/>", "application/xml"),
            "[4 bytes of application/xml]"
        );
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(short_aor("sip:alice@ims.test"), "alice@ims.test");
        assert_eq!(duration(Duration::from_secs(599)), "9 min");
    }
}
