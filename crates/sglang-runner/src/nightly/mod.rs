//! `perf-nightly`: the nightly orchestrator (port of `scripts/perf_nightly.sh`, spec
//! benchmarks.md §8): banner, Docker access, the per-model lock, the GPU idle check, image
//! selection, then for each image the `<repo>_<tag>` container (created or reused), the
//! benchmark plans of the requested modes run through the docker executor, post-processing,
//! Teams, and the container stopped. Console lines keep the original's `[nightly]` formats.
//!
//! With `--engine=sim` and no `--docker_image` the whole night runs on this machine without
//! Docker (no idle check, no container): the local executor runs `sglang-sim` and
//! `sglang-bench`. With an image (a `sglang-sim build-image` image for the simulated engine)
//! it runs exactly as on a GPU node.
//!
//! Fixes against the original: F-13 (each benchmark's exit code is reported), F-17 (the model
//! name is forwarded to every benchmark), F-18 (every path derives from `CI_DIR`), F-19 (the
//! idle check compares numbers and stops only sglang-ci's containers), F-20 (a failing
//! post-processing step is a warning), F-30 (container names space-separated), F-31 (`--help`
//! needs no Docker; the real hardware default is documented), F-34 (completeness is left to
//! the benchmark's own resume scan), F-35 (downloads go to a host path below `CI_DIR`), F-37
//! (a tag without a date plots under today's date).

pub mod config;
pub mod error;
pub mod images;
pub mod lock;
pub mod post;

pub use error::NightlyError;

use std::path::{Path, PathBuf};
use std::time::Duration;

use docker_ctl::{BlockingEngine, EngineConfig, HubClient, MANAGED_LABEL};
use gpu_probe::{Probe, Thresholds, Verdict};

use crate::benchmark::{Benchmark, Report};
use crate::config::{BaseOptions, DeepSeekModelOptions, GrokModelOptions, ProcessEnv};
use crate::console::Console;
use crate::container::BenchContainer;
use crate::engine::{Engine, ExecutorKind, Steps};
use crate::exec::{Executor, LocalExecutor};
use crate::flags::{DirFlags, EngineFlags, HardwareFlags, ImageModelFlags};
use crate::models::download::{self, HfCli, HfDownload};
use crate::offline::config::{
    DeepSeekOfflineOptions, GrokOfflineOptions, OfflineOptions, resolve_deepseek_offline,
    resolve_grok_offline,
};
use crate::offline::{OfflinePaths, OfflinePlan};
use crate::online::config::{
    CommonOptions, DeepSeekOptions, GrokOptions, resolve_deepseek, resolve_grok,
};
use crate::online::deepseek::DeepSeekPlan;
use crate::online::grok::GrokPlan;
use crate::signals::Interrupt;
use config::{ImageSource, Mode, NightlyConfig, NightlyModel};
use lock::Acquired;

/// `[nightly] ` + 42 `=`.
const RULE: &str = "[nightly] ==========================================";

/// Exit status: the night ran (whatever the benchmarks, downloads or notifications did:
/// quirk K-18).
pub const EXIT_OK: u8 = 0;
/// Exit status: Docker unusable, invalid value, lock held, no image found, container failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: Docker Hub could not be asked (the image may exist).
pub const EXIT_COULD_NOT_ASK: u8 = 3;
/// Exit status with `--strict`: the night ran and a benchmark failed.
pub const EXIT_STRICT_FAILED: u8 = 5;

/// How one benchmark of the night ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BenchmarkEnd {
    /// The image.
    pub image: String,
    /// The mode.
    pub mode: Mode,
    /// The benchmark's exit code (its docs page lists them).
    pub exit_code: u8,
    /// Its one-line outcome.
    pub message: String,
    /// Its run folder, when it made one.
    pub run_folder: Option<PathBuf>,
}

/// What a night did.
#[derive(Debug, Default, serde::Serialize)]
pub struct NightlyReport {
    /// The exit code.
    pub exit_code: u8,
    /// Why the night ended early (printed on the console already).
    #[serde(serialize_with = "error_text")]
    pub error: Option<NightlyError>,
    /// Images run.
    pub images: Vec<String>,
    /// Every benchmark run.
    pub benchmarks: Vec<BenchmarkEnd>,
    /// Post-processing steps that failed (warnings).
    pub warnings: Vec<String>,
}

impl NightlyReport {
    /// Ends the night with `error`, printing its console line.
    fn fail(mut self, console: &mut Console, error: NightlyError) -> Self {
        console.line(error.console_line());
        self.exit_code = error.exit_code();
        self.error = Some(error);
        self
    }
}

/// Version of the `--report-json` summary's layout ([`NightlySummary`]).
pub const SUMMARY_VERSION: u32 = 1;

/// The `perf-nightly --report-json` summary: versioned, the night's report plus its verdict.
#[derive(Debug, serde::Serialize)]
pub struct NightlySummary<'a> {
    /// [`SUMMARY_VERSION`].
    pub version: u32,
    /// The verdict line's content (`PASS (2 of 2 benchmarks succeeded)`), `null` when the night
    /// ended early (see `error`).
    pub verdict: Option<String>,
    /// Exit code, error, images, benchmarks (each with its run folder), warnings.
    #[serde(flatten)]
    pub report: &'a NightlyReport,
}

