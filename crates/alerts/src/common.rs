//! What every card shares: the clock (Pacific time with its PST/PDT label, the machine-local
//! date), hardware detection (§2.6), the duration formats (§2.8), link patterns (§2.7).

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::America::Los_Angeles;
use chrono_tz::OffsetName;

/// The default GitHub repository of the links (`GITHUB_REPO`).
pub const DEFAULT_GITHUB_REPO: &str = "ROCm/sglang-ci";
/// The upstream repository button.
pub const UPSTREAM_REPO_URL: &str = "https://github.com/sgl-project/sglang";

/// "Now", fixed once per card so every line agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The instant.
    pub now: DateTime<Utc>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { now: Utc::now() }
    }

    /// A fixed instant (tests).
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { now }
    }

    /// Pacific `YYYY-MM-DD`.
    pub fn pacific_date(&self) -> String {
        self.now
            .with_timezone(&Los_Angeles)
            .format("%Y-%m-%d")
            .to_string()
    }

    /// Pacific `HH:MM:SS PST|PDT`.
    pub fn pacific_time(&self) -> String {
        let p = self.now.with_timezone(&Los_Angeles);
        let abbr = p.offset().abbreviation().unwrap_or("PT");
        format!("{} {abbr}", p.format("%H:%M:%S"))
    }

    /// Pacific `YYYYMMDD_HHMMSS` (archive file names).
    pub fn pacific_stamp(&self) -> String {
        self.now
            .with_timezone(&Los_Angeles)
            .format("%Y%m%d_%H%M%S")
            .to_string()
    }

    /// The machine-local date `YYYYMMDD` (cron-log folders are named with it).
    pub fn local_yyyymmdd(&self) -> String {
        self.now.with_timezone(&Local).format("%Y%m%d").to_string()
    }

    /// The machine-local date.
    pub fn local_date(&self) -> NaiveDate {
        self.now.with_timezone(&Local).date_naive()
    }
}

/// `YYYYMMDD` → the date, when it is one.
pub fn parse_yyyymmdd(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// `YYYYMMDD` → `YYYY-MM-DD`, or the text unchanged when it is not a date.
pub fn dashed_date(s: &str) -> String {
    parse_yyyymmdd(s).map_or_else(|| s.to_owned(), |d| d.format("%Y-%m-%d").to_string())
}

/// A date as `YYYYMMDD`.
pub fn yyyymmdd(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// The trailing 8-digit date of an image tag (`…-mi30x-20251105` → `20251105`).
pub fn tag_date(tag: &str) -> Option<String> {
    let n = tag.len();
    if n < 8 {
        return None;
    }
    let tail = &tag[n - 8..];
    tail.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| tail.to_owned())
}

/// Step 1 of §2.6: the first `mi<digits>x` in `s`.
pub fn hw_in(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 4 <= b.len() {
        if b[i..].starts_with(b"mi") {
            let mut j = i + 2;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 2 && j < b.len() && b[j] == b'x' {
                return Some(s[i..=j].to_owned());
            }
        }
        i += 1;
    }
    None
}

/// Steps 1–3 of §2.6 on a host name.
pub fn hw_from_host(host: &str) -> Option<String> {
    if let Some(hw) = hw_in(host) {
        return Some(hw);
    }
    let map = |d: &str| match d {
        "300" | "30" => Some("mi30x".to_owned()),
        "350" | "355" | "35" => Some("mi35x".to_owned()),
        _ => None,
    };
    let b = host.as_bytes();
    // Step 2: the first run of digits followed by `x`.
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i < b.len() && b[i] == b'x' {
                // Python's `([0-9]+)x` takes the leftmost start; a longer run wins.
                return map(&host[start..i]);
            }
        } else {
            i += 1;
        }
    }
    // Step 3: a whole word 300|355|350|30|35.
    host.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .find_map(map)
}

/// D-COMPACT: `1h 2m 3s`, zero parts left out, `0s` for zero.
pub fn d_compact(secs: i64) -> String {
    let s = secs.max(0);
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if sec > 0 || parts.is_empty() {
        parts.push(format!("{sec}s"));
    }
    parts.join(" ")
}

/// D-HMS: `{h}h {m}m {s}s` with hours, else `{m}m {s}s`.
pub fn d_hms(secs: i64) -> String {
    let s = secs.max(0);
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    if h > 0 {
        format!("{h}h {m}m {sec}s")
    } else {
        format!("{m}m {sec}s")
    }
}

