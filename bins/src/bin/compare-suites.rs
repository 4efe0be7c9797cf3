//! `compare-suites`: NVIDIA vs AMD upstream CI coverage of SGLang (the original
//! `upstream_ci/compare_suites.py`). See docs/compare-suites.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use compare::suites::{self, Counting, Location, Request, Upstream};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status: a file could not be fetched or read, or the report could not be written.
const FAILED: u8 = 1;
/// Exit status: no suite dictionary in `run_suite.py` (also usage errors).
const NO_SUITES: u8 = 2;

/// Count SGLang's upstream CI tests per category for NVIDIA and AMD (from `run_suite.py`, the
/// PR workflows and the nightly GSM8K evals, read as text) and write the coverage CSV, or the
/// per-suite Markdown comparison with --details.
///
/// Exit status: 0 written, 1 a file could not be fetched or read or the report not written,
/// 2 no suites found in run_suite.py or bad flags.
#[derive(Debug, Parser)]
#[command(name = "compare-suites", version = sglang_ci::VERSION, infer_long_args = true)]
struct Args {
    /// Local path or URL of `run_suite.py` (GitHub `…/blob/…` URLs are rewritten to raw)
    /// [default: `<upstream base>/test/srt/run_suite.py`, or the one in --sglang-dir].
    #[arg(value_name = "PATH_OR_URL")]
    path_or_url: Option<String>,

    /// Markdown per-suite comparison (common / NVIDIA-only / AMD-only files) instead of the CSV.
    #[arg(long, help_heading = heading::ORIGINAL)]
    details: bool,

    /// Output file [default: `sglang_ci_report_<YYYYMMDD>.csv` (`.md` with --details) in the
    /// current folder].
    #[arg(short, long, value_name = "FILE", help_heading = heading::ORIGINAL)]
    output: Option<PathBuf>,

    /// Print the report only; write no file.
    #[arg(long, help_heading = heading::ORIGINAL)]
    stdout: bool,

    /// Base URL of the upstream files (`<base>/.github/workflows/pr-test.yml`, …) [env:
    /// SGLCI_UPSTREAM_BASE] [default:
    /// https://raw.githubusercontent.com/sgl-project/sglang/main].
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "sglang_dir",
        help_heading = heading::ADDITIONS,
    )]
    upstream_base: Option<String>,

    /// Read the upstream files from this local SGLang checkout instead of downloading them.
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    sglang_dir: Option<PathBuf>,

    /// Count like the original: a test listed twice counts twice, and an `amd_ci_exec.sh`
    /// line running `python3 …test….py` counts twice (the historical numbers).
    #[arg(long, help_heading = heading::ADDITIONS)]
    legacy: bool,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("compare-suites", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(false);
        run(&args)
    })
}

fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let upstream = match &args.sglang_dir {
        Some(dir) => Upstream::Checkout(dir.clone()),
        None => Upstream::Base(
            args.upstream_base
                .clone()
                .or_else(|| std::env::var("SGLCI_UPSTREAM_BASE").ok())
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| suites::DEFAULT_UPSTREAM_BASE.to_owned()),
        ),
    };
    let run_suite = args
        .path_or_url
        .as_deref()
        .map_or_else(|| suites::default_run_suite(&upstream), Location::from_arg);
    let req = Request {
        run_suite,
        upstream,
        details: args.details,
        counting: if args.legacy {
            Counting::Legacy
        } else {
            Counting::Once
        },
    };
    let report = suites::build(&req).map_err(|e| {
        let code = if e.is_no_suites() { NO_SUITES } else { FAILED };
        Fatal::from_error(code, &e)
    })?;
    for w in &report.warnings {
        eprint_line(w);
    }
    // `-o -` is stdout: the report once, as with --stdout.
    if args.stdout || args.output.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        write_stdout(&report.text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let path = args.output.clone().unwrap_or_else(|| {
        let date = chrono::Local::now().format("%Y%m%d").to_string();
        PathBuf::from(suites::default_output_name(&date, args.details))
    });
    report::atomic::write_atomic(&path, report.text.as_bytes())
        .map_err(|e| Fatal::from_error(FAILED, &e))?;
    write_stdout(&report.text)?;
    write_stdout(&format!("Output written to: {}\n", path.display()))?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stderr)]
fn eprint_line(s: &str) {
    eprintln!("{s}");
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(s: &str) -> Result<(), Fatal> {
    sglang_ci::output::write_stdout(s, FAILED)
}
