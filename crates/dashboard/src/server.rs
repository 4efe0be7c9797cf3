//! Routes, parameter checks, responses and graceful shutdown.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use history_store::query::{Format, render};
use history_store::{ReadLimits, StoreError};
use hyper_util::service::TowerToHyperService;
use plots_server::ConnectionLimits;
use plots_server::handler::Site;
use report::regression::Rule;
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::data::{self, SeriesQuery};
use crate::error::{Error, PageError};
use crate::pages::{self, SqlOutcome};
use crate::pool::{Pool, Worker};
use crate::{Config, html};

/// Connections of the SQL explorer (apart from the pages', so a slow statement never holds
/// up a page).
const SQL_WORKERS: usize = 2;
/// Longest run id accepted (a run key is `<host>:<path>`).
const MAX_ID: usize = 1024;
/// Longest explorer statement accepted.
const MAX_SQL: usize = 16 * 1024;
/// Longest name parameter (hardware, model, variant, metric, load).
const MAX_NAME: usize = 128;

/// What every handler shares.
pub(crate) struct App {
    pool: Pool,
    sql_pool: Pool,
    rule: Rule,
    limits: ReadLimits,
    plots: Option<Arc<Site>>,
    files: Option<Arc<Site>>,
    coverage_dir: PathBuf,
}

fn site(dir: &Path, mount: &str, title: &str) -> Result<Option<Arc<Site>>, Error> {
    match std::fs::canonicalize(dir) {
        Ok(root) if root.is_dir() => Ok(Some(Arc::new(Site {
            root,
            title: title.to_owned(),
            mount: mount.to_owned(),
        }))),
        Ok(_) => Err(Error::Dir {
            path: dir.to_path_buf(),
            reason: "not a directory".into(),
        }),
        Err(_) => Ok(None),
    }
}

impl App {
    pub(crate) fn new(config: &Config) -> Result<Self, Error> {
        Ok(Self {
            pool: Pool::new(&config.location, config.workers),
            sql_pool: Pool::new(&config.location, SQL_WORKERS),
            rule: config.rule,
            limits: config.sql_limits,
            plots: site(&config.plots_dir, "/plots", "SGL Benchmark Plots")?,
            files: site(&config.base_dir, "/files", "sglang-ci files")?,
            coverage_dir: config.coverage_dir.clone(),
        })
    }
}

fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/api/overview", get(overview_json))
        .route("/hardware/{hw}", get(hardware))
        .route("/api/hardware/{hw}", get(hardware_json))
        .route("/series", get(series))
        .route("/api/series", get(series_json))
        .route("/run/{*id}", get(run))
        .route("/api/run/{*id}", get(run_json))
        .route("/sql", get(sql))
        .route("/api/sql", get(sql_json))
        .route("/coverage", get(coverage))
        .route("/api/coverage", get(coverage_json))
        .route("/health", get(health))
        .route("/plots", get(plots))
        .route("/plots/", get(plots))
        .route("/plots/{*rest}", get(plots))
        .route("/files/{*rest}", get(files))
        .fallback(not_found)
        .with_state(app)
}

/// Serves until `shutdown` through plots-server's accept loop (connection limit, request-head
/// and idle timeouts), then gives in-flight requests the shutdown grace (or until `force`).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    force: impl Future<Output = ()>,
) {
    let router = routes(app);
    let service = move |_peer| TowerToHyperService::new(router.clone());
    let report = plots_server::serve_connections(listener, limits, service, shutdown, force).await;
    if report.forced_closed > 0 {
        tracing::warn!(
            "{} request(s) still running after the grace period were closed",
            report.forced_closed
        );
    }
}

