//! `grok-perf-online` and `run-grok-benchmark` end to end on the simulated engine: the real
//! binaries start `sglang-sim` and `sglang-bench` as processes in a temporary work dir.
//! Each test says which spec rule or fix it proves.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use metrics_parse::gsm8k::Gsm8kLog;
use support::online::*;
use support::{TAG, names, signal};

const LIMIT: Duration = Duration::from_secs(120);

/// A full Grok run: spec §7.2 names, §7.4 CSV that `rebuild-csv --check` reproduces, a
/// §7.8 timing summary and a §7.10 GSM8K log that metrics-parse reads back.
#[test]
fn grok_run_writes_the_spec_layout_and_parses_back() {
    let o = Online::new();
    // F-6: files of the work dir are not deleted (the original removed every *.jsonl).
    std::fs::write(o.path().join("keep.jsonl"), "{}\n").unwrap();
    let out = o.run(o.cmd("grok-perf-online", ""), LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(o.path().join("keep.jsonl").is_file(), "F-6");
    let folder = o.folder("GROK1");
    assert_eq!(
        folder.file_name().unwrap().to_str().unwrap(),
        format!("{TAG}_GROK1_MOE-I4F8-SIM_online"),
        "simulated runs carry -SIM in the variant"
    );
    let files = names(&folder);
    let csv = format!("{TAG}_GROK1_MOE-I4F8-SIM_online.csv");
    for f in [
        csv.as_str(),
        "server_output_aiter.log",
        "sglang_client_log_GROK1_gsm8k_aiter.log",
    ] {
        assert!(files.iter().any(|n| n == f), "{f} missing in {files:?}");
    }
    let client: Vec<&String> = files
        .iter()
        .filter(|n| n.starts_with("sglang_client_log_GROK1_aiter_") && n.ends_with(".log"))
        .collect();
    assert_eq!(client.len(), 15, "{client:?}");
    for rate in ["1", "2", "4", "8", "16"] {
        for run in 1..=3 {
            let prefix = format!("sglang_client_log_GROK1_aiter_{rate}_run{run}_");
            let n = client.iter().find(|n| n.starts_with(&prefix)).unwrap();
            let stamp = &n[prefix.len()..n.len() - 4];
            assert!(stamp.len() == 15 && stamp.as_bytes()[8] == b'_', "{n}");
        }
    }
    let check = rebuild_check(&folder);
    assert_eq!(check.code, Some(0), "rebuild-csv --check: {}", check.all());

    let ts = timing_summaries(&folder);
    assert_eq!(ts.len(), 1);
    let (text, t) = summary(&ts[0]);
    assert!(t.complete(), "{text}");
    assert!(
        text.contains("Hostname: ") && text.contains(" (simulated)"),
        "{text}"
    );
    assert!(text.contains("(simulated engine: sglang-sim)"), "{text}");
    assert_eq!(t.last_gsm8k_accuracy(), Some("1.000"));
    assert_eq!(t.attention_backend.as_deref(), Some("aiter (grok1)"));
    let perf = t.performance.as_ref().unwrap();
    assert_eq!(
        perf.iter().map(|e| e.load.as_str()).collect::<Vec<_>>(),
        ["1", "2", "4", "8", "16"]
    );
    // F-3: the request throughput of the best run, not the constant `N/A`.
    assert!(
        perf.iter()
            .all(|e| e.throughput.as_deref().is_some_and(|v| v != "N/A")),
        "{text}"
    );
    for rate in ["1", "2", "4", "8", "16"] {
        assert!(t.completed_load(rate), "Completed rate {rate} missing");
    }
    assert_eq!(
        t.error_check.as_ref().unwrap().status.as_deref(),
        Some("PASS")
    );

    let g = std::fs::read(folder.join("sglang_client_log_GROK1_gsm8k_aiter.log")).unwrap();
    let g = Gsm8kLog::parse(&g);
    assert_eq!(g.attempts.len(), 1);
    let a = &g.attempts[0];
    assert_eq!(a.runs.len(), 5);
    assert_eq!(a.average.as_ref().unwrap().mode.as_deref(), Some("aiter"));
    assert!(a.verdict.as_ref().unwrap().passed);
    // K-14: the Executing line with the literal quotes is absent only because the default
    // tokenizer is not on this machine; the request rate and prompt count are there.
    let first = std::fs::read_to_string(folder.join(client[0])).unwrap();
    assert!(
        first.starts_with("Running benchmark with request rate: "),
        "{first}"
    );
    assert!(
        first.contains("Executing: ") && first.contains("--num-prompts"),
        "{first}"
    );
    assert!(first.trim_end().ends_with(&"-".repeat(40)), "{first}");
    assert!(
        out.stdout.contains("[online] Server ready after"),
        "{}",
        out.stdout
    );
}

/// K-15 / F-4 / F-26 on MI355: rate 16 is skipped (empty last CSV cell), the summary still
/// ends, and a rerun finds the folder complete and only regenerates the CSV.
#[test]
fn mi35x_skips_rate_16_finishes_and_resumes_as_complete() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "");
    c.arg("--hardware=mi35x").env("REQUEST_RATES", "1 16");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.contains("Skipping rate 16 on MI355 hardware"));
    let folder = o.folder("GROK1");
    let csv = std::fs::read_to_string(folder.join(format!("{TAG}_GROK1_MOE-I4F8-SIM_online.csv")))
        .unwrap();
    let row = csv.lines().nth(4).unwrap();
    assert!(row.ends_with('\t'), "empty rate-16 cell: {row:?}");
    assert_eq!(rebuild_check(&folder).code, Some(0));
    let (text, t) = first_summary(&folder);
    assert!(text.contains("Rate 16 skipped on MI355 hardware"));
    assert!(
        t.complete(),
        "F-4: the summary reaches the overall block\n{text}"
    );
    assert!(
        text.contains("Request Rate 16:\n  E2E Latency: NA ms"),
        "{text}"
    );

    let mut again = o.cmd("grok-perf-online", "");
    again.arg("--hardware=mi35x").env("REQUEST_RATES", "1 16");
    let out = o.run(again, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("No server startup needed"),
        "F-26\n{}",
        out.stdout
    );
    let ts = timing_summaries(&folder);
    assert_eq!(ts.len(), 2, "one summary per invocation: {ts:?}");
    let (text, t) = summary(&ts[1]);
    assert!(t.all_logs_complete && t.complete(), "{text}");
    assert_eq!(rebuild_check(&folder).code, Some(0));
}

