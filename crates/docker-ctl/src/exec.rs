//! `docker exec`: run a command in a running container, stream its stdout and stderr into log
//! files and/or a callback as it runs, return its exit code; bounded by a timeout.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;

use crate::engine::Engine;
use crate::error::DockerError;

/// Exit code reported for a command stopped by the timeout (as `timeout(1)` does).
pub const TIMEOUT_EXIT_CODE: i64 = 124;

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A command to run in a container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecSpec {
    /// Program and arguments (no shell unless you run one).
    pub cmd: Vec<String>,
    /// Extra `KEY=VALUE` environment (e.g. `INSIDE_CONTAINER=1`, `TZ=America/Los_Angeles`).
    pub env: Vec<String>,
    /// Working directory (the container's default when `None`).
    pub work_dir: Option<String>,
    /// `user[:group]`.
    pub user: Option<String>,
    /// Stop waiting after this long; the outcome then has exit code
    /// [`TIMEOUT_EXIT_CODE`] and `timed_out`. `None`: no limit.
    pub timeout: Option<Duration>,
}

impl ExecSpec {
    /// A command with no extra settings.
    pub fn new<S: Into<String>>(cmd: impl IntoIterator<Item = S>) -> Self {
        Self {
            cmd: cmd.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
}

/// Where the output goes. Both paths may be the same file (interleaved in arrival order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecLogs {
    /// File for stdout.
    pub stdout: Option<PathBuf>,
    /// File for stderr.
    pub stderr: Option<PathBuf>,
    /// Append instead of truncating.
    pub append: bool,
}

impl ExecLogs {
    /// Both streams into one file (truncated).
    pub fn combined(path: impl Into<PathBuf>) -> Self {
        let p = path.into();
        Self {
            stdout: Some(p.clone()),
            stderr: Some(p),
            append: false,
        }
    }
}

/// How an exec ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// The command's exit code ([`TIMEOUT_EXIT_CODE`] on timeout).
    pub exit_code: i64,
    /// The timeout ended the wait. The Engine API cannot kill an exec: the process may still
    /// run in the container until the container is stopped.
    pub timed_out: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl ExecOutcome {
    /// Exit code 0 and no timeout.
    pub fn success(&self) -> bool {
        self.exit_code == 0 && !self.timed_out
    }
}

struct Sinks {
    out: Option<(PathBuf, File)>,
    err: Option<(PathBuf, File)>,
    same: bool,
}

impl Sinks {
    fn open(logs: &ExecLogs) -> Result<Self, DockerError> {
        let open = |p: &Path| -> Result<(PathBuf, File), DockerError> {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| DockerError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            let f = OpenOptions::new()
                .create(true)
                .write(true)
                .append(logs.append)
                .truncate(!logs.append)
                .open(p)
                .map_err(|source| DockerError::Io {
                    path: p.to_path_buf(),
                    source,
                })?;
            Ok((p.to_path_buf(), f))
        };
        let same = logs.stdout.is_some() && logs.stdout == logs.stderr;
        let out = logs.stdout.as_deref().map(open).transpose()?;
        let err = if same {
            None
        } else {
            logs.stderr.as_deref().map(open).transpose()?
        };
        Ok(Self { out, err, same })
    }

