//! Post-processing after each mode (spec benchmarks.md §8.11) and the Teams hook (§8.12).
//!
//! The Teams card is built and sent in this process through the `alerts` library. The plot
//! programs (`process-online-plots`, `process-offline-plots`) are this toolkit's binaries, run
//! as processes on this machine
//! (the original ran Python scripts inside the container after a `pip install`): found next to
//! `perf-nightly`, then on `PATH`. A missing program is one log line saying the step is
//! skipped. A failing plot run is a warning (fix F-20): the night goes on to Teams and to
//! stopping the container.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command::CommandSpec;
use crate::config::EnvSource;
use crate::engine::find_program;
use crate::exec::{Executor, LocalExecutor, RunEnd};
use crate::signals::Interrupt;

use super::BenchmarkEnd;
use super::config::{Mode, NightlyConfig, NightlyModel, RegressionRule};
use crate::console::Console;

/// The online plot program.
pub const ONLINE_PLOTS: &str = "process-online-plots";
/// The offline plot program.
pub const OFFLINE_PLOTS: &str = "process-offline-plots";
/// The original's line when Teams is off. It holds no secret, but the secret masking would
/// take `not` for the flag's value: print it unmasked.
pub const TEAMS_NOT_PROVIDED: &str =
    "[nightly] Teams notifications skipped - --teams-webhook-url not provided";
/// The sanity line when Teams is off (the original's `… - --teams-webhook-url not provided`
/// reworded: the secret masking takes the word after the flag's name for its value).
pub const SANITY_TEAMS_DISABLED: &str =
    "[nightly] Teams notifications disabled (no --teams-webhook-url)";
/// Time limit of a plot run or a notification.
pub const STEP_LIMIT: Duration = Duration::from_secs(1800);

/// How a post-processing step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepEnd {
    /// It ran and exited 0.
    Done,
    /// The program is not installed.
    Skipped,
    /// It failed (a warning).
    Failed(String),
}

/// The plot program's command line for `mode` (with every path below `CI_DIR`: fix F-18;
/// the data folder is `MODEL_NAME`'s: fix F-22).
pub fn plot_command(
    program: &Path,
    cfg: &NightlyConfig,
    mode: Mode,
    plot_date: &str,
) -> CommandSpec {
    let dir = &cfg.model_name;
    let ci = cfg.ci_dir.display().to_string();
    let mut c = CommandSpec::new(program.display().to_string()).args([
        "--model",
        cfg.model.as_str(),
        "--model-name",
        dir,
        "--base-dir",
        &ci,
    ]);
    match mode {
        Mode::Online => {
            c = c.args([
                "--plot-date".to_owned(),
                plot_date.to_owned(),
                "--data-dir".to_owned(),
                format!("{ci}/online/{dir}"),
                "--plot-dir".to_owned(),
                format!("{ci}/plots_server/{dir}/online"),
            ]);
            // MI355 Grok nightlies skip rate 16 (K-15): plot the rates they run.
            if matches!(cfg.model, NightlyModel::Grok | NightlyModel::Grok2)
                && cfg.hardware == docker_ctl::Hardware::Mi35x
            {
                c = c.args(["--request-rates", "1,2,4,8"]);
            }
        }
        Mode::Offline | Mode::Sanity => {
            c = c.args([
                "--data-dir".to_owned(),
                format!("{ci}/offline/{dir}"),
                "--plot-dir".to_owned(),
                format!("{ci}/plots_server/{dir}/offline"),
            ]);
        }
    }
    c.cwd(&cfg.ci_dir)
}

