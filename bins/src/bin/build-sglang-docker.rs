//! `build-sglang-docker`: pull the upstream `lmsysorg/sglang` ROCm image named by SGLang's
//! Dockerfile, optionally overlaid with a pull request's source. Drop-in for
//! `upstream_ci/build_sglang_docker.sh` (docs/build-sglang-docker.md).

use std::fs::File;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use docker_ctl::{BlockingEngine, RegistryClient};
use image_jobs::upstream::{self, UpstreamConfig};
use sglang_ci::exit::Fatal;
use sglang_ci::sys::Tee;
use sglang_runner::flags::heading;

#[derive(Parser, Debug)]
#[command(
    name = "build-sglang-docker",
    version = sglang_ci::VERSION,
    about = "Pull the upstream lmsysorg/sglang ROCm image named by SGLang's Dockerfile; with --pr, build an image with that pull request's source at /sgl-workspace/sglang-pr",
    after_help = "Environment: GITHUB_DOCKERFILE_URL, SGL_BRANCH, GITHUB_TOKEN (flag fallbacks); SGL_BENCHMARK_CI_DIR (default log folder base);\nDOCKER_HOST (Docker daemon); SGLCI_REGISTRY_URL, SGLCI_GITHUB_RAW_URL, SGLCI_GITHUB_API_URL (endpoints, for tests).\nExit codes: 0 success; 1 any failure (Docker unreachable, tag/pull/PR/build failure, aborted); 2 unknown flag."
)]
struct Args {
    /// Dockerfile whose usage comment names the image tag (main branch; version branches use
    /// their own).
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "GITHUB_DOCKERFILE_URL",
        default_value = upstream::DEFAULT_DOCKERFILE_URL,
        value_name = "URL"
    )]
    github_dockerfile_url: String,

    /// Branch or version tag (`v0.4.9`).
    #[arg(long, env = "SGL_BRANCH", default_value = "main", help_heading = heading::ORIGINAL)]
    branch: String,

    /// Build an image with this pull request's source (PR mode).
    #[arg(long, value_name = "NUMBER", help_heading = heading::ORIGINAL)]
    pr: Option<u32>,

    /// GitHub token for the API (sent as `Authorization: token ...`, never printed).
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "GITHUB_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    github_token: Option<String>,

    /// PR mode: name of the container left running with the new image.
    #[arg(
        long,
        default_value = "sglang-pr-build",
        value_name = "NAME",
        help_heading = heading::ORIGINAL,
    )]
    container_name: String,

    /// PR mode: build a PR that is not open without asking.
    #[arg(long, help_heading = heading::ADDITIONS)]
    yes: bool,

    /// Folder of the run logs (default `<SGL_BENCHMARK_CI_DIR or .>/upstream_ci/build_docker_log`).
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    log_dir: Option<PathBuf>,

    /// Debug logging on stderr.
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("build-sglang-docker", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init_in(args.verbose, sglang_ci::logging::LogClock::Pacific);
        build(args)
    })
}

fn build(args: Args) -> Result<ExitCode, Fatal> {
    let now = chrono::Utc::now();
    let log_dir = args.log_dir.clone().unwrap_or_else(|| {
        std::env::var_os("SGL_BENCHMARK_CI_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join("upstream_ci/build_docker_log")
    });
    std::fs::create_dir_all(&log_dir)
        .map_err(|e| Fatal::new(1, format!("cannot create {}: {e}", log_dir.display())))?;
    let log_path = log_dir.join(upstream::log_file_name(args.pr, &args.branch, now));
    let log = File::create(&log_path)
        .map_err(|e| Fatal::new(1, format!("cannot create {}: {e}", log_path.display())))?;
    let mut out = Tee {
        a: std::io::stdout(),
        b: log,
    };
    let io = |e: std::io::Error| Fatal::new(1, format!("cannot write {}: {e}", log_path.display()));
    writeln!(out, "Logging all output to {}", log_path.display()).map_err(io)?;
    writeln!(out, "SGLang Docker Script").map_err(io)?;
    writeln!(out, "====================").map_err(io)?;
    let stamp = now
        .with_timezone(&docker_ctl::dates::PACIFIC)
        .format("%a %b %e %I:%M:%S %p %Z %Y");
    writeln!(out, "Timestamp: {stamp}").map_err(io)?;
    let dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|p| p.display().to_string()))
        .unwrap_or_default();
    writeln!(out, "Script directory: {dir}").map_err(io)?;
    writeln!(out, "Branch: {}", args.branch).map_err(io)?;
    if let Some(pr) = args.pr {
        writeln!(out, "PR Number: {pr}").map_err(io)?;
    }

    let engine = BlockingEngine::connect().map_err(|e| {
        let _ = writeln!(out, "Error: {e}");
        Fatal::new(1, e)
    })?;
    let registry = RegistryClient::from_env();
    let mut cfg = UpstreamConfig::new(args.github_dockerfile_url, args.branch, args.pr);
    cfg.github_token = args.github_token.filter(|t| !t.is_empty());
    cfg.container_name = args.container_name;
    cfg.yes = args.yes;
    let result = match args.pr {
        None => upstream::run_default(&cfg, &engine, &registry, &mut out),
        Some(pr) => upstream::run_pr(&cfg, pr, &engine, &registry, &mut out, &mut ask),
    };
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            let _ = writeln!(out, "Error: {e}");
            Err(Fatal::from_error(1, &e))
        }
    }
}

/// Asks on the terminal; without one (cron, CI) the answer is no.
fn ask(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{question}");
    }
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y")
}
