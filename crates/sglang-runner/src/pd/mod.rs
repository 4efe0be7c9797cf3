//! `run-pd-docker` (port of `test/pd/run_pd_docker.sh` and `test/pd/bench_gsm8k_pd.py`,
//! spec nightly.md §5–§6): a router, a prefill and a decode server in three containers, the
//! servers and the router polled until ready (no fixed sleeps), the router restarted only
//! when it does not register the healthy servers, the six tests (health, model info, two
//! completions, GSM8K through the router), `test_summary.txt` rewritten after every
//! checkpoint ([`summary`]), the logs collected and the decode log analysed, and the
//! containers removed at the end — also on failure and on SIGINT/SIGTERM.
//!
//! Modules: [`config`] (flags and their resolution), [`services`] (the containers and the
//! host-mode router), [`probe`] (HTTP of the checks and tests 1–4), [`gsm8k`] (Test 6),
//! [`analyze`] (decode-log checks), [`summary`] (the summary file).
//!
//! Console lines are the original's `[pd-test] ` lines; a run's outcome is a [`PdReport`]
//! whose exit code is 0 only when every test (1–4 and 6) says PASS — a test that never ran
//! stays `PENDING`, which is a failure.

pub mod analyze;
pub mod config;
pub mod gsm8k;
pub mod probe;
pub mod services;
pub mod summary;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use crate::console::Console;
use crate::signals::{Interrupt, Interrupted};
use config::PdConfig;
use services::{Role, Services};
use summary::{Accuracy, Header, Summary, TestResult, Verdict};

/// Exit status of a failed run (a test failed or never ran, a service did not start).
pub const EXIT_FAILURE: u8 = 1;
/// Prefix of every console line.
pub const PREFIX: &str = "[pd-test]";
const SEP: &str = "==========================================";
const BANNER: &str = "===================================================";
/// Longest pause between two polls.
const MAX_POLL: Duration = Duration::from_secs(1);
/// Timeout of one health probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct PdReport {
    /// The process exit status (0 all PASS, 1 failure, 130/143 interrupted).
    pub exit_code: u8,
    /// The log folder.
    pub log_dir: PathBuf,
    /// The last summary written (`None` when the log folder could not be made).
    pub summary: Option<Summary>,
    /// Why the run failed, one line per reason.
    pub reasons: Vec<String>,
}

/// Why the steps stopped early.
enum Stop {
    /// A step failed; the run ends with this status.
    Failed(u8),
    /// SIGINT/SIGTERM.
    Interrupted(Interrupted),
}

impl From<Interrupted> for Stop {
    fn from(i: Interrupted) -> Self {
        Stop::Interrupted(i)
    }
}

/// The wall clock line of the banners: `Wed Oct 29 11:18:02 AM CDT 2025` in `TZ` (an IANA
/// name), else US Central time (the CI hosts' zone).
pub fn date_line() -> String {
    let tz: chrono_tz::Tz = std::env::var("TZ")
        .ok()
        .and_then(|z| z.trim_start_matches(':').parse().ok())
        .unwrap_or(chrono_tz::America::Chicago);
    Utc::now()
        .with_timezone(&tz)
        .format("%a %b %e %I:%M:%S %p %Z %Y")
        .to_string()
}

struct Run<'a> {
    cfg: &'a PdConfig,
    console: &'a mut Console,
    interrupt: &'a Interrupt,
    summary: Summary,
    start: Instant,
    reasons: Vec<String>,
}

