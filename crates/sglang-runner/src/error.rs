//! Errors that stop a run before or outside the benchmark itself (bad settings, unusable
//! folders, missing programs). What happens *during* a benchmark (server died, GSM8K below
//! threshold, interrupted) is an [`crate::outcome::Outcome`], not an error.

use std::path::PathBuf;

use thiserror::Error;

use crate::exec::ExecError;

/// Why a run could not be set up or carried out; each message names the flag, variable,
/// file or program involved and what to do.
#[derive(Debug, Error)]
pub enum RunnerError {
    /// One or more settings are invalid (the DeepSeek script's validation, §5.5).
    #[error("found {} validation error(s): {}", .0.len(), .0.join("; "))]
    Validation(Vec<String>),
    /// A program the plan needs is not installed.
    #[error(
        "cannot find {0} next to this binary or on PATH; build it (`cargo build --bin {0}`) or install the toolkit's binaries together"
    )]
    ProgramNotFound(String),
    /// The chosen executor cannot run here.
    #[error("{0}")]
    ExecutorUnavailable(String),
    /// A file or folder could not be created, read or written.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// `create run folder`, `write timing summary`, …
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Starting or waiting for a process failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// An atomic result write failed.
    #[error(transparent)]
    Write(#[from] report::atomic::AtomicWriteError),
}

impl RunnerError {
    /// An [`RunnerError::Io`] for `path`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
