//! Executors: where a command of a plan runs. [`LocalExecutor`] spawns processes on this
//! machine (inside the benchmark container, or anywhere for the simulated engine);
//! [`crate::exec_docker::DockerExecutor`] runs them in the benchmark container through
//! docker-ctl's exec. Both implement the object-safe [`Executor`] trait. Paths are the same
//! inside and outside a container (bind mounts are `P:P`), so a plan never translates paths.
//!
//! Every process runs in its own process group: stopping it signals the whole group
//! (SIGTERM, then SIGKILL after a grace period), so a server's worker processes never
//! outlive it, and a Ctrl-C in the terminal reaches only the runner, which then stops its
//! children in order.
//!
//! Every local process also dies with its parent (issue 12): a runner killed with SIGKILL
//! cannot stop its children, so each child is started through util-linux `setpriv
//! --pdeathsig TERM`, which sets the kernel's parent-death signal and then execs the program
//! (same pid, same process group). This needs no `unsafe` `pre_exec` here. Where `setpriv` is
//! missing, or `SGLCI_NO_PDEATHSIG=1`, children start directly (the old behaviour).
//!
//! The kernel sends the parent-death signal only if the parent dies *after* it was set: a
//! runner killed between `fork` and setpriv's `prctl` (a window of a few milliseconds, hit
//! when the kill lands while a client is being started) would leave that child running. So
//! setpriv execs [`PARENT_GUARD`] through `/bin/sh` first, which checks that its parent is
//! still the runner (`$PPID`) and only then execs the program; an orphan exits 143 at once.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::Serialize;
use thiserror::Error;

use crate::command::CommandSpec;

/// How often a running command's stop condition (signals, server alive) is checked.
pub const TICK: Duration = Duration::from_millis(50);

/// Why an executor could not start or wait for a process.
#[derive(Debug, Error)]
pub enum ExecError {
    /// The program could not be started.
    #[error("cannot start `{program}`: {source} (is it installed and on PATH?)")]
    Spawn {
        /// Program.
        program: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A log file could not be opened.
    #[error("cannot open log file {path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for or signalling the process failed.
    #[error("cannot wait for `{program}`: {source}")]
    Wait {
        /// Program.
        program: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The server's port is taken before the server starts.
    #[error(
        "port {port} on 127.0.0.1 is already in use by {holder}; stop it or choose another --port"
    )]
    PortInUse {
        /// The port.
        port: u16,
        /// `pid 123 (sglang-sim launch-server ...)` where /proc shows it, else `another process`.
        holder: String,
    },
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExitInfo {
    /// Exit status, when it exited.
    pub code: Option<i32>,
    /// Signal number, when a signal ended it.
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// From a std exit status.
    pub fn from_status(s: ExitStatus) -> Self {
        Self {
            code: s.code(),
            signal: s.signal(),
        }
    }

    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(c), _) => write!(f, "exit status {c}"),
            (None, Some(s)) => {
                let name = Signal::try_from(s).map_or_else(|_| format!("{s}"), |s| s.to_string());
                write!(f, "killed by signal {name}")
            }
            (None, None) => f.write_str("unknown exit status"),
        }
    }
}

/// How a command run by [`Executor::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// It exited by itself.
    Exited(ExitInfo),
    /// It ran past its time limit and was stopped.
    TimedOut,
    /// The caller's stop condition fired and it was stopped.
    Stopped,
}

/// What stopping a long-running process found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// How it ended (`None` when that could not be observed).
    pub exit: Option<ExitInfo>,
    /// It was still running when asked to stop (false: it had already exited).
    pub was_running: bool,
    /// It ignored SIGTERM for the grace period and was killed.
    pub forced: bool,
}

/// A long-running process (the server) started by [`Executor::spawn`].
pub trait ServerProcess: Send {
    /// Its process id, when it has one on this machine.
    fn pid(&self) -> Option<u32>;
    /// `Some` once it has exited.
    fn try_wait(&mut self) -> Result<Option<ExitInfo>, ExecError>;
    /// Stops it and its process group: SIGTERM, up to `grace`, then SIGKILL. Stopping a
    /// process that already exited is not an error (quirk F-12).
    fn terminate(&mut self, grace: Duration) -> Result<Stopped, ExecError>;
}