/// Runs `cmd` on this machine with its combined output written to `log` (created with its
/// folder, overwritten).
fn run_logged(cmd: &CommandSpec, log: &Path, interrupt: &Interrupt) -> Result<RunEnd, String> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut f =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let mut write_err = None;
    // The log is a file we write: masked line by line like everything else.
    let mut masker = report::redact::LineMasker::new();
    let mut write = |b: &[u8]| {
        if let Err(e) = std::io::Write::write_all(&mut f, b) {
            write_err.get_or_insert(e);
        }
    };
    let end = LocalExecutor::default().run(
        cmd,
        &mut |b| masker.push(b, &mut write),
        Some(STEP_LIMIT),
        &mut || interrupt.check().is_err(),
    );
    masker.finish(&mut write);
    let end = end.map_err(|e| e.to_string())?;
    if let Some(e) = write_err {
        return Err(format!("cannot write {}: {e}", log.display()));
    }
    Ok(end)
}

fn describe(end: &RunEnd) -> Option<String> {
    match end {
        RunEnd::Exited(e) if e.success() => None,
        RunEnd::Exited(e) => Some(e.to_string()),
        RunEnd::TimedOut => Some(format!("stopped after {} s", STEP_LIMIT.as_secs())),
        RunEnd::Stopped => Some("interrupted".to_owned()),
    }
}

/// The plot step of one mode: prints the original's lines, runs the program, returns how
/// it ended. `log` is the mode's `process_and_generate_<mode>_plots.log`.
pub fn plots(
    cfg: &NightlyConfig,
    mode: Mode,
    plot_date: &str,
    log: &Path,
    interrupt: &Interrupt,
    say: &mut dyn FnMut(String),
) -> StepEnd {
    let name = match mode {
        Mode::Online => ONLINE_PLOTS,
        Mode::Offline => OFFLINE_PLOTS,
        Mode::Sanity => return StepEnd::Skipped,
    };
    let Some(program) = find_program(name) else {
        say(format!(
            "[nightly] {} post-processing skipped: {name} is not installed (looked next to this binary and on PATH)",
            mode.title()
        ));
        return StepEnd::Skipped;
    };
    if mode == Mode::Online {
        say(format!(
            "[nightly] Using plot date from image tag: {plot_date}"
        ));
    }
    say(format!(
        "[nightly] Processing {} CSV data and generating plots... Logs will be saved to {}",
        mode.as_str(),
        log.display()
    ));
    let cmd = plot_command(&program, cfg, mode, plot_date);
    match run_logged(&cmd, log, interrupt) {
        Ok(end) => match describe(&end) {
            None => StepEnd::Done,
            Some(why) => {
                say(format!(
                    "[nightly] WARN: {name} failed ({why}); see {}. Post-processing failures are warnings: the night goes on.",
                    log.display()
                ));
                StepEnd::Failed(why)
            }
        },
        Err(e) => {
            say(format!(
                "[nightly] WARN: {name} could not run: {e}. Post-processing failures are warnings: the night goes on."
            ));
            StepEnd::Failed(e)
        }
    }
}

