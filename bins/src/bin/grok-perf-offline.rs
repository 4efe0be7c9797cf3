//! `grok-perf-offline`: the Grok offline benchmark (port of `scripts/grok_perf_offline_csv.sh`):
//! the GSM8K gate on the online run of the same image, then one `sglang.bench_one_batch` run
//! per grid point of the mode (`normal`, `long_context`, `dummy`), one CSV row per point, on
//! the real engine or the simulated one. See docs/grok-perf-offline.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::bench::run_grok_offline;
use sglang_runner::offline::config::GrokOfflineOptions;

/// Grok-1/Grok-2 offline benchmark: bench_one_batch over a grid of TP, batch size and input
/// length, one CSV row per point.
///
/// Exit status: 0 completed (also when the GSM8K gate skips the run), 1 setup error (invalid
/// mode or setting, missing work dir, model or program), 2 usage, 6 completed but some grid
/// points failed (NA rows) or produced no metrics, 130/143 interrupted.
#[derive(Debug, Parser)]
#[command(name = "grok-perf-offline", version = sglang_ci::VERSION)]
struct Cli {
    #[command(flatten)]
    args: GrokOfflineOptions,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("grok-perf-offline", || {
        let cli: Cli = sglang_ci::cli::parse();
        run_grok_offline(&cli.args)
    })
}
