//! Unit mode of `test-nightly` (spec nightly.md §4.10, §4.11): the `<repo>_<tag>` container
//! (reused by name, re-created when it cannot see `TEST_DIR` or a mount), the unit log
//! `<TEST_LOG_BASE_DIR>/<tag>.log` with the original's header and footer, the test run with
//! `docker exec` under a time limit (fix Q-NT-5: the original had none and one test hung 39
//! minutes), and the container stopped afterwards (not removed).
//!
//! The log is what `metrics_parse::unit_test` and the Teams card read: header lines (with the
//! later original's `Machine:`), the test's own output (stdout and stderr interleaved, secrets
//! masked), then the footer. A test stopped by the limit gets a `TimeoutError:` line, exit code
//! 124 and `Result: FAILED`; one stopped by SIGINT/SIGTERM an `Interrupted:` line and 130/143.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::DateTime;
use chrono_tz::Tz;
use docker_ctl::{BlockingEngine, ExecLogs, ExecSpec, PathKind};

use super::config::{TestNightlyConfig, UNIT_TEST, VISIBLE_DEVICES};
use super::error::TestNightlyError;
use crate::console::Console;
use crate::container::BenchContainer;
use crate::engine::{ClientImpl, Engine, Steps};
use crate::signals::{Interrupt, Interrupted};

/// 42 `=`.
pub const RULE: &str = "==========================================";

/// The zone of the unit log's times: the original's hosts ran on US Central time (`CST`/`CDT`
/// in every corpus log).
pub const LOG_ZONE: Tz = chrono_tz::America::Chicago;

/// The header's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `<repo>:<tag>`.
    pub image: String,
    /// `<repo>_<tag>`.
    pub container: String,
    /// `mi30x` / `mi35x`.
    pub hardware: String,
    /// This host.
    pub machine: String,
    /// `YYYY-MM-DD HH:MM:SS TZ`.
    pub start: String,
    /// `TEST_DIR`.
    pub test_dir: String,
    /// The command.
    pub command: String,
}

/// `2025-10-29 11:01:01 CDT` in [`LOG_ZONE`].
pub fn log_time(t: DateTime<chrono::Utc>) -> String {
    t.with_timezone(&LOG_ZONE)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// The header block (§4.11 lines 1-12, with `Machine:` after `Hardware:` as the later original
/// wrote it).
pub fn header_text(h: &Header) -> String {
    format!(
        "{RULE}\nSGL Unit Test Log\n{RULE}\nTest: {UNIT_TEST}\nImage: {}\nContainer: {}\nHardware: {}\nMachine: {}\nStart time: {}\nTest directory: {}\nCommand: {}\n{RULE}\n\n",
        h.image, h.container, h.hardware, h.machine, h.start, h.test_dir, h.command
    )
}

/// The footer block (§4.11 the last six lines).
pub fn footer_text(end: &str, exit_code: i64) -> String {
    let result = if exit_code == 0 { "PASSED" } else { "FAILED" };
    format!("\n{RULE}\nEnd time: {end}\nExit code: {exit_code}\nResult: {result}\n{RULE}\n")
}

/// How the unit test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitEnd {
    /// The footer's exit code.
    pub exit_code: i64,
    /// The limit stopped it.
    pub timed_out: bool,
    /// A signal stopped it.
    pub interrupted: Option<Interrupted>,
    /// The log.
    pub log: PathBuf,
}

/// The log file: appends, masks secrets line by line, remembers whether the last byte was a
/// newline (the footer starts on a line of its own).
struct LogFile {
    path: PathBuf,
    file: std::fs::File,
    masker: report::redact::LineMasker,
    at_line_start: bool,
    error: Option<std::io::Error>,
}

impl LogFile {
    fn create(path: &Path) -> Result<Self, TestNightlyError> {
        let err = |e: std::io::Error| TestNightlyError::Log {
            path: path.to_owned(),
            why: e.to_string(),
        };
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(err)?;
        }
        Ok(Self {
            path: path.to_owned(),
            file: std::fs::File::create(path).map_err(err)?,
            masker: report::redact::LineMasker::new(),
            at_line_start: true,
            error: None,
        })
    }

    fn push(&mut self, bytes: &[u8]) {
        if let Some(b) = bytes.last() {
            self.at_line_start = *b == b'\n';
        }
        let (file, error) = (&mut self.file, &mut self.error);
        self.masker.push(bytes, &mut |b| {
            if let Err(e) = file.write_all(b) {
                error.get_or_insert(e);
            }
        });
    }

    fn text(&mut self, s: &str) {
        self.push(s.as_bytes());
    }

    fn finish(mut self) -> Result<(), TestNightlyError> {
        let (file, error) = (&mut self.file, &mut self.error);
        self.masker.finish(&mut |b| {
            if let Err(e) = file.write_all(b) {
                error.get_or_insert(e);
            }
        });
        if let Err(e) = self.file.flush() {
            self.error.get_or_insert(e);
        }
        match self.error {
            None => Ok(()),
            Some(e) => Err(TestNightlyError::Log {
                path: self.path,
                why: e.to_string(),
            }),
        }
    }
}

