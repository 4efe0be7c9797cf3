//! `deepseek-perf-online` (spec benchmarks.md §5): validation, optional model download,
//! server (standard or DP attention, optionally torch compile), GSM8K gate, and in serving
//! modes `bench_serving` by concurrency with the CSV rewritten after each level, the MTP
//! artifacts on MI355X, the timing summary of §7.9 — with the fixes F-2 (output throughput
//! number), F-7 (real shutdown time), F-8 (positional image), F-15/F-16 (a failed GSM8K log
//! is never "complete"), F-33 (the DP test implies DP attention), F-36 (start-up fails on
//! process death, not on words in the log).

use std::path::Path;
use std::time::Instant;

use metrics_parse::legacy_csv::OnlineKind;
use report::online_csv::{Cell, deepseek_row_label};

use super::config::{Common, DeepSeekConfig, serving_extras};
use super::sweep::{RunDone, SweepHooks, run_sweep};
use super::{
    CsvState, Describe, PlanSteps, RunLog, RunLogState, best_of_load, cell_text, halted,
    performance_summary, pid_text, run_logs, run_state, scan_gsm8k, scan_verdict, session,
    start_failed, stop_server,
};
use crate::benchmark::Benchmark;
use crate::command::CommandSpec;
use crate::config::EnvSource;
use crate::console::Console;
use crate::container::{self, BenchContainer};
use crate::engine::{Engine, ExecutorKind, find_program};
use crate::error::RunnerError;
use crate::exec::{Executor, RunEnd};
use crate::gsm8k;
use crate::mtp::{self, MtpRow};
use crate::outcome::{Outcome, RunReport};
use crate::paths::OnlinePaths;
use crate::server::{Readiness, Server, StartFailure};
use crate::session::{Halt, Session};
use crate::signals::Interrupt;
use crate::timefmt;
use crate::timing::TimingLog;

/// A DeepSeek plan.
pub struct DeepSeekPlan {
    /// The configuration.
    pub cfg: DeepSeekConfig,
    /// The run folder's paths, the server, one GSM8K run, readiness.
    pub steps: PlanSteps,
}

