//! `latest-results`: the newest run folder per model and mode of a benchmark tree, with its
//! key numbers (medians per load, GSM8K accuracy), as JSON for `jq` or as a table. The folders
//! are read with the run-folder reader of `rebuild-csv` (report::latest). See
//! docs/latest-results.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use report::latest::{self, Latest};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status when the tree cannot be read or the result cannot be written.
const UNREADABLE: u8 = 1;

/// The newest run folder per hardware, model, variant and mode below a benchmark tree, with
/// its medians per load and GSM8K accuracy.
///
/// Prints a JSON array (one object per model and mode) for jq, or a table. Folders that could
/// not be read are named on stderr. Exit status: 0 done (also when no run folder was found:
/// `[]`), 1 the tree could not be read, 2 bad flag.
#[derive(Debug, Parser)]
#[command(name = "latest-results", version = sglang_ci::VERSION)]
struct Args {
    /// Benchmark tree: a CI work dir (`online/<MODEL>/<run folders>`) or the log branch's
    /// `online_benchmark_log` (also `--benchmark_dir`).
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    benchmark_dir: PathBuf,

    /// Only this model (`<MODEL_NAME>`, e.g. GROK1); repeat or comma-separate for several.
    #[arg(long, value_name = "NAME", value_delimiter = ',', help_heading = heading::ADDITIONS)]
    model: Vec<String>,

    /// Output: `json` (an array, pretty-printed) or `text` (one line per load).
    #[arg(long, value_enum, default_value_t = Format::Json, help_heading = heading::ADDITIONS)]
    format: Format,

    /// Same as --format=json (the spelling the issue asked for).
    #[arg(long, conflicts_with = "format", help_heading = heading::ADDITIONS)]
    json: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Text,
}

/// Parses the flags, finds the newest run folders, prints them.
pub fn main() -> ExitCode {
    exit::run("latest-results", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(false);
        let mut found =
            latest::latest(&args.benchmark_dir).map_err(|e| Fatal::from_error(UNREADABLE, &e))?;
        if !args.model.is_empty() {
            found.runs.retain(|r| args.model.contains(&r.model));
        }
        for why in &found.skipped {
            tracing::warn!("skipped {}", report::redact::escape_controls(why));
        }
        let text = if args.json || args.format == Format::Json {
            let json = serde_json::to_string_pretty(&found.runs)
                .map_err(|e| Fatal::new(UNREADABLE, format!("cannot encode JSON: {e}")))?;
            format!("{json}\n")
        } else {
            table(&found)
        };
        sglang_ci::output::write_stdout(&text, UNREADABLE)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `hw model variant mode tag load e2e ttft itl gsm8k`, one line per load.
fn table(found: &Latest) -> String {
    let cell = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"));
    let mut out =
        String::from("hardware\tmodel\tvariant\tmode\ttag\tload\te2e_ms\tttft_ms\titl_ms\tgsm8k\n");
    for r in &found.runs {
        for l in &r.loads {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                r.hardware.as_deref().unwrap_or("-"),
                r.model,
                r.variant,
                r.mode,
                r.tag,
                l.load,
                cell(l.median_e2e_ms),
                cell(l.median_ttft_ms),
                cell(l.median_itl_ms),
                r.gsm8k_accuracy.as_deref().unwrap_or("-"),
            ));
        }
    }
    out
}
