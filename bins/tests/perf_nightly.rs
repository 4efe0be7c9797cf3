//! `perf-nightly` end to end. Without Docker: a whole simulated night on this machine, the
//! lock against a concurrent run, SIGTERM, the usage errors and the unreachable daemon. On the
//! real Docker Engine (skipped with the reason when no daemon answers, a failure under
//! SGLCI_REQUIRE_DOCKER=1): `sglang-sim build-image`, a night in the image's `<repo>_<tag>`
//! container (created, reused, stopped), the idle check leaving a foreign container alone,
//! Docker Hub discovery against a local stand-in, and `grok-perf-online --executor=docker`.
//! Every run uses the zero-latency simulator profile and a tiny workload.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docker_ctl::testkit::{
    Cleanup, HttpStandIn, StandInReply, hub_stand_in, inspect_ours, test_spec, unique, with_engine,
};
use docker_ctl::{BlockingEngine, MANAGED_LABEL};
use support::online::{Online, rebuild_check, timing_summaries};
use support::{gsm8k_data, one_at_a_time, only_subdir, tail};

const LIMIT: Duration = Duration::from_secs(240);

/// Variables of the night and the benchmarks that must not leak in from the caller.
const SCRUB: &[&str] = &[
    "HARDWARE_TYPE",
    "BENCHMARK_CI_DIR",
    "IMAGE_REPO",
    "MOUNT_DIR",
    "WORK_DIR",
    "CONTAINER_SHM_SIZE",
    "TEAMS_WEBHOOK_URL",
    "TEAMS_ANALYSIS_DAYS",
    "TEAMS_SKIP_ANALYSIS",
    "GITHUB_REPO",
    "GITHUB_TOKEN",
    "GPU_USAGE_THRESHOLD",
    "VRAM_USAGE_THRESHOLD",
    "GPU_IDLE_WAIT_TIME",
    "SGLCI_GPU_PROBE_CMD",
    "SGLCI_DOCKERHUB_URL",
    "TIME_ZONE",
    "GROK_MODEL_NAME",
    "GROK_MODEL_VARIANT",
    "DEEPSEEK_MODEL_NAME",
    "REQUEST_RATES",
    "DEFAULT_WORK_DIR",
    "DEFAULT_OUTPUT_DIR",
    "DEFAULT_DOCKER_IMAGE",
    "DEFAULT_MODEL_PATH",
    "INSIDE_CONTAINER",
    "SGLCI_SIM_ARGS",
];

fn fixture(name: &str) -> String {
    support::fixtures("gpu-probe")
        .join(name)
        .display()
        .to_string()
}

/// `perf-nightly` in sandbox `o`: CI_DIR `<o>/ci`, lock dir `<o>`, MOUNT_DIR `<o>/`, its
/// port, the simulator with zero latency and a tiny workload, GPUs reported idle.
fn nightly(o: &Online) -> Command {
    nightly_on(o, "sim")
}

/// [`nightly`] on `engine` (`sim`, `sglang`).
fn nightly_on(o: &Online, engine: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
    for v in SCRUB {
        c.env_remove(v);
    }
    c.current_dir(o.path())
        .env("SGLCI_LOCK_DIR", o.path())
        .env("MOUNT_DIR", format!("{}/", o.path().display()))
        .env("SGLCI_GSM8K_DATA", gsm8k_data())
        .env(
            "SGLCI_SIM_ARGS",
            "--sim-profile zero --sim-gsm8k-accuracy 1.0",
        )
        .env("REQUEST_RATES", "1 2")
        .env("PROMPTS_PER_RATE_MULTIPLIER", "1")
        .env("MAX_NUM_PROMPTS", "2")
        .env("GSM8K_NUM_QUESTIONS", "5")
        .env("GSM8K_PARALLEL", "5")
        .env(
            "SGLCI_GPU_PROBE_CMD",
            format!("cat '{}'", fixture("rocm-smi-mi300x-8-idle.txt")),
        )
        .env("GPU_IDLE_WAIT_TIME", "1")
        .env("SGLCI_PULL_RETRY_WAITS", "0,0")
        .arg(format!("--engine={engine}"))
        .arg("--model=grok")
        .arg("--mode=online")
        .arg("--hardware=mi30x")
        .arg(format!("--work-dir={}", ci(o).display()))
        .arg(format!("--port={}", o.port))
        .stdin(Stdio::null());
    c
}

fn ci(o: &Online) -> PathBuf {
    o.path().join("ci")
}

/// The run folder of a Grok night below `<ci>/online/GROK1/`.
fn grok_folder(o: &Online) -> PathBuf {
    only_subdir(&ci(o).join("online/GROK1"))
}

