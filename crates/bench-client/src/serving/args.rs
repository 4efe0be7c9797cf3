//! `sglang-bench serving` flags: bench_serving's spelling first, then our extras.

use std::path::PathBuf;

use crate::dataset::DatasetName;
use crate::heading;

/// Which API the load goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// SGLang's native `POST /generate`.
    Sglang,
    /// OpenAI-compatible `POST /v1/completions`.
    SglangOai,
    /// OpenAI-compatible `POST /v1/chat/completions`.
    SglangOaiChat,
}

impl Backend {
    /// The name as bench_serving spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sglang => "sglang",
            Self::SglangOai => "sglang-oai",
            Self::SglangOaiChat => "sglang-oai-chat",
        }
    }

    /// Request path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Sglang => "/generate",
            Self::SglangOai => "/v1/completions",
            Self::SglangOaiChat => "/v1/chat/completions",
        }
    }
}

/// Flags of `sglang-bench serving`. The first group is spelled as `python3 -m
/// sglang.bench_serving` spells it (`--random-input`/`--random-output`, argparse prefixes the
/// toolkit uses, are accepted too), so one command line works with either client.
#[derive(Debug, Clone, clap::Args)]
pub struct ServingArgs {
    /// API to load: sglang (POST /generate), sglang-oai (POST /v1/completions) or
    /// sglang-oai-chat (POST /v1/chat/completions).
    #[arg(long, value_enum, default_value = "sglang", help_heading = heading::ORIGINAL)]
    pub backend: Backend,
    /// Server base URL, e.g. http://127.0.0.1:30000 (overrides --host/--port).
    #[arg(long, value_name = "URL", help_heading = heading::ORIGINAL)]
    pub base_url: Option<String>,
    /// Server host.
    #[arg(long, default_value = "127.0.0.1", help_heading = heading::ORIGINAL)]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = 30000, help_heading = heading::ORIGINAL)]
    pub port: u16,
    /// Dataset: random (text from --dataset-path or built-in text) or random-ids (token ids).
    #[arg(long, value_enum, default_value = "random", help_heading = heading::ORIGINAL)]
    pub dataset_name: DatasetName,
    /// ShareGPT JSON file whose first turns feed --dataset-name random [default: built-in text,
    /// no download].
    #[arg(long, value_name = "FILE", help_heading = heading::ORIGINAL)]
    pub dataset_path: Option<PathBuf>,
    /// Model name sent to the OpenAI endpoints [default: data[0].id of GET /v1/models].
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub model: Option<String>,
    /// Tokenizer directory (HF tokenizer.json) for prompt lengths and the retokenized count;
    /// `builtin:bpe4k` is the test tokenizer built into the binary
    /// [default: the model id when it is such a directory, else 1 token per UTF-8 byte].
    #[arg(long, value_name = "DIR", help_heading = heading::ORIGINAL)]
    pub tokenizer: Option<PathBuf>,
    /// Number of timed requests.
    #[arg(long, default_value_t = 1000, help_heading = heading::ORIGINAL)]
    pub num_prompts: usize,
    /// Maximum prompt length in tokens (alias --random-input).
    #[arg(long, alias = "random-input", default_value_t = 1024, help_heading = heading::ORIGINAL)]
    pub random_input_len: usize,
    /// Maximum output length in tokens (alias --random-output).
    #[arg(long, alias = "random-output", default_value_t = 1024, help_heading = heading::ORIGINAL)]
    pub random_output_len: usize,
    /// Lengths are drawn uniformly from [max(int(len*ratio),1), len]; 1 means fixed lengths.
    #[arg(long, default_value_t = 0.0, help_heading = heading::ORIGINAL)]
    pub random_range_ratio: f64,
    /// Requests per second, Poisson arrivals on an absolute precomputed schedule; inf sends
    /// all at once.
    #[arg(long, default_value_t = f64::INFINITY, help_heading = heading::ORIGINAL)]
    pub request_rate: f64,
    /// At most this many requests in flight; later arrivals queue (queueing time is
    /// reported separately) [default: not set].
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub max_concurrency: Option<usize>,
    /// Seed of the lengths, prompts and arrival times.
    #[arg(long, default_value_t = 1, help_heading = heading::ORIGINAL)]
    pub seed: u64,
    /// Warm-up requests before the timed phase (dataset row 0, at most 32 output tokens).
    #[arg(long, default_value_t = 1, help_heading = heading::ORIGINAL)]
    pub warmup_requests: usize,
    /// JSON Lines file the result line is appended to
    /// [default: {backend}_{MMDD}_{num_prompts}_{in}_{out}.jsonl, MMDD in Pacific time].
    #[arg(long, value_name = "FILE", help_heading = heading::ORIGINAL)]
    pub output_file: Option<PathBuf>,
    /// Add per-request lists (input_lens, output_lens, ttfts, itls, generated_texts, errors)
    /// to the result line.
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub output_details: bool,
    /// Send "stream": false (TTFT then equals E2E latency).
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub disable_stream: bool,
    /// Send "ignore_eos": false.
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub disable_ignore_eos: bool,
    /// POST /flush_cache before the timed phase (also when env SGLANG_IS_IN_CI is true).
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub flush_cache: bool,
    /// JSON object merged into every request body.
    #[arg(long, value_name = "JSON", help_heading = heading::ORIGINAL)]
    pub extra_request_body: Option<String>,
    /// No progress bar (sglang-bench draws one on stderr, and only when stderr is a terminal).
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub disable_tqdm: bool,

