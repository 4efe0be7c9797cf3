//! Flags of the online benchmark binaries (`grok-perf-online`, `deepseek-perf-online`,
//! `run-grok-benchmark`), defined once, and the shared end of those binaries: resolve the
//! configuration, print the dry run or run the plan, write `--report-json`, map the outcome
//! to the exit code documented in docs/grok-perf-online.md and docs/deepseek-perf-online.md.
//!
//! Environment fallbacks (`DEFAULT_DOCKER_IMAGE`, `REQUEST_RATES`, …) and defaults are applied
//! in one place, `sglang_runner::config`; the help texts name them.

use std::path::PathBuf;
use std::process::ExitCode;

use sglang_runner::config::{BaseOptions, GrokModelOptions, ProcessEnv};
use sglang_runner::engine::ClientImpl;
use sglang_runner::online::config::{
    CommonOptions, DeepSeekOptions, GrokOptions, resolve_deepseek, resolve_grok,
};
use sglang_runner::online::deepseek::DeepSeekPlan;
use sglang_runner::online::grok::GrokPlan;
use sglang_runner::paths::DeepSeekMode;

use crate::bench;
use crate::exit::Fatal;
use crate::model_args::DeepSeekModelArgs;

/// Flags every online benchmark binary has.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Docker image; its tag names the run folder (also `--docker_image`) [env:
    /// DEFAULT_DOCKER_IMAGE] [default: lmsysorg/sglang:v0.4.7-rocm630 (Grok),
    /// rocm/sgl-dev:v0.4.9.post2-rocm630-mi30x-20250716 (DeepSeek)].
    #[arg(long, value_name = "IMAGE")]
    pub docker_image: Option<String>,

    /// Model weights directory (also `--model-path`) [env: DEFAULT_MODEL_PATH] [default: per
    /// model, see the docs page].
    #[arg(long, alias = "model-path", value_name = "PATH")]
    pub model: Option<String>,

    /// Work directory; commands run there [env: DEFAULT_WORK_DIR] [default:
    /// /mnt/raid/michael/sglang-ci].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Output root; run folders go to <output>/online/<MODEL_NAME>/ [env:
    /// DEFAULT_OUTPUT_DIR] [default: the work dir].
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// GSM8K client script, a path inside the container [env: DEFAULT_GSM8K_SCRIPT]
    /// [default: /sgl-workspace/sglang/benchmark/gsm8k/bench_sglang.py].
    #[arg(long, value_name = "PATH")]
    pub gsm8k_script: Option<String>,

    /// GSM8K pass threshold, printed verbatim [env: DEFAULT_GSM8K_THRESHOLD] [default: 0.8
    /// (Grok), 0.93 (DeepSeek)].
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
    pub threshold: Option<String>,

    /// The orchestrator's command line, written to the timing summary's `Command:` line with
    /// secrets masked [default: none].
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub nightly_command: Option<String>,

    /// Hardware (`mi30x`, `mi35x`), written to the timing summary; Grok skips request rate
    /// 16 when it contains `mi35`; DeepSeek writes MTP artifacts only on `mi35x` [default:
    /// none].
    #[arg(long, value_name = "HW")]
    pub hardware: Option<String>,

    /// ROCm version text for the timing summary (`rocm700` also selects
    /// SGLANG_USE_ROCM700A for the DeepSeek DP-attention server) [default: none].
    #[arg(long, value_name = "TEXT")]
    pub rocm_version: Option<String>,

    /// `--engine`, `--executor` (shared with the offline binaries).
    #[command(flatten)]
    pub engine: crate::engine_args::EngineArgs,

    /// Serving client: `python` (python3 -m sglang.bench_serving) or `native` (sglang-bench
    /// serving) [default: python; native with --engine=sim].
    #[arg(long, value_name = "CLIENT", value_parser = ["python", "native"])]
    pub client: Option<String>,

    /// GSM8K client: `python` (the --gsm8k-script) or `native` (sglang-bench gsm8k, reads
    /// --gsm8k-data) [default: python; native with --engine=sim].
    #[arg(long, value_name = "CLIENT", value_parser = ["python", "native"])]
    pub gsm8k_client: Option<String>,

    /// GSM8K test set (JSON Lines) for the native GSM8K client [env: SGLCI_GSM8K_DATA, then
    /// SGLCI_SIM_GSM8K_DATA] [default: ../shared/data/gsm8k/test.jsonl beside the source tree,
    /// when present].
    #[arg(long, value_name = "FILE")]
    pub gsm8k_data: Option<PathBuf>,

    /// Extra flags for `sglang-sim launch-server`, one string (`--sim-args="--sim-profile
    /// zero"`); only with --engine=sim [env: SGLCI_SIM_ARGS] [default: none].
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub sim_args: Option<String>,

    /// With --engine=sim, keep the original workload sizes instead of the scaled-down
    /// simulator workload.
    #[arg(long)]
    pub sim_full_workload: bool,

    /// Server port [env: GSM8K_PORT (DeepSeek)] [default: 30000].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Seconds the server may take to become ready [env: SERVER_TIMEOUT (DeepSeek)]
    /// [default: 600 (Grok), 900 (DeepSeek), 2700 (DeepSeek DP attention + torch compile)].
    #[arg(long, value_name = "SECS")]
    pub server_timeout: Option<f64>,

    /// Seconds one client command (a GSM8K run, a serving run) may take; past it the server
    /// is considered hung and the run ends [default: 10800; 300 for the scaled simulator
    /// workload].
    #[arg(long, value_name = "SECS")]
    pub client_timeout: Option<f64>,

    /// Pause between runs of one load (Grok: every rate but 16; DeepSeek: concurrency >= 8
    /// when more runs follow) [default: 10 on the real engine, 0 on the simulator].
    #[arg(long, value_name = "SECS")]
    pub pause_between_runs: Option<f64>,

    /// Pause between loads (request rates, concurrencies) [default: 3 on the real engine, 0
    /// on the simulator].
    #[arg(long, value_name = "SECS")]
    pub pause_between_loads: Option<f64>,

    /// Grok: pause between runs of rate 16, followed by a POST /flush_cache [default: 20 on
    /// the real engine, 0 on the simulator].
    #[arg(long, value_name = "SECS")]
    pub pause_rate16: Option<f64>,

    /// DeepSeek: pause after every other run [env: BENCHMARK_SLEEP_BETWEEN_RUNS] [default: 2
    /// on the real engine, 0 on the simulator].
    #[arg(long, value_name = "SECS")]
    pub pause_after_run: Option<f64>,

    /// No deliberate pauses at all (unless a --pause-* flag sets one).
    #[arg(long)]
    pub no_pauses: bool,

    /// Print every setting, path and command line, then exit 0 without running anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Also write the run's outcome, exit code, paths and time accounting as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// Debug logging on stderr (also SGLCI_LOG / RUST_LOG).
    #[arg(short, long)]
    pub verbose: bool,
}

