//! Corpus conformance of the cron-log classifier (corpus README §1.5, §2.10): every file of
//! `cron_log/`, and every `process_and_generate_online_plots.log` of `online_benchmark_log/`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod corpus_support;

use std::collections::BTreeMap;

use corpus_support::{assert_no_failures, corpus_dir, files_recursive, name, read};
use metrics_parse::cron_log::{self, CronLogKind, DailyStatus, PlotsOutcome};

#[test]
fn every_cron_log_classifies() {
    let root = corpus_dir("cron_log");
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut daily: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut files = 0;
    for path in files_recursive(&root) {
        files += 1;
        let data = read(&path);
        let kind = cron_log::classify(&data);
        let d = cron_log::daily_status(&data);
        match &kind {
            CronLogKind::Empty => {
                *kinds.entry("empty").or_default() += 1;
                if d.status != DailyStatus::Unknown {
                    failures.push(format!("{}: empty but {:?}", path.display(), d.status));
                }
            }
            CronLogKind::MissingScript { script } => {
                *kinds.entry("missing_script").or_default() += 1;
                if !script.ends_with(".sh") || d.status != DailyStatus::Fail {
                    failures.push(format!("{}: missing {script:?} / {d:?}", path.display()));
                }
            }
            CronLogKind::Normal => {
                *kinds.entry("normal").or_default() += 1;
                if data.trim_ascii().is_empty() {
                    failures.push(format!("{}: blank file called normal", path.display()));
                }
            }
        }
        // The four logs the daily summary reads.
        let n = name(&path);
        if matches!(
            n.as_str(),
            "test_nightly.log"
                | "test_nightly_pd.log"
                | "sanity_check_nightly.log"
                | "docker_image_check.log"
        ) {
            *daily.entry(format!("{n} {:?}", d.status)).or_default() += 1;
        }
    }
    println!("cron logs: {files} files, kinds {kinds:?}");
    println!("daily-summary statuses: {daily:#?}");
    assert_no_failures("", &failures);
    assert_eq!(kinds.values().sum::<usize>(), files);
    assert!(
        kinds.get("missing_script").copied().unwrap_or(0) > 0,
        "no missing-script log found"
    );

    // Reproduced in spec reporting.md §7.5: a Docker check whose images were both missing is
    // still `pass` because the Teams line has a ✅.
    let docker = root.join("mi30x/20251006/docker_image_check.log");
    assert_eq!(
        cron_log::daily_status(&read(&docker)).status,
        DailyStatus::Pass
    );
    let missing = root.join("mi30x/20251020/test_nightly.log");
    let m = cron_log::daily_status(&read(&missing));
    assert_eq!(
        (m.status, m.error.as_deref()),
        (DailyStatus::Fail, Some("Script not found"))
    );
}

#[test]
fn every_online_plot_log_has_an_outcome() {
    let root = corpus_dir("online_benchmark_log");
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut unfinished = Vec::new();
    for path in files_recursive(&root) {
        if name(&path) != "process_and_generate_online_plots.log" {
            continue;
        }
        let o = cron_log::plots_outcome(&read(&path));
        *outcomes.entry(format!("{o:?}")).or_default() += 1;
        if o == PlotsOutcome::Unfinished {
            unfinished.push(path.display().to_string());
        }
    }
    println!("online plot logs: {outcomes:?}");
    assert!(
        unfinished.is_empty(),
        "plot logs with no outcome:\n{}",
        unfinished.join("\n")
    );
    assert!(outcomes.values().sum::<usize>() > 0, "no plot log found");
}
