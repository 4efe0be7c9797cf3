//! `compare-suites` end to end: the fixture checkout of `fixtures/compare_suites/sglang` read
//! from a directory (`--sglang-dir`) and served by a local HTTP server (`--upstream-base`,
//! `SGLCI_UPSTREAM_BASE`, a positional URL). With `--legacy` the report must equal the real
//! 2025-09-16 report of the corpus byte for byte; by default each test counts once.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn checkout() -> PathBuf {
    support::fixtures("compare_suites/sglang")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_compare-suites"));
    c.env_remove("SGLCI_UPSTREAM_BASE");
    c
}

fn run(mut c: Command, args: &[&str]) -> support::Ran {
    c.args(args);
    support::run(c, LIMIT, "compare-suites")
}

/// A static file server over a folder on 127.0.0.1: `GET /<path>` answers the file, or 404
/// for a missing file and for every path in `missing`. Records the paths asked for.
struct Upstream {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(root: PathBuf, missing: &[&str]) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let base = format!("http://{}/sglang/main", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let missing: BTreeSet<String> = missing.iter().map(|s| (*s).to_owned()).collect();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Drain the request head.
            let mut h = String::new();
            while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            seen.lock().unwrap().push(path.clone());
            let rel = path.strip_prefix("/sglang/main/").unwrap_or("");
            let file = root.join(rel);
            let (status, body) = match std::fs::read(&file) {
                Ok(b) if !rel.is_empty() && !missing.contains(rel) => ("200 OK", b),
                _ => ("404 Not Found", b"404: Not Found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    Upstream { base, requests }
}

fn corpus_report(name: &str) -> String {
    support::read(
        &support::corpus("upstream_ci/ci_report")
            .join("upstream_ci/ci_report")
            .join(name),
    )
}

/// `(category, amd, nvidia, coverage)` of each data row.
fn rows(csv: &str) -> Vec<(String, u64, u64, String)> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 4, "row {l:?}");
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].to_owned(),
            )
        })
        .collect()
}

/// Coverage as the spec defines it, computed here: `N/A` for 0 NVIDIA tests, else the
/// percentage rounded half to even.
fn coverage(amd: u64, nvidia: u64) -> String {
    if nvidia == 0 {
        return "N/A".into();
    }
    let pct = (amd * 100) as f64 / nvidia as f64;
    format!("{}%", pct.round_ties_even())
}

