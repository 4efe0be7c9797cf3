//! The resolution every benchmark configuration shares, in one place: flag > environment
//! variable > default (spec benchmarks.md §0.3), the image and its `<repo>_<tag>` container,
//! the work and output dirs, the engine and executor, the simulator's extra flags, the Grok and
//! DeepSeek model identities both the online and the offline benchmarks use, and the
//! validation that collects every unusable value before one error names them all.
//!
//! Each binary family builds on it: [`crate::online::config`] (`grok-perf-online`,
//! `deepseek-perf-online`), [`crate::offline::config`] (`grok-perf-offline`,
//! `deepseek-perf-offline`) and [`crate::nightly::config`] (`perf-nightly`). The container
//! settings (`MOUNT_DIR`, `CONTAINER_SHM_SIZE`, the container's working directory) are
//! [`crate::container`]'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use const_format::concatcp;
use docker_ctl::ImageParts;
use serde::Serialize;

use crate::command::{env_pairs, split_words};
use crate::engine::{ClientImpl, Engine, ExecutorKind, Steps};
use crate::error::RunnerError;
use crate::flags::{
    self, DirFlags, EngineFlags, HardwareFlags, ImageModelFlags, LogFlags, RunOutputFlags,
    env as flag_env, heading,
};

/// Where environment variables come from (the process, or a map in tests). Empty values
/// count as unset, like bash's `${VAR:-default}`.
pub trait EnvSource {
    /// The value of `name`, `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String>;

    /// The value of `name`, else `default`.
    fn var_or(&self, name: &str, default: &str) -> String {
        self.var(name).unwrap_or_else(|| default.to_owned())
    }
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// `flag`, else the environment variable `var`, else `default`.
pub fn flag_env_or(flag: Option<&str>, env: &dyn EnvSource, var: &str, default: &str) -> String {
    flag.map(str::to_owned)
        .unwrap_or_else(|| env.var_or(var, default))
}

/// A directory from `flag`, else the environment variable `var`, else `default`, made
/// absolute against the current directory.
pub fn dir_flag_env_or(
    flag: Option<&Path>,
    env: &dyn EnvSource,
    var: &str,
    default: &str,
) -> PathBuf {
    absolute(
        &flag
            .map(Path::to_owned)
            .or_else(|| env.var(var).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(default)),
    )
}

/// Default work dir of the benchmark binaries.
pub const DEFAULT_WORK_DIR: &str = flags::defaults::WORK_DIR;

/// Flags every benchmark binary (online and offline) shares, as parsed (every value
/// optional), in their groups ([`crate::flags`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BaseOptions {
    /// `--docker_image`, `--model`.
    #[command(flatten)]
    pub image: ImageModelFlags,
    /// `--work-dir`, `--output-dir`.
    #[command(flatten)]
    pub dirs: DirFlags,
    /// `--hardware`, `--rocm-version`, `--nightly-command`.
    #[command(flatten)]
    pub hardware: HardwareFlags,
    /// `--dry-run`, `--report-json`.
    #[command(flatten)]
    pub output: RunOutputFlags,
    /// `--engine`, `--executor`.
    #[command(flatten)]
    pub engine: EngineFlags,
    /// `--verbose` (last: `--help` shows the headings in the order their first flag comes).
    #[command(flatten)]
    pub log: LogFlags,
}

/// Where and how a benchmark runs: the settings every benchmark binary resolves alike.
#[derive(Debug, Clone, Serialize)]
pub struct RunBase {
    /// The image as given.
    pub image: String,
    /// `<tag>` (§1.1).
    pub tag: String,
    /// The container name `<repo>_<tag>`.
    pub container: String,
    /// Work dir (absolute); commands run there.
    pub work_dir: PathBuf,
    /// Output root (absolute): one root for every path (fix F-18), the work dir by default.
    pub output_dir: PathBuf,
    /// Engine.
    pub engine: Engine,
    /// Executor.
    pub executor: ExecutorKind,
    /// Why this executor (`--executor`, `INSIDE_CONTAINER`, …).
    pub executor_reason: String,
    /// Programs and the step mapping.
    pub steps: Steps,
    /// Extra simulator flags.
    pub sim_args: Vec<String>,
    /// `--nightly-command`.
    pub nightly_command: Option<String>,
    /// `--hardware`.
    pub hardware: Option<String>,
    /// `--rocm-version`.
    pub rocm_version: Option<String>,
    /// Dry run.
    pub dry_run: bool,
    /// Problems found with paths and programs (fatal for a real run, notes for a dry run).
    pub problems: Vec<String>,
}

