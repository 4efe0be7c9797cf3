//! The typed end of a run and its exit code (documented on the binaries' docs pages).
//!
//! | code | outcome |
//! |---|---|
//! | 0 | completed; or every log was already complete and the CSV was regenerated |
//! | 1 | setup error (a [`crate::RunnerError`]: invalid setting, folder, missing program, executor) |
//! | 2 | usage error (unknown flag; clap) |
//! | 3 | the server did not become ready (exited, timed out, fatal start-up error) |
//! | 4 | GSM8K average below the threshold (no serving benchmark ran) |
//! | 5 | the server died or stopped answering during GSM8K or the serving benchmark |
//! | 6 | completed, but some client runs produced no result or the server log has `RuntimeError` lines |
//! | 130 / 143 | interrupted by SIGINT / SIGTERM |

use std::path::PathBuf;

use serde::Serialize;

use crate::clock::Accounting;
use crate::signals::Interrupted;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every step ran and passed.
    Completed,
    /// Every log was already complete: nothing ran, the CSV was regenerated.
    Regenerated,
    /// The server did not become ready.
    ServerStartFailed {
        /// What happened.
        reason: String,
    },
    /// GSM8K average below the threshold.
    Gsm8kFailed {
        /// The average as logged (`0.512`).
        average: String,
        /// The threshold as given (`0.8`).
        threshold: String,
    },
    /// The server died or hung after it was ready.
    ServerLost {
        /// What happened, and during which step.
        reason: String,
    },
    /// All steps ran, but not everything produced a result or the server logged errors.
    CompletedWithErrors {
        /// Client runs without a result.
        failed_runs: u32,
        /// `RuntimeError:` lines in the server log.
        runtime_errors: u64,
    },
    /// SIGINT or SIGTERM.
    Interrupted {
        /// The signal number.
        signal: i32,
    },
}

impl Outcome {
    /// The process exit code of this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Completed | Self::Regenerated => 0,
            Self::ServerStartFailed { .. } => 3,
            Self::Gsm8kFailed { .. } => 4,
            Self::ServerLost { .. } => 5,
            Self::CompletedWithErrors { .. } => 6,
            Self::Interrupted { signal } => Interrupted { signal: *signal }.exit_code(),
        }
    }

    /// The outcome once the server log's `RuntimeError:` lines are counted: a completed run
    /// with any is completed with errors; one with errors already records their number.
    pub fn with_runtime_errors(self, runtime_errors: u64) -> Self {
        match self {
            Self::CompletedWithErrors { failed_runs, .. } => Self::CompletedWithErrors {
                failed_runs,
                runtime_errors,
            },
            Self::Completed if runtime_errors > 0 => Self::CompletedWithErrors {
                failed_runs: 0,
                runtime_errors,
            },
            other => other,
        }
    }

    /// One line for the console and the error message.
    pub fn message(&self) -> String {
        match self {
            Self::Completed => "benchmark completed".to_owned(),
            Self::Regenerated => {
                "all logs were already complete; the CSV was regenerated from them".to_owned()
            }
            Self::ServerStartFailed { reason } => format!("server did not start: {reason}"),
            Self::Gsm8kFailed { average, threshold } => format!(
                "GSM8K average accuracy {average} is below the threshold {threshold}; the serving benchmark was skipped"
            ),
            Self::ServerLost { reason } => format!("benchmark aborted: {reason}"),
            Self::CompletedWithErrors {
                failed_runs,
                runtime_errors,
            } => format!(
                "benchmark completed with errors: {failed_runs} client run(s) without a result, {runtime_errors} RuntimeError line(s) in the server log"
            ),
            Self::Interrupted { signal } => format!(
                "interrupted by {}; completed logs and the CSV so far are kept, a rerun resumes",
                Interrupted { signal: *signal }.name()
            ),
        }
    }
}

/// What a run leaves for its caller (and `--report-json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// How it ended.
    pub outcome: Outcome,
    /// The exit code of `outcome`.
    pub exit_code: u8,
    /// The run folder.
    pub run_folder: PathBuf,
    /// This invocation's timing summary.
    pub timing_summary: PathBuf,
    /// The result CSV, when one was written.
    pub csv: Option<PathBuf>,
    /// True for the simulated engine.
    pub simulated: bool,
    /// Where the wall time went.
    pub accounting: Accounting,
}

impl crate::benchmark::Report for RunReport {
    fn exit_code(&self) -> u8 {
        self.exit_code
    }

    fn message(&self) -> String {
        self.outcome.message()
    }

    fn run_folder(&self) -> Option<&std::path::Path> {
        Some(&self.run_folder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_per_kind() {
        let all = [
            Outcome::Completed,
            Outcome::ServerStartFailed { reason: "x".into() },
            Outcome::Gsm8kFailed {
                average: "0.5".into(),
                threshold: "0.8".into(),
            },
            Outcome::ServerLost { reason: "x".into() },
            Outcome::CompletedWithErrors {
                failed_runs: 1,
                runtime_errors: 0,
            },
            Outcome::Interrupted { signal: 2 },
            Outcome::Interrupted { signal: 15 },
        ];
        let codes: Vec<u8> = all.iter().map(Outcome::exit_code).collect();
        assert_eq!(codes, [0, 3, 4, 5, 6, 130, 143]);
        assert_eq!(Outcome::Regenerated.exit_code(), 0);
        assert!(all[3].message().starts_with("benchmark aborted"));
    }
}
