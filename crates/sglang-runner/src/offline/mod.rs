//! The offline benchmarks: one `sglang.bench_one_batch` run per grid point, one CSV row per
//! point (spec benchmarks.md §2, §3, §6.1, §7.3, §7.6). [`grok`] builds the Grok plan (three
//! modes and their grids), [`deepseek`] the DeepSeek one (one point, optional model
//! download); both become an [`OfflinePlan`] that this module runs: the GSM8K gate
//! ([`gate`]), the run folder, `config.json`, then each point through the chosen engine and
//! executor, its combined output teed to the per-point log, evaluated and written to the CSV.
//!
//! Fixes against the original (each has a test):
//! * F-5: a point fails when bench_one_batch exits non-zero, is killed, runs past its time
//!   limit, or prints `OutOfMemoryError`; its row gets `NA` in the six metric fields and the
//!   run goes on with the next point. A point that exits 0 without metrics gets empty fields
//!   (Grok; the original's rule) or `NA` (DeepSeek, whose original exited 1 there).
//! * F-6: nothing in the work dir is deleted; bench_one_batch gets `--result-filename
//!   <run folder>/<point>.jsonl`, so its result records land beside the point's log.
//! * F-29: one row per grid point per run folder, for both scripts: a re-run replaces the
//!   rows of the points it runs and keeps the others; the CSV is rewritten atomically after
//!   every point, so a killed run keeps what it measured.
//! * F-14, F-25: see [`gate`].
//!
//! `--download-model` goes through [`crate::models::download`] (shared with `download-models`
//! and the nightly orchestrator).

pub mod config;
pub mod deepseek;
pub mod gate;
pub mod grok;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use metrics_parse::bench_one_batch::{Flavor, OneBatchOutput};
use metrics_parse::legacy_csv::{OfflineCsv, OfflineKind};
use report::offline_csv::{self, OfflineRow};
use report::online_csv::Cell;
use serde::Serialize;
use thiserror::Error;

use crate::benchmark::{Benchmark, Report};
use crate::clock::{Accounting, Clock};
use crate::command::CommandSpec;
use crate::config::{EnvSource, RunBase};
use crate::console::Console;
use crate::container::{self, BenchContainer};
use crate::engine::ExecutorKind;
use crate::error::RunnerError;
use crate::exec::{Executor, LocalExecutor, RunEnd};
use crate::models::download::{self, DownloadError, HfCli, HfDownload};
use crate::signals::{Interrupt, Interrupted};
use config::OfflineCommon;
use gate::{Gate, GateDecision};

/// Why an offline run could not be set up or carried out (exit status 1).
#[derive(Debug, Error)]
pub enum OfflineError {
    /// Settings, folders, programs, files.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// `--download-model` failed.
    #[error(transparent)]
    Download(#[from] DownloadError),
}

/// Folder and file names of an offline run (§2.10, §7.2), below one output root (F-18).
#[derive(Debug, Clone, Serialize)]
pub struct OfflinePaths {
    /// `<output>/offline/<MODEL_NAME>`.
    pub model_dir: PathBuf,
    /// `<model_dir>/<tag>_<M>_<V>_offline<suffix>/`.
    pub folder: PathBuf,
    /// `<folder>/<tag>_<M>_<V>_offline<suffix>.csv`.
    pub csv: PathBuf,
    /// `<folder>/config.json`.
    pub config_json: PathBuf,
}

impl OfflinePaths {
    /// The paths of `<tag>_<model>_<variant>_offline<suffix>`.
    pub fn new(output_dir: &Path, tag: &str, model: &str, variant: &str, suffix: &str) -> Self {
        let model_dir = output_dir.join("offline").join(model);
        let stem = format!("{tag}_{model}_{variant}_offline{suffix}");
        let folder = model_dir.join(&stem);
        Self {
            csv: folder.join(format!("{stem}.csv")),
            config_json: folder.join("config.json"),
            folder,
            model_dir,
        }
    }

