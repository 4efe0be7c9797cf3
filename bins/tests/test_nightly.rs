//! `test-nightly` end to end. Without Docker: `--help` (no daemon needed), the usage errors
//! and an unreachable daemon. On the real Docker Engine (skipped with the reason when no daemon
//! answers, a failure under SGLCI_REQUIRE_DOCKER=1), with Docker Hub and Teams stood in by
//! local HTTP servers and GPUs reported idle by a recorded `rocm-smi` table:
//!
//! * unit mode runs its command in the `<repo>_<tag>` container of a `sglang-sim build-image`
//!   image found through Docker Hub, writes the unit log that `metrics_parse::unit_test` and
//!   the Teams card read, and that log has the corpus's structure line by line; a failing
//!   command is `Result: FAILED` with exit 0 (Q-NT-4), 5 with `--strict`;
//! * a hanging unit test is stopped by the time limit and recorded as a timeout;
//! * PD mode runs a stand-in `run-pd-docker` (SGLCI_RUN_PD_DOCKER) as the original ran the
//!   script and sends the card of the summary it wrote; a missing program is exit 1;
//! * the early ends: lock held, conflicting processes, no image, Docker Hub unreachable.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docker_ctl::BlockingEngine;
use docker_ctl::testkit::{Cleanup, HttpStandIn, StandInReply, hub_stand_in, unique, with_engine};
use metrics_parse::unit_test::{self, UnitResult};
use support::{Ran, one_at_a_time};
use teams::testkit::{Receiver, Reply};

const LIMIT: Duration = Duration::from_secs(240);

/// Variables of the run that must not leak in from the caller.
const SCRUB: &[&str] = &[
    "HARDWARE_TYPE",
    "TEST_TYPE",
    "MODEL_PATH_OVERRIDE",
    "IMAGE_DATE",
    "TEAMS_WEBHOOK_URL",
    "TEST_CI_DIR",
    "MOUNT_DIR",
    "WORK_DIR",
    "IMAGE_REPO",
    "CONTAINER_SHM_SIZE",
    "GPU_USAGE_THRESHOLD",
    "VRAM_USAGE_THRESHOLD",
    "GPU_IDLE_WAIT_TIME",
    "TIME_ZONE",
    "TEST_DIR",
    "TEST_LOG_BASE_DIR",
    "PD_TEST_DIR",
    "PD_LOG_BASE_DIR",
    "DOCKER_IMAGE",
    "GITHUB_REPO",
    "SGLCI_UNIT_TEST_COMMAND",
    "SGLCI_UNIT_TEST_TIMEOUT",
    "SGLCI_PD_TEST_TIMEOUT",
    "SGLCI_RUN_PD_DOCKER",
    "SGLCI_CONFLICT_PATTERN",
    "SGLCI_GPU_PROBE_CMD",
    "SGLCI_DOCKERHUB_URL",
    "SGLCI_LOCK_DIR",
];

/// A sandbox: `<tmp>/mount` is MOUNT_DIR, TEST_CI_DIR and the working directory; the lock
/// files go to `<tmp>`.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("mount")).unwrap();
        Self { dir }
    }

    fn mount(&self) -> PathBuf {
        self.dir.path().join("mount")
    }

    fn lock(&self, kind: &str) -> PathBuf {
        self.dir.path().join(format!("test_nightly_{kind}.lock"))
    }

    /// `test-nightly` with a clean environment, idle GPUs and no conflicting processes.
    fn cmd(&self, hub: &str, repo: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_test-nightly"));
        for v in SCRUB {
            c.env_remove(v);
        }
        let idle = support::fixtures("gpu-probe").join("rocm-smi-mi300x-8-idle.txt");
        c.current_dir(self.mount())
            .env("MOUNT_DIR", self.mount())
            .env("TEST_CI_DIR", self.mount())
            .env("SGLCI_LOCK_DIR", self.dir.path())
            .env("SGLCI_DOCKERHUB_URL", hub)
            .env("SGLCI_DOCKERHUB_BACKOFF_MS", "10")
            .env("IMAGE_REPO", repo)
            .env("SGLCI_GPU_PROBE_CMD", format!("cat '{}'", idle.display()))
            .env("GPU_IDLE_WAIT_TIME", "1")
            .env(
                "SGLCI_CONFLICT_PATTERN",
                format!("sglci-no-conflict-{}", std::process::id()),
            )
            .env("SGLCI_TEAMS_BACKOFF_MS", "10")
            .stdin(Stdio::null());
        c
    }

    fn unit_log(&self, tag: &str) -> PathBuf {
        self.mount()
            .join("test/unit-test-backend-8-gpu-CAR-amd")
            .join(format!("{tag}.log"))
    }
}

