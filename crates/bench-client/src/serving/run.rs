//! The timed phase: build requests, keep the schedule, send, read and time each stream.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::args::{Backend, ServingArgs};
use super::metrics::{self, Outcome, ServingReport};
use crate::BenchError;
use crate::dataset::{self, Row};
use crate::http::{HttpError, Limits, Pool, Target};
use crate::rng::Rng;
use crate::sse::{self, Line, Lines};
use crate::tokens::Tokenizer;

/// Everything a request task needs, shared read-only.
struct Shared {
    pool: Pool,
    backend: Backend,
    stream: bool,
    request_timeout: Duration,
    stall: Duration,
}

/// Runs `sglang-bench serving`: progress lines go to `log`; the returned report holds the
/// result block, the JSON line and the verdict. Errors are what stops a run before results
/// exist (bad flags, unusable server, failed warm-up).
pub fn run(args: &ServingArgs, log: &mut dyn Write) -> Result<ServingReport, BenchError> {
    run_with_progress(args, log, &|_, _| {})
}

/// [`run`], telling `progress` (requests finished, requests in the run) as each request of
/// the timed phase ends.
pub fn run_with_progress(
    args: &ServingArgs,
    log: &mut dyn Write,
    progress: &dyn Fn(u64, u64),
) -> Result<ServingReport, BenchError> {
    validate(args)?;
    let url = match &args.base_url {
        Some(u) => u.clone(),
        None => format!("http://{}:{}", args.host, args.port),
    };
    let target = Target::from_url(&url)?;
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .map_err(BenchError::Runtime)?;
    rt.block_on(run_async(args, target, log, progress))
}

fn validate(args: &ServingArgs) -> Result<(), BenchError> {
    if args.num_prompts == 0 {
        return Err(BenchError::flag("--num-prompts", "must be at least 1"));
    }
    if args.request_rate.is_nan() || args.request_rate <= 0.0 {
        return Err(BenchError::flag(
            "--request-rate",
            "must be a positive number or inf",
        ));
    }
    if args.max_concurrency == Some(0) {
        return Err(BenchError::flag(
            "--max-concurrency",
            "must be at least 1 (omit it for no limit)",
        ));
    }
    if !(0.0..=1.0).contains(&args.random_range_ratio) {
        return Err(BenchError::flag(
            "--random-range-ratio",
            "must be within [0, 1]",
        ));
    }
    if args.random_input_len == 0 || args.random_output_len == 0 {
        return Err(BenchError::flag(
            "--random-input-len",
            "input and output lengths must be at least 1",
        ));
    }
    for (flag, v) in [
        ("--request-timeout", args.request_timeout),
        ("--stall-timeout", args.stall_timeout),
        ("--connect-timeout", args.connect_timeout),
        ("--run-timeout", args.run_timeout),
    ] {
        if !(v > 0.0 && v.is_finite()) {
            return Err(BenchError::flag(
                flag,
                "must be a positive number of seconds",
            ));
        }
    }
    Ok(())
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 1e9))
}

fn line(log: &mut dyn Write, text: &str) {
    let _ = writeln!(log, "{text}");
    let _ = log.flush();
}

async fn control_get(
    pool: &Pool,
    path: &str,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), HttpError> {
    let limits = Limits {
        deadline: Instant::now() + timeout,
        stall: timeout,
    };
    pool.fetch("GET", path, b"", limits).await
}

