//! Hand-written JSON for the hot path: streamed events are built by appending to a byte
//! buffer, with a string escaper that copies runs needing no escape in one go.

use std::fmt::Write as _;

/// Appends the JSON string *content* of `s` (no quotes) to `out`.
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            let mut tmp = String::new();
            let _ = write!(tmp, "\\u{b:04x}");
            out.extend_from_slice(tmp.as_bytes());
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `"s"` (quoted, escaped).
pub(crate) fn quoted_into(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Appends a decimal integer.
pub(crate) fn int_into(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `[a, b, c]`.
pub(crate) fn ids_into(out: &mut Vec<u8>, ids: &[u32]) {
    out.push(b'[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        int_into(out, u64::from(*id));
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_through_serde() {
        for s in [
            "plain",
            "a \"q\" \\ b",
            "line\nbreak\ttab\r",
            "ctl \u{1}\u{1f}",
            "Janet’s ＃",
            "",
        ] {
            let mut out = Vec::new();
            quoted_into(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
        }
        let mut out = Vec::new();
        ids_into(&mut out, &[0, 7, 4096]);
        int_into(&mut out, 1_234_567);
        assert_eq!(out, b"[0, 7, 4096]1234567");
    }
}
