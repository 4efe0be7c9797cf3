//! `perf-nightly`: the nightly orchestrator (port of `scripts/perf_nightly.sh`): image
//! discovery, GPU idle check, the `<repo>_<tag>` container, the benchmark plans of the
//! requested modes through the docker executor, post-processing, Teams, container stopped.
//! With `--engine=sim` and no `--docker_image` the whole night runs on this machine without
//! Docker. See docs/perf-nightly.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_runner::config::ProcessEnv;
use sglang_runner::console::Console;
use sglang_runner::flags::heading;
use sglang_runner::nightly::{self, NightlyError, config::NightlyOptions};

/// Nightly benchmark orchestrator: finds today's nightly image, checks the GPUs, runs the
/// online and/or offline benchmark in the image's container, post-processes and notifies.
///
/// Exit status: 0 the night ran (also when a benchmark, a download, a plot step or a
/// notification failed: see the log), 1 Docker unusable, invalid flag or value, lock held by a
/// live run, no image found, container failure; 3 Docker Hub could not be asked; 130/143
/// interrupted. --mode=sanity runs the sanity check (sanity-check) in this process.
#[derive(Debug, Parser)]
#[command(name = "perf-nightly", version = sglang_ci::VERSION)]
struct Args {
    /// The night's flags (sglang_runner::nightly::config::NightlyOptions).
    #[command(flatten)]
    options: NightlyOptions,

    /// `--report-json`: the night's JSON summary (`-` is stdout; console lines then go to stderr).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::ADDITIONS,
        help = "Write a JSON summary of the night (image, benchmarks with exit codes and run \
                folders, verdict, warnings) to FILE at the end; `-` is stdout, and the console \
                lines then go to stderr"
    )]
    report_json: Option<PathBuf>,

    /// Debug logging on stderr (also SGLCI_LOG / RUST_LOG).
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("perf-nightly", || {
        // The original exited 1 on an unknown argument; --help and --version exit 0 (and,
        // fix F-31, need no Docker).
        let args: Args = match sglang_ci::cli::try_parse_from(std::env::args_os()) {
            Ok(a) => a,
            Err(e) if e.use_stderr() => {
                let _ = e.print();
                return Ok(ExitCode::from(nightly::EXIT_FAILURE));
            }
            Err(e) => {
                let _ = e.print();
                return Ok(ExitCode::SUCCESS);
            }
        };
        sglang_ci::logging::init_in(args.verbose, sglang_ci::logging::LogClock::Pacific);
        let to_stdout = args
            .report_json
            .as_deref()
            .is_some_and(|p| p.as_os_str() == "-");
        let command_line = std::env::args().collect::<Vec<_>>().join(" ");
        let options = NightlyOptions {
            command_line,
            ..args.options
        };
        let today = sglang_runner::timefmt::now().format("%Y%m%d").to_string();
        let cfg = nightly::config::resolve(&options, &ProcessEnv, &today).map_err(|e| {
            let e = NightlyError::from(e);
            if to_stdout {
                eprintln_out(&e.console_line());
            } else {
                println_out(&e.console_line());
            }
            Fatal::new(e.exit_code(), e)
        })?;
        if cfg.dry_run {
            print_out(&nightly::describe(&cfg));
            return Ok(ExitCode::SUCCESS);
        }
        let interrupt = sglang_ci::sys::install_interrupt(nightly::EXIT_FAILURE)?;
        let mut console = if to_stdout {
            Console::new(Box::new(std::io::stderr()))
        } else {
            Console::new(Box::new(std::io::stdout()))
        };
        let report = nightly::run(&cfg, &mut console, &interrupt);
        drop(console);
        if let Some(path) = &args.report_json {
            let text = serde_json::to_string_pretty(&report.summary()).map_err(|e| {
                Fatal::new(
                    nightly::EXIT_FAILURE,
                    format!("cannot encode the report: {e}"),
                )
            })?;
            report::atomic::write_atomic(path, format!("{text}\n").as_bytes())
                .map_err(|e| Fatal::new(nightly::EXIT_FAILURE, e))?;
        }
        match report.error {
            Some(e) => Err(Fatal::new(e.exit_code(), e)),
            None => Ok(ExitCode::from(report.exit_code)),
        }
    })
}

#[allow(clippy::print_stdout)]
fn print_out(text: &str) {
    print!("{text}");
}

#[allow(clippy::print_stdout)]
fn println_out(text: &str) {
    println!("{text}");
}

#[allow(clippy::print_stderr)]
fn eprintln_out(text: &str) {
    eprintln!("{text}");
}
