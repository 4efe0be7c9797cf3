//! `sglang-bench serving` and the real `python -m sglang.bench_serving` (PyPI sglang 0.5.9 in
//! `.venv-peers`, created by `.ci/setup`; env `SGLCI_PEER_PYTHON` overrides) run one after the
//! other against the same `sglang-sim` (Grok-shaped latencies) and must agree on median TTFT,
//! ITL and E2E within 5% at concurrency 1 and 16. Both outputs are read with the toolkit's own
//! parser (metrics_parse::bench_serving).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::process::Command;
use std::time::Duration;

use metrics_parse::bench_serving::ResultBlock;
use support::sim::{Proc, peer, workload};
use support::{one_at_a_time, run, shared_data};

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

fn agree_at(concurrency: usize, prompts: usize) {
    // The two tests share the machine's cores: run them one at a time.
    let _one_at_a_time = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::grok(None);
    let common = workload("sglang", p.port, prompts, concurrency);
    let dataset = shared_data().join("gsm8k/sharegpt_gsm8k.json");
    let mut py = peer(&["-m", "sglang.bench_serving"], dir.path());
    py.args(&common).args([
        "--dataset-path",
        dataset.to_str().unwrap(),
        "--output-file",
        "peer.jsonl",
    ]);
    let peer = run(py, Duration::from_secs(240), "bench_serving");
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
    let ours = run(rs, Duration::from_secs(240), "sglang-bench");
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
    // 32 sequential requests: with 16 one slow scheduling slice moved a median by 5.6%.
    agree_at(1, 32);
}

#[test]
fn medians_agree_with_bench_serving_at_concurrency_16() {
    // 8 waves of 16: enough that the start-up wave does not dominate the medians.
    agree_at(16, 128);
}