fn assert_complete_run_folder(folder: &Path) {
    let csv = folder.join(format!(
        "{}.csv",
        folder.file_name().unwrap().to_str().unwrap()
    ));
    assert!(csv.is_file(), "{} missing", csv.display());
    let check = rebuild_check(folder);
    assert_eq!(check.code, Some(0), "rebuild-csv --check: {}", check.all());
    let ts = timing_summaries(folder);
    assert!(!ts.is_empty());
    let text = support::read(&ts[0]);
    assert!(text.contains("Total execution time:"), "{text}");
    assert!(text.contains("(simulated engine: sglang-sim)"), "{text}");
}

// ---------------------------------------------------------------- without Docker

/// A night with a history store (`--db`) ingests what it wrote at the end: the run and its
/// metrics are in the store (read back with `query-history`), and a store that cannot be
/// opened is a warning, never a failed night.
#[test]
fn a_night_ingests_its_run_folders_into_the_history_store() {
    let o = Online::new();
    let db = o.path().join("history.sqlite");
    let mut c = nightly(&o);
    c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .arg(format!("--db={}", db.display()));
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("run(s) added, 0 replaced, 0 unchanged")
            && out.stdout.contains("[nightly] History store "),
        "{}",
        out.stdout
    );
    let mut q = Command::new(env!("CARGO_BIN_EXE_query-history"));
    q.arg(format!("--db={}", db.display()))
        .arg("--sql")
        .arg("SELECT count(*) AS n FROM runs r JOIN metrics m ON m.run_key = r.run_key WHERE r.model = 'GROK1'")
        .arg("--format=csv");
    let r = support::run(q, LIMIT, "query-history");
    assert_eq!(r.code, Some(0), "{}", r.all());
    let n: u64 = r
        .stdout
        .lines()
        .nth(1)
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(n > 0, "metrics of the night are stored: {}", r.all());

    // A store that cannot be opened: a warning, the night still succeeds.
    let o = Online::new();
    let mut c = nightly(&o);
    c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .arg("--db=postgres://u:pw@127.0.0.1:1/none");
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("[nightly] WARN: ingest into the history store failed"),
        "{}",
        out.stdout
    );
    assert!(
        !out.all().contains(":pw@"),
        "the password is masked: {}",
        out.all()
    );
}

/// A night whose benchmark fails (GSM8K below the threshold: the benchmark's exit 4) still
/// exits 0 by default, so `perf-nightly ... && github-log-upload` chains keep running, and
/// says so on one greppable line; `--strict` (or `SGLCI_STRICT=1`) makes it exit 5. A
/// variable of the original that the port ignores is named in a warning, not silently dropped.
#[test]
fn strict_nights_fail_on_a_failed_benchmark_and_every_night_ends_with_a_verdict() {
    for (strict, code) in [(None, 0), (Some("--strict"), 5), (Some("SGLCI_STRICT"), 5)] {
        let o = Online::new();
        let mut c = nightly(&o);
        c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .env(
                "SGLCI_SIM_ARGS",
                "--sim-profile zero --sim-gsm8k-accuracy 0.0",
            )
            .env("ONLINE_OUTPUT_DIR", "/somewhere/else");
        match strict {
            Some("--strict") => {
                c.arg("--strict");
            }
            Some(var) => {
                c.env(var, "1");
            }
            None => {}
        }
        let out = o.run(c, LIMIT);
        assert_eq!(out.code, Some(code), "{strict:?}\n{}", out.all());
        assert!(
            out.stdout
                .contains("[nightly] VERDICT: FAIL (1 of 1 benchmarks failed: online exit 4)"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(
                "[nightly] WARN: ONLINE_OUTPUT_DIR is set but not used by this port: run folders go below --work-dir"
            ),
            "{}",
            out.stdout
        );
        o.assert_no_leftovers();
    }
}

/// The README's main job: a whole online night of the simulated engine on this machine. The
/// daemon socket points nowhere, so any Docker call would fail the night.
#[test]
fn local_sim_night_runs_on_this_machine_without_docker() {
    let o = Online::new();
    // The Teams webhook: a local receiver; the card is built and sent in this process.
    let receiver = teams::testkit::Receiver::start(vec![teams::testkit::Reply::status(202)]);
    let secret = receiver.url("/webhookb2/SECRET-PART");
    let mut c = nightly(&o);
    c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .arg(format!("--teams-webhook-url={secret}"));
    let out = o.run(c, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let s = &out.stdout;
    assert!(
        !out.all().contains("SECRET-PART"),
        "F-1: the webhook is masked: {}",
        out.all()
    );
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1, "one card for the online mode: {s}");
    let payload = posts[0].json();
    teams::testkit::validate_payload(&payload).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        payload.to_string().contains("SIMULATED"),
        "a simulated night says so on its card: {payload}"
    );
    assert!(
        s.contains("[nightly] Teams notification sent successfully for grok online"),
        "{s}"
    );
    for line in [
        "[nightly] SGL Nightly Benchmark Started",
        "[nightly] Hardware: mi30x, ROCM Version: rocm630",
        "[nightly] Model: grok, Mode(s): online",
        "[nightly] Created process lock: ",
        "[nightly] Simulated engine on this machine: GPU idle check skipped",
        "[nightly] Launching grok-perf-online on this machine (simulated engine, no container)",
        "[nightly] Online benchmark finished: benchmark completed (exit code 0)",
        "[nightly] === Starting post-processing",
        "[nightly] Teams webhook URL provided via command line - notifications enabled",
        "[nightly] All benchmarks completed for 1 image(s)",
        "[nightly] Cleaning up process lock...",
        "[nightly] VERDICT: PASS (1 of 1 benchmarks succeeded)",
    ] {
        assert!(s.contains(line), "missing {line:?} in\n{s}");
    }
    assert!(!s.contains("Docker daemon accessible"), "{s}");
    // The plot step ran (its program is built with the tests) or said why not; never fatal.
    assert!(
        s.contains("[nightly] Processing online CSV data and generating plots...")
            || s.contains("post-processing skipped"),
        "{s}"
    );
    let folder = grok_folder(&o);
    let name = folder.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("sim-rocm630-mi30x-") && name.ends_with("_GROK1_MOE-I4F8-SIM_online"),
        "{name}"
    );
    assert_complete_run_folder(&folder);
    for f in std::fs::read_dir(&folder).unwrap() {
        let text = std::fs::read(f.unwrap().path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains("SECRET-PART"),
            "F-1: no file of the run holds the webhook"
        );
    }
    assert!(
        !o.path().join("perf_nightly_grok.lock").exists(),
        "the lock is removed at the end"
    );
}

