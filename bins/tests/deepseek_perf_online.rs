//! `deepseek-perf-online` end to end on the simulated engine, in every mode of spec §5.4.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::time::Duration;

use metrics_parse::gsm8k::Gsm8kLog;
use metrics_parse::timing_summary::{Flavor, TimingSummary};
use support::online::*;
use support::{TAG, names};

const LIMIT: Duration = Duration::from_secs(120);

struct Mode {
    flags: &'static [&'static str],
    suffix: &'static str,
    serving: bool,
    desc: &'static str,
    dp: bool,
}

/// Every flag combination of §5.4 (the last: F-33, the DP test alone implies DP attention).
const MODES: &[Mode] = &[
    Mode {
        flags: &[],
        suffix: "",
        serving: true,
        desc: "standard",
        dp: false,
    },
    Mode {
        flags: &["--check-dp-attention"],
        suffix: "_dp_attention",
        serving: false,
        desc: "DP attention",
        dp: true,
    },
    Mode {
        flags: &["--enable-torch-compile"],
        suffix: "_torch_compile",
        serving: false,
        desc: "torch compile",
        dp: false,
    },
    Mode {
        flags: &["--check-dp-attention", "--enable-torch-compile"],
        suffix: "_dp_attention_torch_compile",
        serving: false,
        desc: "DP attention torch compile",
        dp: true,
    },
    Mode {
        flags: &["--enable-mtp-test"],
        suffix: "_mtp_test",
        serving: true,
        desc: "standard",
        dp: false,
    },
    Mode {
        flags: &["--check-dp-attention", "--enable-dp-test"],
        suffix: "_dp_attention",
        serving: true,
        desc: "DP test",
        dp: true,
    },
    Mode {
        flags: &[
            "--check-dp-attention",
            "--enable-dp-test",
            "--enable-mtp-test",
        ],
        suffix: "_dp_attention_mtp_test",
        serving: true,
        desc: "DP test",
        dp: true,
    },
    Mode {
        flags: &["--enable-dp-test"],
        suffix: "_dp_attention",
        serving: true,
        desc: "DP test",
        dp: true,
    },
];

/// Each mode: the §7.2 folder and CSV names, the §7.9 header switches, GSM8K-only modes skip
/// serving with the K-7 wording, serving CSVs match `rebuild-csv --check`, summaries and
/// GSM8K logs parse back.
#[test]
fn every_mode_writes_its_folder_and_files() {
    for m in MODES {
        let o = Online::new();
        let mut c = o.cmd("deepseek-perf-online", "");
        c.args(m.flags);
        let out = o.run(c, LIMIT);
        assert_eq!(out.code, Some(0), "{:?}: {}", m.flags, out.all());
        let folder = o.folder("DeepSeek-V3-0324");
        assert_eq!(
            folder.file_name().unwrap().to_str().unwrap(),
            format!("{TAG}_DeepSeek-V3-0324_FP8-SIM_online{}", m.suffix),
            "{:?}",
            m.flags
        );
        let files = names(&folder);
        let csv = format!("{TAG}_DeepSeek-V3-0324_FP8-SIM_serving{}.csv", m.suffix);
        assert_eq!(files.contains(&csv), m.serving, "{:?}: {files:?}", m.flags);
        assert!(files.contains(&"sglang_server.log".to_owned()));
        assert!(files.contains(&"sglang_client_log_DeepSeek-V3-0324_gsm8k.log".to_owned()));
        let client = files
            .iter()
            .filter(|n| {
                n.starts_with("sglang_serving_benchmark_concurrency_") && n.ends_with(".log")
            })
            .count();
        assert_eq!(
            client,
            if m.serving { 5 } else { 0 },
            "{:?}: {files:?}",
            m.flags
        );

        let ts = timing_summaries(&folder);
        let text = std::fs::read_to_string(&ts[0]).unwrap();
        let t = TimingSummary::parse(text.as_bytes());
        assert!(t.complete(), "{text}");
        match &t.flavor {
            Flavor::DeepSeek { dp_attention, .. } => {
                assert_eq!(*dp_attention, Some(m.dp), "{text}")
            }
            f => panic!("{f:?}"),
        }
        assert_eq!(t.last_gsm8k_accuracy(), Some("1.000"));
        if m.serving {
            assert_eq!(rebuild_check(&folder).code, Some(0), "{:?}", m.flags);
            assert!(
                out.stdout.contains("✅ Best results for concurrency 128"),
                "{}",
                out.stdout
            );
            // F-2: the output throughput is a number.
            let perf = t.performance.as_ref().unwrap();
            assert!(
                perf.iter().all(|e| e
                    .throughput
                    .as_deref()
                    .is_some_and(|v| v.parse::<f64>().is_ok())),
                "{text}"
            );
        } else {
            assert_eq!(t.serving_skipped_mode.as_deref(), Some(m.desc), "{text}");
        }
        let g = Gsm8kLog::parse(
            &std::fs::read(folder.join("sglang_client_log_DeepSeek-V3-0324_gsm8k.log")).unwrap(),
        );
        let a = g.attempts.last().unwrap();
        assert_eq!(a.runs.len(), 5);
        assert_eq!(
            a.average.as_ref().unwrap().mode,
            None,
            "DeepSeek wording has no mode clause"
        );
        assert!(a.verdict.as_ref().unwrap().passed);
    }
}