impl RunBase {
    /// True for the simulated engine.
    pub fn simulated(&self) -> bool {
        self.engine == Engine::Sim
    }

    /// `Ok` when nothing stops a real run, else the problems as one
    /// [`RunnerError::Validation`].
    pub fn check(&self) -> Result<(), RunnerError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(RunnerError::Validation(self.problems.clone()))
        }
    }

    /// Notes a model directory the real engine must find on this machine (local executor
    /// only: the docker executor finds it in the container): `Model directory not found at:
    /// <model> (<hint>)` unless `dir` is a directory.
    pub fn require_model_dir(&mut self, dir: &Path, model: &str, hint: &str) {
        if self.engine == Engine::Sglang && self.executor == ExecutorKind::Local && !dir.is_dir() {
            self.problems
                .push(format!("Model directory not found at: {model} ({hint})"));
        }
    }
}

/// What differs between the binary families when [`resolve_base`] resolves their shared
/// flags.
pub struct BaseDefaults<'a> {
    /// The positional image of the binaries that take one, used when `--docker_image` is
    /// absent (fix F-8: only a real positional argument).
    pub positional_image: Option<&'a str>,
    /// `--sim-args` as given (the family's flag; else `sim_args_var`).
    pub sim_args: Option<&'a str>,
    /// The image without `--docker_image`, a positional image or `DEFAULT_DOCKER_IMAGE`.
    pub image: &'a str,
    /// Environment variable of the extra simulator flags (`SGLCI_SIM_ARGS` online,
    /// `SGLCI_SIM_BATCH_ARGS` offline).
    pub sim_args_var: &'a str,
    /// The serving client.
    pub client: ClientImpl,
    /// The GSM8K client.
    pub gsm8k_client: ClientImpl,
    /// The problem noted when the work dir does not exist (each family keeps its wording).
    pub missing_work_dir: fn(&Path) -> String,
}

