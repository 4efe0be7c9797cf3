//! `sglang-sim router`: a small stand-in for `sglang_router.launch_router`.
//!
//! What it does, after the real router 0.3.2 (spec/pd-router.md): binds at once and never exits
//! for lack of workers; registers each worker in the background once its health endpoint
//! answers 2xx (retries after 1, 2, 3, 4, then every 5 s, up to
//! `--worker-startup-timeout-secs`); `/readiness` says when every role has a healthy worker;
//! in PD mode each generation request gets `bootstrap_host`, `bootstrap_port` and a fresh
//! random `bootstrap_room`, is POSTed concurrently to a prefill and a decode worker, the
//! prefill reply is read to the end and dropped, and the decode reply is relayed (streams
//! chunk by chunk); failed attempts are retried (`--retry-max-retries`, 5 attempts) with a new
//! room. Not reproduced: circuit breaker, cache-aware policies (everything is round robin),
//! the `return_logprob` merge, Prometheus metrics. The log says it is a simulated stand-in.

use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

use crate::cli::RouterArgs;
use crate::logsink::{LogSink, now_stamp};
use crate::rng::SplitMix64;
use crate::server::SIM_VERSION;
use crate::signals::Signals;
use crate::{Outcome, SimError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type RBody = BoxBody<Bytes, BoxError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Prefill,
    Decode,
    Regular,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Prefill => "prefill",
            Role::Decode => "decode",
            Role::Regular => "regular",
        }
    }
}

struct Worker {
    url: String,
    role: Role,
    bootstrap_host: String,
    bootstrap_port: Option<u16>,
    healthy: AtomicBool,
    failures: AtomicU32,
    model_id: Mutex<String>,
}

struct RouterApp {
    args: RouterArgs,
    workers: Vec<Arc<Worker>>,
    client: Client<HttpConnector, Full<Bytes>>,
    rr: AtomicUsize,
    rng: Mutex<SplitMix64>,
    log: RouterLog,
    pd: bool,
}

#[derive(Clone)]
struct RouterLog(LogSink);

impl RouterLog {
    fn at(&self, level: &str, target: &str, msg: &str) {
        self.0.raw(format!(
            "{} {level:>5} sglang_sim::router::{target}: {msg}",
            now_stamp()
        ));
    }
    fn info(&self, target: &str, msg: &str) {
        self.at("INFO", target, msg);
    }
    fn warn(&self, target: &str, msg: &str) {
        self.at("WARN", target, msg);
    }
    fn error(&self, target: &str, msg: &str) {
        self.at("ERROR", target, msg);
    }
}

/// The host part of a worker URL (`http://127.0.0.1:30025` → `127.0.0.1`), as the real router
/// puts it in `bootstrap_host` (no DNS resolution).
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6).to_string();
    }
    authority.split(':').next().unwrap_or(authority).to_string()
}

fn workers_from(args: &RouterArgs) -> Result<(Vec<Arc<Worker>>, bool), SimError> {
    let mk = |url: &str, role, port| {
        Arc::new(Worker {
            url: url.trim_end_matches('/').to_string(),
            role,
            bootstrap_host: url_host(url),
            bootstrap_port: port,
            healthy: AtomicBool::new(false),
            failures: AtomicU32::new(0),
            model_id: Mutex::new("unknown".into()),
        })
    };
    let mut ws = Vec::new();
    if args.pd_disaggregation {
        // Values come flattened: a URL, optionally followed by its bootstrap port or `none`.
        let mut i = 0;
        while i < args.prefill.len() {
            let url = &args.prefill[i];
            let next = args.prefill.get(i + 1).filter(|s| !s.contains("://"));
            let port = match next.map(String::as_str) {
                None | Some("none") => None,
                Some(s) => Some(s.parse::<u16>().map_err(|_| SimError::InvalidFlag {
                    flag: "--prefill",
                    message: format!("Invalid bootstrap port: {s}. Must be a number or 'none'"),
                })?),
            };
            i += if next.is_some() { 2 } else { 1 };
            ws.push(mk(url, Role::Prefill, port));
        }
        for d in &args.decode {
            ws.push(mk(d, Role::Decode, None));
        }
    } else {
        for u in &args.worker_urls {
            ws.push(mk(u, Role::Regular, None));
        }
    }
    Ok((ws, args.pd_disaggregation))
}