/// K-17 / §8.6: a second night of the same model exits 1 with the original's message while
/// the first holds the lock, and touches nothing; SIGTERM ends the first night with 143 and
/// removes its lock.
#[test]
fn concurrent_run_is_refused_by_the_lock_and_sigterm_ends_a_night_cleanly() {
    let o = Online::new();
    let mut a = nightly(&o);
    // A realistic latency profile keeps the first night busy long enough.
    a.env("SGLCI_SIM_ARGS", "--sim-gsm8k-accuracy 1.0")
        .env("GSM8K_NUM_QUESTIONS", "40")
        .env("GSM8K_PARALLEL", "1");
    let first = support::start(a, "perf-nightly");
    let lock = o.path().join("perf_nightly_grok.lock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lock.exists() {
        assert!(
            Instant::now() < deadline,
            "the first night never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Another sandbox, the same lock folder.
    let other = Online::new();
    let mut b = nightly(&other);
    b.env("SGLCI_LOCK_DIR", o.path());
    let second = b.output().unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "[nightly] ERROR: Another instance is already running (PID: {})",
            first.id()
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("[nightly] Lock file: {}", lock.display())));
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    assert!(
        !other.path().join("ci2").exists(),
        "a refused run touches nothing"
    );
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap().trim(),
        first.id().to_string()
    );

    support::signal(first.id(), "TERM");
    let out = first.wait(Duration::from_secs(60));
    let s = &out.stdout;
    assert_eq!(out.code, Some(143), "{}", tail(s, 30));
    assert!(
        s.contains("[nightly] Cleaning up process lock..."),
        "{}",
        tail(s, 30)
    );
    assert!(!lock.exists());
    o.assert_no_leftovers();
}