/// Resolves the flags every benchmark binary shares: image (`--docker_image`, the positional
/// image, `DEFAULT_DOCKER_IMAGE`, the default), work dir (`--work-dir`, `DEFAULT_WORK_DIR`),
/// output dir (`--output-dir`, `DEFAULT_OUTPUT_DIR`, the work dir), executor (`--executor`,
/// else [`default_executor`]), the simulator's extra flags (`--sim-args`, else
/// `d.sim_args_var`); unusable values go to `r`'s errors, a missing work dir or program to
/// [`RunBase::problems`].
pub fn resolve_base(o: &BaseOptions, r: &mut Resolver<'_>, d: &BaseDefaults<'_>) -> RunBase {
    let engine = o.engine.engine.unwrap_or(Engine::Sglang);
    let image = o
        .image
        .docker_image
        .clone()
        .or_else(|| d.positional_image.map(str::to_owned))
        .or_else(|| r.env.var(flag_env::DOCKER_IMAGE))
        .unwrap_or_else(|| d.image.to_owned());
    let parts = ImageParts::parse(&image);
    let work_dir = dir_flag_env_or(
        o.dirs.work_dir.as_deref(),
        r.env,
        flag_env::WORK_DIR,
        DEFAULT_WORK_DIR,
    );
    let output_dir = o
        .dirs
        .output_dir
        .clone()
        .or_else(|| r.env.var(flag_env::OUTPUT_DIR).map(PathBuf::from))
        .map_or_else(|| work_dir.clone(), |p| absolute(&p));
    let (executor, executor_reason) = match o.engine.executor {
        Some(e) => (e, "--executor".to_owned()),
        None => default_executor(engine, r.env),
    };
    let steps = Steps::new(engine, d.client, d.gsm8k_client);
    let var = d.sim_args_var;
    let sim_text = d.sim_args.map(str::to_owned).or_else(|| r.env.var(var));
    let sim_args = match sim_text.as_deref().map(split_words) {
        None => Vec::new(),
        Some(Ok(w)) => w,
        Some(Err(e)) => {
            r.errors.push(format!("--sim-args / {var}: {e}"));
            Vec::new()
        }
    };
    if !sim_args.is_empty() && engine != Engine::Sim {
        r.errors.push(format!(
            "--sim-args / {var} only apply to --engine=sim (unset {var} or add --engine=sim)"
        ));
    }
    let mut problems = Vec::new();
    if !work_dir.is_dir() {
        problems.push((d.missing_work_dir)(&work_dir));
    }
    for m in steps.missing_programs() {
        problems.push(RunnerError::ProgramNotFound(m.to_owned()).to_string());
    }
    let text = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    RunBase {
        tag: parts.tag.clone(),
        container: parts.container_name(),
        image,
        work_dir,
        output_dir,
        engine,
        executor,
        executor_reason,
        steps,
        sim_args,
        nightly_command: text(&o.hardware.nightly_command),
        hardware: text(&o.hardware.hardware),
        rocm_version: text(&o.hardware.rocm_version),
        dry_run: o.output.dry_run,
        problems,
    }
}

/// Which workload sizes the simulated engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SimScale {
    /// The real engine, or `--sim-full-workload`: the original sizes.
    Full,
    /// The simulated engine's default: small prompts and few requests (docs list them).
    Scaled,
}

/// Reads the environment for a resolution and collects every unusable value, so that one
/// [`RunnerError::Validation`] names them all ([`Resolver::finish`]).
pub struct Resolver<'a> {
    /// The environment.
    pub env: &'a dyn EnvSource,
    /// Which defaults the scaled numbers take ([`Resolver::scaled_num`]).
    pub scale: SimScale,
    /// Unusable values, in the order they were found.
    pub errors: Vec<String>,
}

impl<'a> Resolver<'a> {
    /// A resolver over `env` with the original sizes.
    pub fn new(env: &'a dyn EnvSource) -> Self {
        Self {
            env,
            scale: SimScale::Full,
            errors: Vec::new(),
        }
    }

    /// `flag`, else `var`, else `default`.
    pub fn s(&self, flag: Option<&String>, var: &str, default: &str) -> String {
        flag_env_or(flag.map(String::as_str), self.env, var, default)
    }

