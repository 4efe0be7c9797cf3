//! `run-pd-docker` on the real Docker Engine (`SGLCI_REQUIRE_DOCKER=1` makes a missing daemon a
//! failure): the prefill and decode servers are `sglang-sim` in containers from the image
//! `sglang-sim build-image` made (named by `DOCKER_IMAGE`, as the original), the router is the
//! real sglang-router 0.3.2 of `.venv-peers` on this machine (`--router-mode host`).
//!
//! * all six tests pass, the summary says so, parses with metrics-parse and has the shape of
//!   a real corpus summary line by line; the GSM8K log parses too; no container is left;
//! * the decode container killed during Test 6: FAIL with the reason, exit 1, containers gone;
//! * a router that never answers: FAIL (exit 1, tests PENDING), never "pass";
//! * a missing model path still leaves a summary (fix Q-PD-13), without Docker;
//! * SIGTERM mid-run: exit 143 and every container removed.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use docker_ctl::BlockingEngine;
use docker_ctl::testkit::{Cleanup, unique, with_engine};
use metrics_parse::pd::{Gsm8kAccuracy, TestStatus, parse_gsm8k_log, parse_summary};
use support::sim::peer_python;
use support::{Lines, corpus, free_port, one_at_a_time, run, spawn_read, wait_exit};

const BIN: &str = env!("CARGO_BIN_EXE_run-pd-docker");
const REPO: &str = "sglci-test/pd-sim";
const MODEL: &str = "GPT-OSS-20B";

/// One PD run's sandbox: its image, log root, model folder, ports and container prefix.
struct Sandbox {
    dir: tempfile::TempDir,
    image: String,
    tag: String,
    prefix: String,
    ports: [u16; 4],
}

impl Sandbox {
    fn new(engine: &BlockingEngine, cleanup: &mut Cleanup<'_>) -> Self {
        let (image, tag) = support::sim_image::nightly_ref(engine, cleanup, REPO);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("models/gpt-oss-20b")).unwrap();
        let prefix = unique("sglci-test-pd");
        for role in ["router", "prefill", "decode"] {
            cleanup.container(&format!("{prefix}-{role}"));
        }
        Self {
            dir,
            image,
            tag,
            prefix,
            ports: [free_port(), free_port(), free_port(), free_port()],
        }
    }

    fn log_dir(&self) -> PathBuf {
        self.dir.path().join("pd_log/mi30x").join(&self.tag)
    }

    fn names(&self) -> Vec<String> {
        ["router", "prefill", "decode"]
            .iter()
            .map(|r| format!("{}-{r}", self.prefix))
            .collect()
    }

    /// The command: the original's two positional arguments, `DOCKER_IMAGE`,
    /// `PD_LOG_BASE_DIR`, the sim engine, the real router on this machine, then `extra`.
    fn command(&self, sim_args: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg(self.dir.path().join("models/gpt-oss-20b"))
            .arg(MODEL)
            .env("DOCKER_IMAGE", &self.image)
            .env("PD_LOG_BASE_DIR", self.dir.path().join("pd_log"))
            .env("HF_ENDPOINT", "http://127.0.0.1:9")
            .env("HF_HUB_OFFLINE", "1")
            .env_remove("SGLCI_SIM_ARGS")
            .env_remove("PD_ROUTER_ARGS")
            .args(["--engine", "sim", "--host-ip", "127.0.0.1"])
            .args(["--prefill-port", &self.ports[0].to_string()])
            .args(["--decode-port", &self.ports[1].to_string()])
            .args(["--router-port", &self.ports[2].to_string()])
            .args(["--container-prefix", &self.prefix]);
        if !extra.contains(&"--router-mode") {
            c.args(["--router-mode", "host"]);
        }
        if !extra.contains(&"--router-cmd") {
            c.arg("--router-cmd").arg(format!(
                "{} -m sglang_router.launch_router",
                peer_python().display()
            ));
        }
        if !extra.iter().any(|a| a.starts_with("--router-args")) {
            c.arg(format!("--router-args=--prometheus-port {}", self.ports[3]));
        }
        c.arg(format!("--sim-args={sim_args}")).args([
            "--server-timeout",
            "60",
            "--health-timeout",
            "90",
        ]);
        c.args(extra);
        c
    }

    /// No container of this run exists any more.
    fn assert_removed(&self, engine: &BlockingEngine) {
        for n in self.names() {
            assert!(
                engine.container(&n).unwrap().is_none(),
                "container {n} was left behind"
            );
        }
    }
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .into_owned()
}

