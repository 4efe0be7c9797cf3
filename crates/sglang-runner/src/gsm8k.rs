//! The GSM8K gate (spec benchmarks.md §4.7, §5.8, §6.3, quirk K-4): N runs of the GSM8K
//! client, each run's accuracy (a missing one counts as 0), a running sum rounded to three
//! decimals, the average, the verdict against the threshold, in the original wording.
//!
//! Fixes: the log holds one attempt only — it is truncated when an attempt starts, for Grok
//! too (F-25: the Grok log was appended to forever, so a stale `meets threshold` line passed
//! later gates); the verdict is computed from this attempt's numbers, never grepped; and a
//! resume scan counts a log as complete only when its last attempt passed (F-16).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use metrics_parse::gsm8k::{BenchOutput, Gsm8kLog, recompute_average};

use crate::command::CommandSpec;
use crate::error::RunnerError;
use crate::server::Server;
use crate::session::{Halt, Session};
use crate::timefmt;

/// One GSM8K stage.
pub struct Gsm8kStage<'a> {
    /// The log file (truncated at the start).
    pub log: &'a Path,
    /// Number of runs.
    pub runs: u32,
    /// Grok's ` for mode aiter` clause (`Some("aiter")`); DeepSeek: `None`.
    pub mode: Option<&'a str>,
    /// Threshold as given (printed verbatim).
    pub threshold_text: &'a str,
    /// Threshold value.
    pub threshold: f64,
    /// The client command of one run.
    pub cmd: &'a CommandSpec,
    /// Time limit of one run.
    pub timeout: Duration,
}

/// What the stage found.
#[derive(Debug, Clone, PartialEq)]
pub struct Gsm8kResult {
    /// Each run's accuracy as used (`0.810`, or `0`).
    pub accuracies: Vec<String>,
    /// The average as printed (`0.808`).
    pub average: String,
    /// Average ≥ threshold.
    pub passed: bool,
    /// Whole seconds of the stage.
    pub duration_s: u64,
}

/// Runs the stage against `server`, writing the log and echoing it to the console.
pub fn run_stage(
    s: &mut Session<'_>,
    server: &mut Server,
    st: &Gsm8kStage<'_>,
) -> Result<Gsm8kResult, Halt> {
    let mut log =
        File::create(st.log).map_err(|e| RunnerError::io("create GSM8K log", st.log, e))?;
    let out = |s: &mut Session<'_>, log: &mut File, line: String| -> Result<(), Halt> {
        writeln!(log, "{line}").map_err(|e| RunnerError::io("write GSM8K log", st.log, e))?;
        s.say(line);
        Ok(())
    };
    let clause = st
        .mode
        .map(|m| format!(" for mode {m}"))
        .unwrap_or_default();
    out(
        s,
        &mut log,
        format!(
            "Starting GSM8K accuracy test at: {}",
            timefmt::human(&timefmt::now())
        ),
    )?;
    let stage_start = Instant::now();
    let mut values = Vec::new();
    let mut texts = Vec::new();
    for i in 1..=st.runs {
        let header = match st.mode {
            Some(_) => format!("Executing GSM8K test Run {i}{clause}..."),
            None => format!("Executing GSM8K test Run {i} ..."),
        };
        out(s, &mut log, header)?;
        s.console
            .progress("GSM8K", u64::from(i - 1), u64::from(st.runs));
        let run_start = Instant::now();
        // Capture this run's output to read its accuracy, and append it to the log.
        let mut captured = Vec::new();
        let end = {
            let mut tee = Tee {
                log: &mut log,
                buf: &mut captured,
            };
            s.run_client(st.cmd, server, &mut tee, true, st.timeout)
        };
        end?;
        out(
            s,
            &mut log,
            format!(
                "Run {i} completed in {} seconds",
                run_start.elapsed().as_secs()
            ),
        )?;
        let acc = BenchOutput::parse(&captured).accuracy;
        let text = match acc {
            Some(n) => {
                values.push(n.value);
                n.text
            }
            None => {
                out(
                    s,
                    &mut log,
                    format!("Run {i}: Accuracy not found, defaulting to 0"),
                )?;
                values.push(0.0);
                "0".to_owned()
            }
        };
        out(s, &mut log, format!("Run {i}: Accuracy: {text}"))?;
        texts.push(text);
    }
    s.console
        .progress("GSM8K", u64::from(st.runs), u64::from(st.runs));
    let duration_s = stage_start.elapsed().as_secs();
    let average = recompute_average(&values);
    let passed = average.parse::<f64>().is_ok_and(|a| a >= st.threshold);
    out(
        s,
        &mut log,
        format!("GSM8K test completed in {duration_s} seconds"),
    )?;
    out(
        s,
        &mut log,
        format!("Average Accuracy over {} runs{clause}: {average}", st.runs),
    )?;
    let verdict = match (passed, st.mode) {
        (true, Some(m)) => format!(
            "Average accuracy meets threshold ({}) for mode {m}. Continuing with this mode.",
            st.threshold_text
        ),
        (false, Some(m)) => format!(
            "Average accuracy ({average}) is below threshold ({}) for mode {m}. Skipping this mode.",
            st.threshold_text
        ),
        (true, None) => format!("Average accuracy meets threshold ({}).", st.threshold_text),
        (false, None) => format!(
            "Average accuracy ({average}) is below threshold ({}).",
            st.threshold_text
        ),
    };
    out(s, &mut log, verdict)?;
    Ok(Gsm8kResult {
        accuracies: texts,
        average,
        passed,
        duration_s,
    })
}

