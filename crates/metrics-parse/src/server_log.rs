//! SGLang server logs (`server_output_aiter.log`, `sglang_server.log`, `server.log`): what
//! the toolkit reads from them (spec benchmarks.md §4.6, §4.10, §5.7, §6.4, §12.4; corpus
//! README §2.4, §4).
//!
//! * [`error_scan`]: the timing summary's `Server Error Check` — lines containing
//!   `RuntimeError:`, and lines matching `CUDA error|OutOfMemoryError|Fatal`. Lines are what
//!   `grep -c` counts: split on `\n` only (a tqdm `\r` does not start a new line).
//! * [`server_ready`]: the Grok readiness line `The server is fired up and ready to roll!`.
//! * [`startup_abort`]: the DeepSeek start-up abort rule on the last 100 lines.
//! * [`kv_cache_allocation`]: the online plot script's `KV Cache is allocated. #tokens: …`
//!   line, in both shapes (`KV size: X GB` and `K size: a GB, V size: b GB`).

use memchr::memmem;
use serde::Serialize;

use crate::text;
use crate::value::Num;

/// The readiness line the Grok script polls for.
pub const READY_LINE: &str = "The server is fired up and ready to roll!";

/// Result of the server error check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorScan {
    /// Lines containing `RuntimeError:`.
    pub runtime_error_lines: u64,
    /// The first three such lines (the timing summary copies them, indented by 4 spaces).
    pub first_runtime_errors: Vec<String>,
    /// Lines matching `CUDA error`, `OutOfMemoryError` or `Fatal`.
    pub critical_error_lines: u64,
}

impl ErrorScan {
    /// `FAIL` iff a `RuntimeError:` line exists, else `PASS` (the `Server error status`).
    pub fn status(&self) -> &'static str {
        if self.runtime_error_lines > 0 {
            "FAIL"
        } else {
            "PASS"
        }
    }
}

/// Splits on `\n` only, like `grep` (a final line without `\n` counts).
fn grep_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    body.split(|b| *b == b'\n').filter(move |_| !empty)
}

/// Counts error lines the way the online scripts' `Server Error Check` does.
pub fn error_scan(data: &[u8]) -> ErrorScan {
    let runtime = memmem::Finder::new(b"RuntimeError:");
    let critical = [
        memmem::Finder::new(b"CUDA error"),
        memmem::Finder::new(b"OutOfMemoryError"),
        memmem::Finder::new(b"Fatal"),
    ];
    let mut scan = ErrorScan::default();
    // Fast path: most server logs hold none of these words at all.
    if runtime.find(data).is_none() && critical.iter().all(|f| f.find(data).is_none()) {
        return scan;
    }
    for line in grep_lines(data) {
        if runtime.find(line).is_some() {
            scan.runtime_error_lines += 1;
            if scan.first_runtime_errors.len() < 3 {
                scan.first_runtime_errors
                    .push(text::lossy(line).trim_end_matches('\r').to_owned());
            }
        }
        if critical.iter().any(|f| f.find(line).is_some()) {
            scan.critical_error_lines += 1;
        }
    }
    scan
}

/// True when the Grok readiness line appears anywhere.
pub fn server_ready(data: &[u8]) -> bool {
    memmem::find(data, READY_LINE.as_bytes()).is_some()
}

/// The DeepSeek start-up abort rule (quirk F-36, kept for classification): among the last 100
/// lines, the first one containing `RuntimeError`, `CUDA error`, `OutOfMemoryError`,
/// `AssertionError`, `Fatal`, or `Traceback` followed later on the same line by `Error`.
pub fn startup_abort(data: &[u8]) -> Option<String> {
    let lines: Vec<&[u8]> = grep_lines(data).collect();
    let tail = &lines[lines.len().saturating_sub(100)..];
    tail.iter().find_map(|line| {
        let l = text::lossy(line);
        let hit = [
            "RuntimeError",
            "CUDA error",
            "OutOfMemoryError",
            "AssertionError",
            "Fatal",
        ]
        .iter()
        .any(|w| l.contains(w))
            || l.find("Traceback")
                .is_some_and(|i| l[i + "Traceback".len()..].contains("Error"));
        hit.then(|| l.trim_end_matches('\r').to_owned())
    })
}

/// `KV Cache is allocated. #tokens: N, KV size: X GB` or
/// `… #tokens: N, K size: a GB, V size: b GB`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KvCacheAllocation {
    /// `#tokens:` value.
    pub tokens: u64,
    /// KV size in GB: `X`, or `a + b` (f64 sum, as the plot script: 85.44 + 85.44 = 170.88).
    pub kv_size_gb: f64,
    /// `KV size:` as printed (single-size shape).
    pub kv_size: Option<Num>,
    /// `K size:` as printed (split shape).
    pub k_size: Option<Num>,
    /// `V size:` as printed (split shape).
    pub v_size: Option<Num>,
}