impl NightlyReport {
    /// The versioned `--report-json` summary of this report.
    pub fn summary(&self) -> NightlySummary<'_> {
        NightlySummary {
            version: SUMMARY_VERSION,
            verdict: self.error.is_none().then(|| {
                verdict_line(&self.benchmarks)
                    .trim_start_matches("[nightly] VERDICT: ")
                    .to_owned()
            }),
            report: self,
        }
    }
}

fn error_text<S: serde::Serializer>(e: &Option<NightlyError>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

/// One benchmark plan of a mode.
enum Plan {
    GrokOnline(Box<GrokPlan>),
    DeepSeekOnline(Box<DeepSeekPlan>),
    Offline(Box<OfflinePlan>),
    /// `--mode=sanity`: the sanity check, run in this process.
    Sanity(Box<crate::sanity::SanityConfig>),
}

impl Plan {
    fn binary(&self) -> &'static str {
        match self {
            Plan::GrokOnline(_) => "grok-perf-online",
            Plan::DeepSeekOnline(_) => "deepseek-perf-online",
            Plan::Offline(p) => p.binary,
            Plan::Sanity(_) => "sanity-check",
        }
    }

    fn steps(&self) -> &Steps {
        match self {
            Plan::GrokOnline(p) => &p.cfg.common.base.steps,
            Plan::DeepSeekOnline(p) => &p.cfg.common.base.steps,
            Plan::Offline(p) => &p.common.base.steps,
            Plan::Sanity(c) => &c.steps,
        }
    }

    fn gsm8k_data(&self) -> Option<&Path> {
        match self {
            Plan::GrokOnline(p) => p.cfg.common.gsm8k_data.as_deref(),
            Plan::DeepSeekOnline(p) => p.cfg.common.gsm8k_data.as_deref(),
            Plan::Offline(_) => None,
            Plan::Sanity(c) => c.gsm8k_data.as_deref(),
        }
    }

    /// The folder of the mode's plot log: the plain `_online` folder (K-8), the offline
    /// run folder.
    fn plot_folder(&self, ci: &Path, tag: &str) -> PathBuf {
        match self {
            Plan::GrokOnline(p) => p.steps.paths.folder.clone(),
            Plan::DeepSeekOnline(p) => {
                let c = &p.cfg;
                ci.join("online")
                    .join(&c.model_name)
                    .join(format!("{tag}_{}_{}_online", c.model_name, c.variant))
            }
            Plan::Offline(p) => p.paths.folder.clone(),
            Plan::Sanity(c) => c.log_dir.clone(),
        }
    }

    /// Its dry run; `container`: the night's container the plan runs in.
    fn describe(&self, container: Option<&BenchContainer>) -> String {
        match self {
            Plan::GrokOnline(p) => p.describe(container),
            Plan::DeepSeekOnline(p) => p.describe(container),
            Plan::Offline(p) => p.describe(container),
            Plan::Sanity(c) => crate::sanity::describe(c),
        }
    }

    /// Runs it; returns (exit code, outcome line, run folder).
    fn run(
        &self,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
    ) -> (u8, String, Option<PathBuf>) {
        fn ended<R: Report, E: std::fmt::Display>(
            r: Result<R, E>,
        ) -> (u8, String, Option<PathBuf>) {
            match r {
                Ok(r) => (
                    r.exit_code(),
                    r.message(),
                    r.run_folder().map(Path::to_owned),
                ),
                Err(e) => (1, e.to_string(), None),
            }
        }
        match self {
            Plan::GrokOnline(p) => ended(p.run(exec, console, interrupt)),
            Plan::DeepSeekOnline(p) => ended(p.run(exec, console, interrupt)),
            Plan::Offline(p) => ended(p.run(exec, console, interrupt)),
            Plan::Sanity(c) => run_sanity(c, exec, console, interrupt),
        }
    }
}

/// `--mode=sanity` (spec nightly.md §7.1 steps 8-9): the sanity check in this process with
/// the night's executor. Exit code 0 whatever the models did (Q-SAN-6); the message counts
/// them.
fn run_sanity(
    c: &crate::sanity::SanityConfig,
    exec: &dyn Executor,
    console: &mut Console,
    interrupt: &Interrupt,
) -> (u8, String, Option<PathBuf>) {
    console.line(format!(
        "[nightly] Executing: {}",
        crate::sanity::command_line(c)
    ));
    let r = crate::sanity::run(c, exec, console, interrupt);
    let code = r.as_ref().map_or_else(|e| e.exit_code(), |_| 0);
    if code == 0 {
        console.line("[nightly] === Sanity check completed successfully ===");
    } else {
        console.line(format!(
            "[nightly] === Sanity check failed (exit code: {code}) ==="
        ));
    }
    match r {
        Ok(rep) => {
            let (passed, tested) = rep.passed_of_tested();
            let skipped = rep.results.len() - tested;
            (
                0,
                format!(
                    "{passed}/{tested} models passed, {skipped} skipped (timing summary {})",
                    rep.timing_log.display()
                ),
                Some(rep.log_dir),
            )
        }
        Err(e) => (code, e.to_string(), None),
    }
}

