//! `sglang-sim launch-server`: the HTTP server.
//!
//! Endpoints (spec/peer-clients.md §6, spec/pd-router.md §3): `/health`, `/health_generate`,
//! `/get_model_info` + `/model_info`, `/get_server_info` + `/server_info`, `/flush_cache`,
//! `/v1/models`, `/get_load`, `/generate`, `/v1/completions`, `/v1/chat/completions`.
//! Connections are HTTP/1.1 with `TCP_NODELAY`, so every streamed chunk leaves at once.

mod format;
mod intake;
pub(crate) mod protocol;
mod stream;

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::cli::{DisaggregationMode, ServerArgs};
use crate::gsm8k::Gsm8kOracle;
use crate::logsink::LogSink;
use crate::plan::OutputPlan;
use crate::profile::LatencyProfile;
use crate::rng::{mix, unit};
use crate::sched::{Core, ReqShared, Ticket};
use crate::signals::Signals;
use crate::tokens::TokenCounter;
use crate::trace::{TraceRecord, TraceSink, unix_now};
use crate::{Outcome, SimError};

use format::{Item, Meta};
use intake::{Intake, ReadStamp};
use protocol::{Api, Prompt};
use stream::{BodyError, TokenStream};

/// The simulator's version, shown wherever a human sees the server.
pub const SIM_VERSION: &str = concat!("sglang-sim ", env!("CARGO_PKG_VERSION"));

/// Largest request body accepted.
const MAX_BODY: usize = 64 << 20;

/// Shared state of one server.
pub(crate) struct App {
    log: LogSink,
    trace: Option<TraceSink>,
    tokens: TokenCounter,
    oracle: Option<Gsm8kOracle>,
    sched: Option<tokio::sync::mpsc::UnboundedSender<Ticket>>,
    role: DisaggregationMode,
    seed: u64,
    model_name: Arc<str>,
    api_key: Option<String>,
    /// Tokens per streamed chunk.
    pub(crate) tokens_per_chunk: u32,
    /// `--sim-cut-stream-after`.
    pub(crate) cut_stream_after: Option<u32>,
    error_rate: f64,
    hang_after: Option<u64>,
    exit_after: Option<u64>,
    /// Set by `--sim-hang-after`; shared with the scheduler, which it freezes.
    hung: Arc<AtomicBool>,
    received: AtomicU64,
    answered: AtomicU64,
    active: AtomicU64,
    ids: AtomicU64,
    exit: tokio::sync::Notify,
    server_info: Bytes,
    model_info: Bytes,
    models: Bytes,
}

impl App {
    /// True once `--sim-hang-after` has triggered.
    pub(crate) fn is_hung(&self) -> bool {
        self.hung.load(Ordering::Acquire)
    }

    fn hang(&self) {
        if !self.hung.swap(true, Ordering::AcqRel) {
            self.log.tp0(
                "Watchdog: scheduler is not making progress (simulated hang: --sim-hang-after)",
            );
        }
    }

    /// A generation request got its whole response (for `--sim-exit-after`).
    pub(crate) fn answered(&self) {
        let n = self.answered.fetch_add(1, Ordering::AcqRel) + 1;
        if self.exit_after == Some(n) {
            self.exit.notify_one();
        }
    }

    /// True once `--sim-exit-after` has triggered (the process exits shortly).
    fn exiting(&self) -> bool {
        self.exit_after
            .is_some_and(|n| self.answered.load(Ordering::Acquire) >= n)
    }

    /// A generation response body is gone (finished or dropped).
    pub(crate) fn request_done(&self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }

    pub(crate) fn trace(&self, r: TraceRecord) {
        if let Some(t) = &self.trace {
            t.record(r);
        }
    }

    pub(crate) fn log_cut(&self, k: u32) {
        self.log.info(&format!(
            "Simulated fault: stream closed after {k} tokens (--sim-cut-stream-after)"
        ));
    }