/// A summary line's structure: its key (the text before the first `: `), or the whole line
/// when it has none — values aside.
fn shape(line: &str) -> String {
    line.split_once(": ")
        .map_or_else(|| line.to_owned(), |(k, _)| format!("{k}: …"))
}

/// Everything passes: six tests, the summary, the GSM8K log, the files, no container left.
#[test]
fn all_six_tests_pass_with_the_sim_image_and_the_real_router() {
    with_engine("all_six_tests_pass", |engine, cleanup| {
        let _one = one_at_a_time();
        let sb = Sandbox::new(engine, cleanup);
        let r = run(
            sb.command("--sim-profile zero", &[]),
            Duration::from_secs(400),
            "run-pd-docker",
        );
        println!("{}", support::tail(&r.stdout, 80));
        assert_eq!(r.code, Some(0), "{}", r.all());
        assert!(
            r.stdout.contains("[pd-test] ✓ All tests PASSED"),
            "{}",
            r.all()
        );
        assert!(r.stdout.contains("PD Test Execution Ended: "));
        assert!(
            !r.stdout.contains("restarting router"),
            "the router registered the servers itself: no restart"
        );
        assert!(
            r.stdout
                .trim_end()
                .ends_with("(Exit Code: 0)\n==================================================="),
            "the last banner reports 0: {}",
            support::tail(&r.stdout, 5)
        );
        for l in [
            "[pd-test] ✓ Router started successfully",
            "[pd-test] ✓ Prefill Server started successfully",
            "[pd-test] ✓ Decode Server started successfully",
            "[pd-test] ✓ Functional test passed - all services fully operational!",
            "[pd-test] ✓ Health check passed",
            "[pd-test] ✓ Model info passed",
            "[pd-test] ✓ Simple completion passed",
            "[pd-test] ✓ Code generation passed",
        ] {
            assert!(r.stdout.contains(l), "missing {l:?}");
        }

        let dir = sb.log_dir();
        let text = read(&dir.join("test_summary.txt"));
        let s = parse_summary(text.as_bytes());
        assert!(s.unrecognized.is_empty(), "{:?}\n{text}", s.unrecognized);
        assert!(s.title && s.completed);
        assert_eq!(s.docker_image.as_deref(), Some(sb.image.as_str()));
        assert_eq!(s.docker_tag.as_deref(), Some(sb.tag.as_str()));
        assert_eq!(s.hardware.as_deref(), Some("mi30x"));
        assert_eq!(s.model.as_deref(), Some(MODEL));
        assert_eq!(s.load_balancer_port, Some(sb.ports[2]));
        assert_eq!(s.prefill.as_ref().map(|p| p.port), Some(sb.ports[0]));
        assert_eq!(s.tests.len(), 4);
        assert!(
            s.tests.iter().all(|t| t.status == TestStatus::Pass),
            "{text}"
        );
        let g = s.gsm8k.clone().expect("Test 6 line");
        assert_eq!(g.verdict, TestStatus::Pass);
        let Gsm8kAccuracy::Value(acc) = &g.accuracy else {
            panic!("accuracy {:?}", g.accuracy)
        };
        let acc: f64 = acc.parse().unwrap();
        assert!(acc >= 0.8, "the sim oracle answers 95% right: {acc}");
        assert_eq!(s.setup_time_secs, Some(s.steps_total_secs()));
        assert_eq!(
            s.questions_per_second,
            Some(metrics_parse::pd::expected_questions_per_second(
                s.gsm8k_duration_secs.unwrap()
            ))
        );
        assert_eq!(s.log_files.len(), 4);
        assert!(s.log_files[0].1.ends_with("/load_balance.log"));

        // The GSM8K log: the original client's format, its accuracy copied verbatim.
        let glog = parse_gsm8k_log(read(&dir.join("test_gsm8k.log")).as_bytes());
        assert!(glog.results_block);
        assert_eq!(glog.total_questions, Some(200));
        assert_eq!(glog.progress_lines, 2);
        assert_eq!(
            metrics_parse::pd::expected_gsm8k_accuracy(Some(&glog)),
            g.accuracy
        );
        // Logs of the three services were collected.
        let decode = read(&dir.join("decode.log"));
        assert!(
            decode.contains("disaggregation_mode='decode'") || decode.contains("decode"),
            "{decode}"
        );
        assert!(!read(&dir.join("prefill.log")).is_empty());
        let lb = read(&dir.join("load_balance.log"));
        assert!(!lb.is_empty(), "router log");

        // Structure, line by line, against a real summary of the corpus (values aside).
        let rel = "test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251121/test_summary.txt";
        let real = read(&corpus("test/pd/pd_log").join(rel));
        let ours: Vec<String> = text.lines().map(shape).collect();
        let theirs: Vec<String> = real.lines().map(shape).collect();
        assert_eq!(ours.len(), theirs.len(), "{text}\n---\n{real}");
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "line {}", i + 1);
        }
        // The value shapes of the result lines are the corpus's too.
        let re = regex::Regex::new(r"^- Test [1-4] - [A-Za-z ]+: (PASS|FAIL|PENDING) \(\d+s\)$")
            .unwrap();
        assert_eq!(text.lines().filter(|l| re.is_match(l)).count(), 4);
        assert_eq!(real.lines().filter(|l| re.is_match(l)).count(), 4);

        sb.assert_removed(engine);
    });
}

