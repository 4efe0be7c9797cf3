//! Issue 12, no orphans after SIGKILL (local half): killing `grok-perf-online` with SIGKILL
//! while its simulated server is up must not leave `sglang-sim` listening on the port; the
//! next run starts cleanly and produces its CSV.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::online::{Online, processes_in};

const LIMIT: Duration = Duration::from_secs(240);

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

#[test]
fn sigkill_mid_run_leaves_no_server_and_the_next_run_succeeds() {
    if !std::path::Path::new("/usr/bin/setpriv").exists()
        && !std::path::Path::new("/bin/setpriv").exists()
    {
        eprintln!("setpriv (util-linux) is not installed: parent-death signal not available");
        return;
    }
    let o = Online::new();
    let mut c = o.cmd("grok-perf-online", "");
    c.env("REQUEST_RATES", "1 2")
        .env("PROMPTS_PER_RATE_MULTIPLIER", "50")
        .env("MAX_NUM_PROMPTS", "100");
    let mut child = support::start(c, "grok-perf-online");
    // Wait until the simulated server listens, then kill the runner outright.
    let start = Instant::now();
    while !listening(o.port) {
        assert!(start.elapsed() < LIMIT, "the server never came up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.child.kill().unwrap(); // SIGKILL
    let _ = child.child.wait();
    // The server (and every other process of the run) goes within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(15);
    while listening(o.port) || !processes_in(o.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "orphans after SIGKILL: port {} busy={}, processes {:?}",
            o.port,
            listening(o.port),
            processes_in(o.path())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let again = o.cmd("grok-perf-online", "");
    let out = o.run(again, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let folder = o.folder("GROK1");
    let csv = folder.join(format!(
        "{}.csv",
        folder.file_name().unwrap().to_str().unwrap()
    ));
    assert!(csv.is_file(), "{} missing: {}", csv.display(), out.all());
}

#[test]
fn a_port_held_by_something_else_is_one_clear_error_naming_it() {
    let o = Online::new();
    let _holder = std::net::TcpListener::bind(("127.0.0.1", o.port)).unwrap();
    let c = o.cmd("grok-perf-online", "");
    let out = support::run(c, LIMIT, "grok-perf-online");
    assert_ne!(out.code, Some(0), "{}", out.all());
    let want = format!(
        "port {} on 127.0.0.1 is already in use by pid {}",
        o.port,
        std::process::id()
    );
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.contains(&want), "{}", out.all());
}

#[test]
fn sigkill_of_perf_nightly_takes_its_benchmark_and_server_along() {
    if !std::path::Path::new("/usr/bin/setpriv").exists()
        && !std::path::Path::new("/bin/setpriv").exists()
    {
        eprintln!("setpriv (util-linux) is not installed: parent-death signal not available");
        return;
    }
    let o = Online::new();
    let nightly = |prompts: &str| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
        for v in [
            "TEAMS_WEBHOOK_URL",
            "HARDWARE_TYPE",
            "BENCHMARK_CI_DIR",
            "SGLCI_SIM_ARGS",
        ] {
            c.env_remove(v);
        }
        c.current_dir(o.path())
            .env("SGLCI_LOCK_DIR", o.path())
            .env("MOUNT_DIR", format!("{}/", o.path().display()))
            .env("SGLCI_GSM8K_DATA", support::gsm8k_data())
            .env(
                "SGLCI_SIM_ARGS",
                "--sim-profile zero --sim-gsm8k-accuracy 1.0",
            )
            .env("REQUEST_RATES", "1 2")
            .env("PROMPTS_PER_RATE_MULTIPLIER", prompts)
            .env("MAX_NUM_PROMPTS", "100")
            .env(
                "SGLCI_GPU_PROBE_CMD",
                format!(
                    "cat '{}'",
                    support::fixtures("gpu-probe")
                        .join("rocm-smi-mi300x-8-idle.txt")
                        .display()
                ),
            )
            .env("GPU_IDLE_WAIT_TIME", "1")
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .arg("--engine=sim")
            .arg("--model=grok")
            .arg("--mode=online")
            .arg("--hardware=mi30x")
            .arg(format!("--work-dir={}", o.path().join("ci").display()))
            .arg(format!("--port={}", o.port))
            .stdin(std::process::Stdio::null());
        c
    };
    let mut child = support::start(nightly("50"), "perf-nightly");
    let start = Instant::now();
    while !listening(o.port) {
        assert!(start.elapsed() < LIMIT, "the server never came up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.child.kill().unwrap(); // SIGKILL
    let _ = child.child.wait();
    let deadline = Instant::now() + Duration::from_secs(20);
    while listening(o.port) || !processes_in(o.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "orphans after SIGKILL of perf-nightly: port {} busy={}, processes {:?}",
            o.port,
            listening(o.port),
            processes_in(o.path())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The lock of the killed night is stale (its pid is gone): the next night runs.
    let out = o.run(nightly("1"), LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let folder = support::only_subdir(&o.path().join("ci/online/GROK1"));
    let csv = folder.join(format!(
        "{}.csv",
        folder.file_name().unwrap().to_str().unwrap()
    ));
    assert!(csv.is_file(), "{} missing: {}", csv.display(), out.all());
}
