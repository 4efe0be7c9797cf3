//! Test support (feature `testkit`, enabled only by the test suites' dev-dependencies; never
//! part of a binary): Docker tests on the real daemon and HTTP stand-ins for Docker Hub, a
//! registry or GitHub, shared by the test suites of every crate.
//!
//! * [`connect_or_skip`]: a connected engine, or `None` with the reason printed when no daemon
//!   answers — except under `SGLCI_REQUIRE_DOCKER=1` (set by `.ci/run`), where a missing
//!   daemon panics (a failure).
//! * [`host_programs_context`]: a build context for a tiny `FROM scratch` image holding host
//!   programs (`/bin/sh`, `/bin/sleep`, ...) and the shared libraries `ldd` lists for them
//!   ([`crate::scratch`]), so tests get a shell in a container without any registry.
//! * [`elf_program`]: a minimal static or dynamic ELF64 file for image-content tests.
//! * [`unique`]: names that do not collide between parallel tests and runs.
//! * [`Cleanup`]: removes the containers and images a test made, also when it panics;
//!   [`with_engine`] runs a test body with both.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use bollard::models::ContainerInspectResponse;

use crate::blocking::BlockingEngine;
use crate::container::{ContainerInfo, ContainerSpec};
use crate::context::BuildContext;
use crate::scratch::{HostProgram, ProgramError};

/// Environment variable that turns a missing daemon into a test failure.
pub const REQUIRE_DOCKER_ENV: &str = "SGLCI_REQUIRE_DOCKER";

/// Connects with `DOCKER_HOST`; on failure prints why and returns `None`, or panics when
/// `SGLCI_REQUIRE_DOCKER=1`.
#[allow(clippy::print_stderr)]
pub fn connect_or_skip(test: &str) -> Option<BlockingEngine> {
    match BlockingEngine::connect() {
        Ok(e) => Some(e),
        Err(err) => {
            let required = std::env::var(REQUIRE_DOCKER_ENV).is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{test}: {REQUIRE_DOCKER_ENV}=1 but no Docker daemon answers: {err}"
            );
            eprintln!("{test}: skipped, no Docker daemon answers: {err}");
            None
        }
    }
}

