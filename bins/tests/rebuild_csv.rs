//! `rebuild-csv` end to end: the real binary on hand-made run folders (fixtures/rebuild_csv/)
//! and their damaged copies. What goes in, what comes out, which exit code, and that the run
//! folder is never modified.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

const GROK: &str = "v0.0.1-rocm700-mi30x-20250101_GROK1_MOE-I4F8_online";
const DS: &str = "v0.0.1-rocm700-mi35x-20250101_DeepSeek-R1-MXFP4-Preview_FP8_online_mtp_test";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/rebuild_csv")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rebuild-csv"))
        .args(args)
        .env_remove("SGLCI_LOG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run rebuild-csv")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A copy of a fixture folder under a fresh temp dir (keeping its name).
fn copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
    }
    (tmp, dst)
}

/// Names, contents and modification times of every file in `dir`.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let m = std::fs::metadata(&p).unwrap().modified().unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                (std::fs::read(&p).unwrap(), m),
            )
        })
        .collect()
}

fn csv_of(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "csv"))
        .unwrap()
}

#[test]
fn prints_the_csv_byte_for_byte() {
    for name in [GROK, DS] {
        let dir = fixture(name);
        let o = run(&["--run-dir", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(o.stdout, std::fs::read(csv_of(&dir)).unwrap(), "{name}");
        assert_eq!(stderr(&o), "");
    }
}

#[test]
fn original_flag_spelling_is_accepted() {
    let dir = fixture(GROK);
    let o = run(&[&format!("--run_dir={}", dir.display()), "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("equals its rebuild (15 cells)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn check_reports_each_differing_cell_and_exits_1() {
    let (_tmp, dir) = copy(GROK);
    let csv = csv_of(&dir);
    let text = std::fs::read_to_string(&csv).unwrap();
    // The folder's CSV claims another TTFT for rate 4 and a value for the killed rate 8.
    let edited = text.replace("\t101.93\t", "\t103.52\t").replacen(
        "\t12034.20\t\t",
        "\t12034.20\t24684.96\t",
        1,
    );
    std::fs::write(&csv, &edited).unwrap();
    let before = snapshot(&dir);
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "rate 8, Median E2E: expected 24684.96, got (empty)\n\
         rate 4, Median TTFT: expected 103.52, got 101.93\n"
    );
    assert!(
        stderr(&o).contains("differs from its rebuild in 2 place(s)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&dir), before, "--check modified the folder");
    // --all-results fills the killed rate 8 from its log.
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--all-results"]);
    assert!(
        stdout(&o).contains("\t12034.20\t24684.96\t\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn out_writes_the_file_and_nothing_else() {
    let (tmp, dir) = copy(DS);
    let before = snapshot(&dir);
    let out = tmp.path().join("rebuilt.csv");
    let o = run(&[
        "--run-dir",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(csv_of(&dir)).unwrap()
    );
    assert_eq!(snapshot(&dir), before);
    // An --out in a folder that does not exist is a clear error, exit 2.
    let bad = tmp.path().join("no/such/dir/x.csv");
    let o = run(&[
        "--run-dir",
        dir.to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/dir"), "{}", stderr(&o));
}

#[test]
fn json_has_one_object_per_client_log() {
    let dir = fixture(GROK);
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "six client logs, GSM8K log excluded");
    let by_file = |f: &str| {
        lines
            .iter()
            .find(|v| v["file"].as_str().unwrap().contains(f))
            .unwrap()
    };
    let best = by_file("aiter_1_run2_");
    assert_eq!(best["request_rate"], "1");
    assert_eq!(best["run"], 2);
    assert_eq!(best["outcome"], "complete");
    assert_eq!(best["best"], true);
    assert_eq!(best["medians"]["e2e"]["text"], "9815.01");
    assert_eq!(best["result"]["ttft"]["p99"]["text"], "199.02");
    assert_eq!(best["wrapper"]["started_at"], "2025-01-01 06:05:35 PST");
    assert_eq!(by_file("aiter_1_run1_")["best"], false);
    let killed = by_file("aiter_4_run2_");
    assert_eq!(killed["outcome"], "killed");
    assert_eq!(killed["completed"], false);
    assert!(killed["result"].is_null());
    // DeepSeek records carry the concurrency.
    let o = run(&["--run-dir", fixture(DS).to_str().unwrap(), "--json"]);
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["concurrency"], "128");
    assert!(first.get("request_rate").is_none());
}

#[test]
fn folder_without_logs_or_missing_is_exit_2_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp
        .path()
        .join("v0.0.1-rocm700-mi30x-20250101_GROK1_MOE-I4F8_online");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(
        empty.join("process_and_generate_online_plots.log"),
        "=== COMPLETE ===\n",
    )
    .unwrap();
    let o = run(&["--run-dir", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.starts_with("rebuild-csv: error: no client logs in "),
        "{e}"
    );
    assert!(e.contains(empty.to_str().unwrap()), "{e}");
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    let missing = tmp.path().join("nope");
    let o = run(&["--run-dir", missing.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(missing.to_str().unwrap()),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_log_cut_in_half_falls_back_to_the_other_runs() {
    let (_tmp, dir) = copy(GROK);
    let best = dir.join("sglang_client_log_GROK1_aiter_1_run2_20250101_060535.log");
    let data = std::fs::read(&best).unwrap();
    let at = data.windows(11).position(|w| w == b"Median E2E ").unwrap();
    std::fs::write(&best, &data[..at + 5]).unwrap();
    let before = snapshot(&dir);
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "rate 1, Median E2E: expected 9815.01, got 9900.00\n\
         rate 1, Median TTFT: expected 93.86, got 99.00\n\
         rate 1, Median ITL: expected 17.18, got 17.00\n"
    );
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--json"]);
    assert!(
        stdout(&o).contains("\"outcome\":\"truncated_block\""),
        "{}",
        stdout(&o)
    );
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn binary_files_do_not_break_the_rebuild() {
    let (_tmp, dir) = copy(GROK);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    std::fs::write(
        dir.join("sglang_client_log_GROK1_aiter_2_run2_20250101_060535.log"),
        &garbage,
    )
    .unwrap();
    std::fs::write(dir.join("timing_summary_20250101_999999.log"), &garbage).unwrap();
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // A binary CSV cannot be checked: exit 2 naming it.
    let csv = csv_of(&dir);
    std::fs::write(&csv, &garbage).unwrap();
    let before = snapshot(&dir);
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains(csv.to_str().unwrap()) && e.contains("not UTF-8"),
        "{e}"
    );
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_csv_with_a_missing_section_is_exit_2_naming_file_and_section() {
    let (_tmp, dir) = copy(DS);
    let csv = csv_of(&dir);
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, &text[..text.find("Median ITL").unwrap()]).unwrap();
    let before = snapshot(&dir);
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains(csv.to_str().unwrap()), "{e}");
    assert!(
        e.contains("section `Median ITL (ms, lower better)` is missing"),
        "{e}"
    );
    assert_eq!(snapshot(&dir), before);
    // Without --check the CSV is not needed.
    let o = run(&["--run-dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).ends_with("DeepSeek-R1-MXFP4-Preview-FP8\t51.85\t42.76\t26.17\t20.67\t\n"));
    // Deleting the CSV: --check says which file it expected.
    std::fs::remove_file(&csv).unwrap();
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("_FP8_serving_mtp_test.csv does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_and_version() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let h = stdout(&o);
    for flag in [
        "--run-dir",
        "--out",
        "--check",
        "--json",
        "--host",
        "--loads",
        "--all-results",
    ] {
        assert!(h.contains(flag), "--help lacks {flag}");
    }
    let o = run(&["--version"]);
    assert!(stdout(&o).starts_with("rebuild-csv "));
    let o = run(&["--check"]);
    assert_eq!(o.status.code(), Some(2), "--run-dir is required");
}

#[test]
fn na_cells_of_loads_without_a_result_match_and_are_kept() {
    // Our runner (like the ported revision, spec K-16) writes `NA` for a load that ran without
    // a result; the corpus' later revisions wrote an empty cell. Both rebuild from the logs.
    let (_tmp, dir) = copy(GROK);
    let csv = csv_of(&dir);
    let text = std::fs::read_to_string(&csv).unwrap();
    // Rate 16 has no client log at all; rate 8's only log has a result but no timing summary
    // says the rate completed, so its cells stay empty (combined rule).
    let na = text
        .replace("\t12034.20\t\t\n", "\t12034.20\t\tNA\n")
        .replace("\t101.93\t\t\n", "\t101.93\t\tNA\n")
        .replace("\t17.96\t\t\n", "\t17.96\t\tNA\n");
    assert_ne!(na, text);
    std::fs::write(&csv, &na).unwrap();
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = run(&["--run-dir", dir.to_str().unwrap()]);
    assert_eq!(stdout(&o), na);

    // `NA` where a log does have a result is still a difference.
    let wrong = text.replace("\t9815.01\t", "\tNA\t");
    std::fs::write(&csv, &wrong).unwrap();
    let o = run(&["--run-dir", dir.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), "rate 1, Median E2E: expected NA, got 9815.01\n");
}
