//! Time as hawaf stores and shows it: Unix milliseconds in the database and
//! on the bus, RFC 3339 in the JSON API, `YYYY-MM-DD hh:mm:ss` (UTC) on pages
//! and in reports. One place, so every view says the same time the same way.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch, the unit of every timestamp column.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

fn at(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// `2026-11-25T09:55:48.123Z`, or "" for a time out of range.
pub fn rfc3339(ms: i64) -> String {
    at(ms).and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}

/// `2026-11-25 09:55:48` (UTC), or the raw number for a time out of range.
pub fn format_ms(ms: i64) -> String {
    const FORMAT: &[time::format_description::FormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    at(ms).and_then(|t| t.format(FORMAT).ok()).unwrap_or_else(|| ms.to_string())
}

/// Today's date (UTC), for comparisons with dates such as an end of life.
pub fn today() -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(now_ms()).map(|t| t.date_naive()).unwrap_or_default()
}

/// `2026-11-25` (UTC): when only the day matters (token expiry).
pub fn format_day(ms: i64) -> String {
    format_ms(ms).split(' ').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instant_reads_the_same_in_every_format() {
        let ms = 1_764_064_548_123;
        assert_eq!(rfc3339(ms), "2025-11-25T09:55:48.123Z");
        assert_eq!(format_ms(ms), "2025-11-25 09:55:48");
        assert_eq!(format_day(ms), "2025-11-25");
        assert!(now_ms() > ms);
    }
}
