//! The online benchmarks: Grok by request rate ([`grok`]) and DeepSeek by concurrency
//! ([`deepseek`]), their configuration ([`config`]), and the flow they share here: the paths
//! and commands every plan has ([`PlanSteps`]), the start of a run (session, timing summary
//! header), the resume scan of client logs (quirk K-5) and of the GSM8K log, the server's
//! start and stop, the best run of a load (K-6, through `report::best_run`), the CSV
//! rewritten atomically after each load, the client logs, the pause between loads, the
//! handling of a step that ends the run early ([`crate::session::Halt`]), the performance
//! summary, the closing summary and the [`RunReport`], and the shared lines of the dry run.
//! What differs between the two (wording, loads, pauses, the MTP artifacts) stays in their
//! modules.

pub mod config;
pub mod deepseek;
pub mod grok;
pub mod sweep;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use metrics_parse::client_log::{COMPLETED_MARKER, ClientLogName};
use metrics_parse::legacy_csv::OnlineKind;
use report::best_run::{self, Candidate};
use report::online_csv::{Cell, LoadCells, OnlineTable};
use report::run_folder::{self, RunFolderError};

use crate::clock::Clock;
use crate::command::CommandSpec;
use crate::config::SimScale;
use crate::console::Console;
use crate::container::BenchContainer;
use crate::engine::{ClientImpl, ExecutorKind};
use crate::error::RunnerError;
use crate::exec::Executor;
use crate::gsm8k::{self, Gsm8kStage, LogState};
use crate::outcome::{Outcome, RunReport};
use crate::paths::{Layout, OnlinePaths};
use crate::server::{Readiness, Server, StartFailure};
use crate::session::{ClientEnd, Halt, Session};
use crate::signals::Interrupt;
use crate::timefmt;
use crate::timing::{HeaderCommon, TimingLog};
use config::Common;

/// What the resume scan found for one run of one load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLogState {
    /// A log with `Run completed at:` exists.
    Completed(PathBuf),
    /// Only logs without the marker (killed or failed runs).
    Incomplete(Vec<PathBuf>),
    /// No log.
    Missing,
}

/// The client logs of `load`/`run` in the folder, in name order.
pub fn run_logs(paths: &OnlinePaths, load: &str, run: u32) -> Result<Vec<PathBuf>, RunnerError> {
    let prefix = paths.client_log_prefix(load, run);
    let names = match run_folder::file_names(&paths.folder) {
        Ok(n) => n,
        Err(RunFolderError::Unreadable { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Vec::new()
        }
        Err(e) => return Err(folder_error(paths, e)),
    };
    Ok(names
        .into_iter()
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".log"))
        .map(|n| paths.folder.join(n))
        .collect())
}

/// A run folder read error as the runner reports it.
fn folder_error(paths: &OnlinePaths, e: RunFolderError) -> RunnerError {
    match e {
        RunFolderError::Unreadable { path, source } => {
            RunnerError::io("read run folder", path, source)
        }
        other => RunnerError::io(
            "read run folder",
            &paths.folder,
            std::io::Error::other(other.to_string()),
        ),
    }
}

fn has_marker(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|d| {
        d.windows(COMPLETED_MARKER.len())
            .any(|w| w == COMPLETED_MARKER.as_bytes())
    })
}

/// The resume state of `load`/`run`.
pub fn run_state(paths: &OnlinePaths, load: &str, run: u32) -> Result<RunLogState, RunnerError> {
    let logs = run_logs(paths, load, run)?;
    if let Some(done) = logs.iter().find(|p| has_marker(p)) {
        return Ok(RunLogState::Completed(done.clone()));
    }
    Ok(if logs.is_empty() {
        RunLogState::Missing
    } else {
        RunLogState::Incomplete(logs)
    })
}

/// The best run of a load and what the summaries show of it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadResult {
    /// The three CSV cells (values, or the "no result" cell the caller chose).
    pub cells: LoadCells,
    /// `Request throughput (req/s)` of the best run (Grok timing summary, fix F-3).
    pub request_throughput: Option<String>,
    /// `Output token throughput (tok/s)` of the best run (DeepSeek, fix F-2).
    pub output_throughput: Option<String>,
    /// The best run's file name.
    pub best: Option<String>,
}