/// Starts the router and runs it until SIGTERM/SIGINT.
pub fn launch(args: RouterArgs, out: Box<dyn Write + Send>) -> Result<Outcome, SimError> {
    let (workers, pd) = workers_from(&args)?;
    let log = LogSink::spawn(out);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(SimError::Runtime)?;
    let result = rt.block_on(serve(args, workers, pd, RouterLog(log.clone())));
    log.flush(Duration::from_secs(2));
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn serve(
    args: RouterArgs,
    workers: Vec<Arc<Worker>>,
    pd: bool,
    log: RouterLog,
) -> Result<Outcome, SimError> {
    let addr = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| SimError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| SimError::Bind {
        addr: addr.clone(),
        source,
    })?;
    log.info(
        "server",
        &format!(
            "SIMULATED ROUTER: {SIM_VERSION} router, a small stand-in for sglang-router ({} mode); not the real router",
            if pd { "PD" } else { "regular" }
        ),
    );
    let mut client = HttpConnector::new();
    client.set_nodelay(true);
    let app = Arc::new(RouterApp {
        workers,
        client: Client::builder(TokioExecutor::new()).build(client),
        rr: AtomicUsize::new(0),
        rng: Mutex::new(SplitMix64::new(crate::trace::unix_now().to_bits())),
        log: log.clone(),
        pd,
        args,
    });
    let urls: Vec<String> = app.workers.iter().map(|w| w.url.clone()).collect();
    log.info("server", "Router ready | workers: []");
    log.info(
        "server",
        &format!("Starting server on {local} (workers to register: {urls:?})"),
    );
    for w in &app.workers {
        tokio::spawn(register(app.clone(), w.clone()));
    }
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(app.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
            _ = signals.recv() => break,
        }
    }
    log.info(
        "server",
        "Received terminate signal, starting graceful shutdown",
    );
    Ok(Outcome::Done)
}

async fn get(app: &RouterApp, url: &str, timeout: Duration) -> Result<(StatusCode, Bytes), String> {
    let req = Request::get(url)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let fut = async {
        let resp = app
            .client
            .request(req)
            .await
            .map_err(|e| format!("error sending request for url ({url}): {e}"))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| format!("request to {url} timed out"))?
}

