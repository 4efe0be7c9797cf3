//! Why a night ends before its benchmarks ran, typed to the edge: each variant knows its exit
//! code, and the `[nightly] ERROR: ` prefix of the console is added only where a line is
//! printed ([`NightlyError::console_line`]), never baked into the message.

use std::path::PathBuf;

use thiserror::Error;

use super::EXIT_FAILURE;
use super::config::UsageError;
use super::images::SelectError;

/// A night that ended early.
#[derive(Debug, Error)]
pub enum NightlyError {
    /// An invalid flag or environment value (the original's messages).
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The Docker daemon does not answer.
    #[error("Cannot access Docker daemon: {0}")]
    DockerUnavailable(String),
    /// The CI directory cannot be created.
    #[error(
        "cannot create the working directory {}: {source} (pass --work-dir or set BENCHMARK_CI_DIR)",
        path.display()
    )]
    WorkDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Another live run holds the lock.
    #[error("Another instance is already running (PID: {pid})")]
    LockHeld {
        /// Its PID.
        pid: String,
    },
    /// The lock file could not be used.
    #[error("{0}")]
    Lock(String),
    /// The image could not be found or obtained.
    #[error(transparent)]
    Images(#[from] SelectError),
    /// `TIME_ZONE` is not a zone.
    #[error(transparent)]
    TimeZone(#[from] docker_ctl::dates::BadZone),
    /// A container night without a Docker connection.
    #[error("no Docker connection for a container night")]
    NoDocker,
    /// No mode of the night could be planned for the image.
    #[error("cannot plan any benchmark for {image}: {why}")]
    NoPlan {
        /// The image.
        image: String,
        /// Why each mode could not be planned.
        why: String,
    },
    /// SIGINT or SIGTERM ended the night.
    #[error("interrupted by {signal}")]
    Interrupted {
        /// `SIGINT` / `SIGTERM`.
        signal: String,
        /// 130 / 143.
        code: u8,
    },
    /// The night's container could not be made ready.
    #[error("container {name}: {why}")]
    Container {
        /// The container.
        name: String,
        /// What failed.
        why: String,
    },
}

impl NightlyError {
    /// The exit code of perf-nightly (docs/perf-nightly.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Images(e) => e.exit_code(),
            Self::Interrupted { code, .. } => *code,
            _ => EXIT_FAILURE,
        }
    }

    /// The console line of this error: `[nightly] ERROR: <message>`.
    pub fn console_line(&self) -> String {
        format!("[nightly] ERROR: {self}")
    }
}
