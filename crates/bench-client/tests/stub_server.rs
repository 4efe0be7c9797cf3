//! The native clients against a tiny in-test server whose timing is known: metric
//! definitions, per-token ITL, the OpenAI backends, failures and timeouts, the schedule and
//! queueing, and GSM8K scoring.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::time::{Duration, Instant};

use bench_client::gsm8k::{self, Gsm8kArgs};
use bench_client::serving::{self, ServingArgs, ServingReport};
use clap::Parser;
use common::{StubConfig, start};

#[derive(Parser)]
#[command(args_override_self = true)]
struct S {
    #[command(flatten)]
    a: ServingArgs,
}

#[derive(Parser)]
struct G {
    #[command(flatten)]
    a: Gsm8kArgs,
}

fn serving_args(url: &str, extra: &[&str]) -> ServingArgs {
    let mut v = vec![
        "x",
        "--base-url",
        url,
        "--random-input-len",
        "32",
        "--random-output-len",
        "10",
        "--random-range-ratio",
        "1",
        "--warmup-pause",
        "0",
        "--ready-check-timeout-sec",
        "2",
    ];
    v.extend_from_slice(extra);
    S::try_parse_from(v).unwrap().a
}

fn run(args: &ServingArgs) -> ServingReport {
    let mut log = Vec::new();
    let r = serving::run(args, &mut log).unwrap();
    print!(
        "{}{}{}",
        String::from_utf8_lossy(&log),
        r.block,
        r.extras_block
    );
    r
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.3}, want {want:.3} ± {tol}"
    );
}

#[test]
fn native_stream_metrics_match_the_server_timing() {
    let stub = start(StubConfig::default());
    let r = run(&serving_args(
        &stub.url(),
        &["--num-prompts", "20", "--max-concurrency", "4"],
    ));
    let s = &r.summary;
    assert!(r.is_valid(), "{:?}", s.sglang_bench.reasons);
    assert_eq!(s.completed, 20);
    assert_eq!(s.total_output_tokens, 200);
    assert_eq!(s.total_input_tokens, 20 * 32);
    // " the" x 10 with the byte-level count is 40 tokens.
    assert_eq!(s.total_output_tokens_retokenized, 20 * 40);
    close(s.median_ttft_ms, 20.0, 3.0, "median TTFT");
    close(s.median_itl_ms, 5.0, 1.0, "median ITL");
    close(s.median_e2e_latency_ms, 65.0, 4.0, "median E2E");
    close(s.median_tpot_ms, 5.0, 1.0, "median TPOT");
    assert_eq!(s.sglang_bench.itl_samples, 20 * 9);
    assert_eq!(s.max_concurrency, Some(4));
    // Block layout: "{:<40} {:<10}" rows, trailing spaces kept.
    assert!(
        r.block
            .starts_with("============ Serving Benchmark Result ============\n")
    );
    assert!(
        r.block
            .contains("Backend:                                 sglang    \n")
    );
    assert!(
        r.block
            .contains("Max request concurrency:                 4         \n")
    );
    assert!(
        r.block
            .contains("Successful requests:                     20        \n")
    );
    assert!(r.block.ends_with(&format!("{}\n", "=".repeat(50))));
    // Server-side truth from the stub's records: TTFT and ITL medians within 1 ms.
    let recs = stub.records.lock().unwrap().clone();
    let mut ttfts: Vec<f64> = recs
        .iter()
        .filter(|r| r.token_times.len() == 10)
        .map(|r| (r.token_times[0] - r.received).as_secs_f64() * 1000.0)
        .collect();
    ttfts.sort_by(f64::total_cmp);
    close(
        s.median_ttft_ms,
        ttfts[ttfts.len() / 2],
        1.5,
        "TTFT vs server",
    );
}

