//! `dashboard`: the nightly results as web pages, from the history store (the later
//! original's Flask dashboard, rebuilt on the store). See docs/dashboard.md.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use history_store::{Location, ReadLimits};
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status when the dashboard cannot start (port in use, bad host, bad --db).
const FAILED: u8 = 1;

/// The nightly results as web pages, read from the history store (SQLite or PostgreSQL):
/// an overview per hardware coloured by regression verdict, per-hardware nights, metric
/// series with their baseline band, every number and file of a run, the plots tree, a
/// read-only SQL explorer, and the JSON behind every page under /api. No script and nothing
/// fetched from another host. Runs in the foreground until SIGINT or SIGTERM, then lets
/// in-flight requests finish.
///
/// Exit status: 0 stopped by SIGINT/SIGTERM; 1 could not start (port in use, bad --host,
/// bad --db); 2 bad flags.
#[derive(Debug, Parser)]
#[command(name = "dashboard", version = sglang_ci::VERSION)]
struct Args {
    /// Address (or host name) to listen on.
    #[arg(long, env = "DASHBOARD_HOST", default_value = dashboard::DEFAULT_HOST, help_heading = heading::ORIGINAL)]
    host: String,

    /// Port to listen on (0 = any free port, printed at start).
    #[arg(long, env = "DASHBOARD_PORT", default_value_t = dashboard::DEFAULT_PORT, help_heading = heading::ORIGINAL)]
    port: u16,

    /// The benchmark folder: where the default SQLite store lies
    /// (database/ci_history.sqlite), the tree whose stored files /files/ serves, and the parent
    /// of the default plots folder.
    #[arg(
        long,
        env = "SGL_BENCHMARK_CI_DIR",
        value_name = "DIR",
        default_value = "/mnt/raid/michael/sglang-ci",
        help_heading = heading::ORIGINAL
    )]
    base_dir: PathBuf,

    /// The store: a SQLite file, sqlite://PATH, or postgres://USER[:PASSWORD]@HOST[:PORT]/DB
    /// [default: $SGLCI_DB_URL, else <base-dir>/database/ci_history.sqlite]. Opened read-only.
    #[arg(long, value_name = "URL", help_heading = heading::ADDITIONS)]
    db: Option<String>,

    /// The plots tree served at /plots/ [default: <base-dir>/plots_server].
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    plots_dir: Option<PathBuf>,

    /// The folder of compare-suites' reports (sglang_ci_report_<YYYYMMDD>.csv) shown at
    /// /coverage [default: <base-dir>/upstream_ci/ci_report].
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    coverage_dir: Option<PathBuf>,

    /// Read-only database connections for the pages (one per worker thread)
    /// [default: the CPUs, 2 to 8].
    #[arg(long, value_name = "N", help_heading = heading::ADDITIONS)]
    workers: Option<usize>,

    /// Rows the SQL explorer shows at most.
    #[arg(long, value_name = "N", default_value_t = dashboard::DEFAULT_SQL_MAX_ROWS, help_heading = heading::ADDITIONS)]
    sql_max_rows: usize,

    /// Seconds an explorer statement may run before it is cut.
    #[arg(long, value_name = "SECS", default_value_t = dashboard::DEFAULT_SQL_TIMEOUT_S, help_heading = heading::ADDITIONS)]
    sql_timeout: f64,

    /// Regression rule behind the colours: robust (default) or legacy (the original's 5 %
    /// against the previous night).
    #[arg(long, value_name = "RULE", default_value = "robust", value_parser = ["robust", "legacy"], help_heading = heading::ADDITIONS)]
    rule: String,

    /// `--max-connections`, `--header-timeout`, `--idle-timeout`, `--shutdown-timeout` (as
    /// plots-server).
    #[command(flatten)]
    connections: sglang_ci::server_args::ConnectionFlags,

    /// Debug logging (stderr; also SGLCI_LOG / RUST_LOG).
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

/// Parses the flags and serves until SIGINT or SIGTERM.
pub fn main() -> ExitCode {
    exit::run("dashboard", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.verbose);
        run(args)
    })
}

#[allow(clippy::print_stdout)]
fn run(args: Args) -> Result<ExitCode, Fatal> {
    if !(args.sql_timeout.is_finite() && args.sql_timeout > 0.0) {
        return Err(Fatal::new(
            2,
            "--sql-timeout: give a positive number of seconds",
        ));
    }
    let location = Location::resolve(args.db.as_deref(), &args.base_dir)
        .map_err(|e| Fatal::from_error(FAILED, &e))?;
    let mut config = dashboard::Config::new(location, args.base_dir.clone());
    config.host = args.host.clone();
    config.port = args.port;
    if let Some(p) = &args.plots_dir {
        config.plots_dir = p.clone();
    }
    if let Some(d) = &args.coverage_dir {
        config.coverage_dir = d.clone();
    }
    if let Some(n) = args.workers {
        config.workers = n.max(1);
    }
    config.sql_limits = ReadLimits {
        max_rows: args.sql_max_rows.max(1),
        timeout: Duration::from_secs_f64(args.sql_timeout),
    };
    config.limits = args.connections.limits();
    config.rule = if args.rule == "legacy" {
        report::regression::Rule::LEGACY
    } else {
        report::regression::Rule::ROBUST
    };
    let store = config.location.to_string();
    dashboard::run(&config, |ready| {
        println!(
            "Dashboard on {} (listening on {}), store {store}",
            ready.base_url(),
            ready.addr
        );
        println!("Press Ctrl+C to stop");
        let _ = std::io::stdout().flush();
    })
    .map_err(|e| Fatal::from_error(FAILED, &e))?;
    println!("Dashboard stopped.");
    Ok(ExitCode::SUCCESS)
}