impl DeepSeekPlan {
    /// Builds the plan.
    pub fn new(cfg: DeepSeekConfig) -> Self {
        let c = &cfg.common;
        let paths = OnlinePaths::deepseek(
            &c.base.output_dir,
            &c.base.tag,
            &cfg.model_name,
            &cfg.variant,
            &cfg.mode.suffix(),
        );
        let port = c.port.to_string();
        let tp = cfg.tp.to_string();
        let (mut args, env): (Vec<String>, Vec<(String, String)>) = if cfg.mode.dp_server() {
            let mut env = vec![("SGLANG_USE_AITER".to_owned(), "1".to_owned())];
            if cfg.rocm700 {
                env.push(("SGLANG_USE_ROCM700A".to_owned(), "1".to_owned()));
            }
            (
                [
                    "--model-path",
                    &cfg.model,
                    "--tp",
                    &tp,
                    "--port",
                    &port,
                    "--trust-remote-code",
                    "--chunked-prefill-size",
                    "131072",
                    "--dp-size",
                    "8",
                    "--enable-dp-attention",
                    "--mem-fraction-static",
                    "0.8",
                ]
                .map(String::from)
                .to_vec(),
                env,
            )
        } else {
            (
                [
                    "--model-path",
                    &cfg.model,
                    "--tp-size",
                    &tp,
                    "--port",
                    &port,
                    "--trust-remote-code",
                    "--mem-fraction-static",
                    &cfg.mem_fraction,
                    "--max-running-requests",
                    &cfg.max_requests,
                ]
                .map(String::from)
                .to_vec(),
                vec![(cfg.aiter_var.clone(), "1".to_owned())],
            )
        };
        if cfg.mode.torch_compile {
            args.push("--enable-torch-compile".to_owned());
        }
        let server = c.server_command(&args, &env);
        let mut gargs = cfg.gsm8k.client_args();
        gargs.extend([
            "--port".to_owned(),
            port,
            "--host".to_owned(),
            cfg.gsm8k_host.clone(),
        ]);
        let gsm8k = c.gsm8k_command(&gargs);
        let readiness = Readiness {
            url: format!(
                "{}:{}{}",
                cfg.gsm8k_host.trim_end_matches('/'),
                c.port,
                cfg.health_endpoint
            ),
            log_line: None,
            timeout: c.server_timeout,
            max_interval: cfg.health_interval,
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

    /// The client command of one run at concurrency `conc` whose log is `log`.
    pub fn client(&self, conc: &str, log: &Path) -> CommandSpec {
        let c = &self.cfg.common;
        let mut args: Vec<String> = vec![
            "--backend".into(),
            "sglang".into(),
            "--dataset-name".into(),
            "random".into(),
            "--random-range-ratio".into(),
            "1".into(),
            "--num-prompts".into(),
            self.cfg.prompts(conc).to_string(),
            "--random-input-len".into(),
            self.cfg.input_len.to_string(),
            "--random-output-len".into(),
            self.cfg.output_len.to_string(),
            "--max-concurrency".into(),
            conc.to_owned(),
            "--port".into(),
            c.port.to_string(),
            "--host".into(),
            "127.0.0.1".into(),
        ];
        args.extend(serving_extras(c.base.steps.client, c.scale, log));
        c.serving_command(&args, &[])
    }

    fn download_cmd(&self) -> CommandSpec {
        CommandSpec::new("huggingface-cli").args([
            "download",
            &self.cfg.hf_model_id,
            "--repo-type",
            "model",
            "--local-dir",
            &self.cfg.model,
            "--local-dir-use-symlinks",
            "False",
            "--resume-download",
        ])
    }

    /// Model download (§3.4), real engine only.
    fn download(&self, s: &mut Session<'_>) -> Result<(), RunnerError> {
        let cfg = &self.cfg;
        if cfg.common.base.engine == Engine::Sim {
            s.say("[online] Simulated engine: --download-model skipped (the simulator needs no weights)");
            return Ok(());
        }
        let model = Path::new(&cfg.model);
        if find_program("huggingface-cli").is_some() {
            if let Some(parent) = model.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| RunnerError::io("create model folder", parent, e))?;
            }
            s.say(format!(
                "[online] Downloading {} to {} ...",
                cfg.hf_model_id, cfg.model
            ));
            let t = Instant::now();
            let console = &mut *s.console;
            let interrupt = s.interrupt;
            let end = s.exec.run(
                &self.download_cmd(),
                &mut |b| console.raw(b),
                None,
                &mut || interrupt.check().is_err(),
            )?;
            s.clock.add_engine(t.elapsed());
            if end == RunEnd::Stopped {
                return Err(RunnerError::ExecutorUnavailable(
                    "model download interrupted".to_owned(),
                ));
            }
        } else {
            s.say(format!(
                "[csv] WARNING: huggingface-cli not found. Assuming model {} is already present at {}.",
                cfg.hf_model_id, cfg.model
            ));
        }
        let empty = std::fs::read_dir(model).map_or(true, |mut d| d.next().is_none());
        if empty {
            return Err(RunnerError::Validation(vec![format!(
                "Model directory {} is missing or empty after the download of {} (check huggingface-cli, network and disk space)",
                cfg.model, cfg.hf_model_id
            )]));
        }
        Ok(())
    }