/// The container of the unit test: the original's settings, `MOUNT_DIR` and (when not below
/// it) `TEST_CI_DIR` mounted 1:1.
fn container(cfg: &TestNightlyConfig, image: &str, say: &mut dyn FnMut(String)) -> BenchContainer {
    let steps = Steps::new(cfg.engine, ClientImpl::Native, ClientImpl::Native);
    let mut c = BenchContainer::new(image, cfg.engine, &steps, "test-nightly")
        .request(&cfg.mount_dir, "Mount directory");
    c.shm_size = cfg.shm_size.clone();
    c.work_dir = cfg.work_dir.clone();
    if !cfg.test_ci_dir.starts_with(&cfg.mount_dir) {
        say(format!(
            "[test] Test CI directory {} is not under {}, mounting separately...",
            cfg.test_ci_dir.display(),
            cfg.mount_dir.display()
        ));
        c = c.request(&cfg.test_ci_dir, "Test CI directory");
    }
    c
}

/// Makes the container ready: reused or created by [`BenchContainer::ensure`]; with the real
/// engine a reused one that has no `TEST_DIR` is re-created (§4.10 step 1).
fn ready(
    cfg: &TestNightlyConfig,
    engine: &BlockingEngine,
    c: &BenchContainer,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let mut prefixed = |l: String| say(format!("[test] {l}"));
    let ensured = c.ensure(engine, &mut prefixed).map_err(|e| e.to_string())?;
    if cfg.engine == Engine::Sglang && matches!(ensured, docker_ctl::Ensured::Reused { .. }) {
        let kind = engine
            .path_kind(&c.name, &cfg.test_dir)
            .map_err(|e| e.to_string())?;
        if kind != Some(PathKind::Dir) {
            say(
                "[test] Test directory not accessible in existing container. Recreating container..."
                    .into(),
            );
            engine
                .stop_container(&c.name, Duration::from_secs(10))
                .map_err(|e| e.to_string())?;
            engine
                .remove_container(&c.name, true)
                .map_err(|e| e.to_string())?;
            c.ensure(engine, &mut |l| say(format!("[test] {l}")))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The `docker exec` of the test.
pub fn exec_spec(cfg: &TestNightlyConfig) -> ExecSpec {
    let cmd = match cfg.engine {
        Engine::Sglang => vec![
            "bash".to_owned(),
            "-c".to_owned(),
            format!("cd '{}' && {}", cfg.test_dir, cfg.unit_command),
        ],
        // Validated when the configuration was resolved.
        Engine::Sim => crate::command::split_words(&cfg.unit_command).unwrap_or_default(),
    };
    ExecSpec {
        cmd,
        env: vec![
            "INSIDE_CONTAINER=1".to_owned(),
            format!("CUDA_VISIBLE_DEVICES={VISIBLE_DEVICES}"),
        ],
        work_dir: (cfg.engine == Engine::Sim).then(|| cfg.test_dir.clone()),
        user: None,
        timeout: Some(cfg.unit_timeout),
    }
}

/// §4.10: container, log, test, footer, container stopped.
pub fn run(
    cfg: &TestNightlyConfig,
    engine: &BlockingEngine,
    image: &str,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Result<UnitEnd, TestNightlyError> {
    let parts = docker_ctl::ImageParts::parse(image);
    let c = container(cfg, image, &mut |l| console.line(l));
    let name = c.name.clone();
    if let Err(why) = ready(cfg, engine, &c, &mut |l| console.line(l)) {
        let _ = engine.stop_container(&name, Duration::from_secs(10));
        return Err(TestNightlyError::Container { name, why });
    }
    let log_path = cfg.test_log_dir.join(format!("{}.log", parts.tag));
    let mut log = LogFile::create(&log_path)?;
    console.line("[test] === Starting test_custom_allreduce unit test ===");
    console.line(format!("[test] Test directory: {}", cfg.test_dir));
    console.line(format!("[test] Log file: {}", log_path.display()));
    console.line(format!("[test] Test command: {}", cfg.unit_command));
    console.line(format!(
        "[test] Timeout: {} s (the test is stopped after that)",
        cfg.unit_timeout.as_secs_f64()
    ));
    console.line(format!("[test] Running unit test inside {name}..."));
    log.text(&header_text(&Header {
        image: image.to_owned(),
        container: name.clone(),
        hardware: cfg.hardware.as_str().to_owned(),
        machine: crate::config::hostname(),
        start: log_time(chrono::Utc::now()),
        test_dir: cfg.test_dir.clone(),
        command: cfg.unit_command.clone(),
    }));

    let spec = exec_spec(cfg);
    let no_files = ExecLogs::default();
    let mut interrupted = None;
    let outcome = {
        let log = &mut log;
        engine.block_on(async {
            let exec = engine
                .engine()
                .exec(&name, &spec, &no_files, |_, bytes: &[u8]| log.push(bytes));
            tokio::pin!(exec);
            loop {
                tokio::select! {
                    r = &mut exec => break Some(r),
                    () = tokio::time::sleep(Duration::from_millis(200)) => {
                        if let Err(i) = interrupt.check() {
                            interrupted = Some(i);
                            break None;
                        }
                    }
                }
            }
        })
    };
    let (exit_code, timed_out) = match (&interrupted, outcome) {
        (Some(i), _) => {
            if !log.at_line_start {
                log.text("\n");
            }
            log.text(&format!(
                "Interrupted: test-nightly received {}; the unit test was stopped\n",
                i.name()
            ));
            (i64::from(i.exit_code()), false)
        }
        (None, Some(Ok(o))) if o.timed_out => {
            if !log.at_line_start {
                log.text("\n");
            }
            log.text(&format!(
                "TimeoutError: the unit test did not finish within {} s and was stopped (test-nightly --unit-test-timeout)\n",
                cfg.unit_timeout.as_secs_f64()
            ));
            (docker_ctl::TIMEOUT_EXIT_CODE, true)
        }
        (None, Some(Ok(o))) => (o.exit_code, false),
        (None, Some(Err(e))) => {
            if !log.at_line_start {
                log.text("\n");
            }
            log.text(&format!("Error: docker exec failed: {e}\n"));
            (125, false)
        }
        (None, None) => (125, false),
    };
    if !log.at_line_start {
        log.text("\n");
    }
    log.text(&footer_text(&log_time(chrono::Utc::now()), exit_code));
    log.finish()?;

    if exit_code == 0 {
        console.line(format!("[test] === Unit test PASSED for {image} ==="));
    } else {
        console.line(format!(
            "[test] === Unit test FAILED for {image} (exit code: {exit_code}) ==="
        ));
    }
    if timed_out {
        console.line(format!(
            "[test] The unit test timed out after {} s and was stopped",
            cfg.unit_timeout.as_secs_f64()
        ));
    }
    console.line(format!("[test] Log saved to: {}", log_path.display()));
    if exit_code != 0 {
        console.line("[test] Check the log file for detailed error information");
    }
    console.line(format!(
        "[test] Stopping container {name} to release resources..."
    ));
    if let Err(e) = engine.stop_container(&name, Duration::from_secs(10)) {
        console.line(format!("[test] WARN: stopping {name} failed: {e}"));
    }
    Ok(UnitEnd {
        exit_code,
        timed_out,
        interrupted,
        log: log_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_parse::unit_test::{UnitResult, parse};

    fn header() -> Header {
        Header {
            image: "rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029".into(),
            container: "sgl-dev_v0.5.4.post1-rocm630-mi30x-20251029".into(),
            hardware: "mi30x".into(),
            machine: "host-1".into(),
            start: "2025-10-29 11:01:05 CDT".into(),
            test_dir: "/sgl-workspace/sglang/test/srt".into(),
            command: super::super::config::UNIT_COMMAND.into(),
        }
    }

    #[test]
    fn header_and_footer_parse_with_metrics_parse() {
        let text = format!(
            "{}Ran 2 tests in 269.026s\n\nOK\n{}",
            header_text(&header()),
            footer_text("2025-10-29 11:10:38 CDT", 0)
        );
        let l = parse(text.as_bytes());
        assert!(l.header.banner);
        assert_eq!(l.header.test.as_deref(), Some(UNIT_TEST));
        assert_eq!(l.header.machine.as_deref(), Some("host-1"));
        assert_eq!(
            l.header.command.as_deref(),
            Some(super::super::config::UNIT_COMMAND)
        );
        let f = l.footer.unwrap();
        assert_eq!(f.exit_code, Some(0));
        assert_eq!(f.result, Some(UnitResult::Passed));
        assert_eq!(f.end_time.as_deref(), Some("2025-10-29 11:10:38 CDT"));
        assert_eq!(l.summary.unwrap().tests_run, 2);
        let failed = format!(
            "{}{}",
            header_text(&header()),
            footer_text("2025-10-29 11:10:38 CDT", 124)
        );
        let f = parse(failed.as_bytes()).footer.unwrap();
        assert_eq!(
            (f.exit_code, f.result),
            (Some(124), Some(UnitResult::Failed))
        );
    }

    #[test]
    fn log_times_are_central() {
        let t = chrono::DateTime::parse_from_rfc3339("2025-10-29T16:01:01Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(log_time(t), "2025-10-29 11:01:01 CDT");
        let t = chrono::DateTime::parse_from_rfc3339("2025-12-06T16:03:20Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(log_time(t), "2025-12-06 10:03:20 CST");
    }
}
