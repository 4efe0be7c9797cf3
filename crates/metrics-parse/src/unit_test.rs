//! Nightly unit-test logs (`test/unit-test-backend-8-gpu-CAR-amd/<hw>/<docker_tag>.log`, spec
//! nightly.md §4.11, reporting.md §6.2/§6.3, corpus README §1.4, §2.7): the `SGL Unit Test Log`
//! header, the raw `unittest` output with its `Ran N tests` / `OK` / `FAILED (...)` summary,
//! and the footer (`End time:`, `Exit code:`, `Result:`).
//!
//! A killed run (exit code 137) has a footer but no unittest summary; a log cut before the
//! footer has `footer: None`. Header fields are read only inside the header block and footer
//! fields only after the footer's separator, so test output that happens to print `Result:`
//! cannot be mistaken for them.

use crate::text;

/// A parsed unit-test log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitTestLog {
    /// Header block fields.
    pub header: UnitHeader,
    /// The unittest summary, `None` when the output has no `Ran N test(s)` line.
    pub summary: Option<UnittestSummary>,
    /// The footer, `None` when the log was cut before it.
    pub footer: Option<Footer>,
}

/// Header block (`None` for absent lines; `Machine:` exists from December on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitHeader {
    /// `SGL Unit Test Log` banner seen.
    pub banner: bool,
    /// `Test:`.
    pub test: Option<String>,
    /// `Image:`.
    pub image: Option<String>,
    /// `Container:`.
    pub container: Option<String>,
    /// `Hardware:`.
    pub hardware: Option<String>,
    /// `Machine:`.
    pub machine: Option<String>,
    /// `Start time:` (Central time, `2025-11-06 10:56:02 CST`).
    pub start_time: Option<String>,
    /// `Test directory:`.
    pub test_directory: Option<String>,
    /// `Command:`.
    pub command: Option<String>,
}

/// The unittest runner's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnittestSummary {
    /// N of `Ran N tests in <s>s`.
    pub tests_run: u64,
    /// The seconds text of that line (`269.026`).
    pub duration: String,
    /// The verdict line after it, `None` when the output stops after `Ran`.
    pub outcome: Option<UnittestOutcome>,
}

/// `OK[ (...)]` or `FAILED (...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnittestOutcome {
    /// `OK`, with the parenthesised details if any (`skipped=1`).
    Ok {
        /// Text inside the parentheses.
        details: Option<String>,
    },
    /// `FAILED (errors=.., failures=..)`.
    Failed {
        /// `errors=`.
        errors: Option<u64>,
        /// `failures=`.
        failures: Option<u64>,
        /// Text inside the parentheses, verbatim (`errors=2`).
        details: String,
    },
}

/// Footer block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footer {
    /// `End time:`.
    pub end_time: Option<String>,
    /// `Exit code:`.
    pub exit_code: Option<i32>,
    /// `Result:`.
    pub result: Option<UnitResult>,
}

/// `Result:` word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitResult {
    /// `PASSED`.
    Passed,
    /// `FAILED`.
    Failed,
    /// Anything else, verbatim.
    Other(String),
}

impl UnitTestLog {
    /// Exit code 137: the container was stopped mid-test.
    pub fn killed(&self) -> bool {
        self.footer.as_ref().and_then(|f| f.exit_code) == Some(137)
    }
}

fn is_separator(t: &str) -> bool {
    t.len() >= 10 && t.bytes().all(|b| b == b'=')
}

fn parse_outcome(t: &str) -> Option<UnittestOutcome> {
    if t == "OK" {
        return Some(UnittestOutcome::Ok { details: None });
    }
    if let Some(d) = t.strip_prefix("OK (").and_then(|r| r.strip_suffix(')')) {
        return Some(UnittestOutcome::Ok {
            details: Some(d.to_owned()),
        });
    }
    let d = t.strip_prefix("FAILED (")?.strip_suffix(')')?;
    let field = |k: &str| {
        d.split(", ")
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
    };
    Some(UnittestOutcome::Failed {
        errors: field("errors"),
        failures: field("failures"),
        details: d.to_owned(),
    })
}

/// `Ran N test(s) in <s>s`.
fn parse_ran(t: &str) -> Option<(u64, String)> {
    let rest = t.strip_prefix("Ran ")?;
    let (n, rest) = rest.split_once(' ')?;
    let d = rest
        .strip_prefix("tests in ")
        .or_else(|| rest.strip_prefix("test in "))?
        .strip_suffix('s')?;
    Some((n.parse().ok()?, d.to_owned()))
}

#[derive(PartialEq)]
enum Part {
    Start,
    Header,
    Body,
    Footer,
}

