//! The simulated engine under test: the real `sglang-sim` binary on a free port (its log read
//! as it comes), its `--sim-trace`, and the Python peers from PyPI (`.venv-peers`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use super::{Lines, median, shared_data, spawn_read, wait_exit, workspace};

/// The test tokenizer directory.
pub fn tokenizer() -> String {
    shared_data()
        .join("tokenizer-bpe4k")
        .to_string_lossy()
        .into_owned()
}

/// The Python of the PyPI peers venv (env `SGLCI_PEER_PYTHON`, default `.venv-peers/bin/python`).
pub fn peer_python() -> PathBuf {
    let p = std::env::var_os("SGLCI_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv-peers/bin/python"));
    assert!(
        p.exists(),
        "peer Python missing at {}: run .ci/setup (it creates .venv-peers with sglang 0.5.9 and sglang-router 0.3.2) or set SGLCI_PEER_PYTHON",
        p.display()
    );
    p
}

/// `python ARGS` of the peers venv in `cwd`, offline (`HF_HUB_OFFLINE=1`, `HF_ENDPOINT` on a
/// dead port) and without the caller's CI and API-key variables.
pub fn peer(args: &[&str], cwd: &Path) -> Command {
    let mut c = Command::new(peer_python());
    c.args(args)
        .current_dir(cwd)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_ENDPOINT", "http://127.0.0.1:9");
    c.env_remove("SGLANG_IS_IN_CI")
        .env_remove("OPENAI_API_KEY")
        .env_remove("API_KEY");
    c
}

/// A running `sglang-sim` child, killed when dropped.
pub struct Proc {
    /// The process.
    pub child: Child,
    /// Its stdout and stderr, interleaved.
    pub out: Lines,
    /// The port it listens on (0 until known).
    pub port: u16,
}

impl Proc {
    /// Runs `sglang-sim ARGS` with stdout and stderr read into `out`.
    pub fn spawn(args: &[&str]) -> Proc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sglang-sim"));
        cmd.args(args);
        let out = Lines::default();
        let child = spawn_read(cmd, "sglang-sim", &out, &out);
        Proc {
            child,
            out,
            port: 0,
        }
    }

    /// `sglang-sim launch-server ARGS --port 0`, waiting (10 s at most) for the ready line.
    pub fn server(args: &[&str]) -> Proc {
        let mut all = vec!["launch-server"];
        all.extend_from_slice(args);
        if !args.contains(&"--port") {
            all.extend_from_slice(&["--port", "0"]);
        }
        let mut p = Proc::spawn(&all);
        p.wait_ready(Duration::from_secs(10));
        p
    }

    /// `--model-path <model> --tokenizer-path <test tokenizer> --sim-profile <profile>` plus
    /// `extra`: a server whose prompts and replies use the test tokenizer.
    pub fn tokenized(model: &str, profile: &str, extra: &[&str]) -> Proc {
        let tok = tokenizer();
        let mut args = vec![
            "--model-path",
            model,
            "--tokenizer-path",
            &tok,
            "--sim-profile",
            profile,
        ];
        args.extend_from_slice(extra);
        Proc::server(&args)
    }

    /// A Grok-shaped server (`--sim-profile grok`: ~55 ms prefill, ~16 ms decode steps) with
    /// the test tokenizer, tracing to `trace` when given.
    pub fn grok(trace: Option<&Path>) -> Proc {
        let trace = trace.map(|t| t.to_str().expect("UTF-8 trace path"));
        let extra: Vec<&str> = trace.map(|t| vec!["--sim-trace", t]).unwrap_or_default();
        Proc::tokenized("/models/amd--grok-1-W4A8KV8", "grok", &extra)
    }

    /// `--model-path /m/x --sim-profile zero` plus `extra`: a zero-latency server.
    pub fn zero(extra: &[&str]) -> Proc {
        let mut args = vec!["--model-path", "/m/x", "--sim-profile", "zero"];
        args.extend_from_slice(extra);
        Proc::server(&args)
    }

    /// Waits for `Uvicorn running on` (port) and the ready line.
    pub fn wait_ready(&mut self, timeout: Duration) {
        let line = self
            .out
            .wait_for("Uvicorn running on http://", timeout)
            .unwrap_or_else(|| {
                panic!(
                    "sglang-sim did not start within {timeout:?}; output:\n{}",
                    self.out.text()
                )
            });
        self.port = port_after(&line, "http://");
        self.out
            .wait_for("The server is fired up and ready to roll!", timeout)
            .unwrap_or_else(|| panic!("no ready line; output:\n{}", self.out.text()));
    }

    /// Waits for the process to exit (at most `timeout`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_exit(&mut self.child, timeout)
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        super::signal(self.child.id(), "TERM");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port of the `host:port` address that follows `marker` in a log line.
pub fn port_after(line: &str, marker: &str) -> u16 {
    line.split(marker)
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|addr| addr.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port after {marker:?} in {line:?}"))
}

/// Reads a `--sim-trace` file.
pub fn read_trace(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad trace line ({e}): {l}")))
        .collect()
}

/// Server-side medians (ms) of TTFT, ITL and E2E from trace records.
pub fn trace_medians(recs: &[serde_json::Value]) -> (f64, f64, f64) {
    let mut ttft = Vec::new();
    let mut itl = Vec::new();
    let mut e2e = Vec::new();
    for r in recs {
        let rx = r["received_s"].as_f64().expect("received_s");
        let times: Vec<f64> = r["token_times_s"]
            .as_array()
            .expect("times")
            .iter()
            .filter_map(|t| t.as_f64())
            .collect();
        if let Some(first) = times.first() {
            ttft.push((first - rx) * 1e3);
        }
        itl.extend(times.windows(2).map(|w| (w[1] - w[0]) * 1e3));
        e2e.push((r["finished_s"].as_f64().expect("finished_s") - rx) * 1e3);
    }
    (median(&ttft), median(&itl), median(&e2e))
}

/// The client flags of the workload the client comparisons share (`sglang.bench_serving`'s,
/// which `sglang-bench serving` accepts too): `prompts` random prompts of 128 tokens in and
/// 32 out (`--random-range-ratio 1`, the test tokenizer) against 127.0.0.1:`port`,
/// `concurrency` at a time.
pub fn workload(backend: &str, port: u16, prompts: usize, concurrency: usize) -> Vec<String> {
    let mut v: Vec<String> = [
        "--backend",
        backend,
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--dataset-name",
        "random",
        "--tokenizer",
        &tokenizer(),
    ]
    .map(str::to_owned)
    .to_vec();
    v.extend(RANDOM_128_32.map(str::to_owned));
    v.extend([
        "--num-prompts".to_owned(),
        prompts.to_string(),
        "--max-concurrency".to_owned(),
        concurrency.to_string(),
    ]);
    v
}

/// Random prompts of exactly 128 tokens in and 32 out.
pub const RANDOM_128_32: [&str; 6] = [
    "--random-input",
    "128",
    "--random-output",
    "32",
    "--random-range-ratio",
    "1",
];