fn run(c: Command) -> Ran {
    support::run(c, LIMIT, "test-nightly")
}

fn pacific(days_ago: u32) -> String {
    docker_ctl::dates::date_days_ago(chrono::Utc::now(), docker_ctl::dates::PACIFIC, days_ago)
}

/// A Docker Hub answering one page with `tags` (plus an SRT and another hardware's tag that
/// must not match).
fn hub(repo: &str, tags: &[String]) -> HttpStandIn {
    let mut names: Vec<String> = vec![
        format!("v0.5.4.post1-rocm630-mi30x-{}-srt", pacific(0)),
        format!("v0.5.4.post1-rocm700-mi35x-{}", pacific(0)),
    ];
    names.extend(tags.iter().cloned());
    hub_stand_in(repo, vec![names], Vec::new()).unwrap()
}

/// The sim image tagged `<repo>:<unique>-<rocm>-mi30x-<date>` (removed with its container by
/// `cleanup`); returns (image, tag).
fn nightly_image(
    engine: &BlockingEngine,
    cleanup: &mut Cleanup<'_>,
    repo: &str,
    rocm: &str,
    date: &str,
) -> (String, String) {
    let base = support::sim_image::base(engine, "sglci-test/tn-sim-base");
    let tag = format!("{}-{rocm}-mi30x-{date}", unique("v0").replace('-', "."));
    let image = format!("{repo}:{tag}");
    engine.tag_image(&base, &image).unwrap();
    cleanup.image(&image);
    cleanup.container(&docker_ctl::container_name(&image));
    (image, tag)
}

/// What a unit-mode Docker test starts from: today's `rocm630` image of a fresh repo on the
/// Docker Hub stand-in, its container name, a Teams receiver answering 200 and a sandbox.
struct Today {
    repo: String,
    image: String,
    tag: String,
    name: String,
    hub: HttpStandIn,
    teams: Receiver,
    s: Sandbox,
}

fn today(engine: &BlockingEngine, cleanup: &mut Cleanup<'_>) -> Today {
    let repo = repo();
    let (image, tag) = nightly_image(engine, cleanup, &repo, "rocm630", &pacific(0));
    Today {
        name: docker_ctl::container_name(&image),
        hub: hub(&repo, std::slice::from_ref(&tag)),
        teams: Receiver::start(vec![Reply::status(200)]),
        s: Sandbox::new(),
        repo,
        image,
        tag,
    }
}

fn repo() -> String {
    format!("sglci-test/tn-{}", std::process::id())
}

fn card_text(r: &Receiver) -> Vec<String> {
    r.posts().iter().map(|p| p.body.clone()).collect()
}

/// A line's shape: separators, empty lines and `Key:` of header/footer lines kept, anything
/// else is test output.
fn shape(line: &str) -> String {
    const KEYS: [&str; 11] = [
        "Test",
        "Image",
        "Container",
        "Hardware",
        "Machine",
        "Start time",
        "Test directory",
        "Command",
        "End time",
        "Exit code",
        "Result",
    ];
    let t = line.trim_end();
    if t.len() >= 10 && t.bytes().all(|b| b == b'=') {
        return format!("={}", t.len());
    }
    if t.is_empty() || t == "SGL Unit Test Log" {
        return t.to_owned();
    }
    match t.split_once(": ") {
        Some((k, _)) if KEYS.contains(&k) => format!("{k}:"),
        _ => "<output>".to_owned(),
    }
}