/// GSM8K below threshold: no serving benchmark, the verdict in the original words, exit 4,
/// the summary still complete (F-4).
#[test]
fn gsm8k_below_threshold_skips_the_benchmark() {
    let o = Online::new();
    let out = o.run(o.cmd("grok-perf-online", "--sim-gsm8k-accuracy 0.5"), LIMIT);
    assert_eq!(out.code, Some(4), "{}", out.all());
    assert!(
        out.stderr.contains("below the threshold 0.8"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("Skipping benchmarks for aiter backend due to low GSM8K accuracy.")
    );
    let folder = o.folder("GROK1");
    let files = names(&folder);
    assert!(
        !files
            .iter()
            .any(|n| n.contains("_aiter_") && n.ends_with(".log") && !n.contains("gsm8k")),
        "{files:?}"
    );
    assert!(!files.iter().any(|n| n.ends_with(".csv")), "{files:?}");
    let g =
        std::fs::read_to_string(folder.join("sglang_client_log_GROK1_gsm8k_aiter.log")).unwrap();
    assert!(
        g.contains(") is below threshold (0.8) for mode aiter. Skipping this mode."),
        "{g}"
    );
    let (text, t) = first_summary(&folder);
    assert!(t.complete(), "{text}");
    assert!(
        t.last_gsm8k_accuracy()
            .is_some_and(|a| a.parse::<f64>().unwrap() < 0.8)
    );
}

/// F-10: a server that exits at start-up fails the wait at once (not after 600 s).
#[test]
fn server_that_exits_at_start_fails_fast() {
    let o = Online::new();
    let out = o.run(o.cmd("grok-perf-online", "--sim-no-such-flag"), LIMIT);
    assert_eq!(out.code, Some(3), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(30), "{:?}", out.elapsed);
    assert!(out.stderr.contains("exited (exit status"), "{}", out.stderr);
    let (text, t) = first_summary(&o.folder("GROK1"));
    assert!(
        text.contains("Server startup: FAILED (the server process exited"),
        "{text}"
    );
    assert!(t.complete(), "{text}");
}

/// Fault: never ready → the start-up timeout, exit 3.
#[test]
fn server_never_ready_times_out() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "--sim-startup-delay 1000");
    c.arg("--server-timeout=2");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(3), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(30));
    let (text, _) = first_summary(&o.folder("GROK1"));
    assert!(
        text.contains("Server startup: FAILED (not ready within 2 seconds)"),
        "{text}"
    );
}