    fn next_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        format!(
            "{:016x}{:016x}",
            mix(self.seed, n),
            mix(self.seed ^ 0xabcdef, n)
        )
    }
}

/// Response body: a whole reply or a token stream.
pub(crate) enum RespBody {
    Full(Option<Bytes>),
    Stream(Box<TokenStream>),
}

impl Body for RespBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            RespBody::Full(b) => std::task::Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            RespBody::Stream(s) => std::pin::Pin::new(s.as_mut()).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RespBody::Full(b) => b.is_none(),
            RespBody::Stream(s) => s.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            RespBody::Full(None) => SizeHint::with_exact(0),
            RespBody::Stream(_) => SizeHint::default(),
        }
    }
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<RespBody> {
    let mut r = Response::new(RespBody::Full(Some(body.into())));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn json_reply(status: StatusCode, v: &serde_json::Value) -> Response<RespBody> {
    reply(
        status,
        "application/json",
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

/// SGLang's error body (`{"object": "error", ...}`).
fn error_reply(status: StatusCode, message: &str) -> Response<RespBody> {
    let kind = match status {
        StatusCode::BAD_REQUEST => "BadRequestError",
        StatusCode::UNAUTHORIZED => "AuthenticationError",
        _ => "InternalServerError",
    };
    json_reply(
        status,
        &json!({"object": "error", "message": message, "type": kind, "param": null, "code": status.as_u16()}),
    )
}

/// Starts the server and runs it until SIGTERM/SIGINT or `--sim-exit-after`.
pub fn launch(args: ServerArgs, out: Box<dyn Write + Send>) -> Result<Outcome, SimError> {
    validate(&args)?;
    let log = LogSink::spawn(out);
    // One engine thread (HTTP connections, handlers, response bodies, the scheduler), like
    // SGLang's single-threaded HTTP server process, plus the intake thread (see `intake`): on a
    // machine shared with the client the engine then never takes every core from the intake
    // thread and the client, whose timestamps the trace is compared with.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(SimError::Runtime)?;
    let result = rt.block_on(serve(args, log.clone()));
    log.flush(Duration::from_secs(2));
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

fn validate(a: &ServerArgs) -> Result<(), SimError> {
    let prob = |v: Option<f64>, flag: &'static str| match v {
        Some(p) if !(0.0..=1.0).contains(&p) => Err(SimError::InvalidFlag {
            flag,
            message: format!("{p} is not a probability in [0, 1]"),
        }),
        _ => Ok(()),
    };
    prob(Some(a.sim_gsm8k_accuracy), "--sim-gsm8k-accuracy")?;
    prob(a.sim_error_rate, "--sim-error-rate")?;
    for (v, flag) in [
        (a.sim_startup_delay, "--sim-startup-delay"),
        (a.sim_runtime_error_at, "--sim-runtime-error-at"),
    ] {
        if let Some(s) = v
            && !(s.is_finite() && s >= 0.0)
        {
            return Err(SimError::InvalidFlag {
                flag,
                message: format!("{s} is not a number of seconds >= 0"),
            });
        }
    }
    if a.sim_tokens_per_chunk == Some(0) || a.stream_interval == 0 {
        return Err(SimError::InvalidFlag {
            flag: "--sim-tokens-per-chunk",
            message: "tokens per chunk (and --stream-interval) must be at least 1".into(),
        });
    }
    Ok(())
}

/// The name `/v1/models` serves: see `--served-model-name`.
fn served_name(a: &ServerArgs) -> String {
    if let Some(n) = &a.served_model_name {
        return n.clone();
    }
    if std::path::Path::new(&a.model_path).is_dir() {
        return a.model_path.clone();
    }
    a.tokenizer_path
        .clone()
        .unwrap_or_else(|| a.model_path.clone())
}

fn py_opt(v: &Option<String>) -> String {
    v.as_ref().map_or("None".to_string(), |s| format!("'{s}'"))
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn server_args_line(
    a: &ServerArgs,
    p: &LatencyProfile,
    served: &str,
    tok: &str,
    chunk: i64,
) -> String {
    format!(
        "server_args=ServerArgs(model_path='{}', tokenizer_path='{}', tokenizer_mode='auto', skip_tokenizer_init=False, load_format='{}', trust_remote_code={}, context_length=None, dtype='{}', kv_cache_dtype='{}', quantization={}, served_model_name='{}', host='{}', port={}, mem_fraction_static={}, max_running_requests={}, chunked_prefill_size={}, max_prefill_tokens={}, schedule_policy='{}', device='{}', tp_size={}, pp_size={}, dp_size={}, stream_interval={}, random_seed={}, watchdog_timeout={:?}, log_level='{}', api_key={}, enable_dp_attention={}, enable_two_batch_overlap={}, attention_backend={}, sampling_backend={}, disable_radix_cache={}, disable_cuda_graph={}, cuda_graph_max_bs={}, enable_torch_compile={}, torch_compile_max_bs={}, disaggregation_mode='{}', disaggregation_bootstrap_port={}, disaggregation_ib_device={}, sim_profile='{}')",
        a.model_path,
        tok,
        a.engine.load_format.as_deref().unwrap_or("auto"),
        py_bool(a.engine.trust_remote_code),
        a.engine.dtype.as_deref().unwrap_or("auto"),
        a.engine.kv_cache_dtype.as_deref().unwrap_or("auto"),
        py_opt(&a.engine.quantization),
        served,
        a.host,
        a.port,
        a.engine
            .mem_fraction_static
            .map_or("None".to_string(), |m| m.to_string()),
        a.max_running_requests
            .unwrap_or(p.max_running_requests.min(1 << 20)),
        chunk,
        a.max_prefill_tokens.unwrap_or(16384),
        a.schedule_policy.as_deref().unwrap_or("fcfs"),
        a.device.as_deref().unwrap_or("cuda"),
        a.tp_size,
        a.pp_size,
        a.dp_size,
        a.stream_interval,
        a.seed,
        a.watchdog_timeout,
        a.log_level,
        if a.api_key.is_some() { "'***'" } else { "None" },
        py_bool(a.engine.enable_dp_attention),
        py_bool(a.enable_two_batch_overlap),
        py_opt(&a.engine.attention_backend),
        py_opt(&a.engine.sampling_backend),
        py_bool(a.engine.disable_radix_cache),
        py_bool(a.engine.disable_cuda_graph),
        a.engine
            .cuda_graph_max_bs
            .map_or("None".to_string(), |v| v.to_string()),
        py_bool(a.engine.enable_torch_compile),
        a.engine.torch_compile_max_bs.unwrap_or(32),
        a.disaggregation_mode.as_str(),
        a.disaggregation_bootstrap_port,
        py_opt(&a.disaggregation_ib_device),
        p.name,
    )
}

fn model_kind(p: &LatencyProfile) -> (&'static str, &'static str) {
    match p.name.split('+').next().unwrap_or("") {
        "grok" => ("grok-1", "Grok1ForCausalLM"),
        "grok2" => ("grok-2", "Grok1ForCausalLM"),
        "deepseek" | "deepseek-r1" => ("deepseek_v3", "DeepseekV3ForCausalLM"),
        _ => ("llama", "LlamaForCausalLM"),
    }
}

async fn serve(args: ServerArgs, log: LogSink) -> Result<Outcome, SimError> {
    let mut profile = args.latency.resolve(&args.model_path)?;
    if let Some(m) = args.max_running_requests {
        profile.max_running_requests = m.max(1);
    }
    let chunk_flag = args.chunked_prefill_size;
    match chunk_flag {
        Some(c) if c > 0 => profile.chunked_prefill_size = c as usize,
        Some(_) => profile.chunked_prefill_size = usize::MAX,
        None => {}
    }
    if let Some(m) = args.max_prefill_tokens {
        profile.chunked_prefill_size = profile.chunked_prefill_size.min(m.max(1));
    }
    if let Some(c) = args.context_length {
        profile.context_len = c;
    }
    let tok_path = args
        .tokenizer_path
        .clone()
        .unwrap_or_else(|| args.model_path.clone());
    let tokens = TokenCounter::load(Some(&tok_path))?;
    let served = served_name(&args);

    let mut signals = Signals::new()?;
    let chunk_shown = if profile.chunked_prefill_size == usize::MAX {
        -1
    } else {
        profile.chunked_prefill_size as i64
    };
    log.info(&server_args_line(
        &args,
        &profile,
        &served,
        &tok_path,
        chunk_shown,
    ));
    log.info(&format!(
        "SIMULATED ENGINE: {SIM_VERSION}, no GPU and no model weights; latency profile '{}'; tokens counted by {}. Every number this server reports is simulated.",
        profile.name,
        tokens.describe()
    ));

    let (o, gsm8k_from) = Gsm8kOracle::load_or_builtin(
        args.sim_gsm8k_data.as_deref(),
        args.sim_gsm8k_accuracy,
        args.seed,
    )?;
    log.info(&format!(
        "GSM8K oracle: {} questions from {gsm8k_from}, accuracy {} (simulated)",
        o.len(),
        args.sim_gsm8k_accuracy
    ));
    let oracle = Some(o);

    let trace = match &args.sim_trace {
        Some(p) => Some(TraceSink::create(p)?),
        None => None,
    };

    let tp = args.tp_size.max(1);
    for rank in 0..tp.min(8) {
        log.raw(format!(
            "[{} TP{rank}] Load weight begin. avail mem=191.45 GB",
            crate::logsink::now_stamp()
        ));
    }
    if let Some(delay) = args.sim_startup_delay {
        log.info(&format!(
            "Simulated fault: start-up delayed by {delay} s (--sim-startup-delay)"
        ));
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(delay)) => {}
            _ = signals.recv() => return Ok(Outcome::Done),
        }
    }
    let (mt, mk) = model_kind(&profile);
    log.tp0(&format!(
        "Load weight end. type={mk}, dtype=torch.bfloat16, avail mem=143.12 GB, mem usage=48.33 GB. (simulated)"
    ));
    log.tp0(&format!(
        "KV Cache is allocated. #tokens: {}, KV size: {:.2} GB (simulated)",
        profile.max_total_num_tokens,
        profile.max_total_num_tokens as f64 * 65.4e-6
    ));
    log.tp0(&format!(
        "max_total_num_tokens={}, chunked_prefill_size={chunk_shown}, max_prefill_tokens={}, max_running_requests={}, context_len={}, available_gpu_mem=67.23 GB",
        profile.max_total_num_tokens,
        args.max_prefill_tokens.unwrap_or(16384),
        profile.max_running_requests.min(1 << 20),
        profile.context_len
    ));

    let hung_flag = Arc::new(AtomicBool::new(false));
    let sched = if profile.is_zero() {
        None
    } else {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let core = Core::new(
            profile.clone(),
            profile.max_running_requests,
            profile.chunked_prefill_size,
            args.seed,
        );
        tokio::spawn(crate::sched::drive(
            rx,
            core,
            log.clone(),
            hung_flag.clone(),
        ));
        Some(tx)
    };
    let created = unix_now() as u64;
    let server_info = server_info(&args, &profile, &served, &tok_path, tokens.describe());
    let model_info = json!({
        "model_path": args.model_path,
        "tokenizer_path": tok_path,
        "is_generation": true,
        "preferred_sampling_params": null,
        "weight_version": "default",
        "has_image_understanding": false,
        "has_audio_understanding": false,
        "model_type": mt,
        "architectures": [mk],
        "simulated": true,
        "simulator": format!("{SIM_VERSION} (simulated engine, no model weights)"),
    });
    let models = json!({"object": "list", "data": [{
        "id": served, "object": "model", "created": created, "owned_by": "sglang-sim (simulated)",
        "root": served, "max_model_len": profile.context_len,
    }]});
    let app = Arc::new(App {
        log: log.clone(),
        trace,
        tokens,
        oracle,
        sched,
        role: args.disaggregation_mode,
        seed: args.seed,
        model_name: Arc::from(served.as_str()),
        api_key: args.api_key.clone(),
        tokens_per_chunk: args.sim_tokens_per_chunk.unwrap_or(args.stream_interval),
        cut_stream_after: args.sim_cut_stream_after,
        error_rate: args.sim_error_rate.unwrap_or(0.0),
        hang_after: args.sim_hang_after,
        exit_after: args.sim_exit_after,
        hung: hung_flag,
        received: AtomicU64::new(0),
        answered: AtomicU64::new(0),
        active: AtomicU64::new(0),
        ids: AtomicU64::new(0),
        exit: tokio::sync::Notify::new(),
        server_info: Bytes::from(serde_json::to_vec(&server_info).unwrap_or_default()),
        model_info: Bytes::from(serde_json::to_vec(&model_info).unwrap_or_default()),
        models: Bytes::from(serde_json::to_vec(&models).unwrap_or_default()),
    });

    let main = tokio::runtime::Handle::current();
    let conn_app = app.clone();
    let addr = format!("{}:{}", args.host, args.port);
    let (_intake, local) = Intake::start(&addr, move |io, peer| {
        let app = conn_app.clone();
        let stamp = io.stamp();
        main.spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                handle(app.clone(), peer, stamp.clone(), req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(io), svc)
                .await;
        });
    })?;

    let pid = std::process::id();
    log.info(&format!("INFO:     Started server process [{pid}]"));
    log.info("INFO:     Waiting for application startup.");
    log.info("INFO:     Application startup complete.");
    log.info(&format!(
        "INFO:     Uvicorn running on http://{local} (Press CTRL+C to quit)"
    ));
    log.info("The server is fired up and ready to roll!");

    if let Some(at) = args.sim_runtime_error_at {
        let log = log.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs_f64(at)).await;
            runtime_error(&log, at);
        });
    }

    let outcome = tokio::select! {
        _ = app.exit.notified() => {
            let n = app.exit_after.unwrap_or(0);
            // Let the last response leave the socket before the process ends.
            tokio::time::sleep(Duration::from_millis(100)).await;
            log.tp0(&format!("Simulated fault: exiting with status 1 after {n} generation requests (--sim-exit-after)"));
            log.info("Received sigquit from a child process. It usually means the child failed.");
            Outcome::ExitedAfter(n)
        }
        _ = signals.recv() => {
            log.info("INFO:     Shutting down");
            log.info(&format!("INFO:     Finished server process [{pid}]"));
            Outcome::Done
        }
    };
    if let Some(t) = &app.trace {
        t.flush(Duration::from_secs(2));
    }
    Ok(outcome)
}