    /// A positive integer from `var`, else `default`.
    pub fn num(&mut self, var: &str, default: u32) -> u32 {
        match self.env.var(var) {
            None => default,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    self.errors
                        .push(format!("{var}={v:?} must be a positive integer"));
                    default
                }
            },
        }
    }

    /// A positive integer from `var`, with the real default and the scaled-sim default (an
    /// explicitly set variable always wins over the scaling).
    pub fn scaled_num(&mut self, var: &str, real: u32, sim: u32) -> u32 {
        let default = if self.scale == SimScale::Scaled {
            sim
        } else {
            real
        };
        self.num(var, default)
    }

    /// A space-separated list of positive integers from `var`, as written.
    pub fn words(&mut self, var: &str, default: &str) -> Vec<String> {
        let text = self.env.var_or(var, default);
        let items: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if items.is_empty() || items.iter().any(|i| !i.parse::<u32>().is_ok_and(|n| n > 0)) {
            self.errors.push(format!(
                "{var}={text:?} must be a space-separated list of positive integers"
            ));
            return default.split_whitespace().map(str::to_owned).collect();
        }
        items
    }

    /// A space-separated list of positive integers from `var`.
    pub fn numbers(&mut self, var: &str, default: &str) -> Vec<u32> {
        self.words(var, default)
            .iter()
            .filter_map(|w| w.parse().ok())
            .collect()
    }

    /// Seconds from a flag (`name` in the message), else `default`; negative or not finite
    /// is an error.
    pub fn seconds(&mut self, name: &str, v: Option<f64>, default: f64) -> Duration {
        match v {
            None => Duration::from_secs_f64(default),
            Some(x) if x.is_finite() && x >= 0.0 => Duration::from_secs_f64(x),
            Some(x) => {
                self.errors
                    .push(format!("{name}={x} must be a number of seconds >= 0"));
                Duration::from_secs_f64(default)
            }
        }
    }

    /// A time limit `name` (`v`, else `default`): a number of seconds above 0.
    pub fn positive_seconds(&mut self, name: &str, v: Option<f64>, default: f64) -> Duration {
        match v {
            Some(x) if !(x.is_finite() && x > 0.0) => {
                self.errors
                    .push(format!("{name}={x} must be a number of seconds above 0"));
                Duration::from_secs_f64(default)
            }
            v => self.seconds(name, v, default),
        }
    }

    /// `Ok` when every value was usable, else one [`RunnerError::Validation`] naming them
    /// all.
    pub fn finish(&mut self) -> Result<(), RunnerError> {
        let errors = std::mem::take(&mut self.errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(RunnerError::Validation(errors))
        }
    }
}

/// The host name (`/proc/sys/kernel/hostname`, `HOSTNAME`, `localhost`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// `p` made absolute against the current directory (unchanged when it already is).
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        std::env::current_dir().map_or_else(|_| p.to_owned(), |d| d.join(p))
    }
}

/// The executor when none is given: local inside a container (`INSIDE_CONTAINER`, a
/// container marker, or no `docker` on `PATH`, as the original decided) and for the
/// simulated engine; docker otherwise.
pub fn default_executor(engine: Engine, env: &dyn EnvSource) -> (ExecutorKind, String) {
    if engine == Engine::Sim {
        return (
            ExecutorKind::Local,
            "simulated engine runs on this machine".to_owned(),
        );
    }
    if let Some(reason) =
        docker_ctl::inside_container_with(env.var("INSIDE_CONTAINER").as_deref(), Path::new("/"))
    {
        return (
            ExecutorKind::Local,
            format!("inside a container ({reason:?})"),
        );
    }
    let docker_on_path =
        crate::engine::find_on_path("docker", std::env::var_os("PATH").as_deref()).is_some();
    if docker_on_path {
        (ExecutorKind::Docker, "on a host with docker".to_owned())
    } else {
        (
            ExecutorKind::Local,
            "no docker on PATH: already inside the container".to_owned(),
        )
    }
}

/// Grok-1 or Grok-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GrokType {
    /// `grok1`.
    Grok1,
    /// `grok2`.
    Grok2,
}

impl GrokType {
    /// `grok1` / `grok2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grok1 => "grok1",
            Self::Grok2 => "grok2",
        }
    }

    /// The environment of the sglang process serving the model's weights (§1.6), online and
    /// offline.
    pub fn environment(self) -> Vec<(String, String)> {
        env_pairs(match self {
            Self::Grok1 => &[("SGLANG_USE_AITER", "1"), ("SGLANG_INT4_WEIGHT", "1")],
            Self::Grok2 => &[
                ("RCCL_MSCCL_ENABLE", "0"),
                ("SGLANG_USE_AITER", "1"),
                ("SGLANG_INT4_WEIGHT", "0"),
            ],
        })
    }
}

