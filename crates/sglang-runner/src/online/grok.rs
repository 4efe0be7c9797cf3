//! `grok-perf-online` (spec benchmarks.md §4): server, GSM8K gate, `bench_serving` at each
//! request rate (three runs, best by median E2E), the three-table CSV rewritten after each
//! rate, the timing summary of §7.8 — with the fixes F-3 (request throughput of the best run),
//! F-4 (the summary always ends), F-10 (a dead server fails the start-up wait at once), F-11
//! (a failing client run is recorded and the run goes on), F-12 (stopping a dead server is
//! fine), F-25 (one GSM8K attempt per log), F-26 (MI355 runs can complete), F-39 (wall-clock
//! start-up time).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use metrics_parse::legacy_csv::OnlineKind;
use metrics_parse::server_log::READY_LINE;
use report::online_csv::{Cell, grok_row_label};

use super::{
    CsvState, RunLogState, best_of_load, cell_text, describe_halt, run_state, stop_server,
};
use crate::command::CommandSpec;
use crate::config::{GrokConfig, GrokType, serving_extras};
use crate::console::Console;
use crate::engine::ClientImpl;
use crate::error::RunnerError;
use crate::exec::Executor;
use crate::gsm8k::{self, Gsm8kStage, LogState};
use crate::outcome::{Outcome, RunReport};
use crate::paths::OnlinePaths;
use crate::server::{MAX_POLL, Readiness, Server, StartFailure};
use crate::session::{Halt, Session};
use crate::signals::Interrupt;
use crate::timefmt;
use crate::timing::{HeaderCommon, TimingLog};

/// A Grok plan: the configuration, the paths and every command line.
pub struct GrokPlan {
    /// The configuration.
    pub cfg: GrokConfig,
    /// The run folder's paths.
    pub paths: OnlinePaths,
    /// The server command.
    pub server: CommandSpec,
    /// One GSM8K run.
    pub gsm8k: CommandSpec,
    /// Readiness.
    pub readiness: Readiness,
}

const DASHES: &str = "----------------------------------------";

impl GrokPlan {
    /// Builds the plan.
    pub fn new(cfg: GrokConfig) -> Self {
        let c = &cfg.common;
        let paths = OnlinePaths::grok(&c.output_dir, &c.tag, &cfg.model_name, &cfg.variant);
        let mut args: Vec<String> = [
            "--model",
            &cfg.model,
            "--tokenizer-path",
            &cfg.tokenizer,
            "--tp",
            "8",
            "--quantization",
            "fp8",
            "--trust-remote-code",
            "--attention-backend",
            "aiter",
            "--mem-fraction-static",
            "0.85",
            "--watchdog-timeout",
            "600",
        ]
        .map(String::from)
        .to_vec();
        // The original passes no port (sglang's default 30000); another port is passed on.
        if c.port != 30000 {
            args.extend(["--port".to_owned(), c.port.to_string()]);
        }
        let env: Vec<(String, String)> = match cfg.model_type {
            GrokType::Grok1 => vec![("SGLANG_USE_AITER", "1"), ("SGLANG_INT4_WEIGHT", "1")],
            GrokType::Grok2 => vec![
                ("RCCL_MSCCL_ENABLE", "0"),
                ("SGLANG_USE_AITER", "1"),
                ("SGLANG_INT4_WEIGHT", "0"),
            ],
        }
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let server = c.steps.server(&args, &env, &c.sim_args).cwd(&c.work_dir);
        let g = cfg.gsm8k;
        let mut gargs: Vec<String> = vec![
            "--num-questions".into(),
            g.questions.to_string(),
            "--parallel".into(),
            g.parallel.to_string(),
            "--num-shots".into(),
            g.shots.to_string(),
        ];
        if c.port != 30000 {
            gargs.extend(["--port".to_owned(), c.port.to_string()]);
        }
        let gsm8k = c
            .steps
            .gsm8k(&c.gsm8k_script, &gargs, c.gsm8k_data.as_deref())
            .cwd(&c.work_dir);
        let readiness = Readiness {
            url: format!("http://127.0.0.1:{}/get_model_info", c.port),
            log_line: Some(READY_LINE),
            timeout: c.server_timeout,
            max_interval: MAX_POLL,
        };
        Self {
            paths,
            server,
            gsm8k,
            readiness,
            cfg,
        }
    }