/// The Teams card of one mode (spec reporting.md §3), built and delivered in this process
/// through the `alerts` library: the benchmark card of `<ci>/<mode>/<MODEL_NAME>/` for the
/// image date `plot_date`, its plots (uploaded to GitHub when `GITHUB_REPO` and `GITHUB_TOKEN`
/// are set and `TEAMS_NO_IMAGES` is not `true`, else linked on the plot server), and the robust
/// regression verdicts of the run's series. A failure is a warning; a card for a fallback
/// (older) image is sent only with `--alert-on-fallback`.
pub fn teams(
    cfg: &NightlyConfig,
    mode: Mode,
    plot_date: &str,
    say: &mut dyn FnMut(String),
) -> StepEnd {
    let (Some(url), true) = (cfg.teams.webhook.as_deref(), cfg.teams.enabled) else {
        say(TEAMS_NOT_PROVIDED.to_owned());
        return StepEnd::Skipped;
    };
    let env = &crate::config::ProcessEnv;
    let Some(model) = alerts::benchmark::Model::parse(cfg.model.as_str()) else {
        say(format!(
            "[nightly] Teams notifications skipped - no benchmark card for --model={}",
            cfg.model.as_str()
        ));
        return StepEnd::Skipped;
    };
    let no_images = env.var("TEAMS_NO_IMAGES").is_some_and(|v| v == "true");
    let upload = match (no_images, env.var("GITHUB_REPO"), env.var("GITHUB_TOKEN")) {
        (false, Some(repo), Some(token)) => Some(alerts::benchmark::Upload {
            api_url: env
                .var("GITHUB_API_URL")
                .unwrap_or_else(|| alerts::github::DEFAULT_API_URL.to_owned()),
            repo,
            token,
            timeout: Duration::from_secs(30),
        }),
        _ => None,
    };
    let clock = alerts::common::Clock::system();
    let m = cfg.deepseek_mode;
    let card = alerts::benchmark::BenchmarkConfig {
        model,
        mode: match mode {
            Mode::Offline => alerts::benchmark::Mode::Offline,
            _ => alerts::benchmark::Mode::Online,
        },
        plot_dir: cfg.ci_dir.join("plots_server"),
        benchmark_dir: cfg.ci_dir.clone(),
        skip_analysis: cfg.teams.skip_analysis,
        flags: if cfg.model.is_deepseek() && mode == Mode::Online {
            alerts::benchmark::ModeFlags {
                dp_attention: m.dp_attention,
                torch_compile: m.torch_compile,
                dp_test: m.dp_test,
                mtp_test: m.mtp_test,
            }
        } else {
            alerts::benchmark::ModeFlags::default()
        },
        benchmark_date: Some(plot_date.to_owned()),
        hardware: cfg.hardware.to_string(),
        link_repo: env
            .var("GITHUB_REPO")
            .unwrap_or_else(|| alerts::common::DEFAULT_GITHUB_REPO.to_owned()),
        upload,
        plot_server: alerts::benchmark::plot_server_base(
            env.var("PLOT_SERVER_BASE_URL").as_deref(),
            env.var("PLOT_SERVER_HOST").as_deref(),
            env.var("PLOT_SERVER_PORT").as_deref(),
        ),
        run_date: clock.pacific_date().replace('-', ""),
        alert_on_fallback: cfg.teams.alert_on_fallback,
        simulated: cfg.engine == crate::engine::Engine::Sim,
        rule: Some(match cfg.teams.regression_rule {
            RegressionRule::Robust => report::regression::Rule::default(),
            RegressionRule::Legacy => report::regression::Rule::Legacy {
                window_days: cfg.teams.analysis_days.trim().parse().unwrap_or(7),
                threshold_pct: report::regression::DEFAULT_THRESHOLD_PCT,
            },
        }),
        store: history_store::Location::configured(cfg.db.as_deref(), &cfg.ci_dir)
            .ok()
            .flatten(),
        host: crate::config::hostname(),
        clock,
    };
    let target = alerts::Target {
        webhook: Some(teams::Webhook::new(url, teams::RetryPolicy::from_env())),
        dry_run: false,
    };
    let (model, m) = (cfg.model.as_str(), mode.as_str());
    match alerts::benchmark::run(&card, &target, say) {
        Ok(alerts::benchmark::Outcome::Sent(_)) => {
            say(format!(
                "[nightly] Teams notification sent successfully for {model} {m}"
            ));
            StepEnd::Done
        }
        Ok(alerts::benchmark::Outcome::Suppressed) => {
            say(format!(
                "[nightly] Teams notification for {model} {m} held back: fallback image (pass --alert-on-fallback to send it)"
            ));
            StepEnd::Skipped
        }
        Err(e) => {
            let why = e.to_string();
            say(format!(
                "[nightly] WARN: Teams notification failed for {model} {m} ({why})"
            ));
            StepEnd::Failed(why)
        }
    }
}