impl LoadResult {
    /// True when a best run with a median E2E exists.
    pub fn has_result(&self) -> bool {
        self.best.is_some()
    }
}

/// Reads every client log of `load` (any run, any timestamp) and applies the best-run rule
/// (minimum median E2E; TTFT and ITL from the same run). `no_result` is the cell written
/// when no log has a result (`NA` or empty, per script and path).
pub fn best_of_load(
    paths: &OnlinePaths,
    load: &str,
    no_result: &Cell,
) -> Result<LoadResult, RunnerError> {
    let mut skipped = Vec::new();
    let logs = run_folder::read_client_logs(
        &paths.folder,
        |name| match (name, paths.layout) {
            (
                ClientLogName::RequestRate {
                    model, mode, rate, ..
                },
                Layout::Grok,
            ) => *model == paths.model && mode == "aiter" && rate == load,
            (ClientLogName::Concurrency { concurrency, .. }, Layout::DeepSeek) => {
                concurrency == load
            }
            _ => false,
        },
        &mut skipped,
    )
    .map_err(|e| folder_error(paths, e))?;
    for why in skipped {
        tracing::warn!("{why}");
    }
    let candidates: Vec<Candidate<'_>> = logs
        .iter()
        .map(|l| Candidate {
            file_name: &l.file_name,
            medians: &l.log.medians,
        })
        .collect();
    let Some(i) = best_run::best(&candidates) else {
        return Ok(LoadResult {
            cells: LoadCells {
                load: load.to_owned(),
                e2e: no_result.clone(),
                ttft: no_result.clone(),
                itl: no_result.clone(),
            },
            request_throughput: None,
            output_throughput: None,
            best: None,
        });
    };
    let run_folder::ClientLogFile {
        file_name: name,
        log,
        ..
    } = &logs[i];
    let cell = |n: &Option<metrics_parse::value::Num>| {
        n.as_ref().map_or(Cell::Na, |n| Cell::Value(n.text.clone()))
    };
    let block = log.outcome.block();
    Ok(LoadResult {
        cells: LoadCells {
            load: load.to_owned(),
            e2e: cell(&log.medians.e2e),
            ttft: cell(&log.medians.ttft),
            itl: cell(&log.medians.itl),
        },
        request_throughput: block
            .and_then(|b| b.request_throughput.as_ref())
            .map(|n| n.text.clone()),
        output_throughput: block
            .and_then(|b| b.output_token_throughput.as_ref())
            .map(|n| n.text.clone()),
        best: Some(name.clone()),
    })
}

/// The CSV of a run: every configured load, filled where processed.
pub struct CsvState {
    kind: OnlineKind,
    model: String,
    tag: String,
    row_label: String,
    loads: Vec<String>,
    /// Processed loads.
    pub results: BTreeMap<String, LoadResult>,
    path: PathBuf,
    /// The file has been written at least once.
    pub written: bool,
}

impl CsvState {
    /// A CSV of `loads` at `path`, nothing processed yet.
    pub fn new(
        kind: OnlineKind,
        model: &str,
        tag: &str,
        row_label: &str,
        loads: &[String],
        path: &Path,
    ) -> Self {
        Self {
            kind,
            model: model.to_owned(),
            tag: tag.to_owned(),
            row_label: row_label.to_owned(),
            loads: loads.to_vec(),
            results: BTreeMap::new(),
            path: path.to_owned(),
            written: false,
        }
    }

    /// The table: processed loads' cells, empty cells elsewhere.
    pub fn table(&self) -> OnlineTable {
        OnlineTable {
            kind: self.kind,
            model: self.model.clone(),
            tag: self.tag.clone(),
            row_label: self.row_label.clone(),
            loads: self
                .loads
                .iter()
                .map(|l| {
                    self.results
                        .get(l)
                        .map_or_else(|| LoadCells::empty(l.clone()), |r| r.cells.clone())
                })
                .collect(),
        }
    }

    /// Rewrites the whole file atomically.
    pub fn write(&mut self) -> Result<(), RunnerError> {
        report::atomic::write_atomic(&self.path, self.table().render().as_bytes())?;
        self.written = true;
        Ok(())
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fills `loads` from the logs already in the folder and writes the file: the CSV of a
    /// run whose logs were all complete.
    pub fn regenerate<'l>(
        &mut self,
        paths: &OnlinePaths,
        loads: impl IntoIterator<Item = &'l str>,
    ) -> Result<(), RunnerError> {
        for load in loads {
            let r = best_of_load(paths, load, &Cell::Na)?;
            self.results.insert(load.to_owned(), r);
        }
        self.write()
    }