/// §8.2 / §8.14: invalid values exit 1 with the original's messages, `--help` needs no
/// Docker (F-31), a bad `--sanity-trials` stops `--mode=sanity` before the lock.
#[test]
fn usage_errors_help_and_sanity_mode_exit_with_the_documented_codes() {
    let o = Online::new();
    let run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
        c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .env("SGLCI_LOCK_DIR", o.path())
            .env_remove("HARDWARE_TYPE")
            .current_dir(o.path())
            .args(args);
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&["--model=llama"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("[nightly] ERROR: Invalid --model value 'llama'. Must be 'grok', 'grok2', 'deepseek', 'DeepSeek-V3', or 'sanity'."), "{stdout}");
    let (code, stdout, _) = run(&["--continue-run-days=0"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("--continue-run-days must be a positive integer (got: 0)"));
    let (code, _, stderr) = run(&["--no-such-flag"]);
    assert_eq!(
        code,
        Some(1),
        "the original's status for an unknown argument"
    );
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("[default: mi35x]"), "F-31: {stdout}");
    assert!(stdout.contains("--docker-image") && stdout.contains("--continue-run-days"));
    // A whole sanity night runs in bins/tests/sanity_check.rs; a bad value stops it first.
    let (code, stdout, _) = run(&["--mode=sanity", "--engine=sim", "--sanity-trials=0"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("--sanity-trials must be a positive integer (got: 0)"),
        "{stdout}"
    );
    assert!(!o.path().join("perf_nightly_sanity.lock").exists());
}

/// §8.5: a daemon that does not answer (a socket nobody listens on) is exit 1 with the
/// original's `Cannot access Docker daemon` block and one line on stderr; no lock is taken.
#[test]
fn unreachable_daemon_gives_the_documented_error() {
    let o = Online::new();
    let sock = o.path().join("docker.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists(), "the socket file stays, nobody listens");
    let mut c = nightly(&o);
    c.env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .arg("--docker_image=sglci-test/sgl-dev:v0-rocm630-mi30x-20251029");
    let out = o.run(c, Duration::from_secs(60));
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stdout
            .contains("[nightly] ERROR: Cannot access Docker daemon. Please check:"),
        "{}",
        out.stdout
    );
    let err = out.stderr.trim();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("perf-nightly: error: Cannot access Docker daemon: cannot reach the Docker daemon at unix://"),
        "{err}"
    );
    assert!(err.contains("DOCKER_HOST"), "says what to do: {err}");
    assert!(!o.path().join("perf_nightly_grok.lock").exists());
}

// ---------------------------------------------------------------- on the Docker Engine

/// The simulated-engine image (`support::sim_image::base`) of this test process.
fn base_image(engine: &BlockingEngine) -> String {
    support::sim_image::base(engine, "sglci-test/sim-base")
}

/// A nightly-looking reference of the base image for one test: `<repo>:v<pid>.<n>-rocm630-
/// mi30x-20251029` (container `<last repo part>_<tag>`), removed by `cleanup`.
fn test_image(engine: &BlockingEngine, cleanup: &mut Cleanup<'_>, repo: &str) -> String {
    let tag = unique("v0").replace('-', ".");
    let image = format!("{repo}:{tag}-rocm630-mi30x-20251029");
    engine.tag_image(&base_image(engine), &image).unwrap();
    cleanup.image(&image);
    image
}

fn container_of(image: &str) -> String {
    docker_ctl::container_name(image)
}

/// `sglang-sim build-image`: FROM scratch, the two programs, the keep-alive command: a
/// container started with the image's own command (no --init) stays up and `docker stop`
/// ends it at once with status 0.
#[test]
fn sim_image_keeps_a_container_up_and_stops_at_once() {
    with_engine(
        "sim_image_keeps_a_container_up_and_stops_at_once",
        |engine, cleanup| {
            // One at a time: the idle check stops every running sglang-ci container.
            let _one = one_at_a_time();
            let image = test_image(engine, cleanup, "sglci-test/sim");
            let (_, labels) = engine
                .block_on(engine.engine().image_labels(&image))
                .unwrap()
                .unwrap();
            assert!(labels.contains_key("org.sglang-ci.sim-image"), "{labels:?}");
            let linkage = labels
                .get("org.sglang-ci.sim-image.linkage")
                .map(String::as_str);
            if support::sim_image::static_binaries().is_some() {
                assert_eq!(linkage, Some("static"), "{labels:?}");
            } else {
                assert!(matches!(linkage, Some("static" | "dynamic")), "{labels:?}");
            }
            let name = unique("sglci-test-keepalive");
            cleanup.container(&name);
            let mut spec = test_spec(&name, &image);
            spec.init = false; // sglang-sim itself is PID 1
            engine.ensure_container(&spec).unwrap();
            std::thread::sleep(Duration::from_millis(500));
            assert!(engine.container(&name).unwrap().unwrap().running());
            let t = Instant::now();
            engine
                .stop_container(&name, Duration::from_secs(10))
                .unwrap();
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "docker stop took {:?}: sglang-sim keep-alive must exit on SIGTERM",
                t.elapsed()
            );
            let raw = engine
                .block_on(engine.engine().bollard().inspect_container(&name, None))
                .unwrap();
            assert_eq!(raw.state.unwrap().exit_code, Some(0));
        },
    );
}

