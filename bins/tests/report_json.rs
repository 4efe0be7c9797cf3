//! Issue 16, "outputs that compose": the `--report-json` summaries of perf-nightly,
//! nightly-image-check, process-online-plots and process-offline-plots. With `-` the JSON is
//! the whole of stdout (console lines go to stderr); each summary is checked against what
//! the run left on disk or what the stand-in served.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use docker_ctl::dates::{PACIFIC, date_days_ago};
use docker_ctl::testkit::{HttpStandIn, hub_stand_in};
use support::Ran;
use support::history::run_into;
use support::online::Online;
use support::{gsm8k_data, only_subdir};

const LIMIT: Duration = Duration::from_secs(240);

/// stdout parsed as one JSON document (fails when anything else is on stdout).
fn json_of(out: &Ran) -> serde_json::Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.all()))
}

fn lines_in_csv(path: &Path) -> usize {
    fs::read_to_string(path).unwrap().lines().count() - 1
}

// ------------------------------------------------------------------ perf-nightly

/// A sim night of Grok online in `o` (zero-latency simulator, tiny workload, idle GPUs, no
/// Docker), with `accuracy` for the GSM8K gate.
fn sim_night(o: &Online, accuracy: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
    for v in [
        "HARDWARE_TYPE",
        "BENCHMARK_CI_DIR",
        "IMAGE_REPO",
        "TEAMS_WEBHOOK_URL",
        "GITHUB_TOKEN",
        "SGLCI_DOCKERHUB_URL",
        "SGLCI_STRICT",
        "REQUEST_RATES",
        "DEFAULT_DOCKER_IMAGE",
        "INSIDE_CONTAINER",
    ] {
        c.env_remove(v);
    }
    let probe = support::fixtures("gpu-probe").join("rocm-smi-mi300x-8-idle.txt");
    c.current_dir(o.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("SGLCI_LOCK_DIR", o.path())
        .env("MOUNT_DIR", format!("{}/", o.path().display()))
        .env("SGLCI_GSM8K_DATA", gsm8k_data())
        .env(
            "SGLCI_SIM_ARGS",
            format!("--sim-profile zero --sim-gsm8k-accuracy {accuracy}"),
        )
        .env("REQUEST_RATES", "1")
        .env("PROMPTS_PER_RATE_MULTIPLIER", "1")
        .env("MAX_NUM_PROMPTS", "2")
        .env("GSM8K_NUM_QUESTIONS", "5")
        .env("GSM8K_PARALLEL", "5")
        .env("SGLCI_GPU_PROBE_CMD", format!("cat '{}'", probe.display()))
        .env("GPU_IDLE_WAIT_TIME", "1")
        .args([
            "--engine=sim",
            "--model=grok",
            "--mode=online",
            "--hardware=mi30x",
        ])
        .arg(format!("--work-dir={}", o.path().join("ci").display()))
        .arg(format!("--port={}", o.port))
        .stdin(Stdio::null());
    c
}

/// `--report-json -`: stdout is exactly the JSON summary, the console went to stderr, and the
/// summary names the run folder the night left, its image and the verdict.
#[test]
fn perf_nightly_report_json_dash_is_the_whole_stdout() {
    let o = Online::new();
    let mut c = sim_night(&o, "1.0");
    c.arg("--report-json").arg("-");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stderr
            .contains("[nightly] VERDICT: PASS (1 of 1 benchmarks succeeded)"),
        "console lines go to stderr: {}",
        out.all()
    );
    let j = json_of(&out);
    assert_eq!(j["version"], 1);
    assert_eq!(j["exit_code"], 0);
    assert_eq!(j["error"], serde_json::Value::Null);
    assert_eq!(j["verdict"], "PASS (1 of 1 benchmarks succeeded)");
    let folder = only_subdir(&o.path().join("ci/online/GROK1"));
    let benchmarks = j["benchmarks"].as_array().unwrap();
    assert_eq!(benchmarks.len(), 1, "{j}");
    let b = &benchmarks[0];
    assert_eq!(b["mode"], "Online");
    assert_eq!(b["exit_code"], 0);
    assert_eq!(
        PathBuf::from(b["run_folder"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        folder.canonicalize().unwrap()
    );
    let name = folder.file_name().unwrap().to_str().unwrap();
    let image = b["image"].as_str().unwrap();
    assert!(
        name.starts_with(image.rsplit(':').next().unwrap()),
        "{name} vs {image}"
    );
    assert_eq!(j["images"], serde_json::json!([image]));
    assert!(
        folder.join(format!("{name}.csv")).is_file(),
        "the CSV of the run folder"
    );
}

/// A failed benchmark with `--strict` and `--report-json FILE`: the file holds the failure
/// (exit 5, the benchmark's exit 4, the FAIL verdict), stdout keeps the console lines.
#[test]
fn perf_nightly_report_json_file_records_a_failed_night() {
    let o = Online::new();
    let report = o.path().join("night.json");
    let mut c = sim_night(&o, "0.0");
    c.arg("--strict")
        .arg(format!("--report-json={}", report.display()));
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(5), "{}", out.all());
    assert!(
        out.stdout.contains("[nightly] VERDICT: FAIL"),
        "{}",
        out.all()
    );
    let j: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(j["exit_code"], 5);
    assert_eq!(j["benchmarks"][0]["exit_code"], 4);
    assert_eq!(
        j["verdict"],
        "FAIL (1 of 1 benchmarks failed: online exit 4)"
    );
}

// ------------------------------------------------------------------ nightly-image-check

const REPO: &str = "rocm/sgl-dev";

/// A Docker Hub + registry stand-in with one page of `tags`, `pullable` of them pullable.
fn hub(tags: Vec<String>, pullable: Vec<String>) -> HttpStandIn {
    hub_stand_in(REPO, vec![tags], pullable).unwrap()
}

fn image_check(server: &HttpStandIn, args: &[&str]) -> Ran {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nightly-image-check"));
    c.args(args)
        .env("SGLCI_DOCKERHUB_URL", server.url())
        .env("SGLCI_REGISTRY_URL", server.url())
        .env("SGLCI_DOCKERHUB_BACKOFF_MS", "10")
        .env("SGLCI_DOCKERHUB_TIMEOUT_S", "5")
        .env_remove("TEAMS_WEBHOOK_URL")
        .env_remove("IMAGE_REPO")
        .env_remove("TIME_ZONE")
        .stdin(Stdio::null());
    support::run(c, Duration::from_secs(60), "nightly-image-check")
}

/// mi30x available, mi35x found but not pullable: the summary says so per hardware, with the
/// exit code 1; the `[check]` report went to stderr.
#[test]
fn nightly_image_check_report_json_names_each_hardware() {
    let d = date_days_ago(chrono::Utc::now(), PACIFIC, 0);
    let mi30x = format!("v0.5.6-rocm700-mi30x-{d}");
    let mi35x = format!("v0.5.6-rocm700-mi35x-{d}");
    let server = hub(vec![mi30x.clone(), mi35x.clone()], vec![mi30x.clone()]);
    let out = image_check(&server, &["--report-json", "-"]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stderr
            .contains("[check] SGL Nightly Docker Image Availability Check"),
        "{}",
        out.all()
    );
    let j = json_of(&out);
    assert_eq!(j["version"], 1);
    assert_eq!(j["repo"], REPO);
    assert_eq!(j["exit_code"], 1);
    assert_eq!(j["status"], "warning");
    assert_eq!(
        (j["checked"].as_u64(), j["found"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        j["images"],
        serde_json::json!([
            {"date": d, "hardware": "mi30x", "tag": mi30x, "outcome": "available", "detail": null},
            {"date": d, "hardware": "mi35x", "tag": mi35x, "outcome": "not_pullable", "detail": null},
        ])
    );

    // Nothing for the date: both `not_found`, written to a file; stdout keeps the report.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("check.json");
    let out = image_check(
        &server,
        &[
            "--date",
            "20200101",
            "--report-json",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(out.stdout.contains("✗ NOT FOUND"), "{}", out.all());
    let j: serde_json::Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(j["status"], "error");
    let outcomes: Vec<&str> = j["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["not_found", "not_found"]);
}

// ------------------------------------------------------------------ process-*-plots

/// A Grok online run folder of 2025-11-01 with a CSV at rates 1…16 and its GSM8K log.
fn grok_online_tree(root: &Path) {
    let tag = "v0.5.6-rocm700-mi30x-20251101";
    let d = root.join(format!("{tag}_GROK1_MOE-I4F8_online"));
    fs::create_dir_all(&d).unwrap();
    let mut csv = format!("Online mode - GROK1 ({tag})\n");
    for (i, t) in ["Median E2E Latency", "Median TTFT", "Median ITL"]
        .iter()
        .enumerate()
    {
        let cells = ["100.5", "110.5", "120.5", "130.5", "140.5"].map(|c| format!("{i}{c}"));
        csv.push_str(&format!(
            "\n{t} (ms, lower better)\nrequest rate\t1\t2\t4\t8\t16\nMI300x-aiter, host-a\t{}\n",
            cells.join("\t")
        ));
    }
    fs::write(d.join(format!("{tag}_GROK1_MOE-I4F8_online.csv")), csv).unwrap();
    fs::copy(
        support::fixtures("history/online/gsm8k_grok_aiter.log"),
        d.join("sglang_client_log_GROK1_gsm8k_aiter.log"),
    )
    .unwrap();
    fs::write(
        d.join("timing_summary_20251101_010000.log"),
        "TIMING SUMMARY LOG\n",
    )
    .unwrap();
}

/// `--report-json FILE`: the summary CSV (its row count as in the file) and the plot written.
#[test]
fn process_online_plots_report_json_file_lists_what_was_written() {
    let data = tempfile::tempdir().unwrap();
    grok_online_tree(data.path());
    let out_dir = tempfile::tempdir().unwrap();
    let plot_dir = out_dir.path().join("online");
    let report = out_dir.path().join("report.json");
    let out = run_into(
        env!("CARGO_BIN_EXE_process-online-plots"),
        out_dir.path(),
        &[
            "--data-dir",
            data.path().to_str().unwrap(),
            "--plot-dir",
            plot_dir.to_str().unwrap(),
            "--plot-date",
            "20251101",
            "--report-json",
            report.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", out.all());
    assert!(
        out.stdout.contains("=== DATA PROCESSING PHASE ==="),
        "{}",
        out.all()
    );
    let j: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(j["version"], 1);
    assert_eq!(
        (j["model"].as_str(), j["exit_code"].as_u64()),
        (Some("grok"), Some(0))
    );
    let csv = PathBuf::from(j["summary_csv"].as_str().unwrap());
    assert_eq!(csv.parent().unwrap(), out_dir.path());
    let rows = lines_in_csv(&csv);
    assert!(rows > 0);
    assert_eq!(j["rows"].as_u64(), Some(rows as u64));
    let plots: Vec<PathBuf> = j["plots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| PathBuf::from(p.as_str().unwrap()))
        .collect();
    assert_eq!(plots.len(), 1, "{j}");
    assert!(
        plots[0].starts_with(&plot_dir) && plots[0].is_file(),
        "{plots:?}"
    );
}

/// `--report-json -` on the offline fixtures: stdout is the JSON (26 rows, one PNG); on an
/// empty data folder the JSON still comes, with the error and exit code 1.
#[test]
fn process_offline_plots_report_json_dash_also_on_failure() {
    let bin = env!("CARGO_BIN_EXE_process-offline-plots");
    let out_dir = tempfile::tempdir().unwrap();
    let plot_dir = out_dir.path().join("offline");
    let data = support::fixtures("history/offline/GROK1");
    let out = run_into(
        bin,
        out_dir.path(),
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--plot-dir",
            plot_dir.to_str().unwrap(),
            "--report-json",
            "-",
        ],
    );
    assert!(out.status.success(), "{}", out.all());
    assert!(
        out.stderr.contains("Found 2 dates with complete data"),
        "{}",
        out.all()
    );
    let j = json_of(&out);
    let csv = PathBuf::from(j["summary_csv"].as_str().unwrap());
    assert_eq!(j["rows"].as_u64(), Some(lines_in_csv(&csv) as u64));
    assert_eq!(j["rows"], 26);
    let plots = j["plots"].as_array().unwrap();
    assert_eq!(plots.len(), 1, "{j}");
    assert!(Path::new(plots[0].as_str().unwrap()).is_file());

    let empty = tempfile::tempdir().unwrap();
    let out = run_into(
        bin,
        out_dir.path(),
        &[
            "--data-dir",
            empty.path().to_str().unwrap(),
            "--report-json",
            "-",
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.all());
    let j = json_of(&out);
    assert_eq!(j["exit_code"], 1);
    assert!(j["error"].as_str().is_some_and(|e| !e.is_empty()), "{j}");
    assert_eq!(j["summary_csv"], serde_json::Value::Null);
}
