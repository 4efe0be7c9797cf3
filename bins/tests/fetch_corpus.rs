//! `.ci/fetch-corpus` (issue 16): takes the corpus from a nightly log branch into a new folder,
//! refuses to overwrite one, and leaves nothing half-written when the branch is not a log
//! branch. A local bare repository stands in for GitHub's `ROCm/sglang-ci`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository whose branch `log` holds `files`.
fn log_remote(root: &Path, files: &[&str]) -> PathBuf {
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "log"]);
    for f in files {
        let p = work.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("content of {f}\n")).unwrap();
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "logs"]);
    let bare = root.join("remote.git");
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    bare
}

fn fetch(remote: &Path, dest: &Path) -> Output {
    Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/fetch-corpus"))
        .arg(dest)
        .env("SGLCI_CORPUS_REMOTE", remote)
        .env("SGLCI_FETCH_TIMEOUT", "60")
        .output()
        .unwrap()
}

#[test]
fn fetches_a_log_branch_into_a_new_folder_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = log_remote(
        tmp.path(),
        &[
            "cron_log/mi30x/20251201/test_nightly.log",
            "test/pd/pd_log/mi30x/tag/test_summary.txt",
            "online_benchmark_log/mi30x/GROK1/run/timing_summary_20251201_000000.log",
        ],
    );
    let dest = tmp.path().join("corpus");
    let out = fetch(&remote, &dest);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("test/pd/pd_log/mi30x/tag/test_summary.txt")).unwrap(),
        "content of test/pd/pd_log/mi30x/tag/test_summary.txt\n"
    );
    assert!(
        !dest.join(".git").exists(),
        "the corpus is files, not a clone"
    );
    let canonical = dest.canonicalize().unwrap();
    assert!(
        stdout.contains(&format!("export SGLCI_CORPUS={}", canonical.display())),
        "{stdout}"
    );

    // A second fetch into the same folder is refused and changes nothing.
    let again = fetch(&remote, &dest);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already exists"), "{err}");
    assert!(
        dest.join("cron_log/mi30x/20251201/test_nightly.log")
            .is_file()
    );
}

#[test]
fn a_branch_that_is_not_a_log_branch_leaves_no_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = log_remote(tmp.path(), &["README.md", "src/main.rs"]);
    let dest = tmp.path().join("corpus");
    let out = fetch(&remote, &dest);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a nightly log branch"), "{err}");
    assert!(!dest.exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_unreachable_remote_names_the_way_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("corpus");
    let out = fetch(&tmp.path().join("no-such-repo.git"), &dest);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("set SGLCI_CORPUS"), "{err}");
    assert!(!dest.exists());
}