/// The main Docker test: `perf-nightly --engine=sim --docker_image=<sim image>` creates the
/// spec-named container, runs the online benchmark in it (the plan's sglang-sim and
/// sglang-bench are the image's: /usr/local/bin exists only there), leaves a complete run
/// folder on the host and stops the container; a second night reuses it.
#[test]
fn night_in_the_sim_image_container_creates_reuses_and_stops_it() {
    with_engine(
        "night_in_the_sim_image_container_creates_reuses_and_stops_it",
        |engine, cleanup| {
            // One at a time: the idle check stops every running sglang-ci container.
            let _one = one_at_a_time();
            let image = test_image(engine, cleanup, "sglci-test/sgl-dev");
            let name = container_of(&image);
            assert!(name.starts_with("sgl-dev_v"), "{name}");
            cleanup.container(&name);
            let o = Online::new();

            let mut c = nightly(&o);
            c.arg(format!("--docker_image={image}"));
            let out = o.run(c, LIMIT);
            assert_eq!(out.code, Some(0), "{}", out.all());
            let s = &out.stdout;
            for line in [
                "[nightly] Docker daemon accessible - proceeding...".to_owned(),
                "[nightly] GPU is idle. Proceeding...".to_owned(),
                format!("[nightly] Found local image: {image}"),
                format!("[nightly] Container name: {name}"),
                format!("[nightly] Creating container {name}"),
                format!("[nightly] Launching grok-perf-online inside {name}"),
                "[nightly] Online benchmark finished: benchmark completed (exit code 0)".to_owned(),
                format!("[nightly] Stopping container {name} to release resources..."),
                "[nightly] All benchmarks completed for 1 image(s)".to_owned(),
            ] {
                assert!(s.contains(&line), "missing {line:?} in\n{s}");
            }
            let info = engine
                .container(&name)
                .unwrap()
                .expect("the container stays");
            assert!(!info.running(), "stopped at the end: {info:?}");
            assert!(info.managed);
            let hc = inspect_ours(engine, &info, "perf-nightly")
                .host_config
                .unwrap();
            let binds = hc.binds.unwrap_or_default();
            assert!(
                binds
                    .iter()
                    .any(|b| b.starts_with(&format!("{}/:", o.path().display()))),
                "MOUNT_DIR is mounted: {binds:?}"
            );
            assert!(
                binds
                    .iter()
                    .any(|b| b.ends_with(":ro") && b.contains("gsm8k")),
                "the GSM8K data is mounted read-only: {binds:?}"
            );
            let folder = grok_folder(&o);
            assert!(
                folder
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .ends_with("-rocm630-mi30x-20251029_GROK1_MOE-I4F8-SIM_online")
            );
            assert_complete_run_folder(&folder);
            let server_log =
                std::fs::read_to_string(folder.join("server_output_aiter.log")).unwrap();
            assert!(server_log.contains("SIMULATED ENGINE"), "{server_log}");
            assert!(
                server_log.contains("GSM8K oracle: 1319 questions"),
                "the mounted GSM8K data reached the server in the container: {server_log}"
            );
            let id = info.id;

            // A second night reuses the container (and the benchmark's resume scan its logs).
            let mut c = nightly(&o);
            c.arg(format!("--docker_image={image}"));
            let out = o.run(c, LIMIT);
            assert_eq!(out.code, Some(0), "{}", out.all());
            assert!(
                out.stdout
                    .contains(&format!("[nightly] Reusing container {name}")),
                "{}",
                out.stdout
            );
            assert!(!out.stdout.contains("[nightly] Creating container"));
            let again = engine.container(&name).unwrap().unwrap();
            assert_eq!(again.id, id, "the same container");
            assert!(!again.running());
        },
    );
}

/// Issue 12: a night killed with SIGKILL leaves its server running in the container; the next
/// night finds the port held in its own running container, restarts the container (ending the
/// leftover server) and completes its run instead of failing its benchmark on a busy port.
#[test]
fn the_night_after_a_sigkill_restarts_the_container_and_completes() {
    with_engine(
        "the_night_after_a_sigkill_restarts_the_container_and_completes",
        |engine, cleanup| {
            let _one = one_at_a_time();
            let image = test_image(engine, cleanup, "sglci-test/sgl-dev");
            let name = container_of(&image);
            cleanup.container(&name);
            let o = Online::new();
            let mut c = nightly(&o);
            c.arg(format!("--docker_image={image}")).env(
                "SGLCI_SIM_ARGS",
                "--sim-profile zero --sim-gsm8k-accuracy 1.0 --sim-prefill-base-ms 400",
            );
            let night = support::start(c, "the night to kill");
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while !port_answers(o.port) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the server never came up"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            support::signal(night.id(), "KILL");
            let killed = night.wait(Duration::from_secs(30));
            assert_eq!(killed.code, None, "killed by a signal: {}", killed.all());
            assert!(
                port_answers(o.port),
                "the server outlived the killed night in its container"
            );

            let mut c = nightly(&o);
            c.arg(format!("--docker_image={image}"));
            let out = o.run(c, LIMIT);
            assert_eq!(out.code, Some(0), "{}", out.all());
            assert!(
                out.stdout.contains(&format!(
                    "[nightly] Port {} is held by a server an earlier run left in {name}: restarting the container",
                    o.port
                )),
                "{}",
                out.stdout
            );
            assert!(
                out.stdout.contains(
                    "[nightly] Online benchmark finished: benchmark completed (exit code 0)"
                ),
                "{}",
                out.stdout
            );
            let folder = grok_folder(&o);
            let check = rebuild_check(&folder);
            assert_eq!(check.code, Some(0), "rebuild-csv --check: {}", check.all());
            let ts = timing_summaries(&folder);
            let last = support::read(ts.last().expect("timing summaries"));
            assert!(last.contains("Total execution time:"), "{last}");
        },
    );
}

