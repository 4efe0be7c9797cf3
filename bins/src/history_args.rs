//! Flags shared by `process-online-plots` and `process-offline-plots` (the original scripts'
//! common options plus the rewrite's `--node-name`, `--summary-dir`, `--legacy`, `--format`,
//! `--report-json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use report::history::{
    HistoryError, HistoryOptions, HistorySummary, OnlineModel, Outcome, PlotFormat, Say,
    today_pacific,
};
use sglang_runner::flags::heading;

use crate::exit::{self, Fatal};

/// Options both plot scripts share.
#[derive(Debug, Clone, clap::Args)]
pub struct HistoryArgs {
    /// Model: grok, grok2, deepseek or DeepSeek-V3.
    #[arg(
        short = 'm', long,
        help_heading = heading::ORIGINAL, default_value = "grok",
          value_parser = ["grok", "grok2", "deepseek", "DeepSeek-V3"])]
    pub model: String,

    /// Base directory for the default paths (the CI working tree: `online/`, `offline/`,
    /// `plots_server/` live below it).
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "DIR",
        env = "SGL_BENCHMARK_CI_DIR",
        default_value = "/mnt/raid/michael/sglang-ci"
    )]
    pub base_dir: PathBuf,

    /// Folder holding the run folders [default: <base>/online/<DIR> or <base>/offline/<DIR>].
    #[arg(long, value_name = "DIR", help_heading = heading::ORIGINAL)]
    pub data_dir: Option<PathBuf>,

    /// Summary file prefix [default: per model, e.g. GROK1_MOE-I4F8_online].
    #[arg(long, value_name = "PREFIX", help_heading = heading::ORIGINAL)]
    pub output_prefix: Option<String>,

    /// Plot folder [default: <base>/plots_server/<DIR>/<online|offline>]; a value not ending
    /// in `online`/`offline` gets `/<DIR>/<online|offline>` appended, as in the original.
    #[arg(long, value_name = "DIR", help_heading = heading::ORIGINAL)]
    pub plot_dir: Option<PathBuf>,

    /// Model name for plot titles; its first word names the plot file [default: per model].
    #[arg(long, value_name = "NAME", help_heading = heading::ORIGINAL)]
    pub model_name: Option<String>,

    /// Look-back window in days.
    #[arg(long, default_value_t = 30, value_name = "N", help_heading = heading::ORIGINAL)]
    pub days: u32,

    /// Only write the summary CSV; draw nothing.
    #[arg(long, conflicts_with = "plot_only", help_heading = heading::ORIGINAL)]
    pub process_only: bool,

    /// Only draw, from --summary-csv or the default summary path.
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub plot_only: bool,

    /// Summary CSV to plot with --plot-only.
    #[arg(long, value_name = "FILE", help_heading = heading::ORIGINAL)]
    pub summary_csv: Option<PathBuf>,

    /// Host name written into the summary (`node_name` column and file name) [default: this
    /// machine's host name].
    #[arg(long, value_name = "NAME", help_heading = heading::ADDITIONS)]
    pub node_name: Option<String>,

    /// Folder the summary CSV is written to (and read from with --plot-only) [default: the
    /// data dir, as the original], so read-only data can be processed.
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    pub summary_dir: Option<PathBuf>,

    /// Reproduce the original summary CSV byte for byte, quirks included (see the docs page
    /// for every difference).
    #[arg(long, help_heading = heading::ADDITIONS)]
    pub legacy: bool,

    /// Image format(s) of the plot: png, svg or both.
    #[arg(
        long,
        default_value = "png",
        value_parser = ["png", "svg", "both"],
        help_heading = heading::ADDITIONS,
    )]
    pub format: String,

    /// `--report-json`: the run's JSON summary (`-` is stdout; progress lines then go to stderr).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::ADDITIONS,
        help = "Write a JSON summary (summary CSV, rows, plots written, or the error) to FILE at \
                the end; `-` is stdout, and the progress lines then go to stderr"
    )]
    pub report_json: Option<PathBuf>,

    /// Log debug detail on stderr.
    #[arg(short, long, help_heading = heading::LOGGING)]
    pub verbose: bool,
}

impl HistoryArgs {
    /// `--format` as a [`PlotFormat`].
    pub fn plot_format(&self) -> Result<PlotFormat, Fatal> {
        PlotFormat::parse(&self.format).map_err(|e| history_fatal(&e))
    }

    /// `--node-name` or this machine's host name.
    pub fn node_name(&self) -> String {
        self.node_name.clone().unwrap_or_else(crate::sys::hostname)
    }

    /// The shared options, for today (US Pacific).
    pub fn options(&self) -> Result<HistoryOptions, Fatal> {
        Ok(HistoryOptions {
            model: OnlineModel::parse(&self.model).map_err(|e| history_fatal(&e))?,
            base_dir: self.base_dir.clone(),
            data_dir: self.data_dir.clone(),
            output_prefix: self.output_prefix.clone(),
            plot_dir: self.plot_dir.clone(),
            model_name: self.model_name.clone(),
            days: self.days,
            process_only: self.process_only,
            plot_only: self.plot_only,
            summary_csv: self.summary_csv.clone(),
            node_name: self.node_name(),
            summary_dir: self.summary_dir.clone(),
            legacy: self.legacy,
            format: self.plot_format()?,
            today: today_pacific(),
        })
    }
}

/// The body of both plot binaries: parses `A`, starts logging, builds the shared options
/// (`common` finds the shared flags in `A`) and hands them to `go` with a progress sink on
/// stdout. Every history error ends the binary as one line (exit 2 usage, 1 otherwise).
pub fn run_history<A: clap::Parser>(
    bin: &str,
    common: impl FnOnce(&A) -> &HistoryArgs,
    go: impl FnOnce(&A, HistoryOptions, Say<'_>) -> Result<Outcome, HistoryError>,
) -> ExitCode {
    exit::run(bin, || {
        let args: A = crate::cli::parse();
        let c = common(&args);
        crate::logging::init_in(c.verbose, crate::logging::LogClock::Pacific);
        let opts = c.options()?;
        let report_json = c.report_json.clone();
        let model = c.model.clone();
        let to_stdout = report_json.as_deref().is_some_and(|p| p.as_os_str() == "-");
        let result = go(&args, opts, &mut line_sink(to_stdout));
        if let Some(path) = &report_json {
            let summary = HistorySummary::of(&model, result.as_ref());
            let text = serde_json::to_string_pretty(&summary)
                .map_err(|e| Fatal::new(1, format!("cannot encode the report: {e}")))?;
            report::atomic::write_atomic(path, format!("{text}\n").as_bytes())
                .map_err(|e| Fatal::new(1, e))?;
        }
        result.map_err(|e| history_fatal(&e))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A history error as a one-line fatal error with its exit code (2 usage, 1 otherwise).
pub fn history_fatal(e: &HistoryError) -> Fatal {
    Fatal::from_error(e.exit_code(), e)
}

/// The progress sink the binaries use: each line on stdout (the orchestrator captures it into
/// `process_and_generate_*_plots.log`).
pub fn stdout_sink() -> impl FnMut(&str) {
    line_sink(false)
}

/// Each line on stdout, or on stderr when `to_stderr` (`--report-json -` keeps stdout for the
/// JSON).
fn line_sink(to_stderr: bool) -> impl FnMut(&str) {
    move |line: &str| {
        let _ = if to_stderr {
            writeln!(std::io::stderr().lock(), "{line}")
        } else {
            writeln!(std::io::stdout().lock(), "{line}")
        };
    }
}
