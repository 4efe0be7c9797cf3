//! The timing summary `timing_summary_<YYYYMMDD_HHMMSS>.log` in the original's format (spec
//! nightly.md §7.9; read back by `metrics_parse::sanity::parse_summary`, the sanity card and
//! the daily summary), and the console's final summary (§7.10).
//!
//! Every block is appended and flushed as soon as it is known, so a run cut short leaves a
//! file the parser reads as cut short (its last section `Incomplete`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use metrics_parse::sanity::py_list_repr;

use super::SanityError;

/// 50 × `=`.
pub const RULE: &str = "==================================================";
/// `PASS [OK]`.
pub const PASS: &str = "PASS [OK]";
/// `FAIL [X]`.
pub const FAIL: &str = "FAIL [X]";

/// `1.00s`-style seconds.
pub fn secs(s: f64) -> String {
    format!("{s:.2}s")
}

/// A limit as the original printed it (`600`; `2.5` for a fractional one).
pub fn limit_text(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// How one trial ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialEnd {
    /// The client printed an accuracy.
    Accuracy {
        /// The value.
        accuracy: f64,
        /// ≥ threshold.
        pass: bool,
    },
    /// No `Accuracy:` in the client log.
    NoAccuracy {
        /// The client log.
        log: PathBuf,
    },
    /// Killed after the trial limit.
    Timeout {
        /// The limit in seconds.
        limit: f64,
    },
    /// The server had exited before the trial.
    ServerDied,
}

/// One trial.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialResult {
    /// 1-based.
    pub number: u32,
    /// Outcome.
    pub end: TrialEnd,
    /// Seconds.
    pub secs: f64,
}

impl TrialResult {
    /// The accuracy the verdict uses (0.0 for failed trials).
    pub fn accuracy(&self) -> f64 {
        match self.end {
            TrialEnd::Accuracy { accuracy, .. } => accuracy,
            _ => 0.0,
        }
    }

    /// The text after `Trial <t>: ` (also the console's, after the icon).
    pub fn text(&self) -> String {
        let t = secs(self.secs);
        match &self.end {
            TrialEnd::Accuracy { accuracy, pass } => format!(
                "{} (Accuracy: {accuracy:.3}, Time: {t})",
                if *pass { PASS } else { FAIL }
            ),
            TrialEnd::NoAccuracy { log } => {
                format!("{FAIL} (No accuracy found in {}, Time: {t})", log.display())
            }
            TrialEnd::Timeout { limit } => format!(
                "{FAIL} (Benchmark timeout after {}s, Time: {t})",
                limit_text(*limit)
            ),
            TrialEnd::ServerDied => "FAILED - Server process died".to_owned(),
        }
    }

    /// `PASS [OK]` trial.
    pub fn passed(&self) -> bool {
        matches!(self.end, TrialEnd::Accuracy { pass: true, .. })
    }
}

/// Why a server did not start, classified (fix Q-SAN-1: "Out of memory" only on genuine
/// out-of-memory markers).
#[derive(Debug, Clone, PartialEq)]
pub enum StartupError {
    /// `Not enough memory` or another out-of-memory marker in the log.
    OutOfMemory {
        /// The first `mem_fraction_static=<v>` of the log, or `unknown`.
        mem_fraction_static: String,
    },
    /// Timed out with kernel builds started and not finished.
    CompilationTimeout,
    /// Timed out (nothing more written, as the original).
    Timeout,
    /// The process exited before it was ready (fix Q-SAN-2).
    Exited {
        /// `exit status 1`, `killed by signal SIGKILL`.
        how: String,
    },
    /// The server could not be started at all (port taken, program missing).
    NotStarted {
        /// Why.
        why: String,
    },
}

