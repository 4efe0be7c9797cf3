//! The real `sglang-bench` binary against the real `sglang-sim`: metrics agree with the
//! simulator's own trace (per request, matched by rid), per-token ITL with several tokens per
//! chunk, the OpenAI backends, GSM8K accuracy, and every fault flag of the simulator turning
//! into counted failures, an INVALID verdict and a documented exit code, never a hang.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use support::sim::{Proc, RANDOM_128_32, read_trace, tokenizer};
use support::{Ran, median, one_at_a_time, run};

fn bench(args: &[&str], dir: &std::path::Path, limit: Duration) -> Ran {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sglang-bench"));
    c.args(args).current_dir(dir).env_remove("SGLANG_IS_IN_CI");
    let ran = run(c, limit, "sglang-bench");
    println!("{}\n{}", ran.stdout, ran.stderr);
    ran
}

fn serving(
    port: u16,
    extra: &[&str],
    dir: &std::path::Path,
    limit: Duration,
) -> (Ran, serde_json::Value) {
    let port = port.to_string();
    let out = dir.join("out.jsonl");
    let _ = std::fs::remove_file(&out);
    let tok = tokenizer();
    let mut args = vec!["serving", "--port", &port, "--tokenizer", &tok];
    args.extend(RANDOM_128_32);
    args.extend([
        "--warmup-pause",
        "0",
        "--output-file",
        out.to_str().unwrap(),
        "--output-details",
        "--send-rid",
    ]);
    args.extend_from_slice(extra);
    let ran = bench(&args, dir, limit);
    let v = std::fs::read_to_string(&out)
        .ok()
        .and_then(|t| t.lines().last().map(str::to_string))
        .map(|l| serde_json::from_str(&l).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (ran, v)
}

/// Timing assertions need the machine's two cores: tests of this file run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    one_at_a_time()
}

#[test]
fn metrics_agree_with_the_sim_trace_request_by_request() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let p = Proc::grok(Some(&trace));
    let (ran, v) = serving(
        p.port,
        &["--num-prompts", "24", "--max-concurrency", "4"],
        dir.path(),
        Duration::from_secs(120),
    );
    assert_eq!(ran.status.code(), Some(0), "VALID run exits 0");
    drop(p);
    assert_eq!(v["completed"], 24);
    assert_eq!(v["total_output_tokens"], 24 * 32);
    assert_eq!(v["total_output_tokens_retokenized"], 24 * 32);
    assert_eq!(v["sglang_bench"]["verdict"], "VALID");
    // Per request (rid "<run>-<index>"): client TTFT = server TTFT + the network/parse
    // overhead, which is small and positive; ITL and E2E likewise.
    let by_rid: HashMap<String, serde_json::Value> = read_trace(&trace)
        .into_iter()
        .map(|r| (r["rid"].as_str().unwrap().to_string(), r))
        .collect();
    let ttfts = v["ttfts"].as_array().unwrap();
    let itls = v["itls"].as_array().unwrap();
    let mut d_ttft = Vec::new();
    let mut s_itl = Vec::new();
    let mut c_itl = Vec::new();
    for (i, t) in ttfts.iter().enumerate() {
        let rec = by_rid
            .iter()
            .find(|(k, _)| k.ends_with(&format!("-{i}")) && k.starts_with("sglb-"))
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("request {i} missing from the trace"));
        let rx = rec["received_s"].as_f64().unwrap();
        let times: Vec<f64> = rec["token_times_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let server_ttft = (times[0] - rx) * 1e3;
        d_ttft.push(t.as_f64().unwrap() * 1e3 - server_ttft);
        s_itl.extend(times.windows(2).map(|w| (w[1] - w[0]) * 1e3));
        c_itl.extend(
            itls[i]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() * 1e3),
        );
    }
    let med_d = median(&d_ttft);
    println!("median client-minus-server TTFT {med_d:.3} ms");
    assert!(
        (-0.5..3.0).contains(&med_d),
        "client TTFT overhead {med_d} ms"
    );
    let (ms, mc) = (median(&s_itl), median(&c_itl));
    println!("median ITL server {ms:.3} ms, client {mc:.3} ms");
    assert!((ms - mc).abs() < 0.3, "ITL server {ms} vs client {mc}");
}

