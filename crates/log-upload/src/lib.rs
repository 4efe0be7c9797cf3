//! The upload workflow of `github-log-upload` (spec nightly.md §10, fixes Q-UP-1/Q-UP-2): mirror
//! one log folder into the `log` branch of the log repository through a working clone reused
//! between runs, under a lock, with `git pull --rebase` and a retry when a push is rejected.
//!
//! Everything goes through the real `git` program ([`git::Git`]: a time limit per command, the
//! token only in the child's environment). The library never prints: progress lines (the
//! original's `[github_log_upload] …` lines) are handed to a callback.

pub mod git;
pub mod lock;
pub mod mirror;

use std::path::{Path, PathBuf};
use std::time::Duration;

use git::{Git, GitError};

/// The branch of the log repository that holds the logs.
pub const BRANCH: &str = "log";

/// The original's fixed working clone (`DATA_CLONE`).
pub const DEFAULT_CLONE_DIR: &str = "/mnt/raid/michael/sglang-ci-data";

/// The original's default repository (`GITHUB_REPO`).
pub const DEFAULT_REPO: &str = "ROCm/sglang-ci";

/// The per-command identity of commits and rebases (the original's `ci-bot`): the host needs
/// no git identity of its own.
const ID: [&str; 4] = [
    "-c",
    "user.name=ci-bot",
    "-c",
    "user.email=ci-bot@example.com",
];

/// Prefix of every progress line.
pub const PREFIX: &str = "[github_log_upload]";

/// Which tree of the log repository a folder goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogType {
    /// `cron_log/<hw>/<folder>` from `<CI>/cron/cron_log/<hw>/<folder>`.
    Cron,
    /// `test/sanity_check_log/<hw>/<folder>` from `<CI>/test/sanity_check_log/<hw>/<folder>`.
    Sanity,
}

impl LogType {
    /// `sanity` is [`LogType::Sanity`]; anything else behaves like `cron`, as in the original.
    pub fn parse(s: &str) -> Self {
        if s == "sanity" {
            Self::Sanity
        } else {
            Self::Cron
        }
    }
}

/// The four positional arguments, already defaulted (spec §10.1).
#[derive(Debug, Clone)]
pub struct Request {
    /// `DATE` (`YYYYMMDD`, or the sanity folder name when no FOLDER is given).
    pub date: String,
    /// `HARDWARE_TYPE` from argument 2, else the environment, else `unknown`.
    pub hardware: String,
    /// `LOG_TYPE`.
    pub log_type: LogType,
    /// `FOLDER`: relative name or absolute path; `None` when absent or empty.
    pub folder: Option<String>,
}

/// Where the logs come from and where they go (spec §10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The local folder mirrored.
    pub source: PathBuf,
    /// Its place in the repository (`cron_log/mi30x/20251202`).
    pub dest: String,
    /// Hardware sub-folder used.
    pub hardware: String,
    /// Tree used.
    pub log_type: LogType,
    /// The last component of `dest` (commit message).
    pub folder: String,
}

/// Resolves the source folder and destination of `req` under the CI tree `ci_dir` (§10.2).
pub fn plan(req: &Request, ci_dir: &Path) -> Plan {
    let joined = |t: LogType, hw: &str, name: &str| -> (PathBuf, String) {
        match t {
            LogType::Sanity => (
                ci_dir.join("test/sanity_check_log").join(hw).join(name),
                format!("test/sanity_check_log/{hw}/{name}"),
            ),
            LogType::Cron => (
                ci_dir.join("cron/cron_log").join(hw).join(name),
                format!("cron_log/{hw}/{name}"),
            ),
        }
    };
    match req.folder.as_deref() {
        Some(f) if f.starts_with('/') => {
            let path = PathBuf::from(f.trim_end_matches('/'));
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (log_type, hw) = if let Some(hw) = component_after(f, "/cron_log/") {
                (LogType::Cron, hw)
            } else if let Some(hw) = component_after(f, "/sanity_check_log/") {
                (LogType::Sanity, hw)
            } else {
                (req.log_type, req.hardware.clone())
            };
            let hw = if hw.is_empty() {
                req.hardware.clone()
            } else {
                hw
            };
            let (_, dest) = joined(log_type, &hw, &name);
            Plan {
                source: path,
                dest,
                hardware: hw,
                log_type,
                folder: name,
            }
        }
        rel => {
            let name = rel.unwrap_or(&req.date).to_owned();
            let (source, dest) = joined(req.log_type, &req.hardware, &name);
            Plan {
                source,
                dest,
                hardware: req.hardware.clone(),
                log_type: req.log_type,
                folder: name,
            }
        }
    }
}

