//! `sglang-sim`: the simulated SGLang engine (no GPU, no model): `launch-server`,
//! `bench-one-batch` and `router`, drop-in for `python3 -m sglang.launch_server`,
//! `python3 -m sglang.bench_one_batch` and `python3 -m sglang_router.launch_router`.
//! See docs/sglang-sim.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::{Fatal, run};

/// Simulated SGLang engine: SGLang's HTTP API, server log and bench_one_batch output with
/// simulated latencies. Everything it prints says it is simulated.
#[derive(Debug, Parser)]
#[command(name = "sglang-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: sglang_sim::Command,
}

fn main() -> ExitCode {
    run("sglang-sim", || {
        let cli: Cli = sglang_ci::cli::parse();
        let outcome = sglang_sim::run(cli.command, Box::new(std::io::stdout()))
            .map_err(|e| Fatal::from_error(1, &e))?;
        Ok(ExitCode::from(outcome.exit_code()))
    })
}