impl StartupError {
    /// The timing summary's `Error:` and `💡 Suggestion:` lines.
    pub fn summary_lines(&self) -> Vec<String> {
        match self {
            Self::OutOfMemory {
                mem_fraction_static,
            } => vec![
                format!("Error: Out of memory (current mem_fraction_static={mem_fraction_static})"),
                "💡 Suggestion: Increase --mem-fraction-static in launch command".to_owned(),
            ],
            Self::CompilationTimeout => vec![
                "Error: Timeout during kernel compilation".to_owned(),
                "💡 Suggestion: Consider increasing timeout or checking compilation environment"
                    .to_owned(),
            ],
            Self::Timeout => Vec::new(),
            Self::Exited { how } => vec![format!(
                "Error: Server process exited during startup ({how})"
            )],
            Self::NotStarted { why } => vec![format!("Error: Server did not start ({why})")],
        }
    }

    /// The console's `(<msg>)` after `<model>: FAIL [X]`.
    pub fn console_message(&self, waited: f64) -> String {
        match self {
            Self::OutOfMemory {
                mem_fraction_static,
            } => format!("Out of memory (current mem_fraction_static={mem_fraction_static})"),
            Self::CompilationTimeout => "Timeout during kernel compilation".to_owned(),
            Self::Timeout => format!("server not ready after {waited:.2}s"),
            Self::Exited { how } => {
                format!("server not ready after {waited:.2}s: the process exited ({how})")
            }
            Self::NotStarted { why } => format!("server did not start: {why}"),
        }
    }
}

/// How a model ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEnd {
    /// Trials ran.
    Tested {
        /// Best trial ≥ threshold.
        pass: bool,
    },
    /// The server did not start.
    StartupFailed(StartupError),
    /// Skipped before start-up.
    Skipped,
}

/// `PASS` / `FAIL` / `SKIPPED` of the overall block.
pub fn overall_word(e: &ModelEnd) -> &'static str {
    match e {
        ModelEnd::Tested { pass: true } => "PASS",
        ModelEnd::Tested { pass: false } | ModelEnd::StartupFailed(_) => "FAIL",
        ModelEnd::Skipped => "SKIPPED",
    }
}

/// The header's values.
pub struct Header<'a> {
    /// `Start time:`.
    pub start_time: &'a str,
    /// Hardware.
    pub platform: &'a str,
    /// Model keys.
    pub models: &'a [String],
    /// Trials per model.
    pub trials: u32,
    /// `Docker image:` (`None`: `Not specified`).
    pub docker_image: Option<&'a str>,
}

/// A tested model's block.
pub struct TestedBlock<'a> {
    /// Model key.
    pub model: &'a str,
    /// Hardware.
    pub hardware: &'a str,
    /// Start time.
    pub start_time: &'a str,
    /// Server start-up seconds.
    pub startup_secs: f64,
    /// Trials run.
    pub trials: &'a [TrialResult],
    /// `Early exit: Passed on trial T, skipped N trial(s)`: `(T, N)`.
    pub early_exit: Option<(u32, u32)>,
    /// Server shutdown seconds.
    pub shutdown_secs: f64,
    /// Verdict.
    pub pass: bool,
    /// Threshold.
    pub threshold: f64,
    /// Model total seconds.
    pub total_secs: f64,
    /// End time.
    pub end_time: &'a str,
}

/// The best (highest) trial accuracy, failed trials counting 0.0 (Q-SAN-10, kept).
pub fn highest(trials: &[TrialResult]) -> f64 {
    trials.iter().map(TrialResult::accuracy).fold(0.0, f64::max)
}

/// The overall block's values.
pub struct OverallBlock<'a> {
    /// End time.
    pub end_time: &'a str,
    /// Run seconds.
    pub total_secs: f64,
    /// Per model, in run order.
    pub results: &'a [(String, ModelEnd)],
}

/// The timing summary being written.
pub struct TimingLog {
    path: PathBuf,
    file: File,
}

