//! `send-test-nightly-alert`: the unit-test or PD-test Teams card from a test log. Drop-in for
//! `team_alert/send_test_nightly_alert.py` (docs/send-test-nightly-alert.md).

use std::path::PathBuf;
use std::process::ExitCode;

use alerts::AlertError;
use alerts::Sent;
use alerts::common::{Clock, DEFAULT_GITHUB_REPO, hostname, parse_yyyymmdd};
use alerts::send::{self, test_card};
use alerts::test_nightly::{self, Context, Outcome};
use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_ci::teams_glue::{Sender, SenderFlags, non_empty};
use sglang_runner::flags::heading;

#[derive(Parser, Debug)]
#[command(
    name = "send-test-nightly-alert",
    version = sglang_ci::VERSION,
    infer_long_args = true,
    about = "Send the unit-test or PD-test card of a nightly test log to a Teams webhook",
    after_help = "A path containing test_summary.txt or pd_log is a PD summary; anything else a unit-test log.\n\nEnvironment:\n  TEAMS_WEBHOOK_URL       webhook when --webhook-url is not given\n  GITHUB_REPO             repository of the cron-log link (default ROCm/sglang-ci)\n  SGLCI_TEAMS_TIMEOUT_S, SGLCI_TEAMS_ATTEMPTS, SGLCI_TEAMS_BACKOFF_MS  delivery policy\n\nExit codes: 0 sent, printed (--dry-run) or held back (fallback image); 1 not sent, no webhook,\nno or unreadable --log-file; 2 bad flag."
)]
struct Args {
    /// Teams webhook URL.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "TEAMS_WEBHOOK_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    webhook_url: Option<String>,
    /// The unit-test log or the PD test_summary.txt.
    #[arg(long, value_name = "PATH", help_heading = heading::ORIGINAL)]
    log_file: Option<PathBuf>,
    /// The night of the run, YYYYMMDD (default: today, Pacific): a log whose image is older
    /// is a fallback-image run.
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ADDITIONS)]
    run_date: Option<String>,
    /// Also send cards of fallback-image runs (they are held back by default).
    #[arg(long, help_heading = heading::ADDITIONS)]
    alert_on_fallback: bool,
    /// `--test-mode`, `--dry-run`, `--verbose`.
    #[command(flatten)]
    common: SenderFlags,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("send-test-nightly-alert", || {
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
    let run_date = match non_empty(args.run_date) {
        Some(d) if parse_yyyymmdd(&d).is_none() => {
            return Err(Fatal::new(
                1,
                format!("--run-date must be YYYYMMDD (got: {d})"),
            ));
        }
        Some(d) => d,
        None => clock.pacific_date().replace('-', ""),
    };
    let mut say = console.sink();
    let result = if args.common.test_mode {
        say("🧪 Test mode: Sending simple unit test alert test".into());
        let msg = test_card(
            "🧪 Unit Test Alert Test",
            "✅ If you see this message, your Teams webhook is working correctly for unit test alerts!",
            &clock,
        );
        send::deliver(msg, &tgt, "unit test test alert", &mut say)
            .map(Outcome::Sent)
            .map_err(AlertError::from)
    } else {
        let Some(path) = args.log_file.as_deref() else {
            say("❌ Error: --log-file is required (unless using --test-mode)".into());
            return Ok(ExitCode::from(1));
        };
        let ctx = Context {
            github_repo: non_empty(std::env::var("GITHUB_REPO").ok())
                .unwrap_or_else(|| DEFAULT_GITHUB_REPO.into()),
            host: hostname(),
            clock,
        };
        test_nightly::run(
            path,
            &ctx,
            &run_date,
            args.alert_on_fallback,
            &tgt,
            &mut say,
        )
    };
    match result {
        Ok(Outcome::Sent(sent @ Sent::DryRun(_))) => {
            drop(say);
            console.dry_run(&sent, url.as_deref());
            Ok(ExitCode::SUCCESS)
        }
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(AlertError::Delivery(_)) => Ok(ExitCode::from(1)),
        Err(e) => {
            say(format!("❌ Error: {e}"));
            Ok(ExitCode::from(1))
        }
    }
}
