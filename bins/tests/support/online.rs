//! The online benchmarks and perf-nightly on the simulated engine: a sandbox (temporary work
//! dir, its own port) running the binaries with a tiny workload, bounded runs, leftover
//! checks, timing summaries and `rebuild-csv --check`.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use metrics_parse::timing_summary::TimingSummary;

use super::{IMAGE, Ran, free_port, gsm8k_data, names, only_subdir, run};

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

/// One test's sandbox: a temporary work dir and a port of its own.
pub struct Online {
    /// The work dir.
    pub dir: tempfile::TempDir,
    /// The server port.
    pub port: u16,
}

impl Online {
    /// A fresh sandbox.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
        }
    }

    /// The work dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `bin` on the simulated engine, zero-latency profile, tiny workload.
    pub fn cmd(&self, bin: &str, sim_extra: &str) -> Command {
        let mut c = Command::new(exe(bin));
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

    /// `bin --dry-run ARGS --work-dir=<sandbox>` without the caller's simulator settings: the
    /// plan it printed (the test fails unless it exits 0).
    pub fn dry_run(&self, bin: &str, args: &[&str]) -> String {
        let mut c = Command::new(exe(bin));
        c.arg("--dry-run")
            .args(args)
            .arg(format!("--work-dir={}", self.path().display()))
            .env_remove("SGLCI_SIM_ARGS")
            .env_remove("DEFAULT_DOCKER_IMAGE")
            .stdin(Stdio::null());
        let out = run(c, Duration::from_secs(60), bin);
        assert_eq!(out.code, Some(0), "{}", out.stdout);
        out.stdout
    }

    /// Runs `cmd` to completion (failing the test after `limit`), then checks that nothing
    /// was left behind.
    pub fn run(&self, cmd: Command, limit: Duration) -> Ran {
        let out = run(cmd, limit, "the benchmark");
        self.assert_no_leftovers();
        out
    }

    /// The only run folder under `online/<model>/`.
    pub fn folder(&self, model: &str) -> PathBuf {
        only_subdir(&self.path().join("online").join(model))
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

/// The executable of an online benchmark binary.
pub fn exe(bin: &str) -> &'static str {
    match bin {
        "grok-perf-online" => env!("CARGO_BIN_EXE_grok-perf-online"),
        "deepseek-perf-online" => env!("CARGO_BIN_EXE_deepseek-perf-online"),
        "run-grok-benchmark" => env!("CARGO_BIN_EXE_run-grok-benchmark"),
        other => panic!("unknown binary {other}"),
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

/// The timing summaries of a folder, by name.
pub fn timing_summaries(dir: &Path) -> Vec<PathBuf> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with("timing_summary_") && n.ends_with(".log"))
        .map(|n| dir.join(n))
        .collect()
}

/// `rebuild-csv --run-dir <dir> --check`.
pub fn rebuild_check(dir: &Path) -> Ran {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rebuild-csv"));
    c.arg(format!("--run-dir={}", dir.display())).arg("--check");
    run(c, Duration::from_secs(60), "rebuild-csv --check")
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

/// The text of the first timing summary of `folder` and its parse.
pub fn first_summary(folder: &Path) -> (String, TimingSummary) {
    let text = super::read(&timing_summaries(folder)[0]);
    let parsed = TimingSummary::parse(text.as_bytes());
    (text, parsed)
}

/// A timing summary file's text and its parse.
pub fn summary(path: &Path) -> (String, TimingSummary) {
    let text = super::read(path);
    let parsed = TimingSummary::parse(text.as_bytes());
    (text, parsed)
}

/// K-3: runs `bin` as the nightly runs it for `--model=<model>` on mi30x/rocm630 and checks
/// that its timing summary has the line structure of the corpus file `corpus_summary`
/// (relative to the corpus root), line for line.
pub fn assert_corpus_timing_layout(bin: &str, model: &str, folder: &str, corpus_summary: &str) {
    let real = super::read(&super::corpus("").join(corpus_summary));
    let o = Online::new();
    let mut c = o.cmd(bin, "");
    c.arg(format!("--nightly-command=perf_nightly.sh --model={model}"))
        .args(["--hardware=mi30x", "--rocm-version=rocm630"]);
    let out = o.run(c, Duration::from_secs(120));
    assert_eq!(out.code, Some(0), "{}", out.all());
    let (ours, _) = first_summary(&o.folder(folder));
    assert_eq!(skeleton(&ours), skeleton(&real), "ours:\n{ours}");
}
