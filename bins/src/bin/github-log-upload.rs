//! `github-log-upload`: mirror a day's cron logs or a sanity-check folder into the `log` branch
//! of the log repository (port of `cron/github_log_upload.sh`). See docs/github-log-upload.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use log_upload::{Config, LogType, Request};
use sglang_ci::exit::{self, Fatal};

/// Exit status for a bad environment variable or an unusable working directory.
const BAD_INPUT: u8 = 2;

/// Push a log folder to the `log` branch of the log repository (GITHUB_REPO), through a working
/// clone reused between runs: mirror with deletions, one commit, pull --rebase and retry when
/// the push is rejected, under a lock so two uploads on one host never interleave.
///
/// Exit status: 0 uploaded, nothing to upload or no changes; 1 a git command failed or timed
/// out, or every push was rejected; 2 bad environment or a local file error; 3 another upload
/// held the lock for the whole wait.
#[derive(Debug, Parser)]
#[command(name = "github-log-upload", version = sglang_ci::VERSION)]
struct Args {
    /// Day folder `YYYYMMDD` [default: today, machine-local]. For `sanity` without FOLDER:
    /// the folder name. Ignored when FOLDER is given. An empty string means the default.
    date: Option<String>,

    /// Hardware sub-folder [default: env HARDWARE_TYPE, else `unknown`].
    hardware_type: Option<String>,

    /// `cron` (default) or `sanity`; anything else behaves like `cron`.
    log_type: Option<String>,

    /// Folder name under the type's tree, or an absolute path (type and hardware are then
    /// taken from a `/cron_log/<hw>/` or `/sanity_check_log/<hw>/` in it).
    folder: Option<String>,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    exit::run("github-log-upload", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(false);
        run(args)
    })
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A whole number of seconds from the environment, or `default`.
fn env_secs(name: &str, default: u64) -> Result<Duration, Fatal> {
    match env(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| {
                Fatal::new(
                    BAD_INPUT,
                    format!("{name}={v:?} is not a whole number of seconds"),
                )
            }),
    }
}

fn absolute(p: PathBuf, cwd: &Path) -> PathBuf {
    if p.is_absolute() { p } else { cwd.join(p) }
}

fn run(args: Args) -> Result<ExitCode, Fatal> {
    let nonempty = |o: Option<String>| o.filter(|s| !s.is_empty());
    let now = chrono::Local::now();
    let hardware = nonempty(args.hardware_type)
        .or_else(|| env("HARDWARE_TYPE"))
        .unwrap_or_else(|| "unknown".to_owned());
    let req = Request {
        date: nonempty(args.date).unwrap_or_else(|| now.format("%Y%m%d").to_string()),
        hardware,
        log_type: LogType::parse(args.log_type.as_deref().unwrap_or("cron")),
        folder: nonempty(args.folder),
    };
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal::new(BAD_INPUT, format!("cannot read the working directory: {e}")))?;
    let ci_dir = absolute(
        env("SGL_BENCHMARK_CI_DIR").map_or_else(|| cwd.clone(), PathBuf::from),
        &cwd,
    );
    let repo = env("GITHUB_REPO").unwrap_or_else(|| log_upload::DEFAULT_REPO.to_owned());
    let cfg = Config {
        remote: env("SGLCI_LOG_REMOTE").unwrap_or_else(|| format!("https://github.com/{repo}.git")),
        repo,
        token: env("GITHUB_TOKEN"),
        clone_dir: absolute(
            PathBuf::from(
                env("SGLCI_LOG_CLONE").unwrap_or_else(|| log_upload::DEFAULT_CLONE_DIR.to_owned()),
            ),
            &cwd,
        ),
        git_timeout: env_secs("SGLCI_GIT_TIMEOUT_S", 300)?,
        lock_wait: env_secs("SGLCI_LOG_LOCK_WAIT_S", 1800)?,
        push_attempts: 3,
    };
    let plan = log_upload::plan(&req, &ci_dir);
    let stamp = now.format("%Y%m%d_%H%M").to_string();
    let mut out = std::io::stdout();
    let mut say = |line: &str| {
        // A closed stdout must not stop an upload half-way: lines are best effort.
        let _ = writeln!(out, "{}", report::redact::redact(line));
        let _ = out.flush();
    };
    log_upload::upload(&cfg, &plan, &stamp, &mut say)
        .map_err(|e| Fatal::from_error(e.exit_code(), &e))?;
    Ok(ExitCode::SUCCESS)
}
