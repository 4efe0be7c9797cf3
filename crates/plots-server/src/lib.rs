//! The plot server: a read-only HTTP server for the plots tree
//! (`<root>/<ModelDir>/<mode>/*.png`), the port of `server/plots_server.sh` +
//! `server/custom_http_server.py` (spec reporting.md §10).
//!
//! Kept from the original: the port/bind/title settings and their environment variables, the
//! listing page's shape and code-point order, 301 for a directory without `/`, `index.html`
//! served for a directory, 501 for other methods, error pages. Added or fixed: percent-encoded
//! links, text MIME types for CI logs, inline image previews, `HEAD`/`Range`/`ETag`/conditional
//! GET, graceful shutdown, a pid file, `SO_REUSEADDR`, header and idle timeouts, a connection
//! limit, and strict confinement to the root (see [`urlpath`] and [`fsmap`]).
//!
//! [`run`] is what the `plots-server` binary calls; [`bind`] + [`serve`] are the async pieces
//! for embedding (tests, benchmarks).

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod fsmap;
pub mod handler;
pub mod headers;
pub mod idle;
pub mod listing;
pub mod pidfile;
mod server;
pub mod urlpath;

pub use pidfile::PidFile;
pub use server::{bind, serve, serve_connections};

/// The `Server` header of every response.
pub const SERVER_HEADER: &str = concat!("sglang-ci-plots-server/", env!("CARGO_PKG_VERSION"));

/// Default port (env `HTTP_SERVER_PORT` overrides it in the binary).
pub const DEFAULT_PORT: u16 = 8000;
/// Default listing title (env `HTTP_SERVER_TITLE`).
pub const DEFAULT_TITLE: &str = "SGL Benchmark Plots Server";

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory to serve (canonicalized at start; nothing outside it is ever served).
    pub root: PathBuf,
    /// Address or host name to listen on.
    pub bind: String,
    /// Port (0 = any free port; [`Ready::addr`] tells which).
    pub port: u16,
    /// Title of listing pages.
    pub title: String,
    /// Connection limits and timeouts.
    pub limits: ConnectionLimits,
    /// Ports suggested when the chosen one is busy (env `ALTERNATIVE_PORTS` in the binary).
    pub alternative_ports: Vec<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            root: PathBuf::from("."),
            bind: "0.0.0.0".to_owned(),
            port: DEFAULT_PORT,
            title: DEFAULT_TITLE.to_owned(),
            limits: ConnectionLimits::default(),
            alternative_ports: vec![8001, 8080, 8888, 9000],
        }
    }
}

/// How many connections a server takes at once and how long it waits for them (plots-server's
/// and the dashboard's; [`serve_connections`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// At most this many connections are served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send a complete request head within this time (slowloris bound; also the
    /// keep-alive idle time between requests).
    pub header_timeout: Duration,
    /// A connection on which nothing is read or written for this long is closed.
    pub idle_timeout: Duration,
    /// How long in-flight requests may take to finish after SIGINT/SIGTERM.
    pub shutdown_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// 256 connections, 10 s for a request head, 60 s idle, 10 s to finish at shutdown.
    fn default() -> Self {
        Self {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plots directory is missing or not a directory.
    #[error("plots directory {}: {source} (create it or pass --plots-dir / PLOTS_SERVER_DIR)", path.display())]
    Root {
        /// The directory as given.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The plots directory could not be created.
    #[error("cannot create plots directory {}: {source}", path.display())]
    CreateRoot {
        /// The directory that could not be created.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// `--bind` did not resolve.
    #[error(
        "cannot resolve bind address '{bind}': {source} (pass an IP address or host name with --bind / HTTP_SERVER_BIND)"
    )]
    Resolve {
        /// The address as given.
        bind: String,
        /// What went wrong.
        source: io::Error,
    },
    /// The socket could not be bound (port in use, privileged port, foreign address).
    #[error("cannot listen on {addr}: {source}{hint}")]
    Bind {
        /// The address tried.
        addr: SocketAddr,
        /// What went wrong.
        source: io::Error,
        /// What to do about it (empty when nothing specific).
        hint: String,
    },
    /// The pid file could not be written.
    #[error("cannot write pid file {}: {source}", path.display())]
    PidFile {
        /// The pid file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The pid file names another running process.
    #[error("pid file {} names running process {pid}: another plots-server seems to be running; stop it or pass another --pid-file", path.display())]
    PidFileInUse {
        /// The pid file.
        path: PathBuf,
        /// The process it names.
        pid: u32,
    },
    /// The async runtime or the signal handlers could not be set up.
    #[error("cannot start the server runtime: {0}")]
    Runtime(io::Error),
}

/// What [`serve`] did, for the final log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServeReport {
    /// Connections accepted.
    pub connections: u64,
    /// Connections still open after the shutdown grace period, closed forcibly.
    pub forced_closed: usize,
}

/// Handed to `on_ready` once the socket listens and the pid file is written.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The address actually bound (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The canonical root being served.
    pub root: PathBuf,
}

