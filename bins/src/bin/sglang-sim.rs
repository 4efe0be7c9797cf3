//! `sglang-sim`: the simulated SGLang engine (no GPU, no model): `launch-server`,
//! `bench-one-batch` and `router`, drop-in for `python3 -m sglang.launch_server`,
//! `python3 -m sglang.bench_one_batch` and `python3 -m sglang_router.launch_router`.
//! See docs/sglang-sim.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::{Fatal, run};
use sglang_runner::flags::heading;

/// Simulated SGLang engine: SGLang's HTTP API, server log and bench_one_batch output with
/// simulated latencies. Everything it prints says it is simulated.
#[derive(Debug, Parser)]
#[command(name = "sglang-sim", version = sglang_ci::VERSION)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    #[command(flatten)]
    Sim(sglang_sim::Command),
    /// Builds a Docker image (FROM scratch) holding sglang-sim and sglang-bench, a stand-in for
    /// rocm/sgl-dev with --engine=sim (docs/sglang-sim.md, "build-image").
    BuildImage(sglang_ci::sim_image_args::BuildImageArgs),
    /// Waits until SIGTERM/SIGINT, then exits 0: the default command of the build-image image
    /// (keeps a container running, as `tail -f /dev/null` does in the real image).
    KeepAlive,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    run("sglang-sim", || {
        let cli: Cli = sglang_ci::cli::parse_adjusted(with_headings);
        match cli.command {
            Command::Sim(c) => {
                let outcome = sglang_sim::run(c, Box::new(std::io::stdout()))
                    .map_err(|e| Fatal::from_error(1, &e))?;
                Ok(ExitCode::from(outcome.exit_code()))
            }
            Command::BuildImage(args) => sglang_ci::sim_image_args::build_image(&args),
            Command::KeepAlive => sglang_ci::sim_image_args::keep_alive(),
        }
    })
}

/// The subcommands standing in for SGLang's programs group their flags by one rule: the real
/// program's flags (spelled as SGLang spells them) under "Original flags", the simulator's own
/// `--sim-*` flags (latency model, trace, faults) under "Additions".
fn with_headings(cmd: clap::Command) -> clap::Command {
    ["launch-server", "bench-one-batch", "router"]
        .into_iter()
        .fold(cmd, |cmd, name| {
            cmd.mut_subcommand(name, |sub| {
                sub.mut_args(|a| {
                    let own = a.get_id().as_str().starts_with("sim_");
                    a.help_heading(if own {
                        heading::ADDITIONS
                    } else {
                        heading::ORIGINAL
                    })
                })
            })
        })
}
