//! `deepseek-perf-offline`: the DeepSeek offline benchmark (port of
//! `scripts/deepseek_perf_offline_csv.sh`): optional model download, the GSM8K gate on the
//! online run of the same image, one `sglang.bench_one_batch` point (TP 8, batch 32, input
//! 128, output 32 by default) and its CSV row, on the real engine or the simulated one. See
//! docs/deepseek-perf-offline.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::bench::run_deepseek_offline;
use sglang_runner::offline::config::DeepSeekOfflineOptions;

/// DeepSeek offline benchmark: one bench_one_batch point, one CSV row.
///
/// Exit status: 0 completed (also when the GSM8K gate skips the run), 1 setup error (invalid
/// setting, missing work dir, model or program, failed --download-model), 2 usage, 6 the point
/// failed (NA row), 130/143 interrupted.
#[derive(Debug, Parser)]
#[command(name = "deepseek-perf-offline", version = sglang_ci::VERSION)]
struct Cli {
    #[command(flatten)]
    args: DeepSeekOfflineOptions,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("deepseek-perf-offline", || {
        let cli: Cli = sglang_ci::cli::parse();
        run_deepseek_offline(&cli.args)
    })
}
