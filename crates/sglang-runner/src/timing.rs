//! The timing summary `timing_summary_<YYYYMMDD_HHMMSS>.log` (spec benchmarks.md §7.8, §7.9,
//! quirk K-3): one new file per invocation, each line appended and flushed as it happens (a
//! killed run keeps everything written so far), every line masked (fix F-1: the `Command:`
//! line of the orchestrator carries the Teams webhook URL).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::DateTime;
use chrono_tz::Tz;
use metrics_parse::server_log::ErrorScan;

use crate::error::RunnerError;
use crate::timefmt;

/// An open timing summary.
pub struct TimingLog {
    path: PathBuf,
    file: File,
}

impl TimingLog {
    /// Creates (truncates) the file.
    pub fn create(path: &Path) -> Result<Self, RunnerError> {
        let file =
            File::create(path).map_err(|e| RunnerError::io("create timing summary", path, e))?;
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line (masked). A failing write is reported once on the tracing log and
    /// otherwise ignored: the benchmark goes on.
    pub fn line(&mut self, text: impl AsRef<str>) {
        let text = report::redact::redact(text.as_ref());
        if let Err(e) = writeln!(self.file, "{text}").and_then(|()| self.file.flush()) {
            tracing::warn!("cannot write {}: {e}", self.path.display());
        }
    }

    /// Appends an empty line.
    pub fn blank(&mut self) {
        self.line("");
    }

    /// The common start of both headers: title, start time, zone, optional
    /// `Command:`/`Hardware:`/`ROCM Version:`, image, model, host, mode.
    pub fn header_common(&mut self, h: &HeaderCommon<'_>) {
        self.line("TIMING SUMMARY LOG");
        self.line("==================");
        self.line(format!("Script started at: {}", timefmt::human(h.started)));
        self.line(format!("Timezone: {}", timefmt::zone_line(h.started)));
        if let Some(c) = h.command.filter(|s| !s.is_empty()) {
            self.line(format!("Command: {c}"));
        }
        if let Some(c) = h.hardware.filter(|s| !s.is_empty()) {
            self.line(format!("Hardware: {c}"));
        }
        if let Some(c) = h.rocm_version.filter(|s| !s.is_empty()) {
            self.line(format!("ROCM Version: {c}"));
        }
        self.line(format!("Docker image: {}", h.image));
        self.line(format!("Model: {}", h.model));
        self.line(format!("Hostname: {}", h.hostname));
        self.line("Mode: online");
    }

    /// `GSM8K Test Results:` block (v1 layout).
    pub fn gsm8k_block(&mut self, duration_s: u64, average: &str, runs: u32) {
        self.line("GSM8K Test Results:");
        self.line(format!("  Total duration: {duration_s} seconds"));
        self.line(format!("  Average accuracy: {average}"));
        self.line(format!("  Number of runs: {runs}"));
        self.line(format!("  GSM8K accuracy: {average}"));
    }

    /// `Server Error Check:` block (§4.10): counts, up to three `RuntimeError:` lines
    /// indented by four spaces, status, critical count.
    pub fn error_check(&mut self, scan: &ErrorScan) {
        self.line("Server Error Check:");
        self.line(format!(
            "  RuntimeError count: {}",
            scan.runtime_error_lines
        ));
        for l in &scan.first_runtime_errors {
            self.line(format!("    {l}"));
        }
        self.line(format!("  Server error status: {}", scan.status()));
        self.line(format!(
            "  Critical error count: {}",
            scan.critical_error_lines
        ));
    }

    /// The closing `OVERALL SCRIPT SUMMARY` block (40 `=`, integer minutes).
    pub fn overall(&mut self, ended: &DateTime<Tz>, total: Duration) {
        let s = timefmt::whole_seconds(total);
        let bar = "=".repeat(40);
        self.line(&bar);
        self.line("OVERALL SCRIPT SUMMARY");
        self.line(&bar);
        self.line(format!("Script ended at: {}", timefmt::human(ended)));
        self.line(format!(
            "Total execution time: {s} seconds ({} minutes)",
            s / 60
        ));
        self.line(&bar);
    }
}

/// The values of the common header.
pub struct HeaderCommon<'a> {
    /// Invocation start.
    pub started: &'a DateTime<Tz>,
    /// `--nightly-command`.
    pub command: Option<&'a str>,
    /// `--hardware`.
    pub hardware: Option<&'a str>,
    /// `--rocm-version`.
    pub rocm_version: Option<&'a str>,
    /// Image (for the simulated engine suffixed ` (simulated engine)`).
    pub image: &'a str,
    /// Model path.
    pub model: &'a str,
    /// Host name.
    pub hostname: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use metrics_parse::timing_summary::TimingSummary;

    #[test]
    fn header_and_blocks_parse_back_and_secrets_are_masked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("timing_summary_20251029_114542.log");
        let t = chrono_tz::America::Los_Angeles
            .with_ymd_and_hms(2025, 10, 29, 11, 45, 42)
            .unwrap();
        let mut log = TimingLog::create(&p).unwrap();
        log.header_common(&HeaderCommon {
            started: &t,
            command: Some(
                "perf_nightly.sh --teams-webhook-url=https://x.webhook.office.com/abc/sig=123",
            ),
            hardware: Some("mi30x"),
            rocm_version: None,
            image: "rocm/sgl-dev:v1-rocm630-mi30x-20251029",
            model: "/m",
            hostname: "h",
        });
        log.blank();
        log.gsm8k_block(5, "0.808", 5);
        log.blank();
        log.error_check(&ErrorScan {
            runtime_error_lines: 1,
            first_runtime_errors: vec!["RuntimeError: boom".into()],
            critical_error_lines: 0,
        });
        log.overall(&t, Duration::from_secs(5392));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("abc/sig=123"), "{text}");
        assert!(text.contains("Total execution time: 5392 seconds (89 minutes)"));
        assert!(text.contains("\n    RuntimeError: boom\n  Server error status: FAIL\n"));
        let s = TimingSummary::parse(text.as_bytes());
        assert!(s.complete());
        assert_eq!(s.last_gsm8k_accuracy(), Some("0.808"));
        assert_eq!(s.header.hardware.as_deref(), Some("mi30x"));
        assert_eq!(s.error_check.unwrap().runtime_error_count, Some(1));
    }
}
