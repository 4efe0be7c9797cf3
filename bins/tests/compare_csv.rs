//! `compare-csv` end to end over real corpus run folders (`SGLCI_CORPUS`, default
//! `../shared/corpus`): Grok online on MI300X (golden G16 of spec reporting.md §13.5), MI355X
//! files with empty trailing cells (G17, fixed), DeepSeek serving files of every suffix (G18,
//! fixed), and offline CSVs written here. Percentages are recomputed in the test from the
//! CSV cells.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const GROK_13: &str =
    "online_benchmark_log/mi30x/GROK1/v0.5.3.post1-rocm630-mi30x-20251013_GROK1_MOE-I4F8_online";
const GROK_14: &str =
    "online_benchmark_log/mi30x/GROK1/v0.5.3.post1-rocm630-mi30x-20251014_GROK1_MOE-I4F8_online";
const MI35_30: &str =
    "online_benchmark_log/mi35x/GROK1/v0.5.4.post1-rocm700-mi35x-20251030_GROK1_MOE-I4F8_online";
const MI35_31: &str =
    "online_benchmark_log/mi35x/GROK1/v0.5.4.post1-rocm700-mi35x-20251031_GROK1_MOE-I4F8_online";

fn corpus(rel: &str) -> PathBuf {
    support::corpus("online_benchmark_log").join(rel)
}

/// The binary with the environment it reads cleared.
fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_compare-csv"));
    for v in [
        "COMPARISON_OUTPUT_DIR",
        "GSM8K_ACCURACY_THRESHOLD",
        "PERFORMANCE_THRESHOLD",
        "GSM8K_LOG_PATTERNS",
    ] {
        c.env_remove(v);
    }
    c
}

fn run(mut c: Command, args: &[&dyn AsRef<std::ffi::OsStr>]) -> support::Ran {
    c.args(args);
    support::run(c, LIMIT, "compare-csv")
}

/// The only `*.csv` of a run folder.
fn csv_of(dir: &Path) -> PathBuf {
    let v: Vec<String> = support::names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect();
    assert_eq!(v.len(), 1, "{}: {v:?}", dir.display());
    dir.join(&v[0])
}

/// `section title → (loads, first row cells)` of an online CSV, read here with plain string
/// splitting (independent of the crates under test).
fn tables(csv: &Path) -> Vec<(String, Vec<String>, Vec<String>)> {
    let text = support::read(csv);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("Median ") {
            let metric = l.split_whitespace().nth(1).unwrap().to_owned();
            let loads = lines[i + 1]
                .split('\t')
                .skip(1)
                .map(str::to_owned)
                .collect();
            let cells = lines[i + 2]
                .split('\t')
                .skip(1)
                .map(str::to_owned)
                .collect();
            out.push((metric, loads, cells));
        }
    }
    out
}

/// The rows the report must have for two online CSVs: per table, per load with a number on
/// both sides, `| load | main | pr | change |` with change = (main − pr) / main × 100.
fn expected_online_rows(main: &Path, pr: &Path, threshold: f64) -> Vec<String> {
    let (m, p) = (tables(main), tables(pr));
    let mut rows = Vec::new();
    for ((metric, loads, mc), (_, ploads, pc)) in m.iter().zip(&p) {
        rows.push(format!("#### {metric} Latency Comparison"));
        for (j, load) in loads.iter().enumerate() {
            let Some(pj) = ploads.iter().position(|l| l == load) else {
                continue;
            };
            let (Ok(a), Ok(b)) = (
                mc.get(j).map_or("", String::as_str).parse::<f64>(),
                pc.get(pj).map_or("", String::as_str).parse::<f64>(),
            ) else {
                continue;
            };
            let c = (a - b) / a * 100.0;
            let change = if c > threshold {
                format!("**+{c:.1}%** 🟢")
            } else if c < -threshold {
                format!("**{c:.1}%** 🔴")
            } else {
                format!("{c:+.1}%")
            };
            rows.push(format!("| {load} | {a:.1} | {b:.1} | {change} |"));
        }
    }
    rows
}