impl Run<'_> {
    fn say(&mut self, s: impl AsRef<str>) {
        let s = s.as_ref();
        if s.is_empty() {
            self.console.line(PREFIX);
        } else {
            self.console.line(format!("{PREFIX} {s}"));
        }
    }

    fn plain(&mut self, s: impl AsRef<str>) {
        self.console.line(s);
    }

    fn block(&mut self, title: &str) {
        self.say(SEP);
        self.say(title);
        self.say(SEP);
    }

    fn checkpoint(&mut self) {
        self.summary.total_secs = self.start.elapsed().as_secs();
        if let Err(e) = self.summary.write(&self.cfg.log_dir) {
            let line = format!("WARNING: cannot write the test summary: {e}");
            self.say(line);
        }
    }

    fn fail(&mut self, reason: String) {
        self.reasons.push(reason);
    }

    fn banner_end(&mut self, code: u8) {
        self.plain(BANNER);
        self.plain(format!(
            "PD Test Execution Ended: {} (Exit Code: {code})",
            date_line()
        ));
        self.plain(BANNER);
    }

    /// The cleanup block: logs of the containers that exist, then stop and remove.
    fn cleanup(&mut self, svc: &mut Services<'_>, collect: bool, code: u8) {
        self.plain("");
        self.block("Cleaning up Docker containers...");
        if collect {
            for role in Role::ALL {
                if svc.exists(role) {
                    self.say(format!("Collecting final {} logs...", role.word()));
                    svc.collect_log(role);
                }
            }
        }
        for name in svc.remove_all() {
            self.plain(name);
        }
        self.say("Cleanup complete.");
        self.banner_end(code);
    }

    /// Polls until `ready()` or the service ended or `limit` passed.
    fn wait_for(
        &mut self,
        svc: &mut Services<'_>,
        role: Role,
        limit: Duration,
        ready: impl Fn() -> bool,
    ) -> Result<Result<(), WaitEnd>, Interrupted> {
        let until = Instant::now() + limit;
        let mut pause = Duration::from_millis(100);
        loop {
            self.interrupt.check()?;
            if ready() {
                return Ok(Ok(()));
            }
            match svc.ended(role) {
                Ok(Some(e)) => return Ok(Err(WaitEnd::Exited(e.code))),
                Ok(None) => {}
                Err(e) => return Ok(Err(WaitEnd::Docker(e.to_string()))),
            }
            if Instant::now() >= until {
                return Ok(Err(WaitEnd::TimedOut));
            }
            self.interrupt.sleep(pause)?;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    fn diagnose(&mut self, svc: &mut Services<'_>, role: Role, end: &WaitEnd) {
        let title = role.title();
        let word = role.word();
        match end {
            WaitEnd::Exited(code) => {
                self.say(format!("ERROR: {title} container stopped"));
                if svc.collect_log(role) {
                    self.say(format!(
                        "Logs saved to: {}",
                        self.cfg.log_dir.join(role.log_file()).display()
                    ));
                }
                self.say(format!("{title} container exit code: {code}"));
                self.fail(format!("{title} stopped (exit code {code})"));
            }
            WaitEnd::TimedOut => {
                let limit = match role {
                    Role::Router => self.cfg.router_timeout,
                    _ => self.cfg.server_timeout,
                };
                self.say(format!(
                    "ERROR: {title} did not become ready within {} seconds",
                    limit.as_secs()
                ));
                svc.collect_log(role);
                self.fail(format!(
                    "{title} did not become ready within {} seconds",
                    limit.as_secs()
                ));
            }
            WaitEnd::Docker(m) => {
                self.say(format!("ERROR: cannot check the {word} container: {m}"));
                self.fail(format!("{title}: {m}"));
            }
        }
        self.say(format!("Last 50 lines of {word} log:"));
        let tail = svc.tail(role, 50);
        for l in tail.lines() {
            self.plain(l);
        }
        if role != Role::Router {
            self.say("Checking for common errors:");
            let errs = analyze::error_lines(&tail, 20, true);
            if errs.is_empty() {
                self.say("No error keywords found");
            }
            for l in errs {
                self.plain(l);
            }
        }
    }

    fn step(&mut self, n: usize, title: &str) {
        self.block(&format!("Step {n}: {title}"));
    }

    fn start_router(&mut self, svc: &mut Services<'_>) -> Result<(), Stop> {
        let t = Instant::now();
        self.step(1, "Starting Load Balancer/Router...");
        self.start_service(svc, Role::Router)?;
        let limit = self.cfg.router_timeout;
        self.say(format!(
            "Waiting up to {} seconds for router to initialize...",
            limit.as_secs()
        ));
        let url = format!(
            "http://{}:{}/health",
            self.cfg.host_ip, self.cfg.router_port
        );
        let r = self.wait_for(svc, Role::Router, limit, || {
            probe::answers(&url, PROBE_TIMEOUT)
        })?;
        self.summary.steps[0] = t.elapsed().as_secs();
        self.checkpoint();
        match r {
            Ok(()) => {
                self.say("✓ Router started successfully");
                self.plain("");
                Ok(())
            }
            Err(end) => {
                self.diagnose(svc, Role::Router, &end);
                Err(Stop::Failed(EXIT_FAILURE))
            }
        }
    }

    fn start_service(&mut self, svc: &mut Services<'_>, role: Role) -> Result<(), Stop> {
        match svc.start(role) {
            Ok((id, warnings)) => {
                for w in warnings {
                    self.say(format!("WARNING: {w}"));
                }
                let short: String = id.chars().take(12).collect();
                self.say(format!("{} container started (ID: {short})", role.title()));
                Ok(())
            }
            Err(e) => {
                // Fix Q-PD-8: the reason is printed, not left in a scratch file.
                self.say(format!("ERROR: Failed to start {} container", role.title()));
                self.say(e.to_string());
                self.fail(format!("{} did not start: {e}", role.title()));
                Err(Stop::Failed(EXIT_FAILURE))
            }
        }
    }

    fn start_server(&mut self, svc: &mut Services<'_>, role: Role) -> Result<(), Stop> {
        let t = Instant::now();
        let (n, title, port) = match role {
            Role::Prefill => (
                2,
                "Starting Prefill Server (GPUs 0-3)...",
                self.cfg.prefill_port,
            ),
            _ => (
                3,
                "Starting Decode Server (GPUs 4-7)...",
                self.cfg.decode_port,
            ),
        };
        self.step(n, title);
        self.start_service(svc, role)?;
        let limit = self.cfg.server_timeout;
        self.say(format!(
            "Waiting up to {} seconds for {} server to initialize...",
            limit.as_secs(),
            role.word()
        ));
        let url = format!("http://{}:{port}/health", self.cfg.host_ip);
        let r = self.wait_for(svc, role, limit, || probe::healthy(&url, PROBE_TIMEOUT))?;
        self.summary.steps[n - 1] = t.elapsed().as_secs();
        self.checkpoint();
        match r {
            Ok(()) => {
                self.say(format!("✓ {} started successfully", role.title()));
                self.plain("");
                Ok(())
            }
            Err(end) => {
                self.diagnose(svc, role, &end);
                Err(Stop::Failed(EXIT_FAILURE))
            }
        }
    }

    /// Router readiness: `/readiness` 200 (sglang-router 0.2+, where `/health` is only
    /// liveness); a router without `/readiness` (404) falls back to `/health`.
    fn router_ready(&self) -> bool {
        let base = format!("http://{}:{}", self.cfg.host_ip, self.cfg.router_port);
        match probe::get(&format!("{base}/readiness"), PROBE_TIMEOUT) {
            Ok(r) if r.status == 200 => true,
            Ok(r) if r.status == 404 => probe::healthy(&format!("{base}/health"), PROBE_TIMEOUT),
            _ => false,
        }
    }

    fn health_loop(&mut self, svc: &mut Services<'_>) -> Result<(), Stop> {
        let t = Instant::now();
        self.step(4, "Waiting for services to be healthy...");
        self.say("Checking health endpoints for all services...");
        let c = self.cfg;
        let prefill_url = format!("http://{}:{}/health", c.host_ip, c.prefill_port);
        let decode_url = format!("http://{}:{}/health", c.host_ip, c.decode_port);
        let completions = format!("http://{}:{}/v1/completions", c.host_ip, c.router_port);
        let until = t + c.health_timeout;
        let (mut p_ok, mut d_ok, mut r_ok) = (false, false, false);
        let mut restarted = false;
        let mut backends_since: Option<Instant> = None;
        let mut pause = Duration::from_millis(200);
        let mut attempt = 0u32;
        let ok = loop {
            self.interrupt.check()?;
            attempt += 1;
            self.say(format!(
                "Attempt {attempt} ({}s of {}s)...",
                t.elapsed().as_secs(),
                c.health_timeout.as_secs()
            ));
            for role in Role::ALL {
                match svc.ended(role) {
                    Ok(Some(e)) => {
                        self.summary.steps[3] = t.elapsed().as_secs();
                        self.checkpoint();
                        self.diagnose(svc, role, &WaitEnd::Exited(e.code));
                        return Err(Stop::Failed(EXIT_FAILURE));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.say(format!("WARNING: cannot check the {}: {e}", role.word()));
                    }
                }
            }
            if !p_ok {
                p_ok = probe::healthy(&prefill_url, PROBE_TIMEOUT);
                self.say(if p_ok {
                    "  ✓ Prefill server is healthy"
                } else {
                    "  ⧗ Prefill server not ready yet..."
                });
            }
            if !d_ok {
                d_ok = probe::healthy(&decode_url, PROBE_TIMEOUT);
                self.say(if d_ok {
                    "  ✓ Decode server is healthy"
                } else {
                    "  ⧗ Decode server not ready yet..."
                });
            }
            if p_ok && d_ok {
                backends_since.get_or_insert_with(Instant::now);
                if !r_ok {
                    r_ok = self.router_ready();
                    self.say(if r_ok {
                        "  ✓ Router is healthy"
                    } else {
                        "  ⧗ Router not ready yet..."
                    });
                }
            }
            // Q-PD-14, only when needed: the router has not registered healthy servers
            // within the grace period (a registration that gave up is never retried).
            if p_ok
                && d_ok
                && !r_ok
                && !restarted
                && backends_since.is_some_and(|s| s.elapsed() >= c.router_register_grace)
            {
                self.say("All backend services healthy - restarting router to register workers...");
                if let Err(e) = svc.restart_router() {
                    self.say(format!("ERROR: cannot restart the router: {e}"));
                    self.fail(format!("router restart failed: {e}"));
                    break false;
                }
                restarted = true;
                self.say("✓ Router restarted successfully");
                let url = format!("http://{}:{}/health", c.host_ip, c.router_port);
                let left = until.saturating_duration_since(Instant::now());
                match self.wait_for(svc, Role::Router, left, || {
                    probe::answers(&url, PROBE_TIMEOUT)
                })? {
                    Ok(()) => continue,
                    Err(end) => {
                        self.summary.steps[3] = t.elapsed().as_secs();
                        self.checkpoint();
                        self.diagnose(svc, Role::Router, &end);
                        return Err(Stop::Failed(EXIT_FAILURE));
                    }
                }
            }
            if p_ok && d_ok && r_ok {
                self.say("All services report healthy. Performing functional test...");
                let body = json!({"model": c.model_name, "prompt": "Test", "max_tokens": 5, "temperature": 0.0});
                match probe::post_json(&completions, &body, c.request_timeout) {
                    Ok(r) if r.body.contains("\"choices\"") => {
                        self.say("✓ Functional test passed - all services fully operational!");
                        break true;
                    }
                    Ok(r) if r.status == 422 || r.body.contains("422") => self.say(
                        "  ⧗ Functional test failed with 422 - backends still initializing (likely CUDA graph capture)...",
                    ),
                    _ => self.say("  ⧗ Functional test failed - retrying..."),
                }
            }
            if Instant::now() >= until {
                break false;
            }
            self.interrupt.sleep(pause)?;
            pause = (pause * 2).min(MAX_POLL);
        };
        self.summary.steps[3] = t.elapsed().as_secs();
        self.checkpoint();
        self.plain("");
        if ok {
            return Ok(());
        }
        self.say("WARNING: Services may not be fully healthy yet");
        self.say(format!(
            "Prefill ready: {p_ok}, Decode ready: {d_ok}, Router ready: {r_ok}"
        ));
        for (what, role) in [("Router", Role::Router), ("Decode", Role::Decode)] {
            self.say(format!("{what} log tail:"));
            let tail = svc.tail(role, 30);
            for l in tail.lines() {
                self.plain(l);
            }
        }
        self.say(format!(
            "ERROR: Health check failed after {attempt} attempts ({} seconds)",
            t.elapsed().as_secs()
        ));
        self.fail(format!(
            "services not ready within {} seconds (prefill ready: {p_ok}, decode ready: {d_ok}, router ready: {r_ok})",
            c.health_timeout.as_secs()
        ));
        self.say("Collecting logs from Docker containers for debugging...");
        for role in Role::ALL {
            svc.collect_log(role);
        }
        self.block("Debug Information");
        self.say("Container status:");
        let st = svc.status_lines();
        if st.is_empty() {
            self.say("No containers found");
        }
        for l in st {
            self.plain(l);
        }
        for role in Role::ALL {
            let name = match role {
                Role::Router => "Router",
                Role::Prefill => "Prefill",
                Role::Decode => "Decode",
            };
            self.say(format!("{name} log errors:"));
            let path = c.log_dir.join(role.log_file());
            let text =
                String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
            let errs = analyze::error_lines(&text, 10, false);
            if errs.is_empty() {
                self.say(format!("No errors found in {} log", role.word()));
            }
            for l in errs {
                self.plain(l);
            }
        }
        self.say(format!("Logs saved to: {}", c.log_dir.display()));
        self.say("Check prefill.log and decode.log for startup errors");
        Err(Stop::Failed(EXIT_FAILURE))
    }

    /// Services that are no longer running, as reasons.
    fn dead(&mut self, svc: &mut Services<'_>) -> Vec<String> {
        let mut out = Vec::new();
        for role in Role::ALL {
            if let Ok(Some(e)) = svc.ended(role) {
                out.push(if e.missing {
                    format!("{} container is gone", role.title())
                } else {
                    format!("{} container exited (exit code {})", role.title(), e.code)
                });
            }
        }
        out
    }

    fn simple_test(
        &mut self,
        svc: &mut Services<'_>,
        idx: usize,
        f: impl FnOnce(&PdConfig) -> Result<(), String>,
    ) -> Result<(), Stop> {
        self.interrupt.check()?;
        let (n, title) = summary::TESTS[idx];
        let word = [
            "Health check",
            "Model info",
            "Simple completion",
            "Code generation",
        ][idx];
        self.say(format!("Test {n}: {title}"));
        let t = Instant::now();
        let r = f(self.cfg);
        let secs = t.elapsed().as_secs();
        let verdict = match r {
            Ok(()) => {
                self.say(format!("✓ {word} passed"));
                Verdict::Pass
            }
            Err(why) => {
                self.say(format!("✗ {word} failed"));
                let mut reason = why;
                for d in self.dead(svc) {
                    reason.push_str("; ");
                    reason.push_str(&d);
                }
                self.say(format!("  Reason: {reason}"));
                self.fail(format!("Test {n} - {title}: {reason}"));
                Verdict::Fail
            }
        };
        self.summary.tests[idx] = TestResult { verdict, secs };
        self.checkpoint();
        self.plain("");
        Ok(())
    }

    fn tests(&mut self, svc: &mut Services<'_>) -> Result<(), Stop> {
        self.step(5, "Running Tests...");
        let base = format!("http://{}:{}", self.cfg.host_ip, self.cfg.router_port);
        let to = self.cfg.request_timeout;
        let b = base.clone();
        self.simple_test(svc, 0, |_| probe::check_get(&format!("{b}/health"), to))?;
        let b = base.clone();
        self.simple_test(svc, 1, |_| probe::check_get(&format!("{b}/v1/models"), to))?;
        let b = base.clone();
        self.simple_test(svc, 2, |c| {
            let body = json!({"model": c.model_name, "prompt": "Hello, how are you?", "max_tokens": 50, "temperature": 0.7});
            probe::check_completion(&format!("{b}/v1/completions"), &body, to)
        })?;
        let b = base.clone();
        self.simple_test(svc, 3, |c| {
            let body = json!({"model": c.model_name, "prompt": "Write a Python function to calculate fibonacci numbers:\n\ndef fibonacci(n):", "max_tokens": 100, "temperature": 0.3});
            probe::check_completion(&format!("{b}/v1/completions"), &body, to)
        })?;
        self.gsm8k_test(svc)
    }

    fn gsm8k_test(&mut self, svc: &mut Services<'_>) -> Result<(), Stop> {
        self.interrupt.check()?;
        self.say("Test 6: GSM8K Accuracy Test");
        self.say("Running GSM8K benchmark (200 questions, parallel 16, 5-shot)...");
        self.say("Using the native client (port of bench_gsm8k_pd.py, based on sglang/benchmark/gsm8k/bench_sglang.py)");
        self.say(
            "Note: Using parallel=16 instead of 128 to avoid PD timeout issues with long prompts",
        );
        let c = self.cfg;
        let settings = gsm8k::Gsm8kSettings::nightly(&c.host_ip, c.router_port, &c.model_name);
        let path = c.log_dir.join("test_gsm8k.log");
        let t = Instant::now();
        let result = match std::fs::File::create(&path) {
            Ok(f) => {
                let mut w = std::io::BufWriter::new(f);
                gsm8k::run(&settings, &mut w, &c.log_dir, self.interrupt)
            }
            Err(e) => Err(gsm8k::Gsm8kError::Io(e)),
        };
        let secs = t.elapsed().as_secs();
        let (accuracy, verdict, reason) = match result {
            Err(gsm8k::Gsm8kError::Interrupted) => {
                return Err(Stop::Interrupted(self.interrupt.check().err().unwrap_or(
                    Interrupted {
                        signal: signal_hook::consts::SIGTERM,
                    },
                )));
            }
            Err(e) => (Accuracy::Failed, Verdict::Fail, Some(e.to_string())),
            Ok(r) => {
                let acc = format!("{:.4}", r.accuracy);
                if r.accuracy >= c.gsm8k_threshold && r.total > 0 {
                    (Accuracy::Value(acc), Verdict::Pass, None)
                } else {
                    let mut why = format!(
                        "accuracy {acc} below the threshold {:.2} ({} of {} correct, {} requests failed)",
                        c.gsm8k_threshold, r.correct, r.total, r.failed
                    );
                    if let Some(e) = r.first_error {
                        why.push_str(&format!("; first error: {e}"));
                    }
                    (Accuracy::Value(acc), Verdict::Fail, Some(why))
                }
            }
        };
        match (&verdict, &accuracy) {
            (Verdict::Pass, Accuracy::Value(a)) => self.say(format!(
                "✓ GSM8K test completed - Accuracy: {a} (Duration: {secs}s)"
            )),
            (_, Accuracy::Value(a)) => {
                self.say(format!("✗ GSM8K test completed but FAILED - Accuracy: {a}"));
                self.say(format!("   Duration: {secs}s"));
            }
            _ => self.say(format!("✗ GSM8K test failed (Duration: {secs}s)")),
        }
        if let Some(mut why) = reason {
            for d in self.dead(svc) {
                why.push_str("; ");
                why.push_str(&d);
            }
            self.say(format!("  Reason: {why}"));
            self.fail(format!("Test 6 - GSM8K Accuracy: {why}"));
        }
        self.summary.gsm8k_accuracy = accuracy;
        self.summary.gsm8k = TestResult { verdict, secs };
        self.checkpoint();
        self.plain("");
        Ok(())
    }

    fn analyse(&mut self, svc: &mut Services<'_>) {
        self.say("Collecting logs from Docker containers...");
        for role in Role::ALL {
            svc.collect_log(role);
        }
        self.block("Analyzing Decode Server Logs");
        let path = self.cfg.log_dir.join(Role::Decode.log_file());
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
        for l in analyze::report(&text) {
            self.say(l);
        }
        self.plain("");
    }

    fn finish(&mut self) -> u8 {
        self.block("Creating Test Summary");
        self.checkpoint();
        let text = self.summary.render();
        for l in text.lines() {
            self.plain(l);
        }
        self.plain("");
        self.say(SEP);
        self.say(format!(
            "Tests complete! Logs saved to: {}",
            self.cfg.log_dir.display()
        ));
        self.say(SEP);
        if self.summary.all_passed() {
            self.say("✓ All tests PASSED");
            0
        } else {
            self.say(format!("✗ Some tests FAILED (exit code: {EXIT_FAILURE})"));
            self.say("Check individual test logs for details");
            EXIT_FAILURE
        }
    }
}

enum WaitEnd {
    Exited(String),
    TimedOut,
    Docker(String),
}

/// Runs the PD test.
pub fn run(cfg: &PdConfig, console: &mut Console, interrupt: &Interrupt) -> PdReport {
    let header = Header {
        docker_tag: cfg.tag.clone(),
        hardware: cfg.hardware.clone(),
        model: cfg.model_name.clone(),
        model_path: cfg.model_path.clone(),
        docker_image: cfg.image.clone(),
        hostname: crate::config::hostname(),
        ip: cfg.host_ip.clone(),
        prefill_port: cfg.prefill_port,
        decode_port: cfg.decode_port,
        router_port: cfg.router_port,
        log_dir: cfg.log_dir.clone(),
    };
    let mut run = Run {
        cfg,
        console,
        interrupt,
        summary: Summary::new(header),
        start: Instant::now(),
        reasons: Vec::new(),
    };
    let report = |run: Run<'_>, code: u8, wrote: bool| PdReport {
        exit_code: code,
        log_dir: cfg.log_dir.clone(),
        summary: wrote.then(|| run.summary.clone()),
        reasons: run.reasons,
    };
    if !cfg.log_dir.is_dir() {
        if let Err(e) = std::fs::create_dir_all(&cfg.log_dir) {
            run.say(format!(
                "ERROR: cannot create the log directory {}: {e} (set PD_LOG_BASE_DIR or --log-base-dir)",
                cfg.log_dir.display()
            ));
            run.fail(format!("cannot create {}: {e}", cfg.log_dir.display()));
            return report(run, EXIT_FAILURE, false);
        }
        run.say(format!("Log directory created: {}", cfg.log_dir.display()));
    }
    run.plain(BANNER);
    run.plain(format!("PD Test Execution Started: {}", date_line()));
    run.plain(BANNER);
    run.block("SGLang PD Docker-based Test Runner");
    run.say(format!("Model: {}", cfg.model_path));
    run.say(format!("Model Name: {}", cfg.model_name));
    run.say(format!("Docker Image: {}", cfg.image));
    run.say(format!("Hardware: {}", cfg.hardware));
    run.say(format!("Docker Tag: {}", cfg.tag));
    run.say(format!("Log Directory: {}", cfg.log_dir.display()));
    run.say(format!("IP: {}", cfg.host_ip));
    if let Some(n) = &cfg.host_ip_note {
        run.say(format!("Note: {n}"));
    }
    run.say("");

    // Fix Q-PD-13: a missing model still leaves a summary saying nothing ran.
    if !std::path::Path::new(&cfg.model_path).is_dir() {
        run.say(format!(
            "ERROR: Model path does not exist: {}",
            cfg.model_path
        ));
        run.fail(format!("model path {} does not exist", cfg.model_path));
        run.checkpoint();
        return report(run, EXIT_FAILURE, true);
    }
    let mut svc = match Services::connect(cfg) {
        Ok(s) => s,
        Err(e) => {
            run.say(format!("ERROR: {e}"));
            run.fail(e.to_string());
            run.checkpoint();
            return report(run, EXIT_FAILURE, true);
        }
    };
    run.say("Checking for existing containers...");
    if let Err(e) = svc.remove_leftovers() {
        run.say(format!("ERROR: {e}"));
        run.fail(e.to_string());
        run.checkpoint();
        return report(run, EXIT_FAILURE, true);
    }
    // Q-PD-6 (kept): the first cleanup prints its own end banner.
    run.cleanup(&mut svc, false, 0);
    run.start = Instant::now();
    run.checkpoint();

    let steps = (|| -> Result<(), Stop> {
        run.start_router(&mut svc)?;
        run.start_server(&mut svc, Role::Prefill)?;
        run.start_server(&mut svc, Role::Decode)?;
        run.health_loop(&mut svc)?;
        run.tests(&mut svc)?;
        Ok(())
    })();
    let code = match steps {
        Ok(()) => {
            run.analyse(&mut svc);
            run.finish()
        }
        Err(Stop::Failed(code)) => {
            run.checkpoint();
            code
        }
        Err(Stop::Interrupted(i)) => {
            run.say(format!("Interrupted by {}: stopping", i.name()));
            run.fail(format!("interrupted by {}", i.name()));
            run.checkpoint();
            i.exit_code()
        }
    };
    run.cleanup(&mut svc, true, code);
    drop(svc);
    report(run, code, true)
}
