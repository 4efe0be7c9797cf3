//! PD mode of `test-nightly` (spec nightly.md §4.12): runs the `run-pd-docker` program as the
//! original ran `bash run_pd_docker.sh <model path> <model name>` — a child process with
//! `DOCKER_IMAGE` (and `PD_LOG_BASE_DIR`, the one log root both programs use: fix Q-NT-9) in
//! its environment, its output relayed to this run's console — then finds the summary it
//! wrote, `<PD_LOG_BASE_DIR>/<hw>/<tag>/test_summary.txt`, for the Teams card.
//!
//! The program is `SGLCI_RUN_PD_DOCKER` when set, else `run-pd-docker` next to this binary,
//! else on `PATH`. It gets `--engine=sim` before the positionals with `--engine=sim`. A run
//! past `--pd-test-timeout`, or a SIGINT/SIGTERM of this run, stops it with SIGTERM (it then
//! removes its containers itself).

use std::path::PathBuf;

use super::config::TestNightlyConfig;
use super::error::TestNightlyError;
use crate::command::CommandSpec;
use crate::console::Console;
use crate::engine::Engine;
use crate::exec::{Executor, LocalExecutor, RunEnd};
use crate::signals::{Interrupt, Interrupted};

/// The program's name.
pub const PROGRAM: &str = "run-pd-docker";

/// How the PD test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdEnd {
    /// Its exit code (124 when the limit stopped it).
    pub exit_code: i64,
    /// The file the Teams card reads: the summary, or the original's fallback path (never
    /// written by anything, quirk Q-NT-7).
    pub log: PathBuf,
    /// A signal stopped it.
    pub interrupted: Option<Interrupted>,
}

/// The `run-pd-docker` to run.
pub fn program() -> Result<PathBuf, TestNightlyError> {
    if let Ok(p) = std::env::var(super::config::RUN_PD_DOCKER_ENV)
        && !p.is_empty()
    {
        let path = PathBuf::from(&p);
        return if executable(&path) {
            Ok(path)
        } else {
            Err(TestNightlyError::PdMissing(format!(
                "{p} (from {})",
                super::config::RUN_PD_DOCKER_ENV
            )))
        };
    }
    crate::engine::find_program(PROGRAM).ok_or_else(|| {
        TestNightlyError::PdMissing(format!(
            "{PROGRAM} (looked next to this binary and on PATH; or set {})",
            super::config::RUN_PD_DOCKER_ENV
        ))
    })
}

fn executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The command line of the PD test.
pub fn command(cfg: &TestNightlyConfig, program: &std::path::Path, image: &str) -> CommandSpec {
    let mut c = CommandSpec::new(program.display().to_string());
    if cfg.engine == Engine::Sim {
        c = c.arg("--engine=sim");
    }
    c.args([cfg.pd_model_path.clone(), cfg.pd_model_name.clone()])
        .env("DOCKER_IMAGE", image)
        .env("PD_LOG_BASE_DIR", cfg.pd_log_dir.display().to_string())
        .env("HARDWARE_TYPE", cfg.hardware.as_str())
}

/// §4.12 steps 1-8.
pub fn run(
    cfg: &TestNightlyConfig,
    image: &str,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Result<PdEnd, TestNightlyError> {
    let tag = docker_ctl::ImageParts::parse(image).tag;
    console.line("[test] ==========================================");
    console.line("[test] Running PD Disaggregation Test");
    console.line("[test] ==========================================");
    console.line(format!("[test] Hardware type: {}", cfg.hardware.as_str()));
    console.line(format!("[test] Model path: {}", cfg.pd_model_path));
    console.line(format!("[test] Model name: {}", cfg.pd_model_name));
    if let Err(e) = std::fs::create_dir_all(&cfg.pd_log_dir) {
        console.line(format!(
            "[test] WARN: cannot create {}: {e}",
            cfg.pd_log_dir.display()
        ));
    }
    let program = program()?;
    console.line(format!(
        "[test] Running PD test script: {}",
        program.display()
    ));
    console.line(format!(
        "[test] Model: {} ({})",
        cfg.pd_model_name, cfg.pd_model_path
    ));
    console.line(format!("[test] Docker Image: {image}"));
    let cmd = command(cfg, &program, image);
    let mut interrupted = None;
    let end = LocalExecutor::default().run(
        &cmd,
        &mut |b| console.raw(b),
        Some(cfg.pd_timeout),
        &mut || match interrupt.check() {
            Ok(()) => false,
            Err(i) => {
                interrupted = Some(i);
                true
            }
        },
    );
    let exit_code = match end {
        Ok(RunEnd::Exited(e)) => e
            .code
            .map_or_else(|| 128 + i64::from(e.signal.unwrap_or(0)), i64::from),
        Ok(RunEnd::TimedOut) => {
            console.line(format!(
                "[test] PD test did not finish within {} s: stopped",
                cfg.pd_timeout.as_secs_f64()
            ));
            docker_ctl::TIMEOUT_EXIT_CODE
        }
        Ok(RunEnd::Stopped) => interrupted
            .as_ref()
            .map_or(143, |i| i64::from(i.exit_code())),
        Err(e) => {
            console.line(format!("[test] ERROR: {e}"));
            127
        }
    };
    let folder = cfg.pd_log_dir.join(cfg.hardware.as_str()).join(&tag);
    let log = if folder.is_dir() {
        console.line(format!(
            "[test] PD test log directory: {}",
            folder.display()
        ));
        folder.join("test_summary.txt")
    } else {
        console.line("[test] WARNING: Could not find PD log directory, using default log file");
        cfg.pd_log_dir
            .join(cfg.hardware.as_str())
            .join(format!("pd_test_{tag}.log"))
    };
    if exit_code == 0 {
        console.line(format!("[test] === PD test PASSED for {image} ==="));
    } else {
        console.line(format!(
            "[test] === PD test FAILED for {image} (exit code: {exit_code}) ==="
        ));
        console.line("[test] Check the log directory for detailed error information");
    }
    console.line(format!("[test] Logs saved to: {}", folder.display()));
    Ok(PdEnd {
        exit_code,
        log,
        interrupted,
    })
}