/// The sanity card of `--mode=sanity` (spec nightly.md §7.1 step 10, §7.12): built from the
/// newest timing summary of `<log_root>/<hw>/<tag>/` and sent in this process
/// (`crate::sanity::card`). A failure is a warning.
pub fn sanity_teams(
    cfg: &NightlyConfig,
    log_root: &Path,
    tag: &str,
    say: &mut dyn FnMut(String),
) -> StepEnd {
    let (Some(url), true) = (cfg.teams.webhook.as_deref(), cfg.teams.enabled) else {
        say(SANITY_TEAMS_DISABLED.to_owned());
        return StepEnd::Skipped;
    };
    say("[nightly] Sending Teams notification for sanity check results...".to_owned());
    match crate::sanity::card::send(log_root, tag, url, cfg.engine, say) {
        Ok(()) => {
            say("[nightly] Teams notification sent successfully for sanity check".to_owned());
            StepEnd::Done
        }
        Err(why) => {
            say(format!(
                "[nightly] WARN: Teams notification failed for sanity check ({why})"
            ));
            StepEnd::Failed(why)
        }
    }
}

/// `<CI_DIR>/<mode>/<MODEL_NAME>/<folder>/process_and_generate_<mode>_plots.log` for the run
/// folder `folder` of the mode (the plain `_online` folder for online: quirk K-8).
pub fn plot_log(folder: &Path, mode: Mode) -> PathBuf {
    folder.join(format!("process_and_generate_{}_plots.log", mode.as_str()))
}

/// Ingests the run folders the night wrote into the history store, when one is configured
/// (`--db`, `SGLCI_DB_URL`, or the default SQLite file below the CI dir when it exists). Any
/// failure is a warning: the night's results are on disk either way.
pub fn ingest_history(cfg: &NightlyConfig, benchmarks: &[BenchmarkEnd], console: &mut Console) {
    let location = match history_store::Location::configured(cfg.db.as_deref(), &cfg.ci_dir) {
        Ok(Some(l)) => l,
        Ok(None) => return,
        Err(e) => {
            console.line(format!("[nightly] WARN: history store not used: {e}"));
            return;
        }
    };
    let folders: Vec<PathBuf> = benchmarks
        .iter()
        .filter_map(|b| b.run_folder.clone())
        .collect();
    if folders.is_empty() {
        return;
    }
    match history_store::ingest_paths(&location, &cfg.ci_dir, &folders, None) {
        Ok(s) => console.line(format!(
            "[nightly] History store {}: {} run(s) added, {} replaced, {} unchanged",
            s.database,
            s.added.len(),
            s.replaced.len(),
            s.unchanged
        )),
        Err(e) => console.line(format!(
            "[nightly] WARN: ingest into the history store failed (the night's files are kept): {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nightly::config::{NightlyOptions, resolve};
    use std::collections::BTreeMap;

    fn cfg(f: impl FnOnce(&mut NightlyOptions)) -> NightlyConfig {
        let mut o = NightlyOptions {
            work_dir: Some("/ci".into()),
            ..Default::default()
        };
        f(&mut o);
        resolve(&o, &BTreeMap::new(), "20251029").unwrap()
    }

    #[test]
    fn plot_lines_use_one_root_and_the_written_model_name() {
        let c = cfg(|o| {
            o.model = Some("DeepSeek-V3".into());
            o.hardware = Some("mi30x".into());
        });
        let p = plot_command(
            Path::new("/b/process-online-plots"),
            &c,
            Mode::Online,
            "20251029",
        );
        assert_eq!(
            p.display(),
            "/b/process-online-plots --model DeepSeek-V3 --model-name DeepSeek-V3-0324 --base-dir /ci --plot-date 20251029 --data-dir /ci/online/DeepSeek-V3-0324 --plot-dir /ci/plots_server/DeepSeek-V3-0324/online"
        );
        let g = cfg(|o| o.hardware = Some("mi35x".into()));
        let p = plot_command(Path::new("p"), &g, Mode::Online, "20251029").display();
        assert!(p.ends_with("--request-rates 1,2,4,8"), "{p}");
        let p = plot_command(Path::new("p"), &g, Mode::Offline, "20251029").display();
        assert!(
            p.ends_with("--data-dir /ci/offline/GROK1 --plot-dir /ci/plots_server/GROK1/offline"),
            "{p}"
        );
    }
}
