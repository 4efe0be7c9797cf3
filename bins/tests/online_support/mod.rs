//! Shared set-up of the online benchmark tests: a temporary work dir, a free port, the
//! binaries on the simulated engine with a tiny workload, bounded runs, leftover checks.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The image every test uses (its tag names the run folders).
pub const IMAGE: &str = "rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029";
/// Its tag.
pub const TAG: &str = "v0.5.4.post1-rocm630-mi30x-20251029";

/// Variables of the benchmarks that must not leak in from the caller's environment.
const SCRUB: &[&str] = &[
    "SGLCI_SIM_ARGS",
    "DEFAULT_DOCKER_IMAGE",
    "DEFAULT_MODEL_TYPE",
    "DEFAULT_MODEL_PATH",
    "DEFAULT_TOKENIZER_NAME",
    "DEFAULT_WORK_DIR",
    "DEFAULT_OUTPUT_DIR",
    "DEFAULT_GSM8K_SCRIPT",
    "DEFAULT_GSM8K_THRESHOLD",
    "BENCHMARK_MODEL_NAME",
    "BENCHMARK_MODEL_VARIANT",
    "REQUEST_RATES",
    "RANDOM_INPUT_LENGTH",
    "RANDOM_OUTPUT_LENGTH",
    "MAX_NUM_PROMPTS",
    "PROMPTS_PER_RATE_MULTIPLIER",
    "GSM8K_NUM_QUESTIONS",
    "GSM8K_PARALLEL",
    "GSM8K_NUM_SHOTS",
    "GSM8K_RUNS",
    "GSM8K_PORT",
    "GSM8K_HOST",
    "SERVER_TIMEOUT",
    "DEFAULT_MODEL_NAME",
    "DEFAULT_HF_MODEL_ID",
    "BENCHMARK_CONCURRENCY_LEVELS",
    "BENCHMARK_PROMPTS_HIGH_CONCURRENCY",
    "BENCHMARK_PROMPTS_LOW_CONCURRENCY",
    "BENCHMARK_INPUT_LENGTH",
    "BENCHMARK_OUTPUT_LENGTH",
    "BENCHMARK_RUNS_PER_CONCURRENCY",
    "BENCHMARK_SLEEP_BETWEEN_RUNS",
    "DOCKER_IMAGE",
    "MODEL_PATH",
    "TOKENIZER_PATH",
    "WORK_DIR",
    "INSIDE_CONTAINER",
    "GROK_MODEL_NAME",
    "GROK2_MODEL_NAME",
];

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The GSM8K test set shipped beside the repository.
pub fn gsm8k_data() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/gsm8k/test.jsonl");
    assert!(
        p.is_file(),
        "{} missing: the online tests need shared/data next to the repository",
        p.display()
    );
    p
}

/// What a finished run left.
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Out {
    pub fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// One test's sandbox.
pub struct Online {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Online {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `bin` on the simulated engine, zero-latency profile, tiny workload.
    pub fn cmd(&self, bin: &str, sim_extra: &str) -> Command {
        let exe = match bin {
            "grok-perf-online" => env!("CARGO_BIN_EXE_grok-perf-online"),
            "deepseek-perf-online" => env!("CARGO_BIN_EXE_deepseek-perf-online"),
            "run-grok-benchmark" => env!("CARGO_BIN_EXE_run-grok-benchmark"),
            other => panic!("unknown binary {other}"),
        };
        let mut c = Command::new(exe);
        for v in SCRUB {
            c.env_remove(v);
        }
        c.env("SGLCI_GSM8K_DATA", gsm8k_data())
            .env("PROMPTS_PER_RATE_MULTIPLIER", "1")
            .env("MAX_NUM_PROMPTS", "2")
            .env("GSM8K_NUM_QUESTIONS", "5")
            .env("GSM8K_PARALLEL", "5")
            .env("BENCHMARK_PROMPTS_HIGH_CONCURRENCY", "4")
            .env("BENCHMARK_PROMPTS_LOW_CONCURRENCY", "2")
            .arg("--engine=sim")
            .arg(format!("--work-dir={}", self.path().display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--docker_image={IMAGE}"))
            .arg(if sim_extra.contains("--sim-gsm8k-accuracy") {
                format!("--sim-args=--sim-profile zero {sim_extra}")
            } else {
                format!("--sim-args=--sim-profile zero --sim-gsm8k-accuracy 1.0 {sim_extra}")
            })
            .stdin(Stdio::null());
        c
    }

    /// Runs `cmd` to completion; fails the test after `limit` (nothing may hang).
    pub fn run(&self, mut cmd: Command, limit: Duration) -> Out {
        let t = Instant::now();
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_with_limit(child, limit);
        let out = Out {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: t.elapsed(),
        };
        self.assert_no_leftovers();
        out
    }

    /// The only run folder under `online/<model>/`.
    pub fn folder(&self, model: &str) -> PathBuf {
        let base = self.path().join("online").join(model);
        let dirs: Vec<PathBuf> = std::fs::read_dir(&base)
            .unwrap_or_else(|e| panic!("{}: {e}", base.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        dirs[0].clone()
    }

    /// No process works in this sandbox any more and the port is free.
    pub fn assert_no_leftovers(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = processes_in(self.path());
            let busy = TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], self.port)),
                Duration::from_millis(200),
            )
            .is_ok();
            if left.is_empty() && !busy {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "leftover processes {left:?} or port {} still in use (busy={busy})",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Waits for a child at most `limit`, killing it (and failing) past that.
pub fn wait_with_limit(mut child: Child, limit: Duration) -> std::process::Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "run exceeded {limit:?}; stdout tail:\n{}",
                tail(&String::from_utf8_lossy(&out.stdout), 40)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Process ids whose working directory is inside `dir` (live processes only).
pub fn processes_in(dir: &Path) -> Vec<u32> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        if zombie {
            continue;
        }
        if let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd"))
            && cwd.starts_with(&dir)
        {
            out.push(pid);
        }
    }
    out
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// File names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The only timing summary of a folder (or the newest).
pub fn timing_summaries(dir: &Path) -> Vec<PathBuf> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with("timing_summary_") && n.ends_with(".log"))
        .map(|n| dir.join(n))
        .collect()
}

/// `rebuild-csv --run-dir <dir> --check`.
pub fn rebuild_check(dir: &Path) -> Out {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_rebuild-csv"))
        .arg(format!("--run-dir={}", dir.display()))
        .arg("--check")
        .output()
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: t.elapsed(),
    }
}

/// Sends `sig` (`TERM`, `INT`) to `pid`.
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

/// The corpus root (`SGLCI_CORPUS`, default `<workspace>/../shared/corpus`); fails when
/// missing.
pub fn corpus() -> PathBuf {
    let p = std::env::var_os("SGLCI_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    assert!(
        p.is_dir(),
        "corpus not found at {}: set SGLCI_CORPUS to the nightly output corpus",
        p.display()
    );
    p
}

/// A timing summary's line skeleton: each line up to and including its first `:` (values,
/// times and numbers dropped), so two runs of the same plan compare equal.
pub fn skeleton(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| match l.find(':') {
            Some(i) => l[..=i].to_owned(),
            None => l.to_owned(),
        })
        .collect()
}
