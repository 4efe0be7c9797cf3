//! The real `git` program as a child process: every command has a time limit, never prompts,
//! and gets the credential only through its environment (`GIT_CONFIG_COUNT` /
//! `GIT_CONFIG_KEY_0=http.extraHeader`), so the token is in no argument, no config file and
//! no log line.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// Why a git command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` could not be started (not installed, not executable).
    #[error("cannot run git {args}: {source}")]
    Spawn {
        /// The arguments (no secrets: credentials never travel as arguments).
        args: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// It ran longer than its limit and was killed.
    #[error("git {args} did not finish within {secs} s (killed)")]
    Timeout {
        /// The arguments.
        args: String,
        /// The limit.
        secs: u64,
    },
    /// It exited non-zero; `stderr` is git's last lines, secrets masked.
    #[error("git {args} failed ({status}): {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// `exit status: 1` or the signal.
        status: String,
        /// The end of git's stderr (masked).
        stderr: String,
    },
}

/// What a finished git command printed.
#[derive(Debug)]
pub struct Output {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// stdout, secrets masked.
    pub stdout: String,
    /// stderr, secrets masked.
    pub stderr: String,
}

/// Runs git in one working directory with one time limit and an optional token.
#[derive(Debug, Clone)]
pub struct Git {
    program: PathBuf,
    dir: PathBuf,
    timeout: Duration,
    header: Option<String>,
}

impl Git {
    /// Git in `dir`; each command is killed after `timeout`. With a `token`, every command
    /// sends `Authorization: Basic base64(x-access-token:<token>)` to HTTP(S) remotes,
    /// configured through the child's environment only. The token and the header value are
    /// registered with [`report::redact`], so any git output relayed is masked.
    pub fn new(dir: &Path, timeout: Duration, token: Option<&str>) -> Self {
        let header = token.filter(|t| !t.is_empty()).map(|t| {
            report::redact::register_secret(t);
            let b64 =
                base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{t}"));
            report::redact::register_secret(&b64);
            format!("Authorization: Basic {b64}")
        });
        Self {
            program: PathBuf::from("git"),
            dir: dir.to_owned(),
            timeout,
            header,
        }
    }

    /// The same git in another directory.
    pub fn in_dir(&self, dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            ..self.clone()
        }
    }

    /// Runs `git <args>`; `Ok` whatever the exit code (see [`Git::ok`]), `Err` when git cannot
    /// be started or is killed at its limit.
    pub fn output(&self, args: &[&str]) -> Result<Output, GitError> {
        let shown = args.join(" ");
        let mut cmd = Command::new(&self.program);
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .env("LC_ALL", "C");
        // Our own configuration entries replace any the caller's environment carried.
        for k in ["GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"] {
            cmd.env_remove(k);
        }
        if let Some(h) = &self.header {
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", h);
        }
        let mut child = cmd.spawn().map_err(|source| GitError::Spawn {
            args: shown.clone(),
            source,
        })?;
        let out = child.stdout.take().map(drain);
        let err = child.stderr.take().map(drain);
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(GitError::Timeout {
                        args: shown,
                        secs: self.timeout.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(source) => {
                    return Err(GitError::Spawn {
                        args: shown,
                        source,
                    });
                }
            }
        };
        let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
            let bytes = h.and_then(|h| h.join().ok()).unwrap_or_default();
            report::redact::redact(&String::from_utf8_lossy(&bytes)).into_owned()
        };
        Ok(Output {
            code: status.code(),
            stdout: join(out),
            stderr: join(err),
        })
    }

    /// Runs `git <args>` and requires exit code 0.
    pub fn ok(&self, args: &[&str]) -> Result<Output, GitError> {
        let out = self.output(args)?;
        if out.code == Some(0) {
            return Ok(out);
        }
        Err(GitError::Failed {
            args: args.join(" "),
            status: out
                .code
                .map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}")),
            stderr: tail(&out.stderr),
        })
    }
}

/// Reads a pipe to its end on a thread (so a chatty child never blocks on a full pipe).
fn drain<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// The last non-empty lines of git's stderr on one line.
fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(4);
    let s = lines[start..].join(" | ");
    if s.is_empty() {
        "(no message)".to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_limit_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        // `git -c alias.s='!sleep 5' s` runs a shell alias that outlives a 300 ms limit.
        let git = Git::new(dir.path(), Duration::from_millis(300), None);
        let t = Instant::now();
        let err = git.ok(&["-c", "alias.s=!sleep 5", "s"]).unwrap_err();
        assert!(matches!(err, GitError::Timeout { .. }), "{err}");
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn failures_carry_gits_message() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path(), Duration::from_secs(10), None);
        let err = git.ok(&["rev-parse", "HEAD"]).unwrap_err().to_string();
        assert!(err.contains("not a git repository"), "{err}");
    }

    #[test]
    fn the_header_is_in_the_childs_environment_only() {
        let dir = tempfile::tempdir().unwrap();
        let token = "ghp_unit_test_token_value_123456";
        let git = Git::new(dir.path(), Duration::from_secs(10), Some(token));
        let out = git.ok(&["config", "--get", "http.extraHeader"]).unwrap();
        // git sees it (from GIT_CONFIG_*), and what it prints is masked.
        assert!(out.stdout.starts_with("Authorization: Basic "), "{out:?}");
        assert!(!out.stdout.contains("eC1hY2Nlc3MtdG9rZW46"), "{out:?}");
    }
}
