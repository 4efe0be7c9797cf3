//! `regression-report`: every regression verdict over the run-folder history of a benchmark
//! dir, one line each. See docs/regression-report.md and docs/regression-rules.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use report::regression::{self, Date, Format, Metric, Query, Rule, VerdictKind, render};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status for bad flags, an unreadable dir or a dir without run folders.
const BAD_INPUT: u8 = 2;
/// Exit status with --fail-on-regression when a regression was found.
const REGRESSION_FOUND: u8 = 1;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RuleName {
    /// The original's: newest night vs the latest earlier night within --window-days, worse
    /// by more than --threshold-pct.
    Legacy,
    /// Noise-aware: median of the last --nights valid nights, band max(--floor-pct, --k x
    /// MAD); two nights outside the band or one beyond --hard-pct.
    Robust,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatName {
    /// Aligned columns with a header line.
    Text,
    /// One JSON object per line.
    Json,
    /// CSV with a header line.
    Csv,
}

/// Judge every series (hardware, model, variant, metric, load point) of the run folders below
/// a benchmark dir and print one line per verdict: regression, suspicious, improved, no change
/// or insufficient history, with its baseline, band and the values judged.
///
/// Exit status: 0 done, 1 --fail-on-regression and a regression was found, 2 bad flags, an
/// unreadable --benchmark-dir or one without run folders.
#[derive(Debug, Parser)]
#[command(name = "regression-report", version = sglang_ci::VERSION)]
struct Args {
    /// Benchmark dir: holds online/<MODEL>/<run folder>/ (also the corpus layout
    /// online_benchmark_log/<hw>/<MODEL>/<run folder>/; run folders are found up to five
    /// levels down).
    #[arg(
        long,
        value_name = "DIR",
        env = "SGL_BENCHMARK_CI_DIR",
        help_heading = heading::ADDITIONS,
    )]
    benchmark_dir: PathBuf,

    /// Which rule judges the nights.
    #[arg(long, value_enum, default_value = "robust", help_heading = heading::ADDITIONS)]
    rule: RuleName,

    /// Output format.
    #[arg(long, value_enum, default_value = "text", help_heading = heading::ADDITIONS)]
    format: FormatName,

    /// Only these models (folder model names, case-insensitive; comma-separated or repeated).
    #[arg(long, value_name = "NAME", value_delimiter = ',', help_heading = heading::ADDITIONS)]
    model: Vec<String>,

    /// Only these hardware names (mi30x, mi35x; comma-separated or repeated).
    #[arg(long, value_name = "HW", value_delimiter = ',', help_heading = heading::ADDITIONS)]
    hardware: Vec<String>,

    /// Only these metrics: e2e_ms, ttft_ms, itl_ms, output_throughput, gsm8k_accuracy.
    #[arg(
        long,
        value_name = "METRIC",
        value_delimiter = ',',
        value_parser = parse_metric,
        help_heading = heading::ADDITIONS,
    )]
    metric: Vec<Metric>,

    /// Only verdicts for nights on or after this image date (YYYYMMDD).
    #[arg(
        long,
        value_name = "YYYYMMDD",
        value_parser = parse_date,
        help_heading = heading::ADDITIONS,
    )]
    since: Option<Date>,

    /// A verdict for every night of every series (what the card would have said that night),
    /// not only for the newest night.
    #[arg(long, help_heading = heading::ADDITIONS)]
    every_night: bool,

    /// Print only verdicts of these kinds: regression, suspicious, improved, no_change,
    /// insufficient_history (comma-separated). The counts on stderr still cover all.
    #[arg(
        long,
        value_name = "KIND",
        value_delimiter = ',',
        value_parser = parse_kind,
        help_heading = heading::ADDITIONS,
    )]
    only: Vec<VerdictKind>,

    /// Exit 1 when any verdict is a regression (for CI pipelines).
    #[arg(long, help_heading = heading::ADDITIONS)]
    fail_on_regression: bool,

    /// robust: baseline nights required [default: 5].
    #[arg(long, value_name = "N", help_heading = heading::ADDITIONS)]
    nights: Option<usize>,

    /// robust: narrowest band in percent [default: 5].
    #[arg(long, value_name = "PCT", help_heading = heading::ADDITIONS)]
    floor_pct: Option<f64>,

    /// robust: band width in scaled MADs [default: 3].
    #[arg(long, value_name = "K", help_heading = heading::ADDITIONS)]
    k: Option<f64>,

    /// robust: narrowest hard band in percent (one night beyond it is a regression)
    /// [default: 25].
    #[arg(long, value_name = "PCT", help_heading = heading::ADDITIONS)]
    hard_pct: Option<f64>,

    /// legacy: look-back window in days [default: 7].
    #[arg(long, value_name = "DAYS", help_heading = heading::ADDITIONS)]
    window_days: Option<u32>,

    /// legacy: threshold in percent [default: 5].
    #[arg(long, value_name = "PCT", help_heading = heading::ADDITIONS)]
    threshold_pct: Option<f64>,

    /// Also list, on stderr, every folder or file that gave no nights and why.
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