    /// The client command of one run of `rate` whose log is `log`.
    pub fn client(&self, rate: &str, log: &Path) -> CommandSpec {
        let c = &self.cfg.common;
        let mut args: Vec<String> = vec!["--backend".into(), "sglang".into()];
        // The simulated engine needs no model files: a tokenizer that is not on this machine
        // is left out (the client then counts bytes, as the simulator does).
        let tokenizer = !c.simulated() || Path::new(&self.cfg.tokenizer).exists();
        if tokenizer {
            args.extend(["--tokenizer".to_owned(), self.cfg.tokenizer.clone()]);
        }
        args.extend([
            "--dataset-name".into(),
            "random".into(),
            "--random-input".into(),
            self.cfg.input_len.to_string(),
            "--random-output".into(),
            self.cfg.output_len.to_string(),
            "--num-prompts".into(),
            self.cfg.prompts(rate).to_string(),
            "--request-rate".into(),
            rate.to_owned(),
        ]);
        if c.port != 30000 {
            args.extend(["--port".to_owned(), c.port.to_string()]);
        }
        args.extend(serving_extras(c.steps.client, c.scale, log));
        c.steps
            .serving(&args, if tokenizer { &[3] } else { &[] })
            .cwd(&c.work_dir)
    }

    /// The `--dry-run` text: every setting, path and command line.
    pub fn describe(&self) -> String {
        let c = &self.cfg.common;
        let cfg = &self.cfg;
        let mut o = String::new();
        let mut l = |s: String| {
            o.push_str(&s);
            o.push('\n');
        };
        l("grok-perf-online: dry run (nothing is started or written)".into());
        l(String::new());
        l("Settings:".into());
        describe_common(c, &mut l);
        l(format!("  model type: {}", cfg.model_type.as_str()));
        l(format!("  model: {}", cfg.model));
        l(format!("  tokenizer: {}", cfg.tokenizer));
        l(format!(
            "  model name / variant: {} / {}",
            cfg.model_name, cfg.variant
        ));
        l(format!(
            "  request rates: {}{}",
            cfg.rates.join(" "),
            if cfg.skip_rate16 {
                " (16 skipped on MI355 hardware)"
            } else {
                ""
            }
        ));
        l(format!("  runs per rate: {}", cfg.runs_per_rate));
        l(format!(
            "  prompts per rate: {} x rate, at most {}; input {} / output {} tokens",
            cfg.prompts_per_rate, cfg.max_prompts, cfg.input_len, cfg.output_len
        ));
        l(format!(
            "  GSM8K: {} runs x {} questions, parallel {}, {} shots, threshold {}",
            cfg.gsm8k.runs,
            cfg.gsm8k.questions,
            cfg.gsm8k.parallel,
            cfg.gsm8k.shots,
            c.threshold_text
        ));
        l(format!(
            "  pauses: {} s between runs, {} s + cache flush between rate-16 runs, {} s between rates",
            c.pauses.between_runs.as_secs_f64(),
            c.pauses.rate16.as_secs_f64(),
            c.pauses.between_loads.as_secs_f64()
        ));
        for n in &cfg.notes {
            l(format!("  note: {n}"));
        }
        l(String::new());
        l("Files:".into());
        describe_paths(
            &self.paths,
            "sglang_client_log_<MODEL>_aiter_<rate>_run<i>_<YYYYMMDD_HHMMSS>.log",
            &mut l,
        );
        l(String::new());
        l("Commands (in order):".into());
        l(format!("  server: {}", self.server.display_with_env()));
        l(format!(
            "  readiness: GET {} answers 200 and the server log shows {READY_LINE:?}; polled every <= 200 ms for at most {} s",
            self.readiness.url,
            self.readiness.timeout.as_secs()
        ));
        l(format!(
            "  GSM8K (x{}): {}",
            cfg.gsm8k.runs,
            self.gsm8k.display()
        ));
        for rate in &cfg.rates {
            if cfg.skip_rate16 && rate == "16" {
                l("  rate 16: skipped on MI355 hardware".into());
                continue;
            }
            let log = self.paths.client_log(rate, 1, "<ts>");
            l(format!(
                "  rate {rate} (x{}): {}",
                cfg.runs_per_rate,
                self.client(rate, &log).display()
            ));
        }
        l(format!(
            "  shutdown: SIGTERM to the server's process group, SIGKILL after 10 s; port {} must be free",
            c.port
        ));
        describe_problems(c, &mut l);
        o
    }

