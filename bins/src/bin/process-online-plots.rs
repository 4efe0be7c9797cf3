//! `process-online-plots`: port of `scripts/process_and_generate_online_plots.py`. Consolidates
//! the online run folders of the last N days into the summary CSV and draws the trend plot.
//! See docs/process-online-plots.md.

use std::process::ExitCode;

use clap::Parser;
use report::history::online::OnlineOptions;
use sglang_ci::history_args::{HistoryArgs, run_history};
use sglang_runner::flags::heading;

/// Consolidate online benchmark results (CSVs, GSM8K logs, server logs) of the last N days
/// into a summary CSV and draw the online trend plot.
///
/// Exit status: 0 done (also when no date is complete enough to plot), 1 no summary CSV could
/// be written (nothing complete in the window) or a file could not be read/written, 2 usage.
#[derive(Debug, Parser)]
#[command(name = "process-online-plots", version = sglang_ci::VERSION, infer_long_args = true)]
struct Args {
    #[command(flatten)]
    common: HistoryArgs,

    /// DeepSeek models: concurrency metric and concurrencies 1,4,16,64,128 (the defaults).
    #[arg(long, help_heading = heading::ORIGINAL)]
    enable_mtp_test: bool,

    /// Expected loads, comma-separated integers [default: grok 1,2,4,8,16; deepseek
    /// 1,4,16,64,128]. MI355 nightlies use 1,2,4,8.
    #[arg(long, value_name = "LIST", help_heading = heading::ORIGINAL)]
    request_rates: Option<String>,

    /// Draw the split layout (low/high loads, 3x3) instead of the single layout.
    #[arg(long, help_heading = heading::ORIGINAL)]
    split_request_rates: bool,

    /// Modes to keep: one mode, a comma list, or all/none/empty for every mode.
    #[arg(long, default_value = "aiter", value_name = "MODES", help_heading = heading::ORIGINAL)]
    mode_filter: String,

    /// Variants to keep: standard, mtp, dp, dp_mtp, a comma list, or all/none [default: all].
    #[arg(long, value_name = "VARIANTS", help_heading = heading::ORIGINAL)]
    variant_filter: Option<String>,

    /// Date in the plot file name (YYYYMMDD) [default: today, US Pacific].
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ORIGINAL)]
    plot_date: Option<String>,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    run_history(
        "process-online-plots",
        |a: &Args| &a.common,
        |a, common, say| {
            let cfg = OnlineOptions {
                common,
                enable_mtp_test: a.enable_mtp_test,
                request_rates: a.request_rates.clone(),
                split_request_rates: a.split_request_rates,
                mode_filter: Some(a.mode_filter.clone()),
                variant_filter: a.variant_filter.clone(),
                plot_date: a.plot_date.clone(),
            }
            .resolve()?;
            report::history::online::run(&cfg, say)
        },
    )
}