impl TimingLog {
    /// Creates `<dir>/timing_summary_<stamp>.log` and writes the header.
    pub fn create(dir: &Path, stamp: &str, h: &Header<'_>) -> Result<Self, SanityError> {
        let path = dir.join(format!("timing_summary_{stamp}.log"));
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| SanityError::io("create timing summary", &path, e))?;
        let mut t = Self { path, file };
        t.write(&header_lines(h))?;
        Ok(t)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends lines and flushes.
    pub fn write(&mut self, lines: &[String]) -> Result<(), SanityError> {
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| SanityError::io("write timing summary", &self.path, e))
    }
}

/// Lines 1-8 of §7.9.
pub fn header_lines(h: &Header<'_>) -> Vec<String> {
    vec![
        "SGLang Sanity Check Timing Summary".to_owned(),
        RULE.to_owned(),
        format!("Start time: {}", h.start_time),
        format!("Platform: {}", h.platform),
        format!("Models: {}", h.models.join(", ")),
        format!("Trials per model: {}", h.trials),
        format!(
            "Docker image: {}",
            h.docker_image.unwrap_or("Not specified")
        ),
        RULE.to_owned(),
    ]
}

/// The empty line, `=== <model> on <hw> ===` and `Start time:` that open a tested or failed
/// section.
pub fn section_open(model: &str, hardware: &str, start_time: &str) -> Vec<String> {
    vec![
        String::new(),
        format!("=== {model} on {hardware} ==="),
        format!("Start time: {start_time}"),
    ]
}

/// The rest of a tested model's block (after [`section_open`]).
pub fn tested_lines(b: &TestedBlock<'_>) -> Vec<String> {
    let mut v = vec![format!("Server startup: {}", secs(b.startup_secs))];
    for t in b.trials {
        v.push(format!("Trial {}: {}", t.number, t.text()));
    }
    if let Some((t, n)) = b.early_exit {
        v.push(format!(
            "Early exit: Passed on trial {t}, skipped {n} trial(s)"
        ));
    }
    let acc: Vec<f64> = b.trials.iter().map(TrialResult::accuracy).collect();
    v.extend([
        format!("Server shutdown: {}", secs(b.shutdown_secs)),
        format!("Final result: {}", if b.pass { PASS } else { FAIL }),
        format!("Accuracies: {}", py_list_repr(&acc)),
        format!(
            "Highest accuracy: {:.3} (Required: {:.3})",
            highest(b.trials),
            b.threshold
        ),
        format!("Total time: {}", secs(b.total_secs)),
        format!("End time: {}", b.end_time),
        RULE.to_owned(),
    ]);
    v
}

/// The rest of a start-up failure's block (after [`section_open`]): no `Final result`, no
/// closing rule.
pub fn startup_failed_lines(waited: f64, e: &StartupError) -> Vec<String> {
    let mut v = vec![format!("Server startup: FAILED after {}", secs(waited))];
    v.extend(e.summary_lines());
    v
}

/// A skipped model's lines (no empty line, no `===` header).
pub fn skipped_lines(model: &str, hardware: &str, reason: Option<&str>) -> Vec<String> {
    match reason {
        Some(r) => vec![
            format!("{model}: SKIPPED - {r}"),
            "  Note: Model/tokenizer files not available, not counted as failure".to_owned(),
            RULE.to_owned(),
        ],
        None => vec![
            format!("{model}: SKIPPED (no launch command for {hardware})"),
            RULE.to_owned(),
        ],
    }
}

/// Counts of the overall block: (tested, passed, failed, skipped).
pub fn counts(results: &[(String, ModelEnd)]) -> (usize, usize, usize, usize) {
    let skipped = results
        .iter()
        .filter(|(_, e)| *e == ModelEnd::Skipped)
        .count();
    let passed = results
        .iter()
        .filter(|(_, e)| *e == ModelEnd::Tested { pass: true })
        .count();
    let tested = results.len() - skipped;
    (tested, passed, tested - passed, skipped)
}

