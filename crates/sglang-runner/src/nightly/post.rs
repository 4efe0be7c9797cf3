//! Post-processing after each mode (spec benchmarks.md §8.11) and the Teams hook (§8.12).
//!
//! The plot programs (`process-online-plots`, `process-offline-plots`) and the notifier
//! (`send-teams-notification`) are this toolkit's binaries, run as processes on this machine
//! (the original ran Python scripts inside the container after a `pip install`): found next to
//! `perf-nightly`, then on `PATH`. A missing program is one log line saying the step is
//! skipped. A failing plot run is a warning (fix F-20): the night goes on to Teams and to
//! stopping the container.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command::CommandSpec;
use crate::engine::find_program;
use crate::exec::{Executor, LocalExecutor, RunEnd};
use crate::signals::Interrupt;

use super::config::{Mode, NightlyConfig, NightlyModel};

/// The online plot program.
pub const ONLINE_PLOTS: &str = "process-online-plots";
/// The offline plot program.
pub const OFFLINE_PLOTS: &str = "process-offline-plots";
/// The Teams notifier.
pub const TEAMS_NOTIFIER: &str = "send-teams-notification";
/// The original's line when Teams is off. It holds no secret, but the secret masking would
/// take `not` for the flag's value: print it unmasked.
pub const TEAMS_NOT_PROVIDED: &str =
    "[nightly] Teams notifications skipped - --teams-webhook-url not provided";
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

/// The notifier's command line (§8.12) and its environment. The webhook and the GitHub token
/// go in the environment only (fix F-1).
pub fn teams_command(
    notifier: CommandSpec,
    cfg: &NightlyConfig,
    mode: Mode,
    plot_date: &str,
    env: &dyn crate::config::EnvSource,
) -> CommandSpec {
    let ci = cfg.ci_dir.display().to_string();
    let mut c = notifier.args([
        "--model".to_owned(),
        cfg.model.as_str().to_owned(),
        "--mode".to_owned(),
        mode.as_str().to_owned(),
        "--plot-dir".to_owned(),
        format!("{ci}/plots_server"),
        "--benchmark-dir".to_owned(),
        ci.clone(),
        "--hardware".to_owned(),
        cfg.hardware.to_string(),
        "--benchmark-date".to_owned(),
        plot_date.to_owned(),
    ]);
    let no_images = env.var("TEAMS_NO_IMAGES").is_some_and(|v| v == "true");
    let github = env.var("GITHUB_REPO").zip(env.var("GITHUB_TOKEN"));
    if !no_images && let Some((repo, token)) = &github {
        c = c
            .args(["--github-upload", "--github-repo", repo])
            .env("GITHUB_REPO", repo)
            .env("GITHUB_TOKEN", token);
    } else {
        for k in [
            "PLOT_SERVER_HOST",
            "PLOT_SERVER_PORT",
            "PLOT_SERVER_BASE_URL",
        ] {
            if let Some(v) = env.var(k) {
                c = c.env(k, v);
            }
        }
    }
    if cfg.teams.skip_analysis {
        c = c.arg("--skip-analysis");
    } else {
        c = c.args(["--analysis-days", &cfg.teams.analysis_days]);
    }
    if cfg.model == NightlyModel::DeepSeek && mode == Mode::Online {
        let m = cfg.deepseek_mode;
        for (on, flag) in [
            (m.dp_attention, "--check-dp-attention"),
            (m.torch_compile, "--enable-torch-compile"),
            (m.dp_test, "--enable-dp-test"),
            (m.mtp_test, "--enable-mtp-test"),
        ] {
            if on {
                c = c.arg(flag);
            }
        }
    }
    if let Some(w) = &cfg.teams.webhook {
        c = c.env("TEAMS_WEBHOOK_URL", w);
    }
    c.env("INSIDE_CONTAINER", "1")
        .env("TEAMS_NO_IMAGES", if no_images { "true" } else { "false" })
        .cwd(&cfg.ci_dir)
}

