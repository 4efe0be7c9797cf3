//! `send-teams-notification`: the benchmark result card (or, with `--mode sanity`, the
//! sanity-check card) of a nightly run. Drop-in for `team_alert/send_teams_notification.py`
//! (docs/send-teams-notification.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use alerts::Sent;
use alerts::benchmark::{self, BenchmarkConfig, Mode, ModeFlags, Model, Outcome, Upload};
use alerts::common::{Clock, DEFAULT_GITHUB_REPO, hostname, parse_yyyymmdd};
use alerts::github::DEFAULT_API_URL;
use alerts::sanity_card::{self, SanityConfig};
use alerts::send::{self, test_card};
use clap::Parser;
use report::regression::Rule;
use sglang_ci::exit::Fatal;
use sglang_ci::teams_glue::{Sender, SenderFlags, non_empty};
use sglang_runner::flags::heading;

#[derive(Parser, Debug)]
#[command(
    name = "send-teams-notification",
    version = sglang_ci::VERSION,
    infer_long_args = true,
    about = "Send the benchmark result card (or the sanity-check card) of a nightly run to Teams",
    after_help = "Environment:\n  TEAMS_WEBHOOK_URL       webhook when --webhook-url is not given\n  GITHUB_TOKEN            token when --github-token is not given (with --github-upload)\n  GITHUB_REPO             repository of the links without --github-repo (default ROCm/sglang-ci)\n  GITHUB_API_URL          GitHub API base for uploads (default https://api.github.com)\n  SGLCI_DB_URL            history store of the performance analysis when --db is not given\n  PLOT_SERVER_BASE_URL, PLOT_SERVER_HOST, PLOT_SERVER_PORT  plot links (http://<host>:<port>)\n  SGLCI_TEAMS_TIMEOUT_S, SGLCI_TEAMS_ATTEMPTS, SGLCI_TEAMS_BACKOFF_MS  delivery policy\n\nExit codes: 0 sent, printed (--dry-run) or held back (fallback image); 1 not sent, no webhook,\nmissing --model/--mode/--docker-image, or no sanity log; 2 bad flag."
)]
struct Args {
    /// Model family.
    #[arg(
        long,
        value_parser = ["grok", "grok2", "deepseek", "DeepSeek-V3"],
        help_heading = heading::ORIGINAL,
    )]
    model: Option<String>,
    /// Benchmark mode; `sanity` sends the sanity-check card.
    #[arg(long, value_parser = ["online", "offline", "sanity"], help_heading = heading::ORIGINAL)]
    mode: Option<String>,
    /// Teams webhook URL.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "TEAMS_WEBHOOK_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    webhook_url: Option<String>,
    /// Root of the plot tree <plot-dir>/<ModelDir>/<mode>/*.png (default ~/sglang-ci/plots_server).
    #[arg(long, value_name = "DIR", help_heading = heading::ORIGINAL)]
    plot_dir: Option<PathBuf>,
    /// Root of the run tree <benchmark-dir>/<mode>/<ModelDir>/<run>/ (default ~/sglang-ci).
    #[arg(long, value_name = "DIR", help_heading = heading::ORIGINAL)]
    benchmark_dir: Option<PathBuf>,
    /// Probe the plot server before sending (warnings only).
    #[arg(long, help_heading = heading::ORIGINAL)]
    check_server: bool,
    /// Do not analyse logs: plots only.
    #[arg(long, help_heading = heading::ORIGINAL)]
    skip_analysis: bool,
    /// Look-back window in days of the legacy regression rule.
    #[arg(long, default_value_t = 7, help_heading = heading::ORIGINAL)]
    analysis_days: u32,
    /// Upload the plots to the repository's `log` branch and link them there.
    #[arg(long, help_heading = heading::ORIGINAL)]
    github_upload: bool,
    /// owner/repo of the upload (required with --github-upload).
    #[arg(long, value_name = "OWNER/REPO", help_heading = heading::ORIGINAL)]
    github_repo: Option<String>,
    /// Token of the upload.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        env = "GITHUB_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    github_token: Option<String>,
    /// DP-attention run.
    #[arg(long, help_heading = heading::ORIGINAL)]
    check_dp_attention: bool,
    /// Torch-compile run.
    #[arg(long, help_heading = heading::ORIGINAL)]
    enable_torch_compile: bool,
    /// DeepSeek DP throughput test.
    #[arg(long, help_heading = heading::ORIGINAL)]
    enable_dp_test: bool,
    /// DeepSeek MTP test.
    #[arg(long, help_heading = heading::ORIGINAL)]
    enable_mtp_test: bool,
    /// The image date YYYYMMDD (default: today, machine-local): logs, plots, cron link.
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ORIGINAL)]
    benchmark_date: Option<String>,
    /// Hardware of the upload path plot/<hardware>/...
    #[arg(
        long,
        default_value = "mi30x",
        value_parser = ["mi30x", "mi35x"],
        help_heading = heading::ORIGINAL,
    )]
    hardware: String,
    /// Image tag of the sanity check (--mode sanity).
    #[arg(long, value_name = "TAG", help_heading = heading::ORIGINAL)]
    docker_image: Option<String>,
    /// Root of the sanity logs <dir>/<hw>/<tag>/ (default <benchmark-dir>/test/sanity_check_log).
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    sanity_log_dir: Option<PathBuf>,
    /// The night of the run, YYYYMMDD (default: today, Pacific): an older --benchmark-date is a
    /// fallback image.
    #[arg(long, value_name = "YYYYMMDD", help_heading = heading::ADDITIONS)]
    run_date: Option<String>,
    /// Also send cards of fallback-image runs (held back by default).
    #[arg(long, help_heading = heading::ADDITIONS)]
    alert_on_fallback: bool,
    /// Regression rule of the performance analysis.
    #[arg(
        long,
        default_value = "robust",
        value_parser = ["robust", "legacy", "off"],
        help_heading = heading::ADDITIONS,
    )]
    regression_rule: String,
    /// Mark the card as simulated (also detected from -SIM run folders).
    #[arg(long, help_heading = heading::ADDITIONS)]
    simulated: bool,
    /// History store the performance analysis reads its series from (SQLite path or
    /// postgres:// URL; default: SGLCI_DB_URL, else <benchmark-dir>/database/ci_history.sqlite
    /// when it exists, else the run folders).
    #[arg(long, value_name = "URL", help_heading = heading::ADDITIONS)]
    db: Option<String>,
    /// `--test-mode`, `--dry-run`, `--verbose`.
    #[command(flatten)]
    common: SenderFlags,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("send-teams-notification", || {
        let args: Args = sglang_ci::cli::parse();
        sglang_ci::logging::init(args.common.verbose);
        notify(args)
    })
}

