//! Load benchmark of the plot server: 64 concurrent keep-alive connections for 10 s against a
//! tree like the production plots tree, once for a listing page and once for a PNG.
//!
//! The tree: the corpus plot tree (`$SGLCI_CORPUS/plot`, 10 real PNGs in 6 model folders)
//! copied to a temp dir and filled up with hard links to 52 dated plots per folder (312 PNGs;
//! the production tree has 314). The server runs in-process (same code as the binary, access log
//! formatted into a sink so its cost is included) on its own 2-thread runtime; the load
//! generator is a hyper HTTP/1.1 client on another runtime. Every response must be 200 with the
//! expected length: any error fails the run.
//!
//! `cargo bench -p plots-server --bench serve` (release). Env: `PLOTS_BENCH_SECS` (default 10),
//! `PLOTS_BENCH_CONNS` (default 64).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;

fn corpus_plot() -> PathBuf {
    let p = std::env::var_os("SGLCI_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        })
        .join("plot");
    assert!(
        p.is_dir(),
        "corpus plot tree missing at {}: set SGLCI_CORPUS to the corpus directory",
        p.display()
    );
    p
}

/// Plots per model folder in the benchmark tree.
const PER_FOLDER: usize = 52;

/// Copies the corpus tree into `dst` and adds hard links up to [`PER_FOLDER`] dated plots per folder.
fn build_tree(src: &Path, dst: &Path) -> usize {
    let mut pngs = 0;
    for hw in std::fs::read_dir(src).unwrap() {
        let hw = hw.unwrap().path();
        for model in std::fs::read_dir(&hw).unwrap() {
            let model = model.unwrap().path();
            let online = model.join("online");
            let out = dst
                .join(hw.file_name().unwrap())
                .join(model.file_name().unwrap())
                .join("online");
            std::fs::create_dir_all(&out).unwrap();
            let mut originals = Vec::new();
            for f in std::fs::read_dir(&online).unwrap() {
                let f = f.unwrap().path();
                let to = out.join(f.file_name().unwrap());
                std::fs::copy(&f, &to).unwrap();
                originals.push(to);
                pngs += 1;
            }
            let name = model.file_name().unwrap().to_string_lossy().into_owned();
            let mut day = 0;
            while std::fs::read_dir(&out).unwrap().count() < PER_FOLDER {
                let date = 20250901 + (day / 30) * 100 + day % 30 + 1;
                let link = out.join(format!("{date}_{name}_online_standard.png"));
                if !link.exists() {
                    std::fs::hard_link(&originals[day as usize % originals.len()], &link).unwrap();
                    pngs += 1;
                }
                day += 1;
            }
        }
    }
    pngs
}

struct Outcome {
    requests: u64,
    errors: u64,
    bytes: u64,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    expect_len: usize,
    conns: usize,
    secs: u64,
) -> Outcome {
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let errors = Arc::clone(&errors);
        let path = path.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 14);
            let mut bytes = 0u64;
            'conn: while Instant::now() < deadline {
                let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let Ok((mut send, conn)) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
                else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                tokio::spawn(conn);
                while Instant::now() < deadline {
                    let req = Request::get(path.as_str())
                        .header("host", "bench")
                        .body(Empty::<bytes::Bytes>::new())
                        .unwrap();
                    let t0 = Instant::now();
                    let ok = match send.send_request(req).await {
                        Ok(resp) if resp.status() == 200 => {
                            match resp.into_body().collect().await {
                                Ok(b) => {
                                    let n = b.to_bytes().len();
                                    bytes += n as u64;
                                    n == expect_len
                                }
                                Err(_) => false,
                            }
                        }
                        _ => false,
                    };
                    lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                        continue 'conn;
                    }
                }
            }
            (lat, bytes)
        }));
    }
    let mut latencies_us = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        let (l, b) = t.await.unwrap();
        latencies_us.extend(l);
        bytes += b;
    }
    let elapsed = start.elapsed();
    latencies_us.sort_unstable();
    Outcome {
        requests: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        bytes,
        latencies_us,
        elapsed,
    }
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; without it (`cargo test --all-targets`) run a 1 s smoke test.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let default_secs = if smoke { 1 } else { 10 };
    let secs: u64 = std::env::var("PLOTS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_secs);
    let conns: usize = std::env::var("PLOTS_BENCH_CONNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let tmp = tempfile::tempdir().unwrap();
    let pngs = build_tree(&corpus_plot(), tmp.path());

    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::INFO)
        .try_init();

    let config = plots_server::Config {
        root: tmp.path().to_path_buf(),
        bind: "127.0.0.1".into(),
        port: 0,
        ..plots_server::Config::default()
    };
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = server_rt.block_on(plots_server::bind(&config)).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let cfg = config.clone();
    let server = server_rt.spawn(async move {
        plots_server::serve(
            listener,
            &cfg,
            async { drop(stop_rx.await) },
            std::future::pending(),
        )
        .await
    });

    let listing = "/mi30x/GROK1/online/";
    let png = "/mi30x/GROK1/online/20251013_GROK1_online_standard.png";
    let png_len = std::fs::metadata(tmp.path().join(&png[1..])).unwrap().len() as usize;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listing_len = client_rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = Request::get(listing)
            .header("host", "bench")
            .body(Empty::<bytes::Bytes>::new())
            .unwrap();
        send.send_request(req)
            .await
            .unwrap()
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .len()
    });

    println!("plots-server bench: {pngs} PNGs in the tree, {conns} connections, {secs} s per case");
    println!(
        "| case | bytes/response | requests | req/s | MiB/s | p50 ms | p99 ms | max ms | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut failed = false;
    for (name, path, len) in [
        ("listing page (52 PNGs)", listing, listing_len),
        ("PNG", png, png_len),
    ] {
        let o = client_rt.block_on(load(addr, path, len, conns, secs));
        let rps = o.requests as f64 / o.elapsed.as_secs_f64();
        let mibs = o.bytes as f64 / o.elapsed.as_secs_f64() / (1024.0 * 1024.0);
        println!(
            "| {name} `{path}` | {len} | {} | {rps:.0} | {mibs:.1} | {:.2} | {:.2} | {:.2} | {} |",
            o.requests,
            pct(&o.latencies_us, 0.50),
            pct(&o.latencies_us, 0.99),
            pct(&o.latencies_us, 1.0),
            o.errors
        );
        failed |= o.errors > 0 || o.requests == 0;
    }
    let _ = stop_tx.send(());
    let report = server_rt.block_on(server).unwrap().unwrap();
    println!(
        "server: {} connections, {} closed forcibly at shutdown",
        report.connections, report.forced_closed
    );
    assert!(!failed, "errors during the benchmark");
}
