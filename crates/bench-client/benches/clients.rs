//! sglang-bench vs the real bench_serving, side by side in one run against the same
//! zero-latency sglang-sim:
//!
//! 1. streamed output tokens per client CPU-second (256 requests x 1000 tokens, concurrency 64;
//!    CPU = user + system time of the client process, read from this process's
//!    `cutime`/`cstime` in /proc/self/stat around the wait for the child);
//! 2. maximum completed requests per second (2000 requests of 4 tokens, concurrency 64);
//! 3. each client's median TTFT and ITL error against the sim's `--sim-trace` at concurrency
//!    1, 64 and 256.
//!
//! Run: `cargo build --release --bin sglang-sim --bin sglang-bench && cargo bench -p
//! bench-client --bench clients`. Binaries come from env `SGLCI_BIN_DIR` (default
//! `<workspace>/target/release`), the peer from env `SGLCI_PEER_PYTHON` (default
//! `<workspace>/.venv-peers/bin/python`, made by `.ci/setup`); env `SGLCI_BENCH_RUNS` (default 3)
//! repeats every part and reports medians (of part 3: each column's median over the runs). Prints a markdown table for docs/benchmarks.md.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use metrics_parse::bench_serving::ResultBlock;

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The test tokenizer both clients and the sim count with.
fn tokenizer() -> PathBuf {
    workspace().join("../shared/data/tokenizer-bpe4k")
}

fn need(p: PathBuf, hint: &str) -> PathBuf {
    if !p.exists() {
        eprintln!("clients bench: {} is missing: {hint}", p.display());
        std::process::exit(1);
    }
    p
}

/// CPU seconds of all waited-for children so far (utime + stime of reaped children).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields after the comm: state is index 0, so cutime (16) is 13 and cstime (17) is 14.
    let ticks: f64 = f.get(13).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(14).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