/// The first line containing both `KV Cache is allocated` and `#tokens:` that parses in one of
/// the two shapes (a line in neither shape is skipped, as the plot script does). Lines split
/// as Python reads text files (`\n`, `\r\n`, `\r`).
pub fn kv_cache_allocation(data: &[u8]) -> Option<KvCacheAllocation> {
    let finder = memmem::Finder::new(b"KV Cache is allocated");
    let mut from = 0;
    while let Some(rel) = finder.find(&data[from..]) {
        let at = from + rel;
        let start = data[..at]
            .iter()
            .rposition(|b| matches!(b, b'\n' | b'\r'))
            .map_or(0, |i| i + 1);
        let end = memchr::memchr2(b'\n', b'\r', &data[at..]).map_or(data.len(), |i| at + i);
        let line = text::lossy(&data[start..end]);
        if line.contains("#tokens:")
            && let Some(kv) = parse_kv_line(&line)
        {
            return Some(kv);
        }
        from = end.max(at + 1);
        if from >= data.len() {
            break;
        }
    }
    None
}

fn parse_kv_line(line: &str) -> Option<KvCacheAllocation> {
    let tokens_text = text::number_after(line, "#tokens:")?;
    let tokens: u64 = tokens_text.parse().ok()?;
    if let Some(kv) = gb_after(line, "KV size:") {
        return Some(KvCacheAllocation {
            tokens,
            kv_size_gb: kv.value,
            kv_size: Some(kv),
            k_size: None,
            v_size: None,
        });
    }
    let k = gb_after(line, "K size:")?;
    let v = gb_after(line, "V size:")?;
    Some(KvCacheAllocation {
        tokens,
        kv_size_gb: k.value + v.value,
        kv_size: None,
        k_size: Some(k),
        v_size: Some(v),
    })
}

/// `<label> <n> GB` → n.
fn gb_after(line: &str, label: &str) -> Option<Num> {
    // `K size:` must not match inside `KV size:`.
    let mut search = 0;
    while let Some(rel) = line[search..].find(label) {
        let at = search + rel;
        let preceded_ok = at == 0 || !line.as_bytes()[at - 1].is_ascii_alphanumeric();
        let rest = &line[at + label.len()..];
        if preceded_ok {
            let n = Num::leading(rest)?;
            let after = rest.trim_start()[n.text.len()..].trim_start();
            return after.starts_with("GB").then_some(n);
        }
        search = at + label.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOG: &[u8] = include_bytes!("../../../fixtures/server_log/errors.log");

    #[test]
    fn error_scan_counts_grep_lines() {
        let s = error_scan(LOG);
        assert_eq!(s.runtime_error_lines, 4);
        assert_eq!(s.first_runtime_errors.len(), 3);
        assert!(s.first_runtime_errors[0].starts_with("RuntimeError: NCCL"));
        assert_eq!(s.critical_error_lines, 3);
        assert_eq!(s.status(), "FAIL");
        let clean = error_scan(b"all good\nRuntimeError without colon\n");
        assert_eq!(clean, ErrorScan::default());
        assert_eq!(clean.status(), "PASS");
        // A `\r` progress bar does not make two lines.
        assert_eq!(
            error_scan(b"RuntimeError: a\rRuntimeError: b\n").runtime_error_lines,
            1
        );
        assert_eq!(
            error_scan(b"x\nRuntimeError: last line without newline").runtime_error_lines,
            1
        );
    }

    #[test]
    fn readiness_and_startup_abort() {
        assert!(server_ready(
            b"[2025-12-03 05:47:32] The server is fired up and ready to roll!\n"
        ));
        assert!(!server_ready(b"loading\n"));
        assert_eq!(
            startup_abort(b"ok\nImportError: cannot import name 'X'\n"),
            None,
            "an ImportError alone does not match the rule"
        );
        assert_eq!(
            startup_abort(b"ok\nTraceback: ValueError in x\n").as_deref(),
            Some("Traceback: ValueError in x")
        );
        let mut old = b"RuntimeError: early\n".to_vec();
        old.extend(std::iter::repeat_n(b"fine\n".as_slice(), 100).flatten());
        assert_eq!(startup_abort(&old), None, "only the last 100 lines count");
    }

    #[test]
    fn kv_cache_both_shapes() {
        let kv = kv_cache_allocation(b"x\n[2025-10-29 15:17:16 TP5] KV Cache is allocated. #tokens: 971639, KV size: 63.59 GB\n").unwrap();
        assert_eq!(kv.tokens, 971_639);
        assert_eq!(kv.kv_size.unwrap().text, "63.59");
        let kv = kv_cache_allocation(b"[2025-12-13 11:46:28 TP3] KV Cache is allocated. #tokens: 4588137, K size: 85.44 GB, V size: 85.44 GB\r\n").unwrap();
        assert_eq!(kv.tokens, 4_588_137);
        assert_eq!(kv.kv_size_gb, 170.88);
        assert_eq!(kv.k_size.unwrap().text, "85.44");
        // A matching line in neither shape is skipped and the search goes on.
        let kv = kv_cache_allocation(b"KV Cache is allocated. #tokens: 5, weird\rKV Cache is allocated. #tokens: 7, KV size: 1.5 GB").unwrap();
        assert_eq!(kv.tokens, 7);
        assert_eq!(
            kv_cache_allocation(b"KV Cache is allocated. no tokens"),
            None
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = error_scan(&data);
            let _ = startup_abort(&data);
            let _ = kv_cache_allocation(&data);
            let _ = server_ready(&data);
        }

        #[test]
        fn kv_lines_with_noise_never_panic(s in "\\PC{0,40}") {
            let line = format!("KV Cache is allocated. #tokens: {s} K size: {s} GB, V size: {s}");
            let _ = kv_cache_allocation(line.as_bytes());
        }
    }
}