#[test]
fn several_tokens_per_chunk_give_per_token_itl() {
    let stub = start(StubConfig {
        tokens_per_chunk: 3,
        itl: Duration::from_millis(9),
        ..Default::default()
    });
    let r = run(&serving_args(
        &stub.url(),
        &[
            "--num-prompts",
            "6",
            "--max-concurrency",
            "2",
            "--random-output-len",
            "13",
        ],
    ));
    let s = &r.summary;
    assert!(r.is_valid());
    assert_eq!(s.total_output_tokens, 6 * 13);
    // Chunks carry 3,3,3,3,1 tokens; the first chunk gives TTFT, the other 10 tokens one ITL
    // sample each (gap / tokens in the chunk), as bench_serving splits them.
    assert_eq!(s.sglang_bench.itl_samples, 6 * 10);
    assert!(s.sglang_bench.multi_token_chunks >= 6 * 3);
    close(s.median_itl_ms, 3.0, 0.8, "per-token ITL");
}

#[test]
fn openai_backends_use_usage_counts() {
    let stub = start(StubConfig {
        tokens_per_chunk: 2,
        ..Default::default()
    });
    for backend in ["sglang-oai", "sglang-oai-chat"] {
        let r = run(&serving_args(
            &stub.url(),
            &[
                "--backend",
                backend,
                "--num-prompts",
                "5",
                "--random-output-len",
                "8",
            ],
        ));
        let s = &r.summary;
        assert!(r.is_valid(), "{backend}: {:?}", s.sglang_bench.reasons);
        assert_eq!(s.completed, 5);
        assert_eq!(s.total_output_tokens, 40, "{backend}");
        // First chunk (2 tokens) gives TTFT; the other 6 tokens one sample each.
        assert_eq!(s.sglang_bench.itl_samples, 5 * 6, "{backend}");
        assert_eq!(s.total_output_tokens_retokenized, 5 * 8 * 4, "{backend}");
        close(s.median_itl_ms, 2.5, 0.8, backend);
    }
}

#[test]
fn non_streaming_requests_time_the_whole_reply() {
    let stub = start(StubConfig::default());
    let r = run(&serving_args(
        &stub.url(),
        &["--num-prompts", "4", "--disable-stream"],
    ));
    assert!(r.is_valid(), "{:?}", r.summary.sglang_bench.reasons);
    close(r.summary.median_ttft_ms, 65.0, 5.0, "TTFT = E2E");
    close(
        r.summary.median_e2e_latency_ms,
        r.summary.median_ttft_ms,
        0.5,
        "E2E",
    );
}

#[test]
fn http_500_is_a_failed_request_and_the_run_is_invalid() {
    let stub = start(StubConfig {
        error_every: 3,
        ..Default::default()
    });
    let r = run(&serving_args(
        &stub.url(),
        &["--num-prompts", "9", "--warmup-requests", "1"],
    ));
    let x = &r.summary.sglang_bench;
    // Warm-up is request 1; timed requests 2..=10 -> 3, 6, 9 fail.
    assert_eq!(x.failed, 3);
    assert_eq!(r.summary.completed, 6);
    assert_eq!(x.verdict, "INVALID");
    assert!(
        x.reasons[0].contains("3 of 9 requests failed"),
        "{:?}",
        x.reasons
    );
    assert!(
        x.failure_reasons
            .keys()
            .any(|k| k.contains("HTTP 500") && k.contains("injected failure"))
    );
    assert!(
        r.extras_block
            .contains("Verdict:                                 INVALID")
    );
}

#[test]
fn a_cut_stream_is_a_failure_not_a_success() {
    let stub = start(StubConfig {
        cut_after: Some(4),
        ..Default::default()
    });
    let r = run(&serving_args(
        &stub.url(),
        &["--num-prompts", "3", "--warmup-requests", "0"],
    ));
    let x = &r.summary.sglang_bench;
    assert_eq!(x.failed, 3);
    assert!(
        x.failure_reasons.keys().all(|k| k.contains("mid-body")),
        "{:?}",
        x.failure_reasons
    );
}

#[test]
fn a_hung_server_fails_requests_by_the_stall_timeout_and_never_hangs() {
    let stub = start(StubConfig {
        hang_after: Some(3),
        ..Default::default()
    });
    let t = Instant::now();
    let r = run(&serving_args(
        &stub.url(),
        &[
            "--num-prompts",
            "6",
            "--stall-timeout",
            "0.5",
            "--max-concurrency",
            "1",
        ],
    ));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    let x = &r.summary.sglang_bench;
    assert_eq!(r.summary.completed, 2);
    assert_eq!(x.failed, 4);
    assert!(
        x.failure_reasons
            .keys()
            .all(|k| k.contains("stall timeout")),
        "{:?}",
        x.failure_reasons
    );
}

