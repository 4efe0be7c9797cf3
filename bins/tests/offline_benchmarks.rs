//! `grok-perf-offline` and `deepseek-perf-offline` end to end on the simulated engine: the real
//! binaries run the real `sglang-sim bench-one-batch` (zero-latency by default) and must leave
//! the spec's run folder (benchmarks.md §2.10, §7.2): the CSV of §7.3 (read back with
//! metrics-parse), `config.json` (§7.6, plus the simulated marker), one log per grid point;
//! failures detected by exit status (F-5) become `NA` rows while the run goes on; re-runs
//! replace rows (F-29); unrelated `*.jsonl` files survive (F-6); and the GSM8K gate reads the
//! last verdict of the online run of the same image (F-25), under the online variant (F-14).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use metrics_parse::legacy_csv::{
    DEEPSEEK_OFFLINE_HEADER, GROK_OFFLINE_HEADER, OfflineCsv, OfflineKind,
};
use support::offline::{offline_folder, run, start, wait};
use support::{IMAGE, Ran, TAG, free_port, gsm8k_data, names, read};

const GROK: &str = env!("CARGO_BIN_EXE_grok-perf-offline");
const DEEPSEEK: &str = env!("CARGO_BIN_EXE_deepseek-perf-offline");

/// Runs a binary on the simulator with `root` as work dir.
fn sim(bin: &str, root: &Path, extra: &[&str], env: &[(&str, &str)]) -> Ran {
    let wd = format!("--work-dir={}", root.display());
    let image = format!("--docker_image={IMAGE}");
    let mut args = vec![image.as_str(), "--engine=sim", wd.as_str()];
    args.extend_from_slice(extra);
    run(bin, &args, env)
}