/// Where and how commands run.
pub trait Executor {
    /// `local` or `docker`.
    fn name(&self) -> &'static str;
    /// Starts a long-running process with stdout and stderr going to `log` (truncated unless
    /// `append`).
    fn spawn(
        &self,
        cmd: &CommandSpec,
        log: &Path,
        append: bool,
    ) -> Result<Box<dyn ServerProcess>, ExecError>;
    /// Runs a command to completion, handing its combined stdout and stderr to `out` as it
    /// arrives. `stop` is polled every [`TICK`]; when it returns true, or after `timeout`, the
    /// command's process group is stopped.
    fn run(
        &self,
        cmd: &CommandSpec,
        out: &mut dyn FnMut(&[u8]),
        timeout: Option<Duration>,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<RunEnd, ExecError>;
}

/// Runs commands as child processes of this one.
#[derive(Debug, Clone)]
pub struct LocalExecutor {
    /// How long a stopped process may take to exit after SIGTERM before SIGKILL.
    pub grace: Duration,
}

impl Default for LocalExecutor {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(10),
        }
    }
}

/// The end a running command's stop condition (polled now) or its time limit calls for.
pub(crate) fn due_end(
    stop: &mut dyn FnMut() -> bool,
    timeout: Option<Duration>,
    start: Instant,
) -> Option<RunEnd> {
    if stop() {
        Some(RunEnd::Stopped)
    } else if timeout.is_some_and(|t| start.elapsed() >= t) {
        Some(RunEnd::TimedOut)
    } else {
        None
    }
}

/// Hands `out` what a stopped command wrote before it stopped (it still belongs in the log),
/// waiting at most 500 ms for it.
pub(crate) fn drain(rx: &mpsc::Receiver<Vec<u8>>, out: &mut dyn FnMut(&[u8])) {
    let until = Instant::now() + Duration::from_millis(500);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(chunk) => out(&chunk),
            Err(_) => break,
        }
    }
}

/// `setpriv` of util-linux, when installed (looked up once).
fn setpriv() -> Option<&'static Path> {
    static SETPRIV: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    SETPRIV
        .get_or_init(|| {
            if std::env::var("SGLCI_NO_PDEATHSIG").is_ok_and(|v| v == "1") {
                return None;
            }
            find_on_path("setpriv")
        })
        .as_deref()
}

/// The `sh -c` script between setpriv and the program: `$1` is the runner's pid, the rest
/// the program and its arguments. The parent-death signal is already set when it runs, so
/// either the parent is still the runner (and its death will signal the program) or it is
/// gone, and nothing is started.
pub const PARENT_GUARD: &str = r#"[ "$PPID" = "$1" ] || exit 143; shift; exec "$@""#;

/// `/bin/sh`, when there is one (a `FROM scratch` image has none: no guard there).
fn shell() -> Option<&'static Path> {
    let sh = Path::new("/bin/sh");
    crate::engine::is_executable(sh).then_some(sh)
}

/// Appends `sh -c PARENT_GUARD sglang-ci-parent-guard <parent pid>` to `c` (the program and
/// its arguments follow).
fn guard_args(c: &mut Command, sh: &Path, parent: u32) {
    c.arg(sh)
        .args(["-c", PARENT_GUARD, "sglang-ci-parent-guard"])
        .arg(parent.to_string());
}

/// `program` as `execvp` would find it: a path containing `/` as is (when it is a file),
/// else the first executable file of that name on `PATH`.
fn find_on_path(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return crate::engine::is_executable(&p).then_some(p);
    }
    crate::engine::find_on_path(program, std::env::var_os("PATH").as_deref())
}

fn base_command(cmd: &CommandSpec) -> Command {
    // With the command's own PATH, if it sets one, the lookup would differ: start those
    // directly. A program that cannot be found is started directly too, so the spawn error
    // names it as before.
    // A relative path (`./x`) is resolved against the command's working directory: also
    // started directly.
    let own_path = cmd.env.iter().any(|(k, _)| k == "PATH");
    let relative = cmd.program.contains('/') && Path::new(&cmd.program).is_relative();
    let wrapped = setpriv()
        .filter(|_| !own_path && !relative)
        .zip(find_on_path(&cmd.program));
    let mut c = match wrapped {
        Some((setpriv, program)) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "TERM", "--"]);
            if let Some(sh) = shell() {
                guard_args(&mut c, sh, std::process::id());
            }
            c.arg(program);
            c
        }
        None => Command::new(&cmd.program),
    };
    c.args(&cmd.args)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .process_group(0);
    if let Some(d) = &cmd.cwd {
        c.current_dir(d);
    }
    c
}

fn group_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX))
}