/// The sanity check's settings of a night: `--sanity-args`, then the night's image,
/// hardware, trials, `CI_DIR` (work dir and `<CI_DIR>/test/sanity_check_log/<hw>`: F-18),
/// engine, executor and port. The night sends the Teams card itself.
fn sanity_for(
    cfg: &NightlyConfig,
    image: &str,
    executor: ExecutorKind,
) -> Result<crate::sanity::SanityConfig, String> {
    let mut o = crate::sanity::config::parse_words(&cfg.sanity_args).map_err(|e| e.to_string())?;
    let hw = cfg.hardware.to_string();
    o.docker_image = Some(image.to_owned());
    o.hardware = Some(hw.clone());
    o.trials = Some(cfg.sanity_trials);
    o.work_dir = Some(cfg.ci_dir.clone());
    if o.log_dir.is_none() {
        o.log_dir = Some(cfg.ci_dir.join("test/sanity_check_log").join(&hw));
    }
    o.engine = EngineFlags {
        engine: Some(cfg.engine),
        executor: Some(executor),
    };
    o.port = o.port.or(cfg.port);
    o.teams = Default::default();
    crate::sanity::config::resolve(&o, &ProcessEnv).map_err(|e| e.to_string())
}

/// The benchmark plan of `mode` for `image`, resolved as the benchmark binary would resolve
/// its flags (environment fallbacks included), with the orchestrator's arguments (§8.9.1):
/// image, hardware, ROCm token, `CI_DIR` as work and output dir (F-18), model path, Grok-2
/// type and tokenizer, model name (every model: F-17), DeepSeek switches (online).
fn plan_for(
    cfg: &NightlyConfig,
    mode: Mode,
    image: &str,
    model_path: Option<&str>,
    executor: ExecutorKind,
) -> Result<Plan, String> {
    let env = ProcessEnv;
    let grok2 = cfg.model == NightlyModel::Grok2;
    let grok = GrokModelOptions {
        model_type: grok2.then(|| "grok2".to_owned()),
        tokenizer: cfg.tokenizer_path.clone().filter(|_| grok2),
        model_name: Some(cfg.model_name.clone()),
    };
    let deepseek = DeepSeekModelOptions {
        model_name: Some(cfg.model_name.clone()),
        ..Default::default()
    };
    let base = BaseOptions {
        image: ImageModelFlags {
            docker_image: Some(image.to_owned()),
            model: model_path.map(str::to_owned),
        },
        dirs: DirFlags {
            work_dir: Some(cfg.ci_dir.clone()),
            output_dir: Some(cfg.ci_dir.clone()),
        },
        hardware: HardwareFlags {
            hardware: Some(cfg.hardware.to_string()),
            rocm_version: Some(cfg.rocm.clone()),
            nightly_command: Some(cfg.command_line.clone()),
        },
        engine: EngineFlags {
            engine: Some(cfg.engine),
            executor: Some(executor),
        },
        ..Default::default()
    };
    match mode {
        Mode::Online => {
            let common = CommonOptions {
                base,
                port: cfg.port,
                ..Default::default()
            };
            if cfg.model.is_deepseek() {
                let o = DeepSeekOptions {
                    common,
                    image: None,
                    deepseek,
                    mode: cfg.deepseek_mode,
                };
                resolve_deepseek(&o, &env)
                    .map(|c| Plan::DeepSeekOnline(Box::new(DeepSeekPlan::new(c))))
                    .map_err(|e| e.to_string())
            } else {
                let o = GrokOptions { common, grok };
                resolve_grok(&o, &env)
                    .map(|c| Plan::GrokOnline(Box::new(GrokPlan::new(c))))
                    .map_err(|e| e.to_string())
            }
        }
        Mode::Offline => {
            let common = OfflineOptions {
                base,
                ..Default::default()
            };
            if cfg.model.is_deepseek() {
                let o = DeepSeekOfflineOptions { common, deepseek };
                resolve_deepseek_offline(&o, &env)
                    .map(|c| Plan::Offline(Box::new(crate::offline::deepseek::plan(&c))))
                    .map_err(|e| e.to_string())
            } else {
                let o = GrokOfflineOptions {
                    common,
                    grok,
                    ..Default::default()
                };
                resolve_grok_offline(&o, &env)
                    .map(|c| Plan::Offline(Box::new(crate::offline::grok::plan(&c))))
                    .map_err(|e| e.to_string())
            }
        }
        Mode::Sanity => sanity_for(cfg, image, executor).map(|c| Plan::Sanity(Box::new(c))),
    }
}

/// `user | groups` of this process, from `/proc/self/status`, `/etc/passwd`, `/etc/group`.
pub(crate) fn user_and_groups() -> (String, Vec<String>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> Vec<String> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let name_of = |file: &str, id: &str| -> String {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| {
                    let f: Vec<&str> = l.split(':').collect();
                    (f.len() > 2 && f[2] == id).then(|| f[0].to_owned())
                })
            })
            .unwrap_or_else(|| id.to_owned())
    };
    let uid = field("Uid:").into_iter().next().unwrap_or_default();
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| name_of("/etc/passwd", &uid));
    let groups = field("Groups:")
        .iter()
        .map(|g| name_of("/etc/group", g))
        .collect();
    (user, groups)
}

fn today_pacific() -> String {
    crate::timefmt::now().format("%Y%m%d").to_string()
}

