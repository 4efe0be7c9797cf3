//! Load generator for measuring how fast `sglang-sim` serves (not a client benchmark).
//!
//! `cargo run --release -p sglang-sim --example sim_load -- PORT CONCURRENCY OUTPUT_TOKENS SECONDS [SIM_PID]`
//!
//! Keeps CONCURRENCY streaming `/generate` requests in flight (a new connection per request,
//! like bench_serving), counts the SSE token events it receives, and prints tokens/s,
//! requests/s and, given the simulator's PID, the simulator's CPU seconds per million tokens
//! (from /proc). Used for the figures in docs/sglang-sim.md.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn count(hay: &[u8], needle: &[u8]) -> u64 {
    hay.windows(needle.len()).filter(|w| *w == needle).count() as u64
}

async fn one(port: u16, body: &str, tokens: &AtomicU64) -> std::io::Result<()> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    let req = format!(
        "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut buf = vec![0u8; 1 << 16];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        let keep = carry.len().saturating_sub(8);
        tokens.fetch_add(count(&carry[..keep], b"\"output_ids\""), Ordering::Relaxed);
        carry.drain(..keep);
    }
    tokens.fetch_add(count(&carry, b"\"output_ids\""), Ordering::Relaxed);
    Ok(())
}

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: u64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let port = arg(1, 30000) as u16;
    let conc = arg(2, 256) as usize;
    let out = arg(3, 1024);
    let secs = arg(4, 10);
    let pid = a.get(5).and_then(|s| s.parse::<u32>().ok());
    let body = Arc::new(format!(
        "{{\"text\": \"Hello world, this is a prompt.\", \"sampling_params\": {{\"max_new_tokens\": {out}, \"ignore_eos\": true}}, \"stream\": true}}"
    ));
    let tokens = Arc::new(AtomicU64::new(0));
    let reqs = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(secs);
    let cpu0 = pid.and_then(cpu_secs);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (body, tokens, reqs) = (body.clone(), tokens.clone(), reqs.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < stop {
                if one(port, &body, &tokens).await.is_ok() {
                    reqs.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let wall = t0.elapsed().as_secs_f64();
    let tok = tokens.load(Ordering::Relaxed) as f64;
    println!(
        "concurrency {conc}, {out} tokens/request: {:.0} tokens/s, {:.1} requests/s over {wall:.1} s",
        tok / wall,
        reqs.load(Ordering::Relaxed) as f64 / wall
    );
    if let (Some(c0), Some(c1)) = (cpu0, pid.and_then(cpu_secs)) {
        let cpu = c1 - c0;
        println!(
            "sglang-sim CPU: {cpu:.2} s = {:.0} tokens per sim CPU-second",
            tok / cpu.max(1e-9)
        );
    }
}