/// SIGTERM to the group, wait up to `grace`, SIGKILL, reap. Returns (exit, forced).
fn stop_group(
    child: &mut Child,
    grace: Duration,
    program: &str,
) -> Result<(ExitInfo, bool), ExecError> {
    let pg = group_of(child);
    let wait_err = |source| ExecError::Wait {
        program: program.to_owned(),
        source,
    };
    let _ = killpg(pg, Signal::SIGTERM);
    let end = Instant::now() + grace;
    let mut sleep = Duration::from_millis(1);
    loop {
        if let Some(s) = child.try_wait().map_err(wait_err)? {
            // Stragglers of the group (workers that ignored SIGTERM) go too.
            let _ = killpg(pg, Signal::SIGKILL);
            return Ok((ExitInfo::from_status(s), false));
        }
        if Instant::now() >= end {
            break;
        }
        std::thread::sleep(sleep);
        sleep = (sleep * 2).min(Duration::from_millis(50));
    }
    let _ = killpg(pg, Signal::SIGKILL);
    let s = child.wait().map_err(wait_err)?;
    Ok((ExitInfo::from_status(s), true))
}

struct LocalProcess {
    child: Child,
    program: String,
    exited: Option<ExitInfo>,
}

impl ServerProcess for LocalProcess {
    fn pid(&self) -> Option<u32> {
        Some(self.child.id())
    }

    fn try_wait(&mut self) -> Result<Option<ExitInfo>, ExecError> {
        if self.exited.is_none() {
            self.exited = self
                .child
                .try_wait()
                .map_err(|source| ExecError::Wait {
                    program: self.program.clone(),
                    source,
                })?
                .map(ExitInfo::from_status);
        }
        Ok(self.exited)
    }

    fn terminate(&mut self, grace: Duration) -> Result<Stopped, ExecError> {
        if let Some(e) = self.try_wait()? {
            // The leader is gone; make sure its group is too.
            let _ = killpg(group_of(&self.child), Signal::SIGKILL);
            return Ok(Stopped {
                exit: Some(e),
                was_running: false,
                forced: false,
            });
        }
        let (exit, forced) = stop_group(&mut self.child, grace, &self.program)?;
        self.exited = Some(exit);
        Ok(Stopped {
            exit: Some(exit),
            was_running: true,
            forced,
        })
    }
}

impl Drop for LocalProcess {
    fn drop(&mut self) {
        // Never leave a server behind, whatever path dropped the handle.
        if self.exited.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = stop_group(&mut self.child, Duration::from_secs(2), &self.program);
        }
    }
}

impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn spawn(
        &self,
        cmd: &CommandSpec,
        log: &Path,
        append: bool,
    ) -> Result<Box<dyn ServerProcess>, ExecError> {
        let log_err = |source| ExecError::Log {
            path: log.to_owned(),
            source,
        };
        let file: File = OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .truncate(!append)
            .open(log)
            .map_err(log_err)?;
        let err_file = file.try_clone().map_err(log_err)?;
        let child = {
            let mut c = base_command(cmd);
            c.stdout(file).stderr(err_file);
            c.spawn().map_err(|source| ExecError::Spawn {
                program: cmd.program.clone(),
                source,
            })?
        };
        Ok(Box::new(LocalProcess {
            child,
            program: cmd.program.clone(),
            exited: None,
        }))
    }

    fn run(
        &self,
        cmd: &CommandSpec,
        out: &mut dyn FnMut(&[u8]),
        timeout: Option<Duration>,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<RunEnd, ExecError> {
        let spawn_err = |source| ExecError::Spawn {
            program: cmd.program.clone(),
            source,
        };
        let (mut reader, writer) = std::io::pipe().map_err(spawn_err)?;
        let mut child = {
            let mut c = base_command(cmd);
            c.stdout(writer.try_clone().map_err(spawn_err)?)
                .stderr(writer);
            c.spawn().map_err(spawn_err)?
            // `c` (holding our copies of the pipe's write end) is dropped here, so the reader
            // sees end-of-file when the command and its children close theirs.
        };
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let start = Instant::now();
        let wait_err = |source| ExecError::Wait {
            program: cmd.program.clone(),
            source,
        };
        let mut eof = false;
        let mut idle = Duration::from_micros(200);
        loop {
            if !eof {
                match rx.recv_timeout(TICK) {
                    Ok(chunk) => out(&chunk),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => eof = true,
                }
            }
            if eof {
                if let Some(s) = child.try_wait().map_err(wait_err)? {
                    return Ok(RunEnd::Exited(ExitInfo::from_status(s)));
                }
                // Output closed but the process lingers: poll its exit.
                std::thread::sleep(idle);
                idle = (idle * 2).min(TICK);
            }
            if let Some(end) = due_end(stop, timeout, start) {
                stop_group(&mut child, self.grace, &cmd.program)?;
                drain(&rx, out);
                return Ok(end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> CommandSpec {
        CommandSpec::new("sh").args(["-c", script])
    }

    /// The guard starts the program when its parent is the expected one and exits 143
    /// without starting it when the parent is another process (the runner died before the
    /// parent-death signal was set).
    #[test]
    fn the_parent_guard_starts_nothing_for_an_orphan() {
        let Some(sh) = shell() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        for (parent, code, started) in [(std::process::id(), 0, true), (1, 143, false)] {
            let marker = dir.path().join(format!("started-{parent}"));
            // `env` execs the guard as setpriv does: its parent is this test process.
            let mut c = Command::new("env");
            guard_args(&mut c, sh, parent);
            c.args(["touch", "--"]).arg(&marker);
            let status = c.status().unwrap();
            assert_eq!(status.code(), Some(code), "parent {parent}");
            assert_eq!(marker.exists(), started, "parent {parent}");
        }
    }

    #[test]
    fn run_captures_stdout_and_stderr_in_order_and_the_status() {
        let mut got = Vec::new();
        let end = LocalExecutor::default()
            .run(
                &sh("echo one; echo two >&2; echo three; exit 3"),
                &mut |b| got.extend_from_slice(b),
                Some(Duration::from_secs(10)),
                &mut || false,
            )
            .unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), "one\ntwo\nthree\n");
        assert_eq!(
            end,
            RunEnd::Exited(ExitInfo {
                code: Some(3),
                signal: None
            })
        );
    }

    #[test]
    fn env_and_cwd_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let mut got = Vec::new();
        LocalExecutor::default()
            .run(
                &sh("echo $X; pwd").env("X", "42").cwd(dir.path()),
                &mut |b| got.extend_from_slice(b),
                None,
                &mut || false,
            )
            .unwrap();
        let text = String::from_utf8(got).unwrap();
        assert!(text.starts_with("42\n"), "{text}");
        assert!(
            text.trim_end()
                .ends_with(dir.path().file_name().unwrap().to_str().unwrap())
        );
    }

    #[test]
    fn timeout_stops_the_whole_group_including_grandchildren() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let ex = LocalExecutor {
            grace: Duration::from_secs(2),
        };
        let t = Instant::now();
        let end = ex
            .run(
                &sh(&script),
                &mut |_| {},
                Some(Duration::from_millis(300)),
                &mut || false,
            )
            .unwrap();
        assert_eq!(end, RunEnd::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild is gone (or a zombie waiting for init), not merely orphaned.
        let running = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| !r.trim_start().starts_with('Z'))
            })
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        while running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!running(), "grandchild {pid} survived");
    }

    #[test]
    fn stop_condition_ends_a_command_promptly() {
        let t = Instant::now();
        let mut calls = 0;
        let end = LocalExecutor::default()
            .run(&sh("sleep 30"), &mut |_| {}, None, &mut || {
                calls += 1;
                calls > 3
            })
            .unwrap();
        assert_eq!(end, RunEnd::Stopped);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn spawned_process_logs_to_file_and_terminates_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let ex = LocalExecutor::default();
        let mut p = ex
            .spawn(&sh("echo ready; echo err >&2; exec sleep 30"), &log, false)
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
            < 2
        {
            assert!(Instant::now() < deadline, "no output");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(p.try_wait().unwrap(), None);
        let s = p.terminate(Duration::from_secs(5)).unwrap();
        assert!(s.was_running && !s.forced);
        assert_eq!(s.exit.unwrap().signal, Some(15));
        // A second terminate of an exited process is fine (F-12).
        let again = p.terminate(Duration::from_secs(1)).unwrap();
        assert!(!again.was_running);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "ready\nerr\n");
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let e = LocalExecutor::default()
            .run(
                &CommandSpec::new("no-such-program-xyz"),
                &mut |_| {},
                None,
                &mut || false,
            )
            .unwrap_err();
        assert!(e.to_string().contains("no-such-program-xyz"), "{e}");
    }

    #[test]
    fn exit_info_display() {
        assert_eq!(
            ExitInfo {
                code: Some(1),
                signal: None
            }
            .to_string(),
            "exit status 1"
        );
        assert_eq!(
            ExitInfo {
                code: None,
                signal: Some(9)
            }
            .to_string(),
            "killed by signal SIGKILL"
        );
    }
}
