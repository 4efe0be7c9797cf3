//! The offline GSM8K gate (spec benchmarks.md §2.6, quirk K-9): before benchmarking, look at
//! the GSM8K log the online benchmark of the same image left in its run folder.
//!
//! | situation | decision |
//! |---|---|
//! | no candidate log | proceed (first run or standalone execution) |
//! | the newest candidate's **last attempt** ends with `Average accuracy meets threshold` | proceed |
//! | anything else (a failing last verdict, a last attempt without verdict, an empty log) | skip, exit 0, nothing written |
//!
//! Fixes: the original passed when *any* line of *any* candidate said `meets threshold`, so a
//! stale pass from an earlier attempt in the appended Grok log let a later failed run through
//! (F-25); here only the last verdict of the last attempt counts. The online folder is found
//! with the online benchmark's own variant name (`FP8` for Grok-2; the original looked for
//! `MOE-I4F0` and never found it: F-14).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use metrics_parse::gsm8k::Gsm8kLog;
use serde::Serialize;

use crate::error::RunnerError;

/// Where the gate looks.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// The online run folder of the same image.
    pub online_folder: PathBuf,
    /// `<MODEL_NAME>` in the log names.
    pub model_name: String,
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum GateDecision {
    /// No GSM8K log: proceed.
    NoLogs,
    /// The last verdict passed: proceed.
    Passed {
        /// The log read.
        log: PathBuf,
        /// The verdict line.
        verdict: String,
    },
    /// Logs exist without a passing last verdict: skip.
    NotPassed {
        /// The log read.
        log: PathBuf,
        /// Why (the failing verdict line, or what is missing).
        why: String,
    },
}

impl GateDecision {
    /// True when the benchmark may run.
    pub fn proceeds(&self) -> bool {
        !matches!(self, Self::NotPassed { .. })
    }

    /// The console lines: the original's message, then what was read.
    pub fn messages(&self) -> Vec<String> {
        match self {
            Self::NoLogs => vec![
                "[csv] No GSM8K log files found. Proceeding with offline benchmark (assuming first run or standalone execution)."
                    .to_owned(),
            ],
            Self::Passed { log, verdict } => vec![
                "[csv] Found GSM8K success message in log file(s). Proceeding with offline benchmark."
                    .to_owned(),
                format!("[csv] GSM8K gate: last verdict in {}: {verdict}", log.display()),
            ],
            Self::NotPassed { log, why } => vec![
                "[csv] GSM8K log files found but accuracy threshold not met. Skipping offline benchmark."
                    .to_owned(),
                format!("[csv] GSM8K gate: {}: {why}", log.display()),
            ],
        }
    }
}

