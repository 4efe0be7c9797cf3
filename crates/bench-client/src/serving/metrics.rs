//! Metrics with bench_serving's definitions (spec/peer-clients.md §7), the result block in its
//! exact layout (§8, sglang 0.5.9), the JSON line with its keys, and our extras and verdict.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use super::args::ServingArgs;
use crate::dataset::Row;
use crate::stats::{self, Sorted};
use crate::tokens::Tokenizer;

/// What happened to one request (times in seconds).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Dataset index.
    pub index: usize,
    /// Planned send time, seconds after the start of the timed phase.
    pub scheduled: f64,
    /// How late the client released it against its schedule.
    pub lag: f64,
    /// Waiting for a `--max-concurrency` slot (release to send).
    pub queue: f64,
    /// Start of the timed phase.
    pub t0: Instant,
    /// When the request was sent (`st` of bench_serving).
    pub st: Instant,
    /// Wall clock (UNIX seconds) of `t0`, to put `st` on the server trace's clock.
    pub t0_wall: f64,
    /// Requested output tokens.
    pub requested: usize,
    /// Time to first token.
    pub ttft: f64,
    /// Send to the last non-empty line (normally `data: [DONE]`).
    pub e2e: f64,
    /// Inter-token latencies (one per token when the server reports counts).
    pub itl: Vec<f64>,
    /// Output tokens (server-reported, else the requested count as bench_serving does).
    pub output_len: usize,
    /// The server reported the count.
    pub server_counted: bool,
    /// Chunks that carried more than one token.
    pub multi_token_chunks: u32,
    /// Generated text.
    pub text: String,
    /// Why it failed; `None` = success.
    pub error: Option<String>,
}

impl Outcome {
    /// An outcome not yet finished, sent at `st` after being released at `woke`.
    pub fn new(st: Instant, woke: Instant, requested: usize) -> Self {
        Self {
            index: 0,
            scheduled: 0.0,
            lag: 0.0,
            queue: st.saturating_duration_since(woke).as_secs_f64(),
            t0: st,
            st,
            t0_wall: 0.0,
            requested,
            ttft: 0.0,
            e2e: 0.0,
            itl: Vec::new(),
            output_len: 0,
            server_counted: false,
            multi_token_chunks: 0,
            text: String::new(),
            error: None,
        }
    }

    /// A request that never finished (cancelled at the end of the run).
    pub fn unfinished(index: usize, scheduled: f64, reason: &str) -> Self {
        let now = Instant::now();
        let mut o = Self::new(now, now, 0);
        o.index = index;
        o.scheduled = scheduled;
        o.error = Some(reason.to_string());
        o
    }

    fn start(&self) -> f64 {
        self.st.saturating_duration_since(self.t0).as_secs_f64()
    }
}

/// Inputs of [`build`].
pub struct Inputs<'a> {
    /// The flags.
    pub args: &'a ServingArgs,
    /// The dataset.
    pub rows: &'a [Row],
    /// One outcome per row, in dataset order.
    pub outcomes: Vec<Outcome>,
    /// Benchmark duration (dispatch start to the post-run server-info reply).
    pub duration: f64,
    /// `GET /get_server_info` after the run.
    pub server_info: Option<Value>,
    /// Tokenizer for the retokenized count.
    pub tokenizer: &'a Tokenizer,
    /// The run deadline expired.
    pub timed_out: bool,
}

/// `inf` or a number, as bench_serving writes the request rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(pub f64);

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            s.serialize_str("inf")
        }
    }
}