/// Writes to the log file and keeps a copy.
struct Tee<'a> {
    log: &'a mut File,
    buf: &'a mut Vec<u8>,
}

impl Write for Tee<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        self.log.write_all(b)?;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.log.flush()
    }
}

/// What the resume scan finds in a GSM8K log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogState {
    /// No file.
    Missing,
    /// An empty file.
    Empty,
    /// No final average and verdict for the configured run count (cut off).
    Incomplete,
    /// Final lines present; `passed` is the last attempt's verdict.
    Complete {
        /// The verdict says `meets threshold`.
        passed: bool,
        /// The average as logged.
        average: String,
    },
}

/// Reads a GSM8K log for the resume scan: complete when its **last** attempt has
/// `Average Accuracy over <runs> runs[ for mode <m>]:` and a verdict line.
pub fn log_state(path: &Path, runs: u32, mode: Option<&str>) -> LogState {
    let Ok(data) = std::fs::read(path) else {
        return LogState::Missing;
    };
    if data.iter().all(u8::is_ascii_whitespace) {
        return LogState::Empty;
    }
    let log = Gsm8kLog::parse(&data);
    let Some(last) = log.attempts.last() else {
        return LogState::Incomplete;
    };
    match (&last.average, &last.verdict) {
        (Some(avg), Some(v))
            if avg.runs == runs && !avg.valid_only && avg.mode.as_deref() == mode =>
        {
            LogState::Complete {
                passed: v.passed,
                average: avg.value.clone(),
            }
        }
        _ => LogState::Incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_states() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.log");
        assert_eq!(log_state(&p, 5, Some("aiter")), LogState::Missing);
        std::fs::write(&p, "\n").unwrap();
        assert_eq!(log_state(&p, 5, Some("aiter")), LogState::Empty);
        std::fs::write(
            &p,
            "Starting GSM8K accuracy test at: x\nExecuting GSM8K test Run 1 for mode aiter...\n",
        )
        .unwrap();
        assert_eq!(log_state(&p, 5, Some("aiter")), LogState::Incomplete);
        let done = "Starting GSM8K accuracy test at: x\nRun 1: Accuracy: 0.810\nGSM8K test completed in 9 seconds\nAverage Accuracy over 5 runs for mode aiter: 0.808\nAverage accuracy meets threshold (0.8) for mode aiter. Continuing with this mode.\n";
        std::fs::write(&p, done).unwrap();
        assert_eq!(
            log_state(&p, 5, Some("aiter")),
            LogState::Complete {
                passed: true,
                average: "0.808".into()
            }
        );
        assert_eq!(
            log_state(&p, 3, Some("aiter")),
            LogState::Incomplete,
            "other run count"
        );
        // A passing attempt followed by a failing one: the last verdict counts (F-25).
        let both = format!(
            "{done}Starting GSM8K accuracy test at: y\nAverage Accuracy over 5 runs for mode aiter: 0.000\nAverage accuracy (0.000) is below threshold (0.8) for mode aiter. Skipping this mode.\n"
        );
        std::fs::write(&p, both).unwrap();
        assert_eq!(
            log_state(&p, 5, Some("aiter")),
            LogState::Complete {
                passed: false,
                average: "0.000".into()
            }
        );
        std::fs::write(&p, "Starting GSM8K accuracy test at: x\nAverage Accuracy over 5 runs: 0.937\nAverage accuracy meets threshold (0.93).\n").unwrap();
        assert_eq!(
            log_state(&p, 5, None),
            LogState::Complete {
                passed: true,
                average: "0.937".into()
            }
        );
    }
}
