//! Errors of history consolidation and plotting; each message names the file or flag and
//! says what to do.

use std::path::PathBuf;

use thiserror::Error;

/// Why consolidating or plotting history failed.
#[derive(Debug, Error)]
pub enum HistoryError {
    /// A flag value is invalid (exit 2, as the original's usage errors).
    #[error("{flag}: {message}")]
    Usage {
        /// The flag, as spelled on the command line.
        flag: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A folder or file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The folder or file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A result file could not be written.
    #[error("cannot write {path}: {message} (pass --summary-dir / --plot-dir to write elsewhere)")]
    Write {
        /// The file.
        path: PathBuf,
        /// Cause.
        message: String,
    },
    /// Nothing complete was found, so no summary CSV was written (the original's exit 1).
    #[error(
        "no summary CSV written: no {what} with complete and valid data in {data_dir} (check --days, --request-rates, --mode-filter and --variant-filter)"
    )]
    NoData {
        /// `date+variant combinations` / `offline records`.
        what: &'static str,
        /// The data directory that was scanned.
        data_dir: PathBuf,
    },
    /// `--plot-only` without a summary CSV to read.
    #[error("summary CSV not found: {path} (run without --plot-only first, or pass --summary-csv)")]
    SummaryMissing {
        /// The path looked for.
        path: PathBuf,
    },
    /// A summary CSV lacks a column the plot needs.
    #[error("summary CSV {path} has no column {column}: is it a summary written by this tool?")]
    SummaryColumn {
        /// The summary file.
        path: PathBuf,
        /// The missing column.
        column: String,
    },
    /// A data-frame operation failed.
    #[error("{what}: {source}")]
    Frame {
        /// What was being done, with the file involved.
        what: String,
        /// Cause.
        #[source]
        source: polars::error::PolarsError,
    },
    /// Drawing or encoding a plot failed.
    #[error("cannot draw {path}: {message}")]
    Plot {
        /// The image file.
        path: PathBuf,
        /// Cause.
        message: String,
    },
}

impl HistoryError {
    /// The exit status the binaries use: 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage { .. } => 2,
            _ => 1,
        }
    }

    pub(crate) fn frame(
        what: impl Into<String>,
    ) -> impl FnOnce(polars::error::PolarsError) -> Self {
        let what = what.into();
        move |source| Self::Frame { what, source }
    }
}
