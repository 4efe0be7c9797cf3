//! `process-online-plots`: port of `scripts/process_and_generate_online_plots.py`. Consolidates
//! the online run folders of the last N days into the summary CSV and draws the trend plot.
//! See docs/process-online-plots.md.

use std::process::ExitCode;

use clap::Parser;
use report::history::online::{OnlineModel, OnlineOptions};
use report::history::today_pacific;
use sglang_ci::exit;
use sglang_ci::history_args::{HistoryArgs, history_fatal, stdout_sink};

/// Consolidate online benchmark results (CSVs, GSM8K logs, server logs) of the last N days
/// into a summary CSV and draw the online trend plot.
///
/// Exit status: 0 done (also when no date is complete enough to plot), 1 no summary CSV could
/// be written (nothing complete in the window) or a file could not be read/written, 2 usage.
#[derive(Debug, Parser)]
#[command(name = "process-online-plots", version, about, long_about)]
struct Args {
    #[command(flatten)]
    common: HistoryArgs,

    /// DeepSeek models: concurrency metric and concurrencies 1,4,16,64,128 (the defaults).
    #[arg(long)]
    enable_mtp_test: bool,

    /// Expected loads, comma-separated integers [default: grok 1,2,4,8,16; deepseek
    /// 1,4,16,64,128]. MI355 nightlies use 1,2,4,8.
    #[arg(long, value_name = "LIST")]
    request_rates: Option<String>,

    /// Draw the split layout (low/high loads, 3x3) instead of the single layout.
    #[arg(long)]
    split_request_rates: bool,

    /// Modes to keep: one mode, a comma list, or all/none/empty for every mode.
    #[arg(long, default_value = "aiter", value_name = "MODES")]
    mode_filter: String,

    /// Variants to keep: standard, mtp, dp, dp_mtp, a comma list, or all/none [default: all].
    #[arg(long, value_name = "VARIANTS")]
    variant_filter: Option<String>,

    /// Date in the plot file name (YYYYMMDD) [default: today, US Pacific].
    #[arg(long, value_name = "YYYYMMDD")]
    plot_date: Option<String>,
}

fn main() -> ExitCode {
    exit::run("process-online-plots", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.common.verbose);
        let c = &args.common;
        let opts = OnlineOptions {
            model: OnlineModel::parse(&c.model).map_err(|e| history_fatal(&e))?,
            base_dir: c.base_dir.clone(),
            data_dir: c.data_dir.clone(),
            output_prefix: c.output_prefix.clone(),
            plot_dir: c.plot_dir.clone(),
            model_name: c.model_name.clone(),
            enable_mtp_test: args.enable_mtp_test,
            days: c.days,
            request_rates: args.request_rates.clone(),
            split_request_rates: args.split_request_rates,
            mode_filter: Some(args.mode_filter.clone()),
            variant_filter: args.variant_filter.clone(),
            process_only: c.process_only,
            plot_only: c.plot_only,
            summary_csv: c.summary_csv.clone(),
            plot_date: args.plot_date.clone(),
            node_name: c.node_name(),
            summary_dir: c.summary_dir.clone(),
            legacy: c.legacy,
            format: c.plot_format()?,
            today: today_pacific(),
        };
        let cfg = opts.resolve().map_err(|e| history_fatal(&e))?;
        let mut say = stdout_sink();
        report::history::online::run(&cfg, &mut say).map_err(|e| history_fatal(&e))?;
        Ok(ExitCode::SUCCESS)
    })
}