/// The JSON line: bench_serving 0.5.9's keys in its order, then `sglang_bench` extras.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Always null (bench_serving's `--tag`).
    pub tag: Option<String>,
    /// Backend name.
    pub backend: String,
    /// Dataset name.
    pub dataset_name: String,
    /// Requested rate (`"inf"` for inf; bench_serving writes a bare `Infinity`).
    pub request_rate: Rate,
    /// `--max-concurrency`.
    pub max_concurrency: Option<usize>,
    /// Always null.
    pub sharegpt_output_len: Option<usize>,
    /// `--random-input-len`.
    pub random_input_len: usize,
    /// `--random-output-len`.
    pub random_output_len: usize,
    /// `--random-range-ratio`.
    pub random_range_ratio: f64,
    /// `GET /get_server_info` after the run, or null.
    pub server_info: Option<Value>,
    /// Benchmark duration (s).
    pub duration: f64,
    /// Successful requests.
    pub completed: usize,
    /// Σ planned prompt lengths of successful requests.
    pub total_input_tokens: usize,
    /// Same as total_input_tokens (no images).
    pub total_input_text_tokens: usize,
    /// Always 0.
    pub total_input_vision_tokens: usize,
    /// Σ output lengths.
    pub total_output_tokens: usize,
    /// Σ retokenized output lengths.
    pub total_output_tokens_retokenized: usize,
    /// req/s.
    pub request_throughput: f64,
    /// input tok/s.
    pub input_throughput: f64,
    /// output tok/s.
    pub output_throughput: f64,
    /// (input + output) tok/s.
    pub total_throughput: f64,
    /// ms.
    pub mean_e2e_latency_ms: f64,
    /// ms.
    pub median_e2e_latency_ms: f64,
    /// ms.
    pub std_e2e_latency_ms: f64,
    /// ms.
    pub p90_e2e_latency_ms: f64,
    /// ms.
    pub p99_e2e_latency_ms: f64,
    /// ms.
    pub mean_ttft_ms: f64,
    /// ms.
    pub median_ttft_ms: f64,
    /// ms.
    pub std_ttft_ms: f64,
    /// ms.
    pub p99_ttft_ms: f64,
    /// ms.
    pub mean_tpot_ms: f64,
    /// ms.
    pub median_tpot_ms: f64,
    /// ms.
    pub std_tpot_ms: f64,
    /// ms.
    pub p99_tpot_ms: f64,
    /// ms.
    pub mean_itl_ms: f64,
    /// ms.
    pub median_itl_ms: f64,
    /// ms.
    pub std_itl_ms: f64,
    /// ms.
    pub p95_itl_ms: f64,
    /// ms.
    pub p99_itl_ms: f64,
    /// Σ E2E / duration.
    pub concurrency: f64,
    /// Always null (no speculative decoding info).
    pub accept_length: Option<f64>,
    /// Peak output tokens in one whole second.
    pub max_output_tokens_per_s: f64,
    /// Peak requests overlapping a 1 s bucket.
    pub max_concurrent_requests: usize,
    /// Per-request details (`--output-details`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
    /// sglang-bench's additions.
    pub sglang_bench: Extras,
}

/// Per-request lists of `--output-details` (bench_serving's keys; times in seconds).
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    /// Planned prompt lengths.
    pub input_lens: Vec<usize>,
    /// Output lengths (0 for failures).
    pub output_lens: Vec<usize>,
    /// TTFTs (0 for failures).
    pub ttfts: Vec<f64>,
    /// ITLs per request.
    pub itls: Vec<Vec<f64>>,
    /// Generated texts ("" for failures).
    pub generated_texts: Vec<String>,
    /// Error strings ("" for successes).
    pub errors: Vec<String>,
    /// sglang-bench only: wall-clock send time of each request (UNIX seconds), comparable
    /// with a server trace's `received_s`.
    pub start_times_s: Vec<f64>,
}

/// Mean / median / P99 / max of a latency (ms).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Dist {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Dist {
    fn ms(v: &[f64]) -> Self {
        let s = Sorted::new(v);
        Self {
            mean: stats::mean(v) * 1000.0,
            median: s.median() * 1000.0,
            p99: s.percentile(99.0) * 1000.0,
            max: s.max() * 1000.0,
        }
    }
}