/// The report's table rows and headings, in order.
fn report_rows(md: &str) -> Vec<String> {
    md.lines()
        .filter(|l| {
            l.starts_with("#### ") || (l.starts_with("| ") && !l.starts_with("| Request Rate"))
        })
        .filter(|l| !l.starts_with("| Concurrency"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn grok_mi30x_pair_matches_the_original_g16() {
    let (a, b) = (corpus(GROK_13), corpus(GROK_14));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/report.md");
    let ran = run(bin(), &[&"--csv1", &a, &"--csv2", &b, &"--output-md", &out]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let md = support::read(&out);
    let generated = md
        .lines()
        .find_map(|l| l.strip_prefix("**Generated**: "))
        .expect("Generated line");
    assert!(
        regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
            .unwrap()
            .is_match(generated),
        "{generated}"
    );
    let head = format!(
        "## Benchmark Comparison\n\n**Mode**: online\n\n\
         **Main CSV**: `v0.5.3.post1-rocm630-mi30x-20251013_GROK1_MOE-I4F8_online.csv`\n\n\
         **PR CSV**: `v0.5.3.post1-rocm630-mi30x-20251014_GROK1_MOE-I4F8_online.csv`\n\n\
         **Generated**: {generated}\n\n### Results\n\n\
         **Main GSM8K Accuracy**: 0.813 (81.3%)\n\
         **PR GSM8K Accuracy**: 0.815 (81.5%)\n\
         **GSM8K Improvement**: +0.002 (+0.2%) 🟢\n\n\
         #### E2E Latency Comparison\n\n\
         | Request Rate | Main (ms) | PR (ms) | Change |\n\
         |--------------|-----------|---------|---------|\n\
         | 1 | 9815.0 | 9793.7 | +0.2% |\n\
         | 2 | 12345.1 | 12344.9 | +0.0% |\n\
         | 4 | 12034.2 | 11923.1 | +0.9% |\n\
         | 8 | 24685.0 | 24203.2 | +2.0% |\n\
         | 16 | 85422.8 | 87841.5 | -2.8% |\n\n\
         #### TTFT Latency Comparison\n\n\
         | Request Rate | Main (ms) | PR (ms) | Change |\n\
         |--------------|-----------|---------|---------|\n\
         | 1 | 93.9 | 93.9 | -0.0% |\n"
    );
    assert!(md.starts_with(&head), "{md}");
    assert!(md.ends_with("|\n\n"), "{md:?}");
    assert_eq!(
        report_rows(&md),
        expected_online_rows(&csv_of(&a), &csv_of(&b), 5.0)
    );
    // Console: the configuration, the two CSVs, where the report went.
    assert!(
        ran.stdout.starts_with("Configuration:\n")
            && ran.stdout.contains("  GSM8K threshold: 0.001\n")
            && ran.stdout.contains("  Performance threshold: 5.0%\n")
            && ran
                .stdout
                .contains(&format!("  Main: {}\n", csv_of(&a).display()))
            && ran
                .stdout
                .ends_with(&format!("Comparison written to {}\n", out.display())),
        "{}",
        ran.stdout
    );
    assert!(ran.stderr.is_empty(), "{}", ran.all());
}

#[test]
fn thresholds_come_from_flags_or_the_environment() {
    let (a, b) = (corpus(GROK_13), corpus(GROK_14));
    let mut c = bin();
    c.env("PERFORMANCE_THRESHOLD", "1.0")
        .env("GSM8K_ACCURACY_THRESHOLD", "0.01");
    let ran = run(c, &[&"--csv1", &a, &"--csv2", &b, &"--output-md", &"-"]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(
        ran.stdout
            .contains("| 8 | 24685.0 | 24203.2 | **+2.0%** 🟢 |")
    );
    assert!(
        ran.stdout
            .contains("| 16 | 85422.8 | 87841.5 | **-2.8%** 🔴 |")
    );
    assert!(
        ran.stdout
            .contains("**GSM8K Change**: No significant change\n")
    );
    assert_eq!(
        report_rows(&ran.stdout),
        expected_online_rows(&csv_of(&a), &csv_of(&b), 1.0)
    );
    // With the report on stdout, the console lines go to stderr.
    assert!(
        ran.stderr.contains("  Performance threshold: 1.0%"),
        "{}",
        ran.all()
    );
    // The flag wins over the environment.
    let mut c = bin();
    c.env("PERFORMANCE_THRESHOLD", "1.0");
    let ran = run(
        c,
        &[
            &"--csv1",
            &a,
            &"--csv2",
            &b,
            &"--output-md",
            &"-",
            &"--performance-threshold",
            &"2.5",
        ],
    );
    assert!(
        ran.stdout
            .contains("| 16 | 85422.8 | 87841.5 | **-2.8%** 🔴 |")
    );
    assert!(ran.stdout.contains("| 8 | 24685.0 | 24203.2 | +2.0% |"));
    // A value that is not a number names the variable.
    let mut c = bin();
    c.env("GSM8K_ACCURACY_THRESHOLD", "lots");
    let ran = run(c, &[&"--csv1", &a, &"--csv2", &b, &"--output-md", &"-"]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(
        ran.stderr
            .contains("GSM8K_ACCURACY_THRESHOLD=`lots` is not a number"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty());
}

#[test]
fn mi35x_empty_trailing_cells_skip_only_those_loads() {
    let (a, b) = (corpus(MI35_30), corpus(MI35_31));
    let ran = run(bin(), &[&"--csv1", &a, &"--csv2", &b, &"--output-md", &"-"]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let rows = report_rows(&ran.stdout);
    assert_eq!(rows, expected_online_rows(&csv_of(&a), &csv_of(&b), 5.0));
    // Rates 1, 2, 4 in each of the three tables: 8 has no PR value, 16 none at all.
    assert_eq!(rows.iter().filter(|r| r.starts_with("| ")).count(), 9);
    assert!(rows.contains(&"| 1 | 25988.5 | 30139.3 | **-16.0%** 🔴 |".to_owned()));
    assert!(
        ran.stderr
            .contains("Warning: E2E request rate 8 skipped: main `93104.59`, PR empty"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stdout.contains("Failed to parse"));
}

#[test]
fn deepseek_serving_pair_is_compared_by_concurrency() {
    let root =
        support::corpus("online_benchmark_log").join("online_benchmark_log/mi30x/DeepSeek-V3-0324");
    let a = root.join("v0.5.3.post1-rocm630-mi30x-20251013_DeepSeek-V3-0324_FP8_online");
    let b = root.join("v0.5.5.post3-rocm700-mi30x-20251121_DeepSeek-V3-0324_FP8_online");
    let ran = run(
        bin(),
        &[
            &"--csv1",
            &a,
            &"--csv2",
            &b,
            &"--output-md",
            &"-",
            &"--model",
            &"deepseek",
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let md = &ran.stdout;
    assert!(
        md.starts_with("## DEEPSEEK Benchmark Comparison\n\n**Mode**: online\n"),
        "{md}"
    );
    assert!(md.contains("| Concurrency | Main (ms) | PR (ms) | Change |\n|-------------|"));
    assert!(
        md.contains("**Main GSM8K Accuracy**: 0.937 (93.7%)\n"),
        "{md}"
    );
    assert!(md.contains("**GSM8K Change**: -0.005 (-0.5%) 🔴\n"), "{md}");
    let rows = report_rows(md);
    assert_eq!(rows, expected_online_rows(&csv_of(&a), &csv_of(&b), 5.0));
    assert_eq!(rows.iter().filter(|r| r.starts_with("| ")).count(), 15);
}

/// Every per-run CSV of the corpus (Grok three-table files, DeepSeek serving files of every
/// suffix, MI355X files with empty cells) compares against itself: exit 0, every numeric
/// load a `+0.0%` row, JSON on stdout.
#[test]
fn every_corpus_csv_is_read() {
    let root = support::corpus("online_benchmark_log");
    let dirs = report::corpus::online_run_folders(&root).unwrap();
    let mut files = 0;
    let mut suffixes = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for dir in dirs {
        for name in support::names(&dir)
            .into_iter()
            .filter(|n| n.ends_with(".csv"))
        {
            let csv = dir.join(&name);
            files += 1;
            if let Some(i) = name.find("_serving") {
                suffixes.insert(name[i..].to_owned());
            }
            let ran = run(
                bin(),
                &[&"--csv1", &csv, &"--csv2", &csv, &"--format", &"json"],
            );
            if ran.code != Some(0) {
                failures.push(format!("{}: {}", csv.display(), ran.all()));
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&ran.stdout)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", csv.display(), ran.stdout));
            assert_eq!(ran.stdout.lines().count(), 1);
            assert_eq!(v["mode"], "online", "{}", csv.display());
            let numeric: usize = tables(&csv)
                .iter()
                .map(|(_, _, cells)| {
                    cells
                        .iter()
                        .filter(|c| c.parse::<f64>().is_ok_and(|x| x != 0.0))
                        .count()
                })
                .sum();
            let compared: Vec<&serde_json::Value> = v["results"]["tables"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| t["loads"].as_array().unwrap())
                .collect();
            assert_eq!(compared.len(), numeric, "{}", csv.display());
            assert!(compared.iter().all(|l| l["change_percent"] == 0.0));
        }
    }
    println!("compare-csv read {files} corpus CSVs; DeepSeek suffixes: {suffixes:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(files >= 50, "{files}");
    assert!(suffixes.len() >= 4, "{suffixes:?}");
}

#[test]
fn auto_named_folder_and_append() {
    let (a, b) = (corpus(GROK_13), corpus(GROK_14));
    let dir = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.env("COMPARISON_OUTPUT_DIR", dir.path().join("results"));
    let ran = run(c, &[&"--csv1", &format!("{}/", a.display()), &"--csv2", &b]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let folders = support::names(&dir.path().join("results"));
    assert_eq!(folders.len(), 1, "{folders:?}");
    let re = regex::Regex::new(
        r"^\d{8}_\d{6}_v0\.5\.3\.post1-rocm630-mi30x-20251013_GROK1_MOE-I4F8_online_vs_v0\.5\.3\.post1-rocm630-mi30x-20251014_GROK1_MOE-I4F8_online$",
    )
    .unwrap();
    assert!(re.is_match(&folders[0]), "{folders:?}");
    let report = dir
        .path()
        .join("results")
        .join(&folders[0])
        .join(format!("{}.md", folders[0]));
    assert!(
        report.is_file(),
        "{:?}",
        support::names(&dir.path().join("results").join(&folders[0]))
    );

    let out = dir.path().join("log.md");
    for _ in 0..2 {
        let ran = run(
            bin(),
            &[
                &"--csv1",
                &a,
                &"--csv2",
                &b,
                &"--output-md",
                &out,
                &"--append",
            ],
        );
        assert_eq!(ran.code, Some(0), "{}", ran.all());
    }
    let text = support::read(&out);
    assert_eq!(text.matches("## Benchmark Comparison\n").count(), 2);
    // Without --append the file is replaced.
    run(bin(), &[&"--csv1", &a, &"--csv2", &b, &"--output-md", &out]);
    assert_eq!(
        support::read(&out)
            .matches("## Benchmark Comparison\n")
            .count(),
        1
    );
}

fn folder(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    for (f, text) in files {
        std::fs::write(d.join(f), text).unwrap();
    }
    d
}

const GROK_OFFLINE: &str = "TP,batch_size,IL,OL,Backend,Prefill_latency(s),Median_decode_latency(s),E2E_Latency(s),Prefill_Throughput(token/s),Median_Decode_Throughput(token/s),E2E_Throughput(token/s)";

#[test]
fn offline_join_order_signs_and_highlights() {
    let dir = tempfile::tempdir().unwrap();
    let main = folder(
        dir.path(),
        "main_offline",
        &[
            (
                "GROK1_offline.csv",
                &format!(
                    "{GROK_OFFLINE}\n\
                     8,16,1024,128,aiter,0.1,0.01,2.0,1000,90,768\n\
                     8,1,1024,128,aiter,0.03,0.01,1.50,29000,84,1000\n\
                     8,2,1024,128,aiter,0.03,0.01,1.60,29000,84,1400\n\
                     8,4,1024,128,aiter,NA,NA,NA,NA,NA,NA\n\
                     8,64,1024,128,aiter,0.1,0.01,3.0,1000,90,500\n"
                ),
            ),
            (
                "sglang_client_log_GROK1_gsm8k.log",
                "Average Accuracy over 5 runs: 0.800\n",
            ),
        ],
    );
    let pr = folder(
        dir.path(),
        "pr_offline",
        &[
            (
                "GROK1_offline.csv",
                &format!(
                    "{GROK_OFFLINE}\n\
                     8,1,1024,128,aiter,0.03,0.01,1.40,29000,84,1000\n\
                     8,2,1024,128,aiter,0.03,0.01,1.60,29000,84,1300\n\
                     8,4,1024,128,aiter,0.03,0.01,1.0,29000,84,900\n\
                     8,16,1024,128,aiter,0.1,0.01,2.0,1000,90,800\n\
                     4,64,1024,128,aiter,0.1,0.01,3.0,1000,90,500\n"
                ),
            ),
            (
                "sglang_client_log_GROK1_gsm8k.log",
                "Average Accuracy over 5 runs: 0.750\n",
            ),
        ],
    );
    let ran = run(
        bin(),
        &[&"--csv1", &main, &"--csv2", &pr, &"--output-md", &"-"],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let md = &ran.stdout;
    assert!(md.contains("**Mode**: offline\n"), "{md}");
    assert!(md.contains("**GSM8K Change**: -0.050 (-5.0%) 🔴\n"), "{md}");
    let body = md.split("### Performance Comparison\n\n").nth(1).expect(md);
    // Batch sizes ascending as numbers (16 after 2); batch 4 has no main value (NA: skipped),
    // batch 64 differs in TP (not joined). Spec §8.6 examples: +6.7% 🟢, -7.1% 🔴, +4.2%.
    assert_eq!(
        body,
        "| Batch Size | Metric | Main | PR | Change |\n\
         |------------|--------|------|----|---------|\n\
         | 1 | E2E Throughput | 1000.00 | 1000.00 | +0.0% |\n\
         | 1 | E2E Latency | 1.50 | 1.40 | **+6.7%** 🟢 |\n\
         | 2 | E2E Throughput | 1400.00 | 1300.00 | **-7.1%** 🔴 |\n\
         | 2 | E2E Latency | 1.60 | 1.60 | +0.0% |\n\
         | 16 | E2E Throughput | 768.00 | 800.00 | +4.2% |\n\
         | 16 | E2E Latency | 2.00 | 2.00 | +0.0% |\n\n"
    );
    // Throughput: (pr - main) / main; latency: (main - pr) / main. Positive = PR better.
    assert_eq!(format!("{:+.1}", (800.0 - 768.0) / 768.0 * 100.0), "+4.2");

    // One side without any value: the original's message and the other side's table.
    let empty = folder(
        dir.path(),
        "empty_offline",
        &[(
            "x.csv",
            &format!("{GROK_OFFLINE}\n8,1,1024,128,aiter,,,,,,\n"),
        )],
    );
    let ran = run(
        bin(),
        &[&"--csv1", &empty, &"--csv2", &pr, &"--output-md", &"-"],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(
        ran.stdout.contains(
            "❌ Main CSV contains no benchmark data. Cannot perform comparison.\n\n**PR CSV Summary:**\nTP batch_size   IL  OL Backend"
        ),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_csv_that_cannot_be_parsed_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let good = corpus(GROK_13);
    let junk = folder(dir.path(), "junk", &[("result.csv", "hello,world\n1,2\n")]);
    let out = dir.path().join("out");
    let ran = run(
        bin(),
        &[&"--csv1", &good, &"--csv2", &junk, &"--output-dir", &out],
    );
    assert_eq!(ran.code, Some(3), "{}", ran.all());
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.all());
    assert!(
        ran.stderr.contains("cannot tell whether")
            && ran
                .stderr
                .contains(&junk.join("result.csv").display().to_string()),
        "{}",
        ran.stderr
    );
    assert!(!out.exists(), "a report was written");

    // An online CSV cut before its ITL table: the section is named.
    let text = support::read(&csv_of(&good));
    let cut = &text[..text.find("Median ITL").unwrap()];
    let cut_dir = folder(dir.path(), "cut", &[("cut_online.csv", cut)]);
    let ran = run(
        bin(),
        &[&"--csv1", &good, &"--csv2", &cut_dir, &"--output-md", &"-"],
    );
    assert_eq!(ran.code, Some(3), "{}", ran.all());
    assert!(
        ran.stderr.contains("cannot parse")
            && ran.stderr.contains("cut_online.csv")
            && ran.stderr.contains("Median ITL"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);

    // An offline CSV against an online one, or a mode forced on the wrong file.
    let offline = folder(
        dir.path(),
        "offline",
        &[(
            "o.csv",
            &format!("{GROK_OFFLINE}\n8,1,1024,128,aiter,1,1,1,1,1,1\n"),
        )],
    );
    let ran = run(bin(), &[&"--csv1", &good, &"--csv2", &offline]);
    assert_eq!(ran.code, Some(3), "{}", ran.all());
    assert!(
        ran.stderr.contains("is an online CSV but PR CSV") && ran.stderr.contains("o.csv"),
        "{}",
        ran.stderr
    );
    let ran = run(
        bin(),
        &[&"--csv1", &good, &"--csv2", &good, &"--mode", &"offline"],
    );
    assert_eq!(ran.code, Some(3), "{}", ran.all());
    assert!(
        ran.stderr
            .contains("as an offline CSV: line 1 is not a known offline CSV header"),
        "{}",
        ran.stderr
    );

    // Missing folder / folder without a CSV: exit 1 as the original.
    let ran = run(
        bin(),
        &[&"--csv1", &good, &"--csv2", &dir.path().join("nope")],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert!(ran.stderr.contains("does not exist"), "{}", ran.stderr);
    let none = folder(dir.path(), "none", &[("notes.txt", "x")]);
    let ran = run(
        bin(),
        &[&"--csv1", &good, &"--csv2", &none, &"--model", &"grok"],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert!(
        ran.stderr.contains("No CSV files found in")
            && ran.stderr.contains("matching model `grok`"),
        "{}",
        ran.stderr
    );
    // An unknown flag is a usage error.
    let ran = run(bin(), &[&"--csv1", &good, &"--csv2", &good, &"--bogus"]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
}

#[test]
fn csvs_are_picked_in_name_order_and_by_model() {
    let dir = tempfile::tempdir().unwrap();
    let g1 = csv_of(&corpus(GROK_13));
    let g2_dir = support::corpus("online_benchmark_log").join(
        "online_benchmark_log/mi30x/GROK2/v0.5.3.post1-rocm700-mi30x-20251013_GROK2_FP8_online",
    );
    let g2 = csv_of(&g2_dir);
    let both = folder(
        dir.path(),
        "both",
        &[
            ("b_GROK1_online.csv", &support::read(&g1)),
            ("a_GROK2_online.csv", &support::read(&g2)),
            (
                "sglang_client_log_GROK1_gsm8k_aiter.log",
                "Average Accuracy over 5 runs for mode aiter: 0.813\n",
            ),
            (
                "sglang_client_log_GROK2_gsm8k_aiter.log",
                "Average Accuracy over 5 runs for mode aiter: 0.930\n",
            ),
        ],
    );
    let ran = run(
        bin(),
        &[&"--csv1", &both, &"--csv2", &both, &"--output-md", &"-"],
    );
    assert!(
        ran.stdout.contains("**Main CSV**: `a_GROK2_online.csv`"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("**Main GSM8K Accuracy**: 0.813"),
        "{}",
        ran.stdout
    );
    let ran = run(
        bin(),
        &[
            &"--csv1",
            &both,
            &"--csv2",
            &both,
            &"--output-md",
            &"-",
            &"--model1",
            &"grok1",
            &"--model2",
            &"GROK2",
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let md = &ran.stdout;
    assert!(
        md.starts_with("## GROK1 vs GROK2 Benchmark Comparison\n"),
        "{md}"
    );
    assert!(md.contains("**Main CSV**: `b_GROK1_online.csv`"), "{md}");
    assert!(md.contains("**PR CSV**: `a_GROK2_online.csv`"), "{md}");
    assert!(
        md.contains(
            "**Main GSM8K Accuracy**: 0.813 (81.3%)\n**PR GSM8K Accuracy**: 0.930 (93.0%)\n"
        ),
        "{md}"
    );
    assert_eq!(report_rows(md), expected_online_rows(&g1, &g2, 5.0));
}