async fn register(app: Arc<RouterApp>, w: Arc<Worker>) {
    let start = tokio::time::Instant::now();
    let limit = Duration::from_secs(app.args.worker_startup_timeout_secs);
    let hc_timeout = Duration::from_secs(app.args.health_check_timeout_secs.max(1));
    let health_url = format!("{}{}", w.url, app.args.health_check_endpoint);
    let mut k = 1u64;
    loop {
        match get(&app, &health_url, hc_timeout).await {
            Ok((s, _)) if s.is_success() => break,
            r => {
                if start.elapsed() > limit {
                    let why = match r {
                        Ok((s, _)) => format!("HTTP status {s}"),
                        Err(e) => e,
                    };
                    app.log.warn(
                        "core::job_queue",
                        &format!("Failed job: type=AddWorker, worker={}, error=health check failed: {why}", w.url),
                    );
                    return;
                }
                tokio::time::sleep(Duration::from_secs(k.min(5))).await;
                k += 1;
            }
        }
    }
    for path in ["/server_info", "/get_server_info"] {
        if let Ok((s, body)) = get(&app, &format!("{}{path}", w.url), hc_timeout).await
            && s.is_success()
        {
            if let Ok(v) = serde_json::from_slice::<Value>(&body)
                && let Some(name) = v["served_model_name"].as_str()
                && let Ok(mut m) = w.model_id.lock()
            {
                *m = name.to_string();
            }
            break;
        }
    }
    w.healthy.store(true, Ordering::Release);
    app.log.info(
        "workflow",
        &format!(
            "Activated 1 worker(s) (marked as healthy): {} ({})",
            w.url,
            w.role.as_str()
        ),
    );
    if app.args.disable_health_check {
        return;
    }
    let every = Duration::from_secs(app.args.health_check_interval_secs.max(1));
    loop {
        tokio::time::sleep(every).await;
        match get(&app, &health_url, hc_timeout).await {
            Ok((s, _)) if s.is_success() => {
                w.failures.store(0, Ordering::Release);
                w.healthy.store(true, Ordering::Release);
            }
            r => {
                let n = w.failures.fetch_add(1, Ordering::AcqRel) + 1;
                let why = match r {
                    Ok((s, _)) => format!("HTTP status {s}"),
                    Err(e) => e,
                };
                app.log.warn(
                    "core::worker",
                    &format!("HTTP health check failed for {health_url}: {why}"),
                );
                if n >= app.args.health_failure_threshold {
                    w.healthy.store(false, Ordering::Release);
                }
            }
        }
    }
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<RBody> {
    let mut r = Response::new(
        Full::new(body.into())
            .map_err(|e: Infallible| -> BoxError { match e {} })
            .boxed(),
    );
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn router_error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response<RBody> {
    let mut r = full(
        status,
        "application/json",
        serde_json::to_vec(&json!({"error": {"type": kind, "code": code, "message": message}}))
            .unwrap_or_default(),
    );
    if let Ok(v) = code.parse() {
        r.headers_mut().insert("x-smg-error-code", v);
    }
    r
}

fn healthy(app: &RouterApp, role: Role) -> Vec<Arc<Worker>> {
    app.workers
        .iter()
        .filter(|w| w.role == role && w.healthy.load(Ordering::Acquire))
        .cloned()
        .collect()
}

fn authorized(app: &RouterApp, req: &Request<Incoming>) -> bool {
    let Some(key) = &app.args.api_key else {
        return true;
    };
    req.headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.strip_prefix("Bearer ") == Some(key.as_str()))
}

async fn handle(
    app: Arc<RouterApp>,
    req: Request<Incoming>,
) -> Result<Response<RBody>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let open = matches!(
        path.as_str(),
        "/health" | "/liveness" | "/readiness" | "/v1/models" | "/get_model_info"
    );
    if !open && !authorized(&app, &req) {
        return Ok(full(StatusCode::UNAUTHORIZED, "text/plain", Bytes::new()));
    }
    let get_m = method == Method::GET;
    let resp = match path.as_str() {
        "/health" | "/liveness" if get_m => full(StatusCode::OK, "text/plain", "OK"),
        "/readiness" if get_m => readiness(&app),
        "/health_generate" if get_m => {
            if app
                .workers
                .iter()
                .any(|w| w.healthy.load(Ordering::Acquire))
            {
                full(
                    StatusCode::OK,
                    "text/plain",
                    "At least one router has healthy workers",
                )
            } else {
                full(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "No routers with healthy workers available",
                )
            }
        }
        "/v1/models" if get_m => {
            let id = app
                .workers
                .iter()
                .find(|w| w.healthy.load(Ordering::Acquire))
                .and_then(|w| w.model_id.lock().ok().map(|m| m.clone()))
                .unwrap_or_else(|| "unknown".into());
            let body = json!({"object": "list", "data": [{"id": id, "object": "model", "owned_by": "local"}]});
            full(
                StatusCode::OK,
                "application/json",
                serde_json::to_vec(&body).unwrap_or_default(),
            )
        }
        "/get_model_info" if get_m => {
            let role = if app.pd { Role::Prefill } else { Role::Regular };
            match healthy(&app, role).first() {
                Some(w) => match get(
                    &app,
                    &format!("{}/get_model_info", w.url),
                    Duration::from_secs(30),
                )
                .await
                {
                    Ok((s, body)) => full(s, "application/json", body),
                    Err(e) => {
                        router_error(StatusCode::BAD_GATEWAY, "Bad Gateway", "server_error", &e)
                    }
                },
                None => no_workers(app.pd, role),
            }
        }
        "/get_server_info" if get_m => {
            let body = json!({"router_manager": true, "routers_count": 1, "workers_count": app.workers.len(),
                "simulated": true, "router": format!("{SIM_VERSION} router (simulated stand-in)")});
            full(
                StatusCode::OK,
                "application/json",
                serde_json::to_vec(&body).unwrap_or_default(),
            )
        }
        "/workers" if get_m => workers_list(&app),
        "/flush_cache" if method == Method::POST => flush(&app).await,
        "/generate" | "/v1/completions" | "/v1/chat/completions" if method == Method::POST => {
            let headers = req.headers().clone();
            match req.into_body().collect().await {
                Ok(b) => generation(&app, &path, b.to_bytes(), &headers).await,
                Err(e) => full(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    format!("Failed to read the request body: {e}"),
                ),
            }
        }
        _ => full(StatusCode::NOT_FOUND, "text/plain", Bytes::new()),
    };
    Ok(resp)
}