fn runtime_error(log: &LogSink, at: f64) {
    log.tp0("Scheduler hit an exception: Traceback (most recent call last):");
    for l in [
        "  File \"/sgl-workspace/sglang/python/sglang/srt/managers/scheduler.py\", line 2716, in run_scheduler_process",
        "    scheduler.event_loop_overlap()",
        "  File \"/sgl-workspace/sglang/python/sglang/srt/managers/scheduler.py\", line 1024, in event_loop_overlap",
        "    batch_result = self.run_batch(batch)",
    ] {
        log.raw(l);
    }
    log.raw(format!(
        "RuntimeError: HIP error: an illegal memory access was encountered (simulated fault: --sim-runtime-error-at {at})"
    ));
}

fn server_info(
    a: &ServerArgs,
    p: &LatencyProfile,
    served: &str,
    tok: &str,
    counter: &str,
) -> serde_json::Value {
    json!({
        "model_path": a.model_path,
        "tokenizer_path": tok,
        "served_model_name": served,
        "host": a.host,
        "port": a.port,
        "tp_size": a.tp_size,
        "dp_size": a.dp_size,
        "pp_size": a.pp_size,
        "mem_fraction_static": a.engine.mem_fraction_static,
        "max_running_requests": p.max_running_requests.min(1 << 20),
        "chunked_prefill_size": if p.chunked_prefill_size == usize::MAX { -1 } else { p.chunked_prefill_size as i64 },
        "max_prefill_tokens": a.max_prefill_tokens.unwrap_or(16384),
        "context_length": a.context_length,
        "stream_interval": a.stream_interval,
        "random_seed": a.seed,
        "watchdog_timeout": a.watchdog_timeout,
        "quantization": a.engine.quantization,
        "attention_backend": a.engine.attention_backend,
        "sampling_backend": a.engine.sampling_backend,
        "trust_remote_code": a.engine.trust_remote_code,
        "enable_torch_compile": a.engine.enable_torch_compile,
        "torch_compile_max_bs": a.engine.torch_compile_max_bs,
        "cuda_graph_max_bs": a.engine.cuda_graph_max_bs,
        "disable_cuda_graph": a.engine.disable_cuda_graph,
        "enable_dp_attention": a.engine.enable_dp_attention,
        "enable_two_batch_overlap": a.enable_two_batch_overlap,
        "disable_radix_cache": a.engine.disable_radix_cache,
        "kv_cache_dtype": a.engine.kv_cache_dtype,
        "dtype": a.engine.dtype,
        "load_format": a.engine.load_format,
        "disaggregation_mode": a.disaggregation_mode.as_str(),
        "disaggregation_bootstrap_port": a.disaggregation_bootstrap_port,
        "disaggregation_ib_device": a.disaggregation_ib_device,
        "disaggregation_transfer_backend": a.disaggregation_transfer_backend,
        "max_total_num_tokens": p.max_total_num_tokens,
        "max_req_input_len": p.context_len.saturating_sub(5),
        "internal_states": [{"avg_spec_accept_length": null, "last_gen_throughput": 0.0, "simulated": true}],
        "version": format!("{SIM_VERSION} (simulated)"),
        "simulated": true,
        "sim_profile": p,
        "sim_token_count": counter,
    })
}

