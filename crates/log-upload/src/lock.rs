//! The upload lock (spec nightly.md Q-UP-1): a file next to the working clone holding the
//! holder's PID, created exclusively so two uploads on one host never interleave. A second
//! upload waits for it; a file whose PID is gone (or now belongs to a program that is not an
//! upload) is stale and replaced. The file is removed when the [`UploadLock`] is dropped, only
//! if it still holds our PID — the protocol of the project's other locks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::kill;
use nix::unistd::Pid;

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be created, read or written.
    #[error("cannot {what} lock file {path}: {source}")]
    Io {
        /// `create`, `read`, `write`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Another live upload held it for longer than the wait.
    #[error(
        "lock file {path} is still held by PID {pid} after {secs} s; another upload is running \
         (remove the file only if that process is not an upload)"
    )]
    Busy {
        /// The file.
        path: PathBuf,
        /// The holder.
        pid: String,
        /// How long we waited.
        secs: u64,
    },
}

/// A held lock; removes its file when dropped.
#[derive(Debug)]
pub struct UploadLock {
    path: PathBuf,
    pid: u32,
}

impl Drop for UploadLock {
    fn drop(&mut self) {
        let ours =
            std::fs::read_to_string(&self.path).is_ok_and(|t| t.trim() == self.pid.to_string());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// True when `pid` names a live process that could be an upload: it exists and, when its
/// command line is readable, mentions `github-log-upload` or `github_log_upload` (the
/// original script), so a recycled PID does not hold the lock.
pub fn holder_alive(pid: &str) -> bool {
    let Ok(n) = pid.trim().parse::<i32>() else {
        return false;
    };
    if n <= 0 {
        return false;
    }
    match kill(Pid::from_raw(n), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => {}
        Err(_) => return false,
    }
    match std::fs::read(format!("/proc/{n}/cmdline")) {
        Ok(cmd) if !cmd.is_empty() => {
            let text = String::from_utf8_lossy(&cmd);
            text.contains("github-log-upload") || text.contains("github_log_upload")
        }
        _ => true,
    }
}

/// Takes the lock at `path`, waiting up to `wait` while a live upload holds it. `on_wait` is
/// called once with the holder's PID when we have to wait.
pub fn acquire(
    path: &Path,
    wait: Duration,
    on_wait: &mut dyn FnMut(&str),
) -> Result<UploadLock, LockError> {
    let me = std::process::id();
    let start = Instant::now();
    let mut told = false;
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut f) => {
                // The guard exists before the write, so a failed write removes the file.
                let lock = UploadLock {
                    path: path.to_owned(),
                    pid: me,
                };
                f.write_all(format!("{me}\n").as_bytes())
                    .map_err(|source| LockError::Io {
                        what: "write",
                        path: path.to_owned(),
                        source,
                    })?;
                return Ok(lock);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(LockError::Io {
                    what: "create",
                    path: path.to_owned(),
                    source,
                });
            }
        }
        let pid = match std::fs::read_to_string(path) {
            Ok(t) => t.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(LockError::Io {
                    what: "read",
                    path: path.to_owned(),
                    source,
                });
            }
        };
        // A holder that has created the file but not yet written its PID looks empty: give
        // it a moment before calling the file stale.
        let fresh = pid.is_empty()
            && std::fs::metadata(path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().unwrap_or_default() < Duration::from_secs(5));
        if !fresh && !holder_alive(&pid) {
            // Stale: remove it and try again (create_new decides between racing takers).
            let _ = std::fs::remove_file(path);
            continue;
        }
        if start.elapsed() >= wait {
            return Err(LockError::Busy {
                path: path.to_owned(),
                pid,
                secs: wait.as_secs(),
            });
        }
        if !told {
            on_wait(&pid);
            told = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_file_is_replaced_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        std::fs::write(&path, "999999999\n").unwrap();
        let lock = acquire(&path, Duration::from_secs(1), &mut |_| {}).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        drop(lock);
        assert!(!path.exists());
    }

    #[test]
    fn a_live_holder_makes_us_wait_then_give_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        // A live process whose command line says it is an upload.
        let mut holder = std::process::Command::new("bash")
            .args(["-c", "sleep 5; true", "github-log-upload"])
            .spawn()
            .unwrap();
        std::fs::write(&path, format!("{}\n", holder.id())).unwrap();
        let mut waited = Vec::new();
        let err = acquire(&path, Duration::from_millis(500), &mut |p| {
            waited.push(p.to_owned())
        })
        .unwrap_err();
        let _ = holder.kill();
        let _ = holder.wait();
        assert!(matches!(err, LockError::Busy { .. }), "{err}");
        assert_eq!(waited, vec![holder.id().to_string()]);
        // The holder's file is left alone.
        assert!(path.exists());
    }
}