/// Header block (up to and with the empty line after the closing separator) and footer (from
/// the empty line before the last four lines' separator) as shapes; the body in between.
fn structure(text: &str) -> (Vec<String>, usize, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| shape(l).starts_with('='))
        .nth(2)
        .map(|(i, _)| i + 2)
        .unwrap();
    let foot = lines.len() - 6;
    (
        lines[..head].iter().map(|l| shape(l)).collect(),
        foot - head,
        lines[foot..].iter().map(|l| shape(l)).collect(),
    )
}

// ---------------------------------------------------------------- without Docker

/// `--help` needs no Docker (fix Q-NT-1) and groups the flags; bad flags and values exit 1
/// with the original's messages.
#[test]
fn help_needs_no_docker_and_bad_arguments_exit_1() {
    let s = Sandbox::new();
    let mut c = s.cmd("http://127.0.0.1:9", "x/y");
    c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .arg("--help");
    let r = run(c);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let pos = |h: &str| r.stdout.find(h).unwrap_or_else(|| panic!("{h} missing"));
    assert!(pos("Original flags:") < pos("Additions:"));
    assert!(pos("Additions:") < pos("Engine and executor:"));
    assert!(pos("Engine and executor:") < pos("Logging:"));
    for flag in [
        "--hardware",
        "--test-type",
        "--model-path",
        "--image-date",
        "--teams-webhook-url",
        "--unit-test-timeout",
    ] {
        assert!(r.stdout.contains(flag), "{flag}");
    }

    let mut c = s.cmd("http://127.0.0.1:9", "x/y");
    c.arg("--no-such-flag");
    let r = run(c);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stdout.contains("Use --help for usage information"));

    for (args, env, msg) in [
        (
            &["--hardware=mi20x"][..],
            &[][..],
            "[test] ERROR: Invalid --hardware value. Must be 'mi30x' or 'mi35x'.",
        ),
        (
            &[][..],
            &[("TEST_TYPE", "perf")][..],
            "[test] ERROR: Invalid --test-type value. Must be 'unit' or 'pd'.",
        ),
        (
            &["--unit-test-timeout=0"][..],
            &[][..],
            "--unit-test-timeout",
        ),
    ] {
        let mut c = s.cmd("http://127.0.0.1:9", "x/y");
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let r = run(c);
        assert_eq!(r.code, Some(1), "{args:?}: {}", r.all());
        assert!(r.all().contains(msg), "{msg} missing: {}", r.all());
    }
    assert!(!s.lock("unit").exists());
}

/// A daemon that does not answer: the original's error block, exit 1, no lock taken.
#[test]
fn unreachable_daemon_exits_1_before_the_lock() {
    let s = Sandbox::new();
    let mut c = s.cmd("http://127.0.0.1:9", "x/y");
    c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let r = run(c);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stdout.contains("[test] SGL Nightly Unit Test Started"));
    assert!(r.stdout.contains("[test] Testing Docker daemon access..."));
    assert!(
        r.stdout
            .contains("[test] ERROR: Cannot access Docker daemon. Please check:"),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains("Created process lock"));
    assert!(!s.lock("unit").exists());
}

// ---------------------------------------------------------------- on the Docker Engine

