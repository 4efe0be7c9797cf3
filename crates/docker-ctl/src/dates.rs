//! Image dates: Pacific calendar dates N days ago (spec nightly.md §1.5, §2.4).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// `America/Los_Angeles`, the zone of image dates.
pub const PACIFIC: Tz = chrono_tz::America::Los_Angeles;

/// A `TIME_ZONE` value that is not an IANA zone name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TIME_ZONE={0:?} is not an IANA time zone (e.g. America/Los_Angeles)")]
pub struct BadZone(pub String);

/// `TIME_ZONE` when set and not empty, else [`PACIFIC`].
pub fn zone_from_env() -> Result<Tz, BadZone> {
    match std::env::var("TIME_ZONE") {
        Ok(z) if !z.trim().is_empty() => z.trim().parse::<Tz>().map_err(|_| BadZone(z)),
        _ => Ok(PACIFIC),
    }
}

/// The calendar date in `tz` that is `days` days before `now`, as `YYYYMMDD` (`date_pst(N)`).
pub fn date_days_ago(now: DateTime<Utc>, tz: Tz, days: u32) -> String {
    let local = now.with_timezone(&tz).date_naive();
    (local - Duration::days(i64::from(days)))
        .format("%Y%m%d")
        .to_string()
}

/// Dates for offsets `0..days` (today first).
pub fn recent_dates(now: DateTime<Utc>, tz: Tz, days: u32) -> Vec<String> {
    (0..days).map(|d| date_days_ago(now, tz, d)).collect()
}

/// `YYYYMMDD`: exactly 8 digits forming a real calendar date (quirk Q-IMG-4 fix).
pub fn is_yyyymmdd(s: &str) -> bool {
    s.len() == 8
        && s.bytes().all(|b| b.is_ascii_digit())
        && NaiveDate::parse_from_str(s, "%Y%m%d").is_ok()
}

/// `YYYY-MM-DD HH:MM:SS TZ` in `tz` (the `Run Date/Time:` line; `%Z` prints `PDT`/`PST`).
pub fn stamp(now: DateTime<Utc>, tz: Tz) -> String {
    now.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn pacific_date_differs_from_utc_in_the_evening() {
        // 2025-10-30 03:00 UTC is still 2025-10-29 20:00 PDT.
        let now = Utc.with_ymd_and_hms(2025, 10, 30, 3, 0, 0).unwrap();
        assert_eq!(date_days_ago(now, PACIFIC, 0), "20251029");
        assert_eq!(date_days_ago(now, PACIFIC, 1), "20251028");
        assert_eq!(
            recent_dates(now, PACIFIC, 3),
            ["20251029", "20251028", "20251027"]
        );
        assert_eq!(stamp(now, PACIFIC), "2025-10-29 20:00:00 PDT");
    }

    #[test]
    fn month_and_dst_boundaries() {
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(date_days_ago(now, PACIFIC, 1), "20250228");
        let winter = Utc.with_ymd_and_hms(2025, 12, 1, 20, 0, 0).unwrap();
        assert!(stamp(winter, PACIFIC).ends_with("PST"));
    }

    #[test]
    fn date_validation() {
        assert!(is_yyyymmdd("20251029"));
        assert!(!is_yyyymmdd("2025-10-29"));
        assert!(!is_yyyymmdd("20251399"));
        assert!(!is_yyyymmdd("2025102"));
    }
}