    /// The completion scan (§5.11; F-16: a GSM8K log that ends below threshold is not
    /// complete).
    fn scan(&self, s: &mut Session<'_>) -> Result<bool, RunnerError> {
        let cfg = &self.cfg;
        let gsm8k_ok = scan_gsm8k(s, &self.steps.paths.gsm8k_log, cfg.gsm8k.runs, None);
        let desc = cfg.mode.description();
        if !cfg.mode.serving() {
            s.say(format!(
                "{desc} mode - skipping serving benchmark log checks (GSM8K only)"
            ));
            if gsm8k_ok {
                s.say(format!(
                    "✅ All benchmark logs (GSM8K only - {desc} mode) are present and complete! No server startup needed."
                ));
            } else {
                s.say("❌ GSM8K benchmark is missing, empty, or incomplete.");
                s.say("Server startup required.");
            }
            return Ok(gsm8k_ok);
        }
        s.say("Checking serving benchmark logs...");
        let mut missing = 0;
        let total = cfg.concurrencies.len() as u32 * cfg.runs;
        for conc in &cfg.concurrencies {
            for run in 1..=cfg.runs {
                if !matches!(
                    run_state(&self.steps.paths, conc, run)?,
                    RunLogState::Completed(_)
                ) {
                    s.say(format!("Missing: Concurrency {conc}, Run {run}"));
                    missing += 1;
                }
            }
        }
        s.say(format!(
            "Scan complete: {total} total runs needed, {missing} missing/incomplete"
        ));
        if missing > 0 {
            s.say(format!("❌ Missing {missing} serving benchmark runs."));
        }
        Ok(scan_verdict(s, gsm8k_ok, missing == 0, "serving"))
    }

    fn fresh(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        csv: &mut CsvState,
        slot: &mut Option<Server>,
        serving_secs: &mut u64,
    ) -> Result<Outcome, RunnerError> {
        let cfg = &self.cfg;
        let c = &cfg.common;
        s.say("Starting SGLang server for online GSM8K benchmark...");
        let (server, ready) = self.steps.start_server(
            s,
            c.port,
            |s, server| {
                s.say(format!(
                    "Waiting for SGLang server (PID: {}) to start... (Max {} minutes)",
                    pid_text(server),
                    c.server_timeout.as_secs() / 60
                ));
                s.say(format!(
                    "Server logs are being written to: {}",
                    self.steps.paths.server_log.display()
                ));
            },
            |secs| format!("Still waiting for the SGLang server... ({secs}s elapsed)"),
        )?;
        let server = slot.insert(server);
        match ready {
            Ok(d) => {
                s.say(format!(
                    "SGLang server started successfully after {} seconds.",
                    d.as_secs()
                ));
                timing.line(format!("Server startup time: {} seconds", d.as_secs()));
            }
            Err(e) => {
                match &e {
                    StartFailure::Interrupted(_) => return Ok(start_failed(timing, &e)),
                    StartFailure::Exited(_) => {
                        s.say(format!(
                            "SGLang server process (PID: {}) has terminated unexpectedly!",
                            pid_text(server)
                        ));
                    }
                    StartFailure::TimedOut(t) => {
                        s.say(format!(
                            "SGLang server failed to start in time ({} seconds timeout reached).",
                            t.as_secs()
                        ));
                    }
                    StartFailure::Poll(_) => {
                        s.say(format!("SGLang server failed to start: {e}"));
                    }
                }
                s.say("Last 20 lines of the server log:");
                for line in server.log_tail(20) {
                    s.say(line);
                }
                return Ok(start_failed(timing, &e));
            }
        }
        s.say(format!(
            "=== Online GSM8K Benchmark: TP={}, Questions={}, Parallel={}, Shots={} ===",
            cfg.tp, cfg.gsm8k.questions, cfg.gsm8k.parallel, cfg.gsm8k.shots
        ));
        let stage = self.steps.gsm8k_stage(c, cfg.gsm8k.runs, None);
        let g = match gsm8k::run_stage(s, server, &stage) {
            Ok(g) => g,
            Err(h) => {
                let (line, outcome) = halted(timing, &h, "the GSM8K test");
                s.say(line);
                return Ok(outcome);
            }
        };
        timing.blank();
        timing.gsm8k_block(g.duration_s, &g.average, cfg.gsm8k.runs);
        if !g.passed {
            s.say("❌ GSM8K benchmark failed or accuracy below threshold.");
            return Ok(Outcome::Gsm8kFailed {
                average: g.average,
                threshold: c.threshold_text.clone(),
            });
        }
        s.say("✅ GSM8K benchmark completed successfully.");
        let desc = cfg.mode.description();
        if !cfg.mode.serving() {
            s.say(format!(
                "✅ {desc} mode enabled - skipping serving benchmarks (GSM8K only mode)"
            ));
            timing.line(format!(
                "GSM8K benchmark completed. Serving benchmarks skipped in {desc} mode."
            ));
            return Ok(Outcome::Completed);
        }
        let t0 = Instant::now();
        let outcome = self.serving(s, timing, csv, server);
        *serving_secs = t0.elapsed().as_secs();
        Ok(outcome)
    }