/// D-MIN: minutes as `{h}h {m}m` from an hour on, else `{m}m`.
pub fn d_min(minutes: u64) -> String {
    if minutes >= 60 {
        format!("{}h {}m", minutes / 60, minutes % 60)
    } else {
        format!("{minutes}m")
    }
}

/// D-MS: `{m}m {s}s` (minutes may exceed 59).
pub fn d_ms(secs: u64) -> String {
    format!("{}m {}s", secs / 60, secs % 60)
}

/// `x` as a percentage with one decimal (`0.8115` → `81.2`), Python's `{:.1%}` without `%`.
pub fn pct1(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

/// Seconds between two log time stamps `YYYY-MM-DD HH:MM:SS[ TZ]` (a trailing 3–4 letter
/// upper-case zone is removed from both).
pub fn seconds_between(start: &str, end: &str) -> Option<i64> {
    let parse = |s: &str| {
        let s = s.trim();
        let s = match s.rsplit_once(' ') {
            Some((head, tz))
                if (3..=4).contains(&tz.len()) && tz.bytes().all(|b| b.is_ascii_uppercase()) =>
            {
                head
            }
            _ => s,
        };
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()
    };
    Some((parse(end)? - parse(start)?).num_seconds())
}

/// `https://github.com/<repo>/tree/log/cron_log/<hw>/<date>`.
pub fn cron_logs_url(repo: &str, hw: &str, date: &str) -> String {
    format!("https://github.com/{repo}/tree/log/cron_log/{hw}/{date}")
}

/// The host name (`/proc/sys/kernel/hostname`, `HOSTNAME`, `unknown`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hardware_detection_golden_g22() {
        assert_eq!(
            hw_from_host("dell300x-pla-t10-23").as_deref(),
            Some("mi30x")
        );
        assert_eq!(hw_from_host("smci355-ccs-aus-m12-33"), None);
        assert_eq!(hw_from_host("foo-mi35x-bar").as_deref(), Some("mi35x"));
        assert_eq!(hw_from_host("node-355").as_deref(), Some("mi35x"));
        assert_eq!(hw_from_host("gpu400x"), None);
        assert_eq!(
            hw_in("rocm/sgl-dev:v0.5.4-rocm700-mi35x-20251024").as_deref(),
            Some("mi35x")
        );
        assert_eq!(hw_in("rocm/sgl-dev:v0.5.4"), None);
    }

    #[test]
    fn durations_golden_g23() {
        assert_eq!(d_compact(0), "0s");
        assert_eq!(d_compact(60), "1m");
        assert_eq!(d_compact(3600), "1h");
        assert_eq!(d_compact(3661), "1h 1m 1s");
        assert_eq!(d_compact(7411), "2h 3m 31s");
        assert_eq!(d_hms(3600), "1h 0m 0s");
        assert_eq!(d_hms(26), "0m 26s");
        assert_eq!(d_min(60), "1h 0m");
        assert_eq!(d_min(59), "59m");
        assert_eq!(d_ms(61), "1m 1s");
        assert_eq!(d_ms(1772), "29m 32s");
    }

    #[test]
    fn clock_labels_pst_and_pdt() {
        let summer = Clock::at(Utc.with_ymd_and_hms(2025, 10, 21, 2, 0, 0).unwrap());
        assert_eq!(summer.pacific_date(), "2025-10-20");
        assert_eq!(summer.pacific_time(), "19:00:00 PDT");
        let winter = Clock::at(Utc.with_ymd_and_hms(2025, 11, 5, 20, 0, 1).unwrap());
        assert_eq!(winter.pacific_time(), "12:00:01 PST");
        assert_eq!(winter.pacific_stamp(), "20251105_120001");
    }

    #[test]
    fn small_helpers() {
        assert_eq!(dashed_date("20251020"), "2025-10-20");
        assert_eq!(dashed_date("2025x"), "2025x");
        assert_eq!(
            tag_date("v0.5.4.post3-rocm630-mi30x-20251105").as_deref(),
            Some("20251105")
        );
        assert_eq!(tag_date("latest"), None);
        assert_eq!(pct1(0.938), "93.8");
        assert_eq!(
            seconds_between("2025-11-06 10:56:02 CST", "2025-11-06 10:56:28 CST"),
            Some(26)
        );
    }
}