/// The main unit-mode test: today's image found on the Docker Hub stand-in (SRT and other
/// hardware skipped), its container created from the sim image, the sim command run in it,
/// the unit log written (it parses, it has the corpus log's structure line by line, its body
/// is the command's output), the container stopped and not removed, the Teams card sent. A
/// second run with a failing command reuses the container, records `Result: FAILED` and still
/// exits 0 (Q-NT-4); with --strict it exits 5.
#[test]
fn unit_mode_runs_in_the_sim_image_container_and_writes_the_corpus_shaped_log() {
    with_engine(
        "unit_mode_runs_in_the_sim_image_container_and_writes_the_corpus_shaped_log",
        |engine, cleanup| {
            let _one = one_at_a_time();
            let Today {
                repo,
                image,
                tag,
                name,
                hub,
                teams,
                s,
            } = today(engine, cleanup);
            let mut c = s.cmd(&hub.url(), &repo);
            c.args([
                "--engine=sim",
                "--hardware=mi30x",
                &format!("--teams-webhook-url={}", teams.url("/hook")),
            ]);
            let t = Instant::now();
            let r = run(c);
            println!("unit run took {:.1} s", t.elapsed().as_secs_f64());
            assert_eq!(r.code, Some(0), "{}", r.all());
            let out = &r.stdout;
            for line in [
                "[test] Hardware: mi30x, ROCM Version: rocm630".to_owned(),
                "[test] Test Type: unit".to_owned(),
                format!("[test] Created process lock: {}", s.lock("unit").display()),
                "[test] No conflicting SGLang processes found.".to_owned(),
                "[test] GPU is idle. Proceeding...".to_owned(),
                "[test] Searching for latest non-SRT image...".to_owned(),
                format!(
                    "[test] Searching for non-SRT mi30x image in '{repo}' for date {}...",
                    pacific(0)
                ),
                format!("[test] Found candidate tag for today: {tag}"),
                format!("[test] Successfully pulled image for today: {image}"),
                format!("[test] Selected image to run tests on: {image}"),
                format!("[test] Container name: {name}"),
                format!("[test] Creating container {name}"),
                format!("[test] Running unit test inside {name}..."),
                format!("[test] === Unit test PASSED for {image} ==="),
                format!("[test] Stopping container {name} to release resources..."),
                "[test] Sending Teams notification...".to_owned(),
                "✅ Successfully sent unit test pass alert to Teams".to_owned(),
                format!("[test] Test completed for image: {image}"),
                "[test] Cleaning up process lock...".to_owned(),
            ] {
                assert!(out.contains(&line), "missing {line:?} in\n{out}");
            }
            assert!(!s.lock("unit").exists(), "lock released");
            let info = engine.container(&name).unwrap().expect("container kept");
            assert!(!info.running(), "container stopped: {}", info.state);

            let log_path = s.unit_log(&tag);
            let text = support::read(&log_path);
            let log = unit_test::parse(text.as_bytes());
            assert!(log.header.banner);
            assert_eq!(log.header.image.as_deref(), Some(image.as_str()));
            assert_eq!(log.header.container.as_deref(), Some(name.as_str()));
            assert_eq!(log.header.hardware.as_deref(), Some("mi30x"));
            assert_eq!(
                log.header.test.as_deref(),
                Some("test_custom_allreduce.TestCustomAllReduce")
            );
            let f = log.footer.clone().expect("footer");
            assert_eq!((f.exit_code, f.result), (Some(0), Some(UnitResult::Passed)));
            assert!(
                text.contains("SIMULATED bench_one_batch") && text.contains("Benchmark ..."),
                "the command's output is the body: {text}"
            );

            // Line by line against a real log of the later original (with Machine:).
            let corpus = support::corpus("test/unit-test-backend-8-gpu-CAR-amd").join(
                "test/unit-test-backend-8-gpu-CAR-amd/mi30x/v0.5.6-rocm700-mi30x-20251206.log",
            );
            let theirs = support::read(&corpus);
            let (h1, body1, f1) = structure(&text);
            let (h2, body2, f2) = structure(&theirs);
            assert_eq!(h1, h2, "header shape");
            assert_eq!(f1, f2, "footer shape");
            assert!(body1 > 0 && body2 > 0, "both have test output");
            assert_eq!(h1.len(), 13, "{h1:?}");
            let parsed = unit_test::parse(theirs.as_bytes());
            assert_eq!(
                (
                    log.header.machine.is_some(),
                    log.header.start_time.is_some()
                ),
                (
                    parsed.header.machine.is_some(),
                    parsed.header.start_time.is_some()
                )
            );

            let cards = card_text(&teams);
            assert_eq!(cards.len(), 1, "{cards:?}");
            assert!(cards[0].contains("✅ Unit Test Passed"), "{}", cards[0]);
            assert!(
                cards[0].contains("unit-test-backend-8-gpu-CAR-amd"),
                "{}",
                cards[0]
            );

            // A failing command: reused container, FAILED, exit 0; --strict: 5.
            let teams2 = Receiver::start(vec![Reply::status(200)]);
            for (strict, want) in [(false, 0), (true, 5)] {
                let mut c = s.cmd(&hub.url(), &repo);
                c.args([
                    "--engine=sim",
                    "--unit-test-command=sglang-sim launch-server --no-such-flag",
                    &format!("--teams-webhook-url={}", teams2.url("/hook")),
                ]);
                if strict {
                    c.arg("--strict");
                }
                let r = run(c);
                assert_eq!(r.code, Some(want), "strict={strict}: {}", r.all());
                assert!(
                    r.stdout
                        .contains(&format!("[test] Reusing container {name}"))
                );
                assert!(r.stdout.contains(&format!(
                    "[test] === Unit test FAILED for {image} (exit code: 2) ==="
                )));
                assert!(
                    r.stdout
                        .contains("[test] Check the log file for detailed error information")
                );
                assert!(
                    r.stdout
                        .contains("✅ Successfully sent unit test fail alert to Teams")
                );
                let log = unit_test::parse(support::read(&log_path).as_bytes());
                let f = log.footer.expect("footer");
                assert_eq!((f.exit_code, f.result), (Some(2), Some(UnitResult::Failed)));
            }
            let cards = card_text(&teams2);
            assert_eq!(cards.len(), 2);
            assert!(cards[0].contains("❌ Unit Test Failed"), "{}", cards[0]);
        },
    );
}