fn parse_metric(s: &str) -> Result<Metric, String> {
    Metric::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        format!("unknown metric `{s}` (one of {})", names.join(", "))
    })
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("`{s}` is not a date YYYYMMDD"))
}

fn parse_kind(s: &str) -> Result<VerdictKind, String> {
    VerdictKind::parse(s).ok_or_else(|| {
        format!(
            "unknown verdict `{s}` (one of regression, suspicious, improved, no_change, insufficient_history)"
        )
    })
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("regression-report", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.verbose);
        run(&args)
    })
}

fn positive(flag: &str, v: f64) -> Result<f64, Fatal> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Fatal::new(
            BAD_INPUT,
            format!("{flag} must be a number >= 0, got {v}"),
        ))
    }
}

/// The rule with its tuning flags; a flag of the other rule is an error.
fn rule(args: &Args) -> Result<Rule, Fatal> {
    let other = |flag: &str, rule: &str| {
        Fatal::new(BAD_INPUT, format!("{flag} applies to --rule {rule} only"))
    };
    match args.rule {
        RuleName::Legacy => {
            for (set, flag) in [
                (args.nights.is_some(), "--nights"),
                (args.floor_pct.is_some(), "--floor-pct"),
                (args.k.is_some(), "--k"),
                (args.hard_pct.is_some(), "--hard-pct"),
            ] {
                if set {
                    return Err(other(flag, "robust"));
                }
            }
            Ok(Rule::Legacy {
                window_days: args.window_days.unwrap_or(regression::DEFAULT_WINDOW_DAYS),
                threshold_pct: positive(
                    "--threshold-pct",
                    args.threshold_pct
                        .unwrap_or(regression::DEFAULT_THRESHOLD_PCT),
                )?,
            })
        }
        RuleName::Robust => {
            if args.window_days.is_some() {
                return Err(other("--window-days", "legacy"));
            }
            if args.threshold_pct.is_some() {
                return Err(other("--threshold-pct", "legacy"));
            }
            let n = args.nights.unwrap_or(regression::DEFAULT_NIGHTS);
            if n == 0 {
                return Err(Fatal::new(BAD_INPUT, "--nights must be at least 1"));
            }
            Ok(Rule::Robust {
                n,
                floor_pct: positive(
                    "--floor-pct",
                    args.floor_pct.unwrap_or(regression::DEFAULT_FLOOR_PCT),
                )?,
                k: positive("--k", args.k.unwrap_or(regression::DEFAULT_K))?,
                hard_pct: positive(
                    "--hard-pct",
                    args.hard_pct.unwrap_or(regression::DEFAULT_HARD_PCT),
                )?,
            })
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let query = Query {
        rule: rule(args)?,
        models: args.model.clone(),
        hardware: args.hardware.clone(),
        metrics: args.metric.clone(),
        since: args.since,
        every_night: args.every_night,
        only: args.only.clone(),
    };
    let report = query
        .run(&args.benchmark_dir)
        .map_err(|e| Fatal::from_error(BAD_INPUT, &e))?;
    for s in &report.skipped {
        tracing::debug!("skipped {}: {}", s.path.display(), s.reason);
    }
    if report.run_folders == 0 {
        return Err(Fatal::new(
            BAD_INPUT,
            format!(
                "no run folders (<tag>_<MODEL>_<VARIANT>_online[<suffix>]) below {}",
                args.benchmark_dir.display()
            ),
        ));
    }
    let format = match args.format {
        FormatName::Text => Format::Text,
        FormatName::Json => Format::Json,
        FormatName::Csv => Format::Csv,
    };
    write_stdout(&render(&report.rows, format))?;
    eprint(&format!(
        "regression-report: {} rule, {} run folders, {} series: {}\n",
        query.rule.name(),
        report.run_folders,
        report.series,
        report.counts_line()
    ));
    if args.fail_on_regression && report.regressions() > 0 {
        return Ok(ExitCode::from(REGRESSION_FOUND));
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stderr)]
fn eprint(s: &str) {
    eprint!("{s}");
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(s: &str) -> Result<(), Fatal> {
    sglang_ci::output::write_stdout(s, BAD_INPUT)
}