    /// Records the best run of `load` (`what` names it: `rate 4`, `concurrency 64`) and
    /// rewrites the file, saying so.
    fn update(&mut self, s: &mut Session<'_>, what: &str, load: &str, r: LoadResult) {
        s.say(format!(
            "[online] Updating CSV for {what}: E2E={}ms, TTFT={}ms, ITL={}ms",
            cell_text(&r.cells.e2e),
            cell_text(&r.cells.ttft),
            cell_text(&r.cells.itl)
        ));
        self.results.insert(load.to_owned(), r);
        match self.write() {
            Ok(()) => s.say(format!("[online] CSV updated with results for {what}")),
            Err(e) => s.say(format!("[online] WARNING: {e}")),
        }
    }
}

/// The text of a [`Cell`] for summaries (`NA` when there is none).
pub fn cell_text(c: &Cell) -> &str {
    match c {
        Cell::Value(v) => v,
        Cell::Na | Cell::Empty => "NA",
    }
}

/// Starts a run's session; the simulated engine says first that its numbers are not real.
fn session<'a>(
    c: &Common,
    exec: &'a dyn Executor,
    console: &'a mut Console,
    interrupt: &'a Interrupt,
) -> Session<'a> {
    let mut s = Session {
        exec,
        console,
        interrupt,
        clock: Clock::start(),
    };
    if c.simulated() {
        s.say("[online] Engine: simulated (sglang-sim) - the numbers of this run are not real measurements");
    }
    s
}

/// Creates this invocation's timing summary with the header both benchmarks write.
fn open_timing(
    paths: &OnlinePaths,
    started: &chrono::DateTime<chrono_tz::Tz>,
    c: &Common,
    model: &str,
) -> Result<TimingLog, RunnerError> {
    let mut timing = TimingLog::create(&paths.new_timing_summary(&timefmt::file_stamp(started)))?;
    timing.header_common(&HeaderCommon {
        started,
        command: c.base.nightly_command.as_deref(),
        hardware: c.base.hardware.as_deref(),
        rocm_version: c.base.rocm_version.as_deref(),
        image: &c.image_line(),
        model,
        hostname: &c.hostname,
    });
    Ok(timing)
}

/// The GSM8K part of the completion scan (§4.11, §5.11; F-16: a log that ends below the
/// threshold is not complete): true when the last attempt in the log passed.
fn scan_gsm8k(s: &mut Session<'_>, log: &Path, runs: u32, mode: Option<&str>) -> bool {
    s.say("Scanning existing logs to check if all benchmarks are already complete...");
    s.say("Checking GSM8K log status...");
    match gsm8k::log_state(log, runs, mode) {
        LogState::Missing => {
            s.say(format!("Missing: GSM8K log file ({})", log.display()));
            false
        }
        LogState::Empty => {
            s.say(format!("Empty: GSM8K log file ({})", log.display()));
            false
        }
        LogState::Incomplete => {
            s.say(format!(
                "Incomplete: GSM8K log file missing final summary ({})",
                log.display()
            ));
            false
        }
        LogState::Complete {
            passed: false,
            average,
        } => {
            s.say(format!(
                "Failed: GSM8K log file ends below threshold (average {average}); GSM8K will run again ({})",
                log.display()
            ));
            false
        }
        LogState::Complete { passed: true, .. } => {
            s.say("✅ GSM8K log file is complete.");
            true
        }
    }
}

/// The verdict of the completion scan, said on the console: complete when the GSM8K log
/// passed (`gsm8k_ok`) and every client run is complete (`runs_ok`; `clients`: `client`,
/// `serving`).
fn scan_verdict(s: &mut Session<'_>, gsm8k_ok: bool, runs_ok: bool, clients: &str) -> bool {
    if !gsm8k_ok {
        s.say("❌ GSM8K benchmark is missing, empty, or incomplete.");
    }
    let complete = gsm8k_ok && runs_ok;
    if complete {
        s.say(format!(
            "✅ All benchmark logs ({clients} + GSM8K) are present and complete! No server startup needed."
        ));
    } else {
        s.say("Server startup required.");
    }
    complete
}