    fn serving(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        csv: &mut CsvState,
        server: &mut Server,
    ) -> Outcome {
        let cfg = &self.cfg;
        s.say("Starting serving benchmark tests with different concurrency levels...");
        match csv.write() {
            Ok(()) => s.say(format!(
                "[online] Structured CSV initialized at {}",
                csv.path().display()
            )),
            Err(e) => s.say(format!("[online] WARNING: {e}")),
        }
        timing.blank();
        timing.line("Serving Benchmark Results:");
        timing.line(format!("  Start time: {}", timefmt::human(&timefmt::now())));
        let outcome = run_sweep(self, s, timing, csv, server, "");
        let ran_every_load = matches!(
            outcome,
            Outcome::Completed | Outcome::CompletedWithErrors { .. }
        );
        if ran_every_load && cfg.mtp_artifacts {
            self.mtp(s, timing, csv);
        }
        outcome
    }

    fn mtp(&self, s: &mut Session<'_>, timing: &mut TimingLog, csv: &CsvState) {
        let rows: Vec<MtpRow> = self
            .cfg
            .concurrencies
            .iter()
            .map(|conc| {
                let r = csv.results.get(conc);
                MtpRow {
                    concurrency: conc.parse().unwrap_or(0),
                    median_e2e_ms: r.and_then(|r| match &r.cells.e2e {
                        Cell::Value(v) => Some(v.clone()),
                        _ => None,
                    }),
                    throughput: r.and_then(|r| r.output_throughput.clone()),
                }
            })
            .collect();
        let dir = &self.steps.paths.model_dir;
        timing.blank();
        timing.line("MTP Benchmark Outputs:");
        timing.line(format!("  Output directory: {}", dir.display()));
        match mtp::write_artifacts(dir, &rows, self.cfg.common.simulated()) {
            Ok((csv_path, plot)) => {
                timing.line(format!("  CSV: {}", csv_path.display()));
                if let mtp::PlotOutcome::Failed(e) = &plot {
                    s.say(format!("WARNING: MTP plot: {e}"));
                }
                timing.line(format!("  Plot: {}", plot.summary_value()));
                s.say(format!("MTP artifacts written to {}", dir.display()));
            }
            Err(e) => {
                s.say(format!("WARNING: MTP artifacts: {e}"));
                timing.line(format!(
                    "  CSV: {}",
                    dir.join("bench_results.csv").display()
                ));
                timing.line("  Plot: Failed to generate");
            }
        }
    }
}

impl Benchmark for DeepSeekPlan {
    type Report = RunReport;
    type Error = RunnerError;
    const PREFIX: &'static str = "[online]";

    fn executor(&self) -> ExecutorKind {
        self.cfg.common.base.executor
    }

    fn container(&self, env: &dyn EnvSource) -> BenchContainer {
        container::for_online(
            &self.cfg.common,
            &self.cfg.model,
            None,
            "deepseek-perf-online",
            env,
        )
    }