fn home(rel: &str) -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from(rel), |h| PathBuf::from(h).join(rel))
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

fn notify(args: Args) -> Result<ExitCode, Fatal> {
    let token = non_empty(args.github_token.clone());
    let secrets = [token.as_deref().unwrap_or_default()];
    let dry_run = args.common.dry_run;
    let Some(Sender {
        url,
        console,
        target: tgt,
    }) = Sender::open(args.webhook_url.clone(), "--webhook-url", dry_run, &secrets)
    else {
        return Ok(ExitCode::from(1));
    };
    let clock = Clock::system();
    let mut say = console.sink();
    let link_repo = args
        .github_repo
        .clone()
        .or_else(|| non_empty(env("GITHUB_REPO")))
        .unwrap_or_else(|| DEFAULT_GITHUB_REPO.into());
    let benchmark_dir = args
        .benchmark_dir
        .clone()
        .unwrap_or_else(|| home("sglang-ci"));
    let result = if args.common.test_mode {
        say("🧪 Test mode: Sending simple adaptive card to verify Teams connectivity".into());
        let msg = test_card(
            "🧪 Teams Notification Test",
            "✅ If you see this message, your Teams webhook and adaptive card support are working correctly!",
            &clock,
        );
        send::deliver(msg, &tgt, "test notification", &mut say).map(Outcome::Sent)
    } else if args.mode.as_deref() == Some("sanity") {
        let Some(tag) = non_empty(args.docker_image.clone()) else {
            say("❌ Error: --docker-image is required for sanity check mode".into());
            say("   Example: --docker-image 'v0.5.3rc0-rocm630-mi30x-20251001'".into());
            return Ok(ExitCode::from(1));
        };
        say("🔍 Sanity check mode: Processing sanity check results".into());
        let cfg = SanityConfig {
            docker_image: tag,
            log_root: args
                .sanity_log_dir
                .clone()
                .unwrap_or_else(|| benchmark_dir.join("test/sanity_check_log")),
            github_repo: link_repo,
            host: hostname(),
            clock,
        };
        match sanity_card::run(&cfg, &tgt, &mut say) {
            Ok(sent) => Ok(Outcome::Sent(sent)),
            Err(alerts::AlertError::Delivery(e)) => Err(e),
            Err(e) => {
                say(format!("❌ Error: {e}"));
                return Ok(ExitCode::from(1));
            }
        }
    } else {
        let (Some(model), Some(mode)) = (args.model.as_deref(), args.mode.as_deref()) else {
            say("❌ Error: --model and --mode are required (unless using --test-mode or --mode sanity)".into());
            return Ok(ExitCode::from(1));
        };
        let cfg = match benchmark_config(&args, model, mode, benchmark_dir, link_repo, token, clock)
        {
            Ok(c) => c,
            Err(line) => {
                say(line);
                return Ok(ExitCode::from(1));
            }
        };
        if let Some(up) = &cfg.upload {
            say(format!(
                "🐙 GitHub upload mode: Images will be uploaded to {}",
                up.repo
            ));
            say(
                "🐙 GitHub upload mode: Images will be uploaded to GitHub and embedded in Teams"
                    .into(),
            );
        } else {
            say(format!("📡 Plot server base URL: {}", cfg.plot_server));
            if args.check_server {
                benchmark::check_server(&cfg.plot_server, &mut say);
            }
        }
        match benchmark::run(&cfg, &tgt, &mut say) {
            Ok(o) => Ok(o),
            Err(alerts::AlertError::Delivery(e)) => Err(e),
            Err(e) => {
                say(format!("❌ Error: {e}"));
                return Ok(ExitCode::from(1));
            }
        }
    };
    drop(say);
    match result {
        Ok(Outcome::Sent(sent @ Sent::DryRun(_))) => {
            console.dry_run(&sent, url.as_deref());
            Ok(ExitCode::SUCCESS)
        }
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(_) => {
            console.say("💥 Failed to send Teams notification");
            Ok(ExitCode::from(1))
        }
    }
}

