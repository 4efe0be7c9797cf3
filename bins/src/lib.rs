//! Shared glue of the sglang-ci binaries: flag spelling, logging set-up and exit codes.
//!
//! Every binary in `src/bin/` reads like a table of contents: parse flags with [`cli::parse`],
//! set up logging with [`logging::init`], call one library function, and turn its error into
//! one line on stderr plus an exit code with [`exit::run`].

/// `--version` of every binary: the package version and the git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SGLCI_GIT_COMMIT"),
    ")"
);

pub mod bench;
pub mod cli;
pub mod exit;
#[cfg(feature = "history")]
pub mod history_args;
pub mod logging;
pub mod output;
pub mod progress;
pub mod server_args;
pub mod sim_image_args;
pub mod sys;
pub mod teams_glue;
