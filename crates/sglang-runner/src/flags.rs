//! Every flag the benchmark binaries share, defined once: one clap `Args` struct per group
//! (image and model, directories, hardware, engine and executor, output, Teams webhook),
//! flattened into each binary that takes it. Each flag's help text, environment variable and
//! default are stated here, next to each other, from the constants the resolution in
//! [`crate::config`] uses ([`env`], [`defaults`]), so `--help` and the behaviour cannot
//! drift apart (the model is ripgrep's flag definitions).
//!
//! Every value is optional as parsed: the resolution applies flag > environment > default
//! (spec benchmarks.md §0.3) once, for the binaries and for perf-nightly, which builds the
//! same structs in-process.

use std::path::PathBuf;

use const_format::concatcp;

use crate::engine::{ClientImpl, Engine, ExecutorKind};

/// The `--help` headings every binary groups its flags under, in this order (a binary shows
/// the ones it has): the original script's flags, the port's own, engine and executor,
/// logging. Shared groups set theirs per flag with `help_heading`, so a group's flags land
/// under the same heading in every binary.
pub mod heading {
    /// Flags the original script (or program) took, same spelling.
    pub const ORIGINAL: &str = "Original flags";
    /// Flags the port added.
    pub const ADDITIONS: &str = "Additions";
    /// Which engine performs the steps and where they run.
    pub const ENGINE: &str = "Engine and executor";
    /// Logging.
    pub const LOGGING: &str = "Logging";
    /// The four headings in the order `--help` shows them.
    pub const ORDER: [&str; 4] = [ORIGINAL, ADDITIONS, ENGINE, LOGGING];
}

/// Names of the environment variables the shared flags fall back to.
pub mod env {
    /// `--docker_image`.
    pub const DOCKER_IMAGE: &str = "DEFAULT_DOCKER_IMAGE";
    /// `--model`.
    pub const MODEL_PATH: &str = "DEFAULT_MODEL_PATH";
    /// `--work-dir`.
    pub const WORK_DIR: &str = "DEFAULT_WORK_DIR";
    /// `--output-dir`.
    pub const OUTPUT_DIR: &str = "DEFAULT_OUTPUT_DIR";
    /// `--model-type` (Grok).
    pub const MODEL_TYPE: &str = "DEFAULT_MODEL_TYPE";
    /// `--tokenizer` (Grok).
    pub const TOKENIZER: &str = "DEFAULT_TOKENIZER_NAME";
    /// `--model-name` (DeepSeek).
    pub const DEEPSEEK_MODEL_NAME: &str = "DEFAULT_MODEL_NAME";
    /// `--hf-model-id` (DeepSeek).
    pub const HF_MODEL_ID: &str = "DEFAULT_HF_MODEL_ID";
    /// `--gsm8k-script`.
    pub const GSM8K_SCRIPT: &str = "DEFAULT_GSM8K_SCRIPT";
    /// `--threshold`.
    pub const GSM8K_THRESHOLD: &str = "DEFAULT_GSM8K_THRESHOLD";
    /// `--sim-args` of the online benchmarks.
    pub const SIM_ARGS: &str = "SGLCI_SIM_ARGS";
    /// `--sim-args` of the offline benchmarks.
    pub const SIM_BATCH_ARGS: &str = "SGLCI_SIM_BATCH_ARGS";
}

/// Defaults of the shared flags.
pub mod defaults {
    /// `--docker_image` of the Grok benchmarks.
    pub const GROK_IMAGE: &str = "lmsysorg/sglang:v0.4.7-rocm630";
    /// `--docker_image` of the DeepSeek benchmarks.
    pub const DEEPSEEK_IMAGE: &str = "rocm/sgl-dev:v0.4.9.post2-rocm630-mi30x-20250716";
    /// `--work-dir`.
    pub const WORK_DIR: &str = "/mnt/raid/michael/sglang-ci";
    /// `--model-name` of the DeepSeek benchmarks.
    pub const DEEPSEEK_MODEL_NAME: &str = "DeepSeek-V3-0324";
    /// `--hf-model-id` of the DeepSeek benchmarks.
    pub const DEEPSEEK_HF_MODEL_ID: &str = "deepseek-ai/DeepSeek-V3-0324";
    /// `--gsm8k-script` (a path inside the container).
    pub const GSM8K_SCRIPT: &str = "/sgl-workspace/sglang/benchmark/gsm8k/bench_sglang.py";
    /// `--port`.
    pub const PORT: u16 = 30000;
}

/// Value parser of a server port: 1 to 65535 (port 0 would make the run wait the whole
/// server timeout for a server nobody can reach).
pub fn port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("expected a port number from 1 to 65535, got `{s}`")),
    }
}

/// Value parser of a time limit: a finite number of seconds above 0.
pub fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("expected a number of seconds above 0, got `{s}`")),
    }
}

/// Value parser of a pause: a finite number of seconds, 0 or more.
pub fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!(
            "expected a number of seconds (0 or more), got `{s}`"
        )),
    }
}

/// `--engine` value parser.
pub(crate) fn engine(s: &str) -> Result<Engine, String> {
    Engine::parse(s).ok_or_else(|| format!("expected `sglang` or `sim`, got `{s}`"))
}

/// `--executor` value parser.
fn executor(s: &str) -> Result<ExecutorKind, String> {
    ExecutorKind::parse(s).ok_or_else(|| format!("expected `local` or `docker`, got `{s}`"))
}

/// `--client` / `--gsm8k-client` value parser.
pub(crate) fn client(s: &str) -> Result<ClientImpl, String> {
    ClientImpl::parse(s).ok_or_else(|| format!("expected `python` or `native`, got `{s}`"))
}