    // ---- sglang-bench extras ----
    /// Seconds one request may take from send to last byte; then it fails.
    #[arg(long, default_value_t = 3600.0, value_name = "SECS", help_heading = heading::ADDITIONS)]
    pub request_timeout: f64,
    /// Seconds without any byte from the server before a request fails (a hung server).
    #[arg(long, default_value_t = 300.0, value_name = "SECS", help_heading = heading::ADDITIONS)]
    pub stall_timeout: f64,
    /// Seconds a TCP connect may take.
    #[arg(long, default_value_t = 10.0, value_name = "SECS", help_heading = heading::ADDITIONS)]
    pub connect_timeout: f64,
    /// Seconds the whole timed phase may take; unfinished requests then fail and the run is
    /// INVALID (exit 5).
    #[arg(long, default_value_t = 21600.0, value_name = "SECS", help_heading = heading::ADDITIONS)]
    pub run_timeout: f64,
    /// Seconds to wait for GET /v1/models to answer 200 before giving up (exit 4); 0 = one try.
    #[arg(
        help_heading = heading::ADDITIONS,
        long = "ready-check-timeout-sec",
        default_value_t = 60.0,
        value_name = "SECS"
    )]
    pub ready_check_timeout: f64,
    /// Pause between warm-up and the timed phase (bench_serving sleeps 1 s).
    #[arg(long, default_value_t = 1.0, value_name = "SECS", help_heading = heading::ADDITIONS)]
    pub warmup_pause: f64,
    /// With a finite --request-rate, a P99 scheduling lag above this makes the run INVALID.
    #[arg(long, default_value_t = 50.0, value_name = "MS", help_heading = heading::ADDITIONS)]
    pub max_lag_ms: f64,
    /// Also write the full result (peer fields and extras) as one pretty JSON file.
    #[arg(long, value_name = "FILE", help_heading = heading::ADDITIONS)]
    pub result_json: Option<PathBuf>,
    /// Send a request id ("rid": "sglb-<run>-<index>") on /generate so server traces can be
    /// matched per request.
    #[arg(long, help_heading = heading::ADDITIONS)]
    pub send_rid: bool,
    /// Worker threads of the client runtime (1 = one core, the cheapest per token).
    #[arg(long, default_value_t = 1, help_heading = heading::ADDITIONS)]
    pub threads: usize,
}
