//! `process-offline-plots`: port of `scripts/process_and_generate_offline_plots.py`.
//! Consolidates the offline result CSVs of the last N days into the offline summary CSV and
//! draws the two-panel trend plot. See docs/process-offline-plots.md.

use std::process::ExitCode;

use clap::Parser;
use report::history::offline::OfflineOptions;
use report::history::online::OnlineModel;
use report::history::today_pacific;
use sglang_ci::exit;
use sglang_ci::history_args::{HistoryArgs, history_fatal, stdout_sink};

/// Consolidate offline benchmark CSVs (bench_one_batch) of the last N days into a summary
/// CSV and draw the offline E2E latency / throughput trend plot.
///
/// Exit status: 0 done (also when no date is complete enough to plot), 1 no summary CSV could
/// be written or a file could not be read/written, 2 usage.
#[derive(Debug, Parser)]
#[command(name = "process-offline-plots", version, about, long_about)]
struct Args {
    #[command(flatten)]
    common: HistoryArgs,

    /// Input length written into every summary row.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    ilen: i64,

    /// Output length written into every summary row.
    #[arg(long, default_value_t = 128, value_name = "N")]
    olen: i64,
}

fn main() -> ExitCode {
    exit::run("process-offline-plots", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.common.verbose);
        let c = &args.common;
        let opts = OfflineOptions {
            model: OnlineModel::parse(&c.model).map_err(|e| history_fatal(&e))?,
            base_dir: c.base_dir.clone(),
            data_dir: c.data_dir.clone(),
            output_prefix: c.output_prefix.clone(),
            plot_dir: c.plot_dir.clone(),
            model_name: c.model_name.clone(),
            ilen: args.ilen,
            olen: args.olen,
            days: c.days,
            process_only: c.process_only,
            plot_only: c.plot_only,
            summary_csv: c.summary_csv.clone(),
            node_name: c.node_name(),
            summary_dir: c.summary_dir.clone(),
            legacy: c.legacy,
            format: c.plot_format()?,
            today: today_pacific(),
        };
        let cfg = opts.resolve().map_err(|e| history_fatal(&e))?;
        let mut say = stdout_sink();
        report::history::offline::run(&cfg, &mut say).map_err(|e| history_fatal(&e))?;
        Ok(ExitCode::SUCCESS)
    })
}
