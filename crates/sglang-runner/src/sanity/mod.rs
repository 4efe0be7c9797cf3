//! `sanity-check`: GSM8K accuracy across the sanity models (port of `test/sanity_check.py`,
//! spec nightly.md §7.2-§7.12). For each model of the table ([`config`], the table itself is
//! `alerts::sanity_models`, per-hardware paths and launch lines in [`table`]): the server is
//! launched through an executor, waited for, the GSM8K client runs N trials, the model passes
//! when its best trial reaches the threshold; models whose files are missing are SKIPPED (not
//! a failure). Everything lands in the tag folder: `timing_summary_<stamp>.log` in the
//! original's format ([`summary`]), `<MODEL>_<hw>_server.log` and
//! `<MODEL>_<hw>_client_try<N>.log`. The run exits 0 whatever the models did (Q-SAN-6, kept
//! for the cron `&&` chain); the sanity Teams card is sent from the timing summary.
//!
//! `perf-nightly --mode=sanity` runs the same [`run`] in-process with the night's executor
//! (the image's container, or this machine for the simulated engine).
//!
//! Not ported: the process and GPU clean-up before the run (`lsof`/`pgrep`/`kill`, the
//! idle check): inside the container the orchestrator (perf-nightly) already checked the
//! GPUs; here a server port held by another process fails that model's start-up with the
//! holder named instead of killing it.

pub mod card;
pub mod config;
pub mod model;
pub mod summary;
pub mod table;

use std::path::{Path, PathBuf};
use std::time::Instant;

use thiserror::Error;

use crate::console::Console;
use crate::exec::Executor;
use crate::signals::{Interrupt, Interrupted};
use crate::timefmt;

pub use config::{SanityConfig, SanityOptions};
use summary::{Header, ModelEnd, OverallBlock, TimingLog};

/// Exit status: the run completed (whatever the models did: Q-SAN-6).
pub const EXIT_OK: u8 = 0;
/// Exit status: bad flag value, log folder not writable, file write failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: command-line syntax error (the original's argparse exit 2).
pub const EXIT_USAGE: u8 = 2;

/// Why a sanity run could not run or finish.
#[derive(Debug, Error)]
pub enum SanityError {
    /// A flag value is unusable (one line naming the flag).
    #[error("{0}")]
    Usage(String),
    /// The log folder cannot be created.
    #[error("Permission denied creating log directory: {dir} ({source})")]
    LogDir {
        /// The folder.
        dir: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The executor (the container) could not be prepared.
    #[error("cannot prepare the executor: {0}")]
    Executor(String),
    /// SIGINT/SIGTERM.
    #[error("interrupted by {}", .0.name())]
    Interrupted(Interrupted),
}

impl SanityError {
    /// An I/O error on `path`.
    pub fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            what,
            path: path.to_owned(),
            source,
        }
    }

    /// The exit status (interrupted: 128 + signal, as every runner binary).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Interrupted(i) => i.exit_code(),
            _ => EXIT_FAILURE,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct SanityReport {
    /// The tag folder.
    pub log_dir: PathBuf,
    /// The timing summary.
    pub timing_log: PathBuf,
    /// Per model, in run order.
    pub results: Vec<(String, ModelEnd)>,
}

impl SanityReport {
    /// `passed/tested` models (`tested` 0: all skipped).
    pub fn passed_of_tested(&self) -> (usize, usize) {
        let (tested, passed, _, _) = summary::counts(&self.results);
        (passed, tested)
    }
}

/// 40-character progress bar.
fn bar(done: usize, n: usize) -> String {
    let full = (done * 40).checked_div(n).unwrap_or(40);
    format!("{}{}", "█".repeat(full), "░".repeat(40 - full))
}

/// Creates the log folder (mode 0755).
fn create_log_dir(dir: &Path) -> Result<(), SanityError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|source| SanityError::LogDir {
            dir: dir.to_owned(),
            source,
        })
}