/// What both online plans run and where they write: the run folder's paths, the server and
/// what "ready" means for it, and one GSM8K run.
pub struct PlanSteps {
    /// The run folder's paths.
    pub paths: OnlinePaths,
    /// The server command.
    pub server: CommandSpec,
    /// One GSM8K run.
    pub gsm8k: CommandSpec,
    /// Readiness.
    pub readiness: Readiness,
}

impl PlanSteps {
    /// Launches the server on `port` (`launched` says what follows the launch) and waits
    /// until it is ready, printing `progress(elapsed seconds)` while it waits; launch and wait
    /// count as engine time.
    fn start_server(
        &self,
        s: &mut Session<'_>,
        port: u16,
        launched: impl FnOnce(&mut Session<'_>, &Server),
        progress: impl Fn(u64) -> String,
    ) -> Result<(Server, Result<Duration, StartFailure>), RunnerError> {
        let t = Instant::now();
        let mut server = Server::launch(s.exec, &self.server, &self.paths.server_log, false, port)?;
        launched(s, &server);
        let ready = {
            let console = &mut *s.console;
            server.wait_ready(&self.readiness, s.interrupt, &mut |d| {
                console.line(progress(d.as_secs()));
            })
        };
        s.clock.add_engine(t.elapsed());
        Ok((server, ready))
    }

    /// The GSM8K gate: `runs` runs of the GSM8K command against `c`'s threshold (`mode`:
    /// Grok's ` for mode aiter` clause).
    fn gsm8k_stage<'a>(
        &'a self,
        c: &'a Common,
        runs: u32,
        mode: Option<&'a str>,
    ) -> Gsm8kStage<'a> {
        Gsm8kStage {
            log: &self.paths.gsm8k_log,
            runs,
            mode,
            threshold_text: &c.threshold_text,
            threshold: c.threshold,
            cmd: &self.gsm8k,
            timeout: c.client_timeout,
        }
    }

    /// Creates the run folder.
    fn create_folder(&self) -> Result<(), RunnerError> {
        std::fs::create_dir_all(&self.paths.folder)
            .map_err(|e| RunnerError::io("create run folder", &self.paths.folder, e))
    }

    /// Says when the script started, creates the run folder (when it does not exist yet)
    /// and this invocation's timing summary with the header both benchmarks write.
    fn begin(
        &self,
        s: &mut Session<'_>,
        c: &Common,
        model: &str,
    ) -> Result<TimingLog, RunnerError> {
        let started = timefmt::now();
        s.say(format!(
            "[online] Script started at: {}",
            timefmt::human(&started)
        ));
        self.create_folder()?;
        open_timing(&self.paths, &started, c, model)
    }

    /// The end of every run: the overall summary, the console's closing block and the outcome
    /// line, and the report.
    fn finish(
        &self,
        mut s: Session<'_>,
        mut timing: TimingLog,
        csv: &CsvState,
        outcome: Outcome,
        simulated: bool,
    ) -> RunReport {
        let ended = timefmt::now();
        let wall = s.clock.elapsed();
        timing.blank();
        timing.overall(&ended, wall);
        let csv_path = csv.written.then_some(self.paths.csv.as_path());
        let bar = "=".repeat(42);
        s.say("");
        s.say(&bar);
        s.say("SCRIPT EXECUTION SUMMARY");
        s.say(&bar);
        s.say(format!("Script completed at: {}", timefmt::human(&ended)));
        s.say(format!(
            "Total execution time: {} seconds ({} minutes)",
            wall.as_secs(),
            wall.as_secs() / 60
        ));
        s.say(format!("Output directory: {}", self.paths.folder.display()));
        s.say(format!(
            "CSV file: {}",
            csv_path.map_or_else(|| "(none written)".to_owned(), |p| p.display().to_string())
        ));
        s.say(format!("Timing log: {}", timing.path().display()));
        s.say(&bar);
        s.say(format!("[online] {}", outcome.message()));
        RunReport {
            exit_code: outcome.exit_code(),
            outcome,
            run_folder: self.paths.folder.clone(),
            timing_summary: timing.path().to_owned(),
            csv: csv_path.map(Path::to_owned),
            simulated,
            accounting: s.clock.accounting(),
        }
    }
}