fn readiness(app: &RouterApp) -> Response<RBody> {
    let total = app.workers.len();
    let h = app
        .workers
        .iter()
        .filter(|w| w.healthy.load(Ordering::Acquire))
        .count();
    let ready = if app.pd {
        !healthy(app, Role::Prefill).is_empty() && !healthy(app, Role::Decode).is_empty()
    } else {
        h > 0
    };
    let (status, body) = if ready {
        (
            StatusCode::OK,
            json!({"status": "ready", "healthy_workers": h, "total_workers": total}),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not ready", "reason": "insufficient healthy workers"}),
        )
    };
    full(
        status,
        "application/json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

fn workers_list(app: &RouterApp) -> Response<RBody> {
    let ws: Vec<Value> = app
        .workers
        .iter()
        .map(|w| {
            json!({"url": w.url, "model_id": w.model_id.lock().map(|m| m.clone()).unwrap_or_default(),
                "worker_type": w.role.as_str(), "is_healthy": w.healthy.load(Ordering::Acquire),
                "connection_mode": "HTTP", "bootstrap_port": w.bootstrap_port})
        })
        .collect();
    let count = |r| app.workers.iter().filter(|w| w.role == r).count();
    let body = json!({"workers": ws, "total": ws.len(), "stats": {"prefill_count": count(Role::Prefill),
        "decode_count": count(Role::Decode), "regular_count": count(Role::Regular)}});
    full(
        StatusCode::OK,
        "application/json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

async fn flush(app: &RouterApp) -> Response<RBody> {
    let mut ok = 0;
    for w in &app.workers {
        let req = Request::post(format!("{}/flush_cache", w.url)).body(Full::new(Bytes::new()));
        if let Ok(req) = req
            && let Ok(Ok(r)) =
                tokio::time::timeout(Duration::from_secs(30), app.client.request(req)).await
            && r.status().is_success()
        {
            ok += 1;
        }
    }
    let n = app.workers.len();
    let body = json!({"status": if ok == n { "success" } else { "partial" },
        "message": format!("Successfully flushed cache on all {ok} HTTP workers"),
        "workers_flushed": ok, "total_http_workers": n, "total_workers": n});
    full(
        StatusCode::OK,
        "application/json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

fn no_workers(pd: bool, role: Role) -> Response<RBody> {
    if pd {
        router_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "server_selection_failed",
            &format!(
                "No available servers: No {} workers available. Please check if {} servers are configured and healthy.",
                role.as_str(),
                role.as_str()
            ),
        )
    } else {
        router_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "no_available_workers",
            "No available workers (all circuits open or unhealthy)",
        )
    }
}

fn pick(app: &RouterApp, role: Role) -> Option<Arc<Worker>> {
    let hs = healthy(app, role);
    if hs.is_empty() {
        return None;
    }
    Some(hs[app.rr.fetch_add(1, Ordering::Relaxed) % hs.len()].clone())
}

fn request_id(path: &str, rng: &mut SplitMix64) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let prefix = match path {
        "/generate" => "gnt-",
        "/v1/completions" => "cmpl-",
        "/v1/chat/completions" => "chatcmpl-",
        _ => "req-",
    };
    let tail: String = (0..24)
        .map(|_| ALPHA[(rng.next_u64() % ALPHA.len() as u64) as usize] as char)
        .collect();
    format!("{prefix}{tail}")
}

fn post(
    url: &str,
    body: Bytes,
    headers: &hyper::HeaderMap,
) -> Result<Request<Full<Bytes>>, String> {
    let mut b = Request::post(url)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header("accept", "*/*");
    for h in [
        "authorization",
        "x-request-id",
        "x-correlation-id",
        "traceparent",
    ] {
        if let Some(v) = headers.get(h) {
            b = b.header(h, v);
        }
    }
    b.body(Full::new(body)).map_err(|e| e.to_string())
}

/// One attempt's failure: HTTP status and error body for the client, plus the log line.
struct Failure {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: String,
}

async fn generation(
    app: &Arc<RouterApp>,
    path: &str,
    body: Bytes,
    headers: &hyper::HeaderMap,
) -> Response<RBody> {
    let mut v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return full(
                StatusCode::BAD_REQUEST,
                "text/plain",
                format!("Failed to parse the request body as JSON: {e}"),
            );
        }
    };
    let batch = match path {
        "/v1/completions" => v["prompt"]
            .as_array()
            .filter(|a| a.first().is_some_and(Value::is_string))
            .map(Vec::len),
        _ => None,
    };
    let attempts = if app.args.disable_retries {
        1
    } else {
        app.args.retry_max_retries.max(1)
    };
    let timeout = Duration::from_secs(app.args.request_timeout_secs.max(1));
    let mut backoff = Duration::from_millis(app.args.retry_initial_backoff_ms);
    let mut last: Option<Failure> = None;
    let rid = {
        let mut rng = app.rng.lock().unwrap_or_else(|e| e.into_inner());
        request_id(path, &mut rng)
    };
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
            backoff = backoff.mul_f64(1.5).min(Duration::from_secs(30));
        }
        let result = if app.pd {
            pd_attempt(app, path, &mut v, batch, headers, timeout).await
        } else {
            regular_attempt(app, path, &body, headers, timeout).await
        };
        match result {
            Ok(mut resp) => {
                let h = resp.headers_mut();
                if let Ok(val) = rid.parse() {
                    h.insert("x-request-id", val);
                }
                h.insert(
                    "access-control-allow-origin",
                    hyper::header::HeaderValue::from_static("*"),
                );
                h.insert(
                    "access-control-expose-headers",
                    hyper::header::HeaderValue::from_static("*"),
                );
                return resp;
            }
            Err(f) => {
                if f.status == StatusCode::SERVICE_UNAVAILABLE
                    && f.code == "server_selection_failed"
                {
                    app.log.error(
                        "routers::http::pd_router",
                        &format!("Failed to select PD pair error={}", f.message),
                    );
                }
                last = Some(f);
            }
        }
    }
    app.log
        .error("response", "request failed with server error");
    match last {
        Some(f) => router_error(f.status, f.kind, f.code, &f.message),
        None => no_workers(app.pd, Role::Regular),
    }
}