#[test]
fn several_tokens_per_chunk_are_split_per_token_and_openai_backends_work() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::tokenized("m", "grok", &["--sim-tokens-per-chunk", "4"]);
    for backend in ["sglang", "sglang-oai", "sglang-oai-chat"] {
        let (ran, v) = serving(
            p.port,
            &[
                "--backend",
                backend,
                "--num-prompts",
                "8",
                "--max-concurrency",
                "4",
            ],
            dir.path(),
            Duration::from_secs(60),
        );
        assert_eq!(ran.status.code(), Some(0), "{backend}");
        assert_eq!(v["completed"], 8, "{backend}");
        assert_eq!(v["total_output_tokens"], 8 * 32, "{backend}");
        // First chunk (4 tokens) gives TTFT; the other 28 tokens one ITL sample each.
        assert_eq!(v["sglang_bench"]["itl_samples"], 8 * 28, "{backend}");
        assert!(
            v["sglang_bench"]["multi_token_chunks"].as_u64().unwrap() >= 8 * 7,
            "{backend}"
        );
        // The sim sends 4 tokens every 4 grok decode steps (~16 ms each): the per-token ITL
        // stays one decode step, not four.
        let itl = v["median_itl_ms"].as_f64().unwrap();
        assert!((8.0..30.0).contains(&itl), "{backend}: per-token ITL {itl}");
    }
}

#[test]
fn gsm8k_reports_the_accuracy_the_sim_was_told_to_give() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::server(&[
        "--model-path",
        "m",
        "--sim-profile",
        "zero",
        "--sim-gsm8k-accuracy",
        "0.8",
        "--seed",
        "3",
    ]);
    let port = p.port.to_string();
    let ran = bench(
        &[
            "gsm8k",
            "--num-questions",
            "400",
            "--parallel",
            "64",
            "--port",
            &port,
            "--host",
            "http://127.0.0.1",
        ],
        dir.path(),
        Duration::from_secs(120),
    );
    assert_eq!(ran.status.code(), Some(0));
    let parsed = metrics_parse::gsm8k::BenchOutput::parse(ran.stdout.as_bytes());
    let acc = parsed.accuracy.expect("Accuracy line").value;
    // 400 questions at p = 0.8: sampling sd 0.02; allow 4 sd.
    assert!((acc - 0.8).abs() < 0.08, "accuracy {acc}");
    assert!(ran.stdout.contains("Questions (n): 400"));
    assert!(ran.stdout.contains("Accuracy 95% CI (Wilson): ["));
}

/// A run against a faulty sim: the client must finish within `limit`, count failures, say
/// INVALID and exit 3.
fn faulty(sim_args: &[&str], client: &[&str], limit: Duration) -> (Ran, serde_json::Value) {
    faulty_with("zero", sim_args, client, limit)
}

fn faulty_with(
    profile: &str,
    sim_args: &[&str],
    client: &[&str],
    limit: Duration,
) -> (Ran, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--model-path", "m", "--sim-profile", profile];
    all.extend_from_slice(sim_args);
    let p = Proc::server(&all);
    let t = Instant::now();
    let (ran, v) = serving(p.port, client, dir.path(), limit);
    assert!(t.elapsed() < limit);
    (ran, v)
}

#[test]
fn fault_http_500_counts_failures_and_exits_3() {
    let _serial = serial();
    let (ran, v) = faulty(
        &["--sim-error-rate", "0.3", "--seed", "1"],
        &["--num-prompts", "60", "--warmup-requests", "3"],
        Duration::from_secs(60),
    );
    assert_eq!(ran.status.code(), Some(3));
    let failed = v["sglang_bench"]["failed"].as_u64().unwrap();
    assert!((5..=35).contains(&failed), "failed {failed}");
    assert_eq!(v["completed"].as_u64().unwrap() + failed, 60);
    assert!(ran.stdout.contains("HTTP 500"), "reason shown");
    assert!(
        ran.stdout
            .contains("Verdict:                                 INVALID")
    );
}

