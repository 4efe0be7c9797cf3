//! The nightly tag grammar and the original's matching rules (spec nightly.md §2.1-2.3,
//! benchmarks.md §1.2, §8.8).
//!
//! Tags look like `v0.5.4.post1-rocm700-mi30x-20251029`, optionally ending in `-srt` (always
//! skipped). Matching is by substring, exactly as the original: a tag is a candidate for
//! (ROCm, hardware, date) when it contains `-<rocm>-<hw>-<date>` and does not end in `-srt`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A GPU node type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hardware {
    /// MI300X (gfx942).
    Mi30x,
    /// MI355X (gfx950).
    Mi35x,
}

impl Hardware {
    /// Both, in the order the image check reports them.
    pub const ALL: [Hardware; 2] = [Hardware::Mi30x, Hardware::Mi35x];

    /// `mi30x` / `mi35x`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hardware::Mi30x => "mi30x",
            Hardware::Mi35x => "mi35x",
        }
    }

    /// The ROCm token the orchestrator searches by default (benchmarks.md §8.8): `rocm630` on
    /// mi30x, `rocm700` on mi35x. (`--model=grok2` and `--mode=sanity` use `rocm700` on both.)
    pub fn default_rocm(self) -> &'static str {
        match self {
            Hardware::Mi30x => "rocm630",
            Hardware::Mi35x => "rocm700",
        }
    }
}

impl fmt::Display for Hardware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hardware name that is neither `mi30x` nor `mi35x`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid hardware {0:?}: must be 'mi30x' or 'mi35x'")]
pub struct BadHardware(pub String);

impl FromStr for Hardware {
    type Err = BadHardware;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mi30x" => Ok(Hardware::Mi30x),
            "mi35x" => Ok(Hardware::Mi35x),
            other => Err(BadHardware(other.to_string())),
        }
    }
}

/// True when `tag` ends with the SRT suffix (always excluded).
pub fn is_srt(tag: &str) -> bool {
    tag.ends_with("-srt")
}

/// The single-ROCm rule (`test_nightly.sh`, `perf_nightly.sh`): contains
/// `-<rocm>-<hw>-<date>` and is not SRT.
pub fn matches(tag: &str, rocm: &str, hw: &str, date: &str) -> bool {
    !is_srt(tag) && tag.contains(&format!("-{rocm}-{hw}-{date}"))
}