impl CommonArgs {
    /// The runner's low-level options (`positional_image`: DeepSeek's positional IMAGE).
    pub fn options(&self, positional_image: Option<String>) -> CommonOptions {
        CommonOptions {
            base: BaseOptions {
                docker_image: self.docker_image.clone(),
                positional_image,
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
            gsm8k_script: self.gsm8k_script.clone(),
            threshold: self.threshold.clone(),
            client: self.client.as_deref().and_then(ClientImpl::parse),
            gsm8k_client: self.gsm8k_client.as_deref().and_then(ClientImpl::parse),
            gsm8k_data: self.gsm8k_data.clone(),
            sim_full_workload: self.sim_full_workload,
            port: self.port,
            server_timeout: self.server_timeout,
            client_timeout: self.client_timeout,
            pause_between_runs: self.pause_between_runs,
            pause_between_loads: self.pause_between_loads,
            pause_rate16: self.pause_rate16,
            pause_after_run: self.pause_after_run,
            no_pauses: self.no_pauses,
        }
    }
}

/// `grok-perf-online` flags (also `run-grok-benchmark`'s).
#[derive(Debug, Clone, clap::Args)]
pub struct GrokArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,

    /// `grok1` or `grok2` [env: DEFAULT_MODEL_TYPE] [default: detected from --model
    /// (`grok-2`/`grok2`, `grok-1`/`grok1`), else grok1].
    #[arg(long, value_name = "TYPE")]
    pub model_type: Option<String>,

