//! `sglang-sim router`, the small stand-in for sglang-router, in front of a prefill and a decode
//! simulator: readiness, PD fan-out with bootstrap fields, streamed relay, retries and the
//! real router's error bodies.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::time::{Duration, Instant};

use support::http::{http, wait_http};
use support::sim::{Proc, port_after, read_trace};

const T: Duration = Duration::from_secs(10);

fn router(args: &[&str]) -> Proc {
    let mut all = vec!["router", "--host", "127.0.0.1", "--port", "0"];
    all.extend_from_slice(args);
    let mut p = Proc::spawn(&all);
    let line = p
        .out
        .wait_for("Starting server on ", T)
        .unwrap_or_else(|| panic!("router did not start:\n{}", p.out.text()));
    p.port = port_after(&line, "Starting server on ");
    p
}

#[test]
fn pd_router_stand_in_fans_out_and_relays() {
    let dir = tempfile::tempdir().unwrap();
    let (pt, dt) = (dir.path().join("p.jsonl"), dir.path().join("d.jsonl"));
    let worker = |mode: &str, trace: &std::path::Path| {
        Proc::server(&[
            "--model-path",
            "/m/gpt-oss-20b",
            "--sim-profile",
            "zero",
            "--disaggregation-mode",
            mode,
            "--sim-trace",
            trace.to_str().unwrap(),
        ])
    };
    let prefill = worker("prefill", &pt);
    let decode = worker("decode", &dt);
    let (pu, du) = (
        format!("http://127.0.0.1:{}", prefill.port),
        format!("http://127.0.0.1:{}", decode.port),
    );
    let r = router(&[
        "--pd-disaggregation",
        "--prefill",
        &pu,
        "8998",
        "--decode",
        &du,
        "--retry-initial-backoff-ms",
        "5",
    ]);
    assert!(r.out.text().contains("SIMULATED ROUTER"));
    assert_eq!(http(r.port, "GET", "/health", None, T).unwrap().status, 200);
    wait_http(r.port, "/readiness", 200, Duration::from_secs(20));
    assert_eq!(
        http(r.port, "GET", "/readiness", None, T).unwrap().json()["healthy_workers"],
        2
    );

    let v = http(
        r.port,
        "POST",
        "/generate",
        Some(r#"{"text": "Hello", "sampling_params": {"max_new_tokens": 8}}"#),
        T,
    )
    .unwrap();
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["meta_info"]["completion_tokens"], 8);
    assert!(
        v.header("x-request-id")
            .is_some_and(|h| h.starts_with("gnt-") && h.len() == 28)
    );
    let s = http(
        r.port,
        "POST",
        "/v1/completions",
        Some(r#"{"model": "m", "prompt": "Hi", "max_tokens": 3, "stream": true}"#),
        T,
    )
    .unwrap();
    assert!(s.complete);
    assert_eq!(s.events().len(), 4);
    let m = http(r.port, "GET", "/v1/models", None, T).unwrap().json();
    assert_eq!(m["data"][0]["id"], "/m/gpt-oss-20b");
    let info = http(r.port, "GET", "/get_model_info", None, T)
        .unwrap()
        .json();
    assert_eq!(info["simulated"], true, "proxied to the prefill worker");
    assert_eq!(
        http(r.port, "POST", "/flush_cache", None, T)
            .unwrap()
            .json()["workers_flushed"],
        2
    );
    assert_eq!(
        http(r.port, "GET", "/workers", None, T).unwrap().json()["stats"]["prefill_count"],
        1
    );

    // Both workers saw both requests; the prefill stopped after the first token.
    std::thread::sleep(Duration::from_millis(200));
    drop(prefill);
    let (p, d) = (read_trace(&pt), read_trace(&dt));
    assert_eq!((p.len(), d.len()), (2, 2));
    assert!(p.iter().all(|x| x["output_tokens"] == 1));

    // Prefill gone: five attempts, then the real router's 502.
    let t = Instant::now();
    let e = http(r.port, "POST", "/generate", Some(r#"{"text": "Hello"}"#), T).unwrap();
    assert_eq!(e.status, 502, "{}", e.text());
    assert_eq!(e.json()["error"]["code"], "prefill_server_error");
    assert_eq!(e.header("x-smg-error-code"), Some("prefill_server_error"));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(r.out.text().contains("Prefill server failed (CRITICAL)"));
    drop(decode);
}

#[test]
fn router_without_workers_is_up_but_not_ready_and_refuses_requests() {
    let r = router(&[
        "--pd-disaggregation",
        "--prefill",
        "http://127.0.0.1:9",
        "--decode",
        "http://127.0.0.1:9",
        "--disable-retries",
    ]);
    assert_eq!(http(r.port, "GET", "/health", None, T).unwrap().status, 200);
    let rd = http(r.port, "GET", "/readiness", None, T).unwrap();
    assert_eq!(rd.status, 503);
    assert_eq!(rd.json()["status"], "not ready");
    let e = http(
        r.port,
        "POST",
        "/v1/completions",
        Some(r#"{"model": "m", "prompt": "x"}"#),
        T,
    )
    .unwrap();
    assert_eq!(e.status, 503);
    assert_eq!(e.json()["error"]["code"], "server_selection_failed");
    let bad = http(r.port, "POST", "/generate", Some("{nope"), T).unwrap();
    assert_eq!(bad.status, 400);
    let mut r = r;
    r.sigterm();
    assert_eq!(
        r.wait_exit(Duration::from_secs(2)).and_then(|s| s.code()),
        Some(0)
    );
}
