//! `regression-report` end to end: the real binary over hand-made run folders with a planted
//! regression (what each rule says, every output format, filters, exit codes), and over the
//! whole development corpus (every three-table CSV is read: the original's analysis read
//! none of them, spec B3).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regression-report"))
        .args(args)
        .env_remove("SGLCI_LOG")
        .env_remove("RUST_LOG")
        .env_remove("SGL_BENCHMARK_CI_DIR")
        .output()
        .expect("run regression-report")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// One Grok night: `<dir>/online/GROK1/<tag>_GROK1_<variant>_online/` with its legacy CSV
/// (rates 1 2 4; E2E = 100 × TTFT, ITL constant) and a timing summary with a GSM8K accuracy.
struct Night<'a> {
    date: &'a str,
    variant: &'a str,
    ttft: [f64; 3],
    accuracy: &'a str,
    /// Extra timing summaries (file names) written before the main one.
    earlier_summary: Option<&'a str>,
}

fn write_night(root: &Path, n: &Night<'_>) -> PathBuf {
    let tag = format!("v0.5.6-rocm700-mi30x-{}", n.date);
    let folder = root
        .join("online/GROK1")
        .join(format!("{tag}_GROK1_{}_online", n.variant));
    std::fs::create_dir_all(&folder).unwrap();
    let row = |vals: [f64; 3]| {
        format!(
            "MI300x-aiter, host-1\t{:.2}\t{:.2}\t{:.2}",
            vals[0], vals[1], vals[2]
        )
    };
    let e2e = n.ttft.map(|t| t * 100.0);
    let csv = format!(
        "Online mode - GROK1 ({tag})\n\nMedian E2E Latency (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n\nMedian TTFT (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n\nMedian ITL (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n",
        row(e2e),
        row(n.ttft),
        row([20.0, 21.0, 22.0])
    );
    std::fs::write(
        folder.join(format!("{tag}_GROK1_{}_online.csv", n.variant)),
        csv,
    )
    .unwrap();
    let summary = format!(
        "Hostname: host-1\nGSM8K Test Results:\n  GSM8K accuracy: {}\n",
        n.accuracy
    );
    if let Some(first) = n.earlier_summary {
        std::fs::write(folder.join(first), "Hostname: host-1\n").unwrap();
    }
    std::fs::write(
        folder.join(format!("timing_summary_{}_060000.log", n.date)),
        summary,
    )
    .unwrap();
    folder
}

/// Ten nights 20251101..20251110 of GROK1 MOE-I4F8: rate 4 TTFT quiet around 100 and 20 %
/// slower on the last two nights (a regression); rate 2 quiet with one 20 % spike on the last
/// night (suspicious); rate 1 quiet throughout (no change). Plus a simulated variant with
/// three nights (insufficient history).
fn planted() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let noise = [100.0, 101.0, 99.0, 100.5, 99.5, 100.0, 100.2, 99.8];
    let mut dates = Vec::new();
    for d in 1..=10 {
        dates.push(format!("202511{d:02}"));
    }
    for (i, date) in dates.iter().enumerate() {
        let base = noise.get(i).copied().unwrap_or(100.0);
        let (rate2, rate4) = match i {
            8 => (base, 120.0),
            9 => (121.0, 121.0),
            _ => (base, base),
        };
        write_night(
            tmp.path(),
            &Night {
                date,
                variant: "MOE-I4F8",
                ttft: [base, rate2, rate4],
                accuracy: "0.812",
                earlier_summary: None,
            },
        );
    }
    for date in ["20251108", "20251109", "20251110"] {
        write_night(
            tmp.path(),
            &Night {
                date,
                variant: "MOE-I4F8-SIM",
                ttft: [50.0, 50.0, 50.0],
                accuracy: "0.5",
                earlier_summary: None,
            },
        );
    }
    tmp
}

