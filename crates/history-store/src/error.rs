//! What can go wrong, one enum per failure domain; every message names the file, the line or
//! the (masked) database URL involved, never a password.

use std::path::PathBuf;

use thiserror::Error;

/// Opening, migrating, writing or reading the store failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// `--db` / `SGLCI_DB_URL` is not a URL this store understands.
    #[error(
        "bad database URL {url}: {reason} (use a file path, sqlite:///PATH or postgres://USER@HOST/DB)"
    )]
    BadUrl {
        /// The URL with its password masked.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server refused the credentials.
    #[error("cannot log in to {url}: authentication failed (check the user and password)")]
    Auth {
        /// The URL with its password masked.
        url: String,
    },
    /// The database cannot be reached or opened.
    #[error("cannot open database {url}: {reason}")]
    Open {
        /// The URL (password masked) or the SQLite file.
        url: String,
        /// Cause, free of secrets.
        reason: String,
    },
    /// The SQLite file does not exist (read-only access never creates one).
    #[error("no history database at {0} (run ingest-history first, or pass --db / SGLCI_DB_URL)")]
    Missing(PathBuf),
    /// The database was written by a newer version of this store.
    #[error(
        "database {url} has schema version {found}, this program knows up to {known}: upgrade sglang-ci"
    )]
    TooNew {
        /// The URL (password masked) or the SQLite file.
        url: String,
        /// Version found.
        found: i64,
        /// Latest version known here.
        known: i64,
    },
    /// A statement failed.
    #[error("{context}: {reason}")]
    Sql {
        /// What was being done.
        context: String,
        /// The database's message.
        reason: String,
    },
    /// The user's `--sql` writes or is not one statement.
    #[error("--sql is read-only: {0}")]
    NotReadOnly(String),
    /// A named report needs an argument.
    #[error("{0}")]
    BadQuery(String),
}

/// Reading the tree to ingest failed as a whole (single unreadable files are reported as
/// skipped files instead, see [`crate::ingest::Skipped`]).
#[derive(Debug, Error)]
pub enum IngestError {
    /// The tree root cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The tree has none of the known areas.
    #[error(
        "{0} holds none of the areas ingest-history reads (online/, offline/, online_benchmark_log/, \
         cron/cron_log/, cron_log/, test/sanity_check_log/, test/pd/pd_log/, \
         test/unit-test-backend-8-gpu-CAR-amd/, plot/, plots_server/): pass the $SGL_BENCHMARK_CI_DIR \
         folder or a checkout of the log branch"
    )]
    NoAreas(PathBuf),
    /// `--date` is not YYYYMMDD.
    #[error("--date {0:?} is not a date in the form YYYYMMDD")]
    BadDate(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
