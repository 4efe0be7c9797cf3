//! Pacific-time timestamps in the original's formats (spec benchmarks.md §1.3, quirk K-11).

use chrono::{DateTime, Utc};
use chrono_tz::America::Los_Angeles;
use chrono_tz::Tz;

/// Now, in Pacific time.
pub fn now() -> DateTime<Tz> {
    Utc::now().with_timezone(&Los_Angeles)
}

/// `2025-10-29 11:45:42 PDT` (the "… at:" lines).
pub fn human(t: &DateTime<Tz>) -> String {
    t.format("%Y-%m-%d %H:%M:%S %Z").to_string()
}

/// `20251029_114542` (timing-summary and client-log file names).
pub fn file_stamp(t: &DateTime<Tz>) -> String {
    t.format("%Y%m%d_%H%M%S").to_string()
}

/// `PDT (-0700)` (the timing summary's `Timezone:` line).
pub fn zone_line(t: &DateTime<Tz>) -> String {
    t.format("%Z (%z)").to_string()
}

/// Whole seconds between two instants, as the original's `$(( end - start ))` on epoch
/// seconds (never negative).
pub fn whole_seconds(d: std::time::Duration) -> u64 {
    d.as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_match_the_corpus() {
        let t = Los_Angeles
            .with_ymd_and_hms(2025, 10, 29, 11, 45, 42)
            .unwrap();
        assert_eq!(human(&t), "2025-10-29 11:45:42 PDT");
        assert_eq!(file_stamp(&t), "20251029_114542");
        assert_eq!(zone_line(&t), "PDT (-0700)");
        let w = Los_Angeles.with_ymd_and_hms(2025, 12, 1, 6, 0, 1).unwrap();
        assert_eq!(zone_line(&w), "PST (-0800)");
    }
}
