//! The per-model process lock (spec benchmarks.md §8.6, quirk K-17): a file holding the
//! orchestrator's PID. A live holder makes a second run exit 1 without touching anything; a
//! file whose PID is gone (or now belongs to a program that is not an orchestrator) is stale
//! and replaced. The file is created exclusively, so two runs starting at once cannot both
//! win; it is removed when the [`Lock`] is dropped, only if it still holds our PID. The
//! protocol is the original's, so the shell toolkit and this binary exclude each other.

use std::io::Write;
use std::path::{Path, PathBuf};

use nix::sys::signal::kill;
use nix::unistd::Pid;

/// What taking the lock found.
#[derive(Debug)]
pub enum Acquired {
    /// The lock is ours; `stale` names the PID of a stale file that was replaced.
    Taken {
        /// The lock.
        lock: Lock,
        /// A stale holder that was replaced.
        stale: Option<String>,
    },
    /// Another live process holds it.
    Held {
        /// Its PID as written in the file.
        pid: String,
    },
}

/// Why the lock file could not be handled.
#[derive(Debug, thiserror::Error)]
#[error("cannot {what} lock file {path}: {source}")]
pub struct LockError {
    /// `create`, `read`, `remove`.
    pub what: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: std::io::Error,
}

/// A held lock; removes its file when dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    pid: u32,
}

impl Lock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file now (also done on drop).
    pub fn release(self) {
        drop(self);
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let ours =
            std::fs::read_to_string(&self.path).is_ok_and(|t| t.trim() == self.pid.to_string());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// True when `pid` names a live process that could be an orchestrator: it exists (signal 0
/// succeeds or is refused) and, when its command line is readable, mentions `perf-nightly`
/// or `perf_nightly` (a recycled PID of an unrelated program does not hold the lock).
pub fn holder_alive(pid: &str) -> bool {
    holder_alive_for(pid, PERF_NIGHTLY)
}

/// The programs whose live process holds perf-nightly's lock.
pub const PERF_NIGHTLY: &[&str] = &["perf-nightly", "perf_nightly"];

/// [`holder_alive`] for a lock of other programs: the command line must mention one of
/// `programs` (test-nightly's lock: `test-nightly`, `test_nightly`).
pub fn holder_alive_for(pid: &str, programs: &[&str]) -> bool {
    let Ok(n) = pid.trim().parse::<i32>() else {
        return false;
    };
    if n <= 0 {
        return false;
    }
    let exists = match kill(Pid::from_raw(n), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    };
    if !exists {
        return false;
    }
    match std::fs::read(format!("/proc/{n}/cmdline")) {
        Ok(cmd) if !cmd.is_empty() => {
            let text = String::from_utf8_lossy(&cmd);
            programs.iter().any(|p| text.contains(p))
        }
        // Not readable (or a zombie): trust the PID, as the original did.
        _ => true,
    }
}

/// Takes the lock at `path` for this process.
pub fn acquire(path: &Path) -> Result<Acquired, LockError> {
    acquire_for(path, PERF_NIGHTLY)
}

/// [`acquire`] for a lock of other programs (see [`holder_alive_for`]).
pub fn acquire_for(path: &Path, programs: &[&str]) -> Result<Acquired, LockError> {
    let me = std::process::id();
    let mut stale = None;
    for _ in 0..3 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut f) => {
                f.write_all(format!("{me}\n").as_bytes())
                    .map_err(|source| LockError {
                        what: "write",
                        path: path.to_owned(),
                        source,
                    })?;
                return Ok(Acquired::Taken {
                    lock: Lock {
                        path: path.to_owned(),
                        pid: me,
                    },
                    stale,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let pid = match std::fs::read_to_string(path) {
                    Ok(t) => t.trim().to_owned(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(LockError {
                            what: "read",
                            path: path.to_owned(),
                            source,
                        });
                    }
                };
                if holder_alive_for(&pid, programs) {
                    return Ok(Acquired::Held { pid });
                }
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(LockError {
                            what: "remove stale",
                            path: path.to_owned(),
                            source,
                        });
                    }
                }
                stale = Some(pid);
            }
            Err(source) => {
                return Err(LockError {
                    what: "create",
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
    Err(LockError {
        what: "create",
        path: path.to_owned(),
        source: std::io::Error::other("another process keeps re-creating it"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_hold_release() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("perf_nightly_grok.lock");
        let Acquired::Taken { lock, stale } = acquire(&p).unwrap() else {
            panic!("expected to take a free lock");
        };
        assert_eq!(stale, None);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{}\n", std::process::id())
        );
        lock.release();
        assert!(!p.exists());
    }

    #[test]
    fn stale_and_recycled_pids_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.lock");
        // A PID that cannot exist.
        std::fs::write(&p, "2147483646\n").unwrap();
        let Acquired::Taken { lock, stale } = acquire(&p).unwrap() else {
            panic!("stale lock not replaced");
        };
        assert_eq!(stale.as_deref(), Some("2147483646"));
        drop(lock);
        // A live process that is not an orchestrator (this test binary).
        std::fs::write(&p, format!("{}\n", std::process::id())).unwrap();
        assert!(!holder_alive(&std::process::id().to_string()));
        assert!(matches!(acquire(&p).unwrap(), Acquired::Taken { .. }));
        assert!(!holder_alive("garbage"));
    }

    #[test]
    fn a_live_orchestrator_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        // A live process whose command line mentions perf_nightly.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30; true", "perf_nightly.sh"])
            .spawn()
            .unwrap();
        let p = dir.path().join("l.lock");
        std::fs::write(&p, format!("{}\n", child.id())).unwrap();
        let r = acquire(&p).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        match r {
            Acquired::Held { pid } => assert_eq!(pid, child.id().to_string()),
            other => panic!("expected Held, got {other:?}"),
        }
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{}\n", child.id()),
            "a refused run touches nothing"
        );
    }
}
