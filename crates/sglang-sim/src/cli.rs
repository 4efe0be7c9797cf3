//! Flags of the three subcommands, defined once: `--help`, docs/sglang-sim.md and the
//! behaviour all come from these definitions.
//!
//! The real programs' flags are accepted with their real spelling (`--model-path`/`--model`,
//! `--tp-size`/`--tp`, `--input-len`/`--input`, ...); unknown flags are rejected so a typo in a
//! run plan fails in CI. Flags starting with `--sim-` are the simulator's own.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::profile::LatencyProfile;

/// The subcommands of `sglang-sim`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stand-in for `python3 -m sglang.launch_server`: serves SGLang's HTTP API with simulated latencies.
    LaunchServer(Box<ServerArgs>),
    /// Stand-in for `python3 -m sglang.bench_one_batch`: prints its output format with simulated numbers.
    BenchOneBatch(Box<BenchOneBatchArgs>),
    /// Small stand-in for `python3 -m sglang_router.launch_router` (PD or regular mode).
    Router(Box<RouterArgs>),
}

/// `--disaggregation-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DisaggregationMode {
    /// A normal server (default).
    #[default]
    Null,
    /// PD prefill worker: computes the prompt and returns after the first token.
    Prefill,
    /// PD decode worker: skips the prompt computation (KV "transfer") and decodes.
    Decode,
}

impl DisaggregationMode {
    /// The spelling SGLang uses in `server_args` and `/get_server_info`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisaggregationMode::Null => "null",
            DisaggregationMode::Prefill => "prefill",
            DisaggregationMode::Decode => "decode",
        }
    }
}

/// Latency-model knobs shared by `launch-server` and `bench-one-batch`.
#[derive(Debug, Clone, Args, Default)]
pub struct LatencyArgs {
    /// Latency profile: grok, grok2, deepseek, deepseek-r1, generic, zero [default: chosen from --model-path, else generic].
    #[arg(long, value_name = "NAME")]
    pub sim_profile: Option<String>,
    /// Override: fixed cost of a prefill batch, ms [default: from the profile].
    #[arg(long, value_name = "MS")]
    pub sim_prefill_base_ms: Option<f64>,
    /// Override: prefill cost per prompt token, µs [default: from the profile].
    #[arg(long, value_name = "US")]
    pub sim_prefill_us_per_token: Option<f64>,
    /// Override: fixed cost of a decode step, ms [default: from the profile].
    #[arg(long, value_name = "MS")]
    pub sim_decode_base_ms: Option<f64>,
    /// Override: decode-step cost per running request, µs [default: from the profile].
    #[arg(long, value_name = "US")]
    pub sim_decode_us_per_req: Option<f64>,
    /// Override: decode-step cost per KV-context token of the batch, ns [default: from the profile].
    #[arg(long, value_name = "NS")]
    pub sim_decode_ns_per_ctx_token: Option<f64>,
    /// Override: relative standard deviation of each step's duration [default: 0.02, 0 for zero].
    #[arg(long, value_name = "FRACTION")]
    pub sim_jitter: Option<f64>,
}

impl LatencyArgs {
    /// The profile these flags select for `model_path`, with the overrides applied.
    pub fn resolve(&self, model_path: &str) -> Result<LatencyProfile, crate::SimError> {
        let mut p = match &self.sim_profile {
            Some(name) => {
                LatencyProfile::builtin(name).ok_or_else(|| crate::SimError::InvalidFlag {
                    flag: "--sim-profile",
                    message: format!(
                        "unknown profile {name:?}; use one of {}",
                        crate::profile::PROFILE_NAMES.join(", ")
                    ),
                })?
            }
            None => LatencyProfile::for_model_path(model_path),
        };
        let set =
            |v: Option<f64>, dst: &mut f64, flag: &'static str| -> Result<(), crate::SimError> {
                if let Some(v) = v {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(crate::SimError::InvalidFlag {
                            flag,
                            message: format!("{v} is not a number >= 0"),
                        });
                    }
                    *dst = v;
                }
                Ok(())
            };
        let before = p.clone();
        set(
            self.sim_prefill_base_ms,
            &mut p.prefill_base_ms,
            "--sim-prefill-base-ms",
        )?;
        set(
            self.sim_prefill_us_per_token,
            &mut p.prefill_us_per_token,
            "--sim-prefill-us-per-token",
        )?;
        set(
            self.sim_decode_base_ms,
            &mut p.decode_base_ms,
            "--sim-decode-base-ms",
        )?;
        set(
            self.sim_decode_us_per_req,
            &mut p.decode_us_per_req,
            "--sim-decode-us-per-req",
        )?;
        set(
            self.sim_decode_ns_per_ctx_token,
            &mut p.decode_ns_per_ctx_token,
            "--sim-decode-ns-per-ctx-token",
        )?;
        set(self.sim_jitter, &mut p.jitter, "--sim-jitter")?;
        if p != before {
            p.name.push_str("+custom");
        }
        Ok(p)
    }
}