fn verdicts(rows: &[serde_json::Value]) -> BTreeMap<(String, String, String), String> {
    rows.iter()
        .map(|r| {
            (
                (
                    r["variant"].as_str().unwrap().to_owned(),
                    r["metric"].as_str().unwrap().to_owned(),
                    r["load"].as_str().unwrap().to_owned(),
                ),
                r["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn key(variant: &str, metric: &str, load: &str) -> (String, String, String) {
    (variant.to_owned(), metric.to_owned(), load.to_owned())
}

#[test]
fn the_robust_rule_finds_the_planted_regression_and_only_suspects_the_spike() {
    let tmp = planted();
    let dir = tmp.path().to_str().unwrap();
    let o = run(&["--benchmark-dir", dir, "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = json_lines(&o);
    let v = verdicts(&rows);
    // Per variant: E2E, TTFT, ITL at 3 rates + GSM8K accuracy = 10 series; two variants.
    assert_eq!(rows.len(), 2 * (3 * 3 + 1), "{}", stdout(&o));
    assert_eq!(v[&key("MOE-I4F8", "ttft_ms", "rate 4")], "regression");
    assert_eq!(v[&key("MOE-I4F8", "e2e_ms", "rate 4")], "regression");
    assert_eq!(v[&key("MOE-I4F8", "ttft_ms", "rate 2")], "suspicious");
    assert_eq!(v[&key("MOE-I4F8", "ttft_ms", "rate 1")], "no change");
    assert_eq!(v[&key("MOE-I4F8", "itl_ms", "rate 4")], "no change");
    assert_eq!(v[&key("MOE-I4F8", "gsm8k_accuracy", "-")], "no change");
    assert_eq!(
        v[&key("MOE-I4F8-SIM", "ttft_ms", "rate 4")],
        "insufficient history"
    );
    // The evidence of the regression: baseline, band, the two nights, the nights used.
    let r = rows
        .iter()
        .find(|r| r["metric"] == "ttft_ms" && r["load"] == "rate 4" && r["variant"] == "MOE-I4F8")
        .unwrap();
    assert_eq!(r["night"], "20251110");
    assert_eq!(r["image_tag"], "v0.5.6-rocm700-mi30x-20251110");
    assert_eq!(r["baseline"], 100.0);
    assert_eq!(r["band_pct"], 5.0);
    assert_eq!(r["nights_used"], 5);
    assert_eq!(
        r["values"],
        serde_json::json!(["20251109=120", "20251110=121"])
    );
    assert!(
        r["evidence"].as_str().unwrap().contains("both worse"),
        "{r}"
    );
    assert!(r["source"].as_str().unwrap().ends_with(".csv"), "{r}");
    let sim = rows
        .iter()
        .find(|r| r["variant"] == "MOE-I4F8-SIM")
        .unwrap();
    assert_eq!(sim["simulated"], true);
    assert!(
        stderr(&o).contains("2 regression, 2 suspicious"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_legacy_rule_alerts_on_the_first_slow_night_and_each_spike() {
    let tmp = planted();
    let dir = tmp.path().to_str().unwrap();
    let o = run(&[
        "--benchmark-dir",
        dir,
        "--rule",
        "legacy",
        "--format",
        "json",
        "--every-night",
        "--metric",
        "ttft_ms",
        "--only",
        "regression",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let got: BTreeSet<(String, String)> = json_lines(&o)
        .iter()
        .map(|r| {
            (
                r["load"].as_str().unwrap().to_owned(),
                r["night"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Rate 4 jumps on 11-09 (then 121 vs 120 is no change); rate 2 spikes on 11-10.
    let want: BTreeSet<(String, String)> = [("rate 4", "20251109"), ("rate 2", "20251110")]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .into_iter()
        .collect();
    assert_eq!(got, want, "{}", stdout(&o));
}

#[test]
fn fallback_nights_stay_out_of_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    // Six quiet nights at 100, then three slow ones (150) measured a day after their image
    // (fallback), then two more slow nights: only the quiet nights form the baseline.
    for d in 1..=11 {
        let date = format!("202511{d:02}");
        let earlier = format!("timing_summary_{date}_050000.log");
        let slow = d > 6;
        let fallback = (7..=9).contains(&d);
        let folder = write_night(
            tmp.path(),
            &Night {
                date: &date,
                variant: "MOE-I4F8",
                ttft: [100.0, 100.0, if slow { 150.0 } else { 100.0 }],
                accuracy: "0.8",
                earlier_summary: fallback.then_some(earlier.as_str()),
            },
        );
        if fallback {
            // The numbers came from an invocation a day after the image's first one.
            let main = folder.join(format!("timing_summary_{date}_060000.log"));
            let next = format!("timing_summary_{}_060000.log", next_day(&date));
            std::fs::rename(main, folder.join(next)).unwrap();
            std::fs::rename(
                folder.join(&earlier),
                folder.join(format!("timing_summary_{date}_060000.log")),
            )
            .unwrap();
        }
    }
    let dir = tmp.path().to_str().unwrap();
    let o = run(&[
        "--benchmark-dir",
        dir,
        "--format",
        "json",
        "--metric",
        "ttft_ms",
        "--every-night",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = json_lines(&o);
    let rate4: Vec<&serde_json::Value> = rows.iter().filter(|r| r["load"] == "rate 4").collect();
    let fallback: Vec<&str> = rate4
        .iter()
        .filter(|r| r["fallback"] == true)
        .map(|r| r["night"].as_str().unwrap())
        .collect();
    assert_eq!(fallback, ["20251107", "20251108", "20251109"]);
    let last = rate4.last().unwrap();
    assert_eq!(last["night"], "20251111");
    assert_eq!(last["verdict"], "regression", "{last}");
    assert_eq!(last["baseline"], 100.0, "{last}");
    assert_eq!(
        last["baseline_nights"],
        serde_json::json!(["20251102", "20251103", "20251104", "20251105", "20251106"])
    );
}

fn next_day(date: &str) -> String {
    let d: u32 = date.parse().unwrap();
    format!("{}", d + 1)
}

#[test]
fn text_and_csv_have_one_line_per_verdict() {
    let tmp = planted();
    let dir = tmp.path().to_str().unwrap();
    let text = run(&["--benchmark-dir", dir]);
    assert_eq!(code(&text), 0, "{}", stderr(&text));
    let lines: Vec<String> = stdout(&text).lines().map(str::to_owned).collect();
    assert!(lines[0].starts_with("VERDICT"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 20);
    let reg: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("regression"))
        .collect();
    assert_eq!(reg.len(), 2, "{}", stdout(&text));
    assert!(
        reg.iter()
            .any(|l| l.contains("ttft_ms") && l.contains("rate 4") && l.contains("+21.0%")),
        "{reg:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("MOE-I4F8-SIM") && l.contains("(sim)")),
        "{}",
        stdout(&text)
    );

    let csv = run(&[
        "--benchmark-dir",
        dir,
        "--format",
        "csv",
        "--model",
        "grok1",
    ]);
    assert_eq!(code(&csv), 0, "{}", stderr(&csv));
    let out = stdout(&csv);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..3], ["rule", "verdict", "hardware"]);
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 20);
    // Evidence holds commas: quoted, so every row has the header's field count outside quotes.
    for r in &rows {
        let mut fields = 1;
        let mut quoted = false;
        for c in r.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => fields += 1,
                _ => {}
            }
        }
        assert_eq!(fields, header.len(), "{r}");
    }
}

#[test]
fn filters_select_series_and_nights() {
    let tmp = planted();
    let dir = tmp.path().to_str().unwrap();
    let o = run(&[
        "--benchmark-dir",
        dir,
        "--model",
        "DeepSeek-V3",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let o = run(&[
        "--benchmark-dir",
        dir,
        "--hardware",
        "mi30x",
        "--metric",
        "gsm8k_accuracy",
        "--every-night",
        "--since",
        "20251109",
        "--format",
        "json",
    ]);
    let nights: Vec<String> = json_lines(&o)
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["variant"].as_str().unwrap(),
                r["night"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        nights,
        [
            "MOE-I4F8 20251109",
            "MOE-I4F8 20251110",
            "MOE-I4F8-SIM 20251109",
            "MOE-I4F8-SIM 20251110"
        ]
    );
}

#[test]
fn exit_codes() {
    let tmp = planted();
    let dir = tmp.path().to_str().unwrap();
    // --fail-on-regression: 1 with the planted regression, 0 without.
    let o = run(&["--benchmark-dir", dir, "--fail-on-regression"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = run(&[
        "--benchmark-dir",
        dir,
        "--fail-on-regression",
        "--metric",
        "itl_ms",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The environment variable is the default of --benchmark-dir.
    let o = Command::new(env!("CARGO_BIN_EXE_regression-report"))
        .env("SGL_BENCHMARK_CI_DIR", dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 20);

    let empty = tempfile::tempdir().unwrap();
    let bad: [(&[&str], &str); 7] = [
        (
            &["--benchmark-dir", "/nonexistent/x"],
            "/nonexistent/x is not a directory",
        ),
        (
            &["--benchmark-dir", empty.path().to_str().unwrap()],
            "no run folders",
        ),
        (&["--benchmark-dir", dir, "--rule", "median"], "median"),
        (&["--benchmark-dir", dir, "--format", "xml"], "xml"),
        (
            &["--benchmark-dir", dir, "--window-days", "3"],
            "--window-days applies to --rule legacy only",
        ),
        (
            &["--benchmark-dir", dir, "--since", "2025-11-01"],
            "YYYYMMDD",
        ),
        (&["--benchmark-dir", dir, "--bogus"], "--bogus"),
    ];
    for (args, msg) in bad {
        let o = run(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

/// Every three-table CSV of the corpus gives nights: for each run folder whose CSV has an
/// E2E value, that value is a night of its series, read with the same digits.
#[test]
fn the_corpus_csvs_are_read_by_both_rules() {
    let root = report::corpus::require("online_benchmark_log").unwrap_or_else(|e| panic!("{e}"));
    let logs = root.join("online_benchmark_log");
    let dir = logs.to_str().unwrap();
    let mut per_rule = BTreeMap::new();
    let mut replaced = BTreeSet::new();
    for rule in ["legacy", "robust"] {
        let o = run(&[
            "--benchmark-dir",
            dir,
            "--rule",
            rule,
            "--every-night",
            "--format",
            "json",
            "-v",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let rows = json_lines(&o);
        assert!(!rows.is_empty());
        // Two folders for one night (two builds of one image date): the later one is kept
        // and -v names the other.
        replaced.extend(
            stderr(&o)
                .lines()
                .filter(|l| l.contains("same night"))
                .filter_map(|l| l.split("skipped ").nth(1))
                .filter_map(|l| l.split(": ").next())
                .map(PathBuf::from),
        );
        for r in &rows {
            assert_eq!(r["rule"], rule);
            let verdict = r["verdict"].as_str().unwrap();
            let change = r["change_pct"].as_f64();
            let band = r["band_pct"].as_f64();
            // Positive = worse: latencies up, throughput and accuracy down.
            let higher_is_better =
                ["output_throughput", "gsm8k_accuracy"].contains(&r["metric"].as_str().unwrap());
            let sign = if higher_is_better { -1.0 } else { 1.0 };
            match verdict {
                "regression" => assert!(sign * change.unwrap() > band.unwrap(), "{r}"),
                "insufficient history" => assert!(r["baseline"].is_null(), "{r}"),
                _ => assert!(r["baseline"].as_f64().unwrap() > 0.0, "{r}"),
            }
            if rule == "legacy" {
                assert!(
                    ["regression", "no change", "insufficient history"].contains(&verdict),
                    "{r}"
                );
            }
        }
        per_rule.insert(rule, rows);
    }
    // Both rules judge the same nights.
    let nights = |rule: &str| -> BTreeSet<String> {
        per_rule[rule]
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {} {}",
                    r["hardware"], r["model"], r["variant"], r["metric"], r["load"], r["night"]
                )
            })
            .collect()
    };
    assert_eq!(nights("legacy"), nights("robust"));

    // Independent check of the CSV reading: the first E2E cell of every corpus CSV.
    let mut checked = 0;
    for hw in std::fs::read_dir(&logs).unwrap() {
        for model in std::fs::read_dir(hw.unwrap().path()).unwrap() {
            for run_dir in std::fs::read_dir(model.unwrap().path()).unwrap() {
                let run_dir = run_dir.unwrap().path();
                let name = run_dir.file_name().unwrap().to_string_lossy().into_owned();
                if name.contains(".backup_") || !run_dir.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(&run_dir).unwrap() {
                    let f = f.unwrap().path();
                    let fname = f.file_name().unwrap().to_string_lossy().into_owned();
                    if !fname.ends_with(".csv") {
                        continue;
                    }
                    let text = std::fs::read_to_string(&f).unwrap();
                    let lines: Vec<&str> = text.lines().collect();
                    let Some(first) = lines
                        .iter()
                        .position(|l| l.starts_with("Median E2E Latency"))
                        .and_then(|i| lines.get(i + 2))
                        .and_then(|row| row.split('\t').nth(1))
                        .filter(|c| !c.is_empty())
                    else {
                        continue;
                    };
                    let value: f64 = first.parse().unwrap();
                    let tag = name.split('_').next().unwrap();
                    let found = per_rule["robust"].iter().any(|r| {
                        r["metric"] == "e2e_ms"
                            && r["image_tag"] == tag
                            && r["value"].as_f64() == Some(value)
                    });
                    assert!(
                        found || replaced.contains(&f),
                        "{}: E2E {value} not among the nights",
                        f.display()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 50, "only {checked} CSVs with an E2E value");
}
