//! `process-offline-plots`: port of `scripts/process_and_generate_offline_plots.py`.
//! Consolidates the offline result CSVs of the last N days into the offline summary CSV and
//! draws the two-panel trend plot. See docs/process-offline-plots.md.

use std::process::ExitCode;

use clap::Parser;
use report::history::offline::OfflineOptions;
use sglang_ci::history_args::{HistoryArgs, run_history};
use sglang_runner::flags::heading;

/// Consolidate offline benchmark CSVs (bench_one_batch) of the last N days into a summary
/// CSV and draw the offline E2E latency / throughput trend plot.
///
/// Exit status: 0 done (also when no date is complete enough to plot), 1 no summary CSV could
/// be written or a file could not be read/written, 2 usage.
#[derive(Debug, Parser)]
#[command(name = "process-offline-plots", version = sglang_ci::VERSION, infer_long_args = true)]
struct Args {
    #[command(flatten)]
    common: HistoryArgs,

    /// Input length written into every summary row.
    #[arg(
        help_heading = heading::ORIGINAL,long, default_value_t = 1024, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i64).range(1..))]
    ilen: i64,

    /// Output length written into every summary row.
    #[arg(
        help_heading = heading::ORIGINAL,long, default_value_t = 128, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i64).range(1..))]
    olen: i64,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    run_history(
        "process-offline-plots",
        |a: &Args| &a.common,
        |a, common, say| {
            let cfg = OfflineOptions {
                common,
                ilen: a.ilen,
                olen: a.olen,
            }
            .resolve()?;
            report::history::offline::run(&cfg, say)
        },
    )
}