/// Polls `GET /v1/models` until it answers 200 (or the ready timeout passes); returns the
/// served model id.
async fn wait_ready(pool: &Pool, timeout: f64) -> Result<String, BenchError> {
    let start = Instant::now();
    let until = start + secs(timeout);
    let url = pool.target().base_url().to_string();
    loop {
        let last = match control_get(pool, "/v1/models", Duration::from_secs(10)).await {
            Ok((200, body)) => {
                let v: Value = serde_json::from_slice(&body).map_err(|e| BenchError::Server {
                    url: url.clone(),
                    message: format!("GET /v1/models did not return JSON: {e}"),
                })?;
                return Ok(v["data"][0]["id"].as_str().unwrap_or("default").to_string());
            }
            Ok((status, body)) => format!(
                "GET /v1/models answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
            Err(e) => format!("GET /v1/models: {e}"),
        };
        if Instant::now() >= until {
            return Err(BenchError::Server {
                url,
                message: format!(
                    "{last} (not ready after {timeout} s; start the server or raise --ready-check-timeout-sec)"
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Builds the request body of one row.
fn body(
    args: &ServingArgs,
    model: &str,
    row: &Row,
    output_len: usize,
    rid: Option<String>,
    extra: &Map<String, Value>,
) -> Vec<u8> {
    let ignore_eos = !args.disable_ignore_eos;
    let stream = !args.disable_stream;
    let mut v = match args.backend {
        Backend::Sglang => {
            let mut v = json!({
                "text": row.prompt,
                "sampling_params": {"temperature": 0.0, "max_new_tokens": output_len, "ignore_eos": ignore_eos},
                "stream": stream, "lora_path": null, "return_logprob": false,
                "return_routed_experts": false, "logprob_start_len": -1,
            });
            if let Some(r) = rid {
                v["rid"] = Value::String(r);
            }
            v
        }
        Backend::SglangOai => json!({
            "model": model, "prompt": row.prompt, "best_of": 1, "max_tokens": output_len,
            "stream": stream, "temperature": 0.0, "ignore_eos": ignore_eos,
        }),
        Backend::SglangOaiChat => json!({
            "model": model, "messages": [{"role": "user", "content": row.prompt}],
            "max_completion_tokens": output_len, "stream": stream, "temperature": 0.0,
            "ignore_eos": ignore_eos,
        }),
    };
    if stream && args.backend != Backend::Sglang {
        // Ask for usage on every chunk: per-token ITL when a chunk carries several tokens.
        v["stream_options"] = json!({"include_usage": true, "continuous_usage_stats": true});
    }
    if let Value::Object(m) = &mut v {
        for (k, x) in extra {
            m.insert(k.clone(), x.clone());
        }
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

async fn run_async(
    args: &ServingArgs,
    target: Target,
    log: &mut dyn Write,
    progress: &dyn Fn(u64, u64),
) -> Result<ServingReport, BenchError> {
    let url = target.base_url().to_string();
    let pool = Pool::new(target, secs(args.connect_timeout));
    let served_model = wait_ready(&pool, args.ready_check_timeout).await?;
    let model = args.model.clone().unwrap_or_else(|| served_model.clone());
    let tokenizer = Tokenizer::resolve(args.tokenizer.as_deref(), Some(&model))?;
    let extra: Map<String, Value> = match &args.extra_request_body {
        None => Map::new(),
        Some(s) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(BenchError::flag(
                    "--extra-request-body",
                    format!("{s:?} is not a JSON object"),
                ));
            }
        },
    };

    let spec = dataset::Spec {
        name: args.dataset_name,
        input_len: args.random_input_len,
        output_len: args.random_output_len,
        range_ratio: args.random_range_ratio,
        num_prompts: args.num_prompts,
        seed: args.seed,
        dataset_path: args.dataset_path.clone(),
    };
    let rows = dataset::generate(&spec, &tokenizer)?;
    line(
        log,
        &format!(
            "#Input tokens: {}",
            rows.iter().map(|r| r.prompt_len).sum::<usize>()
        ),
    );
    line(
        log,
        &format!(
            "#Output tokens: {}",
            rows.iter().map(|r| r.output_len).sum::<usize>()
        ),
    );

    let run_tag = format!(
        "sglb-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let bodies: Vec<Arc<Vec<u8>>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rid = args.send_rid.then(|| format!("{run_tag}-{i}"));
            Arc::new(body(args, &model, r, r.output_len, rid, &extra))
        })
        .collect();

    let shared = Arc::new(Shared {
        pool,
        backend: args.backend,
        stream: !args.disable_stream,
        request_timeout: secs(args.request_timeout),
        stall: secs(args.stall_timeout),
    });

    // Warm-up: row 0 with at most 32 output tokens; abort when none succeeds.
    if args.warmup_requests > 0 {
        line(
            log,
            &format!("Starting warmup with {} sequences...", args.warmup_requests),
        );
        let warm_len = rows[0].output_len.min(32);
        let wbody = Arc::new(body(args, &model, &rows[0], warm_len, None, &extra));
        let warm_deadline = Instant::now() + secs(args.request_timeout);
        let mut set = JoinSet::new();
        for _ in 0..args.warmup_requests {
            let (s, b) = (shared.clone(), wbody.clone());
            set.spawn(
                async move { request(&s, &b, warm_len, Instant::now(), warm_deadline).await },
            );
        }
        let mut ok = 0;
        let mut first_err = None;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(o) if o.error.is_none() => ok += 1,
                Ok(o) => {
                    first_err.get_or_insert(o.error.unwrap_or_default());
                }
                Err(e) => {
                    first_err.get_or_insert(e.to_string());
                }
            }
        }
        if ok == 0 {
            return Err(BenchError::Warmup {
                url,
                count: args.warmup_requests,
                reason: first_err.unwrap_or_default(),
            });
        }
        line(
            log,
            &format!("Warmup completed with {ok} sequences. Starting main benchmark run..."),
        );
    }

    let in_ci = std::env::var("SGLANG_IS_IN_CI")
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
    if args.flush_cache || in_ci {
        let limits = Limits {
            deadline: Instant::now() + Duration::from_secs(60),
            stall: Duration::from_secs(60),
        };
        if let Err(e) = shared.pool.fetch("POST", "/flush_cache", b"", limits).await {
            tracing::warn!("POST /flush_cache failed: {e}");
        }
    }
    // One connection per request slot, opened before the clock starts.
    let slots = args.max_concurrency.unwrap_or(args.num_prompts).min(2048);
    let limits = Limits {
        deadline: Instant::now() + secs(args.connect_timeout),
        stall: secs(args.connect_timeout),
    };
    shared.pool.prewarm(slots, limits).await;
    if args.warmup_pause > 0.0 {
        tokio::time::sleep(secs(args.warmup_pause)).await;
    }

    // The schedule: absolute offsets from t0, precomputed (no drift from sleeping in a loop).
    let mut rng = Rng::new(args.seed ^ 0xA5A5_5A5A);
    let mut offsets = Vec::with_capacity(rows.len());
    let mut t = 0.0f64;
    for _ in 0..rows.len() {
        offsets.push(t);
        if args.request_rate.is_finite() {
            t += rng.exponential(1.0 / args.request_rate);
        }
    }

    let sem = args.max_concurrency.map(|c| Arc::new(Semaphore::new(c)));
    let t0 = Instant::now() + Duration::from_millis(5);
    let run_deadline = t0 + secs(args.run_timeout);
    let t0_wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
        + t0.saturating_duration_since(Instant::now()).as_secs_f64();
    let mut set = JoinSet::new();
    for (i, row) in rows.iter().enumerate() {
        let s = shared.clone();
        let sem = sem.clone();
        let b = bodies[i].clone();
        let sched = t0 + secs(offsets[i]);
        let out_len = row.output_len;
        let offset = offsets[i];
        set.spawn(async move {
            tokio::time::sleep_until(sched).await;
            let woke = Instant::now();
            let _permit = match &sem {
                Some(sem) => sem.acquire().await.ok(),
                None => None,
            };
            let mut o = request(&s, &b, out_len, woke, run_deadline).await;
            o.index = i;
            o.scheduled = offset;
            o.lag = woke.saturating_duration_since(sched).as_secs_f64();
            o.t0 = t0;
            o.t0_wall = t0_wall;
            o
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = (0..rows.len()).map(|_| None).collect();
    let mut timed_out = false;
    let total = rows.len() as u64;
    let mut done = 0;
    progress(done, total);
    loop {
        match tokio::time::timeout_at(run_deadline + Duration::from_secs(5), set.join_next()).await
        {
            Ok(Some(Ok(o))) => {
                let i = o.index;
                outcomes[i] = Some(o);
                done += 1;
                progress(done, total);
            }
            Ok(Some(Err(e))) => tracing::warn!("request task failed: {e}"),
            Ok(None) => break,
            Err(_) => {
                timed_out = true;
                set.abort_all();
                break;
            }
        }
    }
    let server_info =
        match control_get(&shared.pool, "/get_server_info", Duration::from_secs(10)).await {
            Ok((200, b)) => serde_json::from_slice::<Value>(&b).ok(),
            _ => None,
        };
    let duration = t0.elapsed().as_secs_f64();
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            o.unwrap_or_else(|| {
                Outcome::unfinished(i, offsets[i], "not finished when --run-timeout expired")
            })
        })
        .collect();
    let timed_out = timed_out
        || outcomes.iter().any(|o| {
            o.error
                .as_deref()
                .is_some_and(|e| e.contains("run timeout"))
        });
    Ok(metrics::build(metrics::Inputs {
        args,
        rows: &rows,
        outcomes,
        duration,
        server_info,
        tokenizer: &tokenizer,
        timed_out,
    }))
}

/// Sends one request and times its stream. `woke` is when it was released by the schedule
/// (queueing time is measured from there to the send).
async fn request(
    s: &Shared,
    body: &[u8],
    requested: usize,
    woke: Instant,
    run_deadline: Instant,
) -> Outcome {
    let st = Instant::now();
    let mut o = Outcome::new(st, woke, requested);
    let deadline = (st + s.request_timeout).min(run_deadline);
    let limits = Limits {
        deadline,
        stall: s.stall,
    };
    let mut tr = Tracker::new(s.backend, st, requested);
    let result = async {
        let mut ex = s.pool.send("POST", s.backend.path(), body, limits).await?;
        if ex.status() != 200 {
            let status = ex.status();
            let reason = ex.reason().to_string();
            let mut b = Vec::new();
            while b.len() < 4096 && ex.read_body(&mut b).await?.is_some() {}
            b.truncate(1000);
            return Ok::<_, HttpError>(Some(format!(
                "HTTP {status} {reason}: {}",
                String::from_utf8_lossy(&b)
            )));
        }
        let mut lines = Lines::default();
        let mut chunk = Vec::with_capacity(16 * 1024);
        let mut last_t = st;
        loop {
            chunk.clear();
            match ex.read_body(&mut chunk).await? {
                Some(t) => {
                    last_t = t;
                    lines.feed(&chunk, |l, at| tr.on_line(l, at, t));
                    // Keep only the last counted event of this read (one copy per read, not
                    // one per event: native events carry the whole text so far).
                    if let Some((a, b)) = tr.pending.take() {
                        tr.last_event.clear();
                        tr.last_event.extend_from_slice(&chunk[a..b]);
                    }
                    if tr.error.is_some() {
                        break;
                    }
                }
                None => break,
            }
        }
        lines.finish(|l| tr.on_line(l, None, last_t));
        Ok(None)
    }
    .await;
    match result {
        Err(HttpError::Deadline) if Instant::now() >= run_deadline => {
            o.error = Some("not finished when --run-timeout expired (run timeout)".into());
        }
        Err(e) => o.error = Some(e.to_string()),
        Ok(Some(http_err)) => o.error = Some(http_err),
        Ok(None) => tr.finish(s.stream, &mut o),
    }
    o
}

/// Per-request stream state: bench_serving's timing rules plus our checks.
struct Tracker {
    backend: Backend,
    st: Instant,
    ttft: Option<f64>,
    last_counted: Instant,
    last_tokens: u64,
    last_line: Option<Instant>,
    itl: Vec<f64>,
    output_tokens: Option<u64>,
    saw_done: bool,
    last_event: Vec<u8>,
    /// Byte range (in the current read) of the last counted native event not yet copied.
    pending: Option<(usize, usize)>,
    oai_text: String,
    multi_token_chunks: u32,
    error: Option<String>,
}

impl Tracker {
    fn new(backend: Backend, st: Instant, requested: usize) -> Self {
        Self {
            backend,
            st,
            ttft: None,
            last_counted: st,
            last_tokens: 0,
            last_line: None,
            itl: Vec::with_capacity(requested),
            output_tokens: None,
            saw_done: false,
            last_event: Vec::new(),
            pending: None,
            oai_text: String::new(),
            multi_token_chunks: 0,
            error: None,
        }
    }

    /// One line of the body; `at` is its offset in the current read when it lies inside it.
    fn on_line(&mut self, raw: &[u8], at: Option<usize>, t: Instant) {
        if self.error.is_some() {
            return;
        }
        let Some(kind) = sse::classify(raw) else {
            return;
        };
        self.last_line = Some(t);
        let payload = match kind {
            Line::Done => {
                self.saw_done = true;
                return;
            }
            Line::Json(p) => p,
        };
        match self.backend {
            Backend::Sglang => match sse::scan_native(payload) {
                None => self.error = Some(format!("unparseable event: {}", preview(payload))),
                Some(ev) => {
                    if let Some(e) = ev.error {
                        self.error = Some(format!("error event in stream: {e}"));
                    } else if let Some(a) = ev.abort {
                        self.error = Some(format!("aborted by the server: {a}"));
                    } else if ev.has_text && self.counted(t, ev.completion_tokens) {
                        match at {
                            Some(a) => {
                                let start = a + (payload.as_ptr() as usize - raw.as_ptr() as usize);
                                self.pending = Some((start, start + payload.len()));
                            }
                            None => {
                                self.pending = None;
                                self.last_event.clear();
                                self.last_event.extend_from_slice(payload);
                            }
                        }
                    }
                }
            },
            Backend::SglangOai | Backend::SglangOaiChat => match sse::parse_oai(payload) {
                None => self.error = Some(format!("unparseable event: {}", preview(payload))),
                Some(ev) => {
                    if let Some(e) = ev.error {
                        self.error = Some(format!("error event in stream: {e}"));
                    } else if !ev.text.is_empty() {
                        self.counted(t, ev.completion_tokens);
                        self.oai_text.push_str(&ev.text);
                    } else if let Some(c) = ev.completion_tokens {
                        self.output_tokens = Some(c);
                    }
                }
            },
        }
    }

    /// A chunk with text arrived at `t`; `cum` is the server's cumulative token count.
    /// Returns false when bench_serving would skip it (no new tokens).
    fn counted(&mut self, t: Instant, cum: Option<u64>) -> bool {
        match self.ttft {
            None => {
                self.ttft = Some(t.duration_since(self.st).as_secs_f64());
                self.last_tokens = cum.unwrap_or(1);
            }
            Some(_) => {
                let n = match cum {
                    Some(c) => c.saturating_sub(self.last_tokens),
                    None => 1,
                };
                if n == 0 {
                    return false;
                }
                let gap = t.duration_since(self.last_counted).as_secs_f64() / n as f64;
                for _ in 0..n {
                    self.itl.push(gap);
                }
                if n > 1 {
                    self.multi_token_chunks += 1;
                }
                self.last_tokens = cum.unwrap_or(self.last_tokens + 1);
            }
        }
        self.last_counted = t;
        if cum.is_some() {
            self.output_tokens = cum;
        }
        true
    }

    fn finish(self, stream: bool, o: &mut Outcome) {
        if let Some(e) = self.error {
            o.error = Some(e);
            return;
        }
        if stream && !self.saw_done {
            o.error = Some("stream ended without data: [DONE] (cut by the server?)".into());
            return;
        }
        let Some(ttft) = self.ttft else {
            o.error = Some("response carried no output text".into());
            return;
        };
        o.ttft = ttft;
        o.e2e = self
            .last_line
            .map_or(ttft, |t| t.duration_since(self.st).as_secs_f64());
        o.itl = self.itl;
        o.server_counted = self.output_tokens.is_some();
        o.output_len = self.output_tokens.map_or(o.requested, |c| c as usize);
        o.multi_token_chunks = self.multi_token_chunks;
        o.text = match self.backend {
            Backend::Sglang => sse::native_text(&self.last_event),
            _ => self.oai_text,
        };
    }
}

fn preview(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(200)]);
    s.into_owned()
}