/// The timing line and outcome of a server that did not become ready.
fn start_failed(timing: &mut TimingLog, e: &StartFailure) -> Outcome {
    match e {
        StartFailure::Interrupted(i) => {
            timing.line(format!(
                "Run interrupted: received {} while waiting for the server to start",
                i.name()
            ));
            Outcome::Interrupted { signal: i.signal }
        }
        e => {
            timing.line(format!("Server startup: FAILED ({e})"));
            Outcome::ServerStartFailed {
                reason: e.to_string(),
            }
        }
    }
}

/// A server process id for console lines (`?` when unknown).
fn pid_text(server: &Server) -> String {
    server
        .pid()
        .map_or_else(|| "?".to_owned(), |p| p.to_string())
}

/// How a run that stopped early is described, and its outcome.
fn describe_halt(h: &Halt, step: &str) -> (String, Outcome) {
    match h {
        Halt::Interrupted(i) => (
            format!("Run interrupted: received {} during {step}", i.name()),
            Outcome::Interrupted { signal: i.signal },
        ),
        Halt::ServerDied(e) => {
            let reason = format!("the server process exited ({e}) during {step}");
            (
                format!("Benchmark aborted: {reason}"),
                Outcome::ServerLost { reason },
            )
        }
        Halt::ServerHung(t) => {
            let reason = format!(
                "{step} produced no result within {} seconds (the server stopped answering; --client-timeout)",
                t.as_secs()
            );
            (
                format!("Benchmark aborted: {reason}"),
                Outcome::ServerLost { reason },
            )
        }
        Halt::Error(e) => {
            let reason = format!("{e} (during {step})");
            (
                format!("Benchmark aborted: {reason}"),
                Outcome::ServerLost { reason },
            )
        }
    }
}

/// Stops the server, timing the real shutdown (fix F-7), and notes a port still in use.
/// Returns whole seconds.
fn stop_server(s: &mut Session<'_>, server: &mut Server, timing: &mut TimingLog, port: u16) -> u64 {
    let t = Instant::now();
    let r = server.shutdown(Duration::from_secs(10), Duration::from_secs(5));
    s.clock.add_engine(t.elapsed());
    match r {
        Ok((stopped, free)) => {
            if stopped.forced {
                s.say("[online] WARNING: the server ignored SIGTERM and was killed");
            }
            if !free {
                s.say(format!(
                    "[online] WARNING: port {port} is still in use after the server stopped (another process listens on it)"
                ));
                timing.line(format!("Server port {port} still in use after shutdown"));
            }
        }
        Err(e) => s.say(format!("[online] WARNING: stopping the server failed: {e}")),
    }
    t.elapsed().as_secs()
}

/// Writes the line of a step that ended the run early (`during` the step) to the timing
/// summary; returns the line (for the console) and the run's outcome.
fn halted(timing: &mut TimingLog, h: &Halt, during: &str) -> (String, Outcome) {
    let (line, outcome) = describe_halt(h, during);
    timing.line(&line);
    (line, outcome)
}

/// The end of one load (`load`: `rate 4`, `concurrency 64`, begun at `started`): its timing
/// line, then, unless it was the last one, the pause before the next (quirk K-14), announced
/// as `Sleeping N seconds before next <next>...`. Returns the outcome of a halt during the
/// pause.
fn end_load(
    s: &mut Session<'_>,
    timing: &mut TimingLog,
    c: &Common,
    load: &str,
    started: Instant,
    next: Option<&str>,
) -> Option<Outcome> {
    timing.line(format!(
        "Completed {load} - Total time: {} seconds",
        started.elapsed().as_secs()
    ));
    let next = next?;
    let pause = c.pauses.between_loads;
    if !pause.is_zero() {
        s.say(format!(
            "Sleeping {} seconds before next {next}...",
            pause.as_secs()
        ));
    }
    let during = format!("the pause after {load}");
    s.pause(pause).err().map(|h| halted(timing, &h, &during).1)
}

/// The outcome of a benchmark that ran its loads: the halt that ended it early, else
/// completed (with errors when runs failed).
fn loads_outcome(halt: Option<Outcome>, failed_runs: u32) -> Outcome {
    match halt {
        Some(o) => o,
        None if failed_runs > 0 => Outcome::CompletedWithErrors {
            failed_runs,
            runtime_errors: 0,
        },
        None => Outcome::Completed,
    }
}