/// A unit test that hangs (the image's `sglang-sim keep-alive` never exits) is stopped by
/// --unit-test-timeout: the log says `TimeoutError: ...`, `Exit code: 124`, `Result: FAILED`,
/// the card is a failure naming the timeout, the container is stopped and the run exits 0.
/// SIGTERM during the test stops it the same way: `Interrupted:`, 143, lock released.
#[test]
fn a_hanging_unit_test_is_stopped_and_recorded_as_a_timeout() {
    with_engine(
        "a_hanging_unit_test_is_stopped_and_recorded_as_a_timeout",
        |engine, cleanup| {
            let _one = one_at_a_time();
            let Today {
                repo,
                image,
                tag,
                name,
                hub,
                teams,
                s,
            } = today(engine, cleanup);
            let mut c = s.cmd(&hub.url(), &repo);
            c.args([
                "--engine=sim",
                "--unit-test-command=sglang-sim keep-alive",
                "--unit-test-timeout=3",
                &format!("--teams-webhook-url={}", teams.url("/hook")),
            ]);
            let t = Instant::now();
            let r = run(c);
            let took = t.elapsed();
            assert_eq!(r.code, Some(0), "{}", r.all());
            assert!(took < Duration::from_secs(120), "took {took:?}");
            assert!(r.stdout.contains(&format!(
                "[test] === Unit test FAILED for {image} (exit code: 124) ==="
            )));
            assert!(
                r.stdout
                    .contains("[test] The unit test timed out after 3 s and was stopped"),
                "{}",
                r.stdout
            );
            let text = support::read(&s.unit_log(&tag));
            assert!(
                text.contains(
                    "TimeoutError: the unit test did not finish within 3 s and was stopped"
                ),
                "{text}"
            );
            let log = unit_test::parse(text.as_bytes());
            let f = log.footer.expect("footer");
            assert_eq!(
                (f.exit_code, f.result),
                (Some(124), Some(UnitResult::Failed))
            );
            let info = engine.container(&name).unwrap().expect("container kept");
            assert!(!info.running(), "the hanging test's container is stopped");
            let cards = card_text(&teams);
            assert_eq!(cards.len(), 1);
            assert!(cards[0].contains("❌ Unit Test Failed"), "{}", cards[0]);
            assert!(
                cards[0].contains("did not finish within 3 s"),
                "{}",
                cards[0]
            );
            println!(
                "a 3 s timeout ended the run after {:.1} s",
                took.as_secs_f64()
            );

            // SIGTERM while the test runs: the test is stopped, the log says so (143), the
            // lock is released, the container stopped, no card.
            let mut c = s.cmd(&hub.url(), &repo);
            c.args([
                "--engine=sim",
                "--unit-test-command=sglang-sim keep-alive",
                &format!("--teams-webhook-url={}", teams.url("/hook")),
            ]);
            let out = support::Lines::default();
            let mut child = support::spawn_read(c, "test-nightly", &out, &out);
            assert!(
                out.wait_for("[test] Running unit test inside", LIMIT)
                    .is_some(),
                "{}",
                out.text()
            );
            std::thread::sleep(Duration::from_millis(500));
            support::signal(child.id(), "TERM");
            let status = support::wait_exit(&mut child, Duration::from_secs(60));
            assert_eq!(status.and_then(|s| s.code()), Some(143), "{}", out.text());
            let text = support::read(&s.unit_log(&tag));
            assert!(
                text.contains(
                    "Interrupted: test-nightly received SIGTERM; the unit test was stopped"
                ),
                "{text}"
            );
            let f = unit_test::parse(text.as_bytes()).footer.expect("footer");
            assert_eq!(
                (f.exit_code, f.result),
                (Some(143), Some(UnitResult::Failed))
            );
            assert!(out.text().contains("[test] Cleaning up process lock..."));
            assert!(!s.lock("unit").exists());
            assert!(!engine.container(&name).unwrap().unwrap().running());
            assert_eq!(teams.posts().len(), 1, "no card for an interrupted run");
        },
    );
}