/// The path component after `marker` in `path`, when it is not the last one (then it is the
/// folder itself, not a hardware level): `Some("")` means "marker present, no hardware".
fn component_after(path: &str, marker: &str) -> Option<String> {
    let (_, rest) = path.split_once(marker)?;
    let mut parts = rest.split('/').filter(|p| !p.is_empty());
    let first = parts.next().unwrap_or_default();
    Some(if parts.next().is_some() {
        first.to_owned()
    } else {
        String::new()
    })
}

/// How to reach the log repository and where the working clone lives.
#[derive(Debug, Clone)]
pub struct Config {
    /// `GITHUB_REPO` (`owner/name`), shown in messages.
    pub repo: String,
    /// The remote URL: `https://github.com/<repo>.git`, or `SGLCI_LOG_REMOTE`.
    pub remote: String,
    /// `GITHUB_TOKEN` (empty: none).
    pub token: Option<String>,
    /// The working clone (`DATA_CLONE`).
    pub clone_dir: PathBuf,
    /// Time limit of each git command.
    pub git_timeout: Duration,
    /// How long to wait for another upload's lock.
    pub lock_wait: Duration,
    /// Push attempts in all (each after the first preceded by `git pull --rebase`).
    pub push_attempts: u32,
}

impl Config {
    /// The lock file: `<clone>.lock` beside the clone (it must exist before the clone does,
    /// and must not be part of the clone's tree).
    pub fn lock_path(&self) -> PathBuf {
        let mut p = self.clone_dir.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }
}

/// How an upload ended without error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The source folder does not exist: nothing done.
    NoSource,
    /// The repository already matched the folder (and nothing was left to push).
    NoChanges,
    /// A commit was pushed; `attempts` pushes were needed.
    Uploaded {
        /// Number of pushes (1 = no rejection).
        attempts: u32,
    },
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The lock could not be taken.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    /// A git command failed or timed out.
    #[error(transparent)]
    Git(#[from] GitError),
    /// Mirroring the folder into the clone failed.
    #[error(transparent)]
    Mirror(#[from] mirror::MirrorError),
    /// Every push was rejected.
    #[error("push to {repo} rejected {attempts} times (each after git pull --rebase): {last}")]
    Rejected {
        /// `GITHUB_REPO`.
        repo: String,
        /// Pushes tried.
        attempts: u32,
        /// The last push's error.
        last: GitError,
    },
    /// The clone's parent folder could not be created.
    #[error("cannot create {path}: {source}")]
    CloneDir {
        /// The folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl UploadError {
    /// The process exit status for this error: 1 a git command failed, timed out or every
    /// push was rejected; 2 a local file error (mirror, clone folder, lock file); 3 another
    /// upload held the lock for the whole wait.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Git(_) | Self::Rejected { .. } => 1,
            Self::Mirror(_) | Self::CloneDir { .. } | Self::Lock(lock::LockError::Io { .. }) => 2,
            Self::Lock(lock::LockError::Busy { .. }) => 3,
        }
    }
}

