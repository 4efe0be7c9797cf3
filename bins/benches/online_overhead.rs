//! Committed benchmark "online runner overhead" (docs/benchmarks.md): a complete
//! `grok-perf-online` run on the zero-latency simulated engine with the default scaled-down
//! simulator workload (5 GSM8K runs of 20 questions, request rates 1 2 4 8 16 × 3 runs of
//! 2–32 prompts), repeated a few times. For each run it reports the wall time and where it
//! went, from the run's own accounting (`--report-json`): inside engine commands (server
//! start-up wait, each GSM8K and serving client process, shutdown), inside configured pauses
//! (none on the simulator), and the rest — the runner's own overhead (scans, log parsing,
//! CSV and summary writes, process spawning gaps).
//!
//! Targets (issue 4): overhead ≤ 2 % of wall time, whole run < 15 s.
//!
//! Run: `cargo bench -p sglang-ci --bench online_overhead` (release build);
//! `SGLCI_BENCH_RUNS=N` sets the repetitions (default 3).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Command, Stdio};
use std::time::Instant;

/// One measured run: wall, engine, pause, overhead, overhead share, process wall.
type Row = (f64, f64, f64, f64, f64, f64);

fn main() {
    let runs: usize = std::env::var("SGLCI_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(31999);
    let mut rows = Vec::new();
    println!(
        "online runner overhead: grok-perf-online --engine=sim --sim-args='--sim-profile zero' (scaled simulator workload)"
    );
    println!(
        "{:>4} {:>9} {:>9} {:>8} {:>10} {:>9}",
        "run", "wall s", "engine s", "pause s", "overhead s", "share %"
    );
    for i in 1..=runs {
        let dir = tempfile::tempdir().expect("temp dir");
        let report = dir.path().join("report.json");
        let t = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_grok-perf-online"))
            .args(["--engine=sim", "--sim-args=--sim-profile zero"])
            .arg(format!("--work-dir={}", dir.path().display()))
            .arg(format!("--port={port}"))
            .arg(format!("--report-json={}", report.display()))
            .env_remove("SGLCI_SIM_ARGS")
            .stdout(Stdio::null())
            .status()
            .expect("run grok-perf-online");
        let outside = t.elapsed().as_secs_f64();
        assert!(status.success(), "grok-perf-online failed: {status}");
        let text = std::fs::read_to_string(&report).expect("report");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let a = &v["accounting"];
        let f = |k: &str| a[k].as_f64().unwrap_or(f64::NAN);
        let row = (
            f("wall_s"),
            f("engine_s"),
            f("pauses_s"),
            f("overhead_s"),
            f("overhead_share") * 100.0,
            outside,
        );
        println!(
            "{i:>4} {:>9.3} {:>9.3} {:>8.3} {:>10.3} {:>9.2}   (process wall {:.3} s)",
            row.0, row.1, row.2, row.3, row.4, row.5
        );
        rows.push(row);
    }
    let median = |k: fn(&Row) -> f64| {
        let mut v: Vec<f64> = rows.iter().map(k).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (wall, over, share, proc_wall) = (
        median(|r| r.0),
        median(|r| r.3),
        median(|r| r.4),
        median(|r| r.5),
    );
    println!(
        "median: wall {wall:.3} s (process {proc_wall:.3} s), overhead {over:.3} s = {share:.2} % of wall  [targets: <= 2 %, < 15 s: {}]",
        if share <= 2.0 && proc_wall < 15.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}
