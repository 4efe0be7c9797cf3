//! The decode-log checks after the tests (spec nightly.md §5.8): KV cache / memory pressure,
//! timeouts, communication errors. Informational only. Two fixes: the `server_args=` dump
//! line is ignored (it always matched, Q-PD-4), and the scan reads the file in this process
//! (the original's pipeline could die of SIGPIPE and end the run with 141, Q-PD-3).

/// One check: its patterns (all lower case; `.*` joins parts that must appear in order), the
/// warning, the all-clear line and how many matching lines are shown.
pub struct Check {
    /// Alternatives; each is a list of parts that must appear in this order.
    pub patterns: &'static [&'static [&'static str]],
    /// `⚠ WARNING: ...:` line.
    pub warning: &'static str,
    /// `✓ No ...` line.
    pub clear: &'static str,
    /// Matching lines shown.
    pub show: usize,
}

/// The three checks of the original, in order.
pub const CHECKS: [Check; 3] = [
    Check {
        patterns: &[
            &["kv", "cache", "full"],
            &["out of memory"],
            &["memory", "limit"],
            &["cuda", "out of memory"],
            &["hip", "out of memory"],
        ],
        warning: "⚠ WARNING: Found KV cache or memory pressure issues in decode server:",
        clear: "✓ No KV cache or memory issues detected in decode server",
        show: 10,
    },
    Check {
        patterns: &[&["timeout"], &["timed out"]],
        warning: "⚠ WARNING: Found timeout issues in decode server:",
        clear: "✓ No timeout issues detected in decode server",
        show: 5,
    },
    Check {
        patterns: &[
            &["nccl", "error"],
            &["communication", "error"],
            &["memory access fault"],
        ],
        warning: "⚠ WARNING: Found communication errors in decode server:",
        clear: "✓ No communication errors detected in decode server",
        show: 5,
    },
];

fn in_order(line: &str, parts: &[&str]) -> bool {
    let mut rest = line;
    for p in parts {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// The lines of `log` that `check` matches (case-insensitive), the `server_args=` dump
/// excluded, at most `check.show`.
pub fn matches<'a>(check: &Check, log: &'a str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| !l.contains("server_args="))
        .filter(|l| {
            let low = l.to_lowercase();
            check.patterns.iter().any(|p| in_order(&low, p))
        })
        .take(check.show)
        .collect()
}

/// The console lines of the three checks (without the `[pd-test] ` prefix).
pub fn report(log: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in &CHECKS {
        let m = matches(c, log);
        if m.is_empty() {
            out.push(c.clear.to_owned());
        } else {
            out.push(c.warning.to_owned());
            out.extend(m.into_iter().map(|l| format!("  {l}")));
        }
    }
    out
}

/// The last `n` lines of `log` matching case-insensitive `error|exception|failed`
/// (`traceback` too when `traceback` is set).
pub fn error_lines(log: &str, n: usize, traceback: bool) -> Vec<String> {
    let hits: Vec<&str> = log
        .lines()
        .filter(|l| {
            let low = l.to_lowercase();
            low.contains("error")
                || low.contains("exception")
                || low.contains("failed")
                || (traceback && low.contains("traceback"))
        })
        .collect();
    hits[hits.len().saturating_sub(n)..]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_args_dump_no_longer_matches_but_real_lines_do() {
        let log = "[2025-12-06 16:18:32] server_args=ServerArgs(kv_cache_dtype='auto', page_size=1, watchdog_timeout=180.0, full=1)\n\
                   [2025-12-06 16:26:04 TP0] Watchdog timeout (self.watchdog_timeout=180.0)\n\
                   Memory access fault by GPU node-6 (Agent handle: 0x5636551cac00)\n";
        let r = report(log);
        assert_eq!(r[0], CHECKS[0].clear, "{r:?}");
        assert_eq!(r[1], CHECKS[1].warning);
        assert!(r[2].contains("Watchdog timeout"));
        assert_eq!(r[3], CHECKS[2].warning);
        assert!(r[4].starts_with("  Memory access fault"));
        let many: String = (0..100)
            .map(|i| format!("KV cache is full {i}\n"))
            .collect();
        assert_eq!(matches(&CHECKS[0], &many).len(), 10);
    }
}
