//! Small facts about the machine and the process shared by the binaries: host name, where a
//! sibling program is installed (both `sglang_runner`'s, so every binary decides alike), the
//! signal handlers, running a helper program with a time limit, and a writer that tees.

use std::io::{self, Write};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

pub use sglang_runner::config::hostname;
pub use sglang_runner::engine::{find_on_path, find_program};
use sglang_runner::signals::Interrupt;

use crate::exit::Fatal;

/// Installs the SIGINT/SIGTERM handlers; failing that is fatal with exit status `code`.
pub fn install_interrupt(code: u8) -> Result<Interrupt, Fatal> {
    Interrupt::install()
        .map_err(|e| Fatal::new(code, format!("cannot install signal handlers: {e}")))
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
    use std::ffi::OsStr;

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