fn csv(path: &Path) -> OfflineCsv {
    OfflineCsv::parse(read(path).as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn csv_path(folder: &Path) -> std::path::PathBuf {
    folder.join(format!(
        "{}.csv",
        folder.file_name().unwrap().to_str().unwrap()
    ))
}

/// (TP, batch size, IL, OL, six metrics) of a CSV row.
type Row = (String, String, String, String, [String; 6]);

/// Every row of a CSV.
fn rows(c: &OfflineCsv) -> Vec<Row> {
    c.rows
        .iter()
        .map(|r| {
            (
                r.tp.clone(),
                r.batch_size.clone(),
                r.input_len.clone(),
                r.output_len.clone(),
                r.metrics.clone(),
            )
        })
        .collect()
}

/// Every row of the CSV of a run folder.
fn folder_rows(folder: &Path) -> Vec<Row> {
    rows(&csv(&csv_path(folder)))
}

/// (TP, batch size, IL, OL) of a row.
fn point(r: &Row) -> (&str, &str, &str, &str) {
    (&r.0, &r.1, &r.2, &r.3)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok()
}

#[test]
fn grok_normal_mode_oom_at_256_gives_na_rows_and_the_run_goes_on() {
    let root = tempfile::tempdir().unwrap();
    let report = root.path().join("report.json");
    let rep = format!("--report-json={}", report.display());
    let r = sim(
        GROK,
        root.path(),
        &["--sim-args=--sim-oom-batch-size 256", &rep],
        &[("NORMAL_TP_VALUES", "8 4")],
    );
    assert_eq!(r.code, Some(6), "failed points give exit 6");
    assert!(
        r.stdout
            .contains("WARNING: Batch size 256 failed with OutOfMemoryError. Skipping...")
    );
    assert!(r.stdout.contains("[csv] Engine: simulated (sglang-sim)"));
    let folder = offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "");
    let csv_file = csv_path(&folder);
    assert!(read(&csv_file).starts_with(&format!("{GROK_OFFLINE_HEADER}\n")));
    let c = csv(&csv_file);
    assert_eq!(c.kind, OfflineKind::Grok);
    let got = rows(&c);
    let bs = ["1", "2", "4", "8", "16", "32", "64", "128", "256"];
    assert_eq!(
        got.len(),
        18,
        "one row per grid point: TP 8 then TP 4, each batch size"
    );
    for (i, (tp, b, il, ol, m)) in got.iter().enumerate() {
        assert_eq!(tp, if i < 9 { "8" } else { "4" });
        assert_eq!(b, bs[i % 9]);
        assert_eq!((il.as_str(), ol.as_str()), ("1024", "128"));
        if b == "256" {
            assert!(m.iter().all(|v| v == "NA"), "row {i}: {m:?}");
        } else {
            assert!(m.iter().all(|v| is_number(v)), "row {i}: {m:?}");
        }
        assert_eq!(c.rows[i].backend.as_deref(), Some("aiter"));
    }
    // The values are the log's, verbatim (Grok rules of §6.1: the Benchmark section's last lines).
    let log = read(&folder.join("tp8_bs1_il1024.log"));
    let bench = log.split("Benchmark ...").nth(1).unwrap();
    assert!(
        bench.contains(&format!("Total. latency: {:>6} s", got[0].4[2])),
        "{}",
        got[0].4[2]
    );
    assert!(
        log.starts_with('[') && log.contains("SIMULATED bench_one_batch"),
        "the log says it is simulated"
    );
    // One log per point, and the result records beside the successful ones (F-6).
    let files = names(&folder);
    for tp in ["8", "4"] {
        for b in bs {
            assert!(
                files.contains(&format!("tp{tp}_bs{b}_il1024.log")),
                "{files:?}"
            );
            assert_eq!(
                files.contains(&format!("tp{tp}_bs{b}_il1024.jsonl")),
                b != "256",
                "{files:?}"
            );
        }
    }
    let oom_log = read(&folder.join("tp8_bs256_il1024.log"));
    assert!(oom_log.contains("torch.OutOfMemoryError"));
    assert!(
        oom_log.ends_with("[offline] FAILED: OutOfMemoryError, exit status 1; CSV row: NA\n"),
        "{oom_log}"
    );
    assert_eq!(
        read(&folder.join("config.json")),
        format!(
            "{{\"docker\": \"{IMAGE}\", \"attention_backend\": \"aiter\", \"engine\": \"sim\", \"simulated\": true}}\n"
        )
    );
    let rj: serde_json::Value = serde_json::from_str(&read(&report)).unwrap();
    assert_eq!(rj["exit_code"], 6);
    assert_eq!(rj["outcome"]["outcome"], "points_failed");
    assert_eq!(rj["outcome"]["failed"], 2);
    assert_eq!(rj["points"].as_array().unwrap().len(), 18);
    assert_eq!(rj["simulated"], true);
    assert!(
        r.stderr.contains("2 of 18 grid point(s) failed"),
        "{}",
        r.stderr
    );
}

#[test]
fn grok_long_context_and_dummy_modes_have_their_grids_and_folders() {
    let root = tempfile::tempdir().unwrap();
    let r = sim(GROK, root.path(), &["--mode=long_context"], &[]);
    assert_eq!(r.code, Some(0));
    let folder = offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "_long_context");
    let got = folder_rows(&folder);
    let ils: Vec<&str> = got.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(ils, ["8192", "16384", "32768"]);
    assert!(
        got.iter()
            .all(|r| r.0 == "8" && r.1 == "1" && r.3 == "10" && r.4.iter().all(|v| is_number(v)))
    );
    assert_eq!(
        names(&folder)
            .iter()
            .filter(|n| n.ends_with(".log"))
            .collect::<Vec<_>>(),
        [
            "tp8_bs1_il16384.log",
            "tp8_bs1_il32768.log",
            "tp8_bs1_il8192.log"
        ]
    );
    assert!(r.stdout.contains("All done! Results saved to"));

    let r = sim(
        GROK,
        root.path(),
        &["--mode=dummy", "--dummy-model=/models/dummy_prod1"],
        &[],
    );
    assert_eq!(r.code, Some(0));
    let folder = offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "_dummy");
    let got = folder_rows(&folder);
    assert_eq!(got.len(), 1);
    assert_eq!(point(&got[0]), ("8", "2", "256", "4096"));
    assert!(folder.join("tp8_bs2_il256.log").is_file());
    assert!(folder.join("config.json").is_file());
}