/// One client run's log file; lines also go to the console when `echo` (Grok).
struct RunLog {
    file: File,
    path: PathBuf,
    echo: bool,
}

impl RunLog {
    fn create(path: PathBuf, echo: bool) -> Result<Self, RunnerError> {
        let file =
            File::create(&path).map_err(|e| RunnerError::io("create client log", &path, e))?;
        Ok(Self { file, path, echo })
    }

    fn line(&mut self, s: &mut Session<'_>, line: String) -> Result<(), Halt> {
        writeln!(self.file, "{line}")
            .map_err(|e| RunnerError::io("write client log", &self.path, e))?;
        if self.echo {
            s.say(line);
        }
        Ok(())
    }

    /// Runs the client command with its output appended to the log.
    fn run(
        &mut self,
        s: &mut Session<'_>,
        cmd: &CommandSpec,
        server: &mut Server,
        timeout: Duration,
    ) -> Result<ClientEnd, Halt> {
        s.run_client(cmd, server, &mut self.file, self.echo, timeout)
    }

    /// `Run completed at: …`, or `Run failed at: … (<exit>)` (fix F-11: a failed run has
    /// no completion marker, so a rerun retries it).
    fn end(&mut self, s: &mut Session<'_>, end: &ClientEnd) -> Result<(), Halt> {
        let now = timefmt::human(&timefmt::now());
        if end.exit.success() {
            self.line(s, format!("Run completed at: {now}"))
        } else {
            self.line(s, format!("Run failed at: {now} ({})", end.exit))
        }
    }
}

/// The Performance Summary (§7.8, §7.9): every load's best-run latencies (`NA` without a
/// value: F-4) and `throughput`'s line (F-2, F-3).
fn performance_summary(
    timing: &mut TimingLog,
    csv: &CsvState,
    loads: &[String],
    label: &str,
    throughput: fn(Option<&LoadResult>) -> String,
) {
    timing.blank();
    timing.line("Performance Summary:");
    timing.line("===================");
    for load in loads {
        let r = csv.results.get(load);
        let v = |f: fn(&LoadResult) -> &Cell| r.map_or("NA", |r| cell_text(f(r))).to_owned();
        timing.line(format!("{label} {load}:"));
        timing.line(format!("  E2E Latency: {} ms", v(|r| &r.cells.e2e)));
        timing.line(format!("  TTFT: {} ms", v(|r| &r.cells.ttft)));
        timing.line(format!("  ITL: {} ms", v(|r| &r.cells.itl)));
        timing.line(throughput(r));
        timing.blank();
    }
}

/// The dry run of an online plan, line by line: its own settings between the shared ones,
/// then its files, then its commands (in order).
struct Describe {
    text: String,
}

impl Describe {
    /// The title line and the shared settings of `c`; `container` is the container the
    /// docker executor would run the plan in.
    fn new(binary: &str, c: &Common, container: Option<&BenchContainer>) -> Self {
        let mut d = Self {
            text: String::new(),
        };
        d.line(format!("{binary}: dry run (nothing is started or written)"));
        d.line("");
        d.line("Settings:");
        let b = &c.base;
        d.line(format!(
            "  engine: {}{}",
            b.engine.as_str(),
            if c.simulated() {
                " (simulated: numbers are not real measurements)"
            } else {
                ""
            }
        ));
        d.line(format!(
            "  executor: {} ({})",
            b.executor.as_str(),
            b.executor_reason
        ));
        d.line(format!(
            "  serving client: {}; GSM8K client: {}",
            b.steps.client.as_str(),
            b.steps.gsm8k_client.as_str()
        ));
        if let Some(data) = &c.gsm8k_data
            && b.steps.gsm8k_client == ClientImpl::Native
        {
            d.line(format!("  GSM8K data: {}", data.display()));
        }
        if c.simulated() {
            d.line(format!(
                "  workload: {}; simulator flags: {}",
                match c.scale {
                    SimScale::Scaled =>
                        "scaled down for the simulator (--sim-full-workload keeps the original sizes)",
                    SimScale::Full => "original sizes",
                },
                if b.sim_args.is_empty() {
                    "(none)".to_owned()
                } else {
                    b.sim_args.join(" ")
                }
            ));
        }
        d.line(format!(
            "  docker image: {} (tag {}, container {})",
            b.image, b.tag, b.container
        ));
        if b.executor == ExecutorKind::Docker
            && let Some(container) = container
        {
            d.line(format!(
                "  container settings: {}",
                container.spec().docker_run_args().join(" ")
            ));
            for note in container.mounts().1 {
                d.line(format!("  container note: {note}"));
            }
        }
        d.line(format!("  work dir: {}", b.work_dir.display()));
        d.line(format!("  output dir: {}", b.output_dir.display()));
        d.line(format!("  host name: {}", c.hostname));
        d.line(format!(
            "  hardware: {}",
            b.hardware.as_deref().unwrap_or("(not given)")
        ));
        d.line(format!(
            "  ROCm version: {}",
            b.rocm_version.as_deref().unwrap_or("(not given)")
        ));
        if let Some(cmd) = &b.nightly_command {
            d.line(format!(
                "  nightly command: {}",
                report::redact::redact(cmd)
            ));
        }
        d.line(format!("  port: {}", c.port));
        d.line(format!(
            "  time limits: server start-up {} s, each client command {} s",
            c.server_timeout.as_secs(),
            c.client_timeout.as_secs()
        ));
        d
    }

