//! `test-nightly`: the nightly unit test and PD dispatcher (port of `test/test_nightly.sh`,
//! spec nightly.md §4). Banner, Docker access, the per-test-type lock, `ensure_gpu_idle`,
//! today's (else yesterday's) nightly image found on Docker Hub and pulled, `ensure_gpu_idle`
//! again, then either the custom all-reduce unit test in the image's `<repo>_<tag>` container
//! with its unit log ([`unit`]) or the PD disaggregation test through `run-pd-docker` ([`pd`]),
//! and the Teams card of the produced log, built and sent in this process by
//! `alerts::test_nightly` (what `send-test-nightly-alert` does). Console lines keep the
//! original's `[test]` formats.
//!
//! Exit codes keep the original's semantics (quirk Q-NT-4, kept: the cron line uploads the
//! logs only after exit 0): 0 whenever the run reaches its end, also when the test failed;
//! 1 for Docker unusable, bad arguments, lock held, conflicting processes, no image, PD program
//! missing, container failure; 3 when Docker Hub could not be asked; 5 with `--strict` when the
//! test failed; 130/143 on SIGINT/SIGTERM.
//!
//! Fixes against the original: Q-NT-1 (`--help` needs no Docker), Q-NT-2 (names space
//! separated), Q-NT-5 (the unit test has a time limit, recorded in the log), Q-NT-6 (numeric
//! GPU idle check; only sglang-ci's containers are stopped, and only when the GPUs are busy),
//! Q-NT-9 (one PD log root, `PD_LOG_BASE_DIR`), Q-SEC-1 (secrets masked in every line).

pub mod config;
pub mod error;
pub mod host;
pub mod image;
pub mod pd;
pub mod unit;

pub use error::TestNightlyError;

use std::path::PathBuf;

use docker_ctl::{BlockingEngine, EngineConfig, HubClient};

use crate::console::Console;
use crate::nightly::lock::{self, Acquired};
use crate::signals::{Interrupt, Interrupted};
use config::{TestNightlyConfig, TestType};

/// `[test] ` + 42 `=`.
const RULE: &str = "[test] ==========================================";

/// Exit status: the run reached its end (whatever the test did: Q-NT-4).
pub const EXIT_OK: u8 = 0;
/// Exit status: Docker unusable, invalid value, lock held, conflicting processes, no image,
/// PD program missing, container failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: Docker Hub could not be asked (the image may exist).
pub const EXIT_COULD_NOT_ASK: u8 = 3;
/// Exit status with `--strict`: the run reached its end and the test failed.
pub const EXIT_STRICT_FAILED: u8 = 5;

/// Programs whose live process holds the lock (this binary and the original script).
pub const LOCK_HOLDERS: &[&str] = &["test-nightly", "test_nightly"];

/// What a run did.
#[derive(Debug, Default, serde::Serialize)]
pub struct TestNightlyReport {
    /// The exit code.
    pub exit_code: u8,
    /// Why the run ended early (printed already).
    #[serde(serialize_with = "error_text")]
    pub error: Option<TestNightlyError>,
    /// The image tested.
    pub image: Option<String>,
    /// The test's exit code (unit: the footer's; PD: run-pd-docker's).
    pub test_exit_code: Option<i64>,
    /// The unit test ran past its limit.
    pub timed_out: bool,
    /// The log the Teams card was built from (unit log or PD summary).
    pub log: Option<PathBuf>,
}