fn port_answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// F-19: with busy GPUs the idle check stops the running containers sglang-ci created and
/// leaves a foreign one running.
#[test]
fn busy_gpus_stop_only_our_containers() {
    with_engine("busy_gpus_stop_only_our_containers", |engine, cleanup| {
        // One at a time: the idle check stops every running sglang-ci container.
        let _one = one_at_a_time();
        let image = test_image(engine, cleanup, "sglci-test/sgl-dev");
        cleanup.container(&container_of(&image));
        // Foreign: plain bollard, no sglang-ci label.
        let foreign = unique("sglci-test-foreign");
        cleanup.container(&foreign);
        engine
            .block_on(
                engine.engine().bollard().create_container(
                    Some(
                        bollard::query_parameters::CreateContainerOptionsBuilder::new()
                            .name(&foreign)
                            .build(),
                    ),
                    bollard::models::ContainerCreateBody {
                        image: Some(image.clone()),
                        ..Default::default()
                    },
                ),
            )
            .unwrap();
        engine.start_container(&foreign).unwrap();
        // Ours: a container an earlier night left running.
        let ours = unique("sglci-test-ours");
        cleanup.container(&ours);
        let spec = test_spec(&ours, &image).created_by("perf-nightly");
        engine.ensure_container(&spec).unwrap();

        let o = Online::new();
        let mut c = nightly(&o);
        c.env(
            "SGLCI_GPU_PROBE_CMD",
            format!("cat '{}'", fixture("rocm-smi-mi300x-one-busy.txt")),
        )
        .arg(format!("--docker_image={image}"));
        let out = o.run(c, LIMIT);
        assert_eq!(out.code, Some(0), "{}", out.all());
        let s = &out.stdout;
        assert!(
            s.contains("[nightly] GPU is busy. Attempting to stop running Docker containers..."),
            "{s}"
        );
        let stop_line = s
            .lines()
            .find(|l| l.starts_with("[nightly] Stopping running containers: "))
            .unwrap_or_else(|| panic!("no stop line in\n{s}"));
        assert!(stop_line.split(' ').any(|n| n == ours), "{stop_line}");
        assert!(!stop_line.contains(&foreign), "{stop_line}");
        assert!(
            s.lines().any(
                |l| l.starts_with("[nightly] Left running (not created by sglang-ci): ")
                    && l.contains(&foreign)
            ),
            "{s}"
        );
        assert!(s.contains("[nightly] WARN: GPU may still be busy, but proceeding as requested."));
        let f = engine.container(&foreign).unwrap().unwrap();
        assert!(f.running() && !f.managed, "{f:?}");
        assert!(!f.labels.contains_key(MANAGED_LABEL));
        assert!(!engine.container(&ours).unwrap().unwrap().running());
        // The night itself still ran.
        assert_complete_run_folder(&grok_folder(&o));
    });
}