    /// Runs the plan. `Err` only for setup failures (nothing started); everything that
    /// happens once the run folder exists is an [`Outcome`] in the report.
    pub fn run(
        &self,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
    ) -> Result<RunReport, RunnerError> {
        let c = &self.cfg.common;
        if !c.problems.is_empty() {
            return Err(RunnerError::Validation(c.problems.clone()));
        }
        let started = timefmt::now();
        let stamp = timefmt::file_stamp(&started);
        let mut s = Session {
            exec,
            console,
            interrupt,
            clock: crate::clock::Clock::start(),
        };
        if c.simulated() {
            s.say("[online] Engine: simulated (sglang-sim) - the numbers of this run are not real measurements");
        }
        for n in &self.cfg.notes {
            s.say(n);
        }
        s.say(format!(
            "[online] Script started at: {}",
            timefmt::human(&started)
        ));
        std::fs::create_dir_all(&self.paths.folder)
            .map_err(|e| RunnerError::io("create run folder", &self.paths.folder, e))?;
        let mut timing = TimingLog::create(&self.paths.new_timing_summary(&stamp))?;
        timing.header_common(&HeaderCommon {
            started: &started,
            command: c.nightly_command.as_deref(),
            hardware: c.hardware.as_deref(),
            rocm_version: c.rocm_version.as_deref(),
            image: &c.image_line(),
            model: &self.cfg.model,
            hostname: &c.hostname,
        });
        timing.line(format!("Model type: {}", self.cfg.model_type.as_str()));
        timing.line("Attention backend: unknown");
        timing.blank();

        let mut csv = CsvState::new(
            OnlineKind::RequestRate,
            &self.cfg.model_name,
            &c.tag,
            &grok_row_label(&c.hostname),
            &self.cfg.rates,
            &self.paths.csv,
        );
        let outcome = if self.scan(&mut s)? {
            timing.line("All logs already complete - skipping server startup");
            for rate in self.cfg.scheduled_rates() {
                let r = best_of_load(&self.paths, rate, &Cell::Na)?;
                csv.results.insert(rate.to_owned(), r);
            }
            csv.write()?;
            Outcome::Regenerated
        } else {
            self.fresh(&mut s, &mut timing, &mut csv)?
        };
        s.say(format!("CSV summary saved to {}", self.paths.csv.display()));
        s.say(format!(
            "All done! Client logs and CSV summary are saved in {}.",
            self.paths.folder.display()
        ));
        self.performance_summary(&mut timing, &csv);
        let ended = timefmt::now();
        let wall = s.clock.elapsed();
        timing.blank();
        timing.overall(&ended, wall);
        console_summary(
            &mut s,
            &ended,
            wall,
            &self.paths,
            csv.written.then_some(self.paths.csv.as_path()),
            timing.path(),
        );
        s.say(format!("[online] {}", outcome.message()));
        Ok(RunReport {
            exit_code: outcome.exit_code(),
            outcome,
            run_folder: self.paths.folder.clone(),
            timing_summary: timing.path().to_owned(),
            csv: csv.written.then(|| self.paths.csv.clone()),
            simulated: c.simulated(),
            accounting: s.clock.accounting(),
        })
    }