/// Runs the sanity check (§7.6) with `exec` (this machine, or the image's container).
pub fn run(
    cfg: &SanityConfig,
    exec: &dyn Executor,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Result<SanityReport, SanityError> {
    let run_start = Instant::now();
    for n in &cfg.notes {
        console.line(n);
    }
    let keys: Vec<String> = cfg.models.iter().map(|m| m.key.clone()).collect();
    console.line(format!("🔧 Testing on platform: {}", cfg.hardware));
    console.line(format!("📋 Models to test: {}", keys.join(", ")));
    console.line(format!("🎯 Trials per model: {}", cfg.trials));
    console.line(format!(
        "⚙️  Engine: {}, executor: {}",
        cfg.engine.as_str(),
        exec.name()
    ));
    if cfg.docker_image.is_some() {
        console.line(format!(
            "📁 Using image-specific log directory: {}",
            cfg.log_dir.display()
        ));
    }
    if let Err(e) = create_log_dir(&cfg.log_dir) {
        console.line(format!(
            "❌ Permission denied creating log directory: {}",
            cfg.log_dir.display()
        ));
        console.line("💡 Try running with sudo or use a different log directory with --log-dir");
        return Err(e);
    }
    let now = timefmt::now();
    let mut tlog = TimingLog::create(
        &cfg.log_dir,
        &timefmt::file_stamp(&now),
        &Header {
            start_time: &timefmt::human(&now),
            platform: cfg.hardware.as_str(),
            models: &keys,
            trials: cfg.trials,
            docker_image: cfg.docker_image.as_deref(),
        },
    )?;
    let n = cfg.models.len();
    let mut results: Vec<(String, ModelEnd)> = Vec::new();
    for (i, m) in cfg.models.iter().enumerate() {
        if let Err(e) = interrupt.check() {
            return Err(SanityError::Interrupted(e));
        }
        let model_start = Instant::now();
        console.line("");
        console.line(format!("🚀 [{}/{n}] Starting {}...", i + 1, m.key));
        console.line("=".repeat(60));
        console.line(format!(
            "Progress: [{}] {}/{n} ({:.1}%)",
            bar(i, n),
            i + 1,
            i as f64 / n as f64 * 100.0
        ));
        let end = match model::run_model(cfg, m, exec, console, interrupt, &mut tlog) {
            Ok(e) => e,
            Err(e) => {
                if let SanityError::Interrupted(i) = &e {
                    console.line(format!("🚨 Received signal {}, cleaning up...", i.signal));
                }
                return Err(e);
            }
        };
        let (icon, word) = match &end {
            ModelEnd::Tested { pass: true } => ("✅", "completed"),
            ModelEnd::Tested { pass: false } | ModelEnd::StartupFailed(_) => ("❌", "completed"),
            ModelEnd::Skipped => ("⏭️", "skipped"),
        };
        console.line(format!(
            "Progress: [{}] {}/{n} ({:.1}%) {icon} {} {word} in {:.1}s",
            bar(i + 1, n),
            i + 1,
            (i + 1) as f64 / n as f64 * 100.0,
            m.key,
            model_start.elapsed().as_secs_f64()
        ));
        results.push((m.key.clone(), end));
    }
    let total = run_start.elapsed().as_secs_f64();
    tlog.write(&summary::overall_lines(&OverallBlock {
        end_time: &timefmt::human(&timefmt::now()),
        total_secs: total,
        results: &results,
    }))?;
    for l in summary::console_final(total, tlog.path(), &results) {
        console.line(l);
    }
    console.line("");
    console.line("🧹 Final cleanup...");
    console.line("✅ All processes cleaned up successfully!");
    Ok(SanityReport {
        log_dir: cfg.log_dir.clone(),
        timing_log: tlog.path().to_owned(),
        results,
    })
}

/// The command line equivalent to `cfg` (perf-nightly's `Executing:` line).
pub fn command_line(cfg: &SanityConfig) -> String {
    let q = crate::command::quote;
    let mut v = vec!["sanity-check".to_owned()];
    if let Some(i) = &cfg.docker_image {
        v.push(format!("--docker-image={}", q(i)));
    }
    v.push(format!("--hardware={}", cfg.hardware));
    v.push(format!("--trials={}", cfg.trials));
    v.push(format!(
        "--log-dir={}",
        q(&cfg
            .log_dir
            .parent()
            .unwrap_or(&cfg.log_dir)
            .display()
            .to_string())
    ));
    v.push(format!(
        "--work-dir={}",
        q(&cfg.work_dir.display().to_string())
    ));
    v.push(format!(
        "--models-dir={}",
        q(&cfg.models_dir.display().to_string())
    ));
    v.push(format!(
        "--models {}",
        cfg.models
            .iter()
            .map(|m| m.key.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    v.push(format!("--engine={}", cfg.engine.as_str()));
    if cfg.early_exit {
        v.push("--early-exit".to_owned());
    }
    v.join(" ")
}

/// The dry-run text: settings and each model's launch line or skip reason.
pub fn describe(cfg: &SanityConfig) -> String {
    let mut o = vec![
        format!("sanity check: {}", command_line(cfg)),
        format!("log folder: {}", cfg.log_dir.display()),
    ];
    for m in &cfg.models {
        match table::launch(m, cfg.hardware, &cfg.models_dir, &cfg.steps, cfg.port) {
            Ok(l) => o.push(format!(
                "{} (threshold {:.3}): {}",
                m.key,
                m.threshold,
                l.server.display_with_env()
            )),
            Err(table::Skip::Unavailable(r)) => o.push(format!("{}: SKIPPED - {r}", m.key)),
            Err(table::Skip::NoLaunchCommand) => o.push(format!(
                "{}: SKIPPED (no launch command for {})",
                m.key, cfg.hardware
            )),
        }
    }
    o.push(format!(
        "trial: {}",
        table::benchmark(&cfg.steps, cfg.port, cfg.gsm8k_data.as_deref()).display()
    ));
    o.join("\n") + "\n"
}

/// The executor of a standalone run: this machine, or (`--executor=docker`) the image's
/// `<repo>_<tag>` container, created or reused with the work, models and log folders mounted.
pub fn executor(
    cfg: &SanityConfig,
    say: &mut dyn FnMut(String),
) -> Result<Box<dyn Executor>, SanityError> {
    let env = crate::config::ProcessEnv;
    let image = cfg.docker_image.clone().unwrap_or_default();
    crate::container::executor_for(
        cfg.executor,
        || {
            let c = crate::container::BenchContainer::new(
                &image,
                cfg.engine,
                &cfg.steps,
                "sanity-check",
            )
            .script_settings(&env)
            .request(crate::container::mount_dir(&env), "Mount directory")
            .request(&cfg.work_dir, "Work directory")
            .request(&cfg.models_dir, "Models directory")
            .request(&cfg.log_root, "Log directory");
            if cfg.engine == crate::engine::Engine::Sim {
                c.sim_data(cfg.gsm8k_data.as_deref())
            } else {
                c
            }
        },
        say,
    )
    .map_err(|e| SanityError::Executor(e.to_string()))
}

/// Runs the check and then, when `cfg` has a webhook, the sanity card; the binary's entry
/// point (perf-nightly sends its own card after post-processing).
pub fn run_and_notify(
    cfg: &SanityConfig,
    exec: &dyn Executor,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Result<SanityReport, SanityError> {
    let report = run(cfg, exec, console, interrupt)?;
    match (&cfg.teams_webhook, &cfg.docker_image) {
        (Some(url), Some(image)) => {
            let tag = config::image_subfolder(image);
            let mut say = |l: String| console.line(l);
            // A failed notification is a warning: the run's files are what counts.
            let _ = card::send(&cfg.log_root, &tag, url, cfg.engine, &mut say);
        }
        (Some(_), None) => console.line(
            "⚠️  Teams notification skipped: the sanity card needs --docker-image (its tag names the log folder)",
        ),
        (None, _) => {}
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_bar_is_forty_wide() {
        assert_eq!(bar(0, 3).chars().count(), 40);
        assert_eq!(bar(3, 3), "█".repeat(40));
        assert!(bar(1, 3).starts_with(&"█".repeat(13)));
    }
}
