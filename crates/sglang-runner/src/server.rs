//! The server's lifecycle: launch with its log file, readiness, liveness while clients run,
//! shutdown that leaves no process and a free port, and the server-log error scan.
//!
//! Readiness polls every 5 ms at first, backing off to [`MAX_POLL`] (200 ms): the HTTP
//! endpoint (`GET http://127.0.0.1:<port>/get_model_info` by default) must answer 200 and,
//! for Grok, the log must also hold `The server is fired up and ready to roll!` (the
//! original's only rule). The process is checked at every poll, so a server that exits
//! fails the wait at once instead of after the full timeout (fix F-10).

use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use metrics_parse::server_log::{self, ErrorScan};

use crate::command::CommandSpec;
use crate::error::RunnerError;
use crate::exec::{Executor, ExitInfo, ServerProcess, Stopped};
use crate::signals::{Interrupt, Interrupted};

/// The longest interval between two readiness polls.
pub const MAX_POLL: Duration = Duration::from_millis(200);

/// What "ready" means for a server.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// `GET` this URL must answer 200.
    pub url: String,
    /// The log must contain this line (Grok).
    pub log_line: Option<&'static str>,
    /// Give up after this long.
    pub timeout: Duration,
    /// Longest interval between polls (at most [`MAX_POLL`]).
    pub max_interval: Duration,
}

/// Why a server did not become ready.
#[derive(Debug, Clone, PartialEq)]
pub enum StartFailure {
    /// The process exited first.
    Exited(ExitInfo),
    /// Not ready within the timeout.
    TimedOut(Duration),
    /// SIGINT/SIGTERM while waiting.
    Interrupted(Interrupted),
    /// The process could not be polled.
    Poll(String),
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exited(e) => write!(f, "the server process exited ({e}) before it was ready"),
            Self::TimedOut(t) => write!(f, "not ready within {} seconds", t.as_secs()),
            Self::Interrupted(i) => write!(f, "interrupted by {}", i.name()),
            Self::Poll(m) => f.write_str(m),
        }
    }
}

/// A running server.
pub struct Server {
    proc: Box<dyn ServerProcess>,
    log: PathBuf,
    port: u16,
}

/// One HTTP agent for health checks and probes: a global timeout, statuses as values.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// `GET url` answered 200 within `timeout`.
pub fn http_ok(url: &str, timeout: Duration) -> bool {
    agent(timeout)
        .get(url)
        .call()
        .is_ok_and(|r| r.status().as_u16() == 200)
}

/// `POST url` with an empty body; errors are ignored (the original's `curl … || true`).
/// True when it answered 2xx.
pub fn http_post_ok(url: &str, timeout: Duration) -> bool {
    agent(timeout)
        .post(url)
        .send_empty()
        .is_ok_and(|r| r.status().is_success())
}

/// Something accepts TCP connections on `127.0.0.1:port`.
pub fn port_in_use(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// The process listening on TCP `port`, as `pid N (command line)`, where `/proc` shows it
/// (processes of other users are visible only to root; inside a container only its own).
pub fn port_holder(port: u16) -> Option<String> {
    let inode = ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|f| {
        let text = std::fs::read_to_string(f).ok()?;
        text.lines().skip(1).find_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let local_port = cols.get(1)?.rsplit(':').next()?;
            let listening = cols.get(3) == Some(&"0A");
            (listening && u16::from_str_radix(local_port, 16).ok() == Some(port))
                .then(|| cols.get(9).map(|s| (*s).to_owned()))
                .flatten()
        })
    })?;
    let target = format!("socket:[{inode}]");
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == target.as_str())
        });
        if holds {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd: Vec<String> = cmd
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let shown = report::redact::escape_controls(&report::redact::redact(&cmd.join(" ")))
                .into_owned();
            return Some(format!("pid {pid} ({shown})"));
        }
    }
    None
}

impl Server {
    /// Starts `cmd` with stdout and stderr to `log` (truncated unless `append`).
    pub fn launch(
        exec: &dyn Executor,
        cmd: &CommandSpec,
        log: &Path,
        append: bool,
        port: u16,
    ) -> Result<Self, RunnerError> {
        // A port held by something else (a server left behind, another service) would make
        // the new server exit at once with the reason only in its log: say it here.
        if port_in_use(port) {
            return Err(crate::exec::ExecError::PortInUse {
                port,
                holder: port_holder(port).unwrap_or_else(|| "another process".to_owned()),
            }
            .into());
        }
        let proc = exec.spawn(cmd, log, append)?;
        Ok(Self {
            proc,
            log: log.to_owned(),
            port,
        })
    }

    /// The process id (on this machine).
    pub fn pid(&self) -> Option<u32> {
        self.proc.pid()
    }

    /// The server log.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(exit)` once the process has exited (a failed poll counts as still running).
    pub fn exited(&mut self) -> Option<ExitInfo> {
        self.proc.try_wait().ok().flatten()
    }

    /// Waits until ready; `progress` is called about every 10 s with the time waited.
    pub fn wait_ready(
        &mut self,
        r: &Readiness,
        interrupt: &Interrupt,
        progress: &mut dyn FnMut(Duration),
    ) -> Result<Duration, StartFailure> {
        let start = Instant::now();
        let mut interval = Duration::from_millis(5);
        let max = r.max_interval.min(MAX_POLL);
        let mut next_progress = Duration::from_secs(10);
        let mut line_seen = r.log_line.is_none();
        let mut scanner = LogScanner::default();
        loop {
            interrupt.check().map_err(StartFailure::Interrupted)?;
            match self.proc.try_wait() {
                Ok(Some(e)) => return Err(StartFailure::Exited(e)),
                Ok(None) => {}
                Err(e) => return Err(StartFailure::Poll(e.to_string())),
            }
            if let Some(line) = r.log_line.filter(|_| !line_seen) {
                line_seen = scanner.contains(&self.log, line);
            }
            if line_seen && http_ok(&r.url, Duration::from_secs(2)) {
                return Ok(start.elapsed());
            }
            let waited = start.elapsed();
            if waited >= r.timeout {
                return Err(StartFailure::TimedOut(r.timeout));
            }
            if waited >= next_progress {
                progress(waited);
                next_progress += Duration::from_secs(10);
            }
            std::thread::sleep(interval.min(r.timeout - waited));
            interval = (interval * 2).min(max);
        }
    }