    /// The completion scan (§4.11, fixes F-16/F-26): true when the GSM8K log passed and
    /// every scheduled rate has three completed runs.
    fn scan(&self, s: &mut Session<'_>) -> Result<bool, RunnerError> {
        let cfg = &self.cfg;
        s.say("Scanning existing logs to check if all benchmarks are already complete...");
        s.say("Checking GSM8K log status...");
        let g = &self.paths.gsm8k_log;
        let gsm8k_ok = match gsm8k::log_state(g, cfg.gsm8k.runs, Some("aiter")) {
            LogState::Missing => {
                s.say(format!("Missing: GSM8K log file ({})", g.display()));
                false
            }
            LogState::Empty => {
                s.say(format!("Empty: GSM8K log file ({})", g.display()));
                false
            }
            LogState::Incomplete => {
                s.say(format!(
                    "Incomplete: GSM8K log file missing final summary ({})",
                    g.display()
                ));
                false
            }
            LogState::Complete {
                passed: false,
                average,
            } => {
                s.say(format!(
                    "Failed: GSM8K log file ends below threshold (average {average}); GSM8K will run again ({})",
                    g.display()
                ));
                false
            }
            LogState::Complete { passed: true, .. } => {
                s.say("✅ GSM8K log file is complete.");
                true
            }
        };
        s.say("Checking client benchmark logs...");
        let rates = cfg.scheduled_rates();
        let total = rates.len() as u32 * cfg.runs_per_rate;
        let mut done = 0;
        for rate in &rates {
            for run in 1..=cfg.runs_per_rate {
                if matches!(
                    run_state(&self.paths, rate, run)?,
                    RunLogState::Completed(_)
                ) {
                    done += 1;
                }
            }
        }
        s.say(format!(
            "Scan complete: {done}/{total} client benchmark runs are complete."
        ));
        if done < total {
            s.say("❌ Missing or incomplete client benchmark runs.");
        }
        if !gsm8k_ok {
            s.say("❌ GSM8K benchmark is missing, empty, or incomplete.");
        }
        let complete = gsm8k_ok && done == total;
        if complete {
            s.say("✅ All benchmark logs (client + GSM8K) are present and complete! No server startup needed.");
        } else {
            s.say("Server startup required.");
        }
        Ok(complete)
    }

