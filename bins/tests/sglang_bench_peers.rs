//! `sglang-bench serving` and the real `python -m sglang.bench_serving` (PyPI sglang 0.5.9 in
//! `.venv-peers`, created by `.ci/setup`; env `SGLCI_PEER_PYTHON` overrides) run one after the
//! other against the same `sglang-sim` (Grok-shaped latencies) and must agree on median TTFT,
//! ITL and E2E within 5% at concurrency 1 and 16. Both outputs are read with the toolkit's own
//! parser (metrics_parse::bench_serving).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod sim_support;

use std::process::Command;
use std::time::Duration;

use metrics_parse::bench_serving::ResultBlock;
use sim_support::{Proc, peer_python, run_with_timeout, shared_data, tokenizer};

fn medians(stdout: &str, who: &str) -> [f64; 3] {
    let b = ResultBlock::parse_first(stdout.as_bytes())
        .unwrap_or_else(|| panic!("{who}: no result block:\n{stdout}"));
    let v = |x: &Option<metrics_parse::value::Num>, what: &str| {
        x.as_ref()
            .unwrap_or_else(|| panic!("{who}: no {what}"))
            .value
    };
    [
        v(&b.ttft.median, "TTFT"),
        v(&b.itl.median, "ITL"),
        v(&b.e2e.median, "E2E"),
    ]
}

/// The two tests share the machine's cores: run them one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn agree_at(concurrency: usize, prompts: usize) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::server(&[
        "--model-path",
        "/models/amd--grok-1-W4A8KV8",
        "--tokenizer-path",
        &tokenizer(),
        "--sim-profile",
        "grok",
    ]);
    let port = p.port.to_string();
    let (c, n) = (concurrency.to_string(), prompts.to_string());
    let common = [
        "--backend",
        "sglang",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--dataset-name",
        "random",
        "--tokenizer",
        &tokenizer(),
        "--random-input",
        "128",
        "--random-output",
        "32",
        "--random-range-ratio",
        "1",
        "--num-prompts",
        &n,
        "--max-concurrency",
        &c,
    ];
    let dataset = shared_data().join("gsm8k/sharegpt_gsm8k.json");
    let mut py = Command::new(peer_python());
    py.args(["-m", "sglang.bench_serving"])
        .args(common)
        .args([
            "--dataset-path",
            dataset.to_str().unwrap(),
            "--output-file",
            "peer.jsonl",
        ])
        .current_dir(dir.path())
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("SGLANG_IS_IN_CI");
    let peer = run_with_timeout(py, Duration::from_secs(240), "bench_serving");
    assert!(
        peer.status.success(),
        "bench_serving failed:\n{}\n{}",
        peer.stdout,
        peer.stderr
    );
    let mut rs = Command::new(env!("CARGO_BIN_EXE_sglang-bench"));
    rs.arg("serving")
        .args(common)
        .args(["--output-file", "ours.jsonl"])
        .current_dir(dir.path());
    let ours = run_with_timeout(rs, Duration::from_secs(240), "sglang-bench");
    assert_eq!(
        ours.status.code(),
        Some(0),
        "sglang-bench failed:\n{}\n{}",
        ours.stdout,
        ours.stderr
    );
    drop(p);
    let (mp, mo) = (
        medians(&peer.stdout, "bench_serving"),
        medians(&ours.stdout, "sglang-bench"),
    );
    for (i, what) in ["TTFT", "ITL", "E2E"].iter().enumerate() {
        let rel = (mo[i] - mp[i]).abs() / mp[i];
        println!(
            "concurrency {concurrency}: median {what} bench_serving {:.2} ms, sglang-bench {:.2} ms ({:.1}%)",
            mp[i],
            mo[i],
            rel * 100.0
        );
        assert!(
            rel <= 0.05,
            "concurrency {concurrency}: median {what} differs by {:.1}%",
            rel * 100.0
        );
    }
}

#[test]
fn medians_agree_with_bench_serving_at_concurrency_1() {
    agree_at(1, 16);
}

#[test]
fn medians_agree_with_bench_serving_at_concurrency_16() {
    // 8 waves of 16: enough that the start-up wave does not dominate the medians.
    agree_at(16, 128);
}