    fn describe(&self, container: Option<&BenchContainer>) -> String {
        let cfg = &self.cfg;
        let c = &cfg.common;
        let mut d = Describe::new("deepseek-perf-online", c, container);
        d.line(format!(
            "  model: {} (download from {}: {})",
            cfg.model, cfg.hf_model_id, cfg.download_model
        ));
        d.line(format!(
            "  model name / variant: {} / {}",
            cfg.model_name, cfg.variant
        ));
        d.line(format!(
            "  mode: {} (DP attention {}, torch compile {}, MTP test {}, DP test {}); serving benchmark: {}",
            cfg.mode.description(),
            cfg.mode.dp_server(),
            cfg.mode.torch_compile,
            cfg.mode.mtp_test,
            cfg.mode.dp_test,
            if cfg.mode.serving() {
                "yes"
            } else {
                "no (GSM8K only)"
            }
        ));
        if cfg.mode.serving() {
            d.line(format!(
                "  concurrencies: {} ({} run(s) each)",
                cfg.concurrencies.join(" "),
                cfg.runs
            ));
            d.line(format!(
                "  prompts: {} at concurrency <= 16, else {}; input {} / output {} tokens",
                cfg.prompts_low, cfg.prompts_high, cfg.input_len, cfg.output_len
            ));
            d.line(format!(
                "  pauses: {} s between runs at concurrency >= 8, {} s after other runs, {} s between levels",
                c.pauses.between_runs.as_secs_f64(),
                c.pauses.after_run.as_secs_f64(),
                c.pauses.between_loads.as_secs_f64()
            ));
            d.line(format!(
                "  MTP artifacts: {}",
                if cfg.mtp_artifacts {
                    format!(
                        "{}/bench_results.csv and throughput_vs_median_e2e_latency.png",
                        self.steps.paths.model_dir.display()
                    )
                } else {
                    "no".to_owned()
                }
            ));
        }
        d.gsm8k(&cfg.gsm8k, c);
        d.files(
            &self.steps.paths,
            "sglang_serving_benchmark_concurrency_<c>_run<n>_<YYYYMMDD_HHMMSS>.log",
        );
        if cfg.download_model {
            d.line(format!("  download: {}", self.download_cmd().display()));
        }
        d.line(format!(
            "  server: {}",
            self.steps.server.display_with_env()
        ));
        d.line(format!(
            "  readiness: GET {} answers 200; polled every <= {} ms for at most {} s",
            self.steps.readiness.url,
            self.steps.readiness.max_interval.as_millis(),
            self.steps.readiness.timeout.as_secs()
        ));
        d.gsm8k_command(cfg.gsm8k.runs, &self.steps.gsm8k);
        if cfg.mode.serving() {
            for conc in &cfg.concurrencies {
                let log = self.steps.paths.client_log(conc, 1, "<ts>");
                d.load_command(
                    &format!("concurrency {conc}"),
                    cfg.runs,
                    &self.client(conc, &log),
                );
            }
        }
        d.end(c)
    }

