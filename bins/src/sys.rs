//! Small facts about the machine shared by the binaries: host name, where a sibling program
//! is installed, running a helper program with a time limit, and a writer that tees.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// The host name (`/proc/sys/kernel/hostname`, then `HOSTNAME`, then `localhost`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// Finds program `name`: first next to the running binary (an installed toolkit keeps its
/// binaries together), then on `PATH`. `None` when it is not installed.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(name)));
    if let Some(p) = sibling.filter(|p| is_executable(p)) {
        return Some(p);
    }
    find_on_path(name, std::env::var_os("PATH").as_deref())
}

/// `name` in the directories of `path`.
pub fn find_on_path(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs `cmd` (inheriting stdout/stderr) and waits at most `limit`; kills it after that.
/// `Ok(None)` means it was killed by the limit.
pub fn run_with_limit(cmd: &mut Command, limit: Duration) -> io::Result<Option<ExitStatus>> {
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes everything to two writers (the terminal and a log file, like `tee`).
pub struct Tee<A: Write, B: Write> {
    /// First writer (e.g. stdout).
    pub a: A,
    /// Second writer (e.g. the log file).
    pub b: B,
}

impl<A: Write, B: Write> Write for Tee<A, B> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.a.write_all(buf)?;
        self.b.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.a.flush()?;
        self.b.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tee_writes_both() {
        let mut t = Tee {
            a: Vec::new(),
            b: Vec::new(),
        };
        t.write_all(b"x\n").unwrap();
        assert_eq!(t.a, b"x\n");
        assert_eq!(t.b, b"x\n");
    }

    #[test]
    fn limit_kills_a_slow_program() {
        let t = Instant::now();
        let r = run_with_limit(Command::new("sleep").arg("5"), Duration::from_millis(200)).unwrap();
        assert!(r.is_none());
        assert!(t.elapsed() < Duration::from_secs(3));
        let ok = run_with_limit(&mut Command::new("true"), Duration::from_secs(5)).unwrap();
        assert!(ok.unwrap().success());
    }

    #[test]
    fn programs_on_path() {
        assert!(find_on_path("sh", Some(OsStr::new("/usr/bin:/bin"))).is_some());
        assert!(find_on_path("no-such-program-xyz", Some(OsStr::new("/usr/bin"))).is_none());
        assert!(!hostname().is_empty());
    }
}