    fn write(&mut self, kind: StreamKind, bytes: &[u8]) -> Result<(), DockerError> {
        let target = match kind {
            StreamKind::Stdout => self.out.as_mut(),
            StreamKind::Stderr if self.same => self.out.as_mut(),
            StreamKind::Stderr => self.err.as_mut(),
        };
        if let Some((path, f)) = target {
            f.write_all(bytes).map_err(|source| DockerError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DockerError> {
        for (path, f) in [self.out.as_mut(), self.err.as_mut()].into_iter().flatten() {
            f.flush().map_err(|source| DockerError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

impl Engine {
    /// Runs `spec` in `container`, writing stdout/stderr to `logs` as it arrives and passing
    /// every chunk to `on_output`, then returns the exit code. A missing container is
    /// [`DockerError::ContainerMissing`]; a non-zero exit code is not an error.
    pub async fn exec<F>(
        &self,
        container: &str,
        spec: &ExecSpec,
        logs: &ExecLogs,
        on_output: F,
    ) -> Result<ExecOutcome, DockerError>
    where
        F: FnMut(StreamKind, &[u8]),
    {
        self.exec_observed(container, spec, logs, |_| {}, on_output)
            .await
    }

    /// [`Engine::exec`] that also hands the exec's id to `on_started` as soon as the command
    /// runs, so another task can look it up ([`Engine::exec_state`]) and signal its process
    /// while the output is still streaming (the Engine API itself cannot stop an exec).
    pub async fn exec_observed<S, F>(
        &self,
        container: &str,
        spec: &ExecSpec,
        logs: &ExecLogs,
        on_started: S,
        mut on_output: F,
    ) -> Result<ExecOutcome, DockerError>
    where
        S: FnOnce(&str),
        F: FnMut(StreamKind, &[u8]),
    {
        let started = Instant::now();
        let deadline = spec.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut sinks = Sinks::open(logs)?;
        let what = format!("exec in container {container}");
        let config = CreateExecOptions::<String> {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            env: (!spec.env.is_empty()).then(|| spec.env.clone()),
            cmd: Some(spec.cmd.clone()),
            working_dir: spec.work_dir.clone(),
            user: spec.user.clone(),
            ..Default::default()
        };
        let created = match self
            .call(&what, self.docker.create_exec(container, config))
            .await
        {
            Err(DockerError::Api {
                status: Some(404), ..
            })
            | Err(DockerError::ContainerMissing { .. }) => {
                return Err(DockerError::ContainerMissing {
                    name: container.to_string(),
                });
            }
            other => other?,
        };
        let start = self
            .call(
                &what,
                self.docker.start_exec(
                    &created.id,
                    Some(StartExecOptions {
                        detach: false,
                        ..Default::default()
                    }),
                ),
            )
            .await?;
        let StartExecResults::Attached { mut output, .. } = start else {
            return Err(DockerError::Api {
                what,
                status: None,
                message: "the daemon detached the exec instead of attaching to it".into(),
            });
        };
        on_started(&created.id);
        let mut timed_out = false;
        loop {
            let next = match deadline {
                Some(d) => match tokio::time::timeout_at(d, output.next()).await {
                    Ok(n) => n,
                    Err(_) => {
                        timed_out = true;
                        break;
                    }
                },
                None => output.next().await,
            };
            let Some(item) = next else { break };
            let (kind, bytes) = match item.map_err(|e| self.classify(e, &what))? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    (StreamKind::Stdout, message)
                }
                LogOutput::StdErr { message } => (StreamKind::Stderr, message),
                LogOutput::StdIn { .. } => continue,
            };
            sinks.write(kind, &bytes)?;
            on_output(kind, &bytes);
        }
        sinks.flush()?;
        drop(output);
        if timed_out {
            tracing::warn!(
                "exec {:?} in {container} passed its {} s limit; it may still run until the container stops",
                spec.cmd,
                spec.timeout.map_or(0, |t| t.as_secs())
            );
            return Ok(ExecOutcome {
                exit_code: TIMEOUT_EXIT_CODE,
                timed_out: true,
                elapsed: started.elapsed(),
            });
        }
        // The stream ends when the process closes its output; the exit code can lag a little.
        let poll_until = Instant::now() + self.call_timeout;
        loop {
            let info = self
                .call(&what, self.docker.inspect_exec(&created.id))
                .await?;
            if info.running != Some(true) {
                return Ok(ExecOutcome {
                    exit_code: info.exit_code.unwrap_or(-1),
                    timed_out: false,
                    elapsed: started.elapsed(),
                });
            }
            if Instant::now() >= poll_until {
                return Err(self.timeout_error(&format!("{what} (exit code)"), self.call_timeout));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the daemon says about an exec (from [`Engine::exec_observed`]'s `on_started`).
    pub async fn exec_state(&self, exec_id: &str) -> Result<ExecState, DockerError> {
        let what = format!("inspect exec {exec_id}");
        let info = self.call(&what, self.docker.inspect_exec(exec_id)).await?;
        Ok(ExecState {
            running: info.running == Some(true),
            pid: info.pid.filter(|p| *p > 0),
            exit_code: info.exit_code,
        })
    }
}

/// The state of an exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecState {
    /// The command is still running.
    pub running: bool,
    /// Its process id in the daemon's PID namespace (the host's, unless the daemon runs in a
    /// container of its own). The process leads its own session and process group.
    pub pid: Option<i64>,
    /// Its exit code once it ended.
    pub exit_code: Option<i64>,
}