    fn run(
        &self,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
    ) -> Result<RunReport, RunnerError> {
        let cfg = &self.cfg;
        let c = &cfg.common;
        c.base.check()?;
        if !c.base.output_dir.is_dir() {
            console.line(format!(
                "INFO: Output directory {} does not exist, creating it...",
                c.base.output_dir.display()
            ));
        }
        self.steps.create_folder()?;
        console.line("✅ Parameter validation passed");
        let mut s = session(c, exec, console, interrupt);
        if cfg.download_model {
            self.download(&mut s)?;
        }
        let mut timing = self.steps.begin(&mut s, c, &cfg.model)?;
        timing.line(format!("DP Attention: {}", cfg.mode.dp_server()));
        timing.line(format!("Torch Compile: {}", cfg.mode.torch_compile));
        timing.line(format!("MTP Test Enabled: {}", cfg.mode.mtp_test));
        timing.line(format!("DP Test Enabled: {}", cfg.mode.dp_test));
        timing.blank();

        let mut csv = CsvState::new(
            OnlineKind::Concurrency,
            &cfg.model_name,
            &c.base.tag,
            &deepseek_row_label(&cfg.model_name, &cfg.variant),
            &cfg.concurrencies,
            &self.steps.paths.csv,
        );
        let desc = cfg.mode.description();
        let mut serving_secs = 0;
        let mut server: Option<Server> = None;
        let mut outcome = if self.scan(&mut s)? {
            timing.line("All logs already complete - skipping server startup");
            if cfg.mode.serving() {
                csv.regenerate(
                    &self.steps.paths,
                    cfg.concurrencies.iter().map(String::as_str),
                )?;
                s.say("Note: Both GSM8K and serving benchmarks were already complete");
            } else {
                s.say(format!(
                    "✅ GSM8K logs already complete ({desc} mode - no serving benchmarks)."
                ));
            }
            Outcome::Regenerated
        } else {
            s.say("Clearing previous logs...");
            self.fresh(
                &mut s,
                &mut timing,
                &mut csv,
                &mut server,
                &mut serving_secs,
            )?
        };
        timing.line(format!("  End time: {}", timefmt::human(&timefmt::now())));
        timing.line(format!("  Total duration: {serving_secs} seconds"));
        // F-2: the output throughput number.
        performance_summary(&mut timing, &csv, &cfg.concurrencies, "Concurrency", |r| {
            format!(
                "  Output throughput: {} tok/s",
                r.and_then(|r| r.output_throughput.as_deref())
                    .unwrap_or("NA")
            )
        });

        // Shutdown (§5.6 step 6), timing the real stop (F-7).
        s.say("Shutting down SGLang server...");
        let mut shutdown_secs = 0;
        if self.steps.paths.server_log.exists() {
            let scan = match &server {
                Some(sv) => sv.error_scan(),
                None => std::fs::read(&self.steps.paths.server_log)
                    .map(|d| metrics_parse::server_log::error_scan(&d))
                    .unwrap_or_default(),
            };
            timing.blank();
            timing.error_check(&scan);
            if scan.runtime_error_lines > 0 && server.is_some() {
                s.say(format!(
                    "WARNING: the server log has {} RuntimeError line(s) (Server error status: FAIL)",
                    scan.runtime_error_lines
                ));
                outcome = outcome.with_runtime_errors(scan.runtime_error_lines);
            }
        }
        if let Some(sv) = &mut server {
            s.say("Cleaning up...");
            if sv.exited().is_none() {
                s.say(format!(
                    "Killing background SGLang server (PID: {})...",
                    pid_text(sv)
                ));
            }
            shutdown_secs = stop_server(&mut s, sv, &mut timing, c.port);
        }
        timing.line(format!("Server shutdown time: {shutdown_secs} seconds"));
        Ok(self.steps.finish(s, timing, &csv, outcome, c.simulated()))
    }
}

impl SweepHooks for DeepSeekPlan {
    fn common(&self) -> &Common {
        &self.cfg.common
    }

    fn loads(&self) -> &[String] {
        &self.cfg.concurrencies
    }

    fn runs(&self) -> u32 {
        self.cfg.runs
    }

    fn skip(&self, _conc: &str) -> Option<(&'static str, &'static str)> {
        None
    }

    fn load_label(&self, conc: &str) -> String {
        format!("concurrency {conc}")
    }