    /// Server, GSM8K, client benchmark, shutdown.
    fn fresh(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        csv: &mut CsvState,
    ) -> Result<Outcome, RunnerError> {
        let cfg = &self.cfg;
        let c = &cfg.common;
        let ty = cfg.model_type.as_str();
        s.say("Starting benchmarks using aiter backend...");
        timing.line(format!("Attention backend: aiter ({ty})"));
        let env: Vec<String> = self
            .server
            .env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        s.say(format!(
            "[online] Using {} environment: {}",
            if cfg.model_type == GrokType::Grok1 {
                "Grok1"
            } else {
                "Grok2"
            },
            env.join(" ")
        ));
        s.say(format!("[online] Launching backend=aiter for {ty}"));
        s.say(format!(
            "[online] Waiting for server to be ready (timeout: {}s)...",
            c.server_timeout.as_secs()
        ));
        let t = Instant::now();
        let mut server =
            Server::launch(s.exec, &self.server, &self.paths.server_log, false, c.port)?;
        let ready = {
            let console = &mut *s.console;
            server.wait_ready(&self.readiness, s.interrupt, &mut |d| {
                console.line(format!(
                    "[online] Still waiting... ({}s elapsed)",
                    d.as_secs()
                ));
            })
        };
        s.clock.add_engine(t.elapsed());
        let pid = server
            .pid()
            .map_or_else(|| "?".to_owned(), |p| p.to_string());
        match ready {
            Ok(d) => {
                s.say(format!(
                    "[online] Server ready after {} seconds (PID {pid})",
                    d.as_secs()
                ));
                timing.line(format!("Server startup time: {} seconds", d.as_secs()));
            }
            Err(StartFailure::Interrupted(i)) => {
                stop_server(s, &mut server, timing, c.port);
                timing.line(format!(
                    "Run interrupted: received {} while waiting for the server to start",
                    i.name()
                ));
                return Ok(Outcome::Interrupted { signal: i.signal });
            }
            Err(e) => {
                s.say(format!("[online] ERROR: Server failed to start: {e}"));
                s.say("[online] Last 50 lines of the server log:");
                for line in server.log_tail(50) {
                    s.say(line);
                }
                timing.line(format!("Server startup: FAILED ({e})"));
                stop_server(s, &mut server, timing, c.port);
                return Ok(Outcome::ServerStartFailed {
                    reason: e.to_string(),
                });
            }
        }

        let stage = Gsm8kStage {
            log: &self.paths.gsm8k_log,
            runs: cfg.gsm8k.runs,
            mode: Some("aiter"),
            threshold_text: &c.threshold_text,
            threshold: c.threshold,
            cmd: &self.gsm8k,
            timeout: c.client_timeout,
        };
        let mut outcome = match gsm8k::run_stage(s, &mut server, &stage) {
            Ok(g) => {
                timing.blank();
                timing.gsm8k_block(g.duration_s, &g.average, cfg.gsm8k.runs);
                if g.passed {
                    self.client_benchmark(s, timing, csv, &mut server)
                } else {
                    s.say("Skipping benchmarks for aiter backend due to low GSM8K accuracy.");
                    Outcome::Gsm8kFailed {
                        average: g.average,
                        threshold: c.threshold_text.clone(),
                    }
                }
            }
            Err(h) => {
                let (line, outcome) = describe_halt(&h, "the GSM8K test");
                s.say(format!("[online] {line}"));
                timing.line(line);
                outcome
            }
        };

        s.say(format!("[online] Shutting down server (PID {pid})..."));
        let scan = server.error_scan();
        timing.blank();
        timing.error_check(&scan);
        let secs = stop_server(s, &mut server, timing, c.port);
        s.say(format!(
            "[online] Server shutdown completed in {secs} seconds"
        ));
        timing.line(format!("Server shutdown time: {secs} seconds"));
        if scan.runtime_error_lines > 0 {
            s.say(format!(
                "[online] WARNING: the server log has {} RuntimeError line(s) (Server error status: FAIL)",
                scan.runtime_error_lines
            ));
        }
        if let Outcome::CompletedWithErrors { runtime_errors, .. } = &mut outcome {
            *runtime_errors = scan.runtime_error_lines;
        } else if outcome == Outcome::Completed && scan.runtime_error_lines > 0 {
            outcome = Outcome::CompletedWithErrors {
                failed_runs: 0,
                runtime_errors: scan.runtime_error_lines,
            };
        }
        Ok(outcome)
    }

