//! Byte-level text helpers shared by every parser: line splitting that treats `\r` (tqdm
//! progress bars) like a line end, ANSI escape removal, lossy UTF-8, and the spec's "number"
//! rule.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

/// Iterates the lines of `data`, splitting on `\n`, `\r\n` and lone `\r` (a progress-bar
/// redraw), without the line terminator. Empty lines ended by `\n` or `\r\n` are yielded;
/// an empty segment before a lone `\r` is not (so `a\r\n\r\nb` gives `a`, ``, `b`).
pub fn lines(data: &[u8]) -> Lines<'_> {
    Lines { rest: data }
}

/// Iterator returned by [`lines`].
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            match memchr2(b'\n', b'\r', self.rest) {
                None => {
                    let line = self.rest;
                    self.rest = &[];
                    return Some(line);
                }
                Some(i) => {
                    let line = &self.rest[..i];
                    let term = self.rest[i];
                    let crlf = term == b'\r' && self.rest.get(i + 1) == Some(&b'\n');
                    self.rest = &self.rest[i + 1 + usize::from(crlf)..];
                    // A lone `\r` redraw with nothing before it is not a line of its own.
                    if term == b'\r' && !crlf && line.is_empty() {
                        continue;
                    }
                    return Some(line);
                }
            }
        }
    }
}

/// Removes ANSI escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ESC \`, and
/// two-byte `ESC x`). Borrows when there is nothing to remove.
pub fn strip_ansi(line: &[u8]) -> Cow<'_, [u8]> {
    if memchr(0x1b, line).is_none() {
        return Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b != 0x1b {
            out.push(b);
            i += 1;
            continue;
        }
        match line.get(i + 1) {
            Some(b'[') => {
                i += 2;
                while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']') => {
                i += 2;
                while i < line.len() {
                    if line[i] == 0x07 {
                        i += 1;
                        break;
                    }
                    if line[i] == 0x1b && line.get(i + 1) == Some(&b'\\') {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            Some(_) => i += 2,
            None => i += 1,
        }
    }
    Cow::Owned(out)
}

/// Decodes a line as UTF-8, replacing invalid bytes with U+FFFD; borrows when valid.
pub fn lossy(line: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(line)
}

/// A line cleaned for matching: ANSI codes removed, lossy UTF-8.
pub fn clean(line: &[u8]) -> Cow<'_, str> {
    match strip_ansi(line) {
        Cow::Borrowed(b) => lossy(b),
        Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
    }
}

/// The spec's "number" (benchmarks.md §6): the longest run of `0-9` and `.` at the start of
/// `s`, after optional spaces/tabs. `None` when that run is empty or has no digit.
pub fn leading_number(s: &str) -> Option<&str> {
    let s = s.trim_start_matches([' ', '\t']);
    let end = s
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(s.len());
    let n = &s[..end];
    n.bytes().any(|b| b.is_ascii_digit()).then_some(n)
}

/// The number that follows the first occurrence of `label` in `line` (see [`leading_number`]).
pub fn number_after<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let at = line.find(label)?;
    leading_number(&line[at + label.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(data: &[u8]) -> Vec<String> {
        lines(data)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn splits_on_lf_crlf_and_progress_bar_cr() {
        assert_eq!(
            collect(b"a\r\nb\n\r  5%|#\r 10%|##\rdone\n\nlast"),
            ["a", "b", "  5%|#", " 10%|##", "done", "", "last"]
        );
    }

    #[test]
    fn empty_and_terminator_only_inputs() {
        assert!(collect(b"").is_empty());
        assert_eq!(collect(b"\n"), [""]);
        assert_eq!(collect(b"a\r\n\r\nb"), ["a", "", "b"]);
        assert!(collect(b"\r\r").is_empty());
    }

    #[test]
    fn ansi_sequences_are_removed() {
        assert_eq!(
            &*strip_ansi(b"\x1b[1;32mOK\x1b[0m and \x1b]0;title\x07x"),
            b"OK and x"
        );
        assert!(matches!(strip_ansi(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn numbers_follow_the_spec_rule() {
        assert_eq!(leading_number("   12034.20   "), Some("12034.20"));
        assert_eq!(leading_number("inf"), None);
        assert_eq!(leading_number("."), None);
        assert_eq!(
            number_after(
                "Median TTFT (ms):                        98.91",
                "Median TTFT (ms):"
            ),
            Some("98.91")
        );
        assert_eq!(number_after("Accuracy: x", "Accuracy:"), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_lines_never_contain_terminators(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            for l in lines(&data) {
                prop_assert!(!l.contains(&b'\n') && !l.contains(&b'\r'));
                let _ = clean(l);
            }
        }
    }
}