impl Ready {
    /// `http://<host>:<port>` for people to open: the bind address, or this machine's host
    /// name when listening on all addresses.
    pub fn base_url(&self) -> String {
        let ip = self.addr.ip();
        let host = if ip.is_unspecified() {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".to_owned())
        } else if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        format!("http://{host}:{}", self.addr.port())
    }
}

/// Creates the plots directory the way the original launcher did when it is missing: the
/// directory plus `<model>/offline` and `<model>/online` for each of `model_dirs`. Returns the
/// models created, or `None` when the directory already existed.
pub fn prepare_root(dir: &Path, model_dirs: &[String]) -> Result<Option<Vec<String>>, Error> {
    if dir.exists() {
        return Ok(None);
    }
    let create = |p: &Path| {
        std::fs::create_dir_all(p).map_err(|source| Error::CreateRoot {
            path: p.to_path_buf(),
            source,
        })
    };
    create(dir)?;
    for m in model_dirs {
        create(&dir.join(m).join("offline"))?;
        create(&dir.join(m).join("online"))?;
    }
    Ok(Some(model_dirs.to_vec()))
}

/// Installs SIGINT and SIGTERM handlers (inside a Tokio runtime) and returns two futures: the
/// first resolves on the first signal (stop), the second on the next one (cut the grace short).
pub fn stop_signals() -> io::Result<(
    impl Future<Output = ()> + Send + 'static,
    impl Future<Output = ()> + Send + 'static,
)> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (sig_tx, sig_rx) = tokio::sync::watch::channel(0u32);
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!("received {name}, stopping");
            sig_tx.send_modify(|n| *n += 1);
        }
    });
    let (mut first, mut second) = (sig_rx.clone(), sig_rx);
    Ok((
        async move {
            let _ = first.wait_for(|n| *n >= 1).await;
        },
        async move {
            let _ = second.wait_for(|n| *n >= 2).await;
        },
    ))
}

/// Runs the server in the foreground until SIGINT or SIGTERM: binds, writes `pid_file`, calls
/// `on_ready`, serves, shuts down gracefully (a second signal cuts the grace period short) and
/// removes the pid file.
pub fn run(
    config: &Config,
    pid_file: Option<&Path>,
    on_ready: impl FnOnce(&Ready),
) -> Result<ServeReport, Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let result = rt.block_on(async {
        // Handlers first, so a signal that arrives right after start-up is not fatal.
        let (first, second) = stop_signals().map_err(Error::Runtime)?;
        let root = std::fs::canonicalize(&config.root).map_err(|source| Error::Root {
            path: config.root.clone(),
            source,
        })?;
        let listener = bind(config).await?;
        let addr = listener.local_addr().map_err(Error::Runtime)?;
        let pid = pid_file.map(PidFile::create).transpose()?;
        on_ready(&Ready { addr, root });
        let report = serve(listener, config, first, second).await;
        drop(pid);
        report
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}