/// Fault: the server dies during GSM8K → exit 5, no client runs.
#[test]
fn server_dies_during_gsm8k() {
    let o = Online::new();
    let out = o.run(o.cmd("grok-perf-online", "--sim-exit-after 7"), LIMIT);
    assert_eq!(out.code, Some(5), "{}", out.all());
    let folder = o.folder("GROK1");
    let (text, t) = first_summary(&folder);
    assert!(
        text.contains(
            "Benchmark aborted: the server process exited (exit status 1) during the GSM8K test"
        ),
        "{text}"
    );
    assert!(t.complete());
    assert!(t.phase.is_none(), "no client benchmark: {text}");
}

/// Fault: the server dies mid-sweep → exit 5; what completed stays, the CSV matches its
/// rebuild, the summary says where it stopped.
#[test]
fn server_dies_mid_sweep() {
    let o = Online::new();
    let out = o.run(o.cmd("grok-perf-online", "--sim-exit-after 40"), LIMIT);
    assert_eq!(out.code, Some(5), "{}", out.all());
    let folder = o.folder("GROK1");
    let (text, t) = first_summary(&folder);
    assert!(
        text.contains("Benchmark aborted: the server process exited (exit status 1) during rate "),
        "{text}"
    );
    assert!(t.complete(), "{text}");
    // F-12: stopping the dead server does not cut the summary short.
    assert!(t.server_shutdown_s.is_some(), "{text}");
    assert_eq!(rebuild_check(&folder).code, Some(0));
}

/// Fault: the server hangs mid-stream → the client time limit ends the run, exit 5.
#[test]
fn server_hangs_mid_stream() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "--sim-hang-after 27");
    c.arg("--client-timeout=3");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(5), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(60));
    let (text, _) = first_summary(&o.folder("GROK1"));
    assert!(
        text.contains("produced no result within 3 seconds"),
        "{text}"
    );
}

/// Fault: a `RuntimeError:` in the server log → Server error status FAIL with the line
/// copied, exit 6.
#[test]
fn runtime_error_in_server_log() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "--sim-runtime-error-at 0.1");
    c.env("REQUEST_RATES", "1 2");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(6), "{}", out.all());
    let (text, t) = first_summary(&o.folder("GROK1"));
    let ec = t.error_check.unwrap();
    assert_eq!(ec.status.as_deref(), Some("FAIL"), "{text}");
    assert!(ec.runtime_error_count.unwrap() >= 1);
    assert!(
        ec.runtime_error_lines[0].contains("RuntimeError:"),
        "{text}"
    );
}

