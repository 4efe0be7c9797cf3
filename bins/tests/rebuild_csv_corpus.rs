//! `rebuild-csv --check` over every online run folder of the corpus (`SGLCI_CORPUS`, default
//! `../shared/corpus`): folders with a CSV must reproduce it (exit 0), folders without client
//! logs must say so (exit 2), and the corpus must be left untouched.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus_root() -> PathBuf {
    let path = std::env::var_os("SGLCI_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    assert!(
        path.join("online_benchmark_log").is_dir(),
        "corpus not found at {}: set SGLCI_CORPUS to the nightly output corpus \
         (default: ../shared/corpus next to the workspace root)",
        path.display()
    );
    path
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

#[test]
fn check_reproduces_every_corpus_csv() {
    let root = corpus_root().join("online_benchmark_log");
    let (mut equal, mut no_logs, mut folders) = (0, 0, 0);
    let mut failures = Vec::new();
    for hw in subdirs(&root) {
        for model in subdirs(&hw) {
            for dir in subdirs(&model) {
                folders += 1;
                let has_csv = std::fs::read_dir(&dir)
                    .unwrap()
                    .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".csv"));
                let o = Command::new(env!("CARGO_BIN_EXE_rebuild-csv"))
                    .arg("--run-dir")
                    .arg(&dir)
                    .arg("--check")
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&o.stderr);
                match (has_csv, o.status.code()) {
                    (true, Some(0)) if o.stdout.is_empty() => equal += 1,
                    (false, Some(2)) if err.contains("no client logs in") => no_logs += 1,
                    (_, code) => failures.push(format!(
                        "{}: exit {code:?}\n{}{err}",
                        dir.display(),
                        String::from_utf8_lossy(&o.stdout)
                    )),
                }
            }
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