struct Sim {
    child: Child,
    port: u16,
    trace: PathBuf,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(bin: &Path, dir: &Path, profile: &str) -> Sim {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let trace = dir.join(format!("trace-{profile}.jsonl"));
    let mut child = Command::new(bin.join("sglang-sim"))
        .args([
            "launch-server",
            "--tokenizer-path",
            tokenizer().to_str().unwrap(),
            "--model-path",
            "bench-model",
            "--sim-profile",
            profile,
            "--host",
            "127.0.0.1",
        ])
        .args([
            "--port",
            &port.to_string(),
            "--sim-trace",
            trace.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sglang-sim");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if l.contains("ready to roll") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("sglang-sim not ready within 20 s");
    Sim { child, port, trace }
}

struct Run {
    block: ResultBlock,
    cpu_s: f64,
    wall_s: f64,
}

fn run_client(cmd: &mut Command, what: &str) -> Run {
    let cpu0 = children_cpu();
    let t = Instant::now();
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let wall_s = t.elapsed().as_secs_f64();
    let cpu_s = children_cpu() - cpu0;
    let text = String::from_utf8_lossy(&out.stdout);
    let block = ResultBlock::parse_first(text.as_bytes())
        .unwrap_or_else(|| panic!("{what}: no result block:\n{text}"));
    Run {
        block,
        cpu_s,
        wall_s,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Client {
    Ours,
    Peer,
}

fn client_cmd(c: Client, bin: &Path, py: &Path, dir: &Path, port: u16, args: &[&str]) -> Command {
    let port = port.to_string();
    let tok = tokenizer();
    let common = [
        "--tokenizer",
        tok.to_str().unwrap(),
        "--backend",
        "sglang",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--dataset-name",
        "random",
        "--random-range-ratio",
        "1",
    ];
    let mut cmd = match c {
        Client::Ours => {
            let mut c = Command::new(bin.join("sglang-bench"));
            c.arg("serving")
                .args(common)
                .args(["--output-file", "ours.jsonl"]);
            c
        }
        Client::Peer => {
            let mut c = Command::new(py);
            let ds = workspace().join("../shared/data/gsm8k/sharegpt_gsm8k.json");
            c.args(["-m", "sglang.bench_serving"]).args(common);
            c.args([
                "--dataset-path",
                ds.to_str().unwrap(),
                "--output-file",
                "peer.jsonl",
                "--disable-tqdm",
            ]);
            c.env("HF_HUB_OFFLINE", "1")
                .env("HF_ENDPOINT", "http://127.0.0.1:9");
            c
        }
    };
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SGLANG_IS_IN_CI");
    cmd
}

fn med(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median TTFT and pooled-ITL median (ms) of trace records from line `from` on whose output
/// length is `out` (the warm-up asks for fewer tokens).
fn trace_medians(trace: &Path, from: usize, out: u64) -> (f64, f64, usize) {
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let (mut ttft, mut itl, mut n) = (Vec::new(), Vec::new(), 0);
    for l in text.lines().skip(from) {
        let r: serde_json::Value = serde_json::from_str(l).unwrap();
        if r["output_tokens"].as_u64() != Some(out) {
            continue;
        }
        n += 1;
        let rx = r["received_s"].as_f64().unwrap();
        let t: Vec<f64> = r["token_times_s"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x.as_f64())
            .collect();
        ttft.push((t[0] - rx) * 1e3);
        itl.extend(t.windows(2).map(|w| (w[1] - w[0]) * 1e3));
    }
    (med(ttft), med(itl), n)
}

/// For sglang-bench runs with `--send-rid --output-details`: the medians of (a) server pickup
/// = trace `received_s` - the client's wall-clock send time, and (b) client arrival stamp =
/// client first-token time - trace `token_times_s[0]`. TTFT(client) - TTFT(trace) = a + b.
fn split(trace: &Path, from: usize, ours: &Path) -> Option<(f64, f64)> {
    let line = std::fs::read_to_string(ours)
        .ok()?
        .lines()
        .last()?
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&line).ok()?;
    let starts = v["start_times_s"].as_array()?;
    let ttfts = v["ttfts"].as_array()?;
    let text = std::fs::read_to_string(trace).ok()?;
    let mut by_index = std::collections::HashMap::new();
    for l in text.lines().skip(from) {
        let r: serde_json::Value = serde_json::from_str(l).ok()?;
        if let Some(i) = r["rid"]
            .as_str()
            .filter(|s| s.starts_with("sglb-"))
            .and_then(|s| s.rsplit('-').next())
            .and_then(|i| i.parse::<usize>().ok())
        {
            by_index.insert(i, r);
        }
    }
    let (mut pick, mut arr) = (Vec::new(), Vec::new());
    for (i, (st, tt)) in starts.iter().zip(ttfts).enumerate() {
        let (Some(r), Some(st), Some(tt)) = (by_index.get(&i), st.as_f64(), tt.as_f64()) else {
            continue;
        };
        let rx = r["received_s"].as_f64()?;
        let first = r["token_times_s"][0].as_f64()?;
        pick.push((rx - st) * 1e3);
        arr.push((st + tt - first) * 1e3);
    }
    Some((med(pick), med(arr)))
}

/// One accuracy run: client / trace median TTFT, client / trace median ITL (ms), requests
/// matched, and sglang-bench's (server pickup, client arrival stamp) split.
type Measured = (f64, f64, f64, f64, usize, Option<(f64, f64)>);

fn lines_in(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("clients: benchmark");
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench binaries without --bench: the benchmark needs
        // release binaries and minutes, so it only runs under `cargo bench`.
        println!(
            "clients bench: skipped (run it with cargo bench -p bench-client --bench clients)"
        );
        return;
    }
    let bin = std::env::var_os("SGLCI_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release"));
    let hint = "build it: cargo build --release --bin sglang-sim --bin sglang-bench (or set SGLCI_BIN_DIR)";
    need(bin.join("sglang-sim"), hint);
    need(bin.join("sglang-bench"), hint);
    let py = std::env::var_os("SGLCI_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv-peers/bin/python"));
    let py = need(
        py,
        "run .ci/setup (it creates .venv-peers) or set SGLCI_PEER_PYTHON",
    );
    let runs: usize = std::env::var("SGLCI_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(&bin, dir.path(), "zero");
    let sim_grok = start_sim(&bin, dir.path(), "grok");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "clients bench: zero-latency sglang-sim on 127.0.0.1:{}, {runs} run(s) each, {cores} cores",
        sim.port
    );

    // 1. Tokens per client CPU-second.
    let mut tps = [Vec::new(), Vec::new()];
    let mut tps_wall = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (k, c) in [Client::Ours, Client::Peer].into_iter().enumerate() {
            let args = [
                "--random-input-len",
                "32",
                "--random-output-len",
                "1000",
                "--num-prompts",
                "256",
                "--max-concurrency",
                "64",
            ];
            let r = run_client(
                &mut client_cmd(c, &bin, &py, dir.path(), sim.port, &args),
                "tokens/CPU-s",
            );
            let tokens = r
                .block
                .total_generated_tokens
                .as_ref()
                .map_or(0.0, |n| n.value);
            tps[k].push(tokens / r.cpu_s.max(0.01));
            tps_wall[k].push(r.wall_s);
            eprintln!(
                "  tokens/CPU-s run: {} {tokens} tokens, {:.2} CPU-s, {:.1} s wall",
                if k == 0 {
                    "sglang-bench"
                } else {
                    "bench_serving"
                },
                r.cpu_s,
                r.wall_s
            );
        }
    }
    // 2. Max completed requests per second.
    let mut rps = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (k, c) in [Client::Ours, Client::Peer].into_iter().enumerate() {
            let args = [
                "--random-input-len",
                "16",
                "--random-output-len",
                "4",
                "--num-prompts",
                "2000",
                "--max-concurrency",
                "64",
            ];
            let r = run_client(
                &mut client_cmd(c, &bin, &py, dir.path(), sim.port, &args),
                "req/s",
            );
            rps[k].push(r.block.request_throughput.as_ref().map_or(0.0, |n| n.value));
        }
    }
    // 3. Median TTFT / ITL error against the trace, each case `runs` times.
    let mut acc = Vec::new();
    let cases = [
        ("zero", &sim, 1usize, 64usize),
        ("zero", &sim, 64, 512),
        ("zero", &sim, 256, 1024),
        ("grok", &sim_grok, 256, 1024),
    ];
    for (profile, sim, conc, prompts) in cases {
        for c in [Client::Ours, Client::Peer] {
            let mut per_run = Vec::new();
            for _ in 0..runs {
                let from = lines_in(&sim.trace);
                let (cs, ps) = (conc.to_string(), prompts.to_string());
                let args = [
                    "--random-input-len",
                    "32",
                    "--random-output-len",
                    "64",
                    "--num-prompts",
                    &ps,
                    "--max-concurrency",
                    &cs,
                ];
                let mut cmd = client_cmd(c, &bin, &py, dir.path(), sim.port, &args);
                if c == Client::Ours {
                    let _ = std::fs::remove_file(dir.path().join("ours.jsonl"));
                    cmd.args(["--send-rid", "--output-details"]);
                }
                let r = run_client(&mut cmd, "accuracy");
                std::thread::sleep(Duration::from_millis(300)); // the trace is flushed as requests finish
                let (tt, ti, n) = trace_medians(&sim.trace, from, 64);
                let ct = r.block.ttft.median.as_ref().map_or(f64::NAN, |n| n.value);
                let ci = r.block.itl.median.as_ref().map_or(f64::NAN, |n| n.value);
                let sp = if c == Client::Ours {
                    split(&sim.trace, from, &dir.path().join("ours.jsonl"))
                } else {
                    None
                };
                eprintln!(
                    "  accuracy run: {profile} c={conc} {}: TTFT {ct:.3} / {tt:.3} ms",
                    if c == Client::Ours {
                        "sglang-bench"
                    } else {
                        "bench_serving"
                    }
                );
                per_run.push((ct, tt, ci, ti, n, sp));
            }
            acc.push((profile, conc, c, per_run));
        }
    }