/// A stand-in `run-pd-docker`: prints its arguments and environment, writes the corpus summary
/// of a passing run (or, with FAIL_MODE set, one whose tests never ran) where the real one
/// writes it, and exits 0 (or 1).
fn fake_pd(dir: &Path) -> PathBuf {
    let pass = support::corpus("test/pd/pd_log")
        .join("test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251121/test_summary.txt");
    let pending = support::corpus("test/pd/pd_log")
        .join("test/pd/pd_log/mi30x/v0.5.4.post1-rocm700-mi30x-20251029/test_summary.txt");
    let script = dir.join("run-pd-docker");
    support::install_script(
        &script,
        &format!(
            "#!/bin/sh\n\
             echo \"[pd-test] args: $*\"\n\
             echo \"[pd-test] DOCKER_IMAGE=$DOCKER_IMAGE\"\n\
             tag=${{DOCKER_IMAGE##*:}}\n\
             hw=$(echo \"$tag\" | grep -o 'mi[0-9]*x' | head -n 1)\n\
             mkdir -p \"$PD_LOG_BASE_DIR/$hw/$tag\"\n\
             if [ -n \"$FAIL_MODE\" ]; then cp '{}' \"$PD_LOG_BASE_DIR/$hw/$tag/test_summary.txt\"; exit 1; fi\n\
             cp '{}' \"$PD_LOG_BASE_DIR/$hw/$tag/test_summary.txt\"\n",
            pending.display(),
            pass.display()
        ),
    );
    script
}