    /// The client benchmark (§4.8); never fails the run by itself: a step that ends the
    /// run early becomes the outcome.
    fn client_benchmark(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        csv: &mut CsvState,
        server: &mut Server,
    ) -> Outcome {
        let cfg = &self.cfg;
        let c = &cfg.common;
        let start = timefmt::now();
        let stamp = timefmt::file_stamp(&start);
        let t0 = Instant::now();
        s.say(format!(
            "Starting client benchmark for mode aiter at: {}...",
            timefmt::human(&start)
        ));
        timing.blank();
        timing.line("Client Benchmark Results:");
        timing.line(format!("  Start time: {}", timefmt::human(&start)));
        if let Err(e) = csv.write() {
            s.say(format!("[online] WARNING: {e}"));
        } else {
            s.say(format!(
                "[online] CSV initialized at {}",
                csv.path().display()
            ));
        }
        let mut failed_runs = 0u32;
        let scheduled = cfg.scheduled_rates();
        let mut halted: Option<Outcome> = None;
        'rates: for rate in &cfg.rates {
            if cfg.skip_rate16 && rate == "16" {
                s.say("[online] Skipping rate 16 on MI355 hardware (known limitation - scheduler timeout)");
                timing.line("Rate 16 skipped on MI355 hardware");
                continue;
            }
            s.say(format!("Processing request rate {rate} for mode aiter..."));
            let rate_start = Instant::now();
            for run in 1..=cfg.runs_per_rate {
                let step = format!("rate {rate}, run {run}");
                match self.one_run(s, timing, server, rate, run, &stamp) {
                    Ok(RunDone::Skipped) => continue,
                    Ok(RunDone::Ran { ok }) => {
                        if !ok {
                            failed_runs += 1;
                        }
                    }
                    Err(h) => {
                        let (line, o) = describe_halt(&h, &step);
                        s.say(format!("[online] {line}"));
                        timing.line(line);
                        halted = Some(o);
                        break 'rates;
                    }
                }
                if run < cfg.runs_per_rate {
                    let r = if rate == "16" {
                        s.say(format!(
                            "Rate 16 detected - sleeping {} seconds and clearing memory before next run...",
                            c.pauses.rate16.as_secs()
                        ));
                        let r = s.pause(c.pauses.rate16);
                        if r.is_ok() {
                            s.say("Clearing GPU memory cache...");
                            let t = Instant::now();
                            crate::server::http_post_ok(
                                &format!("http://127.0.0.1:{}/flush_cache", c.port),
                                Duration::from_secs(30),
                            );
                            s.clock.add_engine(t.elapsed());
                            s.say("Memory cleanup completed");
                        }
                        r
                    } else {
                        if !c.pauses.between_runs.is_zero() {
                            s.say(format!(
                                "Sleeping {} seconds between runs to avoid memory access faults...",
                                c.pauses.between_runs.as_secs()
                            ));
                        }
                        s.pause(c.pauses.between_runs)
                    };
                    if let Err(h) = r {
                        let (line, o) = describe_halt(&h, &format!("the pause after {step}"));
                        timing.line(line);
                        halted = Some(o);
                        break 'rates;
                    }
                }
            }
            match best_of_load(&self.paths, rate, &Cell::Na) {
                Ok(r) => {
                    s.say(format!(
                        "[online] Updating CSV for rate {rate}: E2E={}ms, TTFT={}ms, ITL={}ms",
                        cell_text(&r.cells.e2e),
                        cell_text(&r.cells.ttft),
                        cell_text(&r.cells.itl)
                    ));
                    csv.results.insert(rate.clone(), r);
                    match csv.write() {
                        Ok(()) => {
                            s.say(format!("[online] CSV updated with results for rate {rate}"))
                        }
                        Err(e) => s.say(format!("[online] WARNING: {e}")),
                    }
                }
                Err(e) => s.say(format!("[online] WARNING: {e}")),
            }
            timing.line(format!(
                "Completed rate {rate} - Total time: {} seconds",
                rate_start.elapsed().as_secs()
            ));
            if scheduled.last() != Some(&rate.as_str()) {
                if !c.pauses.between_loads.is_zero() {
                    s.say(format!(
                        "Sleeping {} seconds before next request rate...",
                        c.pauses.between_loads.as_secs()
                    ));
                }
                if let Err(h) = s.pause(c.pauses.between_loads) {
                    let (line, o) = describe_halt(&h, &format!("the pause after rate {rate}"));
                    timing.line(line);
                    halted = Some(o);
                    break;
                }
            }
        }
        timing.line(format!("  End time: {}", timefmt::human(&timefmt::now())));
        timing.line(format!(
            "  Total duration: {} seconds",
            t0.elapsed().as_secs()
        ));
        s.say(format!(
            "Client benchmark completed in {} seconds",
            t0.elapsed().as_secs()
        ));
        match halted {
            Some(o) => o,
            None if failed_runs > 0 => Outcome::CompletedWithErrors {
                failed_runs,
                runtime_errors: 0,
            },
            None => Outcome::Completed,
        }
    }

    /// One client run of `rate` (§4.8): resume check, log, command, trailer.
    fn one_run(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        server: &mut Server,
        rate: &str,
        run: u32,
        stamp: &str,
    ) -> Result<RunDone, Halt> {
        match run_state(&self.paths, rate, run)? {
            RunLogState::Completed(_) => {
                s.say(format!(
                    "Complete log for mode aiter, rate {rate}, run {run} already exists. Skipping."
                ));
                return Ok(RunDone::Skipped);
            }
            RunLogState::Incomplete(files) => {
                for f in files {
                    s.say(format!(
                        "Found incomplete log file: {} (missing 'Run completed at:' marker)",
                        f.display()
                    ));
                    s.say("Removing incomplete log and re-running...");
                    std::fs::remove_file(&f)
                        .map_err(|e| RunnerError::io("remove incomplete client log", &f, e))?;
                }
            }
            RunLogState::Missing => {}
        }
        let path = self.paths.client_log(rate, run, stamp);
        let cmd = self.client(rate, &path);
        let mut log =
            File::create(&path).map_err(|e| RunnerError::io("create client log", &path, e))?;
        let both = |s: &mut Session<'_>, log: &mut File, line: String| -> Result<(), Halt> {
            writeln!(log, "{line}").map_err(|e| RunnerError::io("write client log", &path, e))?;
            s.say(line);
            Ok(())
        };
        both(
            s,
            &mut log,
            format!("Running benchmark with request rate: {rate} (Run {run}) for mode aiter"),
        )?;
        both(
            s,
            &mut log,
            format!("Run started at: {}", timefmt::human(&timefmt::now())),
        )?;
        both(s, &mut log, format!("Executing: {}", cmd.display()))?;
        let end = s.run_client(&cmd, server, &mut log, true, self.cfg.common.client_timeout)?;
        let secs = end.duration.as_secs();
        let ok = end.exit.success();
        if ok {
            both(
                s,
                &mut log,
                format!("Run completed at: {}", timefmt::human(&timefmt::now())),
            )?;
        } else {
            // Fix F-11: the run is recorded as failed (no completion marker, so a rerun
            // retries it) and the benchmark goes on.
            both(
                s,
                &mut log,
                format!(
                    "Run failed at: {} ({})",
                    timefmt::human(&timefmt::now()),
                    end.exit
                ),
            )?;
            s.say(format!(
                "[online] WARNING: the client of rate {rate}, run {run} ended with {}; the run is recorded as failed",
                end.exit
            ));
        }
        both(s, &mut log, format!("Run duration: {secs} seconds"))?;
        both(s, &mut log, DASHES.to_owned())?;
        timing.line(format!("  Rate {rate}, Run {run}: {secs} seconds"));
        Ok(RunDone::Ran { ok })
    }

    /// The Performance Summary (§7.8; F-3: the best run's request throughput; F-4: `NA` for
    /// rates without a value, the file always goes on to the overall summary).
    fn performance_summary(&self, timing: &mut TimingLog, csv: &CsvState) {
        timing.blank();
        timing.line("Performance Summary:");
        timing.line("===================");
        for rate in &self.cfg.rates {
            let r = csv.results.get(rate);
            let v =
                |f: fn(&super::LoadResult) -> &Cell| r.map_or("NA", |r| cell_text(f(r))).to_owned();
            timing.line(format!("Request Rate {rate}:"));
            timing.line(format!("  E2E Latency: {} ms", v(|r| &r.cells.e2e)));
            timing.line(format!("  TTFT: {} ms", v(|r| &r.cells.ttft)));
            timing.line(format!("  ITL: {} ms", v(|r| &r.cells.itl)));
            timing.line(format!(
                "  Throughput: {} requests/s",
                r.and_then(|r| r.request_throughput.as_deref())
                    .unwrap_or("N/A")
            ));
            timing.blank();
        }
    }
}