fn error_text<S: serde::Serializer>(e: &Option<TestNightlyError>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

impl TestNightlyReport {
    fn fail(mut self, console: &mut Console, error: TestNightlyError) -> Self {
        console.line(error.console_line());
        self.exit_code = error.exit_code();
        self.error = Some(error);
        self
    }

    fn interrupted(self, console: &mut Console, i: &Interrupted) -> Self {
        let e = TestNightlyError::Interrupted {
            signal: i.name(),
            code: i.exit_code(),
        };
        self.fail(console, e)
    }
}

fn banner(cfg: &TestNightlyConfig, console: &mut Console) {
    for l in crate::banner::start_lines(
        "[test]",
        "SGL Nightly Unit Test Started",
        &cfg.command_line,
        &unit::log_time(chrono::Utc::now()),
        &EngineConfig::from_env().host,
    ) {
        console.line(l);
    }
}

fn connect(console: &mut Console) -> Result<BlockingEngine, TestNightlyError> {
    console.line("[test] Testing Docker daemon access...");
    match BlockingEngine::connect() {
        Ok(e) => {
            console.line(format!(
                "[test] Docker daemon accessible - proceeding... (server {} at {})",
                e.server_version(),
                e.endpoint()
            ));
            Ok(e)
        }
        Err(e) => {
            for l in crate::banner::docker_unreachable_lines("[test]", &e.to_string()) {
                console.line(l);
            }
            Err(TestNightlyError::DockerUnavailable(e.to_string()))
        }
    }
}

/// Runs `test-nightly`. Everything is printed on `console`; the report carries the exit code.
pub fn run(
    cfg: &TestNightlyConfig,
    console: &mut Console,
    interrupt: &Interrupt,
) -> TestNightlyReport {
    let report = TestNightlyReport::default();
    banner(cfg, console);
    let engine = match connect(console) {
        Ok(e) => e,
        Err(e) => {
            return TestNightlyReport {
                exit_code: e.exit_code(),
                error: Some(e),
                ..report
            };
        }
    };
    match cfg.test_type {
        TestType::Pd => console.line(format!(
            "[test] Hardware: {}, ROCM Version: {} (PD test - using rocm700)",
            cfg.hardware.as_str(),
            cfg.rocm
        )),
        TestType::Unit => console.line(format!(
            "[test] Hardware: {}, ROCM Version: {}",
            cfg.hardware.as_str(),
            cfg.rocm
        )),
    }
    console.line(format!("[test] Test Type: {}", cfg.test_type.as_str()));
    let lock = match lock::acquire_for(&cfg.lock_path, LOCK_HOLDERS) {
        Ok(Acquired::Taken { lock, stale }) => {
            if let Some(pid) = stale {
                console.line(format!("[test] Removing stale lock file from PID {pid}"));
            }
            console.line(format!(
                "[test] Created process lock: {}",
                cfg.lock_path.display()
            ));
            lock
        }
        Ok(Acquired::Held { pid }) => {
            let e = TestNightlyError::LockHeld {
                test_type: cfg.test_type.as_str(),
                pid,
            };
            let report = report.fail(console, e);
            console.line(format!(
                "[test] If this is incorrect, remove {} and try again",
                cfg.lock_path.display()
            ));
            return report;
        }
        Err(e) => return report.fail(console, TestNightlyError::Lock(e.to_string())),
    };
    let report = with_lock(cfg, &engine, console, interrupt, report);
    console.line("[test] Cleaning up process lock...");
    lock.release();
    report
}

fn idle_or_fail(
    cfg: &TestNightlyConfig,
    engine: &BlockingEngine,
    console: &mut Console,
) -> Result<(), TestNightlyError> {
    host::ensure_gpu_idle(cfg, engine, &mut |l| console.line(l)).map_err(|r| match r {
        host::Refused::Conflicts => TestNightlyError::Conflicts,
        host::Refused::DockerGone(e) => TestNightlyError::DockerUnavailable(e),
    })
}

/// Steps 5-8 of §4.2, with the lock held.
fn with_lock(
    cfg: &TestNightlyConfig,
    engine: &BlockingEngine,
    console: &mut Console,
    interrupt: &Interrupt,
    mut report: TestNightlyReport,
) -> TestNightlyReport {
    if let Err(e) = idle_or_fail(cfg, engine, console) {
        return report.fail(console, e);
    }
    if let Err(i) = interrupt.check() {
        return report.interrupted(console, &i);
    }
    let tz = match docker_ctl::dates::zone_from_env() {
        Ok(z) => z,
        Err(e) => return report.fail(console, e.into()),
    };
    let hub = HubClient::from_env();
    let hw = cfg.hardware.as_str();
    let search = image::Search {
        hub: &hub,
        repo: &cfg.image_repo,
        rocm: &cfg.rocm,
        hw,
        date: cfg.image_date.as_deref(),
        now: chrono::Utc::now(),
        tz,
    };
    let selected = image::select(
        &search,
        |image, say| image::obtain(engine, image, say),
        &mut |l| console.line(l),
    );
    let image = match selected {
        Ok(i) => i,
        Err(e) => return report.fail(console, e),
    };
    report.image = Some(image.clone());
    console.line(format!("[test] Selected image to run tests on: {image}"));
    console.line("");
    console.line(RULE);
    console.line(format!("[test] Starting tests for image: {image}"));
    console.line(format!("[test] Test type: {}", cfg.test_type.as_str()));
    console.line(RULE);
    console.line(format!(
        "[test] Checking GPU status before starting tests for {image}..."
    ));
    if let Err(e) = idle_or_fail(cfg, engine, console) {
        return report.fail(console, e);
    }
    if let Err(i) = interrupt.check() {
        return report.interrupted(console, &i);
    }
    console.line(format!("[test] Using Docker image: {image}"));
    console.line(format!(
        "[test] Container name: {}",
        docker_ctl::container_name(&image)
    ));
    let (log, interrupted) = match cfg.test_type {
        TestType::Unit => match unit::run(cfg, engine, &image, console, interrupt) {
            Ok(end) => {
                report.test_exit_code = Some(end.exit_code);
                report.timed_out = end.timed_out;
                (end.log, end.interrupted)
            }
            Err(e) => return report.fail(console, e),
        },
        TestType::Pd => match pd::run(cfg, &image, console, interrupt) {
            Ok(end) => {
                report.test_exit_code = Some(end.exit_code);
                (end.log, end.interrupted)
            }
            Err(e) => return report.fail(console, e),
        },
    };
    report.log = Some(log.clone());
    if let Some(i) = interrupted {
        return report.interrupted(console, &i);
    }
    teams(cfg, &log, console);
    console.line(RULE);
    console.line(format!("[test] Test completed for image: {image}"));
    console.line(format!("[test] Test type: {}", cfg.test_type.as_str()));
    console.line(RULE);
    if cfg.strict && report.test_exit_code != Some(0) {
        report.exit_code = EXIT_STRICT_FAILED;
    }
    report
}

/// §4.13: the card of `log`, built and sent in this process. Never fatal.
fn teams(cfg: &TestNightlyConfig, log: &std::path::Path, console: &mut Console) {
    let Some(url) = cfg.webhook.as_deref() else {
        console.line("[test] No Teams webhook URL provided - skipping notification");
        return;
    };
    console.line("[test] Sending Teams notification...");
    let clock = alerts::common::Clock::system();
    let run_date = clock.pacific_date().replace('-', "");
    let ctx = alerts::test_nightly::Context {
        github_repo: std::env::var("GITHUB_REPO")
            .ok()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| alerts::common::DEFAULT_GITHUB_REPO.to_owned()),
        host: crate::config::hostname(),
        clock,
    };
    let target = alerts::Target {
        webhook: Some(teams::Webhook::new(url, teams::RetryPolicy::from_env())),
        dry_run: false,
    };
    let mut say = |l: String| console.line(l);
    match alerts::test_nightly::run(
        log,
        &ctx,
        &run_date,
        cfg.alert_on_fallback,
        &target,
        &mut say,
    ) {
        Ok(_) => {}
        Err(alerts::AlertError::Delivery(_)) => {
            say("[test] WARN: Failed to send Teams notification (delivery failed)".into());
        }
        Err(e) => {
            say(format!("❌ Error: {e}"));
            say("[test] WARN: Failed to send Teams notification (script error)".into());
        }
    }
}
