//! `sglang-sim bench-one-batch`: the toolkit's command lines run, the output has the real line
//! shapes (checked against the real sample in shared/data/bench_one_batch/), the offline
//! scripts' parser (metrics_parse::bench_one_batch) reads back the numbers written to
//! result.jsonl, and the OOM/crash faults end the way the real tool does.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::process::Command;

use metrics_parse::bench_one_batch::{Flavor, OneBatchOutput};
use regex::Regex;

fn run(args: &[&str], dir: &std::path::Path) -> (Option<i32>, String, Vec<serde_json::Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_sglang-sim"))
        .arg("bench-one-batch")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run sglang-sim bench-one-batch");
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8_lossy(&out.stderr);
    let recs = std::fs::read_to_string(dir.join("result.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code(), text, recs)
}

/// The line shapes of spec/benchmarks.md §6.1 (widths included).
fn shapes() -> Vec<Regex> {
    [
        r"^Prefill\. latency: [ \d]*\d\.\d{5} s, throughput: [ \d]{5,}\d\.\d{2} token/s$",
        r"^Decode \d+\. Batch size: \d+, latency: [ \d]*\d\.\d{5} s, throughput: [ \d]{5,}\d\.\d{2} token/s$",
        r"^Decode\.  median latency: [ \d]*\d\.\d{5} s, median throughput: [ \d]{5,}\d\.\d{2} token/s$",
        r"^Total\. latency: [ \d]{2,}\.\d{3} s, throughput: [ \d]{5,}\d\.\d{2} token/s$",
    ]
    .iter()
    .map(|r| Regex::new(r).unwrap())
    .collect()
}

fn metric_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.contains("Benchmark"))
        .skip(1)
        .filter(|l| !l.starts_with('['))
        .collect()
}

#[test]
fn line_shapes_match_the_real_sample() {
    let real =
        std::fs::read_to_string(support::shared_data().join("bench_one_batch/newer-format.log"))
            .unwrap();
    let re = shapes();
    let real_lines = metric_lines(&real);
    assert!(real_lines.len() >= 8);
    for l in &real_lines {
        assert!(
            re.iter().any(|r| r.is_match(l)),
            "shape regexes must accept the real line {l:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, text, _) = run(
        &[
            "--model",
            "/m/amd--grok-1-W4A8KV8",
            "--tp",
            "8",
            "--batch-size",
            "4",
            "--input",
            "1024",
            "--output",
            "16",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{text}");
    let ours = metric_lines(&text);
    assert_eq!(ours.len(), 5 + 3, "{ours:?}");
    for l in &ours {
        assert!(
            re.iter().any(|r| r.is_match(l)),
            "simulated line has no real shape: {l:?}"
        );
    }
    assert!(
        text.lines().next().unwrap().contains("SIMULATED"),
        "first line says simulated"
    );
    assert!(text.contains("Warmup ..."));
}

#[test]
fn offline_parser_reads_back_what_result_jsonl_says() {
    let dir = tempfile::tempdir().unwrap();
    // Grok normal mode, spec/benchmarks.md §2.8.
    let (code, text, recs) = run(
        &[
            "--model",
            "/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8",
            "--tokenizer-path",
            "Xenova/grok-1-tokenizer",
            "--tp",
            "8",
            "--batch-size",
            "128",
            "--input",
            "1024",
            "--output",
            "128",
            "--attention-backend",
            "aiter",
            "--sampling-backend",
            "pytorch",
            "--quantization",
            "fp8",
            "--trust-remote-code",
            "--cuda-graph-max-bs",
            "1024",
            "--mem-fraction-static",
            "0.85",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(recs.len(), 1);
    let rec = &recs[0];
    assert_eq!(rec["simulated"], true);
    for flavor in [Flavor::Grok, Flavor::DeepSeek] {
        let parsed = OneBatchOutput::parse(text.as_bytes(), flavor);
        assert!(parsed.benchmark_section && !parsed.out_of_memory);
        assert!(parsed.deepseek_complete());
        let m = &parsed.metrics;
        let check = |got: &Option<metrics_parse::value::Num>, key: &str, decimals: usize| {
            let want = format!("{:.*}", decimals, rec[key].as_f64().unwrap());
            assert_eq!(
                got.as_ref().map(|n| n.text.clone()),
                Some(want),
                "{key} ({flavor:?})"
            );
        };
        check(&m.prefill_latency, "prefill_latency", 5);
        check(&m.median_decode_latency, "median_decode_latency", 5);
        check(&m.total_latency, "total_latency", 3);
        check(&m.prefill_throughput, "prefill_throughput", 2);
        check(&m.median_decode_throughput, "median_decode_throughput", 2);
        check(&m.total_throughput, "overall_throughput", 2);
    }
    // DeepSeek's command line (§3.6) and the dummy mode's (§2.8) parse too.
    let (code, text, _) = run(
        &[
            "--model",
            "/m/DeepSeek-V3-0324",
            "--tp",
            "8",
            "--batch-size",
            "32",
            "--input",
            "128",
            "--output",
            "32",
            "--disable-radix-cache",
            "--trust-remote-code",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(OneBatchOutput::parse(text.as_bytes(), Flavor::DeepSeek).deepseek_complete());
    let (code, text, _) = run(
        &[
            "--model",
            "/m/dummy",
            "--load-format",
            "dummy",
            "--tokenizer-path",
            "t",
            "--tp",
            "8",
            "--batch-size",
            "2",
            "--input",
            "256",
            "--output",
            "40",
            "--attention-backend",
            "aiter",
            "--torch-compile-max-bs",
            "4",
            "--quantization",
            "fp8",
            "--trust-remote-code",
            "--enable-torch-compile",
            "--sim-profile",
            "zero",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        !text.contains("inf") && !text.contains("NaN"),
        "zero profile prints finite numbers:\n{text}"
    );
}

#[test]
fn oom_and_crash_faults_end_like_the_real_tool() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text, recs) = run(
        &[
            "--model",
            "/m/grok-1",
            "--batch-size",
            "256",
            "--sim-oom-batch-size",
            "256",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(1));
    assert!(OneBatchOutput::parse(text.as_bytes(), Flavor::Grok).out_of_memory);
    assert!(text.contains("Traceback (most recent call last):"));
    assert!(recs.is_empty(), "no result record for a failed run");
    let (code, text, _) = run(
        &[
            "--model",
            "/m/grok-1",
            "--batch-size",
            "8",
            "--sim-crash-batch-size",
            "8",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(134));
    assert!(text.contains("Memory access fault by GPU"));
    let (code, text, _) = run(&["--model", "/m/grok-1", "--batch-size", "0"], dir.path());
    assert_eq!(code, Some(1), "{text}");
    let (code, _, _) = run(&["--model", "/m/grok-1", "--bogus"], dir.path());
    assert_eq!(code, Some(2));
}
