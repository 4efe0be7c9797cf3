//! `nightly-image-check`: is tonight's `rocm/sgl-dev` image on Docker Hub for mi30x and mi35x,
//! and is it pullable? Drop-in for `scripts/nightly_image_check.sh` (docs/nightly-image-check.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use alerts::docker::DockerAlert;
use clap::Parser;
use docker_ctl::{HubClient, RegistryClient, dates};
use image_jobs::image_check::{self, CheckConfig, CheckReport};
use sglang_ci::exit::Fatal;
use sglang_ci::sys;
use sglang_runner::flags::TeamsWebhookFlags;
use sglang_runner::flags::heading;

#[derive(Parser, Debug)]
#[command(
    name = "nightly-image-check",
    version = sglang_ci::VERSION,
    about = "Check that the nightly rocm/sgl-dev images exist on Docker Hub for mi30x and mi35x and are pullable",
    after_help = "Environment:\n  IMAGE_REPO                  repository to check (default rocm/sgl-dev)\n  TIME_ZONE                   zone of the image dates and the Run Date/Time line (default America/Los_Angeles)\n  TEAMS_WEBHOOK_URL           webhook when --teams-webhook-url is not given\n  HARDWARE_TYPE               this host's hardware for the card's cron-log link\n  SGLCI_TEAMS_TIMEOUT_S, SGLCI_TEAMS_ATTEMPTS, SGLCI_TEAMS_BACKOFF_MS  Teams delivery policy\n  SGLCI_DOCKERHUB_URL         Docker Hub base URL (default https://hub.docker.com)\n  SGLCI_REGISTRY_URL          registry base URL for the manifest check (default https://registry-1.docker.io)\n  SGLCI_DOCKERHUB_TIMEOUT_S   timeout of each request in seconds (default 15)\n  SGLCI_DOCKERHUB_BACKOFF_MS  first retry wait in milliseconds, doubled per retry (default 1000)\n\nExit codes: 0 all images available; 1 an image is missing or not pullable, or a bad --days/--date;\n3 Docker Hub or the registry could not be asked (nothing known to be missing); 2 unknown flag."
)]
struct Args {
    /// Check exactly this PT date, YYYYMMDD (default: today in TIME_ZONE).
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ORIGINAL)]
    date: Option<String>,

    /// Check today and the N-1 previous days (ignored with --date, except for the header style).
    #[arg(long, value_name = "N", default_value = "1", help_heading = heading::ORIGINAL)]
    days: String,

    /// The Teams webhook (`--teams-webhook-url`, also `--teams-webhook`); without the flag,
    /// TEAMS_WEBHOOK_URL enables the alert (the original's rule for this script).
    #[command(flatten)]
    teams: TeamsWebhookFlags,

    /// `--report-json`: the check's JSON summary (`-` is stdout; the report lines then go to
    /// stderr).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::ADDITIONS,
        help = "Write a JSON summary (per date and hardware: tag, outcome; exit code, status) to \
                FILE at the end; `-` is stdout, and the report lines then go to stderr"
    )]
    report_json: Option<PathBuf>,

    /// Debug logging on stderr.
    #[arg(short, long, help_heading = heading::LOGGING)]
    verbose: bool,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("nightly-image-check", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init_in(args.verbose, sglang_ci::logging::LogClock::Pacific);
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
    let to_stdout = args
        .report_json
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "-");
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
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
        send_alert(&mut out, &report, url)
            .map_err(|e| Fatal::new(1, format!("cannot write the report: {e}")))?;
    }
    drop(out);
    if let Some(path) = &args.report_json {
        let text = serde_json::to_string_pretty(&report.summary(&cfg.repo))
            .map_err(|e| Fatal::new(1, format!("cannot encode the report: {e}")))?;
        report::atomic::write_atomic(path, format!("{text}\n").as_bytes())
            .map_err(|e| Fatal::new(1, e))?;
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

/// Sends the "Nightly Docker Image Check" card through the alerts library (the card of
/// send-docker-image-alert); a failed delivery is a line in the report, never the exit code
/// (quirk Q-IMG-2 fix). Every line is masked: it may name the webhook.
fn send_alert(out: &mut dyn Write, report: &CheckReport, url: &str) -> std::io::Result<()> {
    let alert = DockerAlert {
        details: report
            .missing
            .iter()
            .chain(&report.unchecked)
            .cloned()
            .collect(),
        checked: u32::try_from(report.checked).unwrap_or(u32::MAX),
        found: u32::try_from(report.found).unwrap_or(u32::MAX),
        date_checked: Some(report.teams_date.clone()),
        available: report.available.clone(),
        ..DockerAlert::from_env(
            report.status().to_owned(),
            report.message(),
            std::env::var("HARDWARE_TYPE")
                .ok()
                .filter(|h| !h.trim().is_empty()),
        )
    };
    let target = alerts::Target {
        webhook: Some(teams::Webhook::new(url, teams::RetryPolicy::from_env())),
        dry_run: false,
    };
    let sep = "=".repeat(42);
    writeln!(out)?;
    writeln!(out, "[check] {sep}")?;
    writeln!(out, "[check] Sending Teams Notification")?;
    writeln!(out, "[check] {sep}")?;
    let mut lines = Vec::new();
    let sent = alerts::docker::send(&alert, &target, &mut |l| lines.push(l));
    for l in lines {
        writeln!(
            out,
            "{}",
            report::redact::redact_with(&l, &[url.to_owned()])
        )?;
    }
    match sent {
        Ok(_) => writeln!(out, "[check] Teams notification sent successfully"),
        Err(e) => writeln!(
            out,
            "[check] Failed to send Teams notification ({}); the image check result stands",
            report::redact::redact_with(&e.to_string(), &[url.to_owned()])
        ),
    }
}