/// `--router-mode container` with `--engine=sim`: the router container runs the image's
/// `sglang-sim router` (the original's layout: three containers); every test passes.
#[test]
fn sim_router_in_the_router_container_also_passes() {
    with_engine("sim_router_container", |engine, cleanup| {
        let _one = one_at_a_time();
        let sb = Sandbox::new(engine, cleanup);
        let cmd = sb.command("--sim-profile zero", &["--router-mode", "container"]);
        let r = run(cmd, Duration::from_secs(300), "run-pd-docker");
        assert_eq!(r.code, Some(0), "{}", r.all());
        assert!(r.stdout.contains("[pd-test] ✓ All tests PASSED"));
        let lb = read(&sb.log_dir().join("load_balance.log"));
        assert!(
            lb.contains("SIMULATED ROUTER"),
            "router container log: {lb}"
        );
        for n in sb.names() {
            assert!(r.stdout.lines().any(|l| l == n), "{n} removed and named");
        }
        sb.assert_removed(engine);
    });
}

/// Router restart only when needed: a real router whose registration gave up before the
/// servers came up (`--worker-startup-timeout-secs 1`) never becomes ready by itself; once
/// both servers are healthy and the grace period passed it is restarted once, registers them
/// and every test passes.
#[test]
fn a_router_that_gave_up_registering_is_restarted_once() {
    with_engine("router_restart", |engine, cleanup| {
        let _one = one_at_a_time();
        let sb = Sandbox::new(engine, cleanup);
        let router_args = format!(
            "--router-args=--prometheus-port {} --worker-startup-timeout-secs 1",
            sb.ports[3]
        );
        // The servers stay unreachable for 4 s each: the router has given up by then.
        let cmd = sb.command(
            "--sim-profile zero --sim-startup-delay 4",
            &["--router-register-grace", "3", &router_args],
        );
        let r = run(cmd, Duration::from_secs(300), "run-pd-docker");
        assert_eq!(r.code, Some(0), "{}", r.all());
        let restarts = r
            .stdout
            .matches("All backend services healthy - restarting router to register workers...")
            .count();
        assert_eq!(restarts, 1, "{}", r.stdout);
        assert!(
            r.stdout
                .contains("[pd-test] ✓ Router restarted successfully")
        );
        assert!(r.stdout.contains("[pd-test] ✓ All tests PASSED"));
        let lb = read(&sb.log_dir().join("load_balance.log"));
        assert!(
            lb.contains("detect_connection_mode"),
            "the first router gave up registering: {lb}"
        );
        sb.assert_removed(engine);
    });
}

