//! `deepseek-perf-online`: the DeepSeek online benchmark and its variants (port of
//! `scripts/deepseek_perf_online_csv.sh`): standard or DP-attention server, optional torch
//! compile, GSM8K gate, `bench_serving` by concurrency, MTP artifacts. See
//! docs/deepseek-perf-online.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::bench::run_deepseek;
use sglang_runner::online::config::DeepSeekOptions;

/// DeepSeek online benchmark: server + GSM8K gate + bench_serving by concurrency, in the
/// standard, DP-attention, torch-compile, MTP-test and DP-test modes.
///
/// Exit status: 0 completed (or regenerated from complete logs), 1 setup error, 2 usage,
/// 3 server did not start, 4 GSM8K below threshold, 5 server died or hung during the
/// benchmark, 6 completed with failed runs or server RuntimeErrors, 130/143 interrupted.
#[derive(Debug, Parser)]
#[command(name = "deepseek-perf-online", version = sglang_ci::VERSION)]
struct Cli {
    #[command(flatten)]
    args: DeepSeekOptions,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("deepseek-perf-online", || {
        let cli: Cli = sglang_ci::cli::parse();
        run_deepseek(&cli.args)
    })
}
