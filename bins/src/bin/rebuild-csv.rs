//! `rebuild-csv`: recompute an online run folder's legacy CSV from its client logs, print it,
//! write it, or check it against the CSV already in the folder. See docs/rebuild-csv.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use report::run_folder::{RebuildOptions, RunFolder};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status when the folder, its CSV or the output file cannot be read or written.
const UNREADABLE: u8 = 2;

/// Recompute an online run folder's summary CSV from its client logs (best run per request rate
/// or concurrency, the original toolkit's rules), byte for byte as the original wrote it.
///
/// Without --out the CSV goes to stdout. Exit status: 0 done (or --check: equal), 1 --check
/// found differences, 2 the folder, its CSV or --out could not be read or written.
#[derive(Debug, Parser)]
#[command(name = "rebuild-csv", version = sglang_ci::VERSION)]
struct Args {
    /// Run folder (`online/<MODEL>/<tag>_<MODEL>_<VARIANT>_online[<suffix>]`). Also
    /// `--run_dir`.
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    run_dir: PathBuf,

    /// Write the rebuilt CSV to FILE (atomically) instead of stdout. The run folder is never
    /// modified unless FILE is inside it.
    #[arg(long, value_name = "FILE", help_heading = heading::ADDITIONS)]
    out: Option<PathBuf>,

    /// Compare with the CSV in the folder: print each differing cell (`rate 4, Median TTFT:
    /// expected <CSV>, got <rebuilt>`); exit 1 on any difference, 0 when equal.
    #[arg(long, help_heading = heading::ADDITIONS)]
    check: bool,

    /// Print one JSON object per client log (file, rate or concurrency, run, outcome, every
    /// parsed metric) on stdout instead of the CSV; with --check the differences go to stderr.
    #[arg(long, help_heading = heading::ADDITIONS)]
    json: bool,

    /// Host name for the Grok row label `MI300x-aiter, <host>` [default: `Hostname:` of the
    /// newest timing summary that wrote the CSV, else the folder CSV's label].
    #[arg(
        long,
        value_name = "HOST",
        value_parser = sglang_ci::cli::printable,
        help_heading = heading::ADDITIONS,
    )]
    host: Option<String>,

    /// Column loads in order, comma-separated (`1,2,4,8,16`, `128,64,16,4,1`) [default: the
    /// newest Performance Summary, else the script defaults].
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = sglang_ci::cli::load,
        help_heading = heading::ADDITIONS,
    )]
    loads: Option<Vec<String>>,

    /// Fill every load that has a result, even when no timing summary says it completed
    /// (the original left such cells empty when the job was killed mid-way).
    #[arg(long, help_heading = heading::ADDITIONS)]
    all_results: bool,

    /// Log how layout values were inferred (stderr).
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("rebuild-csv", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.verbose);
        run(&args)
    })
}

fn fatal(e: &(dyn std::error::Error + 'static)) -> Fatal {
    Fatal::from_error(UNREADABLE, e)
}

fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let folder = RunFolder::load(&args.run_dir).map_err(|e| fatal(&e))?;
    for why in &folder.skipped {
        tracing::warn!("{}", report::redact::escape_controls(why));
    }
    let opts = RebuildOptions {
        host: args.host.clone(),
        loads: args.loads.clone(),
        all_results: args.all_results,
    };
    let rebuild = folder.rebuild(&opts).map_err(|e| fatal(&e))?;
    for note in &rebuild.notes {
        tracing::debug!("{note}");
    }
    let mut stdout = String::new();
    let mut status = ExitCode::SUCCESS;
    if args.json {
        for rec in folder.json_records(Some(&rebuild)) {
            let line = serde_json::to_string(&rec)
                .map_err(|e| Fatal::new(UNREADABLE, format!("cannot encode JSON: {e}")))?;
            stdout.push_str(&line);
            stdout.push('\n');
        }
    }
    if args.check {
        let report = folder.check(&rebuild).map_err(|e| fatal(&e))?;
        let mut lines = String::new();
        for d in &report.differences {
            lines.push_str(&d.to_string());
            lines.push('\n');
        }
        if args.json {
            eprint(&lines);
        } else {
            stdout.push_str(&lines);
        }
        let cells = rebuild.table.loads.len() * 3;
        if report.differences.is_empty() {
            eprint(&format!(
                "rebuild-csv: {} equals its rebuild ({cells} cells)\n",
                report.csv.display()
            ));
        } else {
            eprint(&format!(
                "rebuild-csv: {} differs from its rebuild in {} place(s)\n",
                report.csv.display(),
                report.differences.len()
            ));
            status = ExitCode::from(1);
        }
    }
    let csv = rebuild.table.render();
    match &args.out {
        Some(out) => report::atomic::write_atomic(out, csv.as_bytes()).map_err(|e| fatal(&e))?,
        None if !args.check && !args.json => stdout.push_str(&csv),
        None => {}
    }
    write_stdout(&stdout)?;
    Ok(status)
}

#[allow(clippy::print_stderr)]
fn eprint(s: &str) {
    eprint!("{s}");
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(s: &str) -> Result<(), Fatal> {
    sglang_ci::output::write_stdout(s, UNREADABLE)
}