    /// Stops the server and its process group (SIGTERM, `grace`, SIGKILL), then waits up to
    /// `port_wait` for the port to be free. Returns what stopping found and whether the port
    /// is free.
    pub fn shutdown(
        &mut self,
        grace: Duration,
        port_wait: Duration,
    ) -> Result<(Stopped, bool), RunnerError> {
        let stopped = self.proc.terminate(grace)?;
        let end = Instant::now() + port_wait;
        let mut free = !port_in_use(self.port);
        while !free && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
            free = !port_in_use(self.port);
        }
        Ok((stopped, free))
    }

    /// The `Server Error Check` of the server log (missing log: nothing found).
    pub fn error_scan(&self) -> ErrorScan {
        std::fs::read(&self.log)
            .map_or_else(|_| ErrorScan::default(), |d| server_log::error_scan(&d))
    }

    /// The last `n` lines of the server log.
    pub fn log_tail(&self, n: usize) -> Vec<String> {
        tail_lines(&self.log, n)
    }
}

/// The last `n` lines of a file (lossy UTF-8; missing file: none).
pub fn tail_lines(path: &Path, n: usize) -> Vec<String> {
    let Ok(data) = std::fs::read(path) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&data);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

/// Reads a growing log incrementally, looking for a line.
#[derive(Default)]
struct LogScanner {
    offset: u64,
    carry: Vec<u8>,
}

impl LogScanner {
    fn contains(&mut self, path: &Path, needle: &str) -> bool {
        let Ok(mut f) = std::fs::File::open(path) else {
            return false;
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return false;
        }
        let mut buf = std::mem::take(&mut self.carry);
        let before = buf.len();
        if f.read_to_end(&mut buf).is_err() {
            return false;
        }
        self.offset += (buf.len() - before) as u64;
        let found = memfind(&buf, needle.as_bytes());
        let keep = needle.len().min(buf.len());
        self.carry = buf[buf.len() - keep..].to_vec();
        found
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::LocalExecutor;
    use std::io::Write;
    use std::net::TcpListener;

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn a_server_that_exits_fails_fast_not_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let cmd = CommandSpec::new("sh").args(["-c", "echo ImportError: boom; exit 1"]);
        let port = free_port();
        let mut s = Server::launch(&LocalExecutor::default(), &cmd, &log, false, port).unwrap();
        let t = Instant::now();
        let r = Readiness {
            url: format!("http://127.0.0.1:{port}/get_model_info"),
            log_line: Some(server_log::READY_LINE),
            timeout: Duration::from_secs(600),
            max_interval: MAX_POLL,
        };
        let e = s
            .wait_ready(&r, &Interrupt::new(), &mut |_| {})
            .unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(
            e,
            StartFailure::Exited(ExitInfo {
                code: Some(1),
                signal: None
            })
        );
        assert_eq!(s.log_tail(5), ["ImportError: boom"]);
    }

    #[test]
    fn readiness_times_out_and_interrupt_stops_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let cmd = CommandSpec::new("sleep").arg("30");
        let port = free_port();
        let mut s = Server::launch(&LocalExecutor::default(), &cmd, &log, false, port).unwrap();
        let r = Readiness {
            url: format!("http://127.0.0.1:{port}/get_model_info"),
            log_line: None,
            timeout: Duration::from_millis(300),
            max_interval: MAX_POLL,
        };
        let e = s
            .wait_ready(&r, &Interrupt::new(), &mut |_| {})
            .unwrap_err();
        assert!(matches!(e, StartFailure::TimedOut(_)));
        let i = Interrupt::new();
        i.trigger(2);
        let e = s.wait_ready(&r, &i, &mut |_| {}).unwrap_err();
        assert_eq!(e, StartFailure::Interrupted(Interrupted { signal: 2 }));
        let (stopped, free) = s
            .shutdown(Duration::from_secs(5), Duration::from_secs(1))
            .unwrap();
        assert!(stopped.was_running && free);
        assert!(s.exited().is_some());
    }

    #[test]
    fn log_line_is_found_across_reads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut f = std::fs::File::create(&p).unwrap();
        let mut sc = LogScanner::default();
        write!(f, "[2025-12-03 05:47:32] The server is fired up").unwrap();
        assert!(!sc.contains(&p, server_log::READY_LINE));
        writeln!(f, " and ready to roll!").unwrap();
        assert!(sc.contains(&p, server_log::READY_LINE));
    }

    #[test]
    fn port_check() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(port_in_use(port));
        drop(l);
        assert!(!port_in_use(port));
    }

    #[test]
    fn a_busy_port_is_one_error_naming_the_port_and_its_holder() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let cmd = CommandSpec::new("sleep").arg("30");
        let err = Server::launch(
            &LocalExecutor::default(),
            &cmd,
            &dir.path().join("server.log"),
            false,
            port,
        )
        .err()
        .expect("a busy port is an error");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!(
                "port {port} on 127.0.0.1 is already in use by pid {}",
                std::process::id()
            )),
            "{msg}"
        );
        assert!(
            !dir.path().join("server.log").exists(),
            "nothing was started"
        );
    }
}