/// Runs one upload: skip when the source is missing; take the lock; clone or reuse the
/// working clone; sync it with `log`; mirror; commit with the original's message; push, and
/// on rejection `git pull --rebase` and push again, up to `cfg.push_attempts` pushes.
/// `say` receives each progress line (without newline). `now` is the local time stamp of
/// sanity commit messages (`YYYYMMDD_HHMM`).
pub fn upload(
    cfg: &Config,
    plan: &Plan,
    now: &str,
    say: &mut dyn FnMut(&str),
) -> Result<Outcome, UploadError> {
    if !plan.source.is_dir() {
        say(&format!(
            "{PREFIX} No logs found in {} – skipping upload.",
            plan.source.display()
        ));
        return Ok(Outcome::NoSource);
    }
    if let Some(parent) = cfg.clone_dir.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| UploadError::CloneDir {
            path: parent.to_owned(),
            source,
        })?;
    }
    let _lock = lock::acquire(&cfg.lock_path(), cfg.lock_wait, &mut |pid| {
        say(&format!(
            "{PREFIX} Waiting for the upload lock {} (held by PID {pid})…",
            cfg.lock_path().display()
        ))
    })?;
    say(&format!("{PREFIX} Lock acquired – proceeding with upload"));

    let token = cfg.token.as_deref();
    let git = Git::new(&cfg.clone_dir, cfg.git_timeout, token);
    if cfg.clone_dir.join(".git").exists() {
        say(&format!(
            "{PREFIX} Repository already cloned – re-using {}",
            cfg.clone_dir.display()
        ));
        // A clone made by the original script keeps the token in its remote URL (Q-UP-2):
        // point origin at the plain URL, which also follows a changed GITHUB_REPO.
        let url = git.output(&["remote", "get-url", "origin"])?;
        if url.code != Some(0) || url.stdout.trim() != cfg.remote {
            let verb = if url.code == Some(0) {
                "set-url"
            } else {
                "add"
            };
            git.ok(&["remote", verb, "origin", &cfg.remote])?;
        }
    } else {
        say(&format!("{PREFIX} Cloning data repository ({})…", cfg.repo));
        let dir = cfg.clone_dir.to_string_lossy();
        git.in_dir(Path::new("."))
            .ok(&["clone", "--quiet", &cfg.remote, &dir])?;
    }
    git.ok(&["fetch", "--quiet", "origin", BRANCH])?;
    // Leftovers of a run killed mid-way: an unfinished rebase, staged or modified files.
    if git.output(&["rebase", "--abort"])?.code == Some(0) {
        say(&format!("{PREFIX} Aborted a rebase left by an earlier run"));
    }
    git.ok(&["checkout", "-q", BRANCH])?;
    // The original ignored a failing pull; a conflicting one is undone, the push retries.
    if git
        .output(&[
            ID[0], ID[1], ID[2], ID[3], "pull", "--rebase", "--quiet", "origin", BRANCH,
        ])?
        .code
        != Some(0)
    {
        let _ = git.output(&["rebase", "--abort"])?;
    }

    let dest = cfg.clone_dir.join(&plan.dest);
    say(&format!(
        "{PREFIX} Uploading logs from: {}",
        plan.source.display()
    ));
    say(&format!("{PREFIX} Destination in repo: {}", plan.dest));
    mirror::mirror(&plan.source, &dest)?;
    git.ok(&["add", "--all", "--", &plan.dest])?;
    let staged = git.output(&["diff", "--cached", "--quiet", "--", &plan.dest])?;
    let changed = match staged.code {
        Some(0) => false,
        Some(1) => true,
        _ => {
            git.ok(&["diff", "--cached", "--quiet", "--", &plan.dest])?;
            false
        }
    };
    if changed {
        let msg = match plan.log_type {
            LogType::Sanity => format!(
                "Backup sanity logs for {} – {} ({now})",
                plan.hardware, plan.folder
            ),
            LogType::Cron => format!("Backup cron logs for {} – {}", plan.hardware, plan.folder),
        };
        git.ok(&[
            ID[0], ID[1], ID[2], ID[3], "commit", "--quiet", "-m", &msg, "--", &plan.dest,
        ])?;
    } else {
        // A commit an earlier run could not push is still pushed (the original left it).
        let ahead = git.ok(&["rev-list", "--count", &format!("origin/{BRANCH}..{BRANCH}")])?;
        if ahead.stdout.trim() == "0" {
            say(&format!("{PREFIX} No new log changes – nothing to commit."));
            return Ok(Outcome::NoChanges);
        }
        say(&format!(
            "{PREFIX} No new log changes; pushing {} earlier unpushed commit(s)",
            ahead.stdout.trim()
        ));
    }

    say(&format!(
        "{PREFIX} Pushing commit to remote ({})…",
        cfg.repo
    ));
    let attempts = cfg.push_attempts.max(1);
    let mut n = 1;
    loop {
        match git.ok(&["push", "--quiet", "origin", BRANCH]) {
            Ok(_) => break,
            Err(e) if n >= attempts => {
                return Err(UploadError::Rejected {
                    repo: cfg.repo.clone(),
                    attempts,
                    last: e,
                });
            }
            Err(e) => {
                n += 1;
                say(&format!(
                    "{PREFIX} Push rejected ({}) – pulling with rebase and retrying ({n}/{attempts})…",
                    short(&e)
                ));
                if let Err(e) = git.ok(&[
                    ID[0], ID[1], ID[2], ID[3], "pull", "--rebase", "--quiet", "origin", BRANCH,
                ]) {
                    let _ = git.output(&["rebase", "--abort"]);
                    return Err(e.into());
                }
            }
        }
    }
    say(&format!(
        "{PREFIX} ✅  Logs uploaded successfully: {}",
        plan.dest
    ));
    Ok(Outcome::Uploaded { attempts: n })
}