/// SGLang engine settings that `sglang.launch_server` and `sglang.bench_one_batch` both take
/// (their shared `ServerArgs`). Accepted by both subcommands so that the toolkit's command
/// lines run unchanged; they change nothing in the simulation, and `launch-server` shows them
/// in its log's `server_args` line and in /get_server_info.
#[derive(Debug, Clone, Args)]
pub struct EngineFlags {
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub quantization: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub trust_remote_code: bool,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub attention_backend: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub sampling_backend: Option<String>,
    /// Accepted, shown in the log's server_args (the sanity check reads it).
    #[arg(long, value_name = "FRACTION")]
    pub mem_fraction_static: Option<f64>,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub enable_torch_compile: bool,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "N")]
    pub torch_compile_max_bs: Option<u32>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "N")]
    pub cuda_graph_max_bs: Option<u32>,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub disable_cuda_graph: bool,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub enable_dp_attention: bool,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub disable_radix_cache: bool,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub kv_cache_dtype: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub dtype: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub load_format: Option<String>,
}

/// Flags of `sglang-sim launch-server` (`sglang.launch_server`'s flags the toolkit uses, plus `--sim-*`).
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Model weights path; need not exist (only its name selects the latency profile).
    #[arg(long, alias = "model", value_name = "PATH")]
    pub model_path: String,
    /// Tokenizer directory (HF tokenizer.json) used to count tokens; `builtin:bpe4k` is the test tokenizer built into the binary [default: the model path; byte-level count when it holds no tokenizer.json].
    #[arg(long, value_name = "PATH")]
    pub tokenizer_path: Option<String>,
    /// Tokenizer mode (accepted, ignored).
    #[arg(long, value_name = "MODE")]
    pub tokenizer_mode: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 = any free port; the log's `Uvicorn running on` line shows it).
    #[arg(long, default_value_t = 30000)]
    pub port: u16,
    /// Name served by /v1/models and /get_server_info [default: the model path if it is a directory, else the tokenizer path if given, else the model path].
    #[arg(long, value_name = "NAME")]
    pub served_model_name: Option<String>,
    /// Tensor-parallel size (shown in the log and server info).
    #[arg(long, alias = "tp", default_value_t = 1)]
    pub tp_size: u32,
    /// Data-parallel size (shown in the log and server info).
    #[arg(long, alias = "dp", default_value_t = 1)]
    pub dp_size: u32,
    /// Pipeline-parallel size (accepted, shown in server info).
    #[arg(long, alias = "pp", default_value_t = 1)]
    pub pp_size: u32,
    /// Maximum number of requests in the running batch [default: from the profile].
    #[arg(long, value_name = "N")]
    pub max_running_requests: Option<usize>,
    /// Token budget of one prefill batch; -1 disables chunking [default: from the profile].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub chunked_prefill_size: Option<i64>,
    /// Maximum new tokens of one prefill batch [default: the chunked prefill size].
    #[arg(long, value_name = "N")]
    pub max_prefill_tokens: Option<usize>,
    /// Context length reported by /v1/models [default: from the profile].
    #[arg(long, value_name = "N")]
    pub context_length: Option<usize>,
    /// Streaming interval in decode steps: tokens per streamed chunk unless --sim-tokens-per-chunk is given.
    #[arg(long, default_value_t = 1)]
    pub stream_interval: u32,
    /// Random seed (also `--random-seed`): seeds jitter, injected errors, GSM8K correctness and request ids.
    #[arg(long, alias = "random-seed", default_value_t = 1)]
    pub seed: u64,
    /// PD disaggregation role.
    #[arg(long, value_enum, default_value_t = DisaggregationMode::Null)]
    pub disaggregation_mode: DisaggregationMode,
    /// PD bootstrap port (shown in server info).
    #[arg(long, default_value_t = 8998)]
    pub disaggregation_bootstrap_port: u16,
    /// PD transfer device (accepted, shown in server info).
    #[arg(long, value_name = "DEV")]
    pub disaggregation_ib_device: Option<String>,
    /// PD transfer backend (accepted, shown in server info).
    #[arg(long, value_name = "NAME")]
    pub disaggregation_transfer_backend: Option<String>,
    /// API key: when set, every endpoint except /health and /health_generate needs `Authorization: Bearer KEY`.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "SECS", default_value_t = 300.0)]
    pub watchdog_timeout: f64,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub enable_two_batch_overlap: bool,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub enable_mixed_chunk: bool,
    /// Accepted, shown in server info.
    #[arg(long)]
    pub enable_metrics: bool,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub schedule_policy: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "NAME")]
    pub chat_template: Option<String>,
    /// Accepted, shown in server info.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
    /// Accepted (speculative decoding is not simulated).
    #[arg(long, value_name = "NAME")]
    pub speculative_algorithm: Option<String>,

    /// SGLang's engine settings (accepted, shown in the server log and info).
    #[command(flatten)]
    pub engine: EngineFlags,
    /// Latency model.
    #[command(flatten)]
    pub latency: LatencyArgs,
    /// Write one JSON line per finished request (token emission times) to FILE.
    #[arg(long, value_name = "FILE")]
    pub sim_trace: Option<PathBuf>,
    /// Output tokens carried by one streamed chunk [default: --stream-interval, i.e. 1].
    #[arg(long, value_name = "N")]
    pub sim_tokens_per_chunk: Option<u32>,
    /// Probability that the GSM8K oracle answers a test question correctly.
    #[arg(long, value_name = "P", default_value_t = 0.95)]
    pub sim_gsm8k_accuracy: f64,
    /// GSM8K test set the oracle looks questions up in [default: the built-in GSM8K test split].
    #[arg(long, value_name = "FILE", env = "SGLCI_SIM_GSM8K_DATA")]
    pub sim_gsm8k_data: Option<PathBuf>,
    /// Fault: stay unreachable (connection refused) for SECS seconds before listening.
    #[arg(long, value_name = "SECS")]
    pub sim_startup_delay: Option<f64>,
    /// Fault: exit with status 1 after N generation requests were answered.
    #[arg(long, value_name = "N")]
    pub sim_exit_after: Option<u64>,
    /// Fault: request N+1 freezes the scheduler; later requests are never answered, streams stop.
    #[arg(long, value_name = "N")]
    pub sim_hang_after: Option<u64>,
    /// Fault: answer this fraction of generation requests with HTTP 500 and a JSON error body.
    #[arg(long, value_name = "P")]
    pub sim_error_rate: Option<f64>,
    /// Fault: close streams abruptly (no final chunk, no `[DONE]`) after K output tokens.
    #[arg(long, value_name = "K")]
    pub sim_cut_stream_after: Option<u32>,
    /// Fault: write a `RuntimeError: ...` traceback to the log SECS seconds after start.
    #[arg(long, value_name = "SECS")]
    pub sim_runtime_error_at: Option<f64>,
}