/// The ROCm token of a tag: the digits of the first `-rocm<digits>-` (`rocm700`).
pub fn rocm_token(tag: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(i) = tag[from..].find("-rocm") {
        let start = from + i + 1;
        let digits = tag[start + 4..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let end = start + 4 + digits;
        if digits > 0 && tag.as_bytes().get(end) == Some(&b'-') {
            return Some(&tag[start..end]);
        }
        from = start;
    }
    None
}

/// The date at the end of a tag (`-YYYYMMDD` as its last 9 characters), as the orchestrator
/// takes the plot and Teams date.
pub fn tag_date(tag: &str) -> Option<&str> {
    let n = tag.len();
    if n < 9 {
        return None;
    }
    let (dash, digits) = (&tag[n - 9..n - 8], &tag[n - 8..]);
    (dash == "-" && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `sort -V` order for tokens like `rocm630` < `rocm700` < `rocm1000`: runs of digits compare
/// as numbers, other runs as text.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let xd = x.as_bytes()[0].is_ascii_digit();
        let yd = y.as_bytes()[0].is_ascii_digit();
        let take = |s: &str, digits: bool| {
            s.bytes()
                .take_while(|c| c.is_ascii_digit() == digits)
                .count()
        };
        let (nx, ny) = (take(x, xd), take(y, yd));
        let (px, py) = (&x[..nx], &y[..ny]);
        let ord = if xd && yd {
            let (tx, ty) = (px.trim_start_matches('0'), py.trim_start_matches('0'));
            tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
        } else {
            px.cmp(py)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        x = &x[nx..];
        y = &y[ny..];
    }
}

/// Discovery step 1 (`nightly_image_check.sh`): the ROCm tokens of every non-SRT tag that
/// contains `-<hw>-<date>`, de-duplicated, highest version first.
pub fn discover_rocms<'a>(
    tags: impl IntoIterator<Item = &'a str>,
    hw: &str,
    date: &str,
) -> Vec<String> {
    let needle = format!("-{hw}-{date}");
    let mut found: Vec<String> = Vec::new();
    for t in tags {
        if is_srt(t) || !t.contains(&needle) {
            continue;
        }
        if let Some(r) = rocm_token(t)
            && !found.iter().any(|f| f == r)
        {
            found.push(r.to_string());
        }
    }
    found.sort_by(|a, b| version_cmp(b, a));
    found
}

/// Discovery step 2: for each discovered ROCm token in order, the first tag (API order) that
/// [`matches`]; the first hit wins. Returns (rocm, tag).
pub fn select_discovered<'a>(tags: &[&'a str], hw: &str, date: &str) -> Option<(String, &'a str)> {
    for rocm in discover_rocms(tags.iter().copied(), hw, date) {
        if let Some(t) = tags.iter().find(|t| matches(t, &rocm, hw, date)) {
            return Some((rocm, t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_is_substring_and_skips_srt() {
        let t = "v0.5.4.post1-rocm630-mi30x-20251029";
        assert!(matches(t, "rocm630", "mi30x", "20251029"));
        assert!(!matches(t, "rocm700", "mi30x", "20251029"));
        assert!(!matches(
            &format!("{t}-srt"),
            "rocm630",
            "mi30x",
            "20251029"
        ));
        // A longer string that only contains the pattern still matches (original: substring).
        assert!(matches(
            "x-rocm630-mi30x-20251029-extra",
            "rocm630",
            "mi30x",
            "20251029"
        ));
    }

    #[test]
    fn tokens_and_dates() {
        assert_eq!(
            rocm_token("v0.5.3rc0-rocm630-mi30x-20251005"),
            Some("rocm630")
        );
        assert_eq!(rocm_token("v1-rocmx-rocm700-mi35x-1"), Some("rocm700"));
        assert_eq!(
            rocm_token("v1-rocm700"),
            None,
            "needs a dash after the digits"
        );
        assert_eq!(tag_date("v0.5.4-rocm630-mi30x-20251024"), Some("20251024"));
        assert_eq!(tag_date("v0.5.4-rocm630-mi30x-20251024-srt"), None);
        assert_eq!(tag_date("latest"), None);
    }

    #[test]
    fn version_order() {
        assert_eq!(version_cmp("rocm700", "rocm630"), Ordering::Greater);
        assert_eq!(version_cmp("rocm1000", "rocm700"), Ordering::Greater);
        assert_eq!(version_cmp("rocm700", "rocm700"), Ordering::Equal);
    }

    #[test]
    fn discovery_prefers_highest_rocm() {
        let tags = [
            "v0.5.4.post1-rocm630-mi30x-20251030",
            "v0.5.4.post1-rocm700-mi30x-20251030-srt",
            "v0.5.4.post1-rocm700-mi30x-20251030",
            "v0.5.4.post1-rocm700-mi35x-20251030",
        ];
        assert_eq!(
            discover_rocms(tags, "mi30x", "20251030"),
            ["rocm700", "rocm630"]
        );
        assert_eq!(
            select_discovered(&tags, "mi30x", "20251030"),
            Some(("rocm700".into(), "v0.5.4.post1-rocm700-mi30x-20251030"))
        );
        assert_eq!(select_discovered(&tags, "mi35x", "20251031"), None);
    }

    #[test]
    fn hardware_tokens() {
        assert_eq!("mi35x".parse::<Hardware>(), Ok(Hardware::Mi35x));
        assert!("mi300x".parse::<Hardware>().is_err());
        assert_eq!(Hardware::Mi30x.default_rocm(), "rocm630");
    }
}