/// Parses a unit-test log. Never fails.
pub fn parse(data: &[u8]) -> UnitTestLog {
    let mut out = UnitTestLog::default();
    let mut part = Part::Start;
    let mut after_separator = false;
    let mut awaiting_outcome = false;
    let mut header_separators = 0u32;
    for raw in text::lines(data) {
        let cleaned = text::clean(raw);
        let t = cleaned.trim_end();
        if is_separator(t) {
            // The banner's own separator, then the one that closes the header.
            if part == Part::Header {
                header_separators += 1;
                if header_separators == 2 {
                    part = Part::Body;
                }
            }
            after_separator = true;
            continue;
        }
        let follows_separator = std::mem::replace(&mut after_separator, false);
        match part {
            Part::Start | Part::Header => {
                if t == "SGL Unit Test Log" {
                    out.header.banner = true;
                    part = Part::Header;
                    continue;
                }
                if part == Part::Start {
                    continue;
                }
                let h = &mut out.header;
                let Some((k, v)) = t.split_once(": ") else {
                    continue;
                };
                let slot = match k {
                    "Test" => &mut h.test,
                    "Image" => &mut h.image,
                    "Container" => &mut h.container,
                    "Hardware" => &mut h.hardware,
                    "Machine" => &mut h.machine,
                    "Start time" => &mut h.start_time,
                    "Test directory" => &mut h.test_directory,
                    "Command" => &mut h.command,
                    _ => continue,
                };
                *slot = Some(v.to_owned());
            }
            Part::Body | Part::Footer => {
                let end_time = t.strip_prefix("End time: ").filter(|_| follows_separator);
                if let Some(v) = end_time {
                    part = Part::Footer;
                    out.footer = Some(Footer {
                        end_time: Some(v.to_owned()),
                        ..Footer::default()
                    });
                    continue;
                }
                if part == Part::Footer {
                    if let Some(f) = out.footer.as_mut() {
                        if let Some(v) = t.strip_prefix("Exit code: ") {
                            f.exit_code = v.trim().parse().ok();
                        } else if let Some(v) = t.strip_prefix("Result: ") {
                            f.result = Some(match v.trim() {
                                "PASSED" => UnitResult::Passed,
                                "FAILED" => UnitResult::Failed,
                                o => UnitResult::Other(o.to_owned()),
                            });
                        }
                    }
                    continue;
                }
                if let Some((n, d)) = parse_ran(t) {
                    out.summary = Some(UnittestSummary {
                        tests_run: n,
                        duration: d,
                        outcome: None,
                    });
                    awaiting_outcome = true;
                } else if awaiting_outcome && let Some(o) = parse_outcome(t) {
                    if let Some(s) = out.summary.as_mut() {
                        s.outcome = Some(o);
                    }
                    awaiting_outcome = false;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PASSED: &[u8] = include_bytes!("../../../fixtures/unit_test/passed.log");
    const FAILED: &[u8] = include_bytes!("../../../fixtures/unit_test/failed.log");
    const KILLED: &[u8] = include_bytes!("../../../fixtures/unit_test/killed.log");

    #[test]
    fn passed_log() {
        let l = parse(PASSED);
        assert!(l.header.banner);
        assert_eq!(l.header.test.as_deref(), Some("test_example.TestExample"));
        assert_eq!(l.header.machine.as_deref(), Some("host-c"));
        assert_eq!(l.header.hardware.as_deref(), Some("mi35x"));
        let s = l.summary.as_ref().expect("summary");
        assert_eq!((s.tests_run, s.duration.as_str()), (2, "12.500"));
        assert_eq!(s.outcome, Some(UnittestOutcome::Ok { details: None }));
        let f = l.footer.as_ref().expect("footer");
        assert_eq!(f.exit_code, Some(0));
        assert_eq!(f.result, Some(UnitResult::Passed));
        assert!(!l.killed());
    }

    #[test]
    fn failed_log_ignores_result_text_in_test_output() {
        let l = parse(FAILED);
        assert_eq!(l.header.machine, None);
        let s = l.summary.as_ref().expect("summary");
        assert_eq!(
            s.outcome,
            Some(UnittestOutcome::Failed {
                errors: Some(2),
                failures: Some(1),
                details: "failures=1, errors=2".into()
            })
        );
        let f = l.footer.as_ref().expect("footer");
        assert_eq!(f.exit_code, Some(1));
        assert_eq!(f.result, Some(UnitResult::Failed));
    }

    #[test]
    fn killed_log_has_no_summary() {
        let l = parse(KILLED);
        assert!(l.summary.is_none());
        assert!(l.killed());
        assert_eq!(l.footer.and_then(|f| f.result), Some(UnitResult::Failed));
    }

    #[test]
    fn truncated_and_empty_logs() {
        let l = parse(&PASSED[..PASSED.len() / 3]);
        assert!(l.footer.is_none());
        assert_eq!(parse(b""), UnitTestLog::default());
        assert_eq!(parse_ran("Ran 1 test in 0.003s"), Some((1, "0.003".into())));
        assert_eq!(
            parse_outcome("OK (skipped=1)"),
            Some(UnittestOutcome::Ok {
                details: Some("skipped=1".into())
            })
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let l = parse(&data);
            let _ = l.killed();
        }

        #[test]
        fn any_cut_of_a_log_is_a_prefix_state(cut in 0usize..2000) {
            let l = parse(&FAILED[..cut.min(FAILED.len())]);
            // A footer only exists once its `End time:` line was reached.
            if let Some(f) = &l.footer { prop_assert!(f.end_time.is_some()); }
        }
    }
}
