//! Flags of the offline benchmark binaries (`grok-perf-offline`, `deepseek-perf-offline`),
//! defined once, and their shared end: resolve the configuration, print the dry run or run
//! the plan, write `--report-json`, map the outcome to the exit code documented in
//! docs/grok-perf-offline.md and docs/deepseek-perf-offline.md.
//!
//! Environment fallbacks (`DEFAULT_DOCKER_IMAGE`, `NORMAL_BATCH_SIZES`, …) and defaults are
//! applied in one place, `sglang_runner::offline::config`; the help texts name them.

use std::path::PathBuf;
use std::process::ExitCode;

use sglang_runner::config::{BaseOptions, GrokModelOptions, ProcessEnv};
use sglang_runner::offline::config::{
    DeepSeekOfflineOptions, GrokOfflineOptions, OfflineOptions, resolve_deepseek_offline,
    resolve_grok_offline,
};
use sglang_runner::offline::{deepseek, grok};

use crate::bench;
use crate::engine_args::EngineArgs;
use crate::exit::Fatal;
use crate::model_args::DeepSeekModelArgs;

/// Flags both offline binaries have.
#[derive(Debug, Clone, clap::Args)]
pub struct OfflineCommonArgs {
    /// Docker image; its tag names the run folder (also `--docker_image`) [env:
    /// DEFAULT_DOCKER_IMAGE] [default: the positional IMAGE, else lmsysorg/sglang:v0.4.7-rocm630
    /// (Grok), rocm/sgl-dev:v0.4.9.post2-rocm630-mi30x-20250716 (DeepSeek)].
    #[arg(long, value_name = "IMAGE")]
    pub docker_image: Option<String>,

    /// The image, when --docker_image is not given.
    #[arg(value_name = "IMAGE")]
    pub image: Option<String>,

    /// Model weights directory (also `--model-path`) [env: DEFAULT_MODEL_PATH] [default: per
    /// model, see the docs page].
    #[arg(long, alias = "model-path", value_name = "PATH")]
    pub model: Option<String>,

    /// Work directory; bench_one_batch runs there [env: DEFAULT_WORK_DIR] [default:
    /// /mnt/raid/michael/sglang-ci].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Output root; run folders go to <output>/offline/<MODEL_NAME>/ and the GSM8K gate reads
    /// <output>/online/<MODEL_NAME>/ [env: DEFAULT_OUTPUT_DIR] [default: the work dir].
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// `--engine`, `--executor` (shared with the online binaries).
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Extra flags for `sglang-sim bench-one-batch`, one string
    /// (`--sim-args="--sim-oom-batch-size 256"`); only with --engine=sim [env:
    /// SGLCI_SIM_BATCH_ARGS] [default: none].
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub sim_args: Option<String>,

    /// Seconds one grid point may take; past it bench_one_batch is stopped and the point
    /// gets an NA row [default: 7200; 300 with --engine=sim].
    #[arg(long, value_name = "SECS")]
    pub point_timeout: Option<f64>,

    /// Accepted from the orchestrator; shown by --dry-run with secrets masked.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub nightly_command: Option<String>,

    /// Accepted from the orchestrator (`mi30x`, `mi35x`); shown by --dry-run.
    #[arg(long, value_name = "HW")]
    pub hardware: Option<String>,

    /// Accepted from the orchestrator; shown by --dry-run.
    #[arg(long, value_name = "TEXT")]
    pub rocm_version: Option<String>,

    /// Accepted from the orchestrator and ignored (as the original did).
    #[arg(long, value_name = "DIR")]
    pub current_dir: Option<String>,

    /// Print every setting, path and command line and what the GSM8K gate would decide, then
    /// exit 0 without running or writing anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Also write the run's outcome, exit code, points and time accounting as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// Debug logging on stderr (also SGLCI_LOG / RUST_LOG).
    #[arg(short, long)]
    pub verbose: bool,
}