/// What sglang-bench measures beyond bench_serving.
#[derive(Debug, Clone, Serialize)]
pub struct Extras {
    /// `VALID` or `INVALID`.
    pub verdict: String,
    /// Why INVALID (empty when VALID).
    pub reasons: Vec<String>,
    /// Failed requests.
    pub failed: usize,
    /// Failure reasons and how many requests each.
    pub failure_reasons: BTreeMap<String, usize>,
    /// Requested rate (`"inf"` or req/s).
    pub requested_rate: Rate,
    /// Requests released per second between the first and the last release.
    pub achieved_dispatch_rate: f64,
    /// How late requests were released against the precomputed schedule (ms).
    pub scheduling_lag_ms: Dist,
    /// Waiting for a `--max-concurrency` slot (ms), not part of TTFT/E2E.
    pub queueing_ms: Dist,
    /// Service time = E2E of successful requests (ms).
    pub service_ms: Dist,
    /// Maximum ITL (ms), as in the block.
    pub max_itl_ms: f64,
    /// P90 TTFT (ms).
    pub p90_ttft_ms: f64,
    /// ITL samples.
    pub itl_samples: usize,
    /// Streamed chunks that carried several tokens (ITL split per token).
    pub multi_token_chunks: u64,
    /// Successful requests whose server-reported output was shorter than requested
    /// (with ignore_eos).
    pub short_outputs: usize,
    /// Successful requests without a server-reported token count.
    pub uncounted_outputs: usize,
    /// The run deadline expired.
    pub run_timed_out: bool,
    /// How tokens were counted.
    pub tokenizer: String,
    /// Client name and version.
    pub client: String,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct ServingReport {
    /// The JSON line's content.
    pub summary: Summary,
    /// The result block, byte-compatible with bench_serving 0.5.9 (trailing spaces included).
    pub block: String,
    /// Our extras block, printed after the result block.
    pub extras_block: String,
}

impl ServingReport {
    /// True when the verdict is VALID.
    pub fn is_valid(&self) -> bool {
        self.summary.sglang_bench.verdict == "VALID"
    }
}

/// Computes the metrics of a finished run.
pub fn build(inp: Inputs<'_>) -> ServingReport {
    let args = inp.args;
    let dur = inp.duration.max(1e-9);
    let ok: Vec<&Outcome> = inp.outcomes.iter().filter(|o| o.error.is_none()).collect();
    let completed = ok.len();
    let total_input: usize = ok.iter().map(|o| inp.rows[o.index].prompt_len).sum();
    let total_output: usize = ok.iter().map(|o| o.output_len).sum();
    let retok: usize = ok.iter().map(|o| inp.tokenizer.count(&o.text)).sum();
    let ttfts: Vec<f64> = ok.iter().map(|o| o.ttft).collect();
    let e2es: Vec<f64> = ok.iter().map(|o| o.e2e).collect();
    let tpots: Vec<f64> = ok
        .iter()
        .filter(|o| o.output_len > 1)
        .map(|o| (o.e2e - o.ttft) / (o.output_len - 1) as f64)
        .collect();
    let itls: Vec<f64> = ok.iter().flat_map(|o| o.itl.iter().copied()).collect();
    let (s_ttft, s_e2e, s_tpot, s_itl) = (
        Sorted::new(&ttfts),
        Sorted::new(&e2es),
        Sorted::new(&tpots),
        Sorted::new(&itls),
    );
    let ms = 1000.0;

    // Peak output tokens per whole second and peak overlapping requests per 1 s bucket.
    let earliest = ok.iter().map(|o| o.start()).fold(f64::INFINITY, f64::min);
    let mut tok_buckets: BTreeMap<i64, usize> = BTreeMap::new();
    let mut conc_buckets: BTreeMap<i64, usize> = BTreeMap::new();
    for o in &ok {
        let mut t = o.start() + o.ttft;
        *tok_buckets.entry((t - earliest) as i64).or_default() += 1;
        for g in &o.itl {
            t += g;
            *tok_buckets.entry((t - earliest) as i64).or_default() += 1;
        }
        let (a, b) = (o.start() as i64, (o.start() + o.e2e) as i64);
        for k in a..=b {
            *conc_buckets.entry(k).or_default() += 1;
        }
    }

    let failed = inp.outcomes.len() - completed;
    let mut failure_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for o in &inp.outcomes {
        if let Some(e) = &o.error {
            *failure_reasons.entry(e.clone()).or_default() += 1;
        }
    }
    let lags: Vec<f64> = inp.outcomes.iter().map(|o| o.lag).collect();
    let queues: Vec<f64> = ok.iter().map(|o| o.queue).collect();
    let releases: Vec<f64> = inp.outcomes.iter().map(|o| o.scheduled + o.lag).collect();
    let first = releases.iter().copied().fold(f64::INFINITY, f64::min);
    let last = releases.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let achieved_dispatch_rate = if releases.len() > 1 && last > first {
        (releases.len() - 1) as f64 / (last - first)
    } else {
        0.0
    };
    let ignore_eos = !args.disable_ignore_eos;
    let short_outputs = if ignore_eos {
        ok.iter()
            .filter(|o| o.server_counted && o.output_len < o.requested)
            .count()
    } else {
        0
    };
    let uncounted_outputs = ok.iter().filter(|o| !o.server_counted).count();
    let lag = Dist::ms(&lags);

    let mut reasons = Vec::new();
    if inp.timed_out {
        reasons.push(format!(
            "the run did not finish within --run-timeout {} s",
            args.run_timeout
        ));
    }
    if failed > 0 {
        let top: Vec<String> = failure_reasons
            .iter()
            .take(3)
            .map(|(r, n)| format!("{n}x {r}"))
            .collect();
        reasons.push(format!(
            "{failed} of {} requests failed ({})",
            inp.outcomes.len(),
            top.join("; ")
        ));
    }
    if completed == 0 {
        reasons.push("no request succeeded".into());
    }
    if short_outputs > 0 {
        reasons.push(format!("{short_outputs} requests returned fewer output tokens than requested despite ignore_eos"));
    }
    if args.request_rate.is_finite() && lag.p99 > args.max_lag_ms {
        reasons.push(format!(
            "P99 scheduling lag {:.2} ms exceeds --max-lag-ms {} (the client could not keep the requested rate)",
            lag.p99, args.max_lag_ms
        ));
    }
    let verdict = if reasons.is_empty() {
        "VALID"
    } else {
        "INVALID"
    };

    let details = args.output_details.then(|| Details {
        input_lens: inp
            .outcomes
            .iter()
            .map(|o| inp.rows[o.index].prompt_len)
            .collect(),
        output_lens: inp
            .outcomes
            .iter()
            .map(|o| if o.error.is_none() { o.output_len } else { 0 })
            .collect(),
        ttfts: inp
            .outcomes
            .iter()
            .map(|o| if o.error.is_none() { o.ttft } else { 0.0 })
            .collect(),
        itls: inp.outcomes.iter().map(|o| o.itl.clone()).collect(),
        generated_texts: inp.outcomes.iter().map(|o| o.text.clone()).collect(),
        errors: inp
            .outcomes
            .iter()
            .map(|o| o.error.clone().unwrap_or_default())
            .collect(),
        start_times_s: inp.outcomes.iter().map(|o| o.t0_wall + o.start()).collect(),
    });

    let summary = Summary {
        tag: None,
        backend: args.backend.as_str().into(),
        dataset_name: args.dataset_name.as_str().into(),
        request_rate: Rate(args.request_rate),
        max_concurrency: args.max_concurrency,
        sharegpt_output_len: None,
        random_input_len: args.random_input_len,
        random_output_len: args.random_output_len,
        random_range_ratio: args.random_range_ratio,
        server_info: inp.server_info,
        duration: inp.duration,
        completed,
        total_input_tokens: total_input,
        total_input_text_tokens: total_input,
        total_input_vision_tokens: 0,
        total_output_tokens: total_output,
        total_output_tokens_retokenized: retok,
        request_throughput: completed as f64 / dur,
        input_throughput: total_input as f64 / dur,
        output_throughput: total_output as f64 / dur,
        total_throughput: (total_input + total_output) as f64 / dur,
        mean_e2e_latency_ms: stats::mean(&e2es) * ms,
        median_e2e_latency_ms: s_e2e.median() * ms,
        std_e2e_latency_ms: stats::std(&e2es) * ms,
        p90_e2e_latency_ms: s_e2e.percentile(90.0) * ms,
        p99_e2e_latency_ms: s_e2e.percentile(99.0) * ms,
        mean_ttft_ms: stats::mean(&ttfts) * ms,
        median_ttft_ms: s_ttft.median() * ms,
        std_ttft_ms: stats::std(&ttfts) * ms,
        p99_ttft_ms: s_ttft.percentile(99.0) * ms,
        mean_tpot_ms: stats::mean(&tpots) * ms,
        median_tpot_ms: s_tpot.median() * ms,
        std_tpot_ms: stats::std(&tpots) * ms,
        p99_tpot_ms: s_tpot.percentile(99.0) * ms,
        mean_itl_ms: stats::mean(&itls) * ms,
        median_itl_ms: s_itl.median() * ms,
        std_itl_ms: stats::std(&itls) * ms,
        p95_itl_ms: s_itl.percentile(95.0) * ms,
        p99_itl_ms: s_itl.percentile(99.0) * ms,
        concurrency: e2es.iter().sum::<f64>() / dur,
        accept_length: None,
        max_output_tokens_per_s: tok_buckets.values().copied().max().unwrap_or(0) as f64,
        max_concurrent_requests: conc_buckets.values().copied().max().unwrap_or(0),
        details,
        sglang_bench: Extras {
            verdict: verdict.into(),
            reasons,
            failed,
            failure_reasons,
            requested_rate: Rate(args.request_rate),
            achieved_dispatch_rate,
            scheduling_lag_ms: lag,
            queueing_ms: Dist::ms(&queues),
            service_ms: Dist::ms(&e2es),
            max_itl_ms: s_itl.max() * ms,
            p90_ttft_ms: s_ttft.percentile(90.0) * ms,
            itl_samples: itls.len(),
            multi_token_chunks: ok.iter().map(|o| u64::from(o.multi_token_chunks)).sum(),
            short_outputs,
            uncounted_outputs,
            run_timed_out: inp.timed_out,
            tokenizer: inp.tokenizer.describe().into(),
            client: concat!("sglang-bench ", env!("CARGO_PKG_VERSION")).into(),
        },
    };
    let block = result_block(&summary);
    let extras_block = extras_block(&summary);
    ServingReport {
        summary,
        block,
        extras_block,
    }
}

/// Python's `repr(float)` for the values bench_serving prints unformatted (`10.0`, `inf`).
pub fn py_float(x: f64) -> String {
    if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else if x.is_nan() {
        "nan".into()
    } else if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

fn row(out: &mut String, label: &str, value: impl std::fmt::Display) {
    out.push_str(&format!("{:<40} {:<10}\n", label, value.to_string()));
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

/// `a / b / c`, each with two decimals.
fn f2_triple([a, b, c]: [f64; 3]) -> String {
    format!("{} / {} / {}", f2(a), f2(b), f2(c))
}

/// The result block exactly as bench_serving 0.5.9 prints it (trailing spaces kept).
pub fn result_block(s: &Summary) -> String {
    let mut o = String::new();
    o.push_str(&format!("{:=^50}\n", " Serving Benchmark Result "));
    row(&mut o, "Backend:", &s.backend);
    row(&mut o, "Traffic request rate:", py_float(s.request_rate.0));
    row(
        &mut o,
        "Max request concurrency:",
        s.max_concurrency
            .map_or("not set".to_string(), |c| c.to_string()),
    );
    row(&mut o, "Successful requests:", s.completed);
    row(&mut o, "Benchmark duration (s):", f2(s.duration));
    row(&mut o, "Total input tokens:", s.total_input_tokens);
    row(
        &mut o,
        "Total input text tokens:",
        s.total_input_text_tokens,
    );
    row(&mut o, "Total generated tokens:", s.total_output_tokens);
    row(
        &mut o,
        "Total generated tokens (retokenized):",
        s.total_output_tokens_retokenized,
    );
    row(
        &mut o,
        "Request throughput (req/s):",
        f2(s.request_throughput),
    );
    row(
        &mut o,
        "Input token throughput (tok/s):",
        f2(s.input_throughput),
    );
    row(
        &mut o,
        "Output token throughput (tok/s):",
        f2(s.output_throughput),
    );
    row(
        &mut o,
        "Peak output token throughput (tok/s):",
        f2(s.max_output_tokens_per_s),
    );
    row(
        &mut o,
        "Peak concurrent requests:",
        s.max_concurrent_requests,
    );
    row(
        &mut o,
        "Total token throughput (tok/s):",
        f2(s.total_throughput),
    );
    row(&mut o, "Concurrency:", f2(s.concurrency));
    o.push_str(&format!("{:-^50}\n", "End-to-End Latency"));
    row(&mut o, "Mean E2E Latency (ms):", f2(s.mean_e2e_latency_ms));
    row(
        &mut o,
        "Median E2E Latency (ms):",
        f2(s.median_e2e_latency_ms),
    );
    row(&mut o, "P90 E2E Latency (ms):", f2(s.p90_e2e_latency_ms));
    row(&mut o, "P99 E2E Latency (ms):", f2(s.p99_e2e_latency_ms));
    o.push_str(&format!("{:-^50}\n", "Time to First Token"));
    row(&mut o, "Mean TTFT (ms):", f2(s.mean_ttft_ms));
    row(&mut o, "Median TTFT (ms):", f2(s.median_ttft_ms));
    row(&mut o, "P99 TTFT (ms):", f2(s.p99_ttft_ms));
    o.push_str(&format!(
        "{:-^50}\n",
        "Time per Output Token (excl. 1st token)"
    ));
    row(&mut o, "Mean TPOT (ms):", f2(s.mean_tpot_ms));
    row(&mut o, "Median TPOT (ms):", f2(s.median_tpot_ms));
    row(&mut o, "P99 TPOT (ms):", f2(s.p99_tpot_ms));
    o.push_str(&format!("{:-^50}\n", "Inter-Token Latency"));
    row(&mut o, "Mean ITL (ms):", f2(s.mean_itl_ms));
    row(&mut o, "Median ITL (ms):", f2(s.median_itl_ms));
    row(&mut o, "P95 ITL (ms):", f2(s.p95_itl_ms));
    row(&mut o, "P99 ITL (ms):", f2(s.p99_itl_ms));
    row(&mut o, "Max ITL (ms):", f2(s.sglang_bench.max_itl_ms));
    o.push_str(&"=".repeat(50));
    o.push('\n');
    o
}

/// Our extras, printed after the result block. Labels never repeat the block's labels, so
/// parsers that take the first or last match of a block label are not misled.
pub fn extras_block(s: &Summary) -> String {
    let x = &s.sglang_bench;
    let mut o = String::new();
    o.push_str(&format!("{:=^50}\n", " sglang-bench: beyond the peer "));
    row(&mut o, "Failed requests:", x.failed);
    for (reason, n) in &x.failure_reasons {
        o.push_str(&format!("  {n} x {reason}\n"));
    }
    row(
        &mut o,
        "Requested request rate (req/s):",
        py_float(x.requested_rate.0),
    );
    row(
        &mut o,
        "Achieved dispatch rate (req/s):",
        f2(x.achieved_dispatch_rate),
    );
    row(
        &mut o,
        "Scheduling lag median / P99 / max (ms):",
        f2_triple([
            x.scheduling_lag_ms.median,
            x.scheduling_lag_ms.p99,
            x.scheduling_lag_ms.max,
        ]),
    );
    row(
        &mut o,
        "Queueing time mean / median / P99 (ms):",
        f2_triple([x.queueing_ms.mean, x.queueing_ms.median, x.queueing_ms.p99]),
    );
    row(
        &mut o,
        "Service time mean / median / P99 (ms):",
        f2_triple([x.service_ms.mean, x.service_ms.median, x.service_ms.p99]),
    );
    row(
        &mut o,
        "ITL samples / multi-token chunks:",
        format!("{} / {}", x.itl_samples, x.multi_token_chunks),
    );
    row(&mut o, "Token counts:", &x.tokenizer);
    row(&mut o, "Verdict:", &x.verdict);
    for r in &x.reasons {
        o.push_str(&format!("  reason: {r}\n"));
    }
    o.push_str(&"=".repeat(50));
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float(f64::INFINITY), "inf");
        assert_eq!(py_float(16.0), "16.0");
        assert_eq!(py_float(2.5), "2.5");
    }

    #[test]
    fn section_rules_match_python_centering() {
        assert_eq!(
            format!("{:=^50}", " Serving Benchmark Result "),
            "============ Serving Benchmark Result ============"
        );
        assert_eq!(
            format!("{:-^50}", "Time to First Token"),
            "---------------Time to First Token----------------"
        );
        assert_eq!(
            format!("{:-^50}", "Time per Output Token (excl. 1st token)"),
            "-----Time per Output Token (excl. 1st token)------"
        );
    }
}