#[test]
fn legacy_counting_from_a_checkout_reproduces_the_real_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.csv");
    let ran = run(
        bin(),
        &[
            "--sglang-dir",
            checkout().to_str().unwrap(),
            "--legacy",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let expected = corpus_report("sglang_ci_report_20250916.csv");
    assert_eq!(support::read(&out), expected);
    // The report is echoed, then where it went (not part of the file).
    assert_eq!(
        ran.stdout,
        format!("{expected}Output written to: {}\n", out.display())
    );
    assert!(ran.stderr.is_empty(), "{}", ran.all());

    let md = dir.path().join("report.md");
    let ran = run(
        bin(),
        &[
            "--sglang-dir",
            checkout().to_str().unwrap(),
            "--legacy",
            "--details",
            "--output",
            md.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert_eq!(
        support::read(&md),
        corpus_report("sglang_ci_report_20250916.md")
    );
}

#[test]
fn by_default_each_test_counts_once_and_the_total_adds_up() {
    let ran = run(
        bin(),
        &["--sglang-dir", checkout().to_str().unwrap(), "--stdout"],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let r = rows(&ran.stdout);
    assert_eq!(
        ran.stdout.lines().next(),
        Some("Test Category,AMD # of Tests,Nvidia # of Tests,AMD Coverage (%)")
    );
    let names: Vec<&str> = r.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "unit-test-backend-1-gpu",
            "unit-test-backend-2-gpu",
            "unit-test-backend-4-gpu",
            "unit-test-backend-8-gpu",
            "nightly-models-test",
            "unit-test-frontend",
            "performance-test-1-gpu",
            "performance-test-2-gpu",
            "accuracy-test-1-gpu",
            "accuracy-test-2-gpu",
            "Total",
        ]
    );
    // The dummy-grok line via amd_ci_exec.sh counts once: 4 unittest lines + 1.
    assert_eq!((r[7].1, r[7].2), (5, 6));
    // 62 + 8 AMD 1-GPU files listed, 2 in both suites: the union has 68.
    assert_eq!((r[0].1, r[0].2), (68, 102));
    let (amd, nvidia) = r[..10].iter().fold((0, 0), |(a, n), x| (a + x.1, n + x.2));
    assert_eq!((r[10].1, r[10].2), (amd, nvidia));
    assert_eq!((amd, nvidia), (104, 159));
    for (name, a, n, cov) in &r {
        assert_eq!(*cov, coverage(*a, *n), "{name}");
    }
    assert!(
        ran.stdout.ends_with("Total,104,159,65%\n"),
        "{}",
        ran.stdout
    );
}

#[test]
fn served_over_http_gives_the_same_report_as_the_checkout() {
    let server = serve(checkout(), &[]);
    let from_dir = run(
        bin(),
        &["--sglang-dir", checkout().to_str().unwrap(), "--stdout"],
    );
    let from_http = run(bin(), &["--upstream-base", &server.base, "--stdout"]);
    assert_eq!(from_http.code, Some(0), "{}", from_http.all());
    assert_eq!(from_http.stdout, from_dir.stdout);
    // `-o -` is stdout: the same report, once, and no file named `-`.
    let cwd = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.current_dir(cwd.path());
    let dash = run(
        c,
        &["--sglang-dir", checkout().to_str().unwrap(), "-o", "-"],
    );
    assert_eq!(dash.code, Some(0), "{}", dash.all());
    assert_eq!(dash.stdout, from_dir.stdout);
    assert!(
        !cwd.path().join("-").exists(),
        "-o - created a file named '-'"
    );
    let asked: BTreeSet<String> = server.requests.lock().unwrap().iter().cloned().collect();
    let expected: BTreeSet<String> = [
        "test/srt/run_suite.py",
        ".github/workflows/pr-test.yml",
        ".github/workflows/pr-test-amd.yml",
        "test/srt/test_nightly_gsm8k_eval.py",
        "test/srt/test_nightly_gsm8k_eval_amd.py",
    ]
    .iter()
    .map(|p| format!("/sglang/main/{p}"))
    .collect();
    assert_eq!(asked, expected);

    // The environment variable does the same; --details fetches run_suite.py only.
    let before = server.requests.lock().unwrap().len();
    let mut c = bin();
    c.env("SGLCI_UPSTREAM_BASE", &server.base);
    let md = run(c, &["--details", "--stdout", "--legacy"]);
    assert_eq!(md.code, Some(0), "{}", md.all());
    assert_eq!(md.stdout, corpus_report("sglang_ci_report_20250916.md"));
    let after: Vec<String> = server.requests.lock().unwrap()[before..].to_vec();
    assert_eq!(after, ["/sglang/main/test/srt/run_suite.py"]);

    // A positional run_suite.py URL; the other files still come from the base.
    let url = format!("{}/test/srt/run_suite.py", server.base);
    let pos = run(
        bin(),
        &[
            &url,
            "--upstream-base",
            &server.base,
            "--stdout",
            "--legacy",
        ],
    );
    assert_eq!(pos.code, Some(0), "{}", pos.all());
    assert_eq!(pos.stdout, corpus_report("sglang_ci_report_20250916.csv"));
}

#[test]
fn a_file_that_cannot_be_fetched_is_one_error_naming_it_and_nothing_is_written() {
    let server = serve(checkout(), &[".github/workflows/pr-test-amd.yml"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.csv");
    let ran = run(
        bin(),
        &["--upstream-base", &server.base, "-o", out.to_str().unwrap()],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.all());
    assert!(
        ran.stderr.contains("AMD PR workflow")
            && ran.stderr.contains(&format!(
                "{}/.github/workflows/pr-test-amd.yml",
                server.base
            ))
            && ran.stderr.contains("404"),
        "{}",
        ran.stderr
    );
    assert!(!out.exists(), "a partial report was written");
    assert!(ran.stdout.is_empty(), "{}", ran.all());

    // --stdout prints nothing either (the original had printed half the table).
    let ran = run(bin(), &["--upstream-base", &server.base, "--stdout"]);
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert!(ran.stdout.is_empty(), "{}", ran.all());

    // Nobody listening: a connection error, still one line naming the URL.
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}/x");
    let ran = run(bin(), &["--upstream-base", &base, "--stdout"]);
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert!(
        ran.stderr
            .contains(&format!("run_suite.py from {base}/test/srt/run_suite.py")),
        "{}",
        ran.stderr
    );
}

#[test]
fn default_output_goes_to_the_current_folder_with_the_date() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.current_dir(dir.path());
    let ran = run(
        c,
        &["--sglang-dir", checkout().to_str().unwrap(), "--details"],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let names = support::names(dir.path());
    assert_eq!(names.len(), 1, "{names:?}");
    let re = regex::Regex::new(r"^sglang_ci_report_\d{8}\.md$").unwrap();
    assert!(re.is_match(&names[0]), "{names:?}");
    assert!(
        ran.stdout
            .ends_with(&format!("Output written to: {}\n", names[0])),
        "{}",
        ran.stdout
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn renamed_suites_count_zero_with_a_warning_and_no_suites_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let rs = dir.path().join("run_suite.py");
    write(
        &rs,
        "suites = {\n    \"per-commit-1-gpu\": [TestFile(\"a.py\")],\n    \"per-commit-2-gpu\": [TestFile(\"b.py\"), TestFile(\"b.py\")],\n}\nsuite_amd = {\n    \"per-commit-amd\": [TestFile(\"a.py\")],\n    \"per-commit-2-gpu-amd\": [TestFile(\"b.py\")],\n}\n",
    );
    let ran = run(
        bin(),
        &[
            rs.to_str().unwrap(),
            "--details",
            "--stdout",
            "--sglang-dir",
            "/nonexistent",
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(
        ran.stdout.starts_with(
            "## per-commit (NVIDIA) vs per-commit-amd (AMD)\nMissing in suites: per-commit\n\n"
        ),
        "{}",
        ran.stdout
    );
    // The duplicate counts once by default, twice with --legacy.
    assert!(
        ran.stdout
            .contains("| unit-test-backend-2-gpu | 1 vs 1 | 1 | 0 | 0 |"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr
            .contains("NVIDIA suite `per-commit` is not in run_suite.py")
            && ran.stderr.contains("per-commit-1-gpu"),
        "{}",
        ran.stderr
    );
    let legacy = run(
        bin(),
        &[rs.to_str().unwrap(), "--details", "--stdout", "--legacy"],
    );
    assert!(
        legacy
            .stdout
            .contains("| unit-test-backend-2-gpu | 2 vs 1 | 1 | 0 | 0 |"),
        "{}",
        legacy.stdout
    );

    let empty = dir.path().join("empty.py");
    write(&empty, "print('no suites here')\n");
    let ran = run(bin(), &[empty.to_str().unwrap(), "--details", "--stdout"]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(
        ran.stderr.contains("could not parse suites from") && ran.stderr.contains("empty.py"),
        "{}",
        ran.stderr
    );
    let ran = run(
        bin(),
        &["/nonexistent/run_suite.py", "--stdout", "--details"],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert!(
        ran.stderr
            .contains("cannot read run_suite.py /nonexistent/run_suite.py"),
        "{}",
        ran.stderr
    );
    let ran = run(
        bin(),
        &[
            "--upstream-base",
            "http://127.0.0.1:1",
            "--sglang-dir",
            "/x",
        ],
    );
    assert_eq!(ran.code, Some(2), "{}", ran.all());
}
