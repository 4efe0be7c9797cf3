//! Issue 12, bad files and bad arguments: FIFOs and device symlinks named like inputs are
//! skipped with a warning (not read forever), flag values that become file names stay inside
//! their folders, numbers that cannot be measurements are rejected, and control characters
//! from a file never reach a log line.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::history::run_into;

const ONLINE: &str = env!("CARGO_BIN_EXE_process-online-plots");
const TAG: &str = "v0.5.4-rocm630-mi30x-20251101";
const GROK: &str = "v0.0.1-rocm700-mi30x-20250101_GROK1_MOE-I4F8_online";

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(ok.success(), "mkfifo {}", p.display());
}

/// A Grok CSV at request rates 1…16 with `e2e` as the E2E row (TTFT and ITL plain).
fn grok_csv(tag: &str, e2e: &str) -> String {
    format!(
        "Online mode - GROK1 ({tag})\n\n\
         Median E2E Latency (ms, lower better)\nrequest rate\t1\t2\t4\t8\t16\nMI300x-aiter, host-a\t{e2e}\n\n\
         Median TTFT (ms, lower better)\nrequest rate\t1\t2\t4\t8\t16\nMI300x-aiter, host-a\t10\t20\t30\t40\t50\n\n\
         Median ITL (ms, lower better)\nrequest rate\t1\t2\t4\t8\t16\nMI300x-aiter, host-a\t1.1\t2.2\t3.3\t4.4\t5.5"
    )
}

/// `<root>/<tag>_GROK1_MOE-I4F8_online/` with its CSV, GSM8K log and a timing summary.
fn grok_folder(root: &Path, tag: &str, e2e: &str) -> PathBuf {
    let base = format!("{tag}_GROK1_MOE-I4F8_online");
    let d = root.join(&base);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join(format!("{base}.csv")), grok_csv(tag, e2e)).unwrap();
    fs::copy(
        support::fixtures("history/online").join("gsm8k_grok_aiter.log"),
        d.join("sglang_client_log_GROK1_gsm8k_aiter.log"),
    )
    .unwrap();
    fs::write(
        d.join("timing_summary_20251101_010101.log"),
        "TIMING SUMMARY LOG\n",
    )
    .unwrap();
    d
}

fn summary_in(dir: &Path) -> Option<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| fs::read_to_string(p).unwrap())
}

// ---------------------------------------------------------------- non-regular files

