//! `plots-server`: serve the plots tree over HTTP (the port of `server/plots_server.sh` +
//! `server/custom_http_server.py`). See docs/plots-server.md.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::{self, Fatal};
use sglang_runner::flags::heading;

/// Exit status when the server cannot start or stops on an error (bind, root, pid file).
const FAILED: u8 = 1;

/// Serve the benchmark plots tree (`<dir>/<ModelDir>/<mode>/*.png`) over HTTP: directory
/// listings with image previews, HEAD, Range, ETag / conditional GET. Nothing outside the
/// plots directory is ever served. Runs in the foreground until SIGINT or SIGTERM, then lets
/// in-flight requests finish.
///
/// Exit status: 0 stopped by SIGINT/SIGTERM, 1 could not start (port in use, missing
/// directory, pid file of a running server), 2 bad flags.
#[derive(Debug, Parser)]
#[command(name = "plots-server", version = sglang_ci::VERSION)]
struct Args {
    /// Port as a bare word, the original launcher's backward-compatible form
    /// (`plots-server 8080`); overrides --port.
    #[arg(value_name = "PORT")]
    port_word: Option<u16>,

    /// Port to listen on (0 = any free port, printed at start).
    #[arg(
        long,
        env = "HTTP_SERVER_PORT",
        default_value_t = plots_server::DEFAULT_PORT,
        help_heading = heading::ORIGINAL,
    )]
    port: u16,

    /// Address (or host name) to listen on.
    #[arg(
        long,
        env = "HTTP_SERVER_BIND",
        default_value = "0.0.0.0",
        help_heading = heading::ADDITIONS,
    )]
    bind: String,

    /// Directory to serve; created with `<model>/offline` and `<model>/online` for each of
    /// --model-dirs when missing, as the original launcher did. Also `--plots_dir`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "PLOTS_SERVER_DIR",
        value_name = "DIR",
        default_value = "/mnt/raid/michael/sglang-ci/plots_server"
    )]
    plots_dir: PathBuf,

    /// Title of the listing pages.
    #[arg(
        long,
        env = "HTTP_SERVER_TITLE",
        default_value = plots_server::DEFAULT_TITLE,
        help_heading = heading::ADDITIONS,
    )]
    title: String,

    /// Write the server's process id to FILE at start; removed at exit. Refused when FILE names
    /// another running process.
    #[arg(
        long,
        env = "PLOTS_SERVER_PID_FILE",
        value_name = "FILE",
        help_heading = heading::ADDITIONS,
    )]
    pid_file: Option<PathBuf>,

    /// Model directories created in a new plots directory and advertised at start
    /// (space-separated).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        env = "PLOTS_MODEL_DIRS",
        default_value = "GROK1 DeepSeek-V3-0324"
    )]
    model_dirs: String,

    /// Ports suggested when --port is busy (space-separated).
    #[arg(
        long,
        env = "ALTERNATIVE_PORTS",
        default_value = "8001 8080 8888 9000",
        help_heading = heading::ADDITIONS,
    )]
    alternative_ports: String,

    /// `--max-connections`, `--header-timeout`, `--idle-timeout`, `--shutdown-timeout`.
    #[command(flatten)]
    connections: sglang_ci::server_args::ConnectionFlags,

    /// Accepted for compatibility with the original launcher and ignored (there is no Python
    /// server script any more).
    #[arg(
        long,
        value_name = "PATH",
        env = "HTTP_SERVER_SCRIPT",
        hide_env = true,
        help_heading = heading::ORIGINAL,
    )]
    server_script: Option<PathBuf>,

    /// Debug logging (stderr).
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("plots-server", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.verbose);
        run(args)
    })
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[allow(clippy::print_stdout)]
fn run(args: Args) -> Result<ExitCode, Fatal> {
    if let Some(script) = &args.server_script {
        tracing::warn!(
            "--server-script {} ignored: plots-server is the server",
            script.display()
        );
    }
    let model_dirs = words(&args.model_dirs);
    let alternative_ports = words(&args.alternative_ports)
        .iter()
        .map(|p| p.parse::<u16>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Fatal::new(
                2,
                format!("ALTERNATIVE_PORTS / --alternative-ports: {e}: give port numbers separated by spaces"),
            )
        })?;
    let config = plots_server::Config {
        root: args.plots_dir.clone(),
        bind: args.bind.clone(),
        port: args.port_word.unwrap_or(args.port),
        title: args.title.clone(),
        limits: args.connections.limits(),
        alternative_ports,
    };
    let fail = |e: plots_server::Error| Fatal::from_error(FAILED, &e);
    if let Some(created) = plots_server::prepare_root(&config.root, &model_dirs).map_err(fail)? {
        println!("Creating plots directory: {}", config.root.display());
        for m in created {
            println!("Created directories for model: {m}");
        }
    }
    let report = plots_server::run(&config, args.pid_file.as_deref(), |ready| {
        let base = ready.base_url();
        println!(
            "Serving HTTP on {} port {} from directory '{}'...",
            config.bind,
            ready.addr.port(),
            ready.root.display()
        );
        println!("Directory listing title will be: \"{}\"", config.title);
        println!();
        println!("Navigate to:");
        println!("  - {base}/ to browse all plots");
        for m in &model_dirs {
            for mode in ["offline", "online"] {
                if ready.root.join(m).join(mode).is_dir() {
                    println!("  - {base}/{m}/{mode}/ for {m} {mode} plots");
                }
            }
        }
        println!();
        println!("Press Ctrl+C to stop the server");
        let _ = std::io::stdout().flush();
    })
    .map_err(fail)?;
    tracing::info!(
        "served {} connection(s){}",
        report.connections,
        if report.forced_closed > 0 {
            format!(", closed {} unfinished at shutdown", report.forced_closed)
        } else {
            String::new()
        }
    );
    println!("Server stopped.");
    Ok(ExitCode::SUCCESS)
}