impl Gate {
    /// The candidate logs: `sglang_client_log_<M>_gsm8k_*.log` and
    /// `sglang_client_log_<M>_gsm8k.log`, in name order.
    pub fn candidates(&self) -> Result<Vec<PathBuf>, RunnerError> {
        let exact = format!("sglang_client_log_{}_gsm8k.log", self.model_name);
        let prefix = format!("sglang_client_log_{}_gsm8k_", self.model_name);
        let entries = match std::fs::read_dir(&self.online_folder) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(RunnerError::io(
                    "read online run folder",
                    &self.online_folder,
                    e,
                ));
            }
        };
        let mut out: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n == exact || (n.starts_with(&prefix) && n.ends_with(".log")))
            })
            .map(|e| e.path())
            .collect();
        out.sort();
        Ok(out)
    }

    /// Reads the candidates and decides. With several candidates the most recently modified
    /// one holds the latest attempt and is the one read.
    pub fn evaluate(&self) -> Result<GateDecision, RunnerError> {
        let candidates = self.candidates()?;
        let newest = candidates
            .iter()
            .map(|p| {
                let t = std::fs::metadata(p)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                (t, p)
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let Some((_, log)) = newest else {
            return Ok(GateDecision::NoLogs);
        };
        let data = std::fs::read(log).map_err(|e| RunnerError::io("read GSM8K log", log, e))?;
        Ok(decide(log, &data))
    }
}

fn decide(log: &Path, data: &[u8]) -> GateDecision {
    let parsed = Gsm8kLog::parse(data);
    let log = log.to_owned();
    let Some(last) = parsed.attempts.last() else {
        return GateDecision::NotPassed {
            log,
            why: "the log holds no GSM8K attempt".to_owned(),
        };
    };
    match &last.verdict {
        Some(v) if v.passed => GateDecision::Passed {
            log,
            verdict: v.line.clone(),
        },
        Some(v) => GateDecision::NotPassed {
            log,
            why: format!("last verdict: {}", v.line),
        },
        None => GateDecision::NotPassed {
            log,
            why: "the last GSM8K attempt has no verdict (cut off or still running)".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASS: &str = "Starting GSM8K accuracy test at: 2025-10-29 11:46:00 PDT\nRun 1: Accuracy: 0.810\nAverage Accuracy over 5 runs for mode aiter: 0.808\nAverage accuracy meets threshold (0.8) for mode aiter. Continuing with this mode.\n";
    const FAIL: &str = "Starting GSM8K accuracy test at: 2025-10-30 11:46:00 PDT\nRun 1: Accuracy not found, defaulting to 0\nRun 1: Accuracy: 0\nAverage Accuracy over 5 runs for mode aiter: 0.000\nAverage accuracy (0.000) is below threshold (0.8) for mode aiter. Skipping this mode.\n";

    fn gate(dir: &Path) -> Gate {
        Gate {
            online_folder: dir.join("online/GROK1/T_GROK1_MOE-I4F8_online"),
            model_name: "GROK1".into(),
        }
    }

    #[test]
    fn no_folder_or_no_log_proceeds() {
        let d = tempfile::tempdir().unwrap();
        let g = gate(d.path());
        assert_eq!(g.evaluate().unwrap(), GateDecision::NoLogs);
        std::fs::create_dir_all(&g.online_folder).unwrap();
        std::fs::write(
            g.online_folder
                .join("sglang_client_log_GROK1_aiter_1_run1_x.log"),
            PASS,
        )
        .unwrap();
        std::fs::write(
            g.online_folder
                .join("sglang_client_log_GROK2_gsm8k_aiter.log"),
            PASS,
        )
        .unwrap();
        assert_eq!(
            g.evaluate().unwrap(),
            GateDecision::NoLogs,
            "other logs are not candidates"
        );
        assert!(GateDecision::NoLogs.messages()[0].starts_with("[csv] No GSM8K log files found."));
    }

    #[test]
    fn last_verdict_of_last_attempt_counts() {
        let d = tempfile::tempdir().unwrap();
        let g = gate(d.path());
        std::fs::create_dir_all(&g.online_folder).unwrap();
        let log = g
            .online_folder
            .join("sglang_client_log_GROK1_gsm8k_aiter.log");
        std::fs::write(&log, PASS).unwrap();
        let dec = g.evaluate().unwrap();
        assert!(dec.proceeds(), "{dec:?}");
        // F-25: a pass followed by a failing attempt no longer passes.
        std::fs::write(&log, format!("{PASS}{FAIL}")).unwrap();
        let dec = g.evaluate().unwrap();
        assert!(!dec.proceeds());
        let m = dec.messages();
        assert!(m[0].contains("accuracy threshold not met. Skipping offline benchmark."));
        assert!(m[1].contains("is below threshold (0.8)"), "{m:?}");
        // A fail followed by a pass: the last one counts.
        std::fs::write(&log, format!("{FAIL}{PASS}")).unwrap();
        assert!(g.evaluate().unwrap().proceeds());
        // An attempt cut off before its verdict does not pass.
        std::fs::write(
            &log,
            format!("{PASS}Starting GSM8K accuracy test at: y\nRun 1: Accuracy: 0.9\n"),
        )
        .unwrap();
        assert!(!g.evaluate().unwrap().proceeds());
        std::fs::write(&log, "").unwrap();
        assert!(!g.evaluate().unwrap().proceeds());
    }

    #[test]
    fn deepseek_exact_name_is_a_candidate() {
        let d = tempfile::tempdir().unwrap();
        let g = Gate {
            online_folder: d.path().to_owned(),
            model_name: "DeepSeek-V3-0324".into(),
        };
        std::fs::write(
            d.path().join("sglang_client_log_DeepSeek-V3-0324_gsm8k.log"),
            "Starting GSM8K accuracy test at: x\nAverage Accuracy over 5 runs: 0.937\nAverage accuracy meets threshold (0.93).\n",
        )
        .unwrap();
        assert_eq!(g.candidates().unwrap().len(), 1);
        assert!(
            matches!(g.evaluate().unwrap(), GateDecision::Passed { verdict, .. } if verdict == "Average accuracy meets threshold (0.93).")
        );
    }
}