    let name = |c: Client| {
        if c == Client::Ours {
            "sglang-bench"
        } else {
            "bench_serving 0.5.9"
        }
    };
    println!();
    println!("| measure | sglang-bench | bench_serving 0.5.9 | ratio |");
    println!("|---|---|---|---|");
    let (to, tp) = (med(tps[0].clone()), med(tps[1].clone()));
    println!(
        "| streamed tokens per client CPU-second (256 x 1000 tokens, concurrency 64) | {to:.0} | {tp:.0} | {:.1}x |",
        to / tp
    );
    println!(
        "| wall time of that run (s) | {:.1} | {:.1} | |",
        med(tps_wall[0].clone()),
        med(tps_wall[1].clone())
    );
    let (ro, rp) = (med(rps[0].clone()), med(rps[1].clone()));
    println!(
        "| max completed requests/s (2000 x 4 tokens, concurrency 64) | {ro:.0} | {rp:.0} | {:.1}x |",
        ro / rp
    );
    println!();
    println!(
        "| sim profile | concurrency | client | median TTFT client / trace (ms) | TTFT error (ms) | of which: server pickup / client arrival stamp (ms) | median ITL client / trace (ms) | ITL error (ms) | requests |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (profile, conc, c, per_run) in acc {
        let col = |f: fn(&Measured) -> f64| med(per_run.iter().map(f).collect());
        let (ct, tt, ci, ti) = (col(|m| m.0), col(|m| m.1), col(|m| m.2), col(|m| m.3));
        // Errors are medians of the per-run differences.
        let (dt, di) = (col(|m| m.0 - m.1), col(|m| m.2 - m.3));
        let n = per_run.iter().map(|m| m.4).max().unwrap_or(0);
        let sp = per_run.iter().all(|m| m.5.is_some()).then(|| {
            (
                col(|m| m.5.map_or(f64::NAN, |s| s.0)),
                col(|m| m.5.map_or(f64::NAN, |s| s.1)),
            )
        });
        let split = sp.map_or(
            "n/a (no per-request send times)".to_string(),
            |(pick, arr)| format!("{pick:.3} / {arr:.3}"),
        );
        println!(
            "| {profile} | {conc} | {} | {ct:.2} / {tt:.3} | {dt:.3} | {split} | {ci:.2} / {ti:.3} | {di:.3} | {n} |",
            name(c),
        );
    }
}
