//! The docker executor: every command of a plan runs in the benchmark container through the
//! Docker Engine API (docker-ctl's exec), with its output streamed back to this machine — the
//! server's into its log file, a client's to the runner — and its exit code returned. The
//! binary itself stays on the host; the container uses host networking, so readiness polls
//! and native clients reach the server on `127.0.0.1` as with the local executor.
//!
//! Stopping a command: the Engine API cannot kill an exec, so [`DockerExecutor`] looks up the
//! exec's process id (the daemon reports it in the host's PID namespace; every exec leads its
//! own session and process group) and signals the whole group from here: SIGTERM, the grace
//! period, then SIGKILL — the same contract as [`crate::exec::LocalExecutor`]. When this
//! process may not signal it (the container process runs as root and this user is not), the
//! signal is sent from inside the container instead (`sh -c 'kill -TERM -- -<pgid>'` as root,
//! with the group's id inside the container from `/proc/<pid>/status`).
//!
//! Paths are the same inside and outside the container (the mounts are `P:P`); only the
//! programs the host found for the simulated engine (`sglang-sim`, `sglang-bench` next to this
//! binary) are replaced by the image's own copies ([`ExecTemplate::programs`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use docker_ctl::{
    DockerError, Engine, EngineConfig, ExecLogs, ExecOutcome, ExecSpec, RuntimeKind, StreamKind,
    connect_blocking,
};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::command::CommandSpec;
use crate::exec::{
    ExecError, Executor, ExitInfo, RunEnd, ServerProcess, Stopped, TICK, drain, due_end,
};

/// How long starting an exec may take before it counts as failed.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long a SIGKILLed command may take to be reported ended.
const KILL_WAIT: Duration = Duration::from_secs(10);

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Runs commands in one running container.
#[derive(Clone)]
pub struct DockerExecutor {
    rt: Arc<tokio::runtime::Runtime>,
    engine: Engine,
    container: String,
    template: ExecTemplate,
    /// How long a stopped command may take to exit after SIGTERM before SIGKILL.
    pub grace: Duration,
}

/// What every command of a [`DockerExecutor`] gets: base environment, user, program map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecTemplate {
    /// Environment set for every command, before the command's own.
    pub env: Vec<(String, String)>,
    /// `user[:group]`; `None`: the image's user.
    pub user: Option<String>,
    /// (host program, program in the container) pairs.
    pub programs: Vec<(String, String)>,
}

impl ExecTemplate {
    /// The exec request for `cmd`: program mapped, base environment then the command's,
    /// working directory and user.
    pub fn spec(&self, cmd: &CommandSpec) -> ExecSpec {
        let program = self
            .programs
            .iter()
            .find(|(h, _)| *h == cmd.program)
            .map_or_else(|| cmd.program.clone(), |(_, c)| c.clone());
        let mut argv = vec![program];
        argv.extend(cmd.args.iter().cloned());
        ExecSpec {
            cmd: argv,
            env: self
                .env
                .iter()
                .chain(cmd.env.iter())
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            work_dir: cmd.cwd.as_ref().map(|p| p.display().to_string()),
            user: self.user.clone(),
            timeout: None,
        }
    }
}

impl std::fmt::Debug for DockerExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerExecutor")
            .field("container", &self.container)
            .field("endpoint", &self.engine.endpoint())
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

impl DockerExecutor {
    /// Connects to the daemon (`DOCKER_HOST`, else the default socket) for commands in
    /// `container`, which must exist and run when commands are started.
    pub fn connect(container: &str) -> Result<Self, DockerError> {
        Self::connect_with(&EngineConfig::from_env(), container)
    }

    /// [`DockerExecutor::connect`] with an explicit engine configuration.
    pub fn connect_with(cfg: &EngineConfig, container: &str) -> Result<Self, DockerError> {
        let (rt, engine) = connect_blocking(cfg, RuntimeKind::Worker("docker-exec"))?;
        Ok(Self {
            rt: Arc::new(rt),
            engine,
            container: container.to_owned(),
            template: ExecTemplate::default(),
            grace: Duration::from_secs(10),
        })
    }