fn exit_of(status: Option<ExitStatus>, out: &Lines) -> i32 {
    status
        .unwrap_or_else(|| panic!("run-pd-docker did not finish:\n{}", out.text()))
        .code()
        .unwrap_or(-1)
}

/// The decode container killed while Test 6 runs: FAIL with the reason, exit 1, every
/// container removed.
#[test]
fn decode_killed_mid_test_fails_with_the_reason_and_removes_the_containers() {
    with_engine("decode_killed_mid_test", |engine, cleanup| {
        let _one = one_at_a_time();
        let sb = Sandbox::new(engine, cleanup);
        // ~20 ms per decode step: the 200 questions take many seconds.
        let cmd = sb.command("--sim-profile zero --sim-decode-base-ms 20", &[]);
        let out = Lines::default();
        let mut child = spawn_read(cmd, "run-pd-docker", &out, &out);
        out.wait_for("Test 6: GSM8K Accuracy Test", Duration::from_secs(300))
            .unwrap_or_else(|| panic!("no Test 6:\n{}", out.text()));
        std::thread::sleep(Duration::from_secs(2));
        let decode = format!("{}-decode", sb.prefix);
        engine
            .block_on(engine.engine().kill_container(&decode, "KILL"))
            .unwrap();
        let code = exit_of(wait_exit(&mut child, Duration::from_secs(300)), &out);
        let text = out.text();
        println!("{}", support::tail(&text, 60));
        assert_eq!(code, 1, "{text}");
        assert!(
            text.contains("[pd-test] ✗ GSM8K test completed but FAILED - Accuracy: "),
            "{text}"
        );
        let reason = text
            .lines()
            .find(|l| l.starts_with("[pd-test]   Reason: accuracy "))
            .unwrap_or_else(|| panic!("no reason line:\n{text}"));
        println!("{reason}");
        assert!(
            reason.contains("Decode Server container exited (exit code 137)"),
            "{reason}"
        );
        assert!(text.contains("[pd-test] ✗ Some tests FAILED (exit code: 1)"));
        assert!(!text.contains("All tests PASSED"));
        let s = parse_summary(read(&sb.log_dir().join("test_summary.txt")).as_bytes());
        assert!(s.tests.iter().all(|t| t.status == TestStatus::Pass));
        assert_eq!(s.gsm8k.unwrap().verdict, TestStatus::Fail);
        sb.assert_removed(engine);
    });
}

/// A router that starts but never answers: Step 1 fails, the tests stay PENDING, exit 1.
#[test]
fn a_router_that_never_becomes_ready_ends_with_fail() {
    with_engine("router_never_ready", |engine, cleanup| {
        let _one = one_at_a_time();
        let sb = Sandbox::new(engine, cleanup);
        let silent = sb.dir.path().join("silent-router");
        // Starts, never listens, ignores the router flags; a unique command line to find it.
        let sleeper = format!("sleep 600.{}", sb.ports[3]);
        support::install_script(&silent, &format!("#!/bin/sh\nexec {sleeper}\n"));
        let cmd = sb.command(
            "--sim-profile zero",
            &[
                "--router-timeout",
                "3",
                "--router-cmd",
                silent.to_str().unwrap(),
            ],
        );
        let r = run(cmd, Duration::from_secs(120), "run-pd-docker");
        assert_eq!(r.code, Some(1), "{}", r.all());
        assert!(
            r.stdout
                .contains("[pd-test] ERROR: Router did not become ready within 3 seconds"),
            "{}",
            r.all()
        );
        assert!(!r.stdout.contains("PASSED"), "{}", r.stdout);
        assert!(r.stdout.contains("(Exit Code: 1)"));
        let s = parse_summary(read(&sb.log_dir().join("test_summary.txt")).as_bytes());
        assert!(s.unrecognized.is_empty());
        assert!(s.tests.iter().all(|t| t.status == TestStatus::Pending));
        assert_eq!(s.gsm8k.unwrap().accuracy, Gsm8kAccuracy::Pending);
        assert!(s.steps[0].secs >= 3, "{:?}", s.steps);
        sb.assert_removed(engine);
        // The router process group is gone too.
        let ps = Command::new("pgrep")
            .args(["-f", &sleeper])
            .output()
            .unwrap();
        assert!(ps.stdout.is_empty(), "router left running");
    });
}

