//! `sglang-sim` held against the real SGLang client and router from PyPI (the `.venv-peers`
//! that `.ci/setup` creates; env `SGLCI_PEER_PYTHON` overrides): `python -m
//! sglang.bench_serving` (backends `sglang` and `sglang-oai`) completes and its medians agree
//! with the simulator's trace; `python -m sglang.test.few_shot_gsm8k` reports the accuracy the
//! simulator was told to give; the real `sglang-router` in PD mode in front of a prefill and a
//! decode simulator serves `/generate`, `/v1/completions` (streaming too) and a 200-question
//! GSM8K at parallel 16. All offline: `HF_HUB_OFFLINE=1`, `HF_ENDPOINT` on a dead port.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::Path;
use std::time::Duration;

use support::http::{http, wait_http};
use support::sim::{Proc, peer, read_trace, tokenizer, trace_medians, workload};
use support::{Ran, free_port, one_at_a_time, run, shared_data};

const T: Duration = Duration::from_secs(10);

/// Runs bench_serving against a fresh simulator and compares its medians with the trace.
fn bench_serving_agrees_with_trace(backend: &str) {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let out = dir.path().join("out.jsonl");
    // Grok-shaped profile: ~55 ms prefill, ~16 ms decode steps.
    let p = Proc::grok(Some(&trace));
    let dataset = shared_data().join("gsm8k/sharegpt_gsm8k.json");
    let mut client = peer(&["-m", "sglang.bench_serving"], dir.path());
    client.args(workload(backend, p.port, 24, 4)).args([
        "--dataset-path",
        dataset.to_str().unwrap(),
        "--output-file",
        out.to_str().unwrap(),
        "--output-details",
    ]);
    let ran = run(client, Duration::from_secs(180), "bench_serving");
    assert!(
        ran.status.success(),
        "bench_serving failed:\n{}\n{}",
        ran.stdout,
        ran.stderr
    );
    assert!(
        ran.stdout.contains("Serving Benchmark Result"),
        "{}",
        ran.stdout
    );
    drop(p);
    let line = std::fs::read_to_string(&out).unwrap();
    // Python's json writes `Infinity` for an infinite request rate.
    let last = line
        .lines()
        .last()
        .unwrap()
        .replace("-Infinity", "null")
        .replace("Infinity", "null")
        .replace("NaN", "null");
    let res: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(
        res["completed"], 24,
        "every request must succeed: {:?}",
        res["errors"]
    );
    assert_eq!(res["total_output_tokens"], 24 * 32);
    assert_eq!(
        res["total_output_tokens_retokenized"],
        24 * 32,
        "filler re-encodes to the reported count"
    );
    let mut recs = read_trace(&trace);
    recs.sort_by(|a, b| {
        a["received_s"]
            .as_f64()
            .unwrap()
            .total_cmp(&b["received_s"].as_f64().unwrap())
    });
    assert_eq!(recs.len(), 25, "24 requests + 1 warm-up");
    let (ttft, itl, e2e) = trace_medians(&recs[1..]);
    let (cttft, citl, ce2e) = (
        res["median_ttft_ms"].as_f64().unwrap(),
        res["median_itl_ms"].as_f64().unwrap(),
        res["median_e2e_latency_ms"].as_f64().unwrap(),
    );
    println!(
        "{backend}: median TTFT client {cttft:.2} / sim {ttft:.2} ms; ITL {citl:.3} / {itl:.3} ms; E2E {ce2e:.2} / {e2e:.2} ms"
    );
    // The client adds connect, request and parse time; on this 2-core machine a few ms.
    assert!(
        (cttft - ttft).abs() <= (0.15 * ttft).max(10.0),
        "TTFT client {cttft} vs sim {ttft}"
    );
    assert!(
        (citl - itl).abs() <= (0.05 * itl).max(1.0),
        "ITL client {citl} vs sim {itl}"
    );
    assert!(
        (ce2e - e2e).abs() <= (0.05 * e2e).max(15.0),
        "E2E client {ce2e} vs sim {e2e}"
    );
}