#[test]
fn a_crash_at_one_point_is_reported_recorded_and_the_next_point_runs() {
    let root = tempfile::tempdir().unwrap();
    let r = sim(
        GROK,
        root.path(),
        &["--model-type=grok2", "--sim-args=--sim-crash-batch-size 2"],
        &[("NORMAL_BATCH_SIZES", "1 2 4")],
    );
    assert_eq!(r.code, Some(6));
    assert!(
        r.stdout
            .contains("WARNING: Batch size 2 failed (exit status 134). Skipping..."),
        "reported"
    );
    assert!(
        r.stdout
            .contains("[csv] FAILED: TP=8 BS=2 IL=1024: exit status 134")
    );
    // Grok-2 writes below its own offline variant.
    let folder = offline_folder(root.path(), "GROK2", "MOE-I4F0-SIM", "");
    let got = folder_rows(&folder);
    assert_eq!(
        got.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["1", "2", "4"]
    );
    assert!(
        got[1].4.iter().all(|v| v == "NA"),
        "recorded as NA: {:?}",
        got[1].4
    );
    assert!(
        got[2].4.iter().all(|v| is_number(v)),
        "the next point ran: {:?}",
        got[2].4
    );
    let log = read(&folder.join("tp8_bs2_il1024.log"));
    assert!(
        log.contains("Memory access fault")
            && log.ends_with("[offline] FAILED: exit status 134; CSV row: NA\n")
    );
}

#[test]
fn deepseek_run_writes_one_row_and_a_rerun_replaces_it() {
    let root = tempfile::tempdir().unwrap();
    let r = sim(DEEPSEEK, root.path(), &[], &[]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("=== TP=8, BS=32 ==="));
    let folder = offline_folder(root.path(), "DeepSeek-V3-0324", "FP8-SIM", "");
    let file = csv_path(&folder);
    let first = read(&file);
    assert!(first.starts_with(&format!("{DEEPSEEK_OFFLINE_HEADER}\n")));
    let c = csv(&file);
    assert_eq!(c.kind, OfflineKind::DeepSeek);
    let got = rows(&c);
    assert_eq!(got.len(), 1);
    assert_eq!(point(&got[0]), ("8", "32", "128", "32"));
    assert!(got[0].4.iter().all(|v| is_number(v)), "{:?}", got[0].4);
    assert!(folder.join("tp8_bs32.log").is_file());
    assert_eq!(
        read(&folder.join("config.json")),
        format!("{{\"docker\": \"{IMAGE}\", \"engine\": \"sim\", \"simulated\": true}}\n")
    );
    assert!(
        r.stdout
            .contains(&format!("✅  Results written to {}", file.display()))
    );

    // Re-run with another seed: still one row (F-29; the original appended a second one).
    let r = sim(DEEPSEEK, root.path(), &["--sim-args=--seed 7"], &[]);
    assert_eq!(r.code, Some(0));
    let again = read(&file);
    assert_eq!(again.lines().count(), 2, "{again}");
    assert_ne!(again, first, "the row was replaced by the new measurement");
    // A crash is an NA row and exit 6 (the original aborted without a row).
    let r = sim(
        DEEPSEEK,
        root.path(),
        &["--sim-args=--sim-crash-batch-size 32"],
        &[],
    );
    assert_eq!(r.code, Some(6));
    assert!(read(&file).ends_with("\n8,32,128,32,NA,NA,NA,NA,NA,NA\n"));
}

#[test]
fn grok_rerun_replaces_only_the_rows_of_its_points() {
    let root = tempfile::tempdir().unwrap();
    let r = sim(GROK, root.path(), &[], &[("NORMAL_BATCH_SIZES", "1 2")]);
    assert_eq!(r.code, Some(0));
    let folder = offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "");
    let before = folder_rows(&folder);
    let r = sim(
        GROK,
        root.path(),
        &["--sim-args=--sim-oom-batch-size 2"],
        &[("NORMAL_BATCH_SIZES", "2")],
    );
    assert_eq!(r.code, Some(6));
    let after = folder_rows(&folder);
    assert_eq!(after.len(), 2);
    assert_eq!(
        after[0], before[0],
        "batch 1 was not re-run and keeps its row"
    );
    assert!(after[1].4.iter().all(|v| v == "NA"));
}

#[test]
fn unrelated_jsonl_files_in_the_work_dir_survive() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("result.jsonl"), "{\"mine\": 1}\n").unwrap();
    std::fs::write(root.path().join("notes.jsonl"), "{\"keep\": true}\n").unwrap();
    let r = sim(GROK, root.path(), &[], &[("NORMAL_BATCH_SIZES", "1")]);
    assert_eq!(r.code, Some(0));
    let r = sim(DEEPSEEK, root.path(), &[], &[]);
    assert_eq!(r.code, Some(0));
    assert_eq!(read(&root.path().join("result.jsonl")), "{\"mine\": 1}\n");
    assert_eq!(read(&root.path().join("notes.jsonl")), "{\"keep\": true}\n");
    assert_eq!(
        names(root.path()),
        ["notes.jsonl", "offline", "result.jsonl"],
        "nothing else in the work dir"
    );
}

