//! Times in the reader's time zone (UTC unless they chose one), from the
//! IANA database chrono-tz carries, so no machine's tzdata is needed.

use chrono::DateTime;
use chrono_tz::Tz;

/// Every IANA zone name, for the setting's list.
pub static ZONES: &[Tz] = &chrono_tz::TZ_VARIANTS;

/// `Asia/Tokyo`, `UTC`, … (case as IANA spells it); None for anything else.
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// `2026-12-03 16:04:05` in the reader's zone: the columns and sentences
/// around it name the zone (`$zone` in every message).
pub fn local_time(ms: i64) -> String {
    local(ms, "%Y-%m-%d %H:%M:%S")
}

/// `2026-12-03` in the reader's zone: when only the day matters.
pub fn local_day(ms: i64) -> String {
    local(ms, "%Y-%m-%d")
}

fn local(ms: i64, format: &str) -> String {
    let zone = super::current().zone;
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.with_timezone(&zone).format(format).to_string(),
        None => ms.to_string(),
    }
}
