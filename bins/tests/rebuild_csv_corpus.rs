//! `rebuild-csv --check` over every online run folder of the corpus (`SGLCI_CORPUS`, default
//! `../shared/corpus`): folders with a CSV must reproduce it (exit 0), folders without client
//! logs must say so (exit 2), and the corpus must be left untouched.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::process::Command;

#[test]
fn check_reproduces_every_corpus_csv() {
    let root = support::corpus("online_benchmark_log");
    let (mut equal, mut no_logs, mut folders) = (0, 0, 0);
    let mut failures = Vec::new();
    let dirs = report::corpus::online_run_folders(&root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()));
    for dir in dirs {
        folders += 1;
        let has_csv = support::names(&dir).iter().any(|n| n.ends_with(".csv"));
        let mut c = Command::new(env!("CARGO_BIN_EXE_rebuild-csv"));
        c.arg("--run-dir").arg(&dir).arg("--check");
        let o = support::run(c, std::time::Duration::from_secs(60), "rebuild-csv");
        match (has_csv, o.code) {
            (true, Some(0)) if o.stdout.is_empty() => equal += 1,
            (false, Some(2)) if o.stderr.contains("no client logs in") => no_logs += 1,
            (_, code) => failures.push(format!(
                "{}: exit {code:?}\n{}{}",
                dir.display(),
                o.stdout,
                o.stderr
            )),
        }
    }
    println!(
        "rebuild-csv --check: {folders} folders, {equal} CSVs reproduced byte for byte, {no_logs} without client logs (exit 2)"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(equal >= 50);
}