fn benchmark_config(
    args: &Args,
    model: &str,
    mode: &str,
    benchmark_dir: PathBuf,
    link_repo: String,
    token: Option<String>,
    clock: Clock,
) -> Result<BenchmarkConfig, String> {
    let upload = if args.github_upload {
        match (non_empty(args.github_repo.clone()), token) {
            (Some(repo), Some(token)) => Some(Upload {
                api_url: non_empty(env("GITHUB_API_URL")).unwrap_or_else(|| DEFAULT_API_URL.into()),
                repo,
                token,
                timeout: Duration::from_secs(30),
            }),
            _ => {
                return Err("❌ Error: --github-repo and --github-token (or GITHUB_TOKEN env var) required for GitHub upload".into());
            }
        }
    } else {
        None
    };
    for (flag, v) in [
        ("--benchmark-date", &args.benchmark_date),
        ("--run-date", &args.run_date),
    ] {
        if let Some(d) = v.as_deref().filter(|d| parse_yyyymmdd(d).is_none()) {
            return Err(format!("❌ Error: {flag} must be YYYYMMDD (got: {d})"));
        }
    }
    let rule = match args.regression_rule.as_str() {
        "off" => None,
        "legacy" => Some(Rule::Legacy {
            window_days: args.analysis_days,
            threshold_pct: report::regression::DEFAULT_THRESHOLD_PCT,
        }),
        _ => Some(Rule::default()),
    };
    let store =
        history_store::Location::configured(non_empty(args.db.clone()).as_deref(), &benchmark_dir)
            .map_err(|e| format!("❌ Error: --db / SGLCI_DB_URL: {e}"))?;
    Ok(BenchmarkConfig {
        model: Model::parse(model).ok_or_else(|| format!("❌ Error: unknown --model {model}"))?,
        mode: if mode == "offline" {
            Mode::Offline
        } else {
            Mode::Online
        },
        plot_dir: args
            .plot_dir
            .clone()
            .unwrap_or_else(|| home("sglang-ci/plots_server")),
        benchmark_dir,
        skip_analysis: args.skip_analysis,
        flags: ModeFlags {
            dp_attention: args.check_dp_attention,
            torch_compile: args.enable_torch_compile,
            dp_test: args.enable_dp_test,
            mtp_test: args.enable_mtp_test,
        },
        benchmark_date: non_empty(args.benchmark_date.clone()),
        hardware: args.hardware.clone(),
        link_repo,
        upload,
        plot_server: benchmark::plot_server_base(
            env("PLOT_SERVER_BASE_URL").as_deref(),
            env("PLOT_SERVER_HOST").as_deref(),
            env("PLOT_SERVER_PORT").as_deref(),
        ),
        run_date: non_empty(args.run_date.clone())
            .unwrap_or_else(|| clock.pacific_date().replace('-', "")),
        alert_on_fallback: args.alert_on_fallback,
        simulated: args.simulated,
        rule,
        store,
        host: hostname(),
        clock,
    })
}
