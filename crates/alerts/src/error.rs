//! Why an alert could not be built or sent.

use std::path::PathBuf;

/// An alert failure; every message is one line, free of secrets.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// Neither the flag nor `TEAMS_WEBHOOK_URL` gave a webhook.
    #[error("Teams webhook URL not provided: set TEAMS_WEBHOOK_URL or use {flag}")]
    NoWebhook {
        /// The sender's webhook flag.
        flag: &'static str,
    },
    /// An input file or folder is missing or unreadable.
    #[error("{}: {reason}", path.display())]
    Input {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A flag value is wrong.
    #[error("{0}")]
    Usage(String),
    /// The card was not delivered.
    #[error(transparent)]
    Delivery(#[from] teams::DeliveryError),
    /// The archive file could not be written.
    #[error(transparent)]
    Archive(#[from] report::atomic::AtomicWriteError),
}

impl AlertError {
    /// An input error for `path`.
    pub fn input(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Input {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