#[test]
fn the_run_deadline_ends_a_run_and_marks_it() {
    let stub = start(StubConfig {
        hang_after: Some(1),
        ..Default::default()
    });
    let t = Instant::now();
    let r = run(&serving_args(
        &stub.url(),
        &["--num-prompts", "4", "--run-timeout", "0.5"],
    ));
    assert!(t.elapsed() < Duration::from_secs(10));
    let x = &r.summary.sglang_bench;
    assert!(x.run_timed_out);
    assert_eq!(x.failed, 4);
    assert!(x.reasons.iter().any(|r| r.contains("--run-timeout")));
}

#[test]
fn an_unreachable_server_is_an_error_naming_the_flag() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    let e = serving::run(
        &serving_args(&url, &["--ready-check-timeout-sec", "0.5"]),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(e.to_string().contains("--ready-check-timeout-sec"), "{e}");
    assert!(matches!(e, bench_client::BenchError::Server { .. }));
}

#[test]
fn warmup_failure_aborts_like_bench_serving() {
    let stub = start(StubConfig {
        error_every: 1,
        ..Default::default()
    });
    let e = serving::run(&serving_args(&stub.url(), &[]), &mut Vec::new()).unwrap_err();
    assert!(e.to_string().starts_with("Warmup failed"), "{e}");
}

#[test]
fn poisson_schedule_is_kept_and_queueing_is_separate_from_ttft() {
    let stub = start(StubConfig {
        ttft: Duration::from_millis(30),
        itl: Duration::from_millis(1),
        ..Default::default()
    });
    let r = run(&serving_args(
        &stub.url(),
        &[
            "--num-prompts",
            "40",
            "--request-rate",
            "100",
            "--max-concurrency",
            "1",
            "--random-output-len",
            "2",
        ],
    ));
    let x = &r.summary.sglang_bench;
    assert!(r.is_valid(), "{:?}", x.reasons);
    // 100 req/s offered to a server that takes ~31 ms each with one slot: requests queue,
    // but TTFT stays the server's 30 ms.
    close(
        r.summary.median_ttft_ms,
        30.0,
        3.0,
        "TTFT excludes queueing",
    );
    assert!(x.queueing_ms.median > 50.0, "queueing {:?}", x.queueing_ms);
    assert!(
        x.scheduling_lag_ms.p99 < 20.0,
        "lag {:?}",
        x.scheduling_lag_ms
    );
    assert!(
        x.achieved_dispatch_rate > 50.0 && x.achieved_dispatch_rate < 200.0,
        "{}",
        x.achieved_dispatch_rate
    );
}

#[test]
fn output_file_gets_one_json_line_with_the_peer_keys() {
    let stub = start(StubConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.jsonl");
    let args = serving_args(
        &stub.url(),
        &[
            "--num-prompts",
            "3",
            "--output-file",
            out.to_str().unwrap(),
            "--output-details",
        ],
    );
    let r = run(&args);
    serving::write_outputs(&args, &r).unwrap();
    serving::write_outputs(&args, &r).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2);
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for k in [
        "backend",
        "completed",
        "median_ttft_ms",
        "p99_itl_ms",
        "max_concurrent_requests",
        "server_info",
        "itls",
        "errors",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["request_rate"], "inf");
    assert_eq!(v["completed"], 3);
    assert_eq!(v["sglang_bench"]["verdict"], "VALID");
    assert_eq!(v["itls"].as_array().unwrap().len(), 3);
}

#[test]
fn gsm8k_scores_like_few_shot_gsm8k() {
    let stub = start(StubConfig {
        gsm8k_wrong_every: Some(4),
        ..Default::default()
    });
    let port = stub.addr.port().to_string();
    let args = G::try_parse_from([
        "x",
        "--num-questions",
        "40",
        "--parallel",
        "8",
        "--port",
        &port,
    ])
    .unwrap()
    .a;
    let r = gsm8k::run(&args).unwrap();
    print!("{}", r.text());
    // Questions 0, 4, ..., 36 are answered wrong: 10 of 40.
    assert_eq!(r.n, 40);
    close(r.accuracy, 0.75, 1e-9, "accuracy");
    assert_eq!(r.invalid, 0.0);
    assert_eq!(r.verdict, "VALID");
    assert!(r.ci95.0 < 0.75 && r.ci95.1 > 0.75);
    let t = r.text();
    assert!(
        t.starts_with("Accuracy: 0.750\nInvalid: 0.000\nLatency: "),
        "{t}"
    );
    assert!(t.contains("\nOutput throughput: ") && t.contains(" token/s\n"));
}

