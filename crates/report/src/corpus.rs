//! Test support (feature `testkit`): where the corpus of real nightly output is, for the
//! conformance tests and benchmarks of every crate: `$SGLCI_CORPUS`, else `../shared/corpus` next to the workspace root. A missing
//! corpus is an error that names the variable (tests fail on it, they never skip).

use std::path::{Path, PathBuf};

use thiserror::Error;

/// The variable that points at the corpus.
pub const CORPUS_ENV: &str = "SGLCI_CORPUS";

/// The corpus, or a folder it must hold, is not there.
#[derive(Debug, Error)]
#[error(
    "corpus not found at {} ({} missing): set SGLCI_CORPUS to the nightly output corpus \
     (default: ../shared/corpus next to the workspace root; `.ci/fetch-corpus DEST` fetches the \
     full corpus from the original's log branch where GitHub is reachable)",
    root.display(),
    missing.display()
)]
pub struct CorpusMissing {
    /// The corpus root looked at.
    pub root: PathBuf,
    /// The folder that does not exist.
    pub missing: PathBuf,
}

/// `$SGLCI_CORPUS`, else `<workspace root>/../shared/corpus` (not checked).
pub fn root() -> PathBuf {
    std::env::var_os(CORPUS_ENV).map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    )
}

/// The corpus root, checked to hold the folder `sub` (`""`: the root itself).
pub fn require(sub: &str) -> Result<PathBuf, CorpusMissing> {
    let root = root();
    let missing = if sub.is_empty() {
        root.clone()
    } else {
        root.join(sub)
    };
    if missing.is_dir() {
        Ok(root)
    } else {
        Err(CorpusMissing { root, missing })
    }
}

/// The online run folders below `online_benchmark_log/<hardware>/<model>/` of `root`, sorted.
pub fn online_run_folders(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for hw in subdirs(&root.join("online_benchmark_log"))? {
        for model in subdirs(&hw)? {
            out.extend(subdirs(&model)?);
        }
    }
    Ok(out)
}

fn subdirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            v.push(p);
        }
    }
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_names_the_variable() {
        let e = CorpusMissing {
            root: "/c".into(),
            missing: "/c/plot".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("SGLCI_CORPUS"), "{msg}");
        assert!(msg.contains("/c/plot missing"), "{msg}");
    }

    #[test]
    fn run_folders_are_three_levels_down_and_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("online_benchmark_log");
        for p in [
            "mi35x/GROK1/b",
            "mi30x/GROK1/z",
            "mi30x/GROK1/a",
            "mi30x/DS/r",
        ] {
            std::fs::create_dir_all(log.join(p)).unwrap();
        }
        std::fs::write(log.join("mi30x/GROK1/file.txt"), "not a folder").unwrap();
        let got: Vec<String> = online_run_folders(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&log).unwrap().display().to_string())
            .collect();
        assert_eq!(
            got,
            [
                "mi30x/DS/r",
                "mi30x/GROK1/a",
                "mi30x/GROK1/z",
                "mi35x/GROK1/b"
            ]
        );
        assert!(online_run_folders(&dir.path().join("nope")).is_err());
    }
}
