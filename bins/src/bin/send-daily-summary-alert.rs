//! `send-daily-summary-alert`: the Daily CI Summary Report of one machine, archived under
//! `BASE/team_alert/alert_log/` and sent to Teams. Drop-in for
//! `team_alert/send_daily_summary_alert.py` (docs/send-daily-summary-alert.md).

use std::path::PathBuf;
use std::process::ExitCode;

use alerts::Sent;
use alerts::common::{Clock, DEFAULT_GITHUB_REPO, hostname, parse_yyyymmdd};
use alerts::daily::{self, DailyConfig, Report};
use alerts::send::{self, test_card};
use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_ci::teams_glue::{Console, Sender, SenderFlags, no_webhook_lines, non_empty};
use sglang_runner::flags::heading;

/// The original's BASE when neither --base-dir nor SGL_BENCHMARK_CI_DIR is set.
const DEFAULT_BASE: &str = "/mnt/raid/michael/sglang-ci";

#[derive(Parser, Debug)]
#[command(
    name = "send-daily-summary-alert",
    version = sglang_ci::VERSION,
    infer_long_args = true,
    about = "Build the Daily CI Summary Report of one machine, archive it and send it to Teams",
    after_help = "Environment:\n  TEAMS_WEBHOOK_URL       webhook when --teams-webhook-url is not given (none: archive only)\n  HARDWARE_TYPE           default of --hardware\n  SGL_BENCHMARK_CI_DIR    default of --base-dir\n  GITHUB_REPO             repository of the links (default ROCm/sglang-ci)\n  SGLCI_TEAMS_TIMEOUT_S, SGLCI_TEAMS_ATTEMPTS, SGLCI_TEAMS_BACKOFF_MS  delivery policy\n\nExit codes: 0 archive written (even when Teams answered an HTTP error, as the original: cron\nchains the log upload on it); 1 archive not written, Teams unreachable, bad --date, or\n--test-mode without a webhook; 2 bad flag."
)]
struct Args {
    /// Teams webhook URL (empty or unset: the card is only archived).
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "TEAMS_WEBHOOK_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    teams_webhook_url: Option<String>,
    /// Report date YYYYMMDD (default: today, machine-local).
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ORIGINAL)]
    date: Option<String>,
    /// This machine's hardware.
    #[arg(
        long,
        env = "HARDWARE_TYPE",
        default_value = "mi30x",
        value_parser = ["mi30x", "mi35x"],
        help_heading = heading::ORIGINAL,
    )]
    hardware: String,
    /// The CI working directory (BASE).
    #[arg(
        long,
        env = "SGL_BENCHMARK_CI_DIR",
        default_value = DEFAULT_BASE,
        help_heading = heading::ORIGINAL,
    )]
    base_dir: PathBuf,
    /// `--test-mode`, `--dry-run`, `--verbose`.
    #[command(flatten)]
    common: SenderFlags,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("send-daily-summary-alert", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.common.verbose);
        summary(args)
    })
}

fn summary(args: Args) -> Result<ExitCode, Fatal> {
    let Sender {
        url,
        console,
        target: tgt,
    } = Sender::new(args.teams_webhook_url.clone(), args.common.dry_run, &[]);
    let clock = Clock::system();
    let mut say = console.sink();
    if args.common.test_mode {
        if url.is_none() && !args.common.dry_run {
            drop(say);
            no_webhook_lines(&console, "--teams-webhook-url");
            return Ok(ExitCode::from(1));
        }
        say("🧪 Test mode: Sending simple daily summary test".into());
        let msg = test_card(
            "🧪 Daily Summary Alert Test",
            "✅ If you see this message, your Teams webhook is working correctly for daily summary alerts!",
            &clock,
        );
        return finish(
            send::deliver(msg, &tgt, "daily summary test", &mut say),
            &console,
            url.as_deref(),
            true,
        );
    }
    let date = match non_empty(args.date) {
        Some(d) if parse_yyyymmdd(&d).is_none() => {
            return Err(Fatal::new(
                1,
                format!("--date must be a calendar date YYYYMMDD (got: {d})"),
            ));
        }
        Some(d) => d,
        None => clock.local_yyyymmdd(),
    };
    let cfg = DailyConfig {
        base_dir: args.base_dir,
        hardware: args.hardware,
        date,
        github_repo: non_empty(std::env::var("GITHUB_REPO").ok())
            .unwrap_or_else(|| DEFAULT_GITHUB_REPO.into()),
        host: hostname(),
        clock,
    };
    say(format!(
        "📅 Generating daily summary report for {}",
        cfg.date
    ));
    say(format!("🖥️  Hardware: {}", cfg.hardware));
    say(format!("📁 Base directory: {}", cfg.base_dir.display()));
    say(format!("📊 Collecting task results for {}...", cfg.date));
    let msg = Report::collect(&cfg).card(&cfg);
    match daily::write_archive(&cfg, &msg) {
        Ok(p) => say(format!("💾 Alert message saved to: {}", p.display())),
        Err(e) => {
            say(format!("❌ Error saving alert log: {e}"));
            return Ok(ExitCode::from(1));
        }
    }
    if url.is_none() && !args.common.dry_run {
        say("ℹ️  No Teams webhook URL provided, skipping Teams notification".into());
        return Ok(ExitCode::SUCCESS);
    }
    finish(
        send::deliver(msg, &tgt, "daily summary report", &mut say),
        &console,
        url.as_deref(),
        false,
    )
}

/// Exit status after delivery: an HTTP answer keeps 0 (quirk Y9, kept), a transport failure
/// is 1; in test mode any failure is 1.
fn finish(
    r: Result<Sent, teams::DeliveryError>,
    console: &Console,
    url: Option<&str>,
    test_mode: bool,
) -> Result<ExitCode, Fatal> {
    Ok(match r {
        Ok(sent @ Sent::DryRun(_)) => {
            console.dry_run(&sent, url);
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.status().is_some() && !test_mode => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    })
}
