//! Parses every text file of the development corpus with the parser its name calls for and
//! prints throughput (MB/s, files/s), overall and per format, as the median of several runs.
//! Files are read into memory first: this measures parsing, not disk.
//!
//! `cargo bench -p metrics-parse` (release profile). Corpus: `$SGLCI_CORPUS`, default
//! `<workspace>/../shared/corpus`. `SGLCI_BENCH_RUNS` sets the number of runs (default 7).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use metrics_parse::{
    client_log, cron_log, gsm8k, legacy_csv, pd, sanity, server_log, timing_summary, unit_test,
    upstream_report,
};

/// The parser a file goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    ClientLog,
    Gsm8kLog,
    OnlineTimingSummary,
    ServerLog,
    OnlineCsv,
    PlotsLog,
    SanitySummary,
    SanityClientLog,
    PdSummary,
    PdGsm8kLog,
    UnitTestLog,
    UpstreamReport,
    CronLog,
}

fn classify(rel: &str) -> Option<Format> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let area = rel.split('/').next().unwrap_or("");
    Some(match area {
        "online_benchmark_log" => {
            if client_log::ClientLogName::parse(name).is_some() {
                Format::ClientLog
            } else if name.contains("gsm8k") && name.ends_with(".log") {
                Format::Gsm8kLog
            } else if name.starts_with("timing_summary_") {
                Format::OnlineTimingSummary
            } else if name.ends_with(".csv") {
                Format::OnlineCsv
            } else if name == "process_and_generate_online_plots.log" {
                Format::PlotsLog
            } else if name.ends_with(".log") {
                Format::ServerLog
            } else {
                return None;
            }
        }
        "test" if rel.starts_with("test/sanity_check_log/") => {
            if name.starts_with("timing_summary_") {
                Format::SanitySummary
            } else if name.contains("_client_try") || name.ends_with("_warmup.log") {
                Format::SanityClientLog
            } else if name.ends_with(".log") {
                Format::ServerLog
            } else {
                return None;
            }
        }
        "test" if rel.starts_with("test/pd/") => match name {
            "test_summary.txt" => Format::PdSummary,
            "test_gsm8k.log" => Format::PdGsm8kLog,
            n if n.ends_with(".log") => Format::ServerLog,
            _ => return None,
        },
        "test" if name.ends_with(".log") => Format::UnitTestLog,
        "upstream_ci" if name.ends_with(".csv") => Format::UpstreamReport,
        "cron_log" => Format::CronLog,
        _ => return None,
    })
}

fn parse(format: Format, data: &[u8]) {
    match format {
        Format::ClientLog => {
            black_box(client_log::ClientLog::parse(data));
        }
        Format::Gsm8kLog => {
            black_box(gsm8k::Gsm8kLog::parse(data));
        }
        Format::OnlineTimingSummary => {
            black_box(timing_summary::TimingSummary::parse(data));
        }
        Format::ServerLog => {
            black_box(server_log::error_scan(data));
            black_box(server_log::kv_cache_allocation(data));
        }
        Format::OnlineCsv => {
            let _ = black_box(legacy_csv::OnlineCsv::parse(data));
        }
        Format::PlotsLog => {
            black_box(cron_log::plots_outcome(data));
        }
        Format::SanitySummary => {
            black_box(sanity::parse_summary(data));
        }
        Format::SanityClientLog => {
            black_box(sanity::client_accuracy(data));
        }
        Format::PdSummary => {
            black_box(pd::parse_summary(data));
        }
        Format::PdGsm8kLog => {
            black_box(pd::parse_gsm8k_log(data));
        }
        Format::UnitTestLog => {
            black_box(unit_test::parse(data));
        }
        Format::UpstreamReport => {
            let _ = black_box(upstream_report::parse(data));
        }
        Format::CronLog => {
            black_box(cron_log::classify(data));
            black_box(cron_log::daily_status(data));
        }
    }
}

fn corpus_root() -> PathBuf {
    let path = std::env::var_os("SGLCI_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        path.is_dir(),
        "corpus not found at {}: set SGLCI_CORPUS to the nightly output corpus",
        path.display()
    );
    path
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let root = corpus_root();
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    let mut files: Vec<(Format, Vec<u8>)> = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for p in &paths {
        let rel = p
            .strip_prefix(&root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/");
        match classify(&rel) {
            Some(f) => files.push((f, std::fs::read(p).expect("read corpus file"))),
            None => {
                let ext = rel.rsplit('.').next().unwrap_or("").to_owned();
                *skipped.entry(ext).or_default() += 1;
            }
        }
    }
    let runs: usize = std::env::var("SGLCI_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
        .max(1);

    let mut per_format: BTreeMap<Format, (usize, usize, Vec<Duration>)> = BTreeMap::new();
    let mut totals = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut total = Duration::ZERO;
        let mut this_run: BTreeMap<Format, Duration> = BTreeMap::new();
        for (f, data) in &files {
            let t = Instant::now();
            parse(*f, black_box(data));
            let d = t.elapsed();
            total += d;
            *this_run.entry(*f).or_default() += d;
        }
        totals.push(total);
        for (f, d) in this_run {
            per_format.entry(f).or_default().2.push(d);
        }
    }
    for (f, data) in &files {
        let e = per_format.entry(*f).or_default();
        e.0 += 1;
        e.1 += data.len();
    }
    let total_bytes: usize = files.iter().map(|(_, d)| d.len()).sum();
    let mbps = |bytes: usize, d: Duration| bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9);
    let fps = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);

    println!("parse_corpus: {} ({} runs, median)", root.display(), runs);
    println!(
        "{:<22} {:>6} {:>10} {:>11} {:>10} {:>12}",
        "format", "files", "MB", "median ms", "MB/s", "files/s"
    );
    for (f, (n, bytes, times)) in &per_format {
        let m = median(times.clone());
        println!(
            "{:<22} {:>6} {:>10.2} {:>11.3} {:>10.1} {:>12.0}",
            format!("{f:?}"),
            n,
            *bytes as f64 / 1e6,
            m.as_secs_f64() * 1e3,
            mbps(*bytes, m),
            fps(*n, m)
        );
    }
    let m = median(totals);
    println!(
        "{:<22} {:>6} {:>10.2} {:>11.3} {:>10.1} {:>12.0}",
        "ALL",
        files.len(),
        total_bytes as f64 / 1e6,
        m.as_secs_f64() * 1e3,
        mbps(total_bytes, m),
        fps(files.len(), m)
    );
    if let Some((n, bytes, times)) = per_format.get(&Format::ClientLog) {
        let m = median(times.clone());
        println!(
            "client logs: {:.1} MB/s, {:.0} files/s ({n} files, {:.2} MB; target >= 150 MB/s)",
            mbps(*bytes, m),
            fps(*n, m),
            *bytes as f64 / 1e6
        );
    }
    println!("not parsed (no text parser for them): {skipped:?}");
}