/// Runs a Docker test: `body` gets a connected engine and a [`Cleanup`] that removes what it
/// registered when the test ends (also when it panics). Without a daemon it returns after
/// [`connect_or_skip`] said why (or panics under `SGLCI_REQUIRE_DOCKER=1`).
pub fn with_engine(test: &str, body: impl FnOnce(&BlockingEngine, &mut Cleanup<'_>)) {
    let Some(engine) = connect_or_skip(test) else {
        return;
    };
    let mut cleanup = Cleanup::new(&engine);
    body(&engine, &mut cleanup);
}

/// The original's container settings ([`ContainerSpec::nightly`]) for a test image: the
/// image's own command (test images have no `tail`) and a small `/dev/shm`.
pub fn test_spec(name: &str, image: &str) -> ContainerSpec {
    let mut s = ContainerSpec::nightly(name, image);
    s.cmd = None;
    s.shm_size = "64m".into();
    s
}

/// Checks what every container sglang-ci creates has (our label, `org.sglang-ci.created-by`
/// naming `created_by`, host network and IPC as the original's `docker run`) and returns
/// `docker inspect`'s answer for the test's own checks.
#[track_caller]
pub fn inspect_ours(
    engine: &BlockingEngine,
    info: &ContainerInfo,
    created_by: &str,
) -> ContainerInspectResponse {
    assert!(info.managed, "{info:?}");
    assert_eq!(
        info.labels
            .get("org.sglang-ci.created-by")
            .map(String::as_str),
        Some(created_by)
    );
    let raw = engine
        .block_on(
            engine
                .engine()
                .bollard()
                .inspect_container(&info.name, None),
        )
        .unwrap_or_else(|e| panic!("inspect {}: {e}", info.name));
    let hc = raw.host_config.as_ref().expect("host config");
    assert_eq!(hc.network_mode.as_deref(), Some("host"));
    assert_eq!(hc.ipc_mode.as_deref(), Some("host"));
    raw
}

/// `<prefix>-<pid>-<n>`, unique within and across test processes.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A build context: `FROM scratch`, the given host programs at `/bin/<name>` (given as
/// absolute paths such as `/bin/sh`), their libraries at the paths `ldd` prints
/// ([`crate::scratch`]), `CMD` = `cmd`. `extra_dockerfile` lines are appended (e.g. `LABEL ...`).
pub fn host_programs_context(
    programs: &[&str],
    cmd: &[&str],
    extra_dockerfile: &str,
) -> Result<BuildContext, ProgramError> {
    let mut ctx = BuildContext::new();
    let mut libs: BTreeSet<PathBuf> = BTreeSet::new();
    let io = |path: &str| {
        let path = PathBuf::from(path);
        move |source| ProgramError::Io { path, source }
    };
    for p in programs {
        let program = HostProgram::read(Path::new(p))?;
        let name = Path::new(p)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("program");
        ctx.file(&format!("rootfs/bin/{name}"), &program.data, 0o755)
            .map_err(io(p))?;
        libs.extend(program.libraries);
    }
    ctx.libraries("rootfs", &libs)?;
    ctx.dir("rootfs/tmp").map_err(io("rootfs/tmp"))?;
    let cmd_json = serde_json::to_string(cmd).unwrap_or_else(|_| "[]".into());
    ctx.dockerfile(&format!(
        "FROM scratch\nCOPY rootfs/ /\nCMD {cmd_json}\n{extra_dockerfile}\n"
    ))
    .map_err(io("Dockerfile"))?;
    Ok(ctx)
}

/// The smallest ELF64 program [`crate::scratch::linkage`] reads: the file header and one
/// program header, `PT_INTERP` naming `interpreter` (a dynamic program) or `PT_LOAD` (`None`:
/// a static one). It does not run; it stands in for a program going into an image.
pub fn elf_program(interpreter: Option<&str>) -> Vec<u8> {
    let interp = interpreter.map(|i| format!("{i}\0")).unwrap_or_default();
    let ph = 0x40;
    let off = ph + 0x38;
    let mut d = vec![0u8; off + interp.len()];
    d[..4].copy_from_slice(b"\x7fELF");
    d[4] = 2; // 64-bit
    d[5] = 1; // little-endian
    d[0x20..0x28].copy_from_slice(&(ph as u64).to_le_bytes());
    d[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes());
    d[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
    let ptype: u32 = if interpreter.is_some() { 3 } else { 1 };
    d[ph..ph + 4].copy_from_slice(&ptype.to_le_bytes());
    d[off..].copy_from_slice(interp.as_bytes());
    d[ph + 8..ph + 16].copy_from_slice(&(off as u64).to_le_bytes());
    d[ph + 0x20..ph + 0x28].copy_from_slice(&(interp.len() as u64).to_le_bytes());
    d
}

/// Removes the registered containers and images when dropped (errors ignored).
pub struct Cleanup<'a> {
    engine: &'a BlockingEngine,
    containers: Vec<String>,
    images: Vec<String>,
}

impl<'a> Cleanup<'a> {
    /// Nothing registered yet.
    pub fn new(engine: &'a BlockingEngine) -> Self {
        Self {
            engine,
            containers: Vec::new(),
            images: Vec::new(),
        }
    }

    /// Remove this container (forced) at the end.
    pub fn container(&mut self, name: &str) {
        self.containers.push(name.to_string());
    }

    /// Remove this image (forced) at the end, after the containers.
    pub fn image(&mut self, reference: &str) {
        self.images.push(reference.to_string());
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.engine.remove_container(c, true);
        }
        for i in self.images.iter().rev() {
            let _ = self.engine.remove_image(i, true);
        }
    }
}

/// One request received by an [`HttpStandIn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandInRequest {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// Path with query (`/v2/repositories/rocm/sgl-dev/tags/?page_size=100`).
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl StandInRequest {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The answer an [`HttpStandIn`] handler gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandInReply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Wait this long before answering (a hang longer than the client's timeout).
    pub delay: std::time::Duration,
}

impl StandInReply {
    /// `status` with a body.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: std::time::Duration::ZERO,
        }
    }

    /// Adds a header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    /// Delays the answer.
    pub fn delayed(mut self, d: std::time::Duration) -> Self {
        self.delay = d;
        self
    }
}

type Handler = dyn Fn(&StandInRequest) -> StandInReply + Send + Sync;

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests (one request per connection, one thread per
/// connection), standing in for Docker Hub, a registry or GitHub. Stops when dropped.
pub struct HttpStandIn {
    addr: std::net::SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<Vec<StandInRequest>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for HttpStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStandIn")
            .field("addr", &self.addr)
            .finish()
    }
}