/// The model flags of the Grok binaries, online and offline (`--model` is in
/// [`BaseOptions`]), as parsed.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GrokModelOptions {
    /// `--model-type`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "TYPE",
        help = concatcp!(
            "`grok1` or `grok2` [env: ", flag_env::MODEL_TYPE,
            "] [default: detected from --model (`grok-2`/`grok2`, `grok-1`/`grok1`), else grok1]"
        )
    )]
    pub model_type: Option<String>,
    /// `--tokenizer`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "PATH",
        help = concatcp!(
            "Tokenizer (online: of server and client; offline: the value of --tokenizer-path) \
             [env: ", flag_env::TOKENIZER, "] [default: Grok-1: the model path online, ",
            crate::offline::config::GROK1_OFFLINE_TOKENIZER, " offline; Grok-2: \
             <model>/tokenizer.tok.json for a custom model, else ",
            crate::online::config::GROK2_TOKENIZER, " online, ",
            crate::offline::config::GROK2_OFFLINE_TOKENIZER, " offline]"
        )
    )]
    pub tokenizer: Option<String>,
    /// `--model-name` (new offline, as online: fix F-17).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "NAME",
        help = "`<MODEL_NAME>` of folders and files [env: GROK_MODEL_NAME / GROK2_MODEL_NAME, \
                then BENCHMARK_MODEL_NAME] [default: GROK1 / GROK2]"
    )]
    pub model_name: Option<String>,
}

/// The Grok model type of `o` and `model` (see [`grok_type`]) with the console notes of its
/// resolution, each starting with `prefix`: the type detected from the path when it is one
/// of `noted_detections`, then the configuration used.
pub fn grok_type_with_notes(
    r: &mut Resolver<'_>,
    o: &GrokModelOptions,
    model: Option<&str>,
    prefix: &str,
    noted_detections: &[&str],
) -> (GrokType, Vec<String>) {
    let mut notes = Vec::new();
    let (model_type, detected) = grok_type(r, o.model_type.as_deref(), model);
    if let (Some(d), Some(m)) = (detected, model)
        && noted_detections.contains(&d)
    {
        notes.push(format!(
            "{prefix} Auto-detected model type: {d} from path: {m}"
        ));
    }
    notes.push(match model_type {
        GrokType::Grok1 => format!("{prefix} Using Grok 1 configuration"),
        GrokType::Grok2 => format!("{prefix} Using Grok 2 configuration"),
    });
    (model_type, notes)
}

/// The Grok model type (§2.3, §4.3): `--model-type`; else `DEFAULT_MODEL_TYPE` (`grok1`)
/// unless the `--model` path names a type (`grok-2`/`grok2`, `grok-1`/`grok1`). Returns the
/// type and the type detected from the path (for the caller's note); an unknown type is an
/// error (fix F-32: it no longer silently means Grok-1).
pub fn grok_type(
    r: &mut Resolver<'_>,
    flag: Option<&str>,
    model: Option<&str>,
) -> (GrokType, Option<&'static str>) {
    let mut detected = None;
    let text = match flag {
        Some(t) => t.to_owned(),
        None => {
            detected = model.and_then(|m| {
                if m.contains("grok-2") || m.contains("grok2") {
                    Some("grok2")
                } else if m.contains("grok-1") || m.contains("grok1") {
                    Some("grok1")
                } else {
                    None
                }
            });
            detected.map_or_else(
                || r.env.var_or(flag_env::MODEL_TYPE, "grok1"),
                str::to_owned,
            )
        }
    };
    let t = match text.as_str() {
        "grok1" => GrokType::Grok1,
        "grok2" => GrokType::Grok2,
        other => {
            r.errors.push(format!(
                "--model-type / DEFAULT_MODEL_TYPE={other:?} is not a Grok model type; use grok1 or grok2"
            ));
            GrokType::Grok1
        }
    };
    (t, detected)
}