/// What one run did.
enum RunDone {
    /// Already complete.
    Skipped,
    /// Ran; `ok` = the client exited 0.
    Ran { ok: bool },
}

/// Shared dry-run lines.
pub(crate) fn describe_common(c: &crate::config::Common, l: &mut dyn FnMut(String)) {
    l(format!(
        "  engine: {}{}",
        c.engine.as_str(),
        if c.simulated() {
            " (simulated: numbers are not real measurements)"
        } else {
            ""
        }
    ));
    l(format!(
        "  executor: {} ({})",
        c.executor.as_str(),
        c.executor_reason
    ));
    l(format!(
        "  serving client: {}; GSM8K client: {}",
        c.steps.client.as_str(),
        c.steps.gsm8k_client.as_str()
    ));
    if let Some(d) = &c.gsm8k_data
        && c.steps.gsm8k_client == ClientImpl::Native
    {
        l(format!("  GSM8K data: {}", d.display()));
    }
    if c.simulated() {
        l(format!(
            "  workload: {}; simulator flags: {}",
            match c.scale {
                crate::config::SimScale::Scaled =>
                    "scaled down for the simulator (--sim-full-workload keeps the original sizes)",
                crate::config::SimScale::Full => "original sizes",
            },
            if c.sim_args.is_empty() {
                "(none)".to_owned()
            } else {
                c.sim_args.join(" ")
            }
        ));
    }
    l(format!(
        "  docker image: {} (tag {}, container {})",
        c.image, c.tag, c.container
    ));
    if c.executor == crate::engine::ExecutorKind::Docker {
        l(format!(
            "  container settings: docker run -d --name {} --shm-size 32g --ipc=host --cap-add=SYS_PTRACE --network=host --device=/dev/kfd --device=/dev/dri --security-opt seccomp=unconfined -v /mnt/raid/:/mnt/raid/ --group-add video --privileged -w /sgl-workspace {} tail -f /dev/null",
            c.container, c.image
        ));
    }
    l(format!("  work dir: {}", c.work_dir.display()));
    l(format!("  output dir: {}", c.output_dir.display()));
    l(format!("  host name: {}", c.hostname));
    l(format!(
        "  hardware: {}",
        c.hardware.as_deref().unwrap_or("(not given)")
    ));
    l(format!(
        "  ROCm version: {}",
        c.rocm_version.as_deref().unwrap_or("(not given)")
    ));
    if let Some(cmd) = &c.nightly_command {
        l(format!(
            "  nightly command: {}",
            report::redact::redact(cmd)
        ));
    }
    l(format!("  port: {}", c.port));
    l(format!(
        "  time limits: server start-up {} s, each client command {} s",
        c.server_timeout.as_secs(),
        c.client_timeout.as_secs()
    ));
}