/// Resume (K-5) and SIGTERM: stop a run mid-sweep, rerun; the folder ends complete and the
/// first run's completed logs are untouched.
#[test]
fn sigterm_mid_sweep_then_resume() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "");
    c.env("REQUEST_RATES", "1 2")
        .env("PROMPTS_PER_RATE_MULTIPLIER", "3")
        .env("MAX_NUM_PROMPTS", "6");
    let child = support::start(c, "grok-perf-online");
    let pid = child.id();
    let base = o.path().join("online/GROK1");
    let start = Instant::now();
    let completed = |dir: &std::path::Path| -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .starts_with("sglang_client_log_GROK1_aiter_")
                    })
                    .filter_map(|e| {
                        let data = std::fs::read(e.path()).ok()?;
                        String::from_utf8_lossy(&data)
                            .contains("Run completed at:")
                            .then(|| (e.file_name().to_string_lossy().into_owned(), data))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let folder = loop {
        assert!(start.elapsed() < LIMIT, "no completed client run");
        if let Some(f) = std::fs::read_dir(&base)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            && completed(&f.path()).len() >= 2
        {
            break f.path();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    signal(pid, "TERM");
    let out = child.wait(LIMIT);
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    o.assert_no_leftovers();
    let first = completed(&folder);
    assert!(first.len() >= 2 && first.len() < 6, "{:?}", first.keys());
    let (text, t) = first_summary(&folder);
    assert!(text.contains("Run interrupted: received SIGTERM"), "{text}");
    assert!(t.complete(), "{text}");

    let mut again = o.cmd("grok-perf-online", "");
    again
        .env("REQUEST_RATES", "1 2")
        .env("PROMPTS_PER_RATE_MULTIPLIER", "3")
        .env("MAX_NUM_PROMPTS", "6");
    let out = o.run(again, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("already exists. Skipping."),
        "{}",
        out.stdout
    );
    let after = completed(&folder);
    assert_eq!(after.len(), 6, "{:?}", after.keys());
    for (name, data) in &first {
        assert_eq!(after.get(name), Some(data), "{name} changed by the rerun");
    }
    assert_eq!(timing_summaries(&folder).len(), 2);
    assert_eq!(rebuild_check(&folder).code, Some(0));
    // F-25: the GSM8K log holds the rerun's attempt only.
    let g = Gsm8kLog::parse(
        &std::fs::read(folder.join("sglang_client_log_GROK1_gsm8k_aiter.log")).unwrap(),
    );
    assert_eq!(g.attempts.len(), 1);
}

/// F-11: client runs that fail (streams cut by the server) are recorded as failed, the
/// benchmark goes on through every rate, exit 6; processed rates without a result are `NA`
/// (K-16).
#[test]
fn failing_client_runs_are_recorded_and_the_run_goes_on() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "--sim-cut-stream-after 2");
    c.env("REQUEST_RATES", "1 2");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(6), "{}", out.all());
    let folder = o.folder("GROK1");
    let logs: Vec<String> = names(&folder)
        .into_iter()
        .filter(|n| n.starts_with("sglang_client_log_GROK1_aiter_") && n.ends_with(".log"))
        .collect();
    assert_eq!(logs.len(), 6, "every run was attempted: {logs:?}");
    for n in &logs {
        let t = std::fs::read_to_string(folder.join(n)).unwrap();
        assert!(
            t.contains("Run failed at: ") && !t.contains("Run completed at:"),
            "{n}: {t}"
        );
    }
    let (text, t) = first_summary(&folder);
    assert!(t.completed_load("1") && t.completed_load("2"), "{text}");
    let csv = std::fs::read_to_string(folder.join(format!("{TAG}_GROK1_MOE-I4F8-SIM_online.csv")))
        .unwrap();
    assert!(csv.contains("(simulated)\tNA\tNA\n"), "{csv}");
}

/// SIGINT during GSM8K: the server is stopped, exit 130, the summary says so.
#[test]
fn sigint_during_gsm8k() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "");
    c.env("GSM8K_NUM_QUESTIONS", "200")
        .env("GSM8K_PARALLEL", "1");
    let child = support::start(c, "grok-perf-online");
    let start = Instant::now();
    let glog = o.path().join(format!(
        "online/GROK1/{TAG}_GROK1_MOE-I4F8-SIM_online/sglang_client_log_GROK1_gsm8k_aiter.log"
    ));
    while !std::fs::read_to_string(&glog).is_ok_and(|t| t.contains("Executing GSM8K test Run 1")) {
        assert!(start.elapsed() < LIMIT);
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(child.id(), "INT");
    let out = child.wait(LIMIT);
    assert_eq!(out.code, Some(130));
    o.assert_no_leftovers();
    let (text, t) = first_summary(&o.folder("GROK1"));
    assert!(
        text.contains("Run interrupted: received SIGINT during the GSM8K test"),
        "{text}"
    );
    assert!(t.complete());
}