    fn line(&mut self, s: impl AsRef<str>) {
        self.text.push_str(s.as_ref());
        self.text.push('\n');
    }

    /// The GSM8K settings line.
    fn gsm8k(&mut self, g: &config::Gsm8kSettings, c: &Common) {
        self.line(format!(
            "  GSM8K: {} runs x {} questions, parallel {}, {} shots, threshold {}",
            g.runs, g.questions, g.parallel, g.shots, c.threshold_text
        ));
    }

    /// The client command of the first run of a load (`load`: `rate 4`, `concurrency 64`;
    /// `runs` runs each).
    fn load_command(&mut self, load: &str, runs: u32, cmd: &CommandSpec) {
        self.line(format!("  {load} (x{runs}): {}", cmd.display()));
    }

    /// The GSM8K command line (`runs` times).
    fn gsm8k_command(&mut self, runs: u32, cmd: &CommandSpec) {
        self.line(format!("  GSM8K (x{runs}): {}", cmd.display()));
    }

    /// The files of the run folder (`client_pattern`: the client logs' names).
    fn files(&mut self, p: &OnlinePaths, client_pattern: &str) {
        self.line("");
        self.line("Files:");
        self.line(format!("  run folder: {}", p.folder.display()));
        self.line(format!("  CSV: {}", p.csv.display()));
        self.line(format!("  server log: {}", p.server_log.display()));
        self.line(format!("  GSM8K log: {}", p.gsm8k_log.display()));
        self.line(format!(
            "  timing summary: {}",
            p.folder
                .join("timing_summary_<YYYYMMDD_HHMMSS>.log")
                .display()
        ));
        self.line(format!(
            "  client logs: {}",
            p.folder.join(client_pattern).display()
        ));
        self.line("");
        self.line("Commands (in order):");
    }