/// `<MODEL_NAME>` and `<VARIANT>` of a Grok online run (§1.7): `--model-name`, else
/// `GROK_MODEL_NAME` / `GROK2_MODEL_NAME` (fix F-32: a type-specific variable wins over the
/// shared `BENCHMARK_MODEL_*` one), else `BENCHMARK_MODEL_NAME`, else `GROK1` / `GROK2`;
/// variant likewise (`MOE-I4F8` / `FP8`), with `-SIM` appended on the simulated engine. The
/// offline GSM8K gate finds the online run folder with it (fix F-14).
pub fn grok_online_identity(
    model_type: GrokType,
    model_name: Option<&str>,
    env: &dyn EnvSource,
    simulated: bool,
) -> (String, String) {
    let (name_var, variant_var, name_default, variant_default) = match model_type {
        GrokType::Grok1 => ("GROK_MODEL_NAME", "GROK_MODEL_VARIANT", "GROK1", "MOE-I4F8"),
        GrokType::Grok2 => ("GROK2_MODEL_NAME", "GROK2_MODEL_VARIANT", "GROK2", "FP8"),
    };
    let name = model_name
        .map(str::to_owned)
        .or_else(|| env.var(name_var))
        .unwrap_or_else(|| env.var_or("BENCHMARK_MODEL_NAME", name_default));
    let variant = variant_of(
        env.var(variant_var)
            .unwrap_or_else(|| env.var_or("BENCHMARK_MODEL_VARIANT", variant_default)),
        simulated,
    );
    (name, variant)
}

/// `variant`, with `-SIM` appended on the simulated engine (every file a simulated run
/// writes says so).
pub fn variant_of(mut variant: String, simulated: bool) -> String {
    if simulated {
        variant.push_str("-SIM");
    }
    variant
}

/// The DeepSeek default model.
pub const DEEPSEEK_MODEL: &str = "/mnt/raid/models/huggingface/deepseek-ai/DeepSeek-V3-0324";

/// The model flags of the DeepSeek binaries, online and offline (`--model` is in
/// [`BaseOptions`]), as parsed.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeepSeekModelOptions {
    /// `--model-name`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "NAME",
        help = concatcp!(
            "`<MODEL_NAME>` of folders and files [env: ", flag_env::DEEPSEEK_MODEL_NAME,
            "] [default: ", flags::defaults::DEEPSEEK_MODEL_NAME, "]"
        )
    )]
    pub model_name: Option<String>,
    /// `--hf-model-id`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "ID",
        help = concatcp!(
            "HuggingFace id for --download-model [env: ", flag_env::HF_MODEL_ID,
            "] [default: ", flags::defaults::DEEPSEEK_HF_MODEL_ID, "]"
        )
    )]
    pub hf_model_id: Option<String>,
    /// `--download-model`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        help = "Download (or resume/verify) the model with huggingface-cli (or hf) into --model \
                first when needed; offline after a free-space check (SGLCI_MIN_FREE_GB \
                overrides the space needed)"
    )]
    pub download_model: bool,
}

/// The model of a DeepSeek run, online or offline (§3.2, §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepSeekModel {
    /// Model path: `--model`, `DEFAULT_MODEL_PATH`, [`DEEPSEEK_MODEL`].
    pub model: String,
    /// `<MODEL_NAME>`: `--model-name`, `DEFAULT_MODEL_NAME`, `DeepSeek-V3-0324`.
    pub model_name: String,
    /// `--hf-model-id`, `DEFAULT_HF_MODEL_ID`, `deepseek-ai/DeepSeek-V3-0324`.
    pub hf_model_id: String,
    /// `<VARIANT>`: `BENCHMARK_MODEL_VARIANT`, `FP8`; `-SIM` on the simulator.
    pub variant: String,
}

impl DeepSeekModel {
    /// Resolves the model of `--model` (`model`), `--model-name` and `--hf-model-id`.
    pub fn resolve(
        r: &Resolver<'_>,
        model: Option<&String>,
        o: &DeepSeekModelOptions,
        simulated: bool,
    ) -> Self {
        Self {
            model: r.s(model, flag_env::MODEL_PATH, DEEPSEEK_MODEL),
            model_name: r.s(
                o.model_name.as_ref(),
                flag_env::DEEPSEEK_MODEL_NAME,
                flags::defaults::DEEPSEEK_MODEL_NAME,
            ),
            hf_model_id: r.s(
                o.hf_model_id.as_ref(),
                flag_env::HF_MODEL_ID,
                flags::defaults::DEEPSEEK_HF_MODEL_ID,
            ),
            variant: variant_of(r.env.var_or("BENCHMARK_MODEL_VARIANT", "FP8"), simulated),
        }
    }