impl OfflineCommonArgs {
    /// The runner's low-level options.
    pub fn options(&self) -> OfflineOptions {
        OfflineOptions {
            base: BaseOptions {
                docker_image: self.docker_image.clone(),
                positional_image: self.image.clone(),
                model: self.model.clone(),
                work_dir: self.work_dir.clone(),
                output_dir: self.output_dir.clone(),
                engine: self.engine.engine(),
                executor: self.engine.executor(),
                sim_args: self.sim_args.clone(),
                nightly_command: self.nightly_command.clone(),
                hardware: self.hardware.clone(),
                rocm_version: self.rocm_version.clone(),
                dry_run: self.dry_run,
            },
            point_timeout: self.point_timeout,
        }
    }
}

/// `grok-perf-offline` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct GrokOfflineArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: OfflineCommonArgs,

    /// `normal` (batch sizes 1..256 at input 1024 / output 128), `long_context` (inputs
    /// 8192 16384 32768, output 10) or `dummy` (dummy weights, torch compile, input 256 /
    /// output 4096, batch 2) [default: normal].
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,

    /// `grok1` or `grok2` [env: DEFAULT_MODEL_TYPE] [default: detected from --model
    /// (`grok-2`/`grok2`, `grok-1`/`grok1`), else grok1].
    #[arg(long, value_name = "TYPE")]
    pub model_type: Option<String>,

    /// Value of --tokenizer-path [env: DEFAULT_TOKENIZER_NAME] [default: Grok-1:
    /// Xenova/grok-1-tokenizer; Grok-2: <model>/tokenizer.tok.json for a custom model, else
    /// /data2/grok-2/tokenizer.tok.json].
    #[arg(long, value_name = "NAME")]
    pub tokenizer: Option<String>,

    /// Model of `dummy` mode [env: DEFAULT_DUMMY_MODEL_PATH] [default:
    /// /mnt/raid/models/dummy_prod1/].
    #[arg(long, value_name = "PATH")]
    pub dummy_model: Option<String>,

    /// `<MODEL_NAME>` of folders and files [env: GROK_MODEL_NAME / GROK2_MODEL_NAME, then
    /// BENCHMARK_MODEL_NAME] [default: GROK1 / GROK2].
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
}

/// `deepseek-perf-offline` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DeepSeekOfflineArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: OfflineCommonArgs,

    /// `--model-name`, `--hf-model-id`.
    #[command(flatten)]
    pub model: DeepSeekModelArgs,

    /// Download (or resume/verify) the model with huggingface-cli (or hf) into --model
    /// first, after a free-space check [env: SGLCI_MIN_FREE_GB overrides the space needed].
    #[arg(long)]
    pub download_model: bool,
}

/// Resolves, then dry-runs or runs the Grok offline benchmark; returns the exit code.
pub fn run_grok_offline(args: &GrokOfflineArgs) -> Result<ExitCode, Fatal> {
    let c = &args.common;
    let o = GrokOfflineOptions {
        common: c.options(),
        mode: args.mode.clone(),
        grok: GrokModelOptions {
            model_type: args.model_type.clone(),
            tokenizer: args.tokenizer.clone(),
            model_name: args.model_name.clone(),
        },
        dummy_model: args.dummy_model.clone(),
    };
    bench::resolve_and_run(c.verbose, c.dry_run, c.report_json.as_deref(), || {
        resolve_grok_offline(&o, &ProcessEnv).map(|cfg| grok::plan(&cfg))
    })
}

/// Resolves, then dry-runs or runs the DeepSeek offline benchmark; returns the exit code.
pub fn run_deepseek_offline(args: &DeepSeekOfflineArgs) -> Result<ExitCode, Fatal> {
    let c = &args.common;
    let o = DeepSeekOfflineOptions {
        common: c.options(),
        deepseek: args.model.options(args.download_model),
    };
    bench::resolve_and_run(c.verbose, c.dry_run, c.report_json.as_deref(), || {
        resolve_deepseek_offline(&o, &ProcessEnv).map(|cfg| deepseek::plan(&cfg))
    })
}