    fn next_load_word(&self) -> &'static str {
        "concurrency level"
    }

    fn halt_prefix(&self) -> &'static str {
        ""
    }

    fn begin_load(&self, s: &mut Session<'_>, conc: &str, _sweep_stamp: &str) -> String {
        let stamp = timefmt::file_stamp(&timefmt::now());
        s.say(format!(
            "Processing concurrency {conc} with {} runs...",
            self.cfg.runs
        ));
        stamp
    }

    fn one_run(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        server: &mut Server,
        conc: &str,
        run: u32,
        stamp: &str,
    ) -> Result<RunDone, Halt> {
        match run_state(&self.steps.paths, conc, run)? {
            RunLogState::Completed(_) => {
                s.say(format!(
                    "Log for concurrency {conc}, run {run} already exists and completed successfully. Skipping."
                ));
                return Ok(RunDone::Skipped);
            }
            RunLogState::Incomplete(files) => {
                for f in files {
                    s.say(format!(
                        "Found incomplete log file: {} - will re-run this benchmark",
                        f.display()
                    ));
                }
            }
            RunLogState::Missing => {}
        }
        let prompts = self.cfg.prompts(conc);
        s.say(format!(
            "Running serving benchmark with concurrency {conc} (Run {run}) - {prompts} prompts..."
        ));
        let mut path = self.steps.paths.client_log(conc, run, stamp);
        // Never overwrite an earlier attempt's log of the same second (resume).
        if path.exists() {
            let logs = run_logs(&self.steps.paths, conc, run)?;
            path = self
                .steps
                .paths
                .client_log(conc, run, &format!("{stamp}_{}", logs.len() + 1));
        }
        let cmd = self.client(conc, &path);
        let mut log = RunLog::create(path.clone(), false)?;
        log.line(
            s,
            format!("Run started at: {}", timefmt::human(&timefmt::now())),
        )?;
        log.line(s, format!("Using {prompts} prompts for concurrency {conc}"))?;
        let end = log.run(s, &cmd, server, self.cfg.common.client_timeout)?;
        let ok = end.exit.success();
        log.end(s, &end)?;
        log.line(
            s,
            format!("Run duration: {} seconds", end.duration.as_secs()),
        )?;
        drop(log);
        let data = std::fs::read(&path).unwrap_or_default();
        let parsed = metrics_parse::client_log::ClientLog::parse(&data);
        let block = parsed.outcome.block();
        let num = |n: Option<&metrics_parse::value::Num>| {
            n.map_or_else(|| "NA".to_owned(), |n| n.text.clone())
        };
        if ok {
            s.say(format!(
                "Concurrency {conc}, Run {run} completed: {} requests, {} tok/s output throughput, {}ms E2E latency ({}s)",
                num(block.and_then(|b| b.successful_requests.as_ref())),
                num(block.and_then(|b| b.output_token_throughput.as_ref())),
                num(parsed.medians.e2e.as_ref()),
                end.duration.as_secs()
            ));
        } else {
            s.say(format!(
                "WARNING: the client of concurrency {conc}, run {run} ended with {}; the run is recorded as failed",
                end.exit
            ));
        }
        timing.line(format!(
            "  Concurrency {conc}, Run {run}: {} seconds",
            end.duration.as_secs()
        ));
        Ok(RunDone::Ran { ok })
    }

    /// Concurrency >= 8 pauses between runs when more follow; every other run pauses
    /// `after_run` (also a run skipped by the resume scan, as the original).
    fn after_run(
        &self,
        s: &mut Session<'_>,
        conc: &str,
        run: u32,
        _done: RunDone,
    ) -> Result<(), Halt> {
        let c = &self.cfg.common;
        let high: u32 = conc.parse().unwrap_or(0);
        let pause = if high >= 8 && run < self.cfg.runs {
            if !c.pauses.between_runs.is_zero() {
                s.say(format!(
                    "Sleeping {} seconds between runs for concurrency {conc} to avoid memory access faults...",
                    c.pauses.between_runs.as_secs()
                ));
            }
            c.pauses.between_runs
        } else {
            c.pauses.after_run
        };
        s.pause(pause)
    }

    fn record_load(&self, s: &mut Session<'_>, csv: &mut CsvState, conc: &str) {
        match best_of_load(&self.steps.paths, conc, &Cell::Empty) {
            Ok(r) if r.has_result() => {
                s.say(format!(
                    "✅ Best results for concurrency {conc}: E2E={}ms, TTFT={}ms, ITL={}ms, Output={} tok/s",
                    cell_text(&r.cells.e2e),
                    cell_text(&r.cells.ttft),
                    cell_text(&r.cells.itl),
                    r.output_throughput.as_deref().unwrap_or("NA")
                ));
                csv.update(s, &format!("concurrency {conc}"), conc, r);
            }
            Ok(r) => {
                s.say(format!("❌ No valid results found for concurrency {conc}"));
                // Processed without a result: the summary shows NA, the CSV cell stays empty.
                csv.results.insert(conc.to_owned(), r);
                if let Err(e) = csv.write() {
                    s.say(format!("[online] WARNING: {e}"));
                }
            }
            Err(e) => s.say(format!("[online] WARNING: {e}")),
        }
    }
}
