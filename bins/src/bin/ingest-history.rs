//! `ingest-history`: store a benchmark tree or a log-branch checkout in the history store
//! (SQLite by default, PostgreSQL for a fleet). See docs/ingest-history.md.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use history_store::{IngestError, IngestOptions, Location, Store, StoreError};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status when some files or folders could not be stored (each listed on stderr).
const PARTIAL: u8 = 3;
/// Exit status when the tree cannot be read or a flag value is bad.
const BAD_INPUT: u8 = 4;
/// Exit status when the database cannot be opened, logged in to, or written.
const DATABASE: u8 = 5;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Read run folders, timing summaries, cron logs, sanity, PD, unit-test and image-check logs
/// from a tree laid out like $SGL_BENCHMARK_CI_DIR or like the log branch, and store them in
/// the history store. Ingesting the same files twice changes nothing; a run whose files
/// changed is replaced in one transaction.
///
/// Exit status: 0 stored; 3 stored, but some files or folders were skipped (listed on
/// stderr); 4 the tree or a flag value is bad; 5 the database cannot be opened or written.
#[derive(Debug, Parser)]
#[command(name = "ingest-history", version = sglang_ci::VERSION)]
struct Args {
    /// The tree to ingest [default: $SGL_BENCHMARK_CI_DIR, else the current folder].
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    benchmark_dir: Option<PathBuf>,

    /// Only the runs of this night (YYYYMMDD, Pacific): night or image date.
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ADDITIONS)]
    date: Option<String>,

    /// Only the N nights ending at --date (default: today, Pacific).
    #[arg(long, value_name = "N", help_heading = heading::ADDITIONS)]
    backfill: Option<u32>,

    /// The store: a SQLite file, sqlite://PATH, or postgres://USER[:PASSWORD]@HOST[:PORT]/DB
    /// [default: $SGLCI_DB_URL, else <benchmark-dir>/database/ci_history.sqlite].
    #[arg(long, value_name = "URL", help_heading = heading::ADDITIONS)]
    db: Option<String>,

    /// The node this tree belongs to; part of every run's key (set it on every node of a
    /// fleet) [default: the host named in the files, else `unknown`].
    #[arg(long, value_name = "NAME", help_heading = heading::ADDITIONS)]
    host: Option<String>,

    /// Only runs at or below this path (absolute or relative to the tree); repeatable.
    #[arg(long, value_name = "PATH", help_heading = heading::ADDITIONS)]
    only: Vec<PathBuf>,

    /// Report what would change; write nothing (a missing SQLite file is not created).
    #[arg(long, help_heading = heading::ADDITIONS)]
    dry_run: bool,

    /// Summary format on stdout.
    #[arg(long, value_enum, default_value = "text", help_heading = heading::ADDITIONS)]
    format: Format,

    /// Log more (stderr).
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("ingest-history", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.verbose);
        run(&args)
    })
}

fn store_fatal(e: &StoreError) -> Fatal {
    Fatal::from_error(DATABASE, e)
}

fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let root = args
        .benchmark_dir
        .clone()
        .or_else(|| std::env::var_os("SGL_BENCHMARK_CI_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let dates = history_store::ingest::date_range(args.date.as_deref(), args.backfill)
        .map_err(|e| Fatal::from_error(BAD_INPUT, &e))?;
    let location = Location::resolve(args.db.as_deref(), &root).map_err(|e| store_fatal(&e))?;
    let mut store = match (&location, args.dry_run) {
        (Location::Sqlite(p), true) if !p.exists() => None,
        (_, true) => {
            // A database without the schema yet holds nothing: everything would be added.
            let mut s = Store::open_read_only(&location).map_err(|e| store_fatal(&e))?;
            (s.schema_version().map_err(|e| store_fatal(&e))? > 0).then_some(s)
        }
        (_, false) => Some(Store::open(&location).map_err(|e| store_fatal(&e))?),
    };
    let opts = IngestOptions {
        root,
        host: args.host.clone(),
        dates,
        only: args.only.clone(),
        dry_run: args.dry_run,
    };
    let mut summary = history_store::ingest(store.as_mut(), &opts).map_err(|e| match e {
        IngestError::Store(s) => store_fatal(&s),
        e => Fatal::from_error(BAD_INPUT, &e),
    })?;
    if summary.database.is_empty() {
        summary.database = location.to_string();
    }
    let out = match args.format {
        Format::Text => summary.render_text(),
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&summary).map_err(|e| Fatal::new(BAD_INPUT, e))?;
            s.push('\n');
            s
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    #[allow(clippy::print_stderr)]
    {
        for n in &summary.notes {
            eprintln!("ingest-history: note: {}: {}", n.path, n.note);
        }
        for s in &summary.skipped {
            eprintln!("ingest-history: skipped {}: {}", s.path, s.reason);
        }
    }
    Ok(if summary.partial() {
        ExitCode::from(PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}
