//! `send-docker-image-alert`: the "Nightly Docker Image Check" Teams card from the check's
//! arguments. Drop-in for `team_alert/send_docker_image_alert.py`
//! (docs/send-docker-image-alert.md).

use std::process::ExitCode;

use alerts::Sent;
use alerts::common::Clock;
use alerts::docker::{self, DockerAlert};
use alerts::send::{self, test_card};
use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_ci::teams_glue::{Console, Sender, SenderFlags, non_empty};
use sglang_runner::flags::heading;

#[derive(Parser, Debug)]
#[command(
    name = "send-docker-image-alert",
    version = sglang_ci::VERSION,
    infer_long_args = true,
    about = "Send the Nightly Docker Image Check card to a Teams webhook",
    after_help = "Environment:\n  TEAMS_WEBHOOK_URL       webhook when --webhook-url is not given\n  DOCKER_IMAGE_REPO       repository shown and linked (default rocm/sgl-dev)\n  GITHUB_WORKFLOW_URL     nightly build workflow linked on warning/error cards\n  GITHUB_REPO             repository of the cron-log link (default ROCm/sglang-ci)\n  HARDWARE_TYPE           this host's hardware for the cron-log link (as --hardware)\n  SGLCI_TEAMS_TIMEOUT_S, SGLCI_TEAMS_ATTEMPTS, SGLCI_TEAMS_BACKOFF_MS  delivery policy\n\nExit codes: 0 sent (or --dry-run); 1 not sent, no webhook, or --status/--message missing; 2 bad flag."
)]
struct Args {
    /// success, warning or error (any other word is shown as error).
    #[arg(long, help_heading = heading::ORIGINAL)]
    status: Option<String>,
    /// Summary line (shown on warning/error cards).
    #[arg(long, help_heading = heading::ORIGINAL)]
    message: Option<String>,
    /// Detail lines (all words up to the next flag).
    #[arg(long, num_args = 0.., value_name = "DETAIL", help_heading = heading::ORIGINAL)]
    details: Vec<String>,
    /// Teams webhook URL.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "TEAMS_WEBHOOK_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    webhook_url: Option<String>,
    /// Images checked.
    #[arg(long, default_value_t = 0, help_heading = heading::ORIGINAL)]
    checked_count: u32,
    /// Images found.
    #[arg(long, default_value_t = 0, help_heading = heading::ORIGINAL)]
    found_count: u32,
    /// The checked date, YYYYMMDD (card title and cron-log link).
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ORIGINAL)]
    date_checked: Option<String>,
    /// Available image lines (all words up to the next flag).
    #[arg(long, num_args = 0.., value_name = "IMAGE", help_heading = heading::ORIGINAL)]
    available_images: Vec<String>,
    /// This host's hardware for the cron-log link (default: guessed from the images and the
    /// host name, as the original).
    #[arg(
        long,
        env = "HARDWARE_TYPE",
        value_name = "mi30x|mi35x",
        help_heading = heading::ADDITIONS,
    )]
    hardware: Option<String>,
    /// `--test-mode`, `--dry-run`, `--verbose`.
    #[command(flatten)]
    common: SenderFlags,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("send-docker-image-alert", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.common.verbose);
        send_alert(args)
    })
}

fn send_alert(args: Args) -> Result<ExitCode, Fatal> {
    let Some(Sender {
        url,
        console,
        target: tgt,
    }) = Sender::open(
        args.webhook_url.clone(),
        "--webhook-url",
        args.common.dry_run,
        &[],
    )
    else {
        return Ok(ExitCode::from(1));
    };
    let clock = Clock::system();
    let mut say = console.sink();
    if args.common.test_mode {
        say("🧪 Test mode: Sending simple Docker image alert test".into());
        let msg = test_card(
            "🧪 Docker Image Alert Test",
            "✅ If you see this message, your Teams webhook is working correctly for Docker image alerts!",
            &clock,
        );
        let r = send::deliver(msg, &tgt, "Docker image test alert", &mut say);
        return finish(r, &console, url.as_deref());
    }
    let (Some(status), Some(message)) = (args.status, args.message) else {
        say("❌ Error: --status and --message are required (unless using --test-mode)".into());
        return Ok(ExitCode::from(1));
    };
    let alert = DockerAlert {
        details: args.details,
        checked: args.checked_count,
        found: args.found_count,
        date_checked: non_empty(args.date_checked),
        available: args.available_images,
        clock,
        ..DockerAlert::from_env(status, message, non_empty(args.hardware))
    };
    let r = docker::send(&alert, &tgt, &mut say);
    finish(r, &console, url.as_deref())
}

fn finish(
    r: Result<Sent, teams::DeliveryError>,
    console: &Console,
    url: Option<&str>,
) -> Result<ExitCode, Fatal> {
    match r {
        Ok(sent @ Sent::DryRun(_)) => {
            console.dry_run(&sent, url);
            Ok(ExitCode::SUCCESS)
        }
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(_) => Ok(ExitCode::from(1)),
    }
}
