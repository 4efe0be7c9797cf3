//! `query-history`: read-only questions to the history store from a terminal or a pipeline.
//! See docs/query-history.md.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use history_store::query::{self, Filters, Report};
use history_store::{Location, Store, StoreError};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status when the question is bad (not read-only, SQL error, missing --metric).
const BAD_QUERY: u8 = 4;
/// Exit status when the database cannot be opened or logged in to.
const DATABASE: u8 = 5;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Named {
    /// The latest night of each model (per host, hardware and mode).
    Latest,
    /// One metric at one load over the nights (--metric, --load).
    Series,
    /// Runs and nights on a fallback image.
    Fallback,
    /// Runs without a verdict.
    NoVerdict,
}

/// Ask the history store: a named report or your own read-only SQL.
///
/// Exit status: 0 answered; 2 bad flags; 4 bad question (a --sql that writes, an SQL error,
/// a series without --metric); 5 the database cannot be opened.
#[derive(Debug, Parser)]
#[command(name = "query-history", version = sglang_ci::VERSION)]
struct Args {
    /// A named report.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_enum,
        conflicts_with = "sql",
        required_unless_present = "sql"
    )]
    report: Option<Named>,

    /// One read-only SQL statement (SELECT / WITH); anything that writes is refused.
    #[arg(long, value_name = "SQL", help_heading = heading::ADDITIONS)]
    sql: Option<String>,

    /// Series: the metric (`ttft_median`, `e2e_median`, `itl_median`, `output_throughput`,
    /// …, or `gsm8k`).
    #[arg(long, help_heading = heading::ADDITIONS)]
    metric: Option<String>,

    /// Series: the load point (request rate or concurrency, e.g. `8`).
    #[arg(long, help_heading = heading::ADDITIONS)]
    load: Option<String>,

    /// Only this model (`GROK1`, `DeepSeek-V3-0324`).
    #[arg(long, help_heading = heading::ADDITIONS)]
    model: Option<String>,

    /// Only this hardware (`mi30x`, `mi35x`).
    #[arg(long, help_heading = heading::ADDITIONS)]
    hardware: Option<String>,

    /// Only this host.
    #[arg(long, help_heading = heading::ADDITIONS)]
    host: Option<String>,

    /// Only this mode (`online`, `online_dp_attention`, …).
    #[arg(long, help_heading = heading::ADDITIONS)]
    mode: Option<String>,

    /// Only images dated on or after (YYYY-MM-DD or YYYYMMDD).
    #[arg(long, help_heading = heading::ADDITIONS)]
    since: Option<String>,

    /// Only images dated on or before (YYYY-MM-DD or YYYYMMDD).
    #[arg(long, help_heading = heading::ADDITIONS)]
    until: Option<String>,

    /// Only the last N nights of the answer.
    #[arg(long, help_heading = heading::ADDITIONS)]
    days: Option<u32>,

    /// The store [default: $SGLCI_DB_URL, else <benchmark-dir>/database/ci_history.sqlite].
    #[arg(long, value_name = "URL", help_heading = heading::ADDITIONS)]
    db: Option<String>,

    /// Where the default SQLite file is [default: $SGL_BENCHMARK_CI_DIR, else .].
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    benchmark_dir: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text", help_heading = heading::ADDITIONS)]
    format: Format,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("query-history", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(false);
        run(&args)
    })
}

fn dashed(d: &Option<String>) -> Option<String> {
    d.as_ref().map(|s| match history_store::extract::ymd(s) {
        Some(iso) if s.len() == 8 => iso,
        _ => s.clone(),
    })
}

fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let base = args
        .benchmark_dir
        .clone()
        .or_else(|| std::env::var_os("SGL_BENCHMARK_CI_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let location = Location::resolve(args.db.as_deref(), &base)
        .map_err(|e| Fatal::from_error(DATABASE, &e))?;
    let mut store =
        Store::open_read_only(&location).map_err(|e| Fatal::from_error(DATABASE, &e))?;
    let query_fatal = |e: StoreError| Fatal::from_error(BAD_QUERY, &e);
    let rows = if let Some(sql) = &args.sql {
        store.query_read_only(sql).map_err(query_fatal)?
    } else {
        let report = match args.report {
            Some(Named::Latest) | None => Report::Latest,
            Some(Named::Fallback) => Report::Fallback,
            Some(Named::NoVerdict) => Report::NoVerdict,
            Some(Named::Series) => Report::Series {
                metric: args.metric.clone().ok_or_else(|| {
                    Fatal::new(
                        BAD_QUERY,
                        "--report series needs --metric (e.g. --metric ttft_median --load 8)",
                    )
                })?,
                load: args.load.clone(),
            },
        };
        let filters = Filters {
            model: args.model.clone(),
            hardware: args.hardware.clone(),
            host: args.host.clone(),
            mode: args.mode.clone(),
            since: dashed(&args.since),
            until: dashed(&args.until),
            days: args.days,
        };
        query::report(&mut store, &report, &filters).map_err(query_fatal)?
    };
    let format = match args.format {
        Format::Text => query::Format::Text,
        Format::Csv => query::Format::Csv,
        Format::Json => query::Format::Json,
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(query::render(&rows, format).as_bytes());
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}
