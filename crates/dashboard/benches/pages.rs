//! Load benchmark of the dashboard: 64 concurrent keep-alive connections on the overview
//! (`/`), a hardware page (`/hardware/mi30x`) and a series page (`/series?…`) over a store
//! ingested from the dev corpus, once on SQLite and once on a throwaway PostgreSQL server
//! (history-store's testkit; skipped with a line when its server binaries are missing).
//!
//! The dashboard runs in-process (the binary's code: `dashboard::bind` + `dashboard::serve`)
//! on its own 2-thread runtime with the default workers; the load generator is a hyper
//! HTTP/1.1 client on another 2-thread runtime. Every response must be 200 with the body the
//! warm-up request got (pages are rebuilt whenever the store changes, so with no ingest
//! running they are identical): anything else is counted as an error and fails the run.
//!
//! `cargo bench -p dashboard --bench pages` (release). Env: `DASHBOARD_BENCH_SECS` (default
//! 10 per case), `DASHBOARD_BENCH_CONNS` (default 64), `SGLCI_CORPUS`.
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use history_store::{IngestOptions, Location, Store};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// The pages measured.
const PAGES: [(&str, &str); 3] = [
    ("overview", "/"),
    ("hardware", "/hardware/mi30x"),
    (
        "series",
        "/series?hardware=mi30x&model=GROK1&variant=MOE-I4F8&metric=ttft_ms",
    ),
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One connection's tally.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> Option<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    Some(send)
}

/// GET `path` on `send`; the body when the answer is 200.
async fn get(send: &mut Sender, path: &str) -> Option<Bytes> {
    let req = Request::get(path)
        .header("host", "bench")
        .body(Empty::new())
        .ok()?;
    let resp = send.send_request(req).await.ok()?;
    if resp.status() != 200 {
        return None;
    }
    Some(resp.into_body().collect().await.ok()?.to_bytes())
}

/// Closed loop: `conns` connections, each sending its next request when the last answer
/// arrived, for `secs` seconds.
async fn hammer(
    addr: SocketAddr,
    path: &'static str,
    want: Bytes,
    conns: usize,
    secs: u64,
) -> Tally {
    let until = Instant::now() + Duration::from_secs(secs);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..conns {
        let want = want.clone();
        set.spawn(async move {
            let mut t = Tally::default();
            let mut conn: Option<Sender> = None;
            while Instant::now() < until {
                if conn.is_none() {
                    conn = connect(addr).await;
                    if conn.is_none() {
                        t.errors += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
                let send = conn.as_mut().expect("connected");
                let t0 = Instant::now();
                let body = get(send, path).await;
                t.latencies_us
                    .push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                if body.as_ref() != Some(&want) {
                    t.errors += 1;
                    conn = None;
                }
            }
            t
        });
    }
    let mut all = Tally::default();
    while let Some(t) = set.join_next().await {
        let t = t.expect("a load task panicked");
        all.latencies_us.extend(t.latencies_us);
        all.errors += t.errors;
    }
    all.latencies_us.sort_unstable();
    all
}

fn quantile_ms(sorted: &[u32], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n => f64::from(sorted[((n - 1) as f64 * p).round() as usize]) / 1000.0,
    }
}

/// Ingests the corpus into `location`.
fn build(location: &Location) {
    let root = report::corpus::require("online_benchmark_log").unwrap_or_else(|e| panic!("{e}"));
    let mut store = Store::open(location).expect("open the store");
    let t0 = Instant::now();
    let s = history_store::ingest(
        Some(&mut store),
        &IngestOptions {
            root,
            ..IngestOptions::default()
        },
    )
    .expect("ingest the corpus");
    println!(
        "{}: {} runs ingested in {:.1} s",
        location.backend_name(),
        s.added.len() + s.replaced.len() + s.unchanged,
        t0.elapsed().as_secs_f64()
    );
}

/// Measures every page against the store at `location`; false when anything failed.
fn measure(location: &Location, conns: usize, secs: u64) -> bool {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut config = dashboard::Config::new(location.clone(), std::env::temp_dir());
    config.host = "127.0.0.1".into();
    config.port = 0;
    let listener = server_rt.block_on(dashboard::bind(&config)).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let cfg = config.clone();
    let server = server_rt.spawn(async move {
        dashboard::serve(
            listener,
            &cfg,
            async {
                let _ = stopped.await;
            },
            std::future::pending(),
        )
        .await
    });
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut ok = true;
    for (name, path) in PAGES {
        let want = client_rt.block_on(async {
            let mut send = connect(addr).await.expect("connect");
            get(&mut send, path)
                .await
                .expect("the warm-up request answered 200")
        });
        let t = client_rt.block_on(hammer(addr, path, want.clone(), conns, secs));
        let n = t.latencies_us.len();
        println!(
            "| {} | {name} `{path}` | {} | {n} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
            location.backend_name(),
            want.len(),
            n as f64 / secs as f64,
            quantile_ms(&t.latencies_us, 0.50),
            quantile_ms(&t.latencies_us, 0.99),
            quantile_ms(&t.latencies_us, 1.0),
            t.errors
        );
        ok &= t.errors == 0 && n > 0;
    }
    let _ = stop.send(());
    server_rt.block_on(server).unwrap().unwrap();
    server_rt.shutdown_timeout(Duration::from_secs(2));
    ok
}

fn main() {
    // `cargo bench` passes `--bench`; without it (`cargo test --all-targets`) a 1 s smoke run.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let secs: u64 = env_or("DASHBOARD_BENCH_SECS", if smoke { 1 } else { 10 });
    let conns: usize = env_or("DASHBOARD_BENCH_CONNS", 64);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Location::Sqlite(dir.path().join("ci_history.sqlite"));
    build(&sqlite);
    let pg = history_store::testkit::Database::start();
    let pg_loc = pg.as_ref().map(|p| Location::parse(&p.url()).unwrap());
    if let Some(loc) = &pg_loc {
        build(loc);
    }
    println!("dashboard bench: {conns} connections, {secs} s per page");
    println!("| backend | page | bytes | requests | req/s | p50 ms | p99 ms | max ms | errors |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut ok = measure(&sqlite, conns, secs);
    match &pg_loc {
        Some(loc) => ok &= measure(loc, conns, secs),
        None => println!("(PostgreSQL skipped: no server binaries)"),
    }
    assert!(ok, "errors during the benchmark");
}