fn relay(resp: Response<Incoming>) -> Response<RBody> {
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(hyper::header::CONNECTION);
    parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    Response::from_parts(parts, body.map_err(|e| -> BoxError { Box::new(e) }).boxed())
}

async fn pd_attempt(
    app: &Arc<RouterApp>,
    path: &str,
    v: &mut Value,
    batch: Option<usize>,
    headers: &hyper::HeaderMap,
    timeout: Duration,
) -> Result<Response<RBody>, Failure> {
    let selection = |role: Role| Failure {
        status: StatusCode::SERVICE_UNAVAILABLE,
        kind: "Service Unavailable",
        code: "server_selection_failed",
        message: format!(
            "No available servers: No {} workers available. Please check if {} servers are configured and healthy.",
            role.as_str(),
            role.as_str()
        ),
    };
    let p = pick(app, Role::Prefill).ok_or_else(|| selection(Role::Prefill))?;
    let d = pick(app, Role::Decode).ok_or_else(|| selection(Role::Decode))?;
    let room = |app: &RouterApp| {
        let mut rng = app.rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.next_u64() >> 1
    };
    if let (Some(obj), Some(n)) = (v.as_object_mut(), batch) {
        obj.insert(
            "bootstrap_host".into(),
            json!(vec![p.bootstrap_host.clone(); n]),
        );
        obj.insert("bootstrap_port".into(), json!(vec![p.bootstrap_port; n]));
        obj.insert(
            "bootstrap_room".into(),
            json!((0..n).map(|_| room(app)).collect::<Vec<_>>()),
        );
    } else if let Some(obj) = v.as_object_mut() {
        obj.insert("bootstrap_host".into(), json!(p.bootstrap_host));
        obj.insert("bootstrap_port".into(), json!(p.bootstrap_port));
        obj.insert("bootstrap_room".into(), json!(room(app)));
    }
    let bytes = Bytes::from(serde_json::to_vec(v).unwrap_or_default());
    let preq = post(&format!("{}{path}", p.url), bytes.clone(), headers)
        .map_err(|m| bad_gateway("prefill", &m))?;
    let dreq =
        post(&format!("{}{path}", d.url), bytes, headers).map_err(|m| bad_gateway("decode", &m))?;
    let prefill = async {
        let r = tokio::time::timeout(timeout, app.client.request(preq))
            .await
            .map_err(|_| format!("request to {} timed out", p.url))?
            .map_err(|e| format!("error sending request for url ({}{path}): {e}", p.url))?;
        let status = r.status();
        let body = body_bytes(r).await;
        Ok::<_, String>((status, body))
    };
    let decode = async {
        tokio::time::timeout(timeout, app.client.request(dreq))
            .await
            .map_err(|_| format!("request to {} timed out", d.url))?
            .map_err(|e| format!("error sending request for url ({}{path}): {e}", d.url))
    };
    let (pr, dr) = tokio::join!(prefill, decode);
    match pr {
        Err(e) => {
            app.log.error(
                "routers::http::pd_router",
                &format!(
                    "Prefill server failed (CRITICAL) prefill_url={} error={e}",
                    p.url
                ),
            );
            return Err(Failure {
                status: StatusCode::BAD_GATEWAY,
                kind: "Bad Gateway",
                code: "prefill_server_error",
                message: format!("Prefill server error: {e}. This will cause decode timeout."),
            });
        }
        Ok((s, body)) if !s.is_success() => {
            let text = String::from_utf8_lossy(&body).to_string();
            app.log.error(
                "routers::http::pd_router",
                &format!(
                    "Prefill server returned error status prefill_url={} status={s} body={text}",
                    p.url
                ),
            );
            return Err(Failure {
                status: s,
                kind: "Internal Server Error",
                code: "prefill_internal_error",
                message: format!("Prefill server error ({s}): {text}"),
            });
        }
        Ok(_) => {}
    }
    match dr {
        Err(e) => {
            app.log.error(
                "routers::http::pd_router",
                &format!("Decode request failed decode_url={} error={e}", d.url),
            );
            Err(Failure {
                status: StatusCode::BAD_GATEWAY,
                kind: "Bad Gateway",
                code: "decode_server_error",
                message: format!("Decode server error: {e}"),
            })
        }
        Ok(r) if !r.status().is_success() => {
            let s = r.status();
            app.log.error(
                "routers::http::pd_router",
                &format!(
                    "Decode server returned error status decode_url={} status={s}",
                    d.url
                ),
            );
            let body = body_bytes(r).await;
            Err(Failure {
                status: s,
                kind: "Internal Server Error",
                code: "decode_internal_error",
                message: String::from_utf8_lossy(&body).to_string(),
            })
        }
        Ok(r) => Ok(relay(r)),
    }
}

