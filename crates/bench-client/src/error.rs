//! Typed errors of the native clients; each message names the flag, file or URL involved and
//! says what to do.

use std::path::PathBuf;

/// Everything that stops a run before it can report results.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A flag value is invalid or flags contradict each other.
    #[error("{flag}: {message}")]
    Flag {
        /// The flag, spelled as on the command line.
        flag: &'static str,
        /// What is wrong and what to pass instead.
        message: String,
    },
    /// The server did not answer (connection refused, not ready in time, bad reply to a
    /// control call).
    #[error("server {url} is not usable: {message}")]
    Server {
        /// Base URL of the server.
        url: String,
        /// What went wrong and what to check.
        message: String,
    },
    /// No warm-up request succeeded (bench_serving aborts the same way).
    #[error("Warmup failed: none of the {count} warm-up request(s) to {url} succeeded: {reason}")]
    Warmup {
        /// Base URL of the server.
        url: String,
        /// Number of warm-up requests sent.
        count: usize,
        /// The first failure's reason.
        reason: String,
    },
    /// An input file could not be read or parsed.
    #[error("cannot read {path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A result file could not be written.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The tokio runtime could not be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl BenchError {
    /// A [`BenchError::Flag`] for `flag`.
    pub fn flag(flag: &'static str, message: impl Into<String>) -> Self {
        Self::Flag {
            flag,
            message: message.into(),
        }
    }
}

/// A result file that `report::atomic` could not write, as [`BenchError::Output`].
impl From<report::atomic::AtomicWriteError> for BenchError {
    fn from(e: report::atomic::AtomicWriteError) -> Self {
        use report::atomic::AtomicWriteError as W;
        match e {
            W::Io { path, source } => Self::Output { path, source },
            W::NoFolder { path, dir } => Self::Output {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("folder {} does not exist (create it first)", dir.display()),
                ),
            },
        }
    }
}