/// PD mode with yesterday's image (today has none: the fallback lines): the stand-in
/// run-pd-docker gets the model path and name as positionals and DOCKER_IMAGE /
/// PD_LOG_BASE_DIR in its environment; the card is built from the summary it wrote (held back
/// for a fallback image unless --alert-on-fallback). A failing PD test exits 0 with a failure
/// card; a missing run-pd-docker is exit 1.
#[test]
fn pd_mode_runs_run_pd_docker_and_alerts_from_its_summary() {
    with_engine(
        "pd_mode_runs_run_pd_docker_and_alerts_from_its_summary",
        |engine, cleanup| {
            let _one = one_at_a_time();
            let repo = repo();
            let (image, tag) = nightly_image(engine, cleanup, &repo, "rocm700", &pacific(1));
            let hub = hub(&repo, std::slice::from_ref(&tag));
            let s = Sandbox::new();
            let script = fake_pd(s.dir.path());
            let pd_logs = s.mount().join("test/pd/pd_log");
            let summary = pd_logs.join("mi30x").join(&tag).join("test_summary.txt");

            // Held back: fallback image.
            let teams = Receiver::start(vec![Reply::status(200)]);
            let pd = |extra: &[&str], url: &str| {
                let mut c = s.cmd(&hub.url(), &repo);
                c.env("SGLCI_RUN_PD_DOCKER", &script)
                    .args([
                        "--test-type=pd",
                        "--hardware=mi30x",
                        "--model-path=/models/DeepSeek-V3-0324",
                        &format!("--teams-webhook-url={url}"),
                    ])
                    .args(extra);
                c
            };
            let r = run(pd(&[], &teams.url("/hook")));
            assert_eq!(r.code, Some(0), "{}", r.all());
            let out = &r.stdout;
            for line in [
                "[test] Hardware: mi30x, ROCM Version: rocm700 (PD test - using rocm700)"
                    .to_owned(),
                format!(
                    "[test] Searching for non-SRT mi30x image in '{repo}' for date {}...",
                    pacific(0)
                ),
                "[test] No image found for today. Checking yesterday as a fallback...".to_owned(),
                format!("[test] Fallback found candidate tag: {tag}"),
                format!("[test] Successfully pulled fallback image for yesterday: {image}"),
                "[test] Running PD Disaggregation Test".to_owned(),
                format!("[test] Running PD test script: {}", script.display()),
                "[test] Model: DeepSeek-V3-0324 (/models/DeepSeek-V3-0324)".to_owned(),
                "[pd-test] args: /models/DeepSeek-V3-0324 DeepSeek-V3-0324".to_owned(),
                format!("[pd-test] DOCKER_IMAGE={image}"),
                format!(
                    "[test] PD test log directory: {}",
                    pd_logs.join("mi30x").join(&tag).display()
                ),
                format!("[test] === PD test PASSED for {image} ==="),
                format!("📋 Parsing PD test summary file: {}", summary.display()),
                "[test] Test type: pd".to_owned(),
            ] {
                assert!(out.contains(&line), "missing {line:?} in\n{out}");
            }
            assert!(
                out.contains("Not sending: the test used a fallback image"),
                "{out}"
            );
            assert!(teams.posts().is_empty());
            assert!(summary.is_file());
            assert!(!s.lock("pd").exists());

            // Sent with --alert-on-fallback.
            let r = run(pd(&["--alert-on-fallback"], &teams.url("/hook")));
            assert_eq!(r.code, Some(0), "{}", r.all());
            assert!(
                r.stdout
                    .contains("✅ Successfully sent PD test pass alert to Teams")
            );
            let cards = card_text(&teams);
            assert_eq!(cards.len(), 1);
            assert!(cards[0].contains("✅ PD Test Passed"), "{}", cards[0]);

            // A failing PD test (its tests never ran): exit 0, a failure card.
            let mut c = pd(&["--alert-on-fallback"], &teams.url("/hook"));
            c.env("FAIL_MODE", "1");
            let r = run(c);
            assert_eq!(r.code, Some(0), "{}", r.all());
            assert!(r.stdout.contains(&format!(
                "[test] === PD test FAILED for {image} (exit code: 1) ==="
            )));
            assert!(
                r.stdout
                    .contains("✅ Successfully sent PD test fail alert to Teams")
            );
            let cards = card_text(&teams);
            assert!(cards[1].contains("❌ PD Test Failed"), "{}", cards[1]);

            // No run-pd-docker: exit 1.
            let mut c = pd(&[], "");
            c.env("SGLCI_RUN_PD_DOCKER", s.dir.path().join("missing"));
            let r = run(c);
            assert_eq!(r.code, Some(1), "{}", r.all());
            assert!(
                r.stdout
                    .contains("[test] ERROR: PD test script not found: "),
                "{}",
                r.all()
            );
            assert!(!s.lock("pd").exists());
        },
    );
}