/// Flags of `sglang-sim bench-one-batch` (`sglang.bench_one_batch`'s flags, plus `--sim-*`).
#[derive(Debug, Clone, Args)]
pub struct BenchOneBatchArgs {
    /// Model path; need not exist (selects the latency profile).
    #[arg(long, alias = "model", value_name = "PATH")]
    pub model_path: String,
    /// Tokenizer path (accepted, shown in the log).
    #[arg(long, value_name = "PATH")]
    pub tokenizer_path: Option<String>,
    /// Tensor-parallel size.
    #[arg(long, alias = "tp", default_value_t = 1)]
    pub tp_size: u32,
    /// Batch sizes to run (all combinations with input and output lengths).
    #[arg(long, num_args = 1.., default_values_t = [1u32])]
    pub batch_size: Vec<u32>,
    /// Input lengths (also `--input`).
    #[arg(long, alias = "input", num_args = 1.., default_values_t = [1024u32])]
    pub input_len: Vec<u32>,
    /// Output lengths (also `--output`).
    #[arg(long, alias = "output", num_args = 1.., default_values_t = [16u32])]
    pub output_len: Vec<u32>,
    /// File the result records are appended to (JSON Lines).
    #[arg(long, default_value = "result.jsonl")]
    pub result_filename: PathBuf,
    /// `run_name` field of the result records.
    #[arg(long, default_value = "before")]
    pub run_name: String,
    /// Print a `Decode <i>.` line every N steps besides the first five (0 = only the first five).
    #[arg(long, default_value_t = 0)]
    pub log_decode_step: u32,
    /// Accepted (the correctness test is not simulated).
    #[arg(long)]
    pub correctness_test: bool,
    /// Accepted.
    #[arg(long, value_name = "N")]
    pub cut_len: Option<u32>,
    /// Accepted.
    #[arg(long, alias = "dp", default_value_t = 1)]
    pub dp_size: u32,
    /// Seed of the step jitter (also `--random-seed`).
    #[arg(long, alias = "random-seed", default_value_t = 1)]
    pub seed: u64,