#[test]
fn gsm8k_counts_failed_requests_and_is_invalid() {
    let stub = start(StubConfig {
        gsm8k_wrong_every: Some(0),
        error_every: 5,
        ..Default::default()
    });
    let port = stub.addr.port().to_string();
    let args = G::try_parse_from(["x", "--num-questions", "20", "--port", &port])
        .unwrap()
        .a;
    let r = gsm8k::run(&args).unwrap();
    // Request 1 is the prefix call; questions are requests 2..=21 -> 5, 10, 15, 20 fail.
    assert_eq!(r.failed, 4);
    assert_eq!(r.verdict, "INVALID");
    close(r.accuracy, 16.0 / 20.0, 1e-9, "accuracy");
}

#[test]
fn the_toolkit_parser_reads_our_block_as_a_real_f3_block() {
    use metrics_parse::bench_serving::{Generation, ResultBlock};
    let stub = start(StubConfig::default());
    let r = run(&serving_args(
        &stub.url(),
        &["--num-prompts", "5", "--max-concurrency", "2"],
    ));
    let out = format!("#Input tokens: 1\n{}{}", r.block, r.extras_block);
    let all = ResultBlock::parse_all(out.as_bytes());
    assert_eq!(
        all.len(),
        1,
        "the extras block must not look like a second result block"
    );
    let b = &all[0];
    assert!(b.complete);
    assert_eq!(b.generation(), Generation::F3);
    assert!(b.extra.is_empty(), "unknown rows: {:?}", b.extra);
    assert_eq!(b.backend.as_deref(), Some("sglang"));
    assert_eq!(b.max_request_concurrency.as_deref(), Some("2"));
    assert_eq!(b.successful_requests.as_ref().unwrap().value, 5.0);
    assert_eq!(
        b.ttft.median.as_ref().unwrap().text,
        format!("{:.2}", r.summary.median_ttft_ms)
    );
    assert_eq!(
        b.itl.median.as_ref().unwrap().text,
        format!("{:.2}", r.summary.median_itl_ms)
    );
    assert_eq!(
        b.e2e.median.as_ref().unwrap().text,
        format!("{:.2}", r.summary.median_e2e_latency_ms)
    );
    assert!(b.itl.max.is_some() && b.e2e.p90.is_some() && b.tpot.p99.is_some());
    // The DeepSeek script's awk fields: `Median TTFT (ms):` $4, `Median E2E Latency (ms):` $5.
    let ttft_line = out
        .lines()
        .find(|l| l.contains("Median TTFT (ms):"))
        .unwrap();
    assert_eq!(
        ttft_line.split_whitespace().nth(3).unwrap(),
        b.ttft.median.as_ref().unwrap().text
    );
    let e2e_line = out
        .lines()
        .find(|l| l.contains("Median E2E Latency (ms):"))
        .unwrap();
    assert_eq!(
        e2e_line.split_whitespace().nth(4).unwrap(),
        b.e2e.median.as_ref().unwrap().text
    );
}

#[test]
fn the_toolkit_parser_reads_our_gsm8k_lines() {
    let stub = start(StubConfig {
        gsm8k_wrong_every: Some(2),
        ..Default::default()
    });
    let port = stub.addr.port().to_string();
    let args = G::try_parse_from(["x", "--num-questions", "10", "--port", &port])
        .unwrap()
        .a;
    let r = gsm8k::run(&args).unwrap();
    let p = metrics_parse::gsm8k::BenchOutput::parse(r.text().as_bytes());
    assert_eq!(p.accuracy.unwrap().value, 0.5);
    assert_eq!(p.invalid.unwrap().value, 0.0);
    assert!(p.latency_s.is_some() && p.output_throughput.is_some());
}