    /// A point's log, `tp<tp>_bs<bs>_il<il>.log` (Grok) or `tp<tp>_bs<bs>.log` (DeepSeek).
    pub fn point_log(&self, kind: OfflineKind, tp: u32, bs: u32, il: u32) -> PathBuf {
        self.folder.join(match kind {
            OfflineKind::Grok => format!("tp{tp}_bs{bs}_il{il}.log"),
            OfflineKind::DeepSeek => format!("tp{tp}_bs{bs}.log"),
        })
    }
}

/// `config.json` (§7.6): `{"docker": "<image>", "attention_backend": "aiter"}` (Grok) or
/// `{"docker": "<image>"}` (DeepSeek, new); the simulated engine adds `"engine": "sim",
/// "simulated": true` after them. One line, LF-terminated.
pub fn config_json(image: &str, attention_backend: Option<&str>, simulated: bool) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
    let mut s = format!("{{\"docker\": {}", q(image));
    if let Some(b) = attention_backend {
        s.push_str(&format!(", \"attention_backend\": {}", q(b)));
    }
    if simulated {
        s.push_str(", \"engine\": \"sim\", \"simulated\": true");
    }
    s.push_str("}\n");
    s
}

/// One grid point: its values, files and command.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Tensor parallelism.
    pub tp: u32,
    /// Batch size.
    pub batch_size: u32,
    /// Input length.
    pub input_len: u32,
    /// Output length.
    pub output_len: u32,
    /// Console header (`=== TP=8, BS=32 ===`).
    pub header: String,
    /// The per-point log.
    pub log: PathBuf,
    /// bench_one_batch's result records (`--result-filename`, fix F-6).
    pub result_file: PathBuf,
    /// The command.
    pub cmd: CommandSpec,
}

impl Point {
    /// The point `[tp, batch size, input length, output length]` of `kind`'s layout in
    /// `paths`' folder: bench_one_batch with `args`, then `--result-filename <log>.jsonl`
    /// (fix F-6), and `env`, in the work dir; `header` is its console line.
    pub fn new(
        b: &RunBase,
        paths: &OfflinePaths,
        kind: OfflineKind,
        [tp, batch_size, input_len, output_len]: [u32; 4],
        header: String,
        mut args: Vec<String>,
        env: &[(String, String)],
    ) -> Self {
        let log = paths.point_log(kind, tp, batch_size, input_len);
        let result_file = result_file(&log);
        args.extend([
            "--result-filename".to_owned(),
            result_file.display().to_string(),
        ]);
        Self {
            tp,
            batch_size,
            input_len,
            output_len,
            header,
            cmd: b
                .steps
                .bench_one_batch(&args, env, &b.sim_args)
                .cwd(&b.work_dir),
            log,
            result_file,
        }
    }
}

/// `--download-model` of the DeepSeek script (§3.4).
#[derive(Debug, Clone, Serialize)]
pub struct ModelDownload {
    /// The download.
    pub request: HfDownload,
    /// Time limit.
    pub timeout: Duration,
    /// Free space required, GB (else the orchestrator's rule for the repository, less what
    /// is already on disk).
    pub min_free_gb: Option<f64>,
}

/// An offline run: settings, gate, paths and every command, built once.
#[derive(Debug, Clone, Serialize)]
pub struct OfflinePlan {
    /// Binary name (`grok-perf-offline`).
    pub binary: &'static str,
    /// Which script's CSV layout and parsing rules.
    pub kind: OfflineKind,
    /// Shared settings.
    pub common: OfflineCommon,
    /// Paths.
    pub paths: OfflinePaths,
    /// The model bench_one_batch loads (the container mounts its root).
    pub model: String,
    /// `config.json` text.
    pub config_json: String,
    /// The GSM8K gate.
    pub gate: Gate,
    /// The model download, when asked for.
    pub download: Option<ModelDownload>,
    /// The grid, in run order.
    pub points: Vec<Point>,
    /// Binary-specific settings for the dry run (`model: …`).
    pub settings: Vec<String>,
    /// Console lines printed first (`[csv] Using Grok 1 configuration`).
    pub notes: Vec<String>,
}