#[test]
fn rebuild_csv_skips_a_fifo_and_a_dev_zero_symlink_with_a_warning() {
    let fixture = support::fixtures("rebuild_csv").join(GROK);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(GROK);
    fs::create_dir(&dir).unwrap();
    for e in fs::read_dir(&fixture).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let fifo = dir.join("sglang_client_log_GROK1_aiter_32_run1_20250101_235959.log");
    mkfifo(&fifo);
    let zero = dir.join("timing_summary_20250102_000000.log");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    // A name with an escape sequence and a carriage return: shown escaped, never raw.
    mkfifo(&dir.join("timing_summary_2025\u{1b}[2J\r.log"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_rebuild-csv"));
    c.arg("--run-dir").arg(&dir).env_remove("SGLCI_LOG");
    let ran = support::run(c, Duration::from_secs(30), "rebuild-csv");
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let csv = fs::read_dir(&fixture)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "csv"))
        .unwrap();
    assert_eq!(
        ran.stdout,
        support::read(&csv),
        "the FIFO did not change the CSV"
    );
    assert!(
        ran.stderr
            .contains("is not a regular file (a FIFO); skipped"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("is not a regular file (a character device); skipped"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("timing_summary_2025\\u{1b}[2J\\u{d}.log is not a regular file"),
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains(['\u{1b}', '\r']),
        "raw control characters in {:?}",
        ran.stderr
    );
}

#[test]
fn process_online_plots_skips_a_fifo_csv_and_a_dev_zero_gsm8k_log() {
    let data = tempfile::tempdir().unwrap();
    grok_folder(data.path(), TAG, "1000\t2000\t3000\t4000\t5000");
    // A second folder whose CSV is a FIFO, and a GSM8K log that is /dev/zero.
    let other = data
        .path()
        .join("v0.5.4-rocm630-mi30x-20251102_GROK1_MOE-I4F8_online");
    fs::create_dir(&other).unwrap();
    mkfifo(&other.join("v0.5.4-rocm630-mi30x-20251102_GROK1_MOE-I4F8_online.csv"));
    std::os::unix::fs::symlink(
        "/dev/zero",
        other.join("sglang_client_log_GROK1_gsm8k_aiter.log"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let ran = run_into(
        ONLINE,
        out.path(),
        &[
            "--data-dir",
            data.path().to_str().unwrap(),
            "--process-only",
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(ran.stdout.contains("(a FIFO); skipped"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("(a character device); skipped"),
        "{}",
        ran.stdout
    );
    assert!(summary_in(out.path()).unwrap().contains("20251101"));
}

// ---------------------------------------------------------------- paths stay inside

#[test]
fn plot_date_and_node_name_cannot_leave_their_folders() {
    let data = tempfile::tempdir().unwrap();
    grok_folder(data.path(), TAG, "1000\t2000\t3000\t4000\t5000");
    let root = tempfile::tempdir().unwrap();
    let plots = root.path().join("a/b/c/online");
    let out = root.path().join("a/b/c/summary");
    fs::create_dir_all(&out).unwrap();
    let d = data.path().to_str().unwrap();
    let p = plots.to_str().unwrap();
    for (flag, value) in [
        ("--plot-date", "../../../escape"),
        ("--node-name", "../../X"),
        ("--output-prefix", "../up"),
        ("--plot-date", "a\u{1b}[2J"),
    ] {
        let ran = support::history::run(
            ONLINE,
            &[
                "--days",
                "100000",
                "--summary-dir",
                out.to_str().unwrap(),
                "--data-dir",
                d,
                "--plot-dir",
                p,
                flag,
                value,
            ],
        );
        assert_eq!(ran.code, Some(2), "{flag} {value}: {}", ran.all());
        let last = ran.stderr.lines().last().unwrap_or_default();
        assert!(last.contains(flag), "{}", ran.all());
        assert!(
            !ran.stderr.contains('\u{1b}'),
            "no raw ESC: {:?}",
            ran.stderr
        );
    }
    // Nothing was written anywhere: not outside, not inside.
    fs::remove_dir(&out).unwrap();
    let mut written = Vec::new();
    let mut stack = vec![root.path().to_owned()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                written.push(p);
            }
        }
    }
    assert!(written.is_empty(), "{written:?}");
}

// ---------------------------------------------------------------- bad numbers

#[test]
fn numbers_that_cannot_be_measurements_are_rejected() {
    let data = tempfile::tempdir().unwrap();
    grok_folder(data.path(), TAG, "1000\t2000\t3000\t4000\t5000");
    grok_folder(
        data.path(),
        "v0.5.4-rocm630-mi30x-20251102",
        "inf\t-5\t1e308\tnan\t5000",
    );
    let out = tempfile::tempdir().unwrap();
    let ran = run_into(
        ONLINE,
        out.path(),
        &[
            "--data-dir",
            data.path().to_str().unwrap(),
            "--process-only",
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    for cell in ["'inf'", "'-5'", "'1e308'"] {
        assert!(
            ran.stdout.contains(&format!("{cell} is not a measurement")),
            "{cell}: {}",
            ran.stdout
        );
    }
    let summary = summary_in(out.path()).unwrap();
    for bad in ["inf", "-5.0", "1e+308", "nan", "20251102"] {
        assert!(!summary.contains(bad), "{bad} in\n{summary}");
    }
    assert!(summary.contains("20251101"), "{summary}");
}