/// SIGTERM while the tests wait: exit 143, containers removed, the summary left PENDING.
#[test]
fn sigterm_mid_run_removes_every_container() {
    with_engine("sigterm_mid_run", |engine, cleanup| {
        let _one = one_at_a_time();
        let sb = Sandbox::new(engine, cleanup);
        let out = Lines::default();
        let mut child = spawn_read(
            sb.command("--sim-profile zero --sim-decode-base-ms 20", &[]),
            "run-pd-docker",
            &out,
            &out,
        );
        out.wait_for("Test 6: GSM8K Accuracy Test", Duration::from_secs(300))
            .unwrap_or_else(|| panic!("no Test 6:\n{}", out.text()));
        support::signal(child.id(), "TERM");
        let code = exit_of(wait_exit(&mut child, Duration::from_secs(120)), &out);
        let text = out.text();
        assert_eq!(code, 143, "{text}");
        assert!(text.contains("Interrupted by SIGTERM"), "{text}");
        assert!(text.contains("(Exit Code: 143)"), "{text}");
        let s = parse_summary(read(&sb.log_dir().join("test_summary.txt")).as_bytes());
        assert_eq!(s.gsm8k.unwrap().verdict, TestStatus::Pending);
        sb.assert_removed(engine);
    });
}

/// A missing model path: exit 1 before any container, with a summary saying nothing ran
/// (fix Q-PD-13; the original left an empty folder).
#[test]
fn missing_model_path_writes_a_pending_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(BIN);
    c.arg(dir.path().join("no-such-model"))
        .arg("")
        .env("DOCKER_IMAGE", "rocm/sgl-dev:v0.5.6-rocm700-mi35x-20251204")
        .env("PD_LOG_BASE_DIR", dir.path())
        .args(["--host-ip", "127.0.0.1"]);
    let r = run(c, Duration::from_secs(30), "run-pd-docker");
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(
        r.stdout
            .contains("[pd-test] ERROR: Model path does not exist: ")
    );
    let f = dir
        .path()
        .join("mi35x/v0.5.6-rocm700-mi35x-20251204/test_summary.txt");
    let s = parse_summary(read(&f).as_bytes());
    assert_eq!(
        s.model.as_deref(),
        Some(MODEL),
        "an empty name is the default"
    );
    assert_eq!(s.hardware.as_deref(), Some("mi35x"));
    assert!(s.tests.iter().all(|t| t.status == TestStatus::Pending));
}

/// `--help`: the flag groups in the project's order.
#[test]
fn help_lists_the_flag_groups_in_order() {
    let r = support::run_args(BIN, &["--help"], Duration::from_secs(10));
    assert_eq!(r.code, Some(0));
    let pos = |h: &str| {
        r.stdout
            .find(h)
            .unwrap_or_else(|| panic!("no {h:?}:\n{}", r.stdout))
    };
    assert!(pos("Original flags:") < pos("Additions:"));
    assert!(pos("Additions:") < pos("Engine and executor:"));
    assert!(pos("Engine and executor:") < pos("Logging:"));
    assert!(r.stdout.contains("PD_LOG_BASE_DIR"));
    let bad = support::run_args(
        BIN,
        &["--gsm8k-threshold", "2", "/x"],
        Duration::from_secs(10),
    );
    assert_eq!(bad.code, Some(1), "{}", bad.all());
    assert!(bad.stderr.contains("--gsm8k-threshold"), "{}", bad.stderr);
}
