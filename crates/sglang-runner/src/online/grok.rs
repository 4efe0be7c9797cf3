//! `grok-perf-online` (spec benchmarks.md §4): server, GSM8K gate, `bench_serving` at each
//! request rate (three runs, best by median E2E), the three-table CSV rewritten after each
//! rate, the timing summary of §7.8 — with the fixes F-3 (request throughput of the best run),
//! F-4 (the summary always ends), F-10 (a dead server fails the start-up wait at once), F-11
//! (a failing client run is recorded and the run goes on), F-12 (stopping a dead server is
//! fine), F-25 (one GSM8K attempt per log), F-26 (MI355 runs can complete), F-39 (wall-clock
//! start-up time).

use std::path::Path;
use std::time::{Duration, Instant};

use metrics_parse::legacy_csv::OnlineKind;
use metrics_parse::server_log::READY_LINE;
use report::online_csv::{Cell, grok_row_label};

use super::config::{Common, GrokConfig, serving_extras};
use super::sweep::{RunDone, SweepHooks, run_sweep};
use super::{
    CsvState, Describe, PlanSteps, RunLog, RunLogState, best_of_load, halted, performance_summary,
    pid_text, run_state, scan_gsm8k, scan_verdict, session, start_failed, stop_server,
};
use crate::benchmark::Benchmark;
use crate::command::{CommandSpec, env_text};
use crate::config::{EnvSource, GrokType};
use crate::console::Console;
use crate::container::{self, BenchContainer};
use crate::engine::ExecutorKind;
use crate::error::RunnerError;
use crate::exec::Executor;
use crate::gsm8k;
use crate::outcome::{Outcome, RunReport};
use crate::paths::OnlinePaths;
use crate::server::{MAX_POLL, Readiness, Server, StartFailure};
use crate::session::{Halt, Session};
use crate::signals::Interrupt;
use crate::timefmt;
use crate::timing::TimingLog;

/// A Grok plan: the configuration, the paths and every command line.
pub struct GrokPlan {
    /// The configuration.
    pub cfg: GrokConfig,
    /// The run folder's paths, the server, one GSM8K run, readiness.
    pub steps: PlanSteps,
}

const DASHES: &str = "----------------------------------------";

