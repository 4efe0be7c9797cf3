//! What can go wrong: starting the server ([`Error`]) and answering one request
//! ([`PageError`], each with its HTTP status).

use std::io;
use std::path::PathBuf;

use history_store::StoreError;

/// Why the dashboard could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding the socket failed (port in use, bad host): plots-server's message and hint.
    #[error(transparent)]
    Listen(#[from] plots_server::Error),
    /// The plots or base directory exists but is not a directory.
    #[error("{}: {reason}", path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The async runtime or the signal handlers could not be set up.
    #[error("cannot start the server runtime: {0}")]
    Runtime(io::Error),
}

/// Why one request got an error page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The store could not be opened or read.
    #[error("{0}")]
    Store(StoreError),
    /// Nothing by that name (unknown hardware, run, metric).
    #[error("{0}")]
    NotFound(String),
    /// A parameter is malformed or too long.
    #[error("{0}")]
    BadRequest(String),
    /// A bug or a lost worker.
    #[error("{0}")]
    Internal(String),
}

impl PageError {
    /// The HTTP status of the error page.
    pub fn status(&self) -> u16 {
        match self {
            Self::Store(_) => 503,
            Self::NotFound(_) => 404,
            Self::BadRequest(_) => 400,
            Self::Internal(_) => 500,
        }
    }
}
