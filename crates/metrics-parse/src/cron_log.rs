//! Cron wrapper logs (`cron_log/<hw>/<YYYYMMDD>/*.log`, corpus README §1.5, §2.10) and the
//! console log of the online plot step (`process_and_generate_online_plots.log`).
//!
//! * [`classify`]: what kind of file it is — empty, the single line
//!   `bash: <script>: No such file or directory` (the job's script had moved), or normal
//!   output.
//! * [`daily_status`]: the status the daily summary derives from a cron log
//!   (`parse_cron_log_file`, spec reporting.md §7.5 / nightly.md §12.4), first rule wins.
//! * [`plots_outcome`]: whether the plot step finished (`=== COMPLETE ===`) or gave up
//!   (`ERROR: Failed to generate summary CSV. Exiting.`).

use memchr::memmem;

use crate::text;

/// What kind of cron log a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CronLogKind {
    /// No bytes, or only whitespace.
    Empty,
    /// A single line `bash: <script>: No such file or directory`: cron could not find the
    /// job's script.
    MissingScript {
        /// The script path as printed (`perf_nightly.sh`, `cron/system_cleanup.sh`).
        script: String,
    },
    /// Anything else: the job's own output.
    Normal,
}

/// Classifies a cron log.
pub fn classify(data: &[u8]) -> CronLogKind {
    let mut lines = text::lines(data)
        .map(text::clean)
        .filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else {
        return CronLogKind::Empty;
    };
    if lines.next().is_some() {
        return CronLogKind::Normal;
    }
    match first
        .trim()
        .strip_prefix("bash: ")
        .and_then(|r| r.strip_suffix(": No such file or directory"))
    {
        Some(script) if !script.is_empty() => CronLogKind::MissingScript {
            script: script.to_owned(),
        },
        _ => CronLogKind::Normal,
    }
}

/// Status the daily summary gives a job from its cron log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyStatus {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Could not tell.
    Unknown,
}

/// The daily summary's reading of one cron log (reporting.md §7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyClassification {
    /// The status.
    pub status: DailyStatus,
    /// The error line shown on the card: `Script not found` for a missing script, else for a
    /// rule-4 failure the first case-insensitive `Error:` / `FAILED (...)` / `RuntimeError:` /
    /// `bash:` match (stripped, cut to 100 characters + `...`).
    pub error: Option<String>,
    /// Whole minutes of `Total execution time: N seconds (M minutes)`.
    pub runtime_minutes: Option<u64>,
}

fn contains(hay: &str, needle: &str) -> bool {
    memmem::find(hay.as_bytes(), needle.as_bytes()).is_some()
}

/// The daily summary's classification of a cron log, the original's substring rules in order
/// (the first that applies decides):
/// 1. `bash:` and `No such file or directory` → fail, `Script not found`;
/// 2. `Result: PASSED` or `Models passed:` → pass;
/// 3. `Overall:` and `models passed (100` → pass;
/// 4. `Result: FAILED` or `FAIL` → fail (with an error line when one matches);
/// 5. `Total execution time:` or `✅` → pass;
/// 6. otherwise unknown.
pub fn daily_status(data: &[u8]) -> DailyClassification {
    let owned;
    let text: &str = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(_) => {
            owned = String::from_utf8_lossy(data).into_owned();
            &owned
        }
    };
    let runtime_minutes = runtime_minutes(text);
    let (status, error) = if contains(text, "bash:") && contains(text, "No such file or directory")
    {
        (DailyStatus::Fail, Some("Script not found".to_owned()))
    } else if contains(text, "Result: PASSED")
        || contains(text, "Models passed:")
        || (contains(text, "Overall:") && contains(text, "models passed (100"))
    {
        // Rules 2 and 3.
        (DailyStatus::Pass, None)
    } else if contains(text, "Result: FAILED") || contains(text, "FAIL") {
        (DailyStatus::Fail, error_line(text))
    } else if contains(text, "Total execution time:") || contains(text, "✅") {
        (DailyStatus::Pass, None)
    } else {
        (DailyStatus::Unknown, None)
    };
    DailyClassification {
        status,
        error,
        runtime_minutes,
    }
}

/// `Total execution time: N seconds (M minutes)` → int(M).
fn runtime_minutes(text: &str) -> Option<u64> {
    let at = text.find("Total execution time:")?;
    let rest = text[at + "Total execution time:".len()..].trim_start();
    let (_, after) = rest.split_once(" seconds (")?;
    let m = text::leading_number(after)?;
    after[m.len()..].strip_prefix(" minutes")?;
    m.split('.').next()?.parse().ok()
}