    /// Tokenizer for server and client [env: DEFAULT_TOKENIZER_NAME] [default: Grok-1: the
    /// model path; Grok-2: <model>/tokenizer.tok.json for a custom model, else
    /// /mnt/raid/models/huggingface/alvarobartt--grok-2-tokenizer].
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<String>,

    /// `<MODEL_NAME>` of folders and files [env: GROK_MODEL_NAME / GROK2_MODEL_NAME, then
    /// BENCHMARK_MODEL_NAME] [default: GROK1 / GROK2].
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
}

impl GrokArgs {
    /// The runner's options.
    pub fn options(&self) -> GrokOptions {
        GrokOptions {
            common: self.common.options(None),
            grok: GrokModelOptions {
                model_type: self.model_type.clone(),
                tokenizer: self.tokenizer.clone(),
                model_name: self.model_name.clone(),
            },
        }
    }
}

/// `deepseek-perf-online` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DeepSeekArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,

    /// Image, when --docker_image is not given (a real positional argument only).
    #[arg(value_name = "IMAGE")]
    pub image: Option<String>,

    /// `--model-name`, `--hf-model-id`.
    #[command(flatten)]
    pub model: DeepSeekModelArgs,

    /// Download the model with huggingface-cli first when needed.
    #[arg(long)]
    pub download_model: bool,

    /// DP-attention server; GSM8K only unless --enable-dp-test. Folder suffix
    /// `_dp_attention`.
    #[arg(long)]
    pub check_dp_attention: bool,

    /// Add --enable-torch-compile to the server; GSM8K only unless --enable-dp-test. Folder
    /// suffix `_torch_compile`.
    #[arg(long)]
    pub enable_torch_compile: bool,

    /// One run per concurrency and, on mi35x with DeepSeek-R1-MXFP4-Preview, the MTP
    /// artifacts. Folder suffix `_mtp_test`.
    #[arg(long)]
    pub enable_mtp_test: bool,

    /// Serving benchmark on the DP-attention server (implies --check-dp-attention), one run
    /// per concurrency.
    #[arg(long)]
    pub enable_dp_test: bool,
}

impl DeepSeekArgs {
    /// The runner's options.
    pub fn options(&self) -> DeepSeekOptions {
        DeepSeekOptions {
            common: self.common.options(self.image.clone()),
            deepseek: self.model.options(self.download_model),
            mode: DeepSeekMode {
                dp_attention: self.check_dp_attention,
                torch_compile: self.enable_torch_compile,
                mtp_test: self.enable_mtp_test,
                dp_test: self.enable_dp_test,
            },
        }
    }
}

/// Resolves, then dry-runs or runs the Grok benchmark; returns the exit code.
pub fn run_grok(args: &GrokArgs) -> Result<ExitCode, Fatal> {
    let c = &args.common;
    bench::resolve_and_run(c.verbose, c.dry_run, c.report_json.as_deref(), || {
        resolve_grok(&args.options(), &ProcessEnv).map(GrokPlan::new)
    })
}

/// Resolves, then dry-runs or runs the DeepSeek benchmark; returns the exit code.
pub fn run_deepseek(args: &DeepSeekArgs) -> Result<ExitCode, Fatal> {
    let c = &args.common;
    bench::resolve_and_run(c.verbose, c.dry_run, c.report_json.as_deref(), || {
        resolve_deepseek(&args.options(), &ProcessEnv).map(DeepSeekPlan::new)
    })
}