/// `--dry-run` prints the real engine's exact launch and client lines (K-14) and writes
/// nothing; unknown flags and the docker executor are clear errors.
#[test]
fn dry_run_unknown_flags_and_docker_executor() {
    let o = Online::new();
    let exe = exe("grok-perf-online");
    let text = o.dry_run(
        "grok-perf-online",
        &["--docker_image=rocm/sgl-dev:T", "--hardware=mi35x"],
    );
    assert!(text.contains(
        "SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=1 python3 -m sglang.launch_server --model /mnt/raid/models/huggingface/amd--grok-1-W4A8KV8 --tokenizer-path /mnt/raid/models/huggingface/amd--grok-1-W4A8KV8 --tp 8 --quantization fp8 --trust-remote-code --attention-backend aiter --mem-fraction-static 0.85 --watchdog-timeout 600"
    ), "{text}");
    assert!(text.contains(
        "python3 -m sglang.bench_serving --backend sglang --tokenizer \"/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8\" --dataset-name random --random-input 1024 --random-output 1024 --num-prompts 2400 --request-rate 8"
    ), "{text}");
    assert!(text.contains("python3 /sgl-workspace/sglang/benchmark/gsm8k/bench_sglang.py --num-questions 2000 --parallel 2000 --num-shots 5"), "{text}");
    assert!(
        text.contains("rate 16: skipped on MI355 hardware"),
        "{text}"
    );
    assert!(names(o.path()).is_empty(), "a dry run writes nothing");

    let bad = std::process::Command::new(exe)
        .arg("--node=x")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "unknown flags are an error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--node"));

    // --executor=docker goes to the daemon (DOCKER_HOST); one that does not answer is a
    // one-line setup error (the docker path itself: bins/tests/perf_nightly.rs).
    let docker = std::process::Command::new(exe)
        .arg("--executor=docker")
        .arg(format!("--work-dir={}", o.path().display()))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(docker.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&docker.stderr)
            .contains("cannot reach the Docker daemon at unix:///nonexistent/docker.sock")
    );
}

/// `run-grok-benchmark` takes its settings from DOCKER_IMAGE, MODEL_PATH, TOKENIZER_PATH and
/// WORK_DIR, prints them, and runs the Grok benchmark with them.
#[test]
fn run_grok_benchmark_uses_its_environment() {
    let o = Online::new();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_run-grok-benchmark"));
    c.env("DOCKER_IMAGE", "rocm/sgl-dev:TAGX")
        .env("MODEL_PATH", "/models/grok-1-custom")
        .env("WORK_DIR", o.path())
        .env_remove("TOKENIZER_PATH")
        .env_remove("SGLCI_SIM_ARGS")
        .arg("--dry-run");
    let out = c.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("Configuration:\n  Docker Image: rocm/sgl-dev:TAGX\n  Model Path: /models/grok-1-custom\n  Tokenizer Path: /models/grok-1-custom\n"), "{text}");
    assert!(text.contains("TAGX_GROK1_MOE-I4F8_online"), "{text}");

    let mut c = o.cmd("run-grok-benchmark", "");
    c.env("REQUEST_RATES", "1");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.starts_with("Configuration:"));
    assert_eq!(rebuild_check(&o.folder("GROK1")).code, Some(0));
}

/// K-3: the timing summary has the corpus file's exact line structure (a real 2025-10-14
/// Grok-1 night: same rates, runs and header options), line for line.
#[test]
fn timing_summary_has_the_corpus_layout() {
    assert_corpus_timing_layout(
        "grok-perf-online",
        "grok",
        "GROK1",
        "online_benchmark_log/mi30x/GROK1/v0.5.3.post1-rocm630-mi30x-20251014_GROK1_MOE-I4F8_online/timing_summary_20251015_060041.log",
    );
}
