//! Issue 16, "ready for a GPU node": outputs that compose (`-` is stdout for every file-output
//! flag; `/dev/stdout`, devices and named pipes are written to, never renamed over) and a
//! simulated night that needs no file of this checkout (the GSM8K test set is built into
//! `sglang-bench` and `sglang-sim`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::hide::without;
use support::online::Online;
use support::sim::{Proc, RANDOM_128_32};
use support::{fixtures, run, workspace};

const LIMIT: Duration = Duration::from_secs(180);

const GROK_FIXTURE: &str = "v0.0.1-rocm700-mi30x-20250101_GROK1_MOE-I4F8_online";

/// A copy of a rebuild-csv fixture run folder in a temporary folder.
fn run_folder() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(GROK_FIXTURE);
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(fixtures("rebuild_csv").join(GROK_FIXTURE)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    (tmp, dst)
}

/// `rebuild-csv --run-dir DIR ARGS` in `cwd`, stdout and stderr piped.
fn rebuild_csv(dir: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rebuild-csv"))
        .arg("--run-dir")
        .arg(dir)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `/dev/stdout` is still the link to the process' descriptor (the old write renamed a
/// regular file over it when run as root).
fn assert_dev_stdout_intact() {
    let m = std::fs::symlink_metadata("/dev/stdout").expect("/dev/stdout exists");
    assert!(
        m.file_type().is_symlink(),
        "/dev/stdout was replaced: {:?}",
        m.file_type()
    );
}

/// `--out -` prints exactly what plain `rebuild-csv` prints and creates no file named `-`.
#[test]
fn rebuild_csv_out_dash_is_stdout() {
    let (tmp, dir) = run_folder();
    let plain = rebuild_csv(&dir, tmp.path(), &[]);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    let dash = rebuild_csv(&dir, tmp.path(), &["--out", "-"]);
    assert!(dash.status.success(), "{}", text(&dash.stderr));
    assert!(
        text(&dash.stdout).starts_with("Online mode - GROK1"),
        "{}",
        text(&dash.stdout)
    );
    assert_eq!(text(&dash.stdout), text(&plain.stdout));
    assert_eq!(listing(tmp.path()), [GROK_FIXTURE], "no file named '-'");
    // Composes with --check: the CSV, then nothing more (the folder's CSV is equal).
    let check = rebuild_csv(&dir, tmp.path(), &["--out=-", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert_eq!(text(&check.stdout), text(&plain.stdout));
}

/// `--out /dev/stdout` (stdout a pipe) and `--out /dev/stderr` deliver the CSV and leave the
/// links alone.
#[test]
fn rebuild_csv_out_dev_stdout_writes_through() {
    let (tmp, dir) = run_folder();
    let plain = rebuild_csv(&dir, tmp.path(), &[]);
    let csv = text(&plain.stdout);
    assert!(csv.starts_with("Online mode - GROK1"), "{csv}");
    let out = rebuild_csv(&dir, tmp.path(), &["--out=/dev/stdout"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), csv);
    assert_dev_stdout_intact();
    let err = rebuild_csv(&dir, tmp.path(), &["--out", "/dev/stderr"]);
    assert!(err.status.success(), "{}", text(&err.stderr));
    assert!(text(&err.stderr).contains(&csv), "{}", text(&err.stderr));
    assert!(
        std::fs::symlink_metadata("/dev/stderr")
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// A named pipe as `--out` is written to (a reader gets the CSV) and stays a pipe; a character
/// device (made here when this process may, as root) stays a device.
#[cfg(unix)]
#[test]
fn rebuild_csv_out_fifo_and_device_stay_what_they_are() {
    use std::os::unix::fs::FileTypeExt;
    let (tmp, dir) = run_folder();
    let csv = text(&rebuild_csv(&dir, tmp.path(), &[]).stdout);
    let fifo = tmp.path().join("csv.pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success(),
        "mkfifo"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || tx.send(std::fs::read(&fifo).unwrap()));
    }
    let out = rebuild_csv(&dir, tmp.path(), &["--out", fifo.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the FIFO's reader got nothing: the pipe was renamed over");
    assert_eq!(text(&got), csv);
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    let dev = tmp.path().join("null");
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if made {
        let out = rebuild_csv(&dir, tmp.path(), &["--out", dev.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let t = std::fs::symlink_metadata(&dev).unwrap().file_type();
        assert!(t.is_char_device(), "{} is now {t:?}", dev.display());
    } else {
        eprintln!("not root: mknod refused, the device part is covered by report's unit tests");
    }
    let mut names = listing(tmp.path());
    names.retain(|n| n.starts_with(".tmp"));
    assert!(names.is_empty(), "temporary files left: {names:?}");
}

/// The pretty-printed JSON object at the end of a program's stdout (after its console lines).
fn trailing_report(stdout: &str) -> serde_json::Value {
    let start = if stdout.starts_with("{\n") {
        0
    } else {
        stdout
            .rfind("\n{\n")
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("no JSON object at the end of stdout:\n{stdout}"))
    };
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("{e}: {}", &stdout[start..]))
}

/// A real (short) simulated `grok-perf-online` with `--report-json -`: stdout is the run
/// report alone (the console lines went to stderr), and no file named `-` appears.
#[test]
fn report_json_dash_is_the_whole_stdout_of_a_benchmark() {
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "");
    c.env("REQUEST_RATES", "1")
        .arg("--report-json")
        .arg("-")
        .current_dir(o.path());
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout));
    assert!(
        out.stderr.contains("GSM8K") && out.stderr.contains("request rate"),
        "the console lines are not on stderr:\n{}",
        out.stderr
    );
    assert_eq!(report["exit_code"], 0, "{report}");
    assert_eq!(report["simulated"], true, "{report}");
    let folder = o.folder("GROK1");
    assert_eq!(
        report["run_folder"].as_str().map(Path::new),
        Some(folder.as_path()),
        "{report}"
    );
    assert!(
        !o.path().join("-").exists(),
        "--report-json - created a file named '-'"
    );
}

/// `sglang-bench` against `sglang-sim`, both on the built-in test tokenizer (`builtin:bpe4k`,
/// no tokenizer folder anywhere): `serving --output-file - --result-json /dev/stdout` puts
/// the JSON line and the pretty result on stdout (the retokenized count equals the server's,
/// so both sides really use the same tokenizer), and `gsm8k --result-file -` its result line,
/// with the built-in GSM8K test set on both sides.
#[test]
fn sglang_bench_result_files_take_dash_and_dev_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Proc::server(&[
        "--model-path",
        "/m/x",
        "--tokenizer-path",
        "builtin:bpe4k",
        "--sim-profile",
        "zero",
        "--sim-gsm8k-accuracy",
        "1.0",
    ]);
    let port = sim.port.to_string();
    let mut c = Command::new(env!("CARGO_BIN_EXE_sglang-bench"));
    c.args(["serving", "--port", &port, "--tokenizer", "builtin:bpe4k"])
        .args(RANDOM_128_32)
        .args(["--num-prompts", "4", "--warmup-pause", "0"])
        .args(["--output-file", "-", "--result-json", "/dev/stdout"])
        .env_remove("SGLCI_GSM8K_DATA")
        .current_dir(dir.path());
    let ran = run(c, LIMIT, "sglang-bench serving");
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let line: serde_json::Value = ran
        .stdout
        .lines()
        .find(|l| l.starts_with('{') && l.ends_with('}'))
        .map(|l| serde_json::from_str(l).unwrap())
        .unwrap_or_else(|| panic!("no JSON line on stdout:\n{}", ran.stdout));
    assert_eq!(line["completed"], 4, "{line}");
    assert_eq!(line["total_output_tokens"], 4 * 32, "{line}");
    assert_eq!(
        line["total_output_tokens_retokenized"], line["total_output_tokens"],
        "{line}"
    );
    let pretty = trailing_report(&ran.stdout);
    assert_eq!(pretty["completed"], 4, "{pretty}");
    assert_dev_stdout_intact();

    let mut g = Command::new(env!("CARGO_BIN_EXE_sglang-bench"));
    g.args(["gsm8k", "--port", &port, "--num-questions", "5"])
        .args(["--parallel", "5", "--result-file", "-"])
        .env_remove("SGLCI_GSM8K_DATA")
        .current_dir(dir.path());
    let ran = run(g, LIMIT, "sglang-bench gsm8k");
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(ran.stdout.contains("Accuracy: 1.000"), "{}", ran.all());
    let result = ran
        .stdout
        .lines()
        .find(|l| l.starts_with('{') && l.contains("\"task\":\"gsm8k\""))
        .unwrap_or_else(|| panic!("no result line on stdout:\n{}", ran.stdout));
    let v: serde_json::Value = serde_json::from_str(result).unwrap();
    assert_eq!(v["accuracy"], 1.0, "{v}");
    assert!(
        listing(dir.path()).is_empty(),
        "files written: {:?}",
        listing(dir.path())
    );
}

/// A simulated night from binaries that cannot see `../shared` nor this checkout's `crates/`
/// (where the embedded copies live): the native GSM8K client and the simulator's oracle still
/// find the test set (accuracy 1.000 at `--sim-gsm8k-accuracy 1.0`, 1319 questions in the
/// oracle's log), and `--report-json=/dev/stdout` is written through.
#[test]
fn sim_night_needs_no_file_of_the_build_machine() {
    let shared = workspace().join("../shared").canonicalize().unwrap();
    let crates = workspace().join("crates").canonicalize().unwrap();
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "");
    c.env_remove("SGLCI_GSM8K_DATA")
        .env_remove("SGLCI_SIM_GSM8K_DATA")
        .env("REQUEST_RATES", "1")
        .arg("--report-json=/dev/stdout")
        .current_dir(o.path());
    let probe = without(
        &[shared.clone(), crates.clone()],
        Command::new("sh").args([
            "-c",
            &format!(
                "test ! -e {}/data && test ! -e {}/bench-client",
                shared.display(),
                crates.display()
            ),
        ]),
    )
    .status()
    .expect("unshare (util-linux) runs");
    assert!(
        probe.success(),
        "cannot hide {} and {} in a mount namespace (needs `unshare -m` as root, or \
         unprivileged user namespaces for `unshare -rm`): {probe}",
        shared.display(),
        crates.display()
    );
    let out = o.run(without(&[shared, crates], &c), LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        !out.all().contains("needs the GSM8K test set"),
        "{}",
        out.all()
    );
    let folder = o.folder("GROK1");
    let server = std::fs::read_to_string(folder.join("server_output_aiter.log")).unwrap();
    assert!(
        server.contains("GSM8K oracle: 1319 questions from built-in GSM8K test set"),
        "{server}"
    );
    let g =
        std::fs::read_to_string(folder.join("sglang_client_log_GROK1_gsm8k_aiter.log")).unwrap();
    assert!(g.contains("Accuracy: 1.000"), "{g}");
    assert_eq!(
        trailing_report(&out.stdout)["exit_code"],
        0,
        "{}",
        out.stdout
    );
    assert_dev_stdout_intact();
}