/// §5.10 / K-20 with F-2: on mi35x with DeepSeek-R1-MXFP4-Preview the MTP test writes
/// bench_results.csv (numbers now) and the plot, and the summary's MTP block names them.
#[test]
fn mtp_artifacts_on_mi35x() {
    let o = Online::new();
    let mut c = o.cmd("deepseek-perf-online", "");
    c.args([
        "--enable-mtp-test",
        "--hardware=mi35x",
        "--model-name=DeepSeek-R1-MXFP4-Preview",
    ]);
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let dir = o.path().join("online/DeepSeek-R1-MXFP4-Preview");
    let csv = std::fs::read_to_string(dir.join("bench_results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "concurrency,median_e2e_ms,total_token_throughput_tok_s"
    );
    let concs: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(concs, ["1", "4", "16", "64", "128"], "ascending");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.split(',').all(|v| v.parse::<f64>().is_ok())),
        "{csv}"
    );
    let png = std::fs::read(dir.join("throughput_vs_median_e2e_latency.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let folder = o.folder("DeepSeek-R1-MXFP4-Preview");
    let t = TimingSummary::parse(&std::fs::read(&timing_summaries(&folder)[0]).unwrap());
    let mtp = t.mtp.unwrap();
    assert!(
        mtp.plot
            .unwrap()
            .ends_with("throughput_vs_median_e2e_latency.png")
    );
}

/// GSM8K below threshold → exit 4, no serving; F-16: a rerun of a GSM8K-only mode does not
/// take the failed log as complete (the original exited 0 doing nothing).
#[test]
fn below_threshold_and_no_silent_pass_on_rerun() {
    let o = Online::new();
    let mut c = o.cmd("deepseek-perf-online", "--sim-gsm8k-accuracy 0.5");
    c.arg("--check-dp-attention");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(4), "{}", out.all());
    let folder = o.folder("DeepSeek-V3-0324");
    let g = std::fs::read_to_string(folder.join("sglang_client_log_DeepSeek-V3-0324_gsm8k.log"))
        .unwrap();
    assert!(g.contains(") is below threshold (0.93)."), "{g}");
    let mut again = o.cmd("deepseek-perf-online", "--sim-gsm8k-accuracy 0.5");
    again.arg("--check-dp-attention");
    let out = o.run(again, LIMIT);
    assert_eq!(out.code, Some(4), "F-16: {}", out.all());
    assert!(
        out.stdout.contains("GSM8K log file ends below threshold"),
        "{}",
        out.stdout
    );
}

/// Fault in the DeepSeek sweep: the server dies → exit 5, summary complete, CSV consistent.
#[test]
fn server_dies_mid_sweep() {
    let o = Online::new();
    let out = o.run(o.cmd("deepseek-perf-online", "--sim-exit-after 40"), LIMIT);
    assert_eq!(out.code, Some(5), "{}", out.all());
    let folder = o.folder("DeepSeek-V3-0324");
    let text = std::fs::read_to_string(&timing_summaries(&folder)[0]).unwrap();
    assert!(
        text.contains(
            "Benchmark aborted: the server process exited (exit status 1) during concurrency"
        ),
        "{text}"
    );
    assert!(TimingSummary::parse(text.as_bytes()).complete());
    assert_eq!(rebuild_check(&folder).code, Some(0));
}

/// `--dry-run` shows the DP-attention server with its environment (§5.7) and the real
/// client lines; a positional image is used (F-8).
#[test]
fn dry_run_dp_attention_on_rocm700() {
    let o = Online::new();
    let text = o.dry_run(
        "deepseek-perf-online",
        &[
            "--check-dp-attention",
            "--enable-dp-test",
            "rocm/sgl-dev:v0.5.4-rocm700-mi35x-20251024",
        ],
    );
    assert!(text.contains(
        "SGLANG_USE_AITER=1 SGLANG_USE_ROCM700A=1 python3 -m sglang.launch_server --model-path /mnt/raid/models/huggingface/deepseek-ai/DeepSeek-V3-0324 --tp 8 --port 30000 --trust-remote-code --chunked-prefill-size 131072 --dp-size 8 --enable-dp-attention --mem-fraction-static 0.8"
    ), "{text}");
    assert!(text.contains(
        "python3 -m sglang.bench_serving --backend sglang --dataset-name random --random-range-ratio 1 --num-prompts 500 --random-input-len 3200 --random-output-len 800 --max-concurrency 128 --port 30000 --host 127.0.0.1"
    ), "{text}");
    assert!(
        text.contains("v0.5.4-rocm700-mi35x-20251024_DeepSeek-V3-0324_FP8_online_dp_attention"),
        "{text}"
    );
    assert!(
        text.contains("GET http://127.0.0.1:30000/get_model_info"),
        "{text}"
    );
}

/// K-3: the DeepSeek timing summary has the corpus file's line structure (the 2025-10-29
/// DeepSeek-V3-0324 standard run), line for line.
#[test]
fn timing_summary_has_the_corpus_layout() {
    assert_corpus_timing_layout(
        "deepseek-perf-online",
        "deepseek",
        "DeepSeek-V3-0324",
        "online_benchmark_log/mi30x/DeepSeek-V3-0324/v0.5.4.post1-rocm630-mi30x-20251029_DeepSeek-V3-0324_FP8_online/timing_summary_20251029_151533.log",
    );
}
