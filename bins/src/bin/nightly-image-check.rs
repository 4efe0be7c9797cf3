//! `nightly-image-check`: is tonight's `rocm/sgl-dev` image on Docker Hub for mi30x and mi35x,
//! and is it pullable? Drop-in for `scripts/nightly_image_check.sh` (docs/nightly-image-check.md).

use std::io::Write;
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use docker_ctl::{HubClient, RegistryClient, dates};
use image_jobs::image_check::{self, CheckConfig};
use sglang_ci::exit::Fatal;
use sglang_ci::sys;
use sglang_runner::flags::TeamsWebhookFlags;

/// Alert program looked for next to this binary, then on PATH.
const ALERT_PROGRAM: &str = "send-docker-image-alert";

#[derive(Parser, Debug)]
#[command(
    name = "nightly-image-check",
    version = sglang_ci::VERSION,
    about = "Check that the nightly rocm/sgl-dev images exist on Docker Hub for mi30x and mi35x and are pullable",
    after_help = "Environment:\n  IMAGE_REPO                  repository to check (default rocm/sgl-dev)\n  TIME_ZONE                   zone of the image dates and the Run Date/Time line (default America/Los_Angeles)\n  TEAMS_WEBHOOK_URL           webhook when --teams-webhook-url is not given\n  TEAMS_ALERT_SCRIPT          alert program to run instead of send-docker-image-alert (a .py file runs with python3)\n  SGLCI_DOCKERHUB_URL         Docker Hub base URL (default https://hub.docker.com)\n  SGLCI_REGISTRY_URL          registry base URL for the manifest check (default https://registry-1.docker.io)\n  SGLCI_DOCKERHUB_TIMEOUT_S   timeout of each request in seconds (default 15)\n  SGLCI_DOCKERHUB_BACKOFF_MS  first retry wait in milliseconds, doubled per retry (default 1000)\n\nExit codes: 0 all images available; 1 an image is missing or not pullable, or a bad --days/--date;\n3 Docker Hub or the registry could not be asked (nothing known to be missing); 2 unknown flag."
)]
struct Args {
    /// Check exactly this PT date, YYYYMMDD (default: today in TIME_ZONE).
    #[arg(long, value_name = "YYYYMMDD")]
    date: Option<String>,

    /// Check today and the N-1 previous days (ignored with --date, except for the header style).
    #[arg(long, value_name = "N", default_value = "1")]
    days: String,

    /// The Teams webhook (`--teams-webhook-url`, also `--teams-webhook`); without the flag,
    /// TEAMS_WEBHOOK_URL enables the alert (the original's rule for this script).
    #[command(flatten)]
    teams: TeamsWebhookFlags,

    /// Debug logging on stderr.
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    sglang_ci::exit::run("nightly-image-check", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.verbose);
        check(&args)
    })
}

