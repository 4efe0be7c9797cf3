//! `sanity-check`: GSM8K accuracy across the sanity models (port of `test/sanity_check.py`):
//! per model a server, N GSM8K trials, the best-trial verdict, the timing summary in the
//! original's format, and the sanity Teams card. See docs/sanity-check.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_runner::config::ProcessEnv;
use sglang_runner::console::Console;
use sglang_runner::sanity::{self, SanityOptions};

/// GSM8K sanity check: for each model of the table (or --models), launch the server, run N
/// GSM8K trials, PASS when the best trial reaches the model's threshold; missing model files
/// are SKIPPED. Writes timing_summary_<stamp>.log, server and client logs in
/// <log dir>/<image tag>/.
///
/// Exit status: 0 the run completed (also when models failed: see the timing summary), 1 bad
/// value, log folder not writable, container failure; 2 command-line syntax; 130/143
/// interrupted.
#[derive(Debug, Parser)]
#[command(name = "sanity-check", version = sglang_ci::VERSION)]
struct Cli {
    #[command(flatten)]
    options: SanityOptions,

    /// Debug logging on stderr (also SGLCI_LOG / RUST_LOG).
    #[arg(short, long, help_heading = "Logging")]
    verbose: bool,
}

/// Entry point: parse, resolve, run, map the outcome to the exit status.
pub fn main() -> ExitCode {
    sglang_ci::exit::run("sanity-check", || {
        let cli: Cli = sglang_ci::cli::parse();
        sglang_ci::logging::init(cli.verbose);
        let fatal = |e: sanity::SanityError| Fatal::new(e.exit_code(), e);
        let cfg = sanity::config::resolve(&cli.options, &ProcessEnv).map_err(fatal)?;
        let interrupt = sglang_ci::sys::install_interrupt(sanity::EXIT_FAILURE)?;
        let mut console = Console::new(Box::new(std::io::stdout()));
        let exec = sanity::executor(&cfg, &mut |l| console.line(l)).map_err(fatal)?;
        sanity::run_and_notify(&cfg, exec.as_ref(), &mut console, &interrupt).map_err(fatal)?;
        Ok(ExitCode::from(sanity::EXIT_OK))
    })
}