impl HttpStandIn {
    /// Starts the server; `handler` answers every request.
    pub fn start(
        handler: impl Fn(&StandInRequest) -> StandInReply + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        use std::sync::atomic::AtomicBool;
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let log: Arc<Mutex<Vec<StandInRequest>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, stop2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (h, l, s) = (handler.clone(), log2.clone(), stop2.clone());
                std::thread::spawn(move || serve(conn, &*h, &l, &s));
            }
        });
        Ok(Self { addr, log, stop })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<StandInRequest> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for HttpStandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

fn serve(
    mut conn: std::net::TcpStream,
    handler: &Handler,
    log: &std::sync::Mutex<Vec<StandInRequest>>,
    stop: &std::sync::atomic::AtomicBool,
) {
    use std::io::{BufRead, BufReader, Write};
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let Ok(clone) = conn.try_clone() else { return };
    let mut reader = BufReader::new(clone);
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() || first.trim().is_empty() {
        return;
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let req = StandInRequest {
        method,
        path,
        headers,
    };
    if let Ok(mut l) = log.lock() {
        l.push(req.clone());
    }
    let reply = handler(&req);
    let step = std::time::Duration::from_millis(20);
    let mut waited = std::time::Duration::ZERO;
    while waited < reply.delay && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(step);
        waited += step;
    }
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    if !reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    if req.method != "HEAD" {
        let _ = conn.write_all(&reply.body);
    }
    let _ = conn.flush();
}

/// A Docker Hub tags page in Docker Hub's field layout: `count`, `next` (absolute URL of page
/// `page + 1` on `base_url`, or `null` when `last`), `previous`, and one `results[]` entry per
/// name (made from `template`, an entry of a real-shaped page, with `name` replaced).
pub fn hub_page(
    base_url: &str,
    repo: &str,
    page: u32,
    names: &[&str],
    last: bool,
    count: usize,
    template: &serde_json::Value,
) -> String {
    let url = |p: u32| {
        serde_json::Value::String(format!(
            "{base_url}/v2/repositories/{repo}/tags/?page={p}&page_size=100"
        ))
    };
    let results: Vec<serde_json::Value> = names
        .iter()
        .map(|n| {
            let mut e = template.clone();
            if let Some(o) = e.as_object_mut() {
                o.insert("name".into(), serde_json::Value::String((*n).to_string()));
            }
            e
        })
        .collect();
    serde_json::json!({
        "count": count,
        "next": if last { serde_json::Value::Null } else { url(page + 1) },
        "previous": if page <= 1 { serde_json::Value::Null } else { url(page - 1) },
        "results": results,
    })
    .to_string()
}

/// A Docker Hub + registry stand-in for `repo`: the tags API answers `pages` (page `N` of
/// `?page=N`, each in Docker Hub's layout with absolute `next`/`previous` links on the
/// address the client used), and `/v2/<repo>/manifests/<tag>` answers 200 for the tags in
/// `pullable`, 404 for the others.
pub fn hub_stand_in(
    repo: &str,
    pages: Vec<Vec<String>>,
    pullable: Vec<String>,
) -> std::io::Result<HttpStandIn> {
    let template = serde_json::json!({
        "creator": 1, "id": 1, "images": [], "last_updated": "2025-10-29T09:00:00.000000Z",
        "name": "", "repository": 1, "full_size": 1, "v2": true, "tag_status": "active",
        "media_type": "application/vnd.oci.image.index.v1+json", "content_type": "image",
        "digest": "sha256:00"
    });
    let repo = repo.to_owned();
    let count = pages.iter().map(Vec::len).sum();
    HttpStandIn::start(move |req| {
        if let Some(tag) = req.path.strip_prefix(&format!("/v2/{repo}/manifests/")) {
            let code = if pullable.iter().any(|t| t == tag) {
                200
            } else {
                404
            };
            return StandInReply::new(code, "");
        }
        let base = format!("http://{}", req.header("host").unwrap_or("127.0.0.1"));
        let page: usize = req
            .path
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("page="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
            .max(1);
        let names: Vec<&str> = pages
            .get(page - 1)
            .map(|p| p.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let last = page >= pages.len();
        StandInReply::new(
            200,
            hub_page(&base, &repo, page as u32, &names, last, count, &template),
        )
    })
}