/// How one point ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PointStatus {
    /// Metrics written.
    Ok,
    /// Exit status 0 but no metric found (Grok: empty fields).
    NoMetrics,
    /// Detected failure (`NA` row).
    Failed {
        /// What happened.
        reason: String,
    },
    /// Stopped by SIGINT/SIGTERM (no row written).
    Interrupted,
}

/// One point of a run, for the caller and `--report-json`.
#[derive(Debug, Clone, Serialize)]
pub struct PointReport {
    /// Tensor parallelism.
    pub tp: u32,
    /// Batch size.
    pub batch_size: u32,
    /// Input length.
    pub input_len: u32,
    /// Output length.
    pub output_len: u32,
    /// Its log.
    pub log: PathBuf,
    /// How it ended.
    pub status: PointStatus,
    /// Wall time, seconds.
    pub duration_s: f64,
}

/// How an offline run ended; exit codes are on the binaries' docs pages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OfflineOutcome {
    /// Every point produced metrics.
    Completed,
    /// The GSM8K gate found no passing verdict: nothing ran (exit 0, as the original: K-9).
    GateSkipped {
        /// What the gate read.
        reason: String,
    },
    /// Every point ran, but some failed (`NA` rows) or produced no metrics.
    PointsFailed {
        /// Points with a detected failure.
        failed: u32,
        /// Points that exited 0 without metrics.
        no_metrics: u32,
        /// Points run.
        total: u32,
    },
    /// SIGINT / SIGTERM.
    Interrupted {
        /// The signal number.
        signal: i32,
    },
}

impl OfflineOutcome {
    /// 0 completed or gate skip, 6 failed points, 130/143 interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Completed | Self::GateSkipped { .. } => 0,
            Self::PointsFailed { .. } => 6,
            Self::Interrupted { signal } => Interrupted { signal: *signal }.exit_code(),
        }
    }

    /// One line for the console and the error message.
    pub fn message(&self) -> String {
        match self {
            Self::Completed => "offline benchmark completed".to_owned(),
            Self::GateSkipped { reason } => {
                format!("offline benchmark skipped by the GSM8K gate: {reason}")
            }
            Self::PointsFailed {
                failed,
                no_metrics,
                total,
            } => format!(
                "offline benchmark completed with errors: {failed} of {total} grid point(s) failed (NA rows), {no_metrics} produced no metrics (empty rows); see their logs"
            ),
            Self::Interrupted { signal } => format!(
                "interrupted by {}; the CSV keeps the points measured so far",
                Interrupted { signal: *signal }.name()
            ),
        }
    }
}

/// What an offline run leaves for its caller (and `--report-json`).
#[derive(Debug, Clone, Serialize)]
pub struct OfflineReport {
    /// How it ended.
    pub outcome: OfflineOutcome,
    /// The exit code of `outcome`.
    pub exit_code: u8,
    /// The run folder, when one was created.
    pub run_folder: Option<PathBuf>,
    /// The CSV, when written.
    pub csv: Option<PathBuf>,
    /// Every point run.
    pub points: Vec<PointReport>,
    /// True for the simulated engine.
    pub simulated: bool,
    /// Where the wall time went.
    pub accounting: Accounting,
}

impl Report for OfflineReport {
    fn exit_code(&self) -> u8 {
        self.exit_code
    }

    fn message(&self) -> String {
        self.outcome.message()
    }

    fn run_folder(&self) -> Option<&Path> {
        self.run_folder.as_deref()
    }
}

impl Benchmark for OfflinePlan {
    type Report = OfflineReport;
    type Error = OfflineError;
    const PREFIX: &'static str = "[csv]";

    fn executor(&self) -> ExecutorKind {
        self.common.base.executor
    }

    fn container(&self, env: &dyn EnvSource) -> BenchContainer {
        container::for_benchmark(&self.common.base, &self.model, self.binary, env)
    }

