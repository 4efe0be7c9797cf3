//! The dashboard: the nightly results as web pages, read from the history store (SQLite or
//! PostgreSQL) — the port of the later original's Flask dashboard, rebuilt on the store.
//!
//! * `/` overview, `/hardware/<hw>`, `/series?…`, `/run/<id>`: pages rendered here as plain
//!   HTML with one embedded style sheet and SVG charts drawn by [`svg`]; no script, no font,
//!   no request to another host. Metrics are coloured by their regression verdict
//!   (`report::regression`), not by a fixed percentage.
//! * `/api/…`: the JSON behind every page ([`data`] serialised); `/health`.
//! * `/plots/…`: the plots tree, served by plots-server's own handler; `/files/…`: the files
//!   the store knows of a run (logs, CSVs), the same handler below the benchmark folder.
//! * `/sql`: a read-only SQL explorer ([`history_store::Store::query_read_only_capped`]).
//! * `/coverage`: the upstream CI coverage reports of `compare-suites` ([`coverage`]), read
//!   from their folder.
//!
//! Every request borrows a read-only connection from [`pool::Pool`] and runs on tokio's
//! blocking pool; a page is rebuilt whenever the store changed since it was made (the
//! store's change token is read on every request), so nothing shown is stale.
//!
//! [`run`] is what the `dashboard` binary calls; [`bind`] + [`serve`] are the async pieces
//! for tests and the benchmark.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use history_store::{Location, ReadLimits};
use report::regression::Rule;
use tokio::net::TcpListener;

pub mod coverage;
pub mod data;
pub mod error;
pub mod html;
pub mod pages;
pub mod pool;
mod server;
pub mod svg;

pub use error::{Error, PageError};

/// Default port (`--port`, env `DASHBOARD_PORT`): the Flask dashboard's.
pub const DEFAULT_PORT: u16 = 5000;
/// Default address (`--host`, env `DASHBOARD_HOST`).
pub const DEFAULT_HOST: &str = "0.0.0.0";
/// Default row cap of the SQL explorer.
pub const DEFAULT_SQL_MAX_ROWS: usize = 1000;
/// Default time limit of one explorer statement, seconds.
pub const DEFAULT_SQL_TIMEOUT_S: f64 = 5.0;
/// The plots tree below the benchmark folder when `--plots-dir` is not given.
pub const DEFAULT_PLOTS_SUBDIR: &str = "plots_server";
/// The upstream CI reports below the benchmark folder when `--coverage-dir` is not given.
pub const DEFAULT_COVERAGE_SUBDIR: &str = "upstream_ci/ci_report";

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address or host name to listen on.
    pub host: String,
    /// Port (0: any free port; [`Ready::addr`] tells which).
    pub port: u16,
    /// The benchmark folder (`$SGL_BENCHMARK_CI_DIR`): the tree the store was ingested from,
    /// whose stored files `/files/…` serves.
    pub base_dir: PathBuf,
    /// The plots tree served at `/plots/` (default `<base_dir>/plots_server`).
    pub plots_dir: PathBuf,
    /// The folder of `compare-suites`' reports shown at `/coverage` (default
    /// `<base_dir>/upstream_ci/ci_report`).
    pub coverage_dir: PathBuf,
    /// The store.
    pub location: Location,
    /// Read-only connections (one per worker thread).
    pub workers: usize,
    /// The explorer's row cap and statement time limit.
    pub sql_limits: ReadLimits,
    /// Connections at once, request-head and idle timeouts, the grace after SIGINT/SIGTERM
    /// (plots-server's limits and accept loop).
    pub limits: plots_server::ConnectionLimits,
    /// The regression rule behind the colours.
    pub rule: Rule,
}

impl Config {
    /// A configuration with the defaults for the store at `location` and the benchmark
    /// folder `base_dir`.
    pub fn new(location: Location, base_dir: PathBuf) -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
            plots_dir: base_dir.join(DEFAULT_PLOTS_SUBDIR),
            coverage_dir: base_dir.join(DEFAULT_COVERAGE_SUBDIR),
            base_dir,
            location,
            workers: default_workers(),
            sql_limits: ReadLimits {
                max_rows: DEFAULT_SQL_MAX_ROWS,
                timeout: Duration::from_secs_f64(DEFAULT_SQL_TIMEOUT_S),
            },
            limits: plots_server::ConnectionLimits::default(),
            rule: Rule::default(),
        }
    }
}

/// Workers by default: the CPUs, at least 2, at most 8.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
}

/// Handed to `on_ready` once the socket listens.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The address bound.
    pub addr: SocketAddr,
}

impl Ready {
    /// `http://<host>:<port>` for people to open.
    pub fn base_url(&self) -> String {
        plots_server::Ready {
            addr: self.addr,
            root: PathBuf::new(),
        }
        .base_url()
    }
}

/// Binds the listening socket (plots-server's: `SO_REUSEADDR`, a free alternative port
/// suggested when the port is taken).
pub async fn bind(config: &Config) -> Result<TcpListener, Error> {
    let cfg = plots_server::Config {
        bind: config.host.clone(),
        port: config.port,
        alternative_ports: vec![5001, 8050, 8080, 8888],
        ..plots_server::Config::default()
    };
    Ok(plots_server::bind(&cfg).await?)
}

/// Serves `listener` under `config.limits` until `shutdown` completes; then in-flight
/// requests get `config.limits.shutdown_timeout` (or until `force` completes) to finish.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    force: impl Future<Output = ()>,
) -> Result<(), Error> {
    let app = Arc::new(server::App::new(config)?);
    server::serve(listener, app, &config.limits, shutdown, force).await;
    Ok(())
}

/// Runs the dashboard in the foreground until SIGINT or SIGTERM (a second signal cuts the
/// grace period short).
pub fn run(config: &Config, on_ready: impl FnOnce(&Ready)) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.workers.max(1) + 4)
        .build()
        .map_err(Error::Runtime)?;
    let result = rt.block_on(async {
        let (first, second) = plots_server::stop_signals().map_err(Error::Runtime)?;
        let listener = bind(config).await?;
        let addr = listener.local_addr().map_err(Error::Runtime)?;
        on_ready(&Ready { addr });
        serve(listener, config, first, second).await
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}