/// First case-insensitive match of `Error:` + rest of line, `FAILED (` … `)`,
/// `RuntimeError:` + rest of line, `bash:` + rest of line, in that order of patterns.
fn error_line(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let rest_of_line = |at: usize| -> &str {
        let s = &text[at..];
        s.split(['\n', '\r']).next().unwrap_or(s)
    };
    let found = if let Some(at) = lower.find("error:") {
        Some(rest_of_line(at + "error:".len()).to_owned())
    } else if let Some(at) = lower.find("failed (") {
        let s = &text[at + "failed (".len()..];
        s.find(')').map(|end| s[..end].to_owned())
    } else if let Some(at) = lower.find("runtimeerror:") {
        Some(rest_of_line(at + "runtimeerror:".len()).to_owned())
    } else {
        lower
            .find("bash:")
            .map(|at| rest_of_line(at + "bash:".len()).to_owned())
    }?;
    let found = found.trim();
    Some(if found.chars().count() > 100 {
        format!("{}...", found.chars().take(100).collect::<String>())
    } else {
        found.to_owned()
    })
}

/// How `process_and_generate_online_plots.log` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotsOutcome {
    /// `=== COMPLETE ===` (summary CSV and plots written).
    Complete,
    /// `ERROR: Failed to generate summary CSV. Exiting.` (no data in the window).
    SummaryCsvFailed,
    /// Neither line: the step was cut short (or the file is empty).
    Unfinished,
}

/// Reads the outcome of the online plot step from its console log.
pub fn plots_outcome(data: &[u8]) -> PlotsOutcome {
    let mut out = PlotsOutcome::Unfinished;
    for line in text::lines(data) {
        match text::clean(line).trim() {
            "=== COMPLETE ===" => out = PlotsOutcome::Complete,
            "ERROR: Failed to generate summary CSV. Exiting." => {
                out = PlotsOutcome::SummaryCsvFailed;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MISSING: &[u8] = include_bytes!("../../../fixtures/cron_log/missing_script.log");
    const NORMAL: &[u8] = include_bytes!("../../../fixtures/cron_log/unit_test_failed.log");
    const PLOTS_OK: &[u8] = include_bytes!("../../../fixtures/cron_log/plots_complete.log");
    const PLOTS_ERR: &[u8] = include_bytes!("../../../fixtures/cron_log/plots_no_data.log");

    #[test]
    fn kinds() {
        assert_eq!(classify(b""), CronLogKind::Empty);
        assert_eq!(classify(b"\n \r\n"), CronLogKind::Empty);
        assert_eq!(
            classify(MISSING),
            CronLogKind::MissingScript {
                script: "scripts/perf_nightly.sh".into()
            }
        );
        assert_eq!(classify(NORMAL), CronLogKind::Normal);
        // The missing-script line inside longer output is normal output.
        assert_eq!(
            classify(b"start\nbash: x.sh: No such file or directory\n"),
            CronLogKind::Normal
        );
    }

    #[test]
    fn daily_summary_rules() {
        let m = daily_status(MISSING);
        assert_eq!(m.status, DailyStatus::Fail);
        assert_eq!(m.error.as_deref(), Some("Script not found"));
        let n = daily_status(NORMAL);
        assert_eq!(n.status, DailyStatus::Fail);
        assert_eq!(
            n.error.as_deref(),
            Some("Health check failed after 60 attempts")
        );
        assert_eq!(n.runtime_minutes, Some(12));
        let ok = daily_status("[nightly] done\n✅ Successfully sent alert\n".as_bytes());
        assert_eq!(ok.status, DailyStatus::Pass);
        assert_eq!(daily_status(b"").status, DailyStatus::Unknown);
        assert_eq!(
            daily_status("📈 Overall: 7/7 models passed (100.0%)\nFAIL [X]".as_bytes()).status,
            DailyStatus::Pass
        );
        let long = format!("FAIL\nError: {}\n", "x".repeat(150));
        assert_eq!(
            daily_status(long.as_bytes()).error.map(|e| e.len()),
            Some(103)
        );
    }

    #[test]
    fn plot_step_outcomes() {
        assert_eq!(plots_outcome(PLOTS_OK), PlotsOutcome::Complete);
        assert_eq!(plots_outcome(PLOTS_ERR), PlotsOutcome::SummaryCsvFailed);
        assert_eq!(plots_outcome(&PLOTS_OK[..20]), PlotsOutcome::Unfinished);
        assert_eq!(plots_outcome(b""), PlotsOutcome::Unfinished);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let k = classify(&data);
            let d = daily_status(&data);
            if k != CronLogKind::Normal && k != CronLogKind::Empty {
                prop_assert_eq!(d.status, DailyStatus::Fail);
            }
            if let Some(e) = d.error { prop_assert!(e.chars().count() <= 103); }
            let _ = plots_outcome(&data);
        }
    }
}