#[test]
fn fault_cut_stream_counts_failures_and_exits_3() {
    let _serial = serial();
    let (ran, v) = faulty(
        &["--sim-cut-stream-after", "5"],
        &["--num-prompts", "10", "--warmup-requests", "0"],
        Duration::from_secs(60),
    );
    assert_eq!(ran.status.code(), Some(3));
    assert_eq!(v["sglang_bench"]["failed"], 10);
    assert_eq!(v["completed"], 0);
}

#[test]
fn fault_hang_fails_by_stall_timeout_and_exits_3() {
    let _serial = serial();
    let (ran, v) = faulty(
        &["--sim-hang-after", "5"],
        &[
            "--num-prompts",
            "12",
            "--max-concurrency",
            "4",
            "--stall-timeout",
            "1",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(ran.status.code(), Some(3));
    // The warm-up is request 1; requests 2..=5 (timed 1..=4) arrive before the hang and, with
    // the zero profile, have every token at arrival, so they complete even while request 6
    // freezes the scheduler; the other 8 hang until the stall timeout.
    assert_eq!(v["completed"], 4);
    assert_eq!(v["sglang_bench"]["failed"], 8);
    assert!(ran.stdout.contains("stall timeout"));
}

#[test]
fn fault_hang_with_run_timeout_exits_5() {
    let _serial = serial();
    let (ran, v) = faulty(
        &["--sim-hang-after", "1"],
        &["--num-prompts", "4", "--run-timeout", "1"],
        Duration::from_secs(30),
    );
    assert_eq!(ran.status.code(), Some(5));
    assert_eq!(v["sglang_bench"]["run_timed_out"], true);
}

#[test]
fn fault_exit_after_n_counts_failures_and_exits_3() {
    let _serial = serial();
    // Grok timing (~0.5 s per request) so the sim is gone before the remaining requests.
    let (ran, v) = faulty_with(
        "grok",
        &["--sim-exit-after", "6"],
        &["--num-prompts", "20", "--max-concurrency", "1"],
        Duration::from_secs(60),
    );
    assert_eq!(ran.status.code(), Some(3));
    let failed = v["sglang_bench"]["failed"].as_u64().unwrap();
    assert!(failed >= 14, "failed {failed}");
}

#[test]
fn fault_startup_delay_is_waited_for_or_exits_4() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let port_s = port.to_string();
    let mut p = Proc::spawn(&[
        "launch-server",
        "--model-path",
        "m",
        "--sim-profile",
        "zero",
        "--port",
        &port_s,
        "--sim-startup-delay",
        "3",
    ]);
    let (ran, _) = serving(
        port,
        &["--num-prompts", "4", "--ready-check-timeout-sec", "0.3"],
        dir.path(),
        Duration::from_secs(20),
    );
    assert_eq!(ran.status.code(), Some(4), "not ready yet: exit 4");
    assert!(
        ran.stderr.contains("--ready-check-timeout-sec"),
        "{}",
        ran.stderr
    );
    let (ran, v) = serving(
        port,
        &["--num-prompts", "4", "--ready-check-timeout-sec", "20"],
        dir.path(),
        Duration::from_secs(40),
    );
    assert_eq!(ran.status.code(), Some(0), "waits for readiness, then runs");
    assert_eq!(v["completed"], 4);
    p.wait_exit(Duration::from_millis(1));
}

#[test]
fn fault_runtime_error_in_the_log_does_not_disturb_the_client() {
    let _serial = serial();
    let (ran, v) = faulty(
        &["--sim-runtime-error-at", "0.2"],
        &["--num-prompts", "8"],
        Duration::from_secs(60),
    );
    assert_eq!(ran.status.code(), Some(0));
    assert_eq!(v["completed"], 8);
}

#[test]
fn usage_errors_exit_2_and_argparse_prefixes_work() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let ran = bench(
        &["serving", "--no-such-flag"],
        dir.path(),
        Duration::from_secs(10),
    );
    assert_eq!(ran.status.code(), Some(2));
    let ran = bench(
        &["serving", "--random-input", "0", "--port", "1"],
        dir.path(),
        Duration::from_secs(10),
    );
    assert_eq!(ran.status.code(), Some(2), "{}", ran.stderr);
    assert!(ran.stderr.contains("--random-input-len"));
}