const PASS: &str = "Starting GSM8K accuracy test at: 2025-10-29 11:46:00 PDT\nExecuting GSM8K test Run 1 for mode aiter...\nRun 1: Accuracy: 0.810\nGSM8K test completed in 30 seconds\nAverage Accuracy over 5 runs for mode aiter: 0.808\nAverage accuracy meets threshold (0.8) for mode aiter. Continuing with this mode.\n";
const FAIL: &str = "Starting GSM8K accuracy test at: 2025-10-30 11:46:00 PDT\nExecuting GSM8K test Run 1 for mode aiter...\nRun 1: Accuracy not found, defaulting to 0\nRun 1: Accuracy: 0\nGSM8K test completed in 9 seconds\nAverage Accuracy over 5 runs for mode aiter: 0.000\nAverage accuracy (0.000) is below threshold (0.8) for mode aiter. Skipping this mode.\n";

fn online_log(root: &Path, model: &str, variant: &str, name: &str, text: &str) {
    let dir = root
        .join("online")
        .join(model)
        .join(format!("{TAG}_{model}_{variant}_online"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

/// The Grok offline benchmark (batch size 1) after the Grok online run left the GSM8K log
/// `text`.
fn grok_after_gsm8k_log(root: &Path, text: &str) -> Ran {
    online_log(
        root,
        "GROK1",
        "MOE-I4F8-SIM",
        "sglang_client_log_GROK1_gsm8k_aiter.log",
        text,
    );
    sim(GROK, root, &[], &[("NORMAL_BATCH_SIZES", "1")])
}

/// The DeepSeek offline benchmark after the DeepSeek online run left the GSM8K log `text`.
fn deepseek_after_gsm8k_log(root: &Path, text: &str) -> Ran {
    online_log(
        root,
        "DeepSeek-V3-0324",
        "FP8-SIM",
        "sglang_client_log_DeepSeek-V3-0324_gsm8k.log",
        text,
    );
    sim(DEEPSEEK, root, &[], &[])
}

#[test]
fn gsm8k_gate_no_online_folder_proceeds() {
    let root = tempfile::tempdir().unwrap();
    let r = sim(GROK, root.path(), &[], &[("NORMAL_BATCH_SIZES", "1")]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains(
        "[csv] No GSM8K log files found. Proceeding with offline benchmark (assuming first run or standalone execution)."
    ));
    assert!(offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "").is_dir());
}

#[test]
fn gsm8k_gate_passing_verdict_proceeds() {
    let root = tempfile::tempdir().unwrap();
    let r = grok_after_gsm8k_log(root.path(), &format!("{FAIL}{PASS}"));
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains(
        "[csv] Found GSM8K success message in log file(s). Proceeding with offline benchmark."
    ));
    assert!(
        r.stdout
            .contains("Average accuracy meets threshold (0.8) for mode aiter.")
    );
    assert_eq!(
        folder_rows(&offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "")).len(),
        1
    );
    // DeepSeek reads its own log name in its online folder.
    let r = deepseek_after_gsm8k_log(
        root.path(),
        "Starting GSM8K accuracy test at: x\nAverage Accuracy over 5 runs: 0.937\nAverage accuracy meets threshold (0.93).\n",
    );
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("[csv] Found GSM8K success message"));
}

#[test]
fn gsm8k_gate_failing_last_verdict_after_an_older_pass_skips() {
    let root = tempfile::tempdir().unwrap();
    let r = grok_after_gsm8k_log(root.path(), &format!("{PASS}{FAIL}"));
    assert_eq!(r.code, Some(0), "a gate skip exits 0 (K-9)");
    assert!(r.stdout.contains(
        "[csv] GSM8K log files found but accuracy threshold not met. Skipping offline benchmark."
    ));
    assert!(
        r.stdout
            .contains("last verdict: Average accuracy (0.000) is below threshold (0.8)")
    );
    assert!(
        r.stdout
            .contains("[csv] Exiting due to GSM8K accuracy check failure.")
    );
    assert!(!root.path().join("offline").exists(), "nothing is written");
    // DeepSeek: the same rule, a failing last verdict in its log.
    let r = deepseek_after_gsm8k_log(
        root.path(),
        "Starting GSM8K accuracy test at: x\nAverage Accuracy over 5 runs: 0.937\nAverage accuracy meets threshold (0.93).\nStarting GSM8K accuracy test at: y\nAverage Accuracy over 5 runs: 0.512\nAverage accuracy (0.512) is below threshold (0.93).\n",
    );
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout
            .contains("[csv] Exiting due to GSM8K accuracy check failure.")
    );
    assert!(!root.path().join("offline").exists());
}