/// The early ends and their exit codes: a live holder of the lock (1, its file untouched),
/// conflicting SGLang processes (1), no image today or yesterday (1), none for --image-date
/// (1), Docker Hub unreachable (3).
#[test]
fn early_ends_exit_with_the_documented_codes() {
    with_engine(
        "early_ends_exit_with_the_documented_codes",
        |_engine, _cleanup| {
            let repo = repo();
            let empty = hub(&repo, &[]);

            // Lock held by a live test-nightly.
            let s = Sandbox::new();
            let mut holder = Command::new("sh")
                .args(["-c", "sleep 60", "test-nightly"])
                .spawn()
                .unwrap();
            std::fs::write(s.lock("unit"), format!("{}\n", holder.id())).unwrap();
            let r = run(s.cmd(&empty.url(), &repo));
            let _ = holder.kill();
            let _ = holder.wait();
            assert_eq!(r.code, Some(1), "{}", r.all());
            assert!(r.stdout.contains(&format!(
                "[test] ERROR: Another unit test instance is already running (PID: {})",
                holder.id()
            )));
            assert!(r.stdout.contains(&format!(
                "[test] If this is incorrect, remove {} and try again",
                s.lock("unit").display()
            )));
            assert_eq!(
                std::fs::read_to_string(s.lock("unit")).unwrap(),
                format!("{}\n", holder.id()),
                "a refused run touches nothing"
            );
            // Now stale: replaced.
            let r = run(s.cmd(&empty.url(), &repo));
            assert!(r.stdout.contains(&format!(
                "[test] Removing stale lock file from PID {}",
                holder.id()
            )));

            // Conflicting processes.
            let marker = format!("sglci-tn-conflict-{}", std::process::id());
            let mut proc = Command::new("sh")
                .args(["-c", "sleep 60", &marker])
                .spawn()
                .unwrap();
            let s = Sandbox::new();
            let mut c = s.cmd(&empty.url(), &repo);
            c.env("SGLCI_CONFLICT_PATTERN", &marker);
            let r = run(c);
            let _ = proc.kill();
            let _ = proc.wait();
            assert_eq!(r.code, Some(1), "{}", r.all());
            assert!(r.stdout.contains(
                "[test] ERROR: Found running SGLang processes that may conflict with tests:"
            ));
            assert!(
                r.stdout
                    .contains(&format!("[test]   {} sh -c sleep 60 {marker}", proc.id()))
            );
            assert!(
                r.stdout
                    .contains("[test] ERROR: Cannot proceed with conflicting processes running.")
            );
            assert!(!s.lock("unit").exists());

            // No image today or yesterday.
            let s = Sandbox::new();
            let r = run(s.cmd(&empty.url(), &repo));
            assert_eq!(r.code, Some(1), "{}", r.all());
            for line in [
                "[test] No image found for today. Checking yesterday as a fallback...",
                "[test] No fallback image found for yesterday either.",
                "[test] ERROR: Could not find and pull any valid non-SRT images for today or yesterday.",
            ] {
                assert!(r.stdout.contains(line), "missing {line:?}: {}", r.stdout);
            }
            let mut c = s.cmd(&empty.url(), &repo);
            c.arg("--image-date=20250101");
            let r = run(c);
            assert_eq!(r.code, Some(1), "{}", r.all());
            for line in [
                "[test] Searching for non-SRT image for specific date: 20250101...",
                "[test] No image found for date 20250101.",
                "[test] ERROR: Could not find and pull any valid non-SRT images for date 20250101.",
            ] {
                assert!(r.stdout.contains(line), "missing {line:?}: {}", r.stdout);
            }
            assert!(
                !r.stdout.contains("fallback"),
                "no fallback with --image-date"
            );

            // Docker Hub unreachable: exit 3.
            let down = HttpStandIn::start(|_| StandInReply::new(503, "unavailable")).unwrap();
            let r = run(s.cmd(&down.url(), &repo));
            assert_eq!(r.code, Some(3), "{}", r.all());
            assert!(
                r.stdout
                    .contains("[test] ERROR: Could not ask Docker Hub for the nightly images"),
                "{}",
                r.stdout
            );
            assert!(!s.lock("unit").exists());
        },
    );
}
