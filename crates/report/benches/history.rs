//! Consolidates and plots the whole online history of the development corpus, every
//! hardware/model directory in turn (as the nightly does one per job), and prints the median
//! wall time of several runs: total and per directory. The original Python script took about
//! 6.8 s for 41 GROK1 run folders.
//!
//! `cargo bench -p report --features history --bench history` (release profile). Corpus:
//! `$SGLCI_CORPUS`, default `<workspace>/../shared/corpus`. `SGLCI_BENCH_RUNS` sets the number
//! of runs (default 5). `SGLCI_BENCH_LEGACY=1` measures the `--legacy` path instead.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use report::history::online::OnlineOptions;
use report::history::{HistoryOptions, OnlineModel, PlotFormat};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let root = report::corpus::require("online_benchmark_log")
        .unwrap_or_else(|e| panic!("{e}"))
        .join("online_benchmark_log");
    let runs: usize = std::env::var("SGLCI_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let legacy = std::env::var("SGLCI_BENCH_LEGACY").is_ok_and(|v| v == "1");
    let mut dirs: Vec<(String, PathBuf)> = Vec::new();
    for hw in std::fs::read_dir(&root).unwrap().flatten() {
        for model in std::fs::read_dir(hw.path()).unwrap().flatten() {
            let name = format!(
                "{}/{}",
                hw.file_name().to_string_lossy(),
                model.file_name().to_string_lossy()
            );
            dirs.push((name, model.path()));
        }
    }
    dirs.sort();
    let out = tempfile::tempdir().unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2025, 12, 20).unwrap();
    let mut totals = Vec::new();
    let mut per_dir: Vec<Vec<Duration>> = vec![Vec::new(); dirs.len()];
    let mut folders = vec![0usize; dirs.len()];
    let mut plotted = vec![0usize; dirs.len()];
    for _ in 0..runs {
        let t0 = Instant::now();
        for (i, (name, path)) in dirs.iter().enumerate() {
            let model_dir = name.rsplit('/').next().unwrap_or_default();
            let model = match model_dir {
                "GROK1" => OnlineModel::Grok,
                "GROK2" => OnlineModel::Grok2,
                _ => OnlineModel::Deepseek,
            };
            // MI355 Grok nightlies expect rates 1,2,4,8 (corpus README §4).
            let rates = (!name.starts_with("mi30x") && model != OnlineModel::Deepseek)
                .then(|| "1,2,4,8".to_owned());
            folders[i] = std::fs::read_dir(path).map(|r| r.count()).unwrap_or(0);
            let opts = OnlineOptions {
                common: HistoryOptions {
                    model,
                    base_dir: out.path().to_owned(),
                    data_dir: Some(path.clone()),
                    output_prefix: None,
                    plot_dir: Some(out.path().join(name).join("online")),
                    model_name: Some(model_dir.to_owned()),
                    days: 1000,
                    process_only: false,
                    plot_only: false,
                    summary_csv: None,
                    node_name: "bench-host".into(),
                    summary_dir: Some(out.path().join(name)),
                    legacy,
                    format: PlotFormat::Png,
                    today,
                },
                enable_mtp_test: false,
                request_rates: rates,
                split_request_rates: false,
                mode_filter: Some("aiter".into()),
                variant_filter: None,
                plot_date: None,
            };
            let t = Instant::now();
            let cfg = opts.resolve().unwrap();
            let result = report::history::online::run(&cfg, &mut |_| {});
            per_dir[i].push(t.elapsed());
            plotted[i] = result.map(|o| o.plots.len()).unwrap_or(0);
        }
        totals.push(t0.elapsed());
    }
    println!(
        "history and plots: {} directories, {runs} runs, {} mode",
        dirs.len(),
        if legacy { "legacy" } else { "fixed" }
    );
    for (i, (name, _)) in dirs.iter().enumerate() {
        println!(
            "  {name:<36} {:>3} folders  {} plot  median {:>7.1} ms",
            folders[i],
            plotted[i],
            median(per_dir[i].clone()).as_secs_f64() * 1e3
        );
    }
    println!(
        "  total median {:.3} s (min {:.3} s, max {:.3} s)",
        median(totals.clone()).as_secs_f64(),
        totals.iter().min().unwrap().as_secs_f64(),
        totals.iter().max().unwrap().as_secs_f64()
    );
}