    /// SGLang's engine settings (accepted, shown in the server log and info).
    #[command(flatten)]
    pub engine: EngineFlags,
    /// Latency model.
    #[command(flatten)]
    pub latency: LatencyArgs,
    /// Fault: this batch size fails with a `torch.OutOfMemoryError` traceback and exit status 1.
    #[arg(long, value_name = "N")]
    pub sim_oom_batch_size: Option<u32>,
    /// Fault: this batch size prints a GPU memory-access fault and exits with status 134.
    #[arg(long, value_name = "N")]
    pub sim_crash_batch_size: Option<u32>,
    /// Sleep the simulated latencies scaled by this factor (0 = print at once, 1 = real time).
    #[arg(long, value_name = "FACTOR", default_value_t = 0.0)]
    pub sim_time_scale: f64,
}

/// Flags of `sglang-sim router` (a subset of `sglang_router.launch_router`).
#[derive(Debug, Clone, Args)]
pub struct RouterArgs {
    /// PD mode: without it --prefill/--decode are ignored (as in the real router).
    #[arg(long)]
    pub pd_disaggregation: bool,
    /// Prefill worker: `--prefill URL [BOOTSTRAP_PORT|none]`, repeatable.
    #[arg(long, num_args = 1..=2, value_names = ["URL", "BOOTSTRAP_PORT"], action = clap::ArgAction::Append)]
    pub prefill: Vec<String>,
    /// Decode worker URL, repeatable.
    #[arg(long, value_name = "URL", action = clap::ArgAction::Append)]
    pub decode: Vec<String>,
    /// Regular-mode worker URLs.
    #[arg(long, num_args = 0.., value_name = "URL")]
    pub worker_urls: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,
    /// Port to listen on (0 = any free port; the log shows it).
    #[arg(long, default_value_t = 30000)]
    pub port: u16,
    /// Accepted (every policy is round robin here).
    #[arg(long, value_name = "NAME")]
    pub policy: Option<String>,
    /// Accepted (round robin).
    #[arg(long, value_name = "NAME")]
    pub prefill_policy: Option<String>,
    /// Accepted (round robin).
    #[arg(long, value_name = "NAME")]
    pub decode_policy: Option<String>,
    /// Accepted (no metrics listener is opened).
    #[arg(long, value_name = "PORT")]
    pub prometheus_port: Option<u16>,
    /// Accepted.
    #[arg(long, value_name = "HOST")]
    pub prometheus_host: Option<String>,
    /// Log level (accepted).
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Accepted (the log goes to the console only).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Give up registering a worker whose /health does not answer 2xx after this long.
    #[arg(long, default_value_t = 1800)]
    pub worker_startup_timeout_secs: u64,
    /// Accepted (registration retries after 1, 2, 3, 4, then every 5 s).
    #[arg(long, default_value_t = 30)]
    pub worker_startup_check_interval: u64,
    /// Seconds between health checks of registered workers.
    #[arg(long, default_value_t = 60)]
    pub health_check_interval_secs: u64,
    /// Consecutive failed health checks that mark a worker unhealthy.
    #[arg(long, default_value_t = 3)]
    pub health_failure_threshold: u32,
    /// Accepted.
    #[arg(long, default_value_t = 2)]
    pub health_success_threshold: u32,
    /// Timeout of one health check.
    #[arg(long, default_value_t = 5)]
    pub health_check_timeout_secs: u64,
    /// Health-check path.
    #[arg(long, default_value = "/health")]
    pub health_check_endpoint: String,
    /// Timeout of each upstream attempt.
    #[arg(long, default_value_t = 1800)]
    pub request_timeout_secs: u64,
    /// Attempts per client request (first try included).
    #[arg(long, default_value_t = 5)]
    pub retry_max_retries: u32,
    /// Backoff before the first retry, ms (multiplied by 1.5 each time).
    #[arg(long, default_value_t = 50)]
    pub retry_initial_backoff_ms: u64,
    /// No retries.
    #[arg(long)]
    pub disable_retries: bool,
    /// Accepted (there is no circuit breaker in the stand-in).
    #[arg(long)]
    pub disable_circuit_breaker: bool,
    /// Accepted (no health checks after registration).
    #[arg(long)]
    pub disable_health_check: bool,
    /// Clients must send `Authorization: Bearer KEY` on inference and admin routes.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
}