fn check_key(app: &App, req: &Request<Incoming>) -> bool {
    let Some(key) = &app.api_key else { return true };
    req.headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.strip_prefix("Bearer ").is_some_and(|k| k == key))
}

async fn handle(
    app: Arc<App>,
    peer: SocketAddr,
    stamp: Arc<ReadStamp>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = route(&app, req, &method, &path, &stamp).await;
    let status = resp.status();
    app.log.info(&format!(
        "INFO:     {peer} - \"{method} {path} HTTP/1.1\" {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    ));
    Ok(resp)
}

async fn route(
    app: &Arc<App>,
    req: Request<Incoming>,
    method: &Method,
    path: &str,
    stamp: &ReadStamp,
) -> Response<RespBody> {
    let open = matches!(path, "/health" | "/health_generate");
    if !open && !check_key(app, &req) {
        return error_reply(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: missing or wrong API key",
        );
    }
    let get = method == Method::GET;
    let post = method == Method::POST;
    match path {
        "/health" if get => reply(StatusCode::OK, "text/plain", Bytes::new()),
        "/health_generate" if get => {
            if app.is_hung() {
                std::future::pending::<()>().await;
            }
            reply(StatusCode::OK, "text/plain", Bytes::new())
        }
        "/get_model_info" | "/model_info" if get => {
            if path == "/get_model_info" {
                app.log.info("Endpoint '/get_model_info' is deprecated and will be removed in a future version. Please use '/model_info' instead.");
            }
            reply(StatusCode::OK, "application/json", app.model_info.clone())
        }
        "/get_server_info" | "/server_info" if get => {
            if path == "/get_server_info" {
                app.log.info("Endpoint '/get_server_info' is deprecated and will be removed in a future version. Please use '/server_info' instead.");
            }
            reply(StatusCode::OK, "application/json", app.server_info.clone())
        }
        "/v1/models" if get => reply(StatusCode::OK, "application/json", app.models.clone()),
        "/flush_cache" if get || post => {
            if app.active.load(Ordering::Acquire) > 0 {
                reply(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    "Cache not flushed. There are running or waiting requests.\n",
                )
            } else {
                reply(
                    StatusCode::OK,
                    "text/plain",
                    "Cache flushed.\nPlease check backend logs for more details. (When there are running or waiting requests, the operation will not be performed.)\n",
                )
            }
        }
        "/get_load" if get => {
            let active = app.active.load(Ordering::Acquire);
            json_reply(
                StatusCode::OK,
                &json!([{"dp_rank": 0, "num_reqs": active, "num_waiting_reqs": 0, "num_tokens": 0}]),
            )
        }
        "/generate" if post => generation(app, Api::Generate, req, stamp).await,
        "/v1/completions" if post => generation(app, Api::Completions, req, stamp).await,
        "/v1/chat/completions" if post => generation(app, Api::Chat, req, stamp).await,
        "/health"
        | "/health_generate"
        | "/get_model_info"
        | "/model_info"
        | "/get_server_info"
        | "/server_info"
        | "/v1/models"
        | "/flush_cache"
        | "/get_load"
        | "/generate"
        | "/v1/completions"
        | "/v1/chat/completions" => json_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"detail": "Method Not Allowed"}),
        ),
        _ => json_reply(StatusCode::NOT_FOUND, &json!({"detail": "Not Found"})),
    }
}