impl GrokPlan {
    /// Builds the plan.
    pub fn new(cfg: GrokConfig) -> Self {
        let c = &cfg.common;
        let paths = OnlinePaths::grok(
            &c.base.output_dir,
            &c.base.tag,
            &cfg.model_name,
            &cfg.variant,
        );
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
        let server = c.server_command(&args, &cfg.model_type.environment());
        let mut gargs = cfg.gsm8k.client_args();
        if c.port != 30000 {
            gargs.extend(["--port".to_owned(), c.port.to_string()]);
        }
        let gsm8k = c.gsm8k_command(&gargs);
        let readiness = Readiness {
            url: format!("http://127.0.0.1:{}/get_model_info", c.port),
            log_line: Some(READY_LINE),
            timeout: c.server_timeout,
            max_interval: MAX_POLL,
        };
        Self {
            steps: PlanSteps {
                paths,
                server,
                gsm8k,
                readiness,
            },
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
        args.extend(serving_extras(c.base.steps.client, c.scale, log));
        c.serving_command(&args, if tokenizer { &[3] } else { &[] })
    }

    /// The completion scan (§4.11, fixes F-16/F-26): true when the GSM8K log passed and
    /// every scheduled rate has three completed runs.
    fn scan(&self, s: &mut Session<'_>) -> Result<bool, RunnerError> {
        let cfg = &self.cfg;
        let gsm8k_ok = scan_gsm8k(
            s,
            &self.steps.paths.gsm8k_log,
            cfg.gsm8k.runs,
            Some("aiter"),
        );
        s.say("Checking client benchmark logs...");
        let rates = cfg.scheduled_rates();
        let total = rates.len() as u32 * cfg.runs_per_rate;
        let mut done = 0;
        for rate in &rates {
            for run in 1..=cfg.runs_per_rate {
                if matches!(
                    run_state(&self.steps.paths, rate, run)?,
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
        Ok(scan_verdict(s, gsm8k_ok, done == total, "client"))
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
        s.say(format!(
            "[online] Using {} environment: {}",
            if cfg.model_type == GrokType::Grok1 {
                "Grok1"
            } else {
                "Grok2"
            },
            env_text(&self.steps.server.env)
        ));
        s.say(format!("[online] Launching backend=aiter for {ty}"));
        s.say(format!(
            "[online] Waiting for server to be ready (timeout: {}s)...",
            c.server_timeout.as_secs()
        ));
        let (mut server, ready) = self.steps.start_server(
            s,
            c.port,
            |_, _| {},
            |secs| format!("[online] Still waiting... ({secs}s elapsed)"),
        )?;
        let pid = pid_text(&server);
        match ready {
            Ok(d) => {
                s.say(format!(
                    "[online] Server ready after {} seconds (PID {pid})",
                    d.as_secs()
                ));
                timing.line(format!("Server startup time: {} seconds", d.as_secs()));
            }
            Err(e) => {
                if matches!(e, StartFailure::Interrupted(_)) {
                    stop_server(s, &mut server, timing, c.port);
                    return Ok(start_failed(timing, &e));
                }
                s.say(format!("[online] ERROR: Server failed to start: {e}"));
                s.say("[online] Last 50 lines of the server log:");
                for line in server.log_tail(50) {
                    s.say(line);
                }
                let outcome = start_failed(timing, &e);
                stop_server(s, &mut server, timing, c.port);
                return Ok(outcome);
            }
        }

        let stage = self.steps.gsm8k_stage(c, cfg.gsm8k.runs, Some("aiter"));
        let outcome = match gsm8k::run_stage(s, &mut server, &stage) {
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
                let (line, outcome) = halted(timing, &h, "the GSM8K test");
                s.say(format!("[online] {line}"));
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
        Ok(outcome.with_runtime_errors(scan.runtime_error_lines))
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
        let outcome = run_sweep(self, s, timing, csv, server, &stamp);
        timing.line(format!("  End time: {}", timefmt::human(&timefmt::now())));
        timing.line(format!(
            "  Total duration: {} seconds",
            t0.elapsed().as_secs()
        ));
        s.say(format!(
            "Client benchmark completed in {} seconds",
            t0.elapsed().as_secs()
        ));
        outcome
    }

    /// The pause between two runs of `rate` (quirk K-14): rate 16 sleeps longer and flushes
    /// the server's cache.
    fn pause_between_runs(&self, s: &mut Session<'_>, rate: &str) -> Result<(), Halt> {
        let c = &self.cfg.common;
        if rate != "16" {
            if !c.pauses.between_runs.is_zero() {
                s.say(format!(
                    "Sleeping {} seconds between runs to avoid memory access faults...",
                    c.pauses.between_runs.as_secs()
                ));
            }
            return s.pause(c.pauses.between_runs);
        }
        s.say(format!(
            "Rate 16 detected - sleeping {} seconds and clearing memory before next run...",
            c.pauses.rate16.as_secs()
        ));
        s.pause(c.pauses.rate16)?;
        s.say("Clearing GPU memory cache...");
        let t = Instant::now();
        crate::server::http_post_ok(
            &format!("http://127.0.0.1:{}/flush_cache", c.port),
            Duration::from_secs(30),
        );
        s.clock.add_engine(t.elapsed());
        s.say("Memory cleanup completed");
        Ok(())
    }
}

impl Benchmark for GrokPlan {
    type Report = RunReport;
    type Error = RunnerError;
    const PREFIX: &'static str = "[online]";

    fn executor(&self) -> ExecutorKind {
        self.cfg.common.base.executor
    }

    /// The model's and the tokenizer's roots are mounted too.
    fn container(&self, env: &dyn EnvSource) -> BenchContainer {
        container::for_online(
            &self.cfg.common,
            &self.cfg.model,
            Some(&self.cfg.tokenizer),
            "grok-perf-online",
            env,
        )
    }

    fn describe(&self, container: Option<&BenchContainer>) -> String {
        let c = &self.cfg.common;
        let cfg = &self.cfg;
        let mut d = Describe::new("grok-perf-online", c, container);
        d.line(format!("  model type: {}", cfg.model_type.as_str()));
        d.line(format!("  model: {}", cfg.model));
        d.line(format!("  tokenizer: {}", cfg.tokenizer));
        d.line(format!(
            "  model name / variant: {} / {}",
            cfg.model_name, cfg.variant
        ));
        d.line(format!(
            "  request rates: {}{}",
            cfg.rates.join(" "),
            if cfg.skip_rate16 {
                " (16 skipped on MI355 hardware)"
            } else {
                ""
            }
        ));
        d.line(format!("  runs per rate: {}", cfg.runs_per_rate));
        d.line(format!(
            "  prompts per rate: {} x rate, at most {}; input {} / output {} tokens",
            cfg.prompts_per_rate, cfg.max_prompts, cfg.input_len, cfg.output_len
        ));
        d.gsm8k(&cfg.gsm8k, c);
        d.line(format!(
            "  pauses: {} s between runs, {} s + cache flush between rate-16 runs, {} s between rates",
            c.pauses.between_runs.as_secs_f64(),
            c.pauses.rate16.as_secs_f64(),
            c.pauses.between_loads.as_secs_f64()
        ));
        for n in &cfg.notes {
            d.line(format!("  note: {n}"));
        }
        d.files(
            &self.steps.paths,
            "sglang_client_log_<MODEL>_aiter_<rate>_run<i>_<YYYYMMDD_HHMMSS>.log",
        );
        d.line(format!(
            "  server: {}",
            self.steps.server.display_with_env()
        ));
        d.line(format!(
            "  readiness: GET {} answers 200 and the server log shows {READY_LINE:?}; polled every <= 200 ms for at most {} s",
            self.steps.readiness.url,
            self.steps.readiness.timeout.as_secs()
        ));
        d.gsm8k_command(cfg.gsm8k.runs, &self.steps.gsm8k);
        for rate in &cfg.rates {
            if cfg.skip_rate16 && rate == "16" {
                d.line("  rate 16: skipped on MI355 hardware");
                continue;
            }
            let log = self.steps.paths.client_log(rate, 1, "<ts>");
            d.load_command(
                &format!("rate {rate}"),
                cfg.runs_per_rate,
                &self.client(rate, &log),
            );
        }
        d.end(c)
    }

    fn run(
        &self,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
    ) -> Result<RunReport, RunnerError> {
        let c = &self.cfg.common;
        c.base.check()?;
        let mut s = session(c, exec, console, interrupt);
        for n in &self.cfg.notes {
            s.say(n);
        }
        let mut timing = self.steps.begin(&mut s, c, &self.cfg.model)?;
        timing.line(format!("Model type: {}", self.cfg.model_type.as_str()));
        timing.line("Attention backend: unknown");
        timing.blank();

        let mut csv = CsvState::new(
            OnlineKind::RequestRate,
            &self.cfg.model_name,
            &c.base.tag,
            &grok_row_label(&c.hostname),
            &self.cfg.rates,
            &self.steps.paths.csv,
        );
        let outcome = if self.scan(&mut s)? {
            timing.line("All logs already complete - skipping server startup");
            csv.regenerate(&self.steps.paths, self.cfg.scheduled_rates())?;
            Outcome::Regenerated
        } else {
            self.fresh(&mut s, &mut timing, &mut csv)?
        };
        s.say(format!(
            "CSV summary saved to {}",
            self.steps.paths.csv.display()
        ));
        s.say(format!(
            "All done! Client logs and CSV summary are saved in {}.",
            self.steps.paths.folder.display()
        ));
        // F-3: the best run's request throughput.
        performance_summary(&mut timing, &csv, &self.cfg.rates, "Request Rate", |r| {
            format!(
                "  Throughput: {} requests/s",
                r.and_then(|r| r.request_throughput.as_deref())
                    .unwrap_or("N/A")
            )
        });
        Ok(self.steps.finish(s, timing, &csv, outcome, c.simulated()))
    }
}

impl SweepHooks for GrokPlan {
    fn common(&self) -> &Common {
        &self.cfg.common
    }

    fn loads(&self) -> &[String] {
        &self.cfg.rates
    }

    fn runs(&self) -> u32 {
        self.cfg.runs_per_rate
    }

    fn skip(&self, rate: &str) -> Option<(&'static str, &'static str)> {
        (self.cfg.skip_rate16 && rate == "16").then_some((
            "[online] Skipping rate 16 on MI355 hardware (known limitation - scheduler timeout)",
            "Rate 16 skipped on MI355 hardware",
        ))
    }

    fn load_label(&self, rate: &str) -> String {
        format!("rate {rate}")
    }

    fn next_load_word(&self) -> &'static str {
        "request rate"
    }

    fn halt_prefix(&self) -> &'static str {
        "[online] "
    }

    fn begin_load(&self, s: &mut Session<'_>, rate: &str, sweep_stamp: &str) -> String {
        s.say(format!("Processing request rate {rate} for mode aiter..."));
        sweep_stamp.to_owned()
    }

    fn one_run(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        server: &mut Server,
        rate: &str,
        run: u32,
        stamp: &str,
    ) -> Result<RunDone, Halt> {
        match run_state(&self.steps.paths, rate, run)? {
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
        let path = self.steps.paths.client_log(rate, run, stamp);
        let cmd = self.client(rate, &path);
        let mut log = RunLog::create(path, true)?;
        log.line(
            s,
            format!("Running benchmark with request rate: {rate} (Run {run}) for mode aiter"),
        )?;
        log.line(
            s,
            format!("Run started at: {}", timefmt::human(&timefmt::now())),
        )?;
        log.line(s, format!("Executing: {}", cmd.display()))?;
        let end = log.run(s, &cmd, server, self.cfg.common.client_timeout)?;
        let secs = end.duration.as_secs();
        let ok = end.exit.success();
        log.end(s, &end)?;
        if !ok {
            // Fix F-11: the run is recorded as failed and the benchmark goes on.
            s.say(format!(
                "[online] WARNING: the client of rate {rate}, run {run} ended with {}; the run is recorded as failed",
                end.exit
            ));
        }
        log.line(s, format!("Run duration: {secs} seconds"))?;
        log.line(s, DASHES.to_owned())?;
        timing.line(format!("  Rate {rate}, Run {run}: {secs} seconds"));
        Ok(RunDone::Ran { ok })
    }

    fn after_run(
        &self,
        s: &mut Session<'_>,
        rate: &str,
        run: u32,
        done: RunDone,
    ) -> Result<(), Halt> {
        if done == RunDone::Skipped || run >= self.cfg.runs_per_rate {
            return Ok(());
        }
        self.pause_between_runs(s, rate)
    }

    fn record_load(&self, s: &mut Session<'_>, csv: &mut CsvState, rate: &str) {
        match best_of_load(&self.steps.paths, rate, &Cell::Na) {
            Ok(r) => csv.update(s, &format!("rate {rate}"), rate, r),
            Err(e) => s.say(format!("[online] WARNING: {e}")),
        }
    }
}