/// The image that runs and the model it serves.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ImageModelFlags {
    /// `--docker_image` / `--docker-image`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "IMAGE",
        help = concatcp!(
            "Docker image; its tag names the run folder (also --docker_image) [env: ",
            env::DOCKER_IMAGE, "] [default: the positional IMAGE where the binary takes one, else ",
            defaults::GROK_IMAGE, " (Grok), ", defaults::DEEPSEEK_IMAGE, " (DeepSeek)]"
        )
    )]
    pub docker_image: Option<String>,

    /// `--model` / `--model-path`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        alias = "model-path",
        value_name = "PATH",
        help = concatcp!(
            "Model weights directory (also --model-path) [env: ", env::MODEL_PATH,
            "] [default: per model, see the binary's docs page]"
        )
    )]
    pub model: Option<String>,
}

/// Where commands run and where results go.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DirFlags {
    /// `--work-dir`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "DIR",
        help = concatcp!(
            "Work directory; the benchmark commands run there [env: ", env::WORK_DIR,
            "] [default: ", defaults::WORK_DIR, "]"
        )
    )]
    pub work_dir: Option<PathBuf>,

    /// `--output-dir`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "DIR",
        help = concatcp!(
            "Output root: run folders go to <output>/online/<MODEL_NAME>/ and \
             <output>/offline/<MODEL_NAME>/ [env: ", env::OUTPUT_DIR, "] [default: the work dir]"
        )
    )]
    pub output_dir: Option<PathBuf>,
}

/// What the orchestrator (perf-nightly) tells a benchmark about the night.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HardwareFlags {
    /// `--hardware`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "HW",
        help = "Hardware (`mi30x`, `mi35x`), written to the timing summary; Grok online skips \
                request rate 16 when it contains `mi35`; DeepSeek online writes MTP artifacts \
                only on `mi35x` [default: none]"
    )]
    pub hardware: Option<String>,

    /// `--rocm-version`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "TEXT",
        help = "ROCm version text for the timing summary (`rocm700` also selects \
                SGLANG_USE_ROCM700A for the DeepSeek DP-attention server) [default: none]"
    )]
    pub rocm_version: Option<String>,

    /// `--nightly-command`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "TEXT",
        allow_hyphen_values = true,
        help = "The orchestrator's command line, written to the timing summary's `Command:` \
                line (and shown by --dry-run) with secrets masked [default: none]"
    )]
    pub nightly_command: Option<String>,
}

/// Which program performs each step, and where it runs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EngineFlags {
    /// `--engine`.
    #[arg(
        help_heading = heading::ENGINE,
        long,
        value_name = "ENGINE",
        value_parser = engine,
        help = "Engine: `sglang` (python3 -m sglang.*) or `sim` (sglang-sim, and sglang-bench \
                for the online clients, on this machine; every output is marked simulated) \
                [default: sglang]"
    )]
    pub engine: Option<Engine>,

    /// `--executor`.
    #[arg(
        help_heading = heading::ENGINE,
        long,
        value_name = "EXECUTOR",
        value_parser = executor,
        help = "Where commands run: `local` (this machine) or `docker` (the `<repo>_<tag>` \
                container of --docker_image, created or reused with the original's settings \
                and mounts; the image is pulled when absent) [default: local inside a container \
                (INSIDE_CONTAINER, a container marker, or no docker on PATH) and for \
                --engine=sim; docker otherwise]"
    )]
    pub executor: Option<ExecutorKind>,
}

/// What a run prints or writes about itself.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunOutputFlags {
    /// `--dry-run`.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        help = "Print every setting, path and command line, then exit 0 without running or \
                writing anything"
    )]
    pub dry_run: bool,

    /// `--report-json`.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "FILE",
        help = "Also write the run's outcome, exit code, paths and time accounting as JSON to \
                FILE at the end; `-` is stdout, and the console lines then go to stderr"
    )]
    pub report_json: Option<PathBuf>,
}

/// Logging (its own group: `--help` shows it last, after engine and executor).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LogFlags {
    /// `-v` / `--verbose`.
    #[arg(
        short,
        long,
        help_heading = heading::LOGGING,
        help = "Debug logging on stderr (also SGLCI_LOG / RUST_LOG)"
    )]
    pub verbose: bool,
}

/// The Teams webhook of the binaries that alert (perf-nightly, nightly-image-check).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TeamsWebhookFlags {
    /// `--teams-webhook-url` / `--teams-webhook`: `Some("")` when given without a value.
    #[arg(
        long,
        visible_alias = "teams-webhook",
        value_name = "URL",
        num_args = 0..=1,
        default_missing_value = "",
        help_heading = heading::ORIGINAL,
        help = "Teams webhook URL; enables the Teams notification (also --teams-webhook); an \
                empty value disables it. Never printed"
    )]
    pub teams_webhook_url: Option<String>,
}

impl TeamsWebhookFlags {
    /// The URL when one was given with a value.
    pub fn url(&self) -> Option<&str> {
        self.teams_webhook_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
    }
}

/// Help of `--sim-args` of the online benchmarks.
pub const SIM_ARGS_HELP: &str = concatcp!(
    "Extra flags for `sglang-sim launch-server`, one string (`--sim-args=\"--sim-profile zero\"`); \
     only with --engine=sim [env: ",
    env::SIM_ARGS,
    "] [default: none]"
);

/// Help of `--sim-args` of the offline benchmarks.
pub const SIM_BATCH_ARGS_HELP: &str = concatcp!(
    "Extra flags for `sglang-sim bench-one-batch`, one string \
     (`--sim-args=\"--sim-oom-batch-size 256\"`); only with --engine=sim [env: ",
    env::SIM_BATCH_ARGS,
    "] [default: none]"
);