    /// Also what the GSM8K gate would decide now; the offline dry run shows no container
    /// settings.
    fn describe(&self, _container: Option<&BenchContainer>) -> String {
        let c = &self.common;
        let mut o = String::new();
        let mut l = |s: String| {
            o.push_str(&s);
            o.push('\n');
        };
        l(format!(
            "{}: dry run (nothing is started or written)",
            self.binary
        ));
        l(String::new());
        l("Settings:".into());
        l(format!(
            "  image: {} (tag {}, container {})",
            c.base.image, c.base.tag, c.base.container
        ));
        l(format!("  work dir: {}", c.base.work_dir.display()));
        l(format!("  output dir: {}", c.base.output_dir.display()));
        l(format!(
            "  engine: {}{}",
            c.base.engine.as_str(),
            if c.simulated() {
                " (simulated: sglang-sim bench-one-batch; the numbers are not real measurements)"
            } else {
                ""
            }
        ));
        l(format!(
            "  executor: {} ({})",
            c.base.executor.as_str(),
            c.base.executor_reason
        ));
        l(format!(
            "  time limit per point: {} s",
            c.point_timeout.as_secs_f64()
        ));
        for (name, v) in [
            ("hardware", &c.base.hardware),
            ("rocm version", &c.base.rocm_version),
            ("nightly command", &c.base.nightly_command),
        ] {
            if let Some(v) = v {
                l(format!("  {name}: {}", report::redact::redact(v)));
            }
        }
        for s in &self.settings {
            l(format!("  {s}"));
        }
        for n in &self.notes {
            l(format!("  note: {n}"));
        }
        l(String::new());
        l("Files:".into());
        l(format!("  run folder: {}", self.paths.folder.display()));
        l(format!("  CSV: {}", self.paths.csv.display()));
        l(format!(
            "  config.json: {} = {}",
            self.paths.config_json.display(),
            self.config_json.trim_end()
        ));
        l(format!(
            "  per-point logs: {}",
            match self.kind {
                OfflineKind::Grok => "tp<tp>_bs<bs>_il<il>.log (+ .jsonl result records)",
                OfflineKind::DeepSeek => "tp<tp>_bs<bs>.log (+ .jsonl result records)",
            }
        ));
        l(String::new());
        l("GSM8K gate:".into());
        l(format!(
            "  online run folder: {}",
            self.gate.online_folder.display()
        ));
        match self.gate.evaluate() {
            Ok(d) => {
                for m in d.messages() {
                    l(format!("  now: {m}"));
                }
            }
            Err(e) => l(format!("  now: {e}")),
        }
        if let Some(d) = &self.download {
            l(String::new());
            l("Model download (--download-model):".into());
            match HfCli::choose(c.base.executor == ExecutorKind::Docker) {
                Some(ch) => l(format!(
                    "  {}{}",
                    ch.cli.command(&d.request).display_with_env(),
                    if ch.in_container {
                        format!(" (in container {})", c.base.container)
                    } else {
                        String::new()
                    }
                )),
                None => l(format!(
                    "  no huggingface-cli or hf on PATH: a real run needs {} populated already",
                    d.request.local_dir.display()
                )),
            }
        }
        l(String::new());
        l(format!(
            "Commands (in order, {} grid point(s); working directory {}):",
            self.points.len(),
            c.base.work_dir.display()
        ));
        for p in &self.points {
            l(format!(
                "  TP={} BS={} IL={} OL={}: {}",
                p.tp,
                p.batch_size,
                p.input_len,
                p.output_len,
                p.cmd.display_with_env()
            ));
        }
        if !c.base.problems.is_empty() {
            l(String::new());
            l("Problems (a real run stops here):".into());
            for p in &c.base.problems {
                l(format!("  - {p}"));
            }
        }
        o
    }