#[test]
fn real_bench_serving_sglang_backend_agrees_with_the_trace() {
    bench_serving_agrees_with_trace("sglang");
}

#[test]
fn real_bench_serving_sglang_oai_backend_agrees_with_the_trace() {
    bench_serving_agrees_with_trace("sglang-oai");
}

/// What the real client should measure: the oracle's answers to the first `n` questions,
/// cut at the stop string and read the way few_shot_gsm8k reads them.
fn expected_accuracy(n: usize, accuracy: f64, seed: u64) -> f64 {
    let data = shared_data().join("gsm8k/test.jsonl");
    let o = sglang_sim::gsm8k::Gsm8kOracle::load(&data, accuracy, seed).unwrap();
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let shots: String = rows[..5]
        .iter()
        .map(|r| {
            format!(
                "Question: {}\nAnswer: {}\n\n",
                r["question"].as_str().unwrap(),
                r["answer"].as_str().unwrap()
            )
        })
        .collect();
    let mut right = 0;
    for r in &rows[..n] {
        let prompt = format!(
            "{shots}Question: {}\nAnswer:",
            r["question"].as_str().unwrap()
        );
        let out = o.answer(&prompt).expect("a GSM8K question");
        let visible = &out[..out.find("Question").unwrap_or(out.len())];
        let label = sglang_sim::gsm8k::extract_last_number(r["answer"].as_str().unwrap());
        right += usize::from(
            label.is_some() && sglang_sim::gsm8k::extract_last_number(visible) == label,
        );
    }
    right as f64 / n as f64
}

fn gsm8k_accuracy(stdout: &str) -> f64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Accuracy: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Accuracy line:\n{stdout}"))
}

/// The real `few_shot_gsm8k` (200 questions of shared/data, 5 shots, `parallel` at a time)
/// against 127.0.0.1:`port`; it must succeed within `limit`. Its output and accuracy.
fn few_shot_gsm8k(port: u16, parallel: u32, dir: &Path, limit: Duration) -> (Ran, f64) {
    let data = shared_data().join("gsm8k/test.jsonl");
    let ran = run(
        peer(
            &[
                "-m",
                "sglang.test.few_shot_gsm8k",
                "--data-path",
                data.to_str().unwrap(),
                "--num-questions",
                "200",
                "--parallel",
                &parallel.to_string(),
                "--num-shots",
                "5",
                "--host",
                "http://127.0.0.1",
                "--port",
                &port.to_string(),
            ],
            dir,
        ),
        limit,
        "few_shot_gsm8k",
    );
    assert!(
        ran.status.success(),
        "few_shot_gsm8k failed:\n{}\n{}",
        ran.stdout,
        ran.stderr
    );
    let acc = gsm8k_accuracy(&ran.stdout);
    (ran, acc)
}

#[test]
fn real_few_shot_gsm8k_reports_the_configured_accuracy() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::tokenized(
        "/models/DeepSeek-V3-0324",
        "zero",
        &["--sim-gsm8k-accuracy", "0.8", "--seed", "3"],
    );
    let (ran, acc) = few_shot_gsm8k(p.port, 64, dir.path(), Duration::from_secs(240));
    let expected = expected_accuracy(200, 0.8, 3);
    let sigma = (0.8f64 * 0.2 / 200.0).sqrt();
    println!(
        "few_shot_gsm8k accuracy {acc:.3}, oracle predicts {expected:.3}, configured 0.8 ± {:.3} (3σ)",
        3.0 * sigma
    );
    assert!(
        (acc - expected).abs() < 1e-9,
        "client {acc} vs oracle {expected}"
    );
    assert!(
        (acc - 0.8).abs() <= 3.0 * sigma,
        "{acc} is not within sampling error of 0.8"
    );
    assert!(ran.stdout.contains("Invalid: "), "{}", ran.stdout);
}

