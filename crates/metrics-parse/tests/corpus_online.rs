//! Corpus conformance of the online-benchmark parsers over every run folder of
//! `online_benchmark_log/` (corpus README §2.2, §2.3, §2.4, §3, §4): client logs, timing
//! summaries, GSM8K logs, server logs and legacy CSVs, and the relations between them.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod corpus_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use corpus_support::{assert_no_failures, corpus_dir, name, read, sorted_entries, subdirs};
use metrics_parse::client_log::{ClientLog, ClientLogName, ClientLogOutcome};
use metrics_parse::gsm8k::{self, Generation, Gsm8kLog};
use metrics_parse::legacy_csv::OnlineCsv;
use metrics_parse::server_log;
use metrics_parse::timing_summary::{PerfValue, TimingSummary};

/// Every run folder: `online_benchmark_log/<hw>/<model>/<run>/`.
fn run_folders() -> Vec<PathBuf> {
    let root = corpus_dir("online_benchmark_log");
    let mut out = Vec::new();
    for hw in subdirs(&root) {
        for model in subdirs(&hw) {
            out.extend(subdirs(&model));
        }
    }
    assert!(
        out.len() >= 100,
        "only {} run folders under {}",
        out.len(),
        root.display()
    );
    out
}

fn files(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    sorted_entries(dir)
        .into_iter()
        .filter(|p| p.is_file() && pred(&name(p)))
        .collect()
}

fn summaries(dir: &Path) -> Vec<(String, TimingSummary)> {
    files(dir, |n| {
        n.starts_with("timing_summary_") && n.ends_with(".log")
    })
    .into_iter()
    .map(|p| (name(&p), TimingSummary::parse(&read(&p))))
    .collect()
}

fn rel(p: &Path) -> String {
    let s = p.display().to_string();
    s.split("online_benchmark_log/")
        .nth(1)
        .unwrap_or(&s)
        .to_owned()
}

#[test]
fn client_logs_parse_and_agree_with_their_blocks() {
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut generations: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for dir in run_folders() {
        for p in files(&dir, |f| ClientLogName::parse(f).is_some()) {
            n += 1;
            let f = name(&p);
            let cname = ClientLogName::parse(&f).unwrap();
            let log = ClientLog::parse(&read(&p));
            *outcomes.entry(log.outcome.name()).or_default() += 1;
            match &log.outcome {
                ClientLogOutcome::Complete(b) => {
                    *generations
                        .entry(format!("{:?}", b.generation()))
                        .or_default() += 1;
                    // The toolkit's first-occurrence reading equals the block's values.
                    if b.e2e.median != log.medians.e2e
                        || b.ttft.median != log.medians.ttft
                        || b.itl.median != log.medians.itl
                    {
                        failures.push(format!("{}: block and toolkit medians differ", rel(&p)));
                    }
                    if !b.extra.is_empty() {
                        failures.push(format!("{}: unknown rows {:?}", rel(&p), b.extra));
                    }
                    // The block's load matches the file name.
                    let load_ok = match &cname {
                        ClientLogName::RequestRate { rate, .. } => {
                            b.traffic_request_rate
                                .as_deref()
                                .and_then(|r| r.parse::<f64>().ok())
                                == rate.parse::<f64>().ok()
                        }
                        ClientLogName::Concurrency { concurrency, .. } => {
                            b.max_request_concurrency.as_deref() == Some(concurrency.as_str())
                        }
                    };
                    if !load_ok {
                        failures.push(format!("{}: block load differs from file name", rel(&p)));
                    }
                }
                _ => {
                    // No block: the toolkit reads no number either (never a silent value).
                    if log.medians.e2e.is_some() {
                        failures.push(format!("{}: E2E without a result block", rel(&p)));
                    }
                }
            }
            // Wrapper lines agree with the name.
            match (&cname, &log.wrapper.request_rate, &log.wrapper.prompts) {
                (ClientLogName::RequestRate { rate, run, .. }, Some(h), _)
                    if (&h.rate, h.run) != (rate, *run) =>
                {
                    failures.push(format!(
                        "{}: header says rate {} run {}",
                        rel(&p),
                        h.rate,
                        h.run
                    ));
                }
                (ClientLogName::Concurrency { concurrency, .. }, _, Some(pl))
                    if &pl.concurrency != concurrency =>
                {
                    failures.push(format!("{}: prompts line says {}", rel(&p), pl.concurrency));
                }
                _ => {}
            }
        }
    }
    println!(
        "client logs: {n}; outcomes {outcomes:?}; complete blocks by generation {generations:?}"
    );
    assert_no_failures("", &failures);
    assert!(outcomes.get("complete").copied().unwrap_or(0) > 250);
    assert!(outcomes.get("killed").copied().unwrap_or(0) > 0);
    assert!(outcomes.get("traceback").copied().unwrap_or(0) > 0);
    for g in ["F1", "F2", "F3"] {
        assert!(generations.contains_key(g), "no {g} block in the corpus?");
    }
}