    fn run(
        &self,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
    ) -> Result<OfflineReport, OfflineError> {
        let c = &self.common;
        c.base.check()?;
        let mut clock = Clock::start();
        if c.simulated() {
            console.line("[csv] Engine: simulated (sglang-sim) - the numbers of this run are not real measurements");
        }
        for n in &self.notes {
            console.line(n);
        }
        let report = |outcome: OfflineOutcome,
                      folder: bool,
                      points: Vec<PointReport>,
                      clock: &Clock| OfflineReport {
            exit_code: outcome.exit_code(),
            outcome,
            run_folder: folder.then(|| self.paths.folder.clone()),
            csv: folder.then(|| self.paths.csv.clone()),
            points,
            simulated: c.simulated(),
            accounting: clock.accounting(),
        };
        if let Some(d) = &self.download {
            match self.download_model(d, exec, console, interrupt, &mut clock) {
                Ok(()) => {}
                Err(DownloadError::Interrupted { signal, .. }) => {
                    return Ok(report(
                        OfflineOutcome::Interrupted {
                            signal: signal.signal,
                        },
                        false,
                        Vec::new(),
                        &clock,
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let decision = self.gate.evaluate()?;
        for m in decision.messages() {
            console.line(m);
        }
        if let GateDecision::NotPassed { why, log } = &decision {
            console.line("[csv] Exiting due to GSM8K accuracy check failure.");
            return Ok(report(
                OfflineOutcome::GateSkipped {
                    reason: format!("{}: {why}", log.display()),
                },
                false,
                Vec::new(),
                &clock,
            ));
        }

        std::fs::create_dir_all(&self.paths.folder)
            .map_err(|e| RunnerError::io("create run folder", &self.paths.folder, e))?;
        report::atomic::write_atomic(&self.paths.config_json, self.config_json.as_bytes())
            .map_err(RunnerError::from)?;
        let mut table = Table::load(self.kind, &self.paths.csv, console)?;
        table.write()?;
        console.line(format!(
            "[csv] Results will be written to {}",
            self.paths.csv.display()
        ));

        let mut points = Vec::new();
        let mut interrupted = None;
        // Progress (a bar on a terminal): grid points done of the grid.
        let total = self.points.len() as u64;
        for p in &self.points {
            if let Err(i) = interrupt.check() {
                interrupted = Some(i);
                break;
            }
            console.progress("points", points.len() as u64, total);
            let (status, row, took) = self.run_point(p, exec, console, interrupt)?;
            clock.add_engine(took);
            if let Some(row) = row {
                table.upsert(row);
                table.write()?;
            }
            let stop = status == PointStatus::Interrupted;
            points.push(PointReport {
                tp: p.tp,
                batch_size: p.batch_size,
                input_len: p.input_len,
                output_len: p.output_len,
                log: p.log.clone(),
                status,
                duration_s: took.as_secs_f64(),
            });
            if stop {
                interrupted = interrupt.check().err().or(Some(Interrupted { signal: 15 }));
                break;
            }
        }
        console.progress("points", total, total);
        let failed = points
            .iter()
            .filter(|p| matches!(p.status, PointStatus::Failed { .. }))
            .count() as u32;
        let no_metrics = points
            .iter()
            .filter(|p| p.status == PointStatus::NoMetrics)
            .count() as u32;
        let outcome = match interrupted {
            Some(i) => OfflineOutcome::Interrupted { signal: i.signal },
            None if failed + no_metrics > 0 => OfflineOutcome::PointsFailed {
                failed,
                no_metrics,
                total: points.len() as u32,
            },
            None => OfflineOutcome::Completed,
        };
        match self.kind {
            OfflineKind::Grok => console.line(format!(
                "All done! Results saved to {}.",
                self.paths.csv.display()
            )),
            OfflineKind::DeepSeek => {
                console.line(format!(
                    "✅  Results written to {}",
                    self.paths.csv.display()
                ));
                for p in &points {
                    console.line(format!("Full log saved to {}", p.log.display()));
                }
            }
        }
        for p in &points {
            if let PointStatus::Failed { reason } = &p.status {
                console.line(format!(
                    "[csv] FAILED: TP={} BS={} IL={}: {reason} (NA row; log {})",
                    p.tp,
                    p.batch_size,
                    p.input_len,
                    p.log.display()
                ));
            }
        }
        console.line(format!("[csv] {}", outcome.message()));
        Ok(report(outcome, true, points, &clock))
    }
}

impl OfflinePlan {
    fn flavor(&self) -> Flavor {
        match self.kind {
            OfflineKind::Grok => Flavor::Grok,
            OfflineKind::DeepSeek => Flavor::DeepSeek,
        }
    }

    fn download_model(
        &self,
        d: &ModelDownload,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
        clock: &mut Clock,
    ) -> Result<(), DownloadError> {
        let r = &d.request;
        let Some(choice) = HfCli::choose(exec.name() == "docker") else {
            console.line(format!(
                "[csv] WARNING: huggingface-cli not found. Assuming model {} is already present at {}.",
                r.repo,
                r.local_dir.display()
            ));
            if download::is_populated(&r.local_dir) {
                return Ok(());
            }
            return Err(DownloadError::NoCli {
                repo: r.repo.clone(),
                path: r.local_dir.clone(),
            });
        };
        let required = d.min_free_gb.unwrap_or_else(|| {
            download::remaining_gb(download::required_gb_for_repo(&r.repo), &r.local_dir)
        });
        let fs = download::check_free_space(&r.repo, &r.local_dir, required)?;
        console.line(format!(
            "[csv] Downloading model {} to {} ({:.1}GB available, {:.1}GB needed)...",
            r.repo,
            r.local_dir.display(),
            fs.available_gb(),
            required
        ));
        console.line(format!(
            "[csv] Running: {}",
            choice.cli.command(r).display_with_env()
        ));
        let start = Instant::now();
        let local = LocalExecutor::default();
        let exec = choice.executor(exec, &local);
        let res = download::download(exec, &choice.cli, r, d.timeout, interrupt, &mut |b| {
            console.raw(b);
        });
        clock.add_engine(start.elapsed());
        res.map(|took| {
            console.line(format!(
                "[csv] Model ready at {} ({} s)",
                r.local_dir.display(),
                took.as_secs()
            ));
        })
    }

    /// Runs one point: the command with its output teed to the log and the console, then
    /// the evaluation. Returns the status, the row to write (none when interrupted) and the
    /// wall time.
    fn run_point(
        &self,
        p: &Point,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
    ) -> Result<(PointStatus, Option<OfflineRow>, Duration), OfflineError> {
        console.line(&p.header);
        match std::fs::remove_file(&p.result_file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(RunnerError::io("remove old result file", &p.result_file, e).into());
            }
        }
        let mut log =
            File::create(&p.log).map_err(|e| RunnerError::io("create point log", &p.log, e))?;
        let mut captured = Vec::new();
        let mut write_err = None;
        let start = Instant::now();
        let end = exec.run(
            &p.cmd,
            &mut |b| {
                captured.extend_from_slice(b);
                if let Err(e) = log.write_all(b)
                    && write_err.is_none()
                {
                    write_err = Some(e);
                }
                console.raw(b);
            },
            Some(self.common.point_timeout),
            &mut || interrupt.check().is_err(),
        );
        let took = start.elapsed();
        let end = end.map_err(RunnerError::from)?;
        if let Some(e) = write_err {
            return Err(RunnerError::io("write point log", &p.log, e).into());
        }
        let out = OneBatchOutput::parse(&captured, self.flavor());
        let failure = match end {
            RunEnd::Stopped => None,
            RunEnd::TimedOut => Some(format!(
                "no result within {} s; stopped (--point-timeout)",
                self.common.point_timeout.as_secs_f64()
            )),
            RunEnd::Exited(e) if !e.success() => Some(if out.out_of_memory {
                format!("OutOfMemoryError, {e}")
            } else {
                e.to_string()
            }),
            RunEnd::Exited(_) if out.out_of_memory => {
                Some("OutOfMemoryError in the output".to_owned())
            }
            RunEnd::Exited(_) => match self.kind {
                OfflineKind::DeepSeek => {
                    offline_csv::deepseek_row(p.tp, p.batch_size, p.input_len, p.output_len, &out)
                        .err()
                        .map(|e| e.to_string())
                }
                OfflineKind::Grok => None,
            },
        };
        let trailer = |log: &mut File, text: String| {
            let nl = if captured.last().is_some_and(|b| *b != b'\n') {
                "\n"
            } else {
                ""
            };
            let _ = writeln!(log, "{nl}[offline] {text}");
        };
        if end == RunEnd::Stopped {
            trailer(
                &mut log,
                "interrupted: bench_one_batch was stopped by SIGINT/SIGTERM".to_owned(),
            );
            console.line(format!(
                "[csv] Interrupted during TP={} BS={} IL={}",
                p.tp, p.batch_size, p.input_len
            ));
            return Ok((PointStatus::Interrupted, None, took));
        }
        let na = || OfflineRow {
            tp: p.tp,
            batch_size: p.batch_size,
            input_len: p.input_len,
            output_len: p.output_len,
            metrics: std::array::from_fn(|_| Cell::Na),
        };
        if let Some(reason) = failure {
            trailer(&mut log, format!("FAILED: {reason}; CSV row: NA"));
            if out.out_of_memory {
                console.line(format!(
                    "WARNING: Batch size {} failed with OutOfMemoryError. Skipping...",
                    p.batch_size
                ));
            } else {
                console.line(format!(
                    "WARNING: Batch size {} failed ({reason}). Skipping...",
                    p.batch_size
                ));
            }
            return Ok((PointStatus::Failed { reason }, Some(na()), took));
        }
        let row = match self.kind {
            OfflineKind::Grok => {
                offline_csv::grok_row(p.tp, p.batch_size, p.input_len, p.output_len, &out)
            }
            OfflineKind::DeepSeek => {
                offline_csv::deepseek_row(p.tp, p.batch_size, p.input_len, p.output_len, &out)
                    .unwrap_or_else(|_| na())
            }
        };
        if row.metrics.iter().all(|m| *m == Cell::Empty) {
            console.line(format!(
                "WARNING: Batch size {}: no metrics found in the output (empty fields; see {})",
                p.batch_size,
                p.log.display()
            ));
            return Ok((PointStatus::NoMetrics, Some(row), took));
        }
        Ok((PointStatus::Ok, Some(row), took))
    }
}

/// The rows of a run folder's CSV (fix F-29: one row per grid point; a re-run replaces).
struct Table {
    kind: OfflineKind,
    path: PathBuf,
    rows: Vec<OfflineRow>,
}

impl Table {
    /// Reads the existing CSV, if any. Rows repeated by the original's appending DeepSeek
    /// script collapse into one (the last). A file that cannot be read as this script's CSV
    /// is moved aside to `<name>.unreadable` (never deleted).
    fn load(kind: OfflineKind, path: &Path, console: &mut Console) -> Result<Self, RunnerError> {
        let mut t = Self {
            kind,
            path: path.to_owned(),
            rows: Vec::new(),
        };
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(t),
            Err(e) => return Err(RunnerError::io("read CSV", path, e)),
        };
        if data.iter().all(u8::is_ascii_whitespace) {
            return Ok(t);
        }
        let parsed = OfflineCsv::parse(&data)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                if c.kind != kind {
                    return Err("its header is the other offline script's".to_owned());
                }
                c.rows
                    .iter()
                    .map(|r| {
                        let n = |s: &str| {
                            s.parse::<u32>()
                                .map_err(|_| format!("row value {s:?} is not an integer"))
                        };
                        Ok(OfflineRow {
                            tp: n(&r.tp)?,
                            batch_size: n(&r.batch_size)?,
                            input_len: n(&r.input_len)?,
                            output_len: n(&r.output_len)?,
                            metrics: std::array::from_fn(|i| Cell::from_text(&r.metrics[i])),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            });
        match parsed {
            Ok(rows) => {
                for r in rows {
                    t.upsert(r);
                }
            }
            Err(why) => {
                let aside = path.with_extension("csv.unreadable");
                std::fs::rename(path, &aside)
                    .map_err(|e| RunnerError::io("move aside unreadable CSV", path, e))?;
                console.line(format!(
                    "[csv] WARNING: {} is not a readable offline CSV ({why}); moved to {} and starting a new one",
                    path.display(),
                    aside.display()
                ));
            }
        }
        Ok(t)
    }

    /// Puts `row` in place of the row of the same point, else at the end.
    fn upsert(&mut self, row: OfflineRow) {
        let key = |r: &OfflineRow| (r.tp, r.batch_size, r.input_len, r.output_len);
        match self.rows.iter().position(|r| key(r) == key(&row)) {
            Some(i) => self.rows[i] = row,
            None => self.rows.push(row),
        }
    }

    fn write(&self) -> Result<(), RunnerError> {
        report::atomic::write_atomic(
            &self.path,
            offline_csv::render(self.kind, &self.rows).as_bytes(),
        )?;
        Ok(())
    }
}

/// A point's `--result-filename`: its log with `.jsonl` (fix F-6).
fn result_file(log: &Path) -> PathBuf {
    log.with_extension("jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_config_json() {
        let p = OfflinePaths::new(
            Path::new("/ci"),
            "v0.5.4.post1-rocm630-mi30x-20251029",
            "GROK1",
            "MOE-I4F8",
            "",
        );
        assert_eq!(
            p.csv,
            Path::new(
                "/ci/offline/GROK1/v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_offline/v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_offline.csv"
            )
        );
        assert_eq!(
            p.point_log(OfflineKind::Grok, 8, 128, 1024)
                .file_name()
                .unwrap(),
            "tp8_bs128_il1024.log"
        );
        assert_eq!(
            p.point_log(OfflineKind::DeepSeek, 8, 32, 128)
                .file_name()
                .unwrap(),
            "tp8_bs32.log"
        );
        let lc = OfflinePaths::new(Path::new("/ci"), "T", "GROK2", "MOE-I4F0", "_long_context");
        assert!(
            lc.folder
                .ends_with("offline/GROK2/T_GROK2_MOE-I4F0_offline_long_context")
        );
        assert_eq!(
            config_json("rocm/sgl-dev:T", Some("aiter"), false),
            "{\"docker\": \"rocm/sgl-dev:T\", \"attention_backend\": \"aiter\"}\n"
        );
        assert_eq!(
            config_json("x\"y", None, true),
            "{\"docker\": \"x\\\"y\", \"engine\": \"sim\", \"simulated\": true}\n"
        );
        let v: serde_json::Value =
            serde_json::from_str(&config_json("i", Some("aiter"), true)).unwrap();
        assert_eq!(v["simulated"], true);
        assert_eq!(
            result_file(Path::new("/f/tp8_bs1_il1024.log")),
            Path::new("/f/tp8_bs1_il1024.jsonl")
        );
    }

    #[test]
    fn table_replaces_rows_and_collapses_duplicates() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("x.csv");
        std::fs::write(
            &path,
            format!(
                "{}\n8,32,128,32,1,2,3,4,5,6\n8,32,128,32,7,8,9,10,11,12\n8,64,128,32,1,1,1,1,1,1\n",
                metrics_parse::legacy_csv::DEEPSEEK_OFFLINE_HEADER
            ),
        )
        .unwrap();
        let mut t = Table::load(OfflineKind::DeepSeek, &path, &mut Console::null()).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(
            t.rows[0].metrics[0],
            Cell::Value("7".into()),
            "the last duplicate wins"
        );
        t.upsert(OfflineRow {
            tp: 8,
            batch_size: 32,
            input_len: 128,
            output_len: 32,
            metrics: std::array::from_fn(|_| Cell::Na),
        });
        t.write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with("\n8,32,128,32,NA,NA,NA,NA,NA,NA\n8,64,128,32,1,1,1,1,1,1\n"),
            "{text}"
        );
        // A Grok CSV where a DeepSeek one is expected is moved aside, not deleted.
        std::fs::write(
            &path,
            format!("{}\n", metrics_parse::legacy_csv::GROK_OFFLINE_HEADER),
        )
        .unwrap();
        let t = Table::load(OfflineKind::DeepSeek, &path, &mut Console::null()).unwrap();
        assert!(t.rows.is_empty());
        assert!(d.path().join("x.csv.unreadable").is_file());
        assert!(!path.exists());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(OfflineOutcome::Completed.exit_code(), 0);
        assert_eq!(
            OfflineOutcome::GateSkipped { reason: "x".into() }.exit_code(),
            0
        );
        assert_eq!(
            OfflineOutcome::PointsFailed {
                failed: 1,
                no_metrics: 0,
                total: 9
            }
            .exit_code(),
            6
        );
        assert_eq!(OfflineOutcome::Interrupted { signal: 2 }.exit_code(), 130);
        assert_eq!(OfflineOutcome::Interrupted { signal: 15 }.exit_code(), 143);
    }
}