/// §8.8 against a local Docker Hub stand-in: today's tag on page 2 (an `-srt` tag and other
/// hardware before it) is found and used from the local images; a tag missing today and
/// yesterday is exit 1 with the original's lines; a Docker Hub that keeps answering 503 is
/// "could not ask", exit 3. The real engine's night then fails its benchmark (the image has
/// no python3), which is reported and does not stop the night (K-18).
#[test]
fn discovery_through_the_docker_hub_stand_in() {
    with_engine(
        "discovery_through_the_docker_hub_stand_in",
        |engine, cleanup| {
            // One at a time: the idle check stops every running sglang-ci container.
            let _one = one_at_a_time();
            let today =
                docker_ctl::dates::date_days_ago(chrono::Utc::now(), docker_ctl::dates::PACIFIC, 0);
            let repo = format!("sglci-test/hub-{}", std::process::id());
            let tag = format!("v0.5.4.post1-rocm630-mi30x-{today}");
            let image = format!("{repo}:{tag}");
            engine.tag_image(&base_image(engine), &image).unwrap();
            cleanup.image(&image);
            cleanup.container(&container_of(&image));
            // Two pages: tonight's mi30x tag is on the second.
            let hub = hub_stand_in(
                &repo,
                vec![
                    vec![
                        format!("v0.5.4.post1-rocm630-mi30x-{today}-srt"),
                        format!("v0.5.4.post1-rocm700-mi35x-{today}"),
                    ],
                    vec![tag.clone()],
                ],
                Vec::new(),
            )
            .unwrap();
            let o = Online::new();
            let mut c = nightly_on(&o, "sglang");
            c.env("SGLCI_DOCKERHUB_URL", hub.url())
                .env("IMAGE_REPO", &repo)
                .env_remove("SGLCI_SIM_ARGS");
            let out = o.run(c, LIMIT);
            assert_eq!(out.code, Some(0), "{}", out.all());
            let s = &out.stdout;
            for line in [
                format!(
                    "[nightly] Searching for non-SRT mi30x image in '{repo}' for date {today}..."
                ),
                format!("[nightly] Found candidate tag for day -0: {tag}"),
                format!("[nightly] Found local image: {image}"),
                format!("[nightly] Successfully obtained image for date {today}: {image}"),
                "[nightly] Found 1 valid image(s) to run benchmarks on:".to_owned(),
                format!("[nightly]   - {image}"),
                format!("[nightly] Creating container {}", container_of(&image)),
            ] {
                assert!(s.contains(&line), "missing {line:?} in\n{s}");
            }
            assert!(
                s.contains("[nightly] Online benchmark failed (exit code: "),
                "the real engine cannot run in the simulator image: {s}"
            );
            assert!(s.contains("[nightly] All benchmarks completed for 1 image(s)"));
            assert_eq!(hub.requests().len(), 2, "page 1, then page 2 by `next`");

            // Not found: today and the yesterday fallback.
            let empty = HttpStandIn::start(|_| {
                StandInReply::new(
                    200,
                    r#"{"count":0,"next":null,"previous":null,"results":[]}"#,
                )
            })
            .unwrap();
            let o2 = Online::new();
            let mut c = nightly_on(&o2, "sglang");
            c.env("SGLCI_DOCKERHUB_URL", empty.url())
                .env("IMAGE_REPO", &repo)
                .env_remove("SGLCI_SIM_ARGS");
            let out = o2.run(c, LIMIT);
            assert_eq!(out.code, Some(1), "{}", out.all());
            assert!(out.stdout.contains(
                "[nightly] No image found for today. Checking yesterday as a fallback..."
            ));
            assert!(
                out.stdout
                    .contains("[nightly] No fallback image found for yesterday either.")
            );
            assert!(out.stdout.contains(
            "[nightly] ERROR: Could not find and obtain any valid non-SRT images for the last 1 days."
        ));
            assert!(
                !o2.path().join("perf_nightly_grok.lock").exists(),
                "lock released"
            );

            // Could not ask: 503 on every attempt.
            let down = HttpStandIn::start(|_| StandInReply::new(503, "unavailable")).unwrap();
            let o3 = Online::new();
            let mut c = nightly_on(&o3, "sglang");
            c.env("SGLCI_DOCKERHUB_URL", down.url())
                .env("SGLCI_DOCKERHUB_BACKOFF_MS", "10")
                .env("IMAGE_REPO", &repo)
                .env_remove("SGLCI_SIM_ARGS");
            let out = o3.run(c, LIMIT);
            assert_eq!(out.code, Some(3), "{}", out.all());
            assert!(
                out.stdout
                    .contains("[nightly] ERROR: Could not ask Docker Hub for the nightly images"),
                "{}",
                out.stdout
            );
            assert!(out.stderr.contains("HTTP 503"), "{}", out.stderr);
        },
    );
}

