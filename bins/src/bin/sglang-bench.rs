//! `sglang-bench`: native SGLang clients. `serving` is a drop-in for `python3 -m
//! sglang.bench_serving` (same flags, metrics and result block, plus extras and a verdict);
//! `gsm8k` is a drop-in for `python3 -m sglang.test.few_shot_gsm8k`. See docs/sglang-bench.md.
//!
//! Exit codes: 0 VALID; 1 fatal error (bad file, unwritable output); 2 usage error;
//! 3 INVALID (results printed, see the reasons); 4 server not reachable / not ready / warm-up
//! failed; 5 the run deadline (--run-timeout) expired (results printed, INVALID).

use std::io::Write;
use std::process::ExitCode;

use bench_client::BenchError;
use bench_client::gsm8k::{self, Gsm8kArgs};
use bench_client::serving::{self, ServingArgs};
use clap::{Parser, Subcommand};
use sglang_ci::exit::{Fatal, run};
use sglang_ci::progress::Bar;
use sglang_runner::flags::heading;

/// Native SGLang benchmark clients (serving load generator, few-shot GSM8K).
#[derive(Debug, Parser)]
#[command(
    name = "sglang-bench",
    version = sglang_ci::VERSION,
    infer_long_args = true,
    args_override_self = true
)]
struct Cli {
    /// Debug logging on stderr (env SGLCI_LOG overrides).
    #[arg(long, short, global = true, help_heading = heading::LOGGING)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serving benchmark with bench_serving's flags, metrics and result block.
    Serving(Box<ServingArgs>),
    /// Few-shot GSM8K accuracy with few_shot_gsm8k's flags and result lines.
    Gsm8k(Gsm8kArgs),
}

fn code_of(e: &BenchError) -> u8 {
    match e {
        BenchError::Flag { .. } => 2,
        BenchError::Server { .. } | BenchError::Warmup { .. } => 4,
        _ => 1,
    }
}

fn fatal(e: BenchError) -> Fatal {
    Fatal::from_error(code_of(&e), &e)
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    run("sglang-bench", || {
        let cli: Cli = sglang_ci::cli::parse();
        sglang_ci::logging::init(cli.verbose);
        let mut out = std::io::stdout();
        match cli.command {
            Command::Serving(args) => {
                let bar = Bar::on_terminal().filter(|_| !args.disable_tqdm);
                let report = serving::run_with_progress(&args, &mut out, &|done, total| {
                    if let Some(b) = &bar {
                        b.update("serving", done, total);
                    }
                });
                if let Some(b) = &bar {
                    b.finish();
                }
                let report = report.map_err(fatal)?;
                let _ = write!(out, "{}{}", report.block, report.extras_block);
                let _ = out.flush();
                serving::write_outputs(&args, &report).map_err(fatal)?;
                let x = &report.summary.sglang_bench;
                Ok(ExitCode::from(if x.run_timed_out {
                    5
                } else if report.is_valid() {
                    0
                } else {
                    3
                }))
            }
            Command::Gsm8k(args) => {
                let bar = Bar::on_terminal();
                let report = gsm8k::run_with_progress(&args, &|done, total| {
                    if let Some(b) = &bar {
                        b.update("GSM8K", done, total);
                    }
                });
                if let Some(b) = &bar {
                    b.finish();
                }
                let report = report.map_err(fatal)?;
                let _ = write!(out, "{}", report.text());
                let _ = out.flush();
                Ok(ExitCode::from(if report.verdict == "VALID" {
                    0
                } else {
                    3
                }))
            }
        }
    })
}