/// The `--dry-run` text: settings, lock, image source, container settings and each mode's
/// benchmark plan (for a discovered image, with a placeholder tag of today's date).
pub fn describe(cfg: &NightlyConfig) -> String {
    let mut o = String::new();
    let mut l = |s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    l("perf-nightly: dry run (nothing is started, pulled or written)".into());
    l(String::new());
    l(format!("  command: {}", cfg.command_line));
    l(format!(
        "  model: {} (MODEL_NAME {}), modes: {}",
        cfg.model.as_str(),
        cfg.model_name,
        cfg.modes
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    l(format!(
        "  hardware: {}, ROCm token: {}",
        cfg.hardware, cfg.rocm
    ));
    l(format!("  engine: {}", cfg.engine.as_str()));
    l(format!("  CI_DIR: {}", cfg.ci_dir.display()));
    l(format!("  lock file: {}", cfg.lock_path.display()));
    l(format!(
        "  Teams: {}",
        if cfg.teams.enabled {
            "enabled"
        } else {
            "disabled"
        }
    ));
    let image = match &cfg.image {
        ImageSource::Discover { repo } => {
            l(format!(
                "  image: discovered on Docker Hub in {repo} (-{}-{}-<date>, {} day(s), yesterday fallback)",
                cfg.rocm, cfg.hardware, cfg.days
            ));
            format!(
                "{repo}:v0.0.0-{}-{}-{}",
                cfg.rocm,
                cfg.hardware,
                today_pacific()
            )
        }
        ImageSource::Given(i) => {
            l(format!("  image: {i} (--docker_image)"));
            i.clone()
        }
        ImageSource::LocalSim(i) => {
            l(format!(
                "  image: none (simulated engine on this machine, no Docker); run folders named after {i}"
            ));
            i.clone()
        }
    };
    let kind = if cfg.uses_docker() {
        ExecutorKind::Docker
    } else {
        ExecutorKind::Local
    };
    let plans: Vec<(Mode, Result<Plan, String>)> = cfg
        .modes
        .iter()
        .map(|m| {
            (
                *m,
                plan_for(cfg, *m, &image, cfg.model_path.as_deref(), kind),
            )
        })
        .collect();
    if cfg.uses_docker()
        && let Some(p) = plans.iter().find_map(|(_, p)| p.as_ref().ok())
    {
        let c = nightly_container(cfg, &image, p, cfg.model_path.as_deref());
        l(format!(
            "  container: {}",
            c.spec().docker_run_args().join(" ")
        ));
    }
    for (m, p) in plans {
        l(String::new());
        l(format!("== {} benchmark ==", m.title()));
        match p {
            Ok(p) => {
                let container = cfg
                    .uses_docker()
                    .then(|| nightly_container(cfg, &image, &p, cfg.model_path.as_deref()));
                for line in p.describe(container.as_ref()).lines() {
                    l(format!("  {line}"));
                }
            }
            Err(e) => l(format!("  cannot plan it: {e}")),
        }
    }
    o
}

/// The container of a night (§8.9 step 5): `MOUNT_DIR`, `/mnt/raid/models`, `CI_DIR`, the
/// model's root, the Grok-2 tokenizer's root, and the simulator's GSM8K data.
fn nightly_container(
    cfg: &NightlyConfig,
    image: &str,
    plan: &Plan,
    model_path: Option<&str>,
) -> BenchContainer {
    let mut b = BenchContainer::new(image, cfg.engine, plan.steps(), "perf-nightly")
        .request(&cfg.mount_dir, "Mount directory")
        .request(&cfg.models_dir, "Models directory")
        .request(&cfg.ci_dir, "Benchmark CI directory");
    b.shm_size = cfg.shm_size.clone();
    b.work_dir = cfg.container_work_dir.clone();
    if let Some(m) = model_path {
        b = b.request_root_of(Path::new(m), "Custom model path");
    }
    if let Some(t) = cfg
        .tokenizer_path
        .as_deref()
        .filter(|_| cfg.model == NightlyModel::Grok2)
    {
        b = b.request_root_of(Path::new(t), "Tokenizer path");
    }
    if cfg.engine == Engine::Sim {
        b = b.sim_data(plan.gsm8k_data());
    }
    b
}

/// Runs the night. Everything is printed on `console`; the report carries the exit code.
pub fn run(cfg: &NightlyConfig, console: &mut Console, interrupt: &Interrupt) -> NightlyReport {
    let report = NightlyReport::default();
    // 1. Banner (§8.4).
    let docker_text = if cfg.uses_docker() {
        EngineConfig::from_env().host
    } else {
        "not used (simulated engine on this machine)".to_owned()
    };
    for l in crate::banner::start_lines(
        "[nightly]",
        "SGL Nightly Benchmark Started",
        &cfg.command_line,
        &crate::timefmt::human(&crate::timefmt::now()),
        &docker_text,
    ) {
        console.line(l);
    }

    // 2. Docker access (§8.5).
    let engine = if cfg.uses_docker() {
        match BlockingEngine::connect() {
            Ok(e) => {
                console.line(format!(
                    "[nightly] Docker daemon accessible - proceeding... (server {} at {})",
                    e.server_version(),
                    e.endpoint()
                ));
                Some(e)
            }
            Err(e) => {
                for l in crate::banner::docker_unreachable_lines("[nightly]", &e.to_string()) {
                    console.line(l);
                }
                return NightlyReport {
                    exit_code: EXIT_FAILURE,
                    error: Some(NightlyError::DockerUnavailable(e.to_string())),
                    ..report
                };
            }
        }
    } else {
        None
    };

    // 3. The values' messages, ROCm, model folders, modes (§8.4 steps 4-6).
    for n in &cfg.notes {
        console.line(n);
    }
    console.line(format!(
        "[nightly] Hardware: {}, ROCM Version: {}",
        cfg.hardware, cfg.rocm
    ));
    if !cfg.ci_dir.is_dir() {
        match std::fs::create_dir_all(&cfg.ci_dir) {
            Ok(()) => console.line(format!(
                "[nightly] Created working directory {}",
                cfg.ci_dir.display()
            )),
            Err(source) => {
                let path = cfg.ci_dir.clone();
                return report.fail(console, NightlyError::WorkDir { path, source });
            }
        }
    }
    if cfg.model.is_deepseek() {
        let d = cfg.ci_dir.join("online").join(&cfg.model_name);
        if let Err(e) = std::fs::create_dir_all(&d) {
            console.line(format!(
                "[nightly] WARN: cannot create {}: {e}; continuing",
                d.display()
            ));
        }
    }
    console.line(format!(
        "[nightly] Model: {}, Mode(s): {}",
        cfg.model.as_str(),
        cfg.modes
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ));

    // 4. Lock (§8.6).
    let lock = match lock::acquire(&cfg.lock_path) {
        Ok(Acquired::Taken { lock, stale }) => {
            if let Some(pid) = stale {
                console.line(format!("[nightly] Removing stale lock file from PID {pid}"));
            }
            console.line(format!(
                "[nightly] Created process lock: {}",
                cfg.lock_path.display()
            ));
            lock
        }
        Ok(Acquired::Held { pid }) => {
            let report = report.fail(console, NightlyError::LockHeld { pid });
            console.line(format!("[nightly] Lock file: {}", cfg.lock_path.display()));
            console.line(
                "[nightly] If that process is not a perf-nightly run, remove the lock file and try again.",
            );
            return report;
        }
        Err(e) => return report.fail(console, NightlyError::Lock(e.to_string())),
    };
    let mut report = night(cfg, engine.as_ref(), console, interrupt, report);
    console.line("[nightly] Cleaning up process lock...");
    lock.release();
    if report.error.is_none() {
        post::ingest_history(cfg, &report.benchmarks, console);
        console.line(verdict_line(&report.benchmarks));
        if cfg.strict && report.exit_code == 0 && report.benchmarks.iter().any(|b| b.exit_code != 0)
        {
            report.exit_code = EXIT_STRICT_FAILED;
        }
    }
    report
}

/// The night's last line, one a grep finds: `[nightly] VERDICT: PASS (2 of 2 benchmarks
/// succeeded)` or `[nightly] VERDICT: FAIL (1 of 2 benchmarks failed: online exit 4)`.
pub fn verdict_line(benchmarks: &[BenchmarkEnd]) -> String {
    let failed: Vec<String> = benchmarks
        .iter()
        .filter(|b| b.exit_code != 0)
        .map(|b| format!("{} exit {}", b.mode.as_str(), b.exit_code))
        .collect();
    let n = benchmarks.len();
    if failed.is_empty() {
        format!("[nightly] VERDICT: PASS ({n} of {n} benchmarks succeeded)")
    } else {
        format!(
            "[nightly] VERDICT: FAIL ({} of {n} benchmarks failed: {})",
            failed.len(),
            failed.join(", ")
        )
    }
}

/// The GPU idle check (§8.7 with fix F-19).
fn ensure_gpu_idle(cfg: &NightlyConfig, engine: Option<&BlockingEngine>, console: &mut Console) {
    let Some(engine) = engine else {
        console.line("[nightly] Simulated engine on this machine: GPU idle check skipped (no GPU and no container is used)");
        return;
    };
    let thresholds = match Thresholds::from_env(Thresholds::NIGHTLY) {
        Ok(t) => t,
        Err(e) => {
            console.line(format!("[nightly] WARN: {e}; using 15/15"));
            Thresholds::NIGHTLY
        }
    };
    let probe = Probe::from_env(thresholds);
    let wait = cfg.gpu_idle_wait;
    let r = gpu_probe::ensure_idle(&probe, wait, Duration::from_secs(1), |first| {
        console.line("[nightly] GPU is busy. Attempting to stop running Docker containers...");
        if let Verdict::Busy(b) = &first.verdict {
            for g in b {
                console.line(format!("[nightly]   {g}"));
            }
        }
        let stopped = engine.stop_managed_running(Duration::from_secs(10));
        match &stopped {
            Ok(names) if names.is_empty() => {
                console.line("[nightly] No running containers to stop.");
            }
            Ok(names) => console.line(format!(
                "[nightly] Stopping running containers: {}",
                names.join(" ")
            )),
            Err(e) => console.line(format!("[nightly] WARN: stopping containers failed: {e}")),
        }
        let foreign = foreign_running(engine);
        if !foreign.is_empty() {
            console.line(format!(
                "[nightly] Left running (not created by sglang-ci): {}",
                foreign.join(" ")
            ));
        }
        console.line(format!(
            "[nightly] Waiting {}s for GPU to become idle...",
            wait.as_secs()
        ));
        stopped
    });
    match r.final_verdict() {
        Verdict::Idle => console.line("[nightly] GPU is idle. Proceeding..."),
        Verdict::Busy(_) => {
            console.line("[nightly] WARN: GPU may still be busy, but proceeding as requested.");
        }
        Verdict::Skipped(why) => console.line(format!("[nightly] WARN: {why}")),
    }
}

/// Names of running containers without the sglang-ci label.
fn foreign_running(engine: &BlockingEngine) -> Vec<String> {
    let list = engine.block_on(engine.engine().bollard().list_containers(None));
    list.map(|l| {
        l.into_iter()
            .filter(|c| {
                c.labels
                    .as_ref()
                    .is_none_or(|l| !l.contains_key(MANAGED_LABEL))
            })
            .filter_map(|c| c.names.and_then(|n| n.into_iter().next()))
            .map(|n| n.trim_start_matches('/').to_owned())
            .collect()
    })
    .unwrap_or_default()
}

/// Steps 7-10 of §8.4, with the lock held.
fn night(
    cfg: &NightlyConfig,
    engine: Option<&BlockingEngine>,
    console: &mut Console,
    interrupt: &Interrupt,
    mut report: NightlyReport,
) -> NightlyReport {
    ensure_gpu_idle(cfg, engine, console);
    let images = match (&cfg.image, engine) {
        (ImageSource::LocalSim(i), _) => {
            console.line(format!(
                "[nightly] Simulated engine without --docker_image: the night runs on this machine without Docker; run folders are named after {i}"
            ));
            vec![i.clone()]
        }
        (ImageSource::Given(i), Some(e)) => {
            console.line(format!("[nightly] Using image from --docker_image: {i}"));
            let waits = images::pull_waits(&ProcessEnv);
            match images::obtain(
                e,
                i,
                &waits,
                Duration::from_secs(3600),
                interrupt,
                &mut |l| console.line(l),
            ) {
                Ok(()) => vec![i.clone()],
                Err(reason) => {
                    let err = images::SelectError::GivenUnavailable {
                        image: i.clone(),
                        reason,
                    };
                    return report.fail(console, err.into());
                }
            }
        }
        (ImageSource::Discover { repo }, Some(e)) => {
            let tz = match docker_ctl::dates::zone_from_env() {
                Ok(z) => z,
                Err(err) => return report.fail(console, NightlyError::TimeZone(err)),
            };
            let hub = HubClient::from_env();
            let waits = images::pull_waits(&ProcessEnv);
            let hw = cfg.hardware.to_string();
            let d = images::Discovery {
                hub: &hub,
                repo,
                rocm: &cfg.rocm,
                hw: &hw,
                days: cfg.days,
                now: chrono::Utc::now(),
                tz,
            };
            let found = images::discover(
                &d,
                |image, say| {
                    images::obtain(e, image, &waits, Duration::from_secs(3600), interrupt, say)
                },
                &mut |l| console.line(l),
            );
            match found {
                Ok(i) => i,
                Err(err) => return report.fail(console, err.into()),
            }
        }
        (_, None) => return report.fail(console, NightlyError::NoDocker),
    };
    console.line(format!(
        "[nightly] Found {} valid image(s) to run benchmarks on:",
        images.len()
    ));
    for i in &images {
        console.line(format!("[nightly]   - {i}"));
    }
    for image in &images {
        if let Err(i) = interrupt.check() {
            console.line(format!("[nightly] Interrupted by {}; stopping", i.name()));
            report.exit_code = i.exit_code();
            return report;
        }
        report = per_image(cfg, engine, image, console, interrupt, report);
        if report.exit_code != EXIT_OK {
            return report;
        }
    }
    console.line(RULE);
    console.line(format!(
        "[nightly] All benchmarks completed for {} image(s)",
        images.len()
    ));
    console.line(RULE);
    report
}

/// §8.10: the model download, to a host path below `CI_DIR` (fix F-35). Returns the model
/// path to use.
fn download_model(
    cfg: &NightlyConfig,
    repo: &str,
    docker: Option<&dyn Executor>,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Option<String> {
    let name = repo.rsplit('/').next().unwrap_or(repo);
    let target = cfg.ci_dir.join("models").join(name);
    if download::is_populated(&target) {
        console.line(format!(
            "[nightly] Model already exists at {}, using existing model",
            target.display()
        ));
        return Some(target.display().to_string());
    }
    console.line(format!(
        "[nightly] Model not found at {}, attempting download from HuggingFace...",
        target.display()
    ));
    let required = match cfg.model {
        NightlyModel::DeepSeek | NightlyModel::DeepSeekV3 => 685.0,
        NightlyModel::Grok | NightlyModel::Grok2 => 200.0,
        NightlyModel::Sanity => download::required_gb_for_repo(repo),
    };
    let fail = |console: &mut Console, why: String| {
        console.line(format!("[nightly] ERROR: {why}"));
        console.line(
            "[nightly] WARN: Failed to download model from HuggingFace. Proceeding with default model path...",
        );
        None
    };
    match download::check_free_space(repo, &target, required) {
        Ok(fs) => console.line(format!(
            "[nightly] Available disk space: {:.1}GB",
            fs.available_gb()
        )),
        Err(e) => return fail(console, e.to_string()),
    }
    let request = HfDownload {
        repo: repo.to_owned(),
        local_dir: target.clone(),
        repo_type_model: false,
        resume: true,
        env: vec![("HF_HUB_ENABLE_HF_TRANSFER".into(), "1".into())],
    };
    // The CLI on this machine, else the one in the image (the original's).
    let local = LocalExecutor::default();
    let (choice, exec) = match (HfCli::choose(docker.is_some()), docker) {
        (Some(c), Some(d)) => {
            let exec = c.executor(d, &local);
            (c, exec)
        }
        (Some(c), None) => (c, &local as &dyn Executor),
        (None, _) => {
            return fail(
                console,
                "neither huggingface-cli nor hf is on PATH".to_owned(),
            );
        }
    };
    let r = download::download(
        exec,
        &choice.cli,
        &request,
        Duration::from_secs(24 * 3600),
        interrupt,
        &mut |b| console.raw(b),
    );
    match r {
        Ok(_) => Some(target.display().to_string()),
        Err(e) => fail(console, e.to_string()),
    }
}

/// §8.9 for one image.
fn per_image(
    cfg: &NightlyConfig,
    engine: Option<&BlockingEngine>,
    image: &str,
    console: &mut Console,
    interrupt: &Interrupt,
    mut report: NightlyReport,
) -> NightlyReport {
    report.images.push(image.to_owned());
    console.line(RULE);
    console.line(format!("[nightly] Starting benchmarks for image: {image}"));
    console.line(RULE);
    if engine.is_some() {
        console.line(format!(
            "[nightly] Checking GPU status before starting benchmarks for {image}..."
        ));
        ensure_gpu_idle(cfg, engine, console);
    }
    let parts = docker_ctl::ImageParts::parse(image);
    let tag = parts.tag.clone();
    let name = parts.container_name();
    for m in &cfg.modes {
        console.line(format!(
            "[nightly] INFO: Completion of the {} benchmark for {image} is left to its own resume scan (complete runs are not repeated).",
            m.as_str()
        ));
    }
    let kind = if engine.is_some() {
        ExecutorKind::Docker
    } else {
        ExecutorKind::Local
    };
    let mut model_path = cfg.model_path.clone();
    let mut plans: Vec<(Mode, Result<Plan, String>)> = cfg
        .modes
        .iter()
        .map(|m| (*m, plan_for(cfg, *m, image, model_path.as_deref(), kind)))
        .collect();

    // The container (§8.9 step 5) and its executor.
    let mut docker_exec = None;
    if let Some(e) = engine {
        console.line(format!("[nightly] Using Docker image: {image}"));
        console.line(format!("[nightly] Container name: {name}"));
        let Some(first) = plans.iter().find_map(|(_, p)| p.as_ref().ok()) else {
            let why = plans
                .iter()
                .filter_map(|(_, p)| p.as_ref().err().cloned())
                .collect::<Vec<_>>()
                .join("; ");
            let image = image.to_owned();
            return report.fail(console, NightlyError::NoPlan { image, why });
        };
        let c = nightly_container(cfg, image, first, model_path.as_deref());
        let port = cfg.port.unwrap_or(crate::flags::defaults::PORT);
        let ready = c
            .ensure(e, &mut |l| console.line(format!("[nightly] {l}")))
            .and_then(|ensured| {
                // A running container of ours whose server port answers holds a server that an
                // earlier night left behind (it was killed before it could stop it): restart
                // the container, which ends every process in it, before the benchmark starts.
                let was_running = matches!(
                    ensured,
                    docker_ctl::Ensured::Reused { started: false, .. }
                );
                if was_running && crate::server::port_in_use(port) {
                    console.line(format!(
                        "[nightly] Port {port} is held by a server an earlier run left in {name}: restarting the container"
                    ));
                    e.stop_container(&name, Duration::from_secs(10))?;
                    e.start_container(&name)?;
                }
                c.executor()
            });
        match ready {
            Ok(x) => docker_exec = Some(x),
            Err(err) => {
                let report = report.fail(
                    console,
                    NightlyError::Container {
                        name: name.clone(),
                        why: err.to_string(),
                    },
                );
                let _ = e.stop_container(&name, Duration::from_secs(10));
                return report;
            }
        }
    } else {
        console.line(format!(
            "[nightly] Run folders: {}/<mode>/{}/ (image name {image}, no container)",
            cfg.ci_dir.display(),
            cfg.model_name
        ));
    }
    let local = LocalExecutor::default();
    let exec: &dyn Executor = match &docker_exec {
        Some(d) => d,
        None => &local,
    };

    // §8.10: model download.
    match (&cfg.download_model, &cfg.model_path) {
        (Some(repo), None) => {
            let docker: Option<&dyn Executor> = docker_exec.as_ref().map(|d| d as &dyn Executor);
            if let Some(p) = download_model(cfg, repo, docker, console, interrupt) {
                model_path = Some(p);
                plans = cfg
                    .modes
                    .iter()
                    .map(|m| (*m, plan_for(cfg, *m, image, model_path.as_deref(), kind)))
                    .collect();
            }
        }
        (_, None) => console.line(format!(
            "[nightly] No custom model path provided. Using default model path from benchmark script for {} model.",
            cfg.model.as_str()
        )),
        (_, Some(_)) => {}
    }

    // §8.9 step 7: execution.
    console.line("[nightly] === Starting benchmark execution ===");
    let all = cfg.modes.len() > 1;
    let mut interrupted = None;
    for (mode, plan) in &plans {
        if let Err(i) = interrupt.check() {
            interrupted = Some(i);
            break;
        }
        console.line(format!(
            "[nightly] === Starting nightly {} {} benchmark ===",
            cfg.model_upper(),
            mode.as_str()
        ));
        let (code, message, folder) = match plan {
            Ok(p) => {
                if docker_exec.is_some() {
                    console.line(format!("[nightly] Launching {} inside {name}", p.binary()));
                } else {
                    console.line(format!(
                        "[nightly] Launching {} on this machine (simulated engine, no container)",
                        p.binary()
                    ));
                }
                p.run(exec, console, interrupt)
            }
            Err(e) => (1, e.clone(), None),
        };
        let title = mode.title();
        if code == 0 {
            console.line(format!(
                "[nightly] {title} benchmark finished: {message} (exit code 0)"
            ));
        } else {
            console.line(format!(
                "[nightly] {title} benchmark failed (exit code: {code}): {message}"
            ));
        }
        if all && *mode == Mode::Online {
            if code == 0 {
                console.line("[nightly] === Online benchmark script finished successfully, offline benchmark will proceed ===");
            } else {
                console.line(format!("[nightly] === Online benchmark script failed (exit code: {code}). Offline benchmark will still be attempted (GSM8K check moved to offline script). ==="));
            }
        }
        console.line(format!(
            "[nightly] === {title} benchmark dispatched for {}; check logs in {} ===",
            cfg.model_upper(),
            folder
                .as_ref()
                .map_or_else(|| name.clone(), |f| f.display().to_string())
        ));
        report.benchmarks.push(BenchmarkEnd {
            image: image.to_owned(),
            mode: *mode,
            exit_code: code,
            message,
            run_folder: folder,
        });
        if code == 130 || code == 143 {
            interrupted = interrupt.check().err();
            if interrupted.is_some() {
                break;
            }
        }
    }

    // §8.9 step 8: post-processing and Teams, unless interrupted.
    if interrupted.is_none() {
        console.line("[nightly] === Starting post-processing (CSV processing, plot generation, Teams notifications) ===");
        let plot_date = match config::tag_date(&tag) {
            Some(d) => d.to_owned(),
            None => {
                let d = today_pacific();
                console.line(format!(
                    "[nightly] WARN: tag {tag} does not end in -YYYYMMDD; using today's date {d} for plots"
                ));
                d
            }
        };
        for (mode, plan) in &plans {
            let folder = match plan {
                Ok(p) => p.plot_folder(&cfg.ci_dir, &tag),
                Err(_) => {
                    OfflinePaths::new(&cfg.ci_dir, &tag, &cfg.model_name, "unknown", "").folder
                }
            };
            let log = post::plot_log(&folder, *mode);
            if let post::StepEnd::Failed(w) =
                post::plots(cfg, *mode, &plot_date, &log, interrupt, &mut |l| {
                    console.line(l)
                })
            {
                report
                    .warnings
                    .push(format!("{} plots: {w}", mode.as_str()));
            }
            // Tonight's numbers into the store before the card reads its series from it
            // (the end-of-night ingest finds them unchanged).
            let tonight: Vec<BenchmarkEnd> = report
                .benchmarks
                .iter()
                .filter(|b| b.mode == *mode)
                .cloned()
                .collect();
            post::ingest_history(cfg, &tonight, console);
            let mut say = |l: String| {
                if l == post::TEAMS_NOT_PROVIDED {
                    console.raw(format!("{l}\n").as_bytes());
                } else {
                    console.line(l);
                }
            };
            let sent = match plan {
                Ok(Plan::Sanity(c)) => post::sanity_teams(cfg, &c.log_root, &tag, &mut say),
                _ => post::teams(cfg, *mode, &plot_date, &mut say),
            };
            if let post::StepEnd::Failed(w) = sent {
                report
                    .warnings
                    .push(format!("{} Teams: {w}", mode.as_str()));
            }
            console.line(format!(
                "[nightly] === {} post-processing completed for {} ===",
                mode.title(),
                cfg.model_upper()
            ));
        }
    }
    if interrupted.is_none() {
        interrupted = interrupt.check().err();
    }
    console.line(format!("[nightly] Completed benchmarks for image: {image}"));
    if let Some(e) = engine {
        console.line(format!(
            "[nightly] Stopping container {name} to release resources..."
        ));
        if let Err(err) = e.stop_container(&name, Duration::from_secs(10)) {
            console.line(format!("[nightly] WARN: stopping {name} failed: {err}"));
        }
    }
    if let Some(i) = interrupted {
        console.line(format!(
            "[nightly] Interrupted by {}; the night ends here",
            i.name()
        ));
        report.exit_code = i.exit_code();
        report.error = Some(NightlyError::Interrupted {
            signal: i.name(),
            code: i.exit_code(),
        });
    }
    report
}
