//! Small HTTP header pieces: MIME types, HTTP dates, entity tags, byte ranges.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime, Utc};

/// MIME type by file extension (case-insensitive) from a fixed table, so the answer does not
/// depend on the host's `/etc/mime.types` as the original's did. Text formats the CI writes
/// (`.log`, `.csv`, `.txt`, `.md`, ...) are `text/plain; charset=utf-8` so browsers show them
/// instead of downloading them (quirk P5).
pub fn mime_type(name: &[u8]) -> &'static str {
    let ext = name
        .iter()
        .rposition(|&b| b == b'.')
        .map(|i| name[i + 1..].to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_slice() {
        b"png" => "image/png",
        b"jpg" | b"jpeg" => "image/jpeg",
        b"gif" => "image/gif",
        b"svg" => "image/svg+xml",
        b"webp" => "image/webp",
        b"ico" => "image/x-icon",
        b"bmp" => "image/bmp",
        b"html" | b"htm" => "text/html; charset=utf-8",
        b"css" => "text/css; charset=utf-8",
        b"js" => "text/javascript; charset=utf-8",
        b"json" => "application/json",
        b"pdf" => "application/pdf",
        b"xml" => "application/xml",
        b"txt" | b"log" | b"csv" | b"tsv" | b"md" | b"out" | b"err" | b"yaml" | b"yml"
        | b"toml" | b"ini" | b"cfg" | b"conf" | b"sh" | b"py" | b"diff" | b"patch" => {
            "text/plain; charset=utf-8"
        }
        b"gz" | b"tgz" => "application/gzip",
        b"tar" => "application/x-tar",
        b"zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// True for the file types a browser can show in an `<img>` (previewed on listing pages).
pub fn is_image(name: &[u8]) -> bool {
    mime_type(name).starts_with("image/")
}

/// Whole seconds since the epoch (0 for times before it).
pub fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, RFC 9110 §5.6.7).
pub fn http_date(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Parses the three HTTP date formats (IMF-fixdate, RFC 850, asctime) to epoch seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.timestamp());
    }
    for fmt in ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc().timestamp());
        }
    }
    None
}

/// A strong entity tag from size and modification time (changes whenever the file is rewritten).
pub fn etag(len: u64, modified: SystemTime) -> String {
    let d = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("\"{len:x}-{:x}.{:x}\"", d.as_secs(), d.subsec_nanos())
}

/// `If-None-Match` evaluation (weak comparison, RFC 9110 §13.1.2): true when `header` lists
/// `etag` (with or without `W/`) or is `*`.
pub fn none_match(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| {
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag.strip_prefix("W/").unwrap_or(etag)
    })
}

/// The outcome of a `Range` header against a file of a known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// No usable single range: send the whole file with 200 (absent, malformed or several
    /// ranges; RFC 9110 §14.2 allows ignoring the header).
    Full,
    /// Send bytes `start..=end` with 206.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// A syntactically valid range that lies outside the file: 416.
    Unsatisfiable,
}

/// Evaluates a `Range` header value for a file of `len` bytes.
pub fn byte_range(header: &str, len: u64) -> RangeOutcome {
    let Some((unit, spec)) = header.trim().split_once('=') else {
        return RangeOutcome::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeOutcome::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.is_empty(), num(first), num(last)) {
        // bytes=-N: the last N bytes
        (true, _, Some(n)) => {
            if n == 0 || len == 0 {
                RangeOutcome::Unsatisfiable
            } else {
                RangeOutcome::Partial {
                    start: len.saturating_sub(n),
                    end: len - 1,
                }
            }
        }
        // bytes=A- and bytes=A-B
        (false, Some(start), end) if last.is_empty() || end.is_some() => {
            if let Some(e) = end
                && e < start
            {
                return RangeOutcome::Full;
            }
            if start >= len {
                return RangeOutcome::Unsatisfiable;
            }
            let end = end.map_or(len - 1, |e| e.min(len - 1));
            RangeOutcome::Partial { start, end }
        }
        _ => RangeOutcome::Full,
    }
}

/// Human-readable size (`312.4 KiB`).
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeOutcome::*;

    #[test]
    fn mime_table_serves_ci_text_as_plain_utf8() {
        for n in ["a.log", "b.CSV", "c.txt", "README.md"] {
            assert_eq!(mime_type(n.as_bytes()), "text/plain; charset=utf-8", "{n}");
        }
        assert_eq!(mime_type(b"x.PNG"), "image/png");
        assert_eq!(mime_type(b"x.svg"), "image/svg+xml");
        assert_eq!(mime_type(b"x.json"), "application/json");
        assert_eq!(mime_type(b"noext"), "application/octet-stream");
        assert_eq!(mime_type(b".bashrc"), "application/octet-stream");
        assert!(is_image(b"a.png") && !is_image(b"a.csv"));
    }

    #[test]
    fn http_dates_round_trip_in_all_three_formats() {
        let t = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_star() {
        let e = "\"10-5.0\"";
        assert!(none_match("\"10-5.0\"", e));
        assert!(none_match("\"x\", W/\"10-5.0\"", e));
        assert!(none_match("*", e));
        assert!(!none_match("\"10-5.1\"", e));
    }

    #[test]
    fn single_ranges_follow_rfc_9110() {
        assert_eq!(byte_range("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(byte_range("bytes=90-", 100), Partial { start: 90, end: 99 });
        assert_eq!(
            byte_range("bytes=90-500", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(byte_range("bytes=-10", 100), Partial { start: 90, end: 99 });
        assert_eq!(byte_range("bytes=-500", 100), Partial { start: 0, end: 99 });
        assert_eq!(byte_range("BYTES = 5-5", 100), Partial { start: 5, end: 5 });
    }

    #[test]
    fn unsatisfiable_and_ignored_ranges() {
        assert_eq!(byte_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(byte_range("bytes=200-300", 100), Unsatisfiable);
        assert_eq!(byte_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(byte_range("bytes=0-", 0), Unsatisfiable);
        // ignored: several ranges, other units, garbage, reversed
        assert_eq!(byte_range("bytes=0-1,5-6", 100), Full);
        assert_eq!(byte_range("items=0-1", 100), Full);
        assert_eq!(byte_range("bytes=a-b", 100), Full);
        assert_eq!(byte_range("bytes=9-1", 100), Full);
        assert_eq!(byte_range("bytes=-", 100), Full);
        assert_eq!(byte_range("bytes=+1-2", 100), Full);
    }

    #[test]
    fn sizes_are_human_readable() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(331_941), "324.2 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
    }
}
