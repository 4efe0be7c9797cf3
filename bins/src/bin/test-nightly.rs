//! `test-nightly`: the nightly unit test and PD dispatcher (port of `test/test_nightly.sh`):
//! finds today's (else yesterday's) nightly image, checks the GPUs, runs the custom
//! all-reduce unit test in the image's container (with a time limit) or the PD test through
//! `run-pd-docker`, and sends the Teams card of the produced log. See docs/test-nightly.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_runner::config::ProcessEnv;
use sglang_runner::console::Console;
use sglang_runner::test_nightly::{self, TestNightlyError, config::TestNightlyOptions};

/// Nightly unit test and PD dispatcher: finds and pulls today's nightly image (yesterday's as
/// a fallback), checks the GPUs, runs the custom all-reduce unit test in the image's container
/// or the PD disaggregation test (run-pd-docker), writes the unit log and sends its Teams card.
///
/// Exit status: 0 the run reached its end (also when the test failed: the log and the card
/// say so; the cron line uploads the logs only after 0), 1 Docker unusable, invalid flag or
/// value, lock held by a live run, conflicting SGLang processes, no image found or pulled,
/// run-pd-docker missing, container failure; 3 Docker Hub could not be asked; 5 with --strict
/// when the test failed; 130/143 interrupted.
#[derive(Debug, Parser)]
#[command(name = "test-nightly", version = sglang_ci::VERSION)]
struct Args {
    /// The run's flags (sglang_runner::test_nightly::config::TestNightlyOptions).
    #[command(flatten)]
    options: TestNightlyOptions,

    /// Debug logging on stderr (also SGLCI_LOG / RUST_LOG).
    #[arg(short, long, help_heading = sglang_runner::flags::heading::LOGGING)]
    verbose: bool,
}

/// Entry point.
pub fn main() -> ExitCode {
    sglang_ci::exit::run("test-nightly", || {
        // The original exited 1 on an unknown argument; --help and --version exit 0 and
        // (fix Q-NT-1) need no Docker.
        let args: Args = match sglang_ci::cli::try_parse_from(std::env::args_os()) {
            Ok(a) => a,
            Err(e) if e.use_stderr() => {
                let _ = e.print();
                println_out("Use --help for usage information");
                return Ok(ExitCode::from(test_nightly::EXIT_FAILURE));
            }
            Err(e) => {
                let _ = e.print();
                return Ok(ExitCode::SUCCESS);
            }
        };
        sglang_ci::logging::init(args.verbose);
        let options = TestNightlyOptions {
            command_line: std::env::args().collect::<Vec<_>>().join(" "),
            ..args.options
        };
        let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
        let cfg = test_nightly::config::resolve(&options, &ProcessEnv, &cwd).map_err(|e| {
            let e = TestNightlyError::from(e);
            println_out(&e.console_line());
            Fatal::new(e.exit_code(), e)
        })?;
        let interrupt = sglang_ci::sys::install_interrupt(test_nightly::EXIT_FAILURE)?;
        let mut console = Console::new(Box::new(std::io::stdout()));
        let report = test_nightly::run(&cfg, &mut console, &interrupt);
        match report.error {
            Some(e) => Err(Fatal::new(e.exit_code(), e)),
            None => Ok(ExitCode::from(report.exit_code)),
        }
    })
}

#[allow(clippy::print_stdout)]
fn println_out(text: &str) {
    println!("{text}");
}
