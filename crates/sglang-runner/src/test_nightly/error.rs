//! Why a `test-nightly` run ends before its test ran, typed to the edge: each variant knows its
//! exit code; the `[test] ERROR: ` prefix is added only where a line is printed.

use thiserror::Error;

use super::config::UsageError;
use super::{EXIT_COULD_NOT_ASK, EXIT_FAILURE};

/// A run that ended early.
#[derive(Debug, Error)]
pub enum TestNightlyError {
    /// An invalid flag or environment value (the original's messages).
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The Docker daemon does not answer.
    #[error("Cannot access Docker daemon: {0}")]
    DockerUnavailable(String),
    /// Another live run of the same test type holds the lock.
    #[error("Another {test_type} test instance is already running (PID: {pid})")]
    LockHeld {
        /// `unit` / `pd`.
        test_type: &'static str,
        /// Its PID.
        pid: String,
    },
    /// The lock file could not be used.
    #[error("{0}")]
    Lock(String),
    /// SGLang processes run on the host.
    #[error("Cannot proceed with conflicting processes running.")]
    Conflicts,
    /// `TIME_ZONE` is not a zone.
    #[error(transparent)]
    TimeZone(#[from] docker_ctl::dates::BadZone),
    /// No image could be found and pulled.
    #[error("Could not find and pull any valid non-SRT images for {when}.")]
    NoImage {
        /// `date <d>` / `today or yesterday`.
        when: String,
    },
    /// Docker Hub could not be asked (the original took this for "not found").
    #[error(
        "Could not ask Docker Hub for the nightly images ({0}); the images may well exist: check the network or SGLCI_DOCKERHUB_URL and retry"
    )]
    CouldNotAsk(String),
    /// The repository does not exist.
    #[error("{0}")]
    NoRepository(String),
    /// The unit test's container could not be made ready.
    #[error("container {name}: {why}")]
    Container {
        /// The container.
        name: String,
        /// What failed.
        why: String,
    },
    /// The unit log could not be written.
    #[error("cannot write the unit test log {path}: {why}")]
    Log {
        /// The log.
        path: std::path::PathBuf,
        /// Cause.
        why: String,
    },
    /// `run-pd-docker` is not installed.
    #[error("PD test script not found: {0}")]
    PdMissing(String),
    /// SIGINT or SIGTERM ended the run.
    #[error("interrupted by {signal}")]
    Interrupted {
        /// `SIGINT` / `SIGTERM`.
        signal: String,
        /// 130 / 143.
        code: u8,
    },
}

impl TestNightlyError {
    /// The exit code of test-nightly (docs/test-nightly.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::CouldNotAsk(_) => EXIT_COULD_NOT_ASK,
            Self::Interrupted { code, .. } => *code,
            _ => EXIT_FAILURE,
        }
    }

    /// `[test] ERROR: <message>`.
    pub fn console_line(&self) -> String {
        format!("[test] ERROR: {self}")
    }
}