#[test]
fn gsm8k_gate_of_grok2_reads_the_online_fp8_folder() {
    // F-14: the original looked for ..._GROK2_MOE-I4F0_online, which the online script never
    // writes, so the Grok-2 gate never applied.
    let root = tempfile::tempdir().unwrap();
    online_log(
        root.path(),
        "GROK2",
        "FP8-SIM",
        "sglang_client_log_GROK2_gsm8k_aiter.log",
        FAIL,
    );
    let r = sim(
        GROK,
        root.path(),
        &["--model-type=grok2"],
        &[("NORMAL_BATCH_SIZES", "1")],
    );
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.contains("Skipping offline benchmark."),
        "the failing Grok-2 verdict is seen"
    );
    assert!(!root.path().join("offline").exists());
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let wd = format!("--work-dir={}", root.path().display());
    let r = run(
        GROK,
        &[
            IMAGE,
            &wd,
            "--dry-run",
            "--current-dir=/x",
            "--hardware=mi30x",
            "--rocm-version=rocm630",
            "--nightly-command=perf-nightly --mode=offline",
        ],
        &[],
    );
    assert_eq!(r.code, Some(0));
    assert!(names(root.path()).is_empty(), "a dry run writes nothing");
    assert!(
        r.stdout.contains(&format!("image: {IMAGE} (tag {TAG}")),
        "the positional image is used"
    );
    assert!(r.stdout.contains(
        "SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=1 python3 -m sglang.bench_one_batch --model /mnt/raid/models/huggingface/amd--grok-1-W4A8KV8/ --tokenizer-path Xenova/grok-1-tokenizer --tp 8 --batch-size 256 --input 1024 --output 128 --attention-backend aiter --sampling-backend pytorch --quantization fp8 --trust-remote-code --cuda-graph-max-bs 1024 --mem-fraction-static 0.75 --result-filename"
    ));
    assert!(r.stdout.contains("hardware: mi30x"));
    let r = run(
        DEEPSEEK,
        &[
            &wd,
            "--dry-run",
            "--engine=sim",
            "--download-model",
            "--model-name=DeepSeek-R1-MXFP4-Preview",
        ],
        &[("DEEPSEEK_BATCH_SIZE", "4")],
    );
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("sglang-sim bench-one-batch --model /mnt/raid/models/huggingface/deepseek-ai/DeepSeek-V3-0324 --tp 8 --batch-size 4 --input 128 --output 32 --disable-radix-cache --trust-remote-code --result-filename"));
    assert!(r.stdout.contains("offline/DeepSeek-R1-MXFP4-Preview/v0.4.9.post2-rocm630-mi30x-20250716_DeepSeek-R1-MXFP4-Preview_FP8-SIM_offline"));
    assert!(names(root.path()).is_empty());
}