/// Git's reason in a few words (the first line of its message).
fn short(e: &GitError) -> String {
    match e {
        GitError::Failed { stderr, .. } => stderr.split(" | ").next().unwrap_or("").to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(date: &str, hw: &str, t: &str, folder: Option<&str>) -> Request {
        Request {
            date: date.into(),
            hardware: hw.into(),
            log_type: LogType::parse(t),
            folder: folder.map(Into::into),
        }
    }

    #[test]
    fn destinations_follow_spec_10_2() {
        let ci = Path::new("/ci");
        let cases = [
            (
                req("20251202", "mi30x", "cron", None),
                "/ci/cron/cron_log/mi30x/20251202",
                "cron_log/mi30x/20251202",
            ),
            (
                req("20251202", "mi30x", "other", None),
                "/ci/cron/cron_log/mi30x/20251202",
                "cron_log/mi30x/20251202",
            ),
            (
                req("tagA", "mi35x", "sanity", None),
                "/ci/test/sanity_check_log/mi35x/tagA",
                "test/sanity_check_log/mi35x/tagA",
            ),
            (
                req("x", "mi35x", "sanity", Some("tagB")),
                "/ci/test/sanity_check_log/mi35x/tagB",
                "test/sanity_check_log/mi35x/tagB",
            ),
            (
                req("x", "mi35x", "cron", Some("20251101")),
                "/ci/cron/cron_log/mi35x/20251101",
                "cron_log/mi35x/20251101",
            ),
            (
                req(
                    "x",
                    "unknown",
                    "sanity",
                    Some("/a/cron/cron_log/mi30x/20251020/"),
                ),
                "/a/cron/cron_log/mi30x/20251020",
                "cron_log/mi30x/20251020",
            ),
            (
                req(
                    "x",
                    "unknown",
                    "cron",
                    Some("/a/test/sanity_check_log/mi35x/tagC"),
                ),
                "/a/test/sanity_check_log/mi35x/tagC",
                "test/sanity_check_log/mi35x/tagC",
            ),
            (
                req("x", "mi30x", "sanity", Some("/tmp/mine")),
                "/tmp/mine",
                "test/sanity_check_log/mi30x/mine",
            ),
            (
                req("x", "mi30x", "cron", Some("/b/cron_log/20251020")),
                "/b/cron_log/20251020",
                "cron_log/mi30x/20251020",
            ),
        ];
        for (r, src, dest) in cases {
            let p = plan(&r, ci);
            assert_eq!(
                (p.source.to_str().unwrap(), p.dest.as_str()),
                (src, dest),
                "{r:?}"
            );
        }
    }
}