fn respond(status: u16, content_type: &'static str, body: Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The pages need nothing from anywhere else and run no script.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    r
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

fn error_response(e: &PageError, json: bool) -> Response {
    let status = e.status();
    if json {
        let body = serde_json::json!({"status": status, "error": e.to_string()});
        respond(status, JSON, Bytes::from(body.to_string()))
    } else {
        respond(
            status,
            HTML,
            Bytes::from(pages::error(status, &e.to_string(), &[])),
        )
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Bytes, PageError> {
    serde_json::to_vec(v)
        .map(Bytes::from)
        .map_err(|e| PageError::Internal(format!("JSON: {e}")))
}

/// Runs `make` on a worker, kept under `key` until the store changes.
async fn cached(
    app: &Arc<App>,
    key: String,
    json: bool,
    make: impl FnOnce(&mut Worker, &App) -> Result<Bytes, PageError> + Send + 'static,
) -> Response {
    let a = Arc::clone(app);
    let arrived = Instant::now();
    let shared = app.pool.shared_token();
    let out = app
        .pool
        .run(move |w| {
            w.refresh_since(arrived, shared.as_deref())?;
            w.page(&key, |w| make(w, &a))
        })
        .await;
    match out.and_then(|r| r) {
        Ok(b) => respond(200, if json { JSON } else { HTML }, b),
        Err(e) => error_response(&e, json),
    }
}

fn check_name(what: &str, v: &str) -> Result<(), PageError> {
    let ok = !v.is_empty()
        && v.len() <= MAX_NAME
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(PageError::BadRequest(format!(
            "{what} must be 1 to {MAX_NAME} letters, digits, '.', '_', '-' or '+'"
        )))
    }
}

fn check_date(v: &str) -> Result<(), PageError> {
    let ok = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if ok {
        Ok(())
    } else {
        Err(PageError::BadRequest(format!(
            "date must be YYYY-MM-DD, not {:?}",
            v.chars().take(40).collect::<String>()
        )))
    }
}

fn check_id(id: &str) -> Result<(), PageError> {
    if id.is_empty() || id.len() > MAX_ID || id.chars().any(char::is_control) {
        return Err(PageError::BadRequest(format!(
            "a run id is 1 to {MAX_ID} printable characters (<host>:<path>)"
        )));
    }
    Ok(())
}

async fn overview(State(app): State<Arc<App>>) -> Response {
    cached(&app, "h:/".into(), false, |w, app| {
        let series = w.series()?;
        let store = w.store()?;
        let hw = data::hardware_list(store)?;
        let o = data::overview(store, &series, &app.rule)?;
        Ok(Bytes::from(pages::overview(&o, &hw)))
    })
    .await
}

async fn overview_json(State(app): State<Arc<App>>) -> Response {
    cached(&app, "j:/".into(), true, |w, app| {
        let series = w.series()?;
        to_json(&data::overview(w.store()?, &series, &app.rule)?)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct DateParam {
    date: Option<String>,
}

async fn hardware_page(
    app: Arc<App>,
    hw: String,
    p: Result<Query<DateParam>, axum::extract::rejection::QueryRejection>,
    json: bool,
) -> Response {
    let date = match p {
        Ok(Query(p)) => p.date.filter(|d| !d.is_empty()),
        Err(e) => return error_response(&PageError::BadRequest(e.body_text()), json),
    };
    if let Err(e) =
        check_name("hardware", &hw).and_then(|()| date.as_deref().map_or(Ok(()), check_date))
    {
        return error_response(&e, json);
    }
    let key = format!(
        "{}:/hardware/{hw}?{}",
        if json { "j" } else { "h" },
        date.as_deref().unwrap_or("")
    );
    cached(&app, key, json, move |w, app| {
        let series = w.series()?;
        let store = w.store()?;
        let p = data::hardware_page(store, &series, &app.rule, &hw, date.as_deref())?;
        if json {
            to_json(&p)
        } else {
            let list = data::hardware_list(store)?;
            Ok(Bytes::from(pages::hardware(&p, &list, app.rule.name())))
        }
    })
    .await
}

async fn hardware(
    State(app): State<Arc<App>>,
    UrlPath(hw): UrlPath<String>,
    p: Result<Query<DateParam>, axum::extract::rejection::QueryRejection>,
) -> Response {
    hardware_page(app, hw, p, false).await
}

async fn hardware_json(
    State(app): State<Arc<App>>,
    UrlPath(hw): UrlPath<String>,
    p: Result<Query<DateParam>, axum::extract::rejection::QueryRejection>,
) -> Response {
    hardware_page(app, hw, p, true).await
}

#[derive(Debug, Deserialize)]
struct SeriesParams {
    hardware: Option<String>,
    model: Option<String>,
    variant: Option<String>,
    metric: Option<String>,
    load: Option<String>,
}

fn series_query(p: SeriesParams) -> Result<SeriesQuery, PageError> {
    let need = |what: &str, v: Option<String>| -> Result<String, PageError> {
        let v = v.filter(|s| !s.is_empty()).ok_or_else(|| {
            PageError::BadRequest(format!(
                "/series needs {what}= (hardware, model, variant, metric; load optional)"
            ))
        })?;
        check_name(what, &v)?;
        Ok(v)
    };
    let load = p.load.filter(|s| !s.is_empty());
    if let Some(l) = &load {
        check_name("load", l)?;
    }
    Ok(SeriesQuery {
        hardware: need("hardware", p.hardware)?,
        model: need("model", p.model)?,
        variant: need("variant", p.variant)?,
        metric: p
            .metric
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "ttft_ms".to_owned()),
        load,
    })
}

async fn series_page(
    app: Arc<App>,
    p: Result<Query<SeriesParams>, axum::extract::rejection::QueryRejection>,
    json: bool,
) -> Response {
    let q = match p
        .map_err(|e| PageError::BadRequest(e.body_text()))
        .and_then(|Query(p)| series_query(p))
    {
        Ok(q) => q,
        Err(e) => return error_response(&e, json),
    };
    if let Err(e) = check_name("metric", &q.metric) {
        return error_response(&e, json);
    }
    let api = format!(
        "/api/series?hardware={}&model={}&variant={}&metric={}{}",
        html::enc_query(&q.hardware),
        html::enc_query(&q.model),
        html::enc_query(&q.variant),
        html::enc_query(&q.metric),
        q.load
            .as_ref()
            .map(|l| format!("&load={}", html::enc_query(l)))
            .unwrap_or_default()
    );
    let key = format!("{}:{api}", if json { "j" } else { "h" });
    cached(&app, key, json, move |w, app| {
        let series = w.series()?;
        let p = data::series_page(&series, &app.rule, &q)?;
        if json {
            to_json(&p)
        } else {
            let list = data::hardware_list(w.store()?)?;
            Ok(Bytes::from(pages::series(&p, &list, &api)))
        }
    })
    .await
}

async fn series(
    State(app): State<Arc<App>>,
    p: Result<Query<SeriesParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    series_page(app, p, false).await
}

async fn series_json(
    State(app): State<Arc<App>>,
    p: Result<Query<SeriesParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    series_page(app, p, true).await
}

async fn run_page(app: Arc<App>, id: String, json: bool) -> Response {
    if let Err(e) = check_id(&id) {
        return error_response(&e, json);
    }
    let key = format!("{}:/run/{id}", if json { "j" } else { "h" });
    cached(&app, key, json, move |w, app| {
        let series = w.series()?;
        let store = w.store()?;
        let p = data::run_page(store, &series, &app.rule, &id)?;
        if json {
            to_json(&p)
        } else {
            let list = data::hardware_list(store)?;
            Ok(Bytes::from(pages::run(&p, &list)))
        }
    })
    .await
}

async fn run(State(app): State<Arc<App>>, UrlPath(id): UrlPath<String>) -> Response {
    run_page(app, id, false).await
}

async fn run_json(State(app): State<Arc<App>>, UrlPath(id): UrlPath<String>) -> Response {
    run_page(app, id, true).await
}

#[derive(Debug, Deserialize)]
struct SqlParams {
    q: Option<String>,
    format: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SqlAs {
    Html,
    Json,
    Csv,
}

async fn sql_answer(
    app: Arc<App>,
    p: Result<Query<SqlParams>, axum::extract::rejection::QueryRejection>,
    api: bool,
) -> Response {
    let p = match p {
        Ok(Query(p)) => p,
        Err(e) => return error_response(&PageError::BadRequest(e.body_text()), api),
    };
    let how = match (api, p.format.as_deref()) {
        (false, _) => SqlAs::Html,
        (true, None | Some("json")) => SqlAs::Json,
        (true, Some("csv")) => SqlAs::Csv,
        (true, Some(f)) => {
            return error_response(
                &PageError::BadRequest(format!("format must be json or csv, not {f:?}")),
                true,
            );
        }
    };
    let q = p.q.unwrap_or_default();
    if q.len() > MAX_SQL {
        return error_response(
            &PageError::BadRequest(format!("the statement is longer than {MAX_SQL} bytes")),
            how != SqlAs::Html,
        );
    }
    let limits = app.limits;
    let out = app
        .sql_pool
        .run(move |w| -> Result<(u16, &'static str, Bytes), PageError> {
            let store = w.store()?;
            let outcome = if q.trim().is_empty() {
                SqlOutcome::Empty
            } else {
                let t0 = Instant::now();
                match store.query_read_only_capped(&q, limits) {
                    Ok(c) => SqlOutcome::Rows(c, t0.elapsed().as_secs_f64() * 1000.0),
                    Err(e @ (StoreError::NotReadOnly(_) | StoreError::Sql { .. })) => {
                        SqlOutcome::Refused(e.to_string().replacen("--sql", "the explorer", 1))
                    }
                    Err(e) => return Err(PageError::Store(e)),
                }
            };
            let status = if matches!(outcome, SqlOutcome::Refused(_)) {
                400
            } else {
                200
            };
            Ok(match (how, &outcome) {
                (SqlAs::Html, _) => {
                    let schema = data::schema(store)?;
                    let list = data::hardware_list(store)?;
                    let html = pages::sql(
                        &q,
                        &outcome,
                        &schema,
                        &list,
                        store.backend(),
                        limits.max_rows,
                        limits.timeout.as_secs_f64(),
                    );
                    (status, HTML, Bytes::from(html))
                }
                (_, SqlOutcome::Refused(msg)) => {
                    let body = serde_json::json!({"status": 400, "error": msg});
                    (400, JSON, Bytes::from(body.to_string()))
                }
                (SqlAs::Csv, SqlOutcome::Rows(c, _)) => (
                    200,
                    "text/csv; charset=utf-8",
                    Bytes::from(render(&c.rows, Format::Csv)),
                ),
                (_, SqlOutcome::Rows(c, ms)) => {
                    let rows: serde_json::Value =
                        serde_json::from_str(&render(&c.rows, Format::Json))
                            .unwrap_or(serde_json::Value::Null);
                    let body = serde_json::json!({
                        "columns": c.rows.columns,
                        "rows": rows,
                        "truncated": c.truncated,
                        "max_rows": limits.max_rows,
                        "elapsed_ms": ms,
                    });
                    (200, JSON, Bytes::from(body.to_string()))
                }
                (_, SqlOutcome::Empty) => {
                    let schema = data::schema(store)?;
                    (200, JSON, to_json(&serde_json::json!({"schema": schema}))?)
                }
            })
        })
        .await;
    match out.and_then(|r| r) {
        Ok((status, ctype, body)) => {
            let mut r = respond(status, ctype, body);
            if ctype.starts_with("text/csv") {
                r.headers_mut().insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"query.csv\""),
                );
            }
            r
        }
        Err(e) => error_response(&e, how != SqlAs::Html),
    }
}

async fn sql(
    State(app): State<Arc<App>>,
    p: Result<Query<SqlParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    sql_answer(app, p, false).await
}

async fn sql_json(
    State(app): State<Arc<App>>,
    p: Result<Query<SqlParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    sql_answer(app, p, true).await
}

/// `/coverage` and `/api/coverage`: read from the reports' folder on every request (files,
/// not the store: no page cache); the navigation's hardware list when the store answers.
async fn coverage_page(app: Arc<App>, json: bool) -> Response {
    let dir = app.coverage_dir.clone();
    let out = app
        .pool
        .run(move |w| {
            let page = crate::coverage::load(&dir);
            if json {
                return to_json(&page);
            }
            let hw = w.store().and_then(data::hardware_list).unwrap_or_default();
            Ok(Bytes::from(pages::coverage(&page, &hw)))
        })
        .await;
    match out.and_then(|r| r) {
        Ok(b) => respond(200, if json { JSON } else { HTML }, b),
        Err(e) => error_response(&e, json),
    }
}

async fn coverage(State(app): State<Arc<App>>) -> Response {
    coverage_page(app, false).await
}

async fn coverage_json(State(app): State<Arc<App>>) -> Response {
    coverage_page(app, true).await
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let out = app
        .pool
        .run(|w| -> Result<serde_json::Value, PageError> {
            w.refresh()?;
            let store = w.store()?;
            let version = store.schema_version().map_err(PageError::Store)?;
            let runs = store
                .query("SELECT count(*) FROM runs", &[])
                .map_err(PageError::Store)?
                .rows
                .first()
                .and_then(|r| r[0].as_i64())
                .unwrap_or(0);
            Ok(serde_json::json!({
                "status": "ok",
                "backend": store.backend(),
                "database": store.location().to_string(),
                "schema_version": version,
                "runs": runs,
                "version": env!("CARGO_PKG_VERSION"),
            }))
        })
        .await;
    match out.and_then(|r| r) {
        Ok(v) => respond(200, JSON, Bytes::from(v.to_string())),
        Err(e) => {
            let body = serde_json::json!({"status": "unavailable", "error": e.to_string()});
            respond(503, JSON, Bytes::from(body.to_string()))
        }
    }
}

/// The request for plots-server's handler: the path below `mount`, query and conditional
/// headers kept.
fn below(req: &Request, mount: &str) -> Option<hyper::Request<()>> {
    let path = req.uri().path().strip_prefix(mount)?;
    let target = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut b = hyper::Request::builder()
        .method(req.method().clone())
        .uri(target);
    for (k, v) in req.headers() {
        b = b.header(k, v);
    }
    b.body(()).ok()
}

async fn plots(State(app): State<Arc<App>>, req: Request) -> Response {
    if req.uri().path() == "/plots" {
        let mut r = respond(301, HTML, Bytes::new());
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/plots/"));
        return r;
    }
    let Some(site) = &app.plots else {
        return error_response(
            &PageError::NotFound("no plots directory (set --plots-dir)".into()),
            false,
        );
    };
    let Some(inner) = below(&req, "/plots") else {
        return error_response(&PageError::BadRequest("bad path".into()), false);
    };
    let (resp, refused) = plots_server::handler::respond(site, &inner).await;
    if let Some(why) = refused {
        tracing::warn!("refused {}: {why:?}", req.uri().path());
    }
    resp.map(Body::new)
}

async fn files(State(app): State<Arc<App>>, req: Request) -> Response {
    let Some(site) = app.files.clone() else {
        return error_response(
            &PageError::NotFound("the benchmark folder does not exist here (--base-dir)".into()),
            false,
        );
    };
    let Some(inner) = below(&req, "/files") else {
        return error_response(&PageError::BadRequest("bad path".into()), false);
    };
    // The path must be safe (plots-server's rules) and name a file some run stored.
    let rel = match plots_server::urlpath::parse(inner.uri().path()) {
        Ok(p) if !p.trailing_slash && !p.segments.is_empty() => {
            let parts: Option<Vec<&str>> = p.segments.iter().map(|s| s.to_str()).collect();
            parts.map(|v| v.join("/"))
        }
        Ok(_) => None,
        Err(why) => {
            tracing::warn!("refused {}: {why}", req.uri().path());
            return error_response(&PageError::BadRequest(why.to_string()), false);
        }
    };
    let Some(rel) = rel else {
        return error_response(
            &PageError::NotFound("only the files of stored runs are served here".into()),
            false,
        );
    };
    let stored = app
        .pool
        .run(move |w| data::is_stored_file(w.store()?, &rel))
        .await
        .and_then(|r| r);
    match stored {
        Ok(true) => {
            let (resp, refused) = plots_server::handler::respond(&site, &inner).await;
            if let Some(why) = refused {
                tracing::warn!("refused {}: {why:?}", req.uri().path());
            }
            resp.map(Body::new)
        }
        Ok(false) => error_response(
            &PageError::NotFound("no stored run has this file".into()),
            false,
        ),
        Err(e) => error_response(&e, false),
    }
}

async fn not_found(req: Request) -> Response {
    let json = req.uri().path().starts_with("/api/");
    error_response(
        &PageError::NotFound(format!(
            "no page at {}",
            req.uri().path().chars().take(200).collect::<String>()
        )),
        json,
    )
}