/// The whole body of a worker's response (empty when it breaks off).
async fn body_bytes(r: Response<Incoming>) -> Bytes {
    r.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default()
}

fn bad_gateway(role: &str, m: &str) -> Failure {
    Failure {
        status: StatusCode::BAD_GATEWAY,
        kind: "Bad Gateway",
        code: "server_error",
        message: format!("{role}: {m}"),
    }
}

async fn regular_attempt(
    app: &Arc<RouterApp>,
    path: &str,
    body: &Bytes,
    headers: &hyper::HeaderMap,
    timeout: Duration,
) -> Result<Response<RBody>, Failure> {
    let w = pick(app, Role::Regular).ok_or(Failure {
        status: StatusCode::SERVICE_UNAVAILABLE,
        kind: "Service Unavailable",
        code: "no_available_workers",
        message: "No available workers (all circuits open or unhealthy)".into(),
    })?;
    let req = post(&format!("{}{path}", w.url), body.clone(), headers)
        .map_err(|m| bad_gateway("worker", &m))?;
    match tokio::time::timeout(timeout, app.client.request(req)).await {
        Ok(Ok(r)) if r.status().is_server_error() => Err(Failure {
            status: r.status(),
            kind: "Internal Server Error",
            code: "internal_error",
            message: String::from_utf8_lossy(&body_bytes(r).await).to_string(),
        }),
        Ok(Ok(r)) => Ok(relay(r)),
        Ok(Err(e)) => Err(bad_gateway(
            "worker",
            &format!("error sending request for url ({}{path}): {e}", w.url),
        )),
        Err(_) => Err(bad_gateway(
            "worker",
            &format!("request to {} timed out", w.url),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: RouterArgs,
    }

    #[test]
    fn ci_command_line_parses_into_pd_workers() {
        let t = T::try_parse_from([
            "x",
            "--pd-disaggregation",
            "--prefill",
            "http://10.1.2.3:30025",
            "--decode",
            "http://10.1.2.3:30026",
            "--host",
            "0.0.0.0",
            "--port",
            "30028",
        ])
        .unwrap();
        let (ws, pd) = workers_from(&t.a).unwrap();
        assert!(pd);
        assert_eq!(ws.len(), 2);
        assert_eq!(ws[0].role, Role::Prefill);
        assert_eq!(ws[0].bootstrap_host, "10.1.2.3");
        assert_eq!(ws[0].bootstrap_port, None);
        let t = T::try_parse_from([
            "x",
            "--pd-disaggregation",
            "--prefill",
            "http://localhost:1",
            "8998",
            "--decode",
            "http://localhost:2",
        ])
        .unwrap();
        assert_eq!(workers_from(&t.a).unwrap().0[0].bootstrap_port, Some(8998));
        let t = T::try_parse_from(["x", "--pd-disaggregation", "--prefill", "http://h:1", "abc"])
            .unwrap();
        assert!(
            workers_from(&t.a)
                .is_err_and(|e| e.to_string().contains("Invalid bootstrap port: abc"))
        );
    }

    #[test]
    fn prefill_without_pd_flag_is_ignored_like_the_real_router() {
        let t =
            T::try_parse_from(["x", "--prefill", "http://h:1", "--decode", "http://h:2"]).unwrap();
        let (ws, pd) = workers_from(&t.a).unwrap();
        assert!(!pd);
        assert!(ws.is_empty());
        assert_eq!(url_host("http://[::1]:8000/x"), "::1");
    }
}