/// The `OVERALL SUMMARY` block.
pub fn overall_lines(o: &OverallBlock<'_>) -> Vec<String> {
    let n = o.results.len();
    let (tested, passed, failed, skipped) = counts(o.results);
    let mut v = vec![
        String::new(),
        "OVERALL SUMMARY".to_owned(),
        RULE.to_owned(),
        format!("End time: {}", o.end_time),
        format!(
            "Total execution time: {} ({:.1} minutes)",
            secs(o.total_secs),
            o.total_secs / 60.0
        ),
        // n > 0 always (an empty model list is refused before the run: Q-SAN-7).
        format!(
            "Average time per model: {}",
            secs(o.total_secs / n.max(1) as f64)
        ),
        format!("Models tested: {tested}/{n}"),
    ];
    if tested > 0 {
        v.push(format!("Models passed: {passed}/{tested}"));
        v.push(format!("Models failed: {failed}/{tested}"));
    } else {
        v.push("Models passed: 0 (no models tested)".to_owned());
        v.push("Models failed: 0 (no models tested)".to_owned());
    }
    v.push(format!("Models skipped: {skipped}/{n}"));
    for (m, e) in o.results {
        v.push(format!("  {m}: {}", overall_word(e)));
    }
    v
}

/// The console's final summary (§7.10), after `🎯 All tests completed!`.
pub fn console_final(total_secs: f64, log: &Path, results: &[(String, ModelEnd)]) -> Vec<String> {
    let n = results.len();
    let (tested, passed, _, skipped) = counts(results);
    let mut v = vec![
        String::new(),
        "🎯 All tests completed!".to_owned(),
        format!(
            "📊 Total execution time: {} ({:.1} minutes)",
            secs(total_secs),
            total_secs / 60.0
        ),
        format!("📝 Timing log saved to: {}", log.display()),
        String::new(),
        "=== Final Summary ===".to_owned(),
    ];
    for (m, e) in results {
        v.push(match e {
            ModelEnd::Tested { pass: true } => format!("✅ {m}: {PASS}"),
            ModelEnd::Tested { pass: false } | ModelEnd::StartupFailed(_) => {
                format!("❌ {m}: {FAIL}")
            }
            ModelEnd::Skipped => format!("⏭️ {m}: SKIPPED (model/tokenizer not available)"),
        });
    }
    v.push(String::new());
    if tested > 0 {
        v.push(format!(
            "📈 Overall: {passed}/{tested} models passed ({:.1}%)",
            passed as f64 / tested as f64 * 100.0
        ));
    } else {
        v.push(format!(
            "⚠️  No models were tested (all {n} models skipped)"
        ));
    }
    if skipped > 0 {
        v.push(format!(
            "⏭️  Skipped: {skipped}/{n} models (not counted in pass/fail statistics)"
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_parse::sanity::{self, ModelStatus, SectionOutcome};

    #[test]
    fn trial_lines_match_the_spec() {
        let t = |end, secs| TrialResult {
            number: 2,
            end,
            secs,
        };
        assert_eq!(
            t(
                TrialEnd::Accuracy {
                    accuracy: 0.515,
                    pass: false
                },
                81.08
            )
            .text(),
            "FAIL [X] (Accuracy: 0.515, Time: 81.08s)"
        );
        assert_eq!(
            t(TrialEnd::Timeout { limit: 600.0 }, 600.4).text(),
            "FAIL [X] (Benchmark timeout after 600s, Time: 600.40s)"
        );
        assert_eq!(
            t(TrialEnd::ServerDied, 0.0).text(),
            "FAILED - Server process died"
        );
    }

    #[test]
    fn a_whole_file_parses_back_to_what_was_written() {
        let models: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| (*s).into()).collect();
        let mut lines = header_lines(&Header {
            start_time: "2025-10-29 09:40:43 PDT",
            platform: "mi30x",
            models: &models,
            trials: 3,
            docker_image: None,
        });
        let trials = vec![
            TrialResult {
                number: 1,
                end: TrialEnd::Accuracy {
                    accuracy: 0.82,
                    pass: true,
                },
                secs: 1.0,
            },
            TrialResult {
                number: 2,
                end: TrialEnd::NoAccuracy {
                    log: "/x/A_mi30x_client_try2.log".into(),
                },
                secs: 2.0,
            },
        ];
        lines.extend(section_open("A", "mi30x", "t0"));
        lines.extend(tested_lines(&TestedBlock {
            model: "A",
            hardware: "mi30x",
            start_time: "t0",
            startup_secs: 3.0,
            trials: &trials,
            early_exit: Some((1, 2)),
            shutdown_secs: 0.5,
            pass: true,
            threshold: 0.8,
            total_secs: 7.0,
            end_time: "t1",
        }));
        lines.extend(section_open("B", "mi30x", "t1"));
        lines.extend(startup_failed_lines(
            300.02,
            &StartupError::OutOfMemory {
                mem_fraction_static: "0.85".into(),
            },
        ));
        lines.extend(section_open("C", "mi30x", "t2"));
        lines.extend(startup_failed_lines(1.0, &StartupError::Timeout));
        lines.extend(skipped_lines(
            "D",
            "mi30x",
            Some("Model path does not exist: /m"),
        ));
        let results = vec![
            ("A".to_owned(), ModelEnd::Tested { pass: true }),
            (
                "B".to_owned(),
                ModelEnd::StartupFailed(StartupError::Timeout),
            ),
            (
                "C".to_owned(),
                ModelEnd::StartupFailed(StartupError::Timeout),
            ),
            ("D".to_owned(), ModelEnd::Skipped),
        ];
        lines.extend(overall_lines(&OverallBlock {
            end_time: "t3",
            total_secs: 120.0,
            results: &results,
        }));
        let text = lines.join("\n") + "\n";
        let s = sanity::parse_summary(text.as_bytes());
        assert!(s.unrecognized.is_empty(), "{:?}\n{text}", s.unrecognized);
        assert_eq!(s.header.docker_image.as_deref(), Some("Not specified"));
        assert_eq!(s.sections.len(), 3);
        assert_eq!(s.sections[0].outcome(), SectionOutcome::Pass);
        assert_eq!(
            s.sections[0].accuracies.as_ref().unwrap().text,
            "[0.82, 0.0]"
        );
        assert_eq!(s.sections[1].outcome(), SectionOutcome::StartupFailed);
        assert!(s.sections[2].error.is_none());
        assert_eq!(s.skipped.len(), 1);
        let o = s.overall.unwrap();
        assert_eq!(o.tested, Some((3, 4)));
        assert_eq!(o.average_per_model.unwrap().value, 30.0);
        assert_eq!(
            o.per_model.iter().map(|(_, st)| *st).collect::<Vec<_>>(),
            [
                ModelStatus::Pass,
                ModelStatus::Fail,
                ModelStatus::Fail,
                ModelStatus::Skipped
            ]
        );
    }

    #[test]
    fn console_summary_lines() {
        let r = vec![
            ("A".to_owned(), ModelEnd::Tested { pass: true }),
            ("B".to_owned(), ModelEnd::Tested { pass: false }),
            ("C".to_owned(), ModelEnd::Skipped),
        ];
        let v = console_final(90.0, Path::new("/l/t.log"), &r);
        assert!(v.contains(&"📈 Overall: 1/2 models passed (50.0%)".to_owned()));
        assert!(
            v.contains(&"⏭️  Skipped: 1/3 models (not counted in pass/fail statistics)".to_owned())
        );
        assert!(v.contains(&"⏭️ C: SKIPPED (model/tokenizer not available)".to_owned()));
        let none = console_final(1.0, Path::new("/l"), &[("C".to_owned(), ModelEnd::Skipped)]);
        assert!(none.contains(&"⚠️  No models were tested (all 1 models skipped)".to_owned()));
    }
}