#[test]
fn real_sglang_router_in_pd_mode_serves_generate_completions_and_gsm8k() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (pt, dt) = (
        dir.path().join("prefill.jsonl"),
        dir.path().join("decode.jsonl"),
    );
    let worker = |mode: &str, trace: &std::path::Path| {
        Proc::tokenized(
            "/models/gpt-oss-20b",
            "zero",
            &[
                "--disaggregation-mode",
                mode,
                "--disaggregation-ib-device",
                "lo",
                "--sim-trace",
                trace.to_str().unwrap(),
            ],
        )
    };
    let prefill = worker("prefill", &pt);
    let decode = worker("decode", &dt);
    let (rport, mport) = (free_port(), free_port());
    let mut router = peer(
        &[
            "-m",
            "sglang_router.launch_router",
            "--pd-disaggregation",
            "--prefill",
            &format!("http://127.0.0.1:{}", prefill.port),
            "--decode",
            &format!("http://127.0.0.1:{}", decode.port),
            "--host",
            "127.0.0.1",
            "--port",
            &rport.to_string(),
            "--prometheus-port",
            &mport.to_string(),
        ],
        dir.path(),
    );
    let log = std::fs::File::create(dir.path().join("router.log")).unwrap();
    let mut child = router
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start sglang-router");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut child);
    wait_http(rport, "/readiness", 200, Duration::from_secs(60));

    let r = http(
        rport,
        "POST",
        "/generate",
        Some(r#"{"text": "Hello", "sampling_params": {"max_new_tokens": 8, "temperature": 0}}"#),
        T,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["meta_info"]["completion_tokens"],
        8,
        "the decode worker's full answer"
    );
    assert!(
        r.header("x-request-id")
            .is_some_and(|v| v.starts_with("gnt-")),
        "relayed by the router"
    );
    let r = http(
        rport,
        "POST",
        "/generate",
        Some(r#"{"text": "Hello", "sampling_params": {"max_new_tokens": 6}, "stream": true}"#),
        T,
    )
    .unwrap();
    let ev = r.events();
    assert_eq!(ev.len(), 7, "{ev:?}");
    assert_eq!(ev[6], "[DONE]");
    let r = http(
        rport,
        "POST",
        "/v1/completions",
        Some(r#"{"model": "m", "prompt": "Test", "max_tokens": 5, "temperature": 0.0}"#),
        T,
    )
    .unwrap();
    assert!(r.text().contains("\"choices\""), "{}", r.text());
    assert_eq!(r.json()["usage"]["completion_tokens"], 5);
    let r = http(
        rport,
        "POST",
        "/v1/completions",
        Some(r#"{"model": "m", "prompt": "Test", "max_tokens": 4, "stream": true}"#),
        T,
    )
    .unwrap();
    let ev = r.events();
    assert_eq!(ev.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(ev.len(), 5, "{ev:?}");
    let v = http(rport, "GET", "/v1/models", None, T).unwrap();
    assert!(
        v.text().contains(&tokenizer()),
        "served model name from the workers' server info: {}",
        v.text()
    );

    let (_, acc) = few_shot_gsm8k(rport, 16, dir.path(), Duration::from_secs(300));
    let expected = expected_accuracy(200, 0.95, 1);
    println!("PD GSM8K through sglang-router: accuracy {acc:.3} (oracle {expected:.3})");
    assert!(
        (acc - expected).abs() < 1e-9,
        "client {acc} vs oracle {expected}"
    );
    drop(prefill);
    drop(decode);
    let (p, d) = (read_trace(&pt), read_trace(&dt));
    // 4 requests above + the GSM8K prefix call + 200 questions, each sent to both workers.
    assert!(
        p.len() >= 205 && d.len() >= 205,
        "prefill {} decode {}",
        p.len(),
        d.len()
    );
    assert!(
        p.iter().all(|r| r["output_tokens"].as_u64().unwrap() <= 1),
        "the prefill role stops after the first token"
    );
}