/// Shared dry-run lines for files.
pub(crate) fn describe_paths(p: &OnlinePaths, client_pattern: &str, l: &mut dyn FnMut(String)) {
    l(format!("  run folder: {}", p.folder.display()));
    l(format!("  CSV: {}", p.csv.display()));
    l(format!("  server log: {}", p.server_log.display()));
    l(format!("  GSM8K log: {}", p.gsm8k_log.display()));
    l(format!(
        "  timing summary: {}",
        p.folder
            .join("timing_summary_<YYYYMMDD_HHMMSS>.log")
            .display()
    ));
    l(format!(
        "  client logs: {}",
        p.folder.join(client_pattern).display()
    ));
}

/// Shared dry-run problem lines.
pub(crate) fn describe_problems(c: &crate::config::Common, l: &mut dyn FnMut(String)) {
    if !c.problems.is_empty() {
        l(String::new());
        l(format!(
            "Problems ({}; a real run stops on them):",
            c.problems.len()
        ));
        for p in &c.problems {
            l(format!("  - {p}"));
        }
    }
}

/// The console's closing block.
pub(crate) fn console_summary(
    s: &mut Session<'_>,
    ended: &chrono::DateTime<chrono_tz::Tz>,
    wall: Duration,
    paths: &OnlinePaths,
    csv: Option<&Path>,
    timing: &Path,
) {
    let bar = "=".repeat(42);
    s.say("");
    s.say(&bar);
    s.say("SCRIPT EXECUTION SUMMARY");
    s.say(&bar);
    s.say(format!("Script completed at: {}", timefmt::human(ended)));
    s.say(format!(
        "Total execution time: {} seconds ({} minutes)",
        wall.as_secs(),
        wall.as_secs() / 60
    ));
    s.say(format!("Output directory: {}", paths.folder.display()));
    s.say(format!(
        "CSV file: {}",
        csv.map_or_else(|| "(none written)".to_owned(), |p| p.display().to_string())
    ));
    s.say(format!("Timing log: {}", timing.display()));
    s.say(&bar);
}