fn check(args: &Args) -> Result<ExitCode, Fatal> {
    let days = parse_days(&args.days)?;
    if let Some(d) = &args.date
        && !dates::is_yyyymmdd(d)
    {
        return Err(Fatal::new(
            image_check::EXIT_MISSING,
            format!("--date must be a calendar date YYYYMMDD (got: {d})"),
        ));
    }
    let tz = dates::zone_from_env().map_err(|e| Fatal::new(1, e))?;
    let now = chrono::Utc::now();
    let today = dates::date_days_ago(now, tz, 0);
    let cfg = CheckConfig {
        repo: std::env::var("IMAGE_REPO")
            .ok()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "rocm/sgl-dev".into()),
        tz,
        dates: match &args.date {
            Some(d) => vec![d.clone()],
            None => dates::recent_dates(now, tz, days),
        },
        multi_date_header: days > 1,
        teams_date: args.date.clone().unwrap_or(today),
        hostname: sys::hostname(),
        now,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let report = image_check::run(
        &cfg,
        &HubClient::from_env(),
        &RegistryClient::from_env(),
        &mut out,
    )
    .map_err(|e| Fatal::new(1, format!("cannot write the report: {e}")))?;
    let from_env = || std::env::var("TEAMS_WEBHOOK_URL").ok();
    let webhook = match &args.teams.teams_webhook_url {
        Some(flag) => Some(flag.clone()),
        None => from_env(),
    };
    if let Some(url) = webhook.as_deref().filter(|u| !u.trim().is_empty()) {
        send_alert(&mut out, &report.alert_args(url))
            .map_err(|e| Fatal::new(1, format!("cannot write the report: {e}")))?;
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// "Positive integer without leading zero", as the original.
fn parse_days(v: &str) -> Result<u32, Fatal> {
    let ok = !v.is_empty() && !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| v.parse::<u32>().ok())
        .flatten()
        .ok_or_else(|| Fatal::new(1, format!("--days must be a positive integer (got: {v})")))
}

/// Runs the alert program; a missing program or a failed alert is a warning, never the exit
/// code (quirk Q-IMG-2 fix).
fn send_alert(out: &mut dyn Write, alert_args: &[String]) -> std::io::Result<()> {
    let mut cmd = match std::env::var("TEAMS_ALERT_SCRIPT")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        Some(script) if script.ends_with(".py") => {
            if !std::path::Path::new(&script).is_file() {
                writeln!(
                    out,
                    "[check] Warning: Teams alert script not found at {script}"
                )?;
                return Ok(());
            }
            let Some(py) = sys::find_program("python3") else {
                writeln!(
                    out,
                    "[check] Warning: python3 not available for Teams notifications"
                )?;
                return Ok(());
            };
            let mut c = Command::new(py);
            c.arg(script);
            c
        }
        Some(program) => {
            if !std::path::Path::new(&program).is_file() {
                writeln!(
                    out,
                    "[check] Warning: Teams alert script not found at {program}"
                )?;
                return Ok(());
            }
            Command::new(program)
        }
        None => match sys::find_program(ALERT_PROGRAM) {
            Some(p) => Command::new(p),
            None => {
                writeln!(out)?;
                writeln!(
                    out,
                    "[check] Teams alert skipped: {ALERT_PROGRAM} is not installed (looked next to this binary and on PATH)"
                )?;
                return Ok(());
            }
        },
    };
    cmd.args(alert_args);
    let sep = "=".repeat(42);
    writeln!(out)?;
    writeln!(out, "[check] {sep}")?;
    writeln!(out, "[check] Sending Teams Notification")?;
    writeln!(out, "[check] {sep}")?;
    out.flush()?;
    // The program's output (stdout and stderr together) is relayed masked: it may print the
    // webhook it was given, or what a failing HTTP client says about it.
    let (reader, writer) = std::io::pipe()?;
    cmd.stdout(writer.try_clone()?).stderr(writer);
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut reader = reader;
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let result = sys::run_with_limit(&mut cmd, Duration::from_secs(120));
    drop(cmd); // closes our copies of the pipe's write end
    let mut masker = report::redact::LineMasker::new();
    let mut write_err = None;
    let mut relay = |b: &[u8]| {
        if let Err(e) = out.write_all(b) {
            write_err.get_or_insert(e);
        }
    };
    // A grandchild that keeps the pipe open does not hold us: two seconds after the program
    // ended is all the output gets.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now())
        && let Ok(bytes) = rx.recv_timeout(left)
    {
        masker.push(&bytes, &mut relay);
    }
    masker.finish(&mut relay);
    if let Some(e) = write_err {
        return Err(e);
    }
    match result {
        Ok(Some(status)) if status.success() => {
            writeln!(out, "[check] Teams notification sent successfully")
        }
        Ok(Some(status)) => writeln!(
            out,
            "[check] Failed to send Teams notification ({status}); the image check result stands"
        ),
        Ok(None) => writeln!(
            out,
            "[check] Failed to send Teams notification (no answer within 120 s); the image check result stands"
        ),
        Err(e) => writeln!(out, "[check] Failed to send Teams notification ({e})"),
    }
}