    /// The shutdown line and the problems a real run stops on; the text.
    fn end(mut self, c: &Common) -> String {
        self.line(format!(
            "  shutdown: SIGTERM to the server's process group, SIGKILL after 10 s; port {} must be free",
            c.port
        ));
        let problems = &c.base.problems;
        if !problems.is_empty() {
            self.line("");
            self.line(format!(
                "Problems ({}; a real run stops on them):",
                problems.len()
            ));
            for p in problems {
                self.line(format!("  - {p}"));
            }
        }
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const BLOCK: &str = "============ Serving Benchmark Result ============\nRequest throughput (req/s):              1.00\nOutput token throughput (tok/s):         536.21\nMedian E2E Latency (ms):                 {E}\nMedian TTFT (ms):                        {T}\nMedian ITL (ms):                         17.18\n==================================================\nRun completed at: x\n";

    #[test]
    fn scan_and_best_run_of_grok_logs() {
        let dir = tempfile::tempdir().unwrap();
        let p = OnlinePaths::grok(dir.path(), "T", "GROK1", "V");
        std::fs::create_dir_all(&p.folder).unwrap();
        let f = &p.folder;
        write(
            f,
            "sglang_client_log_GROK1_aiter_1_run1_20250101_000000.log",
            &BLOCK.replace("{E}", "100.00").replace("{T}", "5.00"),
        );
        write(
            f,
            "sglang_client_log_GROK1_aiter_1_run2_20250101_000000.log",
            &BLOCK.replace("{E}", "90.00").replace("{T}", "9.00"),
        );
        write(
            f,
            "sglang_client_log_GROK1_aiter_1_run3_20250101_000000.log",
            "Run started at: x\n",
        );
        write(
            f,
            "sglang_client_log_GROK1_aiter_16_run1_20250101_000000.log",
            &BLOCK.replace("{E}", "1.00").replace("{T}", "1.00"),
        );
        assert!(matches!(
            run_state(&p, "1", 1).unwrap(),
            RunLogState::Completed(_)
        ));
        assert!(
            matches!(run_state(&p, "1", 3).unwrap(), RunLogState::Incomplete(v) if v.len() == 1)
        );
        assert_eq!(run_state(&p, "2", 1).unwrap(), RunLogState::Missing);
        let r = best_of_load(&p, "1", &Cell::Na).unwrap();
        assert_eq!(r.cells.e2e, Cell::Value("90.00".into()));
        assert_eq!(
            r.cells.ttft,
            Cell::Value("9.00".into()),
            "TTFT of the best-E2E run"
        );
        assert_eq!(r.request_throughput.as_deref(), Some("1.00"));
        assert_eq!(r.output_throughput.as_deref(), Some("536.21"));
        let none = best_of_load(&p, "2", &Cell::Na).unwrap();
        assert_eq!(none.cells.itl, Cell::Na);
        assert!(!none.has_result());
    }

    #[test]
    fn csv_is_rewritten_with_processed_loads_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let loads: Vec<String> = ["1", "2"].map(String::from).to_vec();
        let mut c = CsvState::new(
            OnlineKind::RequestRate,
            "GROK1",
            "T",
            "MI300x-aiter, h",
            &loads,
            &path,
        );
        c.write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("MI300x-aiter, h\t\t\n"), "{text}");
        c.results.insert(
            "1".into(),
            LoadResult {
                cells: LoadCells {
                    load: "1".into(),
                    e2e: Cell::Value("9.5".into()),
                    ttft: Cell::Na,
                    itl: Cell::Na,
                },
                request_throughput: None,
                output_throughput: None,
                best: None,
            },
        );
        c.write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("MI300x-aiter, h\t9.5\t\n"), "{text}");
        assert!(text.contains("MI300x-aiter, h\tNA\t\n"), "{text}");
    }

    #[test]
    fn dry_run_shows_the_docker_executors_real_container() {
        use crate::benchmark::Benchmark;
        use crate::config::BaseOptions;
        use crate::engine::ExecutorKind;
        use config::{CommonOptions, GrokOptions, resolve_grok};

        let dir = tempfile::tempdir().unwrap();
        let o = GrokOptions {
            common: CommonOptions {
                base: BaseOptions {
                    image: crate::flags::ImageModelFlags {
                        docker_image: Some("rocm/sgl-dev:T".into()),
                        ..Default::default()
                    },
                    dirs: crate::flags::DirFlags {
                        work_dir: Some(dir.path().to_owned()),
                        ..Default::default()
                    },
                    engine: crate::flags::EngineFlags {
                        executor: Some(ExecutorKind::Docker),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        };
        let env: BTreeMap<String, String> = [
            ("MOUNT_DIR", "/definitely/not/here"),
            ("CONTAINER_SHM_SIZE", "64g"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        let plan = grok::GrokPlan::new(resolve_grok(&o, &env).unwrap());
        let container = plan.container(&env);
        let text = plan.describe(Some(&container));
        let line = text
            .lines()
            .find(|l| l.starts_with("  container settings: "))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.contains("docker run -d --name sgl-dev_T --shm-size 64g ")
                && line.contains(&format!("-v {0}:{0} ", dir.path().display()))
                && line.contains("org.sglang-ci.created-by=grok-perf-online")
                && !line.contains("/definitely/not/here"),
            "{line}"
        );
        assert!(
            text.contains(
                "  container note: Mount directory /definitely/not/here does not exist on this machine: not mounted"
            ),
            "{text}"
        );
        assert!(!plan.describe(None).contains("container settings"));
    }
}