#[test]
fn timing_summaries_have_no_unknown_lines() {
    let mut complete = 0;
    let mut cut = 0;
    let mut failures = Vec::new();
    for dir in run_folders() {
        for (f, t) in summaries(&dir) {
            if t.complete() {
                complete += 1;
            } else {
                cut += 1;
            }
            if !t.unknown_lines.is_empty() {
                failures.push(format!("{}/{f}: {:?}", rel(&dir), t.unknown_lines));
            }
            if t.header.started_at.is_none() {
                failures.push(format!("{}/{f}: no `Script started at:`", rel(&dir)));
            }
        }
    }
    println!("timing summaries: {complete} complete, {cut} cut off");
    assert_no_failures("", &failures);
    assert!(complete > 30 && cut > 30);
}

/// §2.2: the newest timing summary with a Performance Summary repeats the CSV cells.
#[test]
fn performance_summary_equals_csv() {
    let (mut blocks_equal, mut cells_equal, mut na_for_empty, mut folders, mut cut_blocks) =
        (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for dir in run_folders() {
        let Some(csv_path) = files(&dir, |n| n.ends_with(".csv")).into_iter().next() else {
            continue;
        };
        let csv = OnlineCsv::parse(&read(&csv_path))
            .unwrap_or_else(|e| panic!("{}: {e}", csv_path.display()));
        let Some((f, t)) = summaries(&dir)
            .into_iter()
            .rev()
            .find(|(_, t)| t.performance.as_ref().is_some_and(|p| !p.is_empty()))
        else {
            continue;
        };
        folders += 1;
        let perf = t.performance.as_ref().unwrap();
        for (k, e) in perf.iter().enumerate() {
            if e.e2e.is_none() && e.ttft.is_none() && e.itl.is_none() && e.throughput.is_none() {
                // Quirk F-4: the Grok script died at the header of a rate without values
                // (MI355 rate 16): only allowed as the last block of a cut-off file.
                if k + 1 != perf.len() || t.complete() {
                    failures.push(format!(
                        "{}/{f}: empty block {} mid-file",
                        rel(&dir),
                        e.load
                    ));
                }
                cut_blocks += 1;
                continue;
            }
            let mut all = true;
            for (i, v) in [&e.e2e, &e.ttft, &e.itl].into_iter().enumerate() {
                let cell = csv.cell(i, &e.load);
                match (v, cell) {
                    (Some(PerfValue::Value(n)), Some(c)) if n.text == c => cells_equal += 1,
                    (Some(PerfValue::Na), Some("")) => na_for_empty += 1,
                    _ => {
                        all = false;
                        failures.push(format!(
                            "{}/{f}: load {} section {i}: {v:?} vs CSV {cell:?}",
                            rel(&dir),
                            e.load
                        ));
                    }
                }
            }
            blocks_equal += usize::from(all);
            // The trailing throughput line is a constant artefact.
            let thr = e.throughput.as_deref().unwrap_or("");
            if !matches!(thr, "N/A" | "(tok/s):" | "NA") {
                failures.push(format!("{}/{f}: throughput {thr:?}", rel(&dir)));
            }
        }
    }
    println!(
        "§2.2: {folders} folders, {blocks_equal} Performance Summary blocks equal to the CSV \
         ({cells_equal} cells equal, {na_for_empty} `NA` for an empty cell); {cut_blocks} block(s) \
         cut at their header (quirk F-4)"
    );
    assert_no_failures("", &failures);
    assert!(blocks_equal >= 200);
}

/// §2.3: printed GSM8K averages recompute exactly; early exits equal their run.
#[test]
fn gsm8k_averages_recompute_exactly() {
    let (mut averages, mut zero_literal, mut early, mut attempts) = (0, 0, 0, 0);
    let mut by_gen: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for dir in run_folders() {
        for p in files(&dir, |n| n.contains("gsm8k") && n.ends_with(".log")) {
            let log = Gsm8kLog::parse(&read(&p));
            for a in &log.attempts {
                attempts += 1;
                *by_gen.entry(format!("{:?}", a.generation())).or_default() += 1;
                if let Some(avg) = &a.average {
                    let got = gsm8k::recompute_average(&a.averaged_accuracies());
                    if got != avg.value {
                        failures.push(format!(
                            "{}: printed {} recomputed {got}",
                            rel(&p),
                            avg.value
                        ));
                    }
                    averages += 1;
                    zero_literal += usize::from(avg.value == "0");
                    // The valid-run count agrees with the runs marked included.
                    if avg.valid_only && a.totals.is_some_and(|t| t.valid != avg.runs) {
                        failures.push(format!("{}: totals vs average runs", rel(&p)));
                    }
                }
                if a.generation() == Generation::V3EarlyExit {
                    let e = a.early_exit.as_ref().unwrap();
                    let run = e
                        .passed_run
                        .and_then(|i| a.runs.iter().find(|r| r.index == i));
                    let run_acc = run.and_then(|r| r.accuracy.as_ref()).map(|n| &n.text);
                    if run_acc.is_none() || run_acc != e.accuracy.as_ref().map(|n| &n.text) {
                        failures.push(format!(
                            "{}: early exit {:?} vs run {run_acc:?}",
                            rel(&p),
                            e.accuracy
                        ));
                    }
                    early += 1;
                }
                // Per run: the toolkit's value is the client's first accuracy, or 0.
                for r in &a.runs {
                    let want = r.bench.accuracy.as_ref().map(|n| n.text.as_str());
                    let got = r.accuracy.as_ref().map(|n| n.text.as_str());
                    let ok = match (want, got) {
                        (Some(w), Some(g)) => w == g,
                        (None, Some("0")) => r.accuracy_not_found,
                        (_, None) => true, // attempt cut off inside the run
                        _ => false,
                    };
                    if !ok {
                        failures.push(format!(
                            "{}: run {} client {want:?} toolkit {got:?}",
                            rel(&p),
                            r.index
                        ));
                    }
                }
            }
        }
    }
    println!(
        "§2.3: {attempts} GSM8K attempts {by_gen:?}; {averages} averages recomputed exactly \
         ({zero_literal} all-excluded `0`), {early} early exits equal to their run"
    );
    assert_no_failures("", &failures);
    assert!(averages >= 60 && zero_literal >= 2 && early >= 5);
}

/// §2.3: the last `GSM8K accuracy:` over the folder's timing summaries equals the log's final
/// value. Exception, detected by rule: the log holds no final value (overwritten by a later,
/// failed invocation: empty or cut) while an older summary still holds one.
#[test]
fn gsm8k_final_value_equals_timing_summary() {
    let (mut equal, mut exceptions) = (0, 0);
    let mut failures = Vec::new();
    for dir in run_folders() {
        let sums = summaries(&dir);
        let Some(ts_value) = sums.iter().rev().find_map(|(_, t)| t.last_gsm8k_accuracy()) else {
            continue;
        };
        let logs = files(&dir, |n| n.contains("gsm8k") && n.ends_with(".log"));
        let Some(p) = logs.first() else {
            failures.push(format!(
                "{}: summary has {ts_value} but no GSM8K log",
                rel(&dir)
            ));
            continue;
        };
        let log = Gsm8kLog::parse(&read(p));
        match log.final_accuracy() {
            Some(v) if v.text == ts_value => equal += 1,
            None => exceptions += 1,
            Some(v) => failures.push(format!("{}: log {} vs summary {ts_value}", rel(p), v.text)),
        }
    }
    println!(
        "§2.3: {equal} folders' last `GSM8K accuracy:` equal the log; {exceptions} exception(s) (log overwritten by a later failed run)"
    );
    assert_no_failures("", &failures);
    assert!(equal >= 60);
    assert!(
        exceptions >= 1,
        "the documented exception is detected by rule"
    );
}

/// §2.4: the `Server Error Check` counts equal the server log's line counts.
#[test]
fn server_error_check_counts_equal_the_server_log() {
    let (mut checked, mut logs) = (0, 0);
    let mut failures = Vec::new();
    for dir in run_folders() {
        let server = files(&dir, |n| {
            matches!(
                n,
                "sglang_server.log" | "server_output_aiter.log" | "server.log"
            )
        });
        let Some(p) = server.first() else { continue };
        logs += 1;
        let scan = server_log::error_scan(&read(p));
        let Some(check) = summaries(&dir)
            .into_iter()
            .rev()
            .find_map(|(_, t)| t.error_check)
        else {
            continue;
        };
        checked += 1;
        if check.runtime_error_count != Some(scan.runtime_error_lines)
            || check.critical_error_count != Some(scan.critical_error_lines)
            || check.status.as_deref() != Some(scan.status())
        {
            failures.push(format!("{}: summary {check:?} vs log {scan:?}", rel(p)));
        }
    }
    println!("§2.4: {logs} server logs, {checked} with a Server Error Check: all counts equal");
    assert_no_failures("", &failures);
    assert!(checked >= 3);
}

/// Server logs: the documented RuntimeError counts and KV-cache lines (corpus README §5).
#[test]
fn server_logs_known_facts() {
    let root = corpus_dir("online_benchmark_log");
    let dp = root.join("mi30x/DeepSeek-V3-0324/v0.5.3.post1-rocm630-mi30x-20251013_DeepSeek-V3-0324_FP8_online_dp_attention/sglang_server.log");
    assert_eq!(server_log::error_scan(&read(&dp)).runtime_error_lines, 8);
    let mut kv = 0;
    for dir in run_folders() {
        for p in files(&dir, |n| n.ends_with(".log") && n.contains("server")) {
            if let Some(k) = server_log::kv_cache_allocation(&read(&p)) {
                assert!(k.tokens > 0 && k.kv_size_gb > 0.0, "{}", rel(&p));
                kv += 1;
            }
        }
    }
    println!("server logs with a KV-cache line: {kv}");
    assert!(kv >= 3);
}

/// The online plot script's GSM8K reading reproduces the golden summaries' `GSM8K_Accuracy`
/// (corpus README §4): for every (date, variant) row, some folder of that model directory
/// with that image date and variant gives the same float.
#[test]
fn plot_script_accuracy_matches_golden_summaries() {
    let golden = corpus_dir("golden/online_summary");
    let root = corpus_dir("online_benchmark_log");
    let mut matched = 0;
    let mut failures = Vec::new();
    for hw in subdirs(&golden) {
        for model in subdirs(&hw) {
            let data_dir = root.join(name(&hw)).join(name(&model));
            for csv in files(&model, |n| n.ends_with(".csv")) {
                let text = String::from_utf8(read(&csv)).unwrap();
                let mut seen = std::collections::BTreeSet::new();
                for row in text.lines().skip(1) {
                    let f: Vec<&str> = row.split(',').collect();
                    let (date, variant, acc) = (f[0], f[1], f[5]);
                    if !seen.insert((date.to_owned(), variant.to_owned())) {
                        continue;
                    }
                    let want: f64 = acc.parse().unwrap();
                    let found = subdirs(&data_dir).into_iter().any(|d| {
                        let n = name(&d);
                        n.contains(date)
                            && folder_variant(&n) == variant
                            && files(&d, |x| {
                                x.to_lowercase().contains("gsm8k") && x.ends_with(".log")
                            })
                            .iter()
                            .any(|g| {
                                gsm8k::plot_script_accuracy(&read(g))
                                    .and_then(|v| v.parse::<f64>().ok())
                                    == Some(want)
                            })
                    });
                    if found {
                        matched += 1;
                    } else {
                        failures.push(format!("{}: {date} {variant} {acc}", rel(&csv)));
                    }
                }
            }
        }
    }
    println!("golden GSM8K_Accuracy reproduced for {matched} (date, variant) pairs");
    assert_no_failures("", &failures);
    assert!(matched >= 20);
}

fn folder_variant(n: &str) -> &'static str {
    if n.contains("_dp_attention_mtp_test") || n.contains("_mtp_test_dp_attention") {
        "dp_mtp"
    } else if n.contains("_mtp_test") {
        "mtp"
    } else if n.contains("_dp_attention") {
        "dp"
    } else {
        "standard"
    }
}