    /// The hint of a missing model directory.
    pub fn missing_hint(&self) -> String {
        format!(
            "pass --model, or --download-model to fetch {}",
            self.hf_model_id
        )
    }
}

/// The aiter variable for `image` (§1.2): `SGLANG_AITER_MOE` for `lmsysorg/sglang:v0.x`
/// with x < 4 and `v0.4.p` with p < 7, else `SGLANG_USE_AITER`.
pub fn aiter_var(image: &str) -> &'static str {
    const NEW: &str = "SGLANG_USE_AITER";
    let Some(at) = image.find("lmsysorg/sglang:v") else {
        return NEW;
    };
    let rest = &image[at + "lmsysorg/sglang:v".len()..];
    let nums: Vec<u32> = rest
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map_while(|p| p.parse().ok())
        .collect();
    match nums.as_slice() {
        [0, minor, _] if *minor < 4 => "SGLANG_AITER_MOE",
        [0, 4, patch] if *patch < 7 => "SGLANG_AITER_MOE",
        _ => NEW,
    }
}

/// Helpers of the configuration tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    /// An environment holding `pairs`.
    pub(crate) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Options as parsed: the defaults, changed by `f`.
    pub(crate) fn options<T: Default>(f: impl FnOnce(&mut T)) -> T {
        let mut o = T::default();
        f(&mut o);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::testing::env;
    use super::*;

    #[test]
    fn aiter_variable_by_image() {
        assert_eq!(
            aiter_var("lmsysorg/sglang:v0.4.6.post1-rocm630"),
            "SGLANG_AITER_MOE"
        );
        assert_eq!(aiter_var("lmsysorg/sglang:v0.3.9"), "SGLANG_AITER_MOE");
        assert_eq!(
            aiter_var("lmsysorg/sglang:v0.4.7-rocm630"),
            "SGLANG_USE_AITER"
        );
        assert_eq!(aiter_var("lmsysorg/sglang:v0.5.0"), "SGLANG_USE_AITER");
        assert_eq!(
            aiter_var("rocm/sgl-dev:v0.4.1-rocm630-mi30x-20250101"),
            "SGLANG_USE_AITER"
        );
    }

    #[test]
    fn lists_and_numbers_are_validated_together() {
        let e = env(&[("L", "1 x"), ("N", "0"), ("OK", "4 8")]);
        let mut r = Resolver::new(&e);
        assert_eq!(r.words("OK", "1"), ["4", "8"]);
        assert_eq!(r.numbers("L", "2 3"), [2, 3], "the default after an error");
        assert_eq!(r.num("N", 5), 5);
        r.scale = SimScale::Scaled;
        assert_eq!(r.scaled_num("UNSET", 100, 7), 7);
        let msg = r.finish().unwrap_err().to_string();
        assert!(
            msg.starts_with("found 2 validation error(s)")
                && msg.contains("L=\"1 x\"")
                && msg.contains("N=\"0\""),
            "{msg}"
        );
        assert!(r.finish().is_ok(), "finish takes the errors");
    }

    #[test]
    fn flag_beats_env_beats_default_and_dirs_are_absolute() {
        let e = env(&[("V", "from-env"), ("D", "rel")]);
        assert_eq!(flag_env_or(Some("flag"), &e, "V", "d"), "flag");
        assert_eq!(flag_env_or(None, &e, "V", "d"), "from-env");
        assert_eq!(flag_env_or(None, &e, "UNSET", "d"), "d");
        let d = dir_flag_env_or(None, &e, "D", "/x");
        assert!(d.is_absolute() && d.ends_with("rel"), "{}", d.display());
        assert_eq!(dir_flag_env_or(None, &e, "UNSET", "/x"), Path::new("/x"));
    }
}