/// A benchmark binary's `--executor=docker` (spec §1.5): `grok-perf-online` creates the
/// `<repo>_<tag>` container, runs its plan inside it and leaves it running for the next run.
#[test]
fn grok_perf_online_runs_its_plan_in_the_container() {
    with_engine(
        "grok_perf_online_runs_its_plan_in_the_container",
        |engine, cleanup| {
            // One at a time: the idle check stops every running sglang-ci container.
            let _one = one_at_a_time();
            let image = test_image(engine, cleanup, "sglci-test/sgl-dev");
            let name = container_of(&image);
            cleanup.container(&name);
            let o = Online::new();
            let mut c = Command::new(env!("CARGO_BIN_EXE_grok-perf-online"));
            for v in SCRUB {
                c.env_remove(v);
            }
            c.env("MOUNT_DIR", format!("{}/", o.path().display()))
                .env("SGLCI_GSM8K_DATA", gsm8k_data())
                .env("REQUEST_RATES", "1")
                .env("PROMPTS_PER_RATE_MULTIPLIER", "1")
                .env("MAX_NUM_PROMPTS", "2")
                .env("GSM8K_NUM_QUESTIONS", "5")
                .env("GSM8K_PARALLEL", "5")
                .args([
                    "--engine=sim",
                    "--executor=docker",
                    "--sim-args=--sim-profile zero --sim-gsm8k-accuracy 1.0",
                ])
                .arg(format!("--work-dir={}", o.path().display()))
                .arg(format!("--port={}", o.port))
                .arg(format!("--docker_image={image}"))
                .stdin(Stdio::null());
            let out = o.run(c, LIMIT);
            assert_eq!(out.code, Some(0), "{}", out.all());
            assert!(
                out.stdout
                    .contains(&format!("[online] Creating container {name}")),
                "{}",
                out.stdout
            );
            let info = engine.container(&name).unwrap().unwrap();
            assert!(info.running(), "a standalone run leaves the container up");
            assert_eq!(
                info.labels
                    .get("org.sglang-ci.created-by")
                    .map(String::as_str),
                Some("grok-perf-online")
            );
            let folder = o.folder("GROK1");
            assert_eq!(rebuild_check(&folder).code, Some(0));
        },
    );
}

/// The docker executor on its own: a command's output streams back with its exit code; a
/// long-running one (the image's `sglang-sim keep-alive`) is stopped by the time limit, by the
/// stop condition, and as a server by `terminate`, each within the grace period (its process
/// group is signalled from the host; the Engine API cannot stop an exec).
#[test]
fn docker_executor_streams_output_and_stops_commands() {
    use sglang_runner::command::CommandSpec;
    use sglang_runner::exec::{Executor, RunEnd};
    use sglang_runner::exec_docker::{DockerExecutor, ExecTemplate};

    with_engine(
        "docker_executor_streams_output_and_stops_commands",
        |engine, cleanup| {
            // One at a time: the idle check stops every running sglang-ci container.
            let _one = one_at_a_time();
            let image = test_image(engine, cleanup, "sglci-test/exec");
            let name = unique("sglci-test-exec");
            cleanup.container(&name);
            engine.ensure_container(&test_spec(&name, &image)).unwrap();
            let ex = DockerExecutor::connect(&name)
                .unwrap()
                .template(ExecTemplate {
                    env: vec![("FROM_TEMPLATE".into(), "1".into())],
                    user: None,
                    programs: vec![(
                        "/host/bin/sglang-sim".into(),
                        "/usr/local/bin/sglang-sim".into(),
                    )],
                });

            // Output and exit code (a usage error of the image's program: exit 2, message on stderr).
            let mut out = Vec::new();
            let end = ex
                .run(
                    &CommandSpec::new("/host/bin/sglang-sim").arg("--no-such-flag"),
                    &mut |b| out.extend_from_slice(b),
                    Some(Duration::from_secs(60)),
                    &mut || false,
                )
                .unwrap();
            let text = String::from_utf8_lossy(&out);
            assert!(
                matches!(end, RunEnd::Exited(e) if e.code == Some(2)),
                "{end:?} {text}"
            );
            assert!(text.contains("--no-such-flag"), "{text}");

            let keep = CommandSpec::new("/host/bin/sglang-sim").arg("keep-alive");
            let t = Instant::now();
            let end = ex
                .run(
                    &keep,
                    &mut |_| {},
                    Some(Duration::from_millis(500)),
                    &mut || false,
                )
                .unwrap();
            assert_eq!(end, RunEnd::TimedOut);
            assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
            let mut polls = 0;
            let t = Instant::now();
            let end = ex
                .run(&keep, &mut |_| {}, None, &mut || {
                    polls += 1;
                    polls > 5
                })
                .unwrap();
            assert_eq!(end, RunEnd::Stopped);
            assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());

            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("server.log");
            let mut p = ex.spawn(&keep, &log, false).unwrap();
            assert!(p.pid().is_some(), "the pid inside the container is known");
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(p.try_wait().unwrap(), None, "still running");
            let stopped = p.terminate(Duration::from_secs(5)).unwrap();
            assert!(stopped.was_running && !stopped.forced, "{stopped:?}");
            assert_eq!(
                stopped.exit.unwrap().code,
                Some(0),
                "keep-alive exits 0 on SIGTERM"
            );
            let again = p.terminate(Duration::from_secs(1)).unwrap();
            assert!(
                !again.was_running,
                "stopping a stopped server is fine (F-12)"
            );
            assert!(
                engine.container(&name).unwrap().unwrap().running(),
                "only the command stopped"
            );
        },
    );
}