/// Sets `aborted` on the requests of a non-streamed reply if its handler is dropped (client
/// gone) before the reply is built.
struct AbortGuard<'a> {
    app: &'a App,
    shared: Vec<Arc<ReqShared>>,
    armed: bool,
}

impl Drop for AbortGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            for s in &self.shared {
                s.abort();
            }
        }
        self.app.request_done();
    }
}

async fn generation(
    app: &Arc<App>,
    api: Api,
    req: Request<Incoming>,
    stamp: &ReadStamp,
) -> Response<RespBody> {
    let body = match http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
    {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            return error_reply(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the request body: {e}"),
            );
        }
    };
    // When the intake thread read the body's last bytes (see `intake`).
    let received = stamp.last_read();
    let n = app.received.fetch_add(1, Ordering::AcqRel) + 1;
    if app.hang_after.is_some_and(|h| n > h) {
        // --sim-hang-after: request N+1 freezes the scheduler and is never answered; requests
        // 1..=N still get the tokens the scheduler released before it froze.
        app.hang();
        std::future::pending::<()>().await;
    }
    if app.exiting() {
        // --sim-exit-after: the process is going down; a request that came in after the N-th
        // answer is never answered (its connection drops when the process exits).
        std::future::pending::<()>().await;
    }
    let parsed = match protocol::parse(api, &body) {
        Ok(p) => p,
        Err(msg) => return error_reply(StatusCode::BAD_REQUEST, &msg),
    };
    if parsed.stream && parsed.jobs.len() > 1 {
        return error_reply(
            StatusCode::BAD_REQUEST,
            "sglang-sim streams one prompt per request; send batches without \"stream\"",
        );
    }
    if app.error_rate > 0.0 && unit(mix(app.seed ^ 0x6572_726f_7200_0000, n)) < app.error_rate {
        let rid = app.next_id();
        app.trace(TraceRecord {
            rid,
            endpoint: api.path(),
            input_tokens: 0,
            output_tokens: 0,
            received_s: received,
            token_times_s: Vec::new(),
            finished_s: unix_now(),
            status: "error",
        });
        app.answered();
        return error_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error (simulated fault: --sim-error-rate)",
        );
    }

    let mut items = Vec::with_capacity(parsed.jobs.len());
    let mut shared = Vec::with_capacity(parsed.jobs.len());
    for job in &parsed.jobs {
        let (prompt_tokens, prompt_ids) = match &job.prompt {
            Prompt::Text(t) => {
                if parsed.return_logprob {
                    let ids = app.tokens.prompt_ids(t);
                    (ids.len() as u32, ids)
                } else {
                    (app.tokens.count_prompt(t) as u32, Vec::new())
                }
            }
            Prompt::Ids(ids) => (
                ids.len() as u32,
                if parsed.return_logprob {
                    ids.clone()
                } else {
                    Vec::new()
                },
            ),
        };
        let gsm = job
            .oracle_text
            .as_deref()
            .and_then(|t| app.oracle.as_ref().and_then(|o| o.answer(t)));
        let (text, ends, ids) = match gsm {
            Some(answer) => {
                let (ends, ids) = app.tokens.tokenize(&answer);
                (answer, ends, ids)
            }
            None => app.tokens.filler(job.max_new_tokens),
        };
        let mut plan = OutputPlan::build(
            text,
            ends,
            ids,
            job.max_new_tokens,
            &job.stops,
            job.ignore_eos,
        );
        if app.role == DisaggregationMode::Prefill {
            plan = plan.first_token_only();
        }
        let total = plan.tokens() as u32;
        let s = match &app.sched {
            None => ReqShared::completed(total),
            Some(tx) => {
                let s = ReqShared::new();
                let prefill_tokens = if app.role == DisaggregationMode::Decode {
                    0
                } else {
                    prompt_tokens
                };
                let _ = tx.send(Ticket {
                    shared: s.clone(),
                    prefill_tokens,
                    context_tokens: prompt_tokens,
                    output_tokens: total,
                });
                s
            }
        };
        shared.push(s);
        items.push(Item {
            rid: job.rid.clone().unwrap_or_else(|| app.next_id()),
            prompt_tokens,
            prompt_ids,
            plan,
        });
    }
    app.active.fetch_add(1, Ordering::AcqRel);
    let meta = Meta {
        api,
        id: match api {
            Api::Generate => items[0].rid.clone(),
            Api::Completions => format!("cmpl-{}", app.next_id()),
            Api::Chat => format!("chatcmpl-{}", app.next_id()),
        },
        created: unix_now() as u64,
        model: parsed
            .model
            .as_deref()
            .map_or_else(|| app.model_name.clone(), Arc::from),
        return_logprob: parsed.return_logprob,
        include_usage: parsed.include_usage,
        continuous_usage: parsed.continuous_usage,
        received,
        seed: app.seed,
    };

    if parsed.stream {
        let (Some(item), Some(s)) = (items.pop(), shared.pop()) else {
            app.request_done();
            return error_reply(StatusCode::BAD_REQUEST, "no prompt");
        };
        let body = TokenStream::new(app.clone(), s, meta, item);
        let mut r = Response::new(RespBody::Stream(Box::new(body)));
        let h = r.headers_mut();
        h.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/event-stream"),
        );
        h.insert(
            hyper::header::CACHE_CONTROL,
            hyper::header::HeaderValue::from_static("no-cache"),
        );
        return r;
    }

    let mut guard = AbortGuard {
        app,
        shared,
        armed: true,
    };
    for s in &guard.shared {
        std::future::poll_fn(|cx| {
            s.register(cx.waker());
            if s.is_finished() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
    }
    guard.armed = false;
    let now = unix_now();
    let body = format::full_reply(&meta, &items, parsed.batch, now);
    for (k, it) in items.iter().enumerate() {
        app.trace(TraceRecord {
            rid: match api {
                Api::Generate => it.rid.clone(),
                _ if items.len() > 1 => format!("{}-{k}", meta.id),
                _ => meta.id.clone(),
            },
            endpoint: api.path(),
            input_tokens: it.prompt_tokens,
            output_tokens: it.plan.tokens() as u32,
            received_s: received,
            token_times_s: vec![now; it.plan.tokens()],
            finished_s: now,
            status: "ok",
        });
    }
    app.answered();
    drop(guard);
    reply(StatusCode::OK, "application/json", body)
}
