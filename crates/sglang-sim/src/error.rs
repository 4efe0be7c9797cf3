//! Errors of the simulator: each says which file, flag or address failed and what to do.

use std::path::PathBuf;

/// A failure that stops a simulator subcommand.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be opened.
    #[error(
        "cannot listen on {addr}: {source} (is another server using the port? pick another with --port)"
    )]
    Bind {
        /// `host:port` as given.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A tokenizer file exists but cannot be loaded.
    #[error(
        "cannot load tokenizer {path}: {message} (pass a directory holding an HF tokenizer.json with --tokenizer-path, or omit it for the built-in byte-level count)"
    )]
    Tokenizer {
        /// The tokenizer.json that failed.
        path: PathBuf,
        /// What the tokenizer library said.
        message: String,
    },
    /// The GSM8K test set given with `--sim-gsm8k-data` cannot be read.
    #[error(
        "cannot read GSM8K data {path}: {message} (set --sim-gsm8k-data or SGLCI_SIM_GSM8K_DATA to a GSM8K test.jsonl)"
    )]
    Gsm8kData {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        message: String,
    },
    /// A flag value is out of range.
    #[error("invalid value for {flag}: {message}")]
    InvalidFlag {
        /// The flag, spelled as on the command line.
        flag: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A file the simulator writes (trace, result file) cannot be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Writing the console output failed (closed pipe).
    #[error("cannot write the console output: {0}")]
    Console(#[source] std::io::Error),
}
