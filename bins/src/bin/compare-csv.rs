//! `compare-csv`: compare a main run folder's benchmark CSV with a PR run folder's (the
//! original `upstream_ci/compare_csv_results.py`). See docs/compare-csv.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use compare::csv_results::{self, CompareCsvError, ModeChoice, Options};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status: a folder does not exist or holds no (matching) CSV.
const NO_CSV: u8 = 1;
/// Exit status: bad flags or environment values.
const USAGE: u8 = 2;
/// Exit status: a CSV cannot be read or parsed.
const BAD_CSV: u8 = 3;
/// Exit status: the report cannot be written.
const NOT_WRITTEN: u8 = 4;

/// Compare the benchmark CSV of a main run folder with a PR run folder's: offline
/// (throughput, latency per batch size) or online (E2E, TTFT, ITL per request rate or
/// concurrency), plus GSM8K accuracy from the folders' logs. Positive changes mean the PR run
/// is better.
///
/// Exit status: 0 written, 1 a folder is missing or has no CSV, 2 bad flags or environment
/// values, 3 a CSV cannot be read or parsed, 4 the report cannot be written.
#[derive(Debug, Parser)]
#[command(name = "compare-csv", version = sglang_ci::VERSION, infer_long_args = true)]
struct Args {
    /// Main run folder (or one CSV file).
    #[arg(long, value_name = "DIR", help_heading = heading::ORIGINAL)]
    csv1: PathBuf,

    /// PR run folder (or one CSV file).
    #[arg(long, value_name = "DIR", help_heading = heading::ORIGINAL)]
    csv2: PathBuf,

    /// Benchmark mode; `auto` detects it from each CSV's text.
    #[arg(long, value_enum, default_value_t = CliMode::Auto, help_heading = heading::ORIGINAL)]
    mode: CliMode,

    /// Model filter for both folders (case-insensitive part of the CSV and GSM8K log names);
    /// also the report title.
    #[arg(long, value_name = "NAME", help_heading = heading::ORIGINAL)]
    model: Option<String>,

    /// Model filter for --csv1 (overrides --model).
    #[arg(long, value_name = "NAME", help_heading = heading::ORIGINAL)]
    model1: Option<String>,

    /// Model filter for --csv2 (overrides --model).
    #[arg(long, value_name = "NAME", help_heading = heading::ORIGINAL)]
    model2: Option<String>,

    /// Write the report to exactly this file (parent folders created); `-` for stdout.
    /// [default: md: `<output-dir>/<stamp>_<csv1>_vs_<csv2>/<same>.md`; json: stdout]
    #[arg(long, value_name = "FILE", help_heading = heading::ORIGINAL)]
    output_md: Option<PathBuf>,

    /// Root of the auto-named report folders.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "DIR",
        env = "COMPARISON_OUTPUT_DIR",
        default_value = csv_results::DEFAULT_OUTPUT_DIR
    )]
    output_dir: PathBuf,

    /// Append the report (header included) to the output file instead of replacing it.
    #[arg(long, help_heading = heading::ORIGINAL)]
    append: bool,

    /// Smallest absolute GSM8K accuracy difference called a change [env:
    /// GSM8K_ACCURACY_THRESHOLD] [default: 0.001].
    #[arg(long, value_name = "X", help_heading = heading::ORIGINAL)]
    gsm8k_threshold: Option<f64>,

    /// Highlight changes beyond this many percent [env: PERFORMANCE_THRESHOLD] [default: 5.0].
    #[arg(long, value_name = "PCT", help_heading = heading::ORIGINAL)]
    performance_threshold: Option<f64>,

    /// Report format: Markdown (the original's) or one line of JSON.
    #[arg(long, value_enum, default_value_t = Format::Md, help_heading = heading::ADDITIONS)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CliMode {
    Auto,
    Offline,
    Online,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Md,
    Json,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("compare-csv", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(false);
        run(&args)
    })
}

/// A threshold: the flag, else the environment variable, else the default; a value that is
/// not a number is a usage error naming the variable.
fn threshold(flag: Option<f64>, var: &str, default: f64) -> Result<f64, Fatal> {
    if let Some(v) = flag {
        return Ok(v);
    }
    match std::env::var(var) {
        Ok(s) if !s.trim().is_empty() => s.trim().parse().map_err(|_| {
            Fatal::new(
                USAGE,
                format!("environment variable {var}=`{s}` is not a number"),
            )
        }),
        _ => Ok(default),
    }
}

/// Where the report goes.
enum Dest {
    Stdout,
    File(PathBuf),
}

fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let gsm8k_threshold = threshold(
        args.gsm8k_threshold,
        "GSM8K_ACCURACY_THRESHOLD",
        csv_results::DEFAULT_GSM8K_THRESHOLD,
    )?;
    let performance_threshold = threshold(
        args.performance_threshold,
        "PERFORMANCE_THRESHOLD",
        csv_results::DEFAULT_PERFORMANCE_THRESHOLD,
    )?;
    let patterns = std::env::var("GSM8K_LOG_PATTERNS")
        .unwrap_or_else(|_| csv_results::DEFAULT_GSM8K_PATTERNS.to_owned());
    let mut opts = Options::new(&args.csv1, &args.csv2);
    opts.mode = match args.mode {
        CliMode::Auto => ModeChoice::Auto,
        CliMode::Offline => ModeChoice::Offline,
        CliMode::Online => ModeChoice::Online,
    };
    opts.model.clone_from(&args.model);
    opts.model1.clone_from(&args.model1);
    opts.model2.clone_from(&args.model2);
    opts.gsm8k_threshold = gsm8k_threshold;
    opts.performance_threshold = performance_threshold;
    opts.gsm8k_patterns = csv_results::parse_patterns(&patterns);

    let now = chrono::Local::now();
    let dest = match (&args.output_md, args.format) {
        (Some(p), _) if p.as_os_str() == "-" => Dest::Stdout,
        (Some(p), _) => Dest::File(p.clone()),
        (None, Format::Json) => Dest::Stdout,
        (None, Format::Md) => {
            let name = csv_results::output_folder_name(
                &now.format("%Y%m%d_%H%M%S").to_string(),
                &args.csv1,
                &args.csv2,
            );
            Dest::File(args.output_dir.join(&name).join(format!("{name}.md")))
        }
    };
    // Console lines go to stdout unless the report itself does.
    let mut console = Console {
        to_stderr: matches!(dest, Dest::Stdout),
    };
    console.line("Configuration:");
    console.line(&format!(
        "  Output directory: {}",
        args.output_dir.display()
    ));
    console.line(&format!("  GSM8K threshold: {}", py_float(gsm8k_threshold)));
    console.line(&format!(
        "  Performance threshold: {}%",
        py_float(performance_threshold)
    ));
    console.line(&format!(
        "  GSM8K log patterns: {}",
        opts.gsm8k_patterns.join(", ")
    ));
    console.line("");

    let generated = now.format("%Y-%m-%d %H:%M:%S").to_string();
    let cmp = csv_results::compare(&opts, &generated).map_err(|e| compare_error(&e))?;
    let csv_path = |s: &csv_results::SideInfo| Path::new(&s.folder).join(&s.csv);
    console.line("Comparing:");
    console.line(&format!("  Main: {}", csv_path(&cmp.main).display()));
    console.line(&format!("  PR: {}", csv_path(&cmp.pr).display()));
    for w in &cmp.warnings {
        eprint_line(w);
    }
    let text = match args.format {
        Format::Md => cmp.markdown(),
        Format::Json => cmp.json(),
    };
    match dest {
        Dest::Stdout => write_stdout(&text)?,
        Dest::File(path) => {
            write_report(&path, &text, args.append)?;
            console.line(&format!("Comparison written to {}", path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A float as Python's `str()` prints it (`5.0`, `0.001`): a whole number keeps its `.0`.
fn py_float(x: f64) -> String {
    let s = x.to_string();
    if x.is_finite() && !s.contains(['.', 'e']) {
        format!("{s}.0")
    } else {
        s
    }
}

fn compare_error(e: &CompareCsvError) -> Fatal {
    let code = if e.is_missing_input() {
        NO_CSV
    } else {
        BAD_CSV
    };
    Fatal::from_error(code, e)
}

/// Writes the report: atomically, or appended in one write with `append`; parent folders
/// are created.
fn write_report(path: &Path, text: &str, append: bool) -> Result<(), Fatal> {
    let fail = |e: &dyn std::fmt::Display| {
        Fatal::new(
            NOT_WRITTEN,
            format!("cannot write the report {}: {e}", path.display()),
        )
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    }
    if append {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| fail(&e))?;
        f.write_all(text.as_bytes()).map_err(|e| fail(&e))
    } else {
        report::atomic::write_atomic(path, text.as_bytes())
            .map_err(|e| Fatal::from_error(NOT_WRITTEN, &e))
    }
}

/// The original's progress lines: stdout, or stderr when stdout carries the report.
struct Console {
    to_stderr: bool,
}

impl Console {
    #[allow(clippy::print_stdout)]
    fn line(&mut self, s: &str) {
        if self.to_stderr {
            eprint_line(s);
        } else {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{s}");
        }
    }
}

#[allow(clippy::print_stderr)]
fn eprint_line(s: &str) {
    eprintln!("{s}");
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(s: &str) -> Result<(), Fatal> {
    sglang_ci::output::write_stdout(s, NOT_WRITTEN)
}
