//! Request paths to safe relative paths, and names back to URL path segments.
//!
//! The request target is split on `/` *before* percent-decoding, so an encoded slash (`%2f`)
//! can never create a new path component; each segment is then decoded on its own and checked.
//! Anything that could name a file outside the served root is refused here, before the file
//! system is touched: `..` (raw or `%2e%2e`), encoded `/` or `\`, a raw backslash and NUL.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Why a request path was refused before any file-system access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathRefusal {
    /// A `%` not followed by two hex digits: answered 400.
    #[error("malformed percent-encoding")]
    BadEncoding,
    /// A `..` segment, raw or encoded: answered 403.
    #[error("parent-directory segment '..'")]
    ParentSegment,
    /// A `/` or `\` hidden inside a segment as `%2f`/`%5c`: answered 403.
    #[error("encoded path separator (%2f or %5c)")]
    EncodedSeparator,
    /// A raw backslash (a Windows separator): answered 403.
    #[error("backslash in path")]
    Backslash,
    /// A NUL byte (`%00`): answered 403.
    #[error("NUL byte in path")]
    Nul,
    /// Not an origin-form path starting with `/`: answered 400.
    #[error("request target does not start with '/'")]
    NotAbsolute,
}

/// A request path checked and split into segments that stay below the served root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafePath {
    /// Decoded segments, without empty and `.` segments; never `..`, never containing `/`.
    pub segments: Vec<OsString>,
    /// Whether the request path ended with `/` (directories are listed only then).
    pub trailing_slash: bool,
}

impl SafePath {
    /// The canonical URL path of these segments (percent-encoded, leading `/`), with a trailing
    /// `/` when `dir` is true. Used for redirects, so `//host` can never come out of it.
    pub fn url(&self, dir: bool) -> String {
        let mut out = String::from("/");
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(&encode_segment(seg));
        }
        if dir && !self.segments.is_empty() {
            out.push('/');
        }
        out
    }
}

/// Checks and splits the path part of a request target (no query string).
pub fn parse(raw: &str) -> Result<SafePath, PathRefusal> {
    let Some(rest) = raw.strip_prefix('/') else {
        return Err(PathRefusal::NotAbsolute);
    };
    if raw.contains('\\') {
        return Err(PathRefusal::Backslash);
    }
    let mut segments = Vec::new();
    for seg in rest.split('/') {
        if seg.is_empty() {
            continue;
        }
        let bytes = percent_decode(seg.as_bytes())?;
        if bytes.contains(&0) {
            return Err(PathRefusal::Nul);
        }
        if bytes.iter().any(|&b| b == b'/' || b == b'\\') {
            return Err(PathRefusal::EncodedSeparator);
        }
        match bytes.as_slice() {
            b"." => continue,
            b".." => return Err(PathRefusal::ParentSegment),
            _ => segments.push(OsString::from_vec(bytes)),
        }
    }
    Ok(SafePath {
        segments,
        trailing_slash: raw.ends_with('/'),
    })
}

fn percent_decode(s: &[u8]) -> Result<Vec<u8>, PathRefusal> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hi = s.get(i + 1).and_then(|&c| hex_value(c));
            let lo = s.get(i + 2).and_then(|&c| hex_value(c));
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => return Err(PathRefusal::BadEncoding),
            }
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes one file name for use as a URL path segment: every byte except ASCII
/// letters, digits and `-._~` is encoded, so `#`, `?`, `%`, spaces, quotes and non-ASCII names
/// all produce working links (the original left them raw: quirk P1).
pub fn encode_segment(name: &OsStr) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &SafePath) -> Vec<String> {
        p.segments
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn plain_paths_split_and_decode_per_segment() {
        let p = parse("/mi30x/GROK1/online/a%20b%23c.png").unwrap();
        assert_eq!(segs(&p), ["mi30x", "GROK1", "online", "a b#c.png"]);
        assert!(!p.trailing_slash);
        let p = parse("//mi30x/./GROK1//").unwrap();
        assert_eq!(segs(&p), ["mi30x", "GROK1"]);
        assert!(p.trailing_slash);
        assert_eq!(parse("/").unwrap().segments.len(), 0);
    }

    #[test]
    fn traversal_and_smuggled_separators_are_refused() {
        assert_eq!(parse("/../etc/passwd"), Err(PathRefusal::ParentSegment));
        assert_eq!(parse("/a/%2e%2e/%2E%2E/x"), Err(PathRefusal::ParentSegment));
        assert_eq!(parse("/a/.%2e/x"), Err(PathRefusal::ParentSegment));
        assert_eq!(
            parse("/%2fetc%2fpasswd"),
            Err(PathRefusal::EncodedSeparator)
        );
        assert_eq!(parse("/a%5c..%5cb"), Err(PathRefusal::EncodedSeparator));
        assert_eq!(parse("/a\\b"), Err(PathRefusal::Backslash));
        assert_eq!(parse("/a%00.png"), Err(PathRefusal::Nul));
        assert_eq!(parse("/a%zz"), Err(PathRefusal::BadEncoding));
        assert_eq!(parse("/a%2"), Err(PathRefusal::BadEncoding));
        assert_eq!(parse("etc/passwd"), Err(PathRefusal::NotAbsolute));
    }

    #[test]
    fn names_with_dots_are_not_traversal() {
        assert_eq!(segs(&parse("/...").unwrap()), ["..."]);
        assert_eq!(segs(&parse("/..a/.b").unwrap()), ["..a", ".b"]);
    }

    #[test]
    fn encoding_round_trips_any_bytes() {
        for name in [
            "a b#c?d%e.png",
            "ünï-cödé 图.csv",
            "plain_NAME-1.0~x.log",
            "\"q'<>&",
        ] {
            let enc = encode_segment(OsStr::new(name));
            assert!(
                enc.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                "{enc}"
            );
            let back = parse(&format!("/{enc}")).unwrap();
            assert_eq!(back.segments, [OsString::from(name)]);
        }
        let raw = OsStr::from_bytes(b"bad\xffname");
        assert_eq!(encode_segment(raw), "bad%FFname");
    }

    #[test]
    fn canonical_url_never_starts_with_two_slashes() {
        let p = parse("//evil.example/x").unwrap();
        assert_eq!(p.url(true), "/evil.example/x/");
        assert_eq!(parse("/").unwrap().url(true), "/");
    }
}
