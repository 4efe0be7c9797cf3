//! `grok-perf-online`: the Grok online serving benchmark (port of
//! `scripts/grok_perf_online_csv.sh`): server, GSM8K gate, `bench_serving` at request rates
//! 1 2 4 8 16, best run per rate, the three-table CSV and the timing summary; on the real
//! engine or the simulated one. See docs/grok-perf-online.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::bench::run_grok;
use sglang_runner::online::config::GrokOptions;

/// Grok-1/Grok-2 online serving benchmark: server + GSM8K gate + bench_serving by request rate.
///
/// Exit status: 0 completed (or regenerated from complete logs), 1 setup error, 2 usage,
/// 3 server did not start, 4 GSM8K below threshold, 5 server died or hung during the
/// benchmark, 6 completed with failed runs or server RuntimeErrors, 130/143 interrupted.
#[derive(Debug, Parser)]
#[command(name = "grok-perf-online", version = sglang_ci::VERSION)]
struct Cli {
    #[command(flatten)]
    args: GrokOptions,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("grok-perf-online", || {
        let cli: Cli = sglang_ci::cli::parse();
        run_grok(&cli.args)
    })
}