#[test]
fn usage_and_setup_errors() {
    let root = tempfile::tempdir().unwrap();
    let wd = format!("--work-dir={}", root.path().display());
    let r = run(GROK, &[&wd, "--engine=sim", "--bogus-flag"], &[]);
    assert_eq!(r.code, Some(2), "unknown flags are errors");
    assert!(r.stderr.contains("--bogus-flag"));
    let r = run(GROK, &[&wd, "--engine=sim", "--mode=turbo"], &[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("Invalid mode: turbo. Must be one of: normal, long_context, dummy"),
        "{}",
        r.stderr
    );
    let r = run(DEEPSEEK, &["--engine=sim", "--work-dir=/no/such/dir"], &[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("Cannot change to /no/such/dir directory"),
        "{}",
        r.stderr
    );
    // --executor=docker goes to the daemon (DOCKER_HOST); one that does not answer is a
    // one-line setup error (the docker path itself: bins/tests/perf_nightly.rs).
    let r = run(
        GROK,
        &[&wd, "--engine=sim", "--executor=docker"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("cannot reach the Docker daemon at unix:///nonexistent/docker.sock"),
        "{}",
        r.stderr
    );
    let r = run(GROK, &[&wd, "--sim-args=--seed 1"], &[]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("only apply to --engine=sim"));
    let r = run(GROK, &["--help"], &[]);
    assert_eq!(r.code, Some(0));
    for flag in [
        "--docker-image",
        "--mode",
        "--model-type",
        "--tokenizer",
        "--dummy-model",
        "--work-dir",
        "--output-dir",
        "--engine",
        "--executor",
        "--dry-run",
    ] {
        assert!(r.stdout.contains(flag), "--help documents {flag}");
    }
    assert!(names(root.path()).is_empty());
}

#[test]
fn a_point_past_its_time_limit_gets_an_na_row() {
    let root = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let r = sim(
        GROK,
        root.path(),
        &["--sim-args=--sim-time-scale 1", "--point-timeout=0.5"],
        &[("NORMAL_BATCH_SIZES", "1")],
    );
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(r.code, Some(6));
    assert!(
        r.stdout
            .contains("no result within 0.5 s; stopped (--point-timeout)"),
        "{}",
        r.stdout
    );
    let got = folder_rows(&offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", ""));
    assert!(got[0].4.iter().all(|v| v == "NA"));
}

#[test]
fn sigterm_stops_the_point_keeps_the_csv_and_exits_143() {
    let root = tempfile::tempdir().unwrap();
    let wd = format!("--work-dir={}", root.path().display());
    let image = format!("--docker_image={IMAGE}");
    let child = start(
        GROK,
        &[&image, "--engine=sim", &wd, "--sim-args=--sim-time-scale 1"],
        &[("NORMAL_BATCH_SIZES", "1 2")],
    );
    let folder = offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "");
    let log = folder.join("tp8_bs1_il1024.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !read_opt(&log).contains("Warmup") {
        assert!(Instant::now() < deadline, "the first point never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    support::signal(child.id(), "TERM");
    let r = wait(child, Duration::from_secs(20));
    assert_eq!(r.code, Some(143));
    assert_eq!(
        read(&csv_path(&folder)),
        format!("{GROK_OFFLINE_HEADER}\n"),
        "header kept, no row for the stopped point"
    );
    assert!(
        read(&log)
            .ends_with("[offline] interrupted: bench_one_batch was stopped by SIGINT/SIGTERM\n")
    );
    assert!(
        !folder.join("tp8_bs2_il1024.log").exists(),
        "no further point ran"
    );
}

fn read_opt(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn the_gate_reads_the_verdict_that_grok_perf_online_wrote() {
    let data = gsm8k_data();
    for (accuracy, proceeds) in [("1.0", true), ("0.0", false)] {
        let root = tempfile::tempdir().unwrap();
        let wd = format!("--work-dir={}", root.path().display());
        let port = format!("--port={}", free_port());
        let image = format!("--docker_image={IMAGE}");
        let sim_args = format!("--sim-args=--sim-profile zero --sim-gsm8k-accuracy {accuracy}");
        let online = run(
            env!("CARGO_BIN_EXE_grok-perf-online"),
            &[&image, "--engine=sim", &wd, &port, &sim_args],
            &[
                ("SGLCI_GSM8K_DATA", data.to_str().unwrap()),
                ("REQUEST_RATES", "1"),
                ("PROMPTS_PER_RATE_MULTIPLIER", "1"),
                ("MAX_NUM_PROMPTS", "2"),
                ("GSM8K_NUM_QUESTIONS", "5"),
                ("GSM8K_PARALLEL", "5"),
            ],
        );
        assert_eq!(online.code, Some(if proceeds { 0 } else { 4 }));
        let r = sim(GROK, root.path(), &[], &[("NORMAL_BATCH_SIZES", "1")]);
        assert_eq!(r.code, Some(0));
        let folder = offline_folder(root.path(), "GROK1", "MOE-I4F8-SIM", "");
        if proceeds {
            assert!(r.stdout.contains("[csv] Found GSM8K success message"));
            assert_eq!(folder_rows(&folder).len(), 1);
        } else {
            assert!(
                r.stdout
                    .contains("[csv] Exiting due to GSM8K accuracy check failure.")
            );
            assert!(!folder.exists());
        }
    }
}
