//! Shared helpers of the corpus conformance tests (`tests/corpus_*.rs`): where the corpus is,
//! and sorted directory listings.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The corpus root: `$SGLCI_CORPUS`, else `<workspace root>/../shared/corpus`. Fails the test
/// (never skips it) when the folder does not exist.
pub fn corpus_root() -> PathBuf {
    let path = std::env::var_os("SGLCI_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        path.is_dir(),
        "corpus not found at {}: set SGLCI_CORPUS to the nightly output corpus \
         (default: ../shared/corpus next to the workspace root)",
        path.display()
    );
    path
}

/// A corpus sub-folder that must exist.
pub fn corpus_dir(rel: &str) -> PathBuf {
    let dir = corpus_root().join(rel);
    assert!(
        dir.is_dir(),
        "{} missing: SGLCI_CORPUS does not point at a complete corpus",
        dir.display()
    );
    dir
}

/// Entries of `dir` sorted by name (directories and files).
pub fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path()
        })
        .collect();
    v.sort();
    v
}

/// Sub-directories of `dir`, sorted.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

/// Every regular file under `dir`, recursively, sorted.
pub fn files_recursive(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in sorted_entries(dir) {
        if p.is_dir() {
            out.extend(files_recursive(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

/// File name as UTF-8 (lossy).
pub fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads a file, failing the test with its path.
pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The first 8-digit run in `s` (`YYYYMMDD`), as a number.
pub fn first_date(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(7)).find_map(|i| {
        let w = &b[i..i + 8];
        let before_ok = i == 0 || !b[i - 1].is_ascii_digit();
        (before_ok && w.iter().all(u8::is_ascii_digit))
            .then(|| std::str::from_utf8(w).ok()?.parse().ok())
            .flatten()
    })
}

/// Fails the test listing every failure (`kind` qualifies them: `"PD"` gives `3 PD failures:`).
#[track_caller]
pub fn assert_no_failures(kind: &str, failures: &[String]) {
    let label = if kind.is_empty() {
        "failures".to_owned()
    } else {
        format!("{kind} failures")
    };
    assert!(
        failures.is_empty(),
        "{} {label}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every regular file under `dir` with extension `ext`, recursively, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    files_recursive(dir)
        .into_iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect()
}