    /// The container commands run in.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// Sets what every command gets (environment, user, program map).
    pub fn template(mut self, template: ExecTemplate) -> Self {
        self.template = template;
        self
    }

    /// What every command gets.
    pub fn exec_template(&self) -> &ExecTemplate {
        &self.template
    }

    /// Starts `cmd`; returns once it runs (or with the reason it could not start).
    fn start(
        &self,
        cmd: &CommandSpec,
        logs: ExecLogs,
        output: Option<mpsc::Sender<Vec<u8>>>,
    ) -> Result<Running, ExecError> {
        let spec = self.template.spec(cmd);
        let program = spec.cmd.first().cloned().unwrap_or_default();
        let (id_tx, id_rx) = mpsc::channel::<String>();
        let (done_tx, done_rx) = mpsc::channel::<Result<ExecOutcome, DockerError>>();
        let engine = self.engine.clone();
        let container = self.container.clone();
        self.rt.spawn(async move {
            let r = engine
                .exec_observed(
                    &container,
                    &spec,
                    &logs,
                    |id| {
                        let _ = id_tx.send(id.to_owned());
                    },
                    |_kind: StreamKind, bytes: &[u8]| {
                        if let Some(tx) = &output {
                            let _ = tx.send(bytes.to_vec());
                        }
                    },
                )
                .await;
            let _ = done_tx.send(r);
        });
        let spawn_err = |e: &dyn std::fmt::Display| ExecError::Spawn {
            program: program.clone(),
            source: io_err(format!("in container {}: {e}", self.container)),
        };
        let id = match id_rx.recv_timeout(START_LIMIT) {
            Ok(id) => id,
            Err(_) => {
                // No id: the exec failed before it started (or the daemon is stuck).
                return Err(match done_rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(Err(e)) => spawn_err(&e),
                    Ok(Ok(o)) => {
                        spawn_err(&format!("ended at once with exit code {}", o.exit_code))
                    }
                    Err(_) => spawn_err(&format!(
                        "the daemon did not start it within {} s",
                        START_LIMIT.as_secs()
                    )),
                });
            }
        };
        let pids = self.pids(&id);
        Ok(Running {
            exec: self.clone(),
            id,
            program,
            done: done_rx,
            exited: None,
            pids,
        })
    }

    /// The exec's host pid and its pid inside the container (when `/proc` shows it).
    /// The daemon may report the pid a moment after the exec started: asked for up to 1 s.
    fn pids(&self, exec_id: &str) -> Option<(i32, Option<i32>)> {
        let end = Instant::now() + Duration::from_secs(1);
        loop {
            let state = self.rt.block_on(self.engine.exec_state(exec_id)).ok()?;
            if let Some(host) = state.pid.and_then(|p| i32::try_from(p).ok()) {
                return Some((host, ns_pid(host)));
            }
            if !state.running || Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Signals the process group of a running exec: from here, else from inside the
    /// container. Errors are returned as text for the caller's warning.
    fn signal(&self, pids: Option<(i32, Option<i32>)>, sig: Signal) -> Result<(), String> {
        let Some((host, inner)) = pids else {
            return Err("the daemon did not report its process id".to_owned());
        };
        let pg = Pid::from_raw(host);
        let local = killpg(pg, sig).or_else(|_| kill(pg, sig));
        match local {
            Ok(()) => Ok(()),
            Err(nix::errno::Errno::ESRCH) => Ok(()), // already gone
            Err(e) => {
                let Some(inner) = inner else {
                    return Err(format!(
                        "cannot signal process {host} from this machine ({e}) and its id inside the container is unknown"
                    ));
                };
                let name = sig.as_str().trim_start_matches("SIG");
                let script =
                    format!("kill -{name} -- -{inner} 2>/dev/null || kill -{name} {inner}");
                let spec = ExecSpec {
                    cmd: vec!["sh".into(), "-c".into(), script],
                    user: Some("0".into()),
                    timeout: Some(Duration::from_secs(30)),
                    ..Default::default()
                };
                let r = self.rt.block_on(self.engine.exec(
                    &self.container,
                    &spec,
                    &ExecLogs::default(),
                    |_, _| {},
                ));
                match r {
                    Ok(o) if o.success() => Ok(()),
                    Ok(o) => Err(format!(
                        "`kill` inside container {} exited {}",
                        self.container, o.exit_code
                    )),
                    Err(de) => Err(format!(
                        "cannot signal process {host} ({e}) nor from inside the container ({de})"
                    )),
                }
            }
        }
    }
}

/// The pid in the innermost PID namespace (`NSpid:` of `/proc/<pid>/status`).
fn ns_pid(host: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{host}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .and_then(|v| v.split_whitespace().last())
        .and_then(|v| v.parse().ok())
}

/// Docker reports the exit code only; a command ended by a signal shows 128 + signal.
fn exit_info(o: &ExecOutcome) -> ExitInfo {
    ExitInfo {
        code: Some(i32::try_from(o.exit_code).unwrap_or(-1)),
        signal: None,
    }
}

/// A command started in the container.
struct Running {
    exec: DockerExecutor,
    id: String,
    program: String,
    done: Receiver<Result<ExecOutcome, DockerError>>,
    exited: Option<Result<ExitInfo, String>>,
    pids: Option<(i32, Option<i32>)>,
}

impl Running {
    /// The end, once known (a failed stream counts as ended, with its reason).
    fn poll(&mut self) -> Option<Result<ExitInfo, String>> {
        if self.exited.is_none() {
            self.exited = match self.done.try_recv() {
                Ok(Ok(o)) => Some(Ok(exit_info(&o))),
                Ok(Err(e)) => Some(Err(e.to_string())),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => {
                    Some(Err("the exec task ended without a result".to_owned()))
                }
            };
        }
        self.exited.clone()
    }

    /// Waits up to `limit` for the end.
    fn wait(&mut self, limit: Duration) -> Option<Result<ExitInfo, String>> {
        let end = Instant::now() + limit;
        loop {
            if let Some(e) = self.poll() {
                return Some(e);
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }

    /// SIGTERM to the group, `grace`, SIGKILL. Returns (exit, forced).
    fn stop(&mut self, grace: Duration) -> (Option<ExitInfo>, bool) {
        if self.pids.is_none() {
            self.pids = self.exec.pids(&self.id);
        }
        if let Err(e) = self.exec.signal(self.pids, Signal::SIGTERM) {
            tracing::warn!(
                "cannot stop `{}` in container {}: {e}",
                self.program,
                self.exec.container
            );
        }
        if let Some(e) = self.wait(grace) {
            return (e.ok(), false);
        }
        if let Err(e) = self.exec.signal(self.pids, Signal::SIGKILL) {
            tracing::warn!(
                "cannot kill `{}` in container {}: {e}",
                self.program,
                self.exec.container
            );
        }
        match self.wait(KILL_WAIT) {
            Some(e) => (e.ok(), true),
            None => {
                tracing::warn!(
                    "`{}` (exec {}) in container {} did not end after SIGKILL; it ends when the container stops",
                    self.program,
                    self.id,
                    self.exec.container
                );
                (None, true)
            }
        }
    }
}

/// A server started with [`DockerExecutor`]'s `spawn`.
struct DockerProcess {
    run: Running,
}

impl ServerProcess for DockerProcess {
    /// The pid inside the container (what the original printed), else the host's.
    fn pid(&self) -> Option<u32> {
        self.run
            .pids
            .and_then(|(h, inner)| u32::try_from(inner.unwrap_or(h)).ok())
    }

    fn try_wait(&mut self) -> Result<Option<ExitInfo>, ExecError> {
        match self.run.poll() {
            None => Ok(None),
            Some(Ok(e)) => Ok(Some(e)),
            Some(Err(e)) => Err(ExecError::Wait {
                program: self.run.program.clone(),
                source: io_err(e),
            }),
        }
    }

    fn terminate(&mut self, grace: Duration) -> Result<Stopped, ExecError> {
        if let Some(e) = self.run.poll() {
            return Ok(Stopped {
                exit: e.ok(),
                was_running: false,
                forced: false,
            });
        }
        let (exit, forced) = self.run.stop(grace);
        Ok(Stopped {
            exit,
            was_running: true,
            forced,
        })
    }
}

impl Drop for DockerProcess {
    fn drop(&mut self) {
        // Never leave a server behind, whatever path dropped the handle.
        if self.run.poll().is_none() {
            let _ = self.run.stop(Duration::from_secs(2));
        }
    }
}

impl Executor for DockerExecutor {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn spawn(
        &self,
        cmd: &CommandSpec,
        log: &Path,
        append: bool,
    ) -> Result<Box<dyn ServerProcess>, ExecError> {
        // Open (and truncate) the log here so a path problem is reported as the local
        // executor reports it, before anything starts in the container.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|f| if append { Ok(()) } else { f.set_len(0) })
            .map_err(|source| ExecError::Log {
                path: log.to_owned(),
                source,
            })?;
        let logs = ExecLogs {
            stdout: Some(log.to_owned()),
            stderr: Some(log.to_owned()),
            append: true,
        };
        let run = self.start(cmd, logs, None)?;
        Ok(Box::new(DockerProcess { run }))
    }

    fn run(
        &self,
        cmd: &CommandSpec,
        out: &mut dyn FnMut(&[u8]),
        timeout: Option<Duration>,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<RunEnd, ExecError> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let start = Instant::now();
        let mut run = self.start(cmd, ExecLogs::default(), Some(tx))?;
        loop {
            match rx.recv_timeout(TICK) {
                Ok(chunk) => out(&chunk),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // The stream ended: the result follows.
                    if let Some(e) = run.wait(Duration::from_secs(40)) {
                        return match e {
                            Ok(exit) => Ok(RunEnd::Exited(exit)),
                            Err(msg) => Err(ExecError::Wait {
                                program: run.program.clone(),
                                source: io_err(msg),
                            }),
                        };
                    }
                }
            }
            if let Some(end) = due_end(stop, timeout, start) {
                run.stop(self.grace);
                drain(&rx, out);
                return Ok(end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_pid_of_this_process_is_readable() {
        let me = i32::try_from(std::process::id()).unwrap();
        // Outside a PID namespace the innermost id is our own.
        assert!(ns_pid(me).is_some());
        assert_eq!(ns_pid(-5), None);
    }

    #[test]
    fn template_maps_programs_and_orders_environment() {
        let t = ExecTemplate {
            env: vec![("INSIDE_CONTAINER".into(), "1".into())],
            user: Some("1000:1000".into()),
            programs: vec![(
                "/home/u/bin/sglang-sim".into(),
                "/usr/local/bin/sglang-sim".into(),
            )],
        };
        let cmd = CommandSpec::new("/home/u/bin/sglang-sim")
            .args(["launch-server", "--port", "30000"])
            .env("SGLANG_USE_AITER", "1")
            .cwd("/mnt/raid/ci");
        let s = t.spec(&cmd);
        assert_eq!(
            s.cmd,
            [
                "/usr/local/bin/sglang-sim",
                "launch-server",
                "--port",
                "30000"
            ]
        );
        assert_eq!(s.env, ["INSIDE_CONTAINER=1", "SGLANG_USE_AITER=1"]);
        assert_eq!(s.work_dir.as_deref(), Some("/mnt/raid/ci"));
        assert_eq!(s.user.as_deref(), Some("1000:1000"));
        assert_eq!(s.timeout, None);
        // Programs not in the map run as named (python3 from the image's PATH).
        let py = t.spec(&CommandSpec::new("python3").arg("-V"));
        assert_eq!(py.cmd, ["python3", "-V"]);
    }

    #[test]
    fn exit_codes_are_reported_as_codes() {
        let o = ExecOutcome {
            exit_code: 143,
            timed_out: false,
            elapsed: Duration::ZERO,
        };
        assert_eq!(exit_info(&o).code, Some(143));
        assert!(!exit_info(&o).success());
    }
}