/// The notifier: `TEAMS_NOTIFICATION_SCRIPT` when set (the original's variable; a `.py` file
/// runs with `python3` on this machine, so the shell toolkit's
/// `team_alert/send_teams_notification.py` keeps working until the notifier is ported), else
/// `send-teams-notification` next to this binary or on `PATH`. `Err` says why there is none.
pub fn notifier(env: &dyn crate::config::EnvSource) -> Result<CommandSpec, String> {
    if let Some(script) = env.var("TEAMS_NOTIFICATION_SCRIPT") {
        if !Path::new(&script).is_file() {
            return Err(format!("TEAMS_NOTIFICATION_SCRIPT={script} does not exist"));
        }
        return Ok(if script.ends_with(".py") {
            CommandSpec::new("python3").arg(script)
        } else {
            CommandSpec::new(script)
        });
    }
    find_program(TEAMS_NOTIFIER)
        .map(|p| CommandSpec::new(p.display().to_string()))
        .ok_or_else(|| {
            format!(
                "{TEAMS_NOTIFIER} is not installed (looked next to this binary and on PATH; TEAMS_NOTIFICATION_SCRIPT is not set)"
            )
        })
}

/// The Teams hook after a mode: never fatal.
pub fn teams(
    cfg: &NightlyConfig,
    mode: Mode,
    plot_date: &str,
    interrupt: &Interrupt,
    say: &mut dyn FnMut(String),
) -> StepEnd {
    if !cfg.teams.enabled {
        say(TEAMS_NOT_PROVIDED.to_owned());
        return StepEnd::Skipped;
    }
    let notifier = match notifier(&crate::config::ProcessEnv) {
        Ok(n) => n,
        Err(why) => {
            say(format!("[nightly] Teams notifications skipped - {why}"));
            return StepEnd::Skipped;
        }
    };
    let cmd = teams_command(notifier, cfg, mode, plot_date, &crate::config::ProcessEnv);
    let mut out = Vec::new();
    let end = LocalExecutor::default().run(
        &cmd,
        &mut |b| out.extend_from_slice(b),
        Some(Duration::from_secs(300)),
        &mut || interrupt.check().is_err(),
    );
    let text = String::from_utf8_lossy(&out);
    for line in text.lines() {
        say(line.to_owned());
    }
    let model = cfg.model.as_str();
    let m = mode.as_str();
    match end.map_err(|e| e.to_string()).map(|e| describe(&e)) {
        Ok(None) => {
            say(format!(
                "[nightly] Teams notification sent successfully for {model} {m}"
            ));
            StepEnd::Done
        }
        Ok(Some(why)) | Err(why) => {
            say(format!(
                "[nightly] WARN: Teams notification failed for {model} {m} ({why})"
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

    #[test]
    fn teams_line_keeps_secrets_out_of_the_arguments() {
        let c = cfg(|o| {
            o.model = Some("deepseek".into());
            o.teams.teams_webhook_url = Some("https://example.webhook.office.com/w/secret".into());
            o.deepseek_mode.dp_attention = true;
        });
        let env: BTreeMap<String, String> = BTreeMap::from([
            ("GITHUB_REPO".into(), "ROCm/sglang-ci".into()),
            ("GITHUB_TOKEN".into(), "ghp_secret".into()),
        ]);
        let t = teams_command(
            CommandSpec::new("/b/send-teams-notification"),
            &c,
            Mode::Online,
            "20251029",
            &env,
        );
        let line = t.display();
        assert!(!line.contains("secret"), "{line}");
        assert!(
            line.contains("--github-upload --github-repo ROCm/sglang-ci"),
            "{line}"
        );
        assert!(
            line.contains("--analysis-days 7 --check-dp-attention"),
            "{line}"
        );
        assert!(
            t.env
                .iter()
                .any(|(k, v)| k == "GITHUB_TOKEN" && v == "ghp_secret")
        );
        assert!(t.env.iter().any(|(k, _)| k == "TEAMS_WEBHOOK_URL"));
    }
}
