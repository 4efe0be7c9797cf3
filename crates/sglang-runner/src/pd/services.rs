//! The three services of a PD run: the router, the prefill and the decode server. The servers
//! are always containers from the image (spec nightly.md §5.1: names, host network, GPU
//! split, environment, the original's flags); the router is a container too, or — router
//! mode `host` — a process on this machine (the real sglang-router of a Python venv, which the
//! simulated-engine image cannot hold). This module starts them, says whether they still run
//! and how they ended, restarts the router, collects their logs and removes them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use docker_ctl::{BlockingEngine, ContainerSpec, DockerError, Ensured, SIM_BIN_DIR};

use super::config::{PdConfig, RouterMode};
use crate::engine::Engine;

/// Label value of `org.sglang-ci.created-by` on the three containers.
pub const CREATED_BY: &str = "run-pd-docker";
/// Host paths the original mounted into every container (`-v P:P`, when they exist here).
pub const MOUNTS: [&str; 2] = ["/mnt/raid", "/data2"];
/// How long a log collection may take.
const LOG_LIMIT: Duration = Duration::from_secs(60);
/// `docker stop` grace.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// One of the three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The router (load balancer).
    Router,
    /// The prefill server (GPUs 0-3).
    Prefill,
    /// The decode server (GPUs 4-7).
    Decode,
}

impl Role {
    /// All three, in the original's order.
    pub const ALL: [Role; 3] = [Role::Router, Role::Prefill, Role::Decode];

    /// `router` / `prefill` / `decode` (log lines of the original).
    pub fn word(self) -> &'static str {
        match self {
            Role::Router => "router",
            Role::Prefill => "prefill",
            Role::Decode => "decode",
        }
    }

    /// `Router` / `Prefill Server` / `Decode Server`.
    pub fn title(self) -> &'static str {
        match self {
            Role::Router => "Router",
            Role::Prefill => "Prefill Server",
            Role::Decode => "Decode Server",
        }
    }

    /// The log file in `LOG_DIR`.
    pub fn log_file(self) -> &'static str {
        match self {
            Role::Router => "load_balance.log",
            Role::Prefill => "prefill.log",
            Role::Decode => "decode.log",
        }
    }
}

/// How a service ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// Exit code (`N/A` when unknown).
    pub code: String,
    /// The container is gone altogether.
    pub missing: bool,
}

/// The router when it runs on this machine.
struct HostRouter {
    child: Child,
    argv: Vec<String>,
    log: PathBuf,
}

/// The services of one run.
pub struct Services<'a> {
    cfg: &'a PdConfig,
    engine: BlockingEngine,
    host_router: Option<HostRouter>,
}

/// Why a service could not be started or handled.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The Docker Engine failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The host-mode router could not be started.
    #[error("cannot start the router `{program}` (--router-cmd): {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The router log file could not be created.
    #[error("cannot write {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl<'a> Services<'a> {
    /// Connected to the Docker Engine (`DOCKER_HOST`).
    pub fn connect(cfg: &'a PdConfig) -> Result<Self, ServiceError> {
        Ok(Self {
            cfg,
            engine: BlockingEngine::connect()?,
            host_router: None,
        })
    }

    /// The container name of `role`.
    pub fn name(&self, role: Role) -> &str {
        match role {
            Role::Router => &self.cfg.names.router,
            Role::Prefill => &self.cfg.names.prefill,
            Role::Decode => &self.cfg.names.decode,
        }
    }

    /// True when the router runs as a container.
    fn router_in_container(&self) -> bool {
        self.cfg.router_mode == RouterMode::Container
    }

    /// The router's command line (the original's, plus `--router-args`).
    pub fn router_argv(&self) -> Vec<String> {
        let c = self.cfg;
        let mut v: Vec<String> = match (self.cfg.router_mode, c.engine) {
            (RouterMode::Host, _) => c.router_cmd.clone(),
            (RouterMode::Container, Engine::Sim) => {
                vec![format!("{SIM_BIN_DIR}/sglang-sim"), "router".into()]
            }
            (RouterMode::Container, Engine::Sglang) => {
                ["python3", "-m", "sglang_router.launch_router"]
                    .map(String::from)
                    .to_vec()
            }
        };
        v.extend([
            "--pd-disaggregation".to_owned(),
            "--prefill".into(),
            format!("http://{}:{}", c.host_ip, c.prefill_port),
            "--decode".into(),
            format!("http://{}:{}", c.host_ip, c.decode_port),
            "--host".into(),
            "0.0.0.0".into(),
            "--port".into(),
            c.router_port.to_string(),
        ]);
        v.extend(c.router_args.iter().cloned());
        v
    }

    /// The server command of `role` (spec §5.1), with `--sim-args` for the simulated engine.
    pub fn server_argv(&self, role: Role) -> Vec<String> {
        let c = self.cfg;
        let (mode, port) = match role {
            Role::Decode => ("decode", c.decode_port),
            _ => ("prefill", c.prefill_port),
        };
        let mut v: Vec<String> = match c.engine {
            Engine::Sim => vec![format!("{SIM_BIN_DIR}/sglang-sim"), "launch-server".into()],
            Engine::Sglang => ["python3", "-m", "sglang.launch_server"]
                .map(String::from)
                .to_vec(),
        };
        let port = port.to_string();
        let mut flags = vec![
            "--model-path",
            &c.model_path,
            "--disaggregation-mode",
            mode,
            "--port",
            &port,
            "--disaggregation-ib-device",
            "lo",
            "--host",
            &c.host_ip,
            "--tp",
            "4",
            "--trust-remote-code",
        ];
        if role == Role::Prefill {
            flags.push("--enable-two-batch-overlap");
        }
        flags.extend(["--attention-backend", "triton"]);
        if role == Role::Decode {
            flags.push("--disable-cuda-graph");
        }
        flags.extend(["--mem-fraction-static", "0.88", "--watchdog-timeout", "180"]);
        v.extend(flags.into_iter().map(String::from));
        if c.engine == Engine::Sim {
            v.extend(c.sim_args.iter().cloned());
        }
        v
    }

    /// The container settings of `role` (spec §5.1): host network; the servers also get the
    /// GPU settings, `HIP_VISIBLE_DEVICES` of their half and `LD_LIBRARY_PATH`.
    pub fn spec(&self, role: Role) -> ContainerSpec {
        let mut s = ContainerSpec::nightly(self.name(role), &self.cfg.image).created_by(CREATED_BY);
        // No --shm-size in the original (it relies on --ipc=host): Docker's default.
        s.shm_size = "64m".into();
        s.work_dir = None;
        for m in MOUNTS {
            if Path::new(m).is_dir() {
                s = s.mount(m);
            }
        }
        match role {
            Role::Router => {
                // Only --network=host in the original; ContainerSpec sets the host network
                // together with the GPU settings, so the router gets those without devices
                // and without --privileged.
                s.devices.clear();
                s.privileged = false;
                s.cmd = Some(self.router_argv());
            }
            Role::Prefill | Role::Decode => {
                let gpus = if role == Role::Prefill {
                    "0,1,2,3"
                } else {
                    "4,5,6,7"
                };
                s.env = vec![
                    format!("HIP_VISIBLE_DEVICES={gpus}"),
                    "LD_LIBRARY_PATH=/opt/rocm/lib:/usr/local/lib".into(),
                ];
                s.cmd = Some(self.server_argv(role));
            }
        }
        s
    }

    /// Removes what an earlier run left: containers of these names that sglang-ci created
    /// (a container of that name that it did not create is an error, never removed) and
    /// returns the names removed.
    pub fn remove_leftovers(&self) -> Result<Vec<String>, ServiceError> {
        let mut removed = Vec::new();
        for role in Role::ALL {
            let name = self.name(role).to_owned();
            if self.engine.remove_managed(&name, true)? {
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// Starts `role`; returns the container id (host router: `pid <n>`) and warnings.
    pub fn start(&mut self, role: Role) -> Result<(String, Vec<String>), ServiceError> {
        if role == Role::Router && !self.router_in_container() {
            let log = self.cfg.log_dir.join(Role::Router.log_file());
            let pid = self.spawn_host_router(&log, false)?;
            return Ok((format!("pid {pid}"), Vec::new()));
        }
        match self.engine.ensure_container(&self.spec(role))? {
            Ensured::Created { info, warnings } => Ok((info.id, warnings)),
            Ensured::Reused { info, .. } => Ok((info.id, Vec::new())),
        }
    }

    fn spawn_host_router(&mut self, log: &Path, append: bool) -> Result<u32, ServiceError> {
        let argv = self.router_argv();
        let file = File::options()
            .create(true)
            .append(append)
            .write(true)
            .truncate(!append)
            .open(log)
            .map_err(|source| ServiceError::Log {
                path: log.to_owned(),
                source,
            })?;
        let err = file.try_clone().map_err(|source| ServiceError::Log {
            path: log.to_owned(),
            source,
        })?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err);
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd.spawn().map_err(|source| ServiceError::Spawn {
            program: argv[0].clone(),
            source,
        })?;
        let pid = child.id();
        self.host_router = Some(HostRouter {
            child,
            argv,
            log: log.to_owned(),
        });
        Ok(pid)
    }

    /// `None` while `role` runs; how it ended otherwise.
    pub fn ended(&mut self, role: Role) -> Result<Option<Ended>, ServiceError> {
        if role == Role::Router && !self.router_in_container() {
            return Ok(match self.host_router.as_mut() {
                None => Some(Ended {
                    code: "N/A".into(),
                    missing: true,
                }),
                Some(h) => match h.child.try_wait() {
                    Ok(None) => None,
                    Ok(Some(st)) => Some(Ended {
                        code: exit_text(st),
                        missing: false,
                    }),
                    Err(_) => Some(Ended {
                        code: "N/A".into(),
                        missing: false,
                    }),
                },
            });
        }
        let name = self.name(role).to_owned();
        let st = self
            .engine
            .block_on(self.engine.engine().container_state(&name))?;
        Ok(match st {
            None => Some(Ended {
                code: "N/A".into(),
                missing: true,
            }),
            Some(s) if s.running() => None,
            Some(s) => Some(Ended {
                code: s.exit_code.map_or_else(|| "N/A".into(), |c| c.to_string()),
                missing: false,
            }),
        })
    }

    /// Restarts the router (the original's `docker restart`; host mode: stop and start the
    /// process again, its log appended).
    pub fn restart_router(&mut self) -> Result<(), ServiceError> {
        if self.router_in_container() {
            let name = self.cfg.names.router.clone();
            self.engine
                .block_on(self.engine.engine().restart_container(&name, STOP_GRACE))?;
            return Ok(());
        }
        let log = self
            .host_router
            .as_ref()
            .map(|h| h.log.clone())
            .unwrap_or_else(|| self.cfg.log_dir.join(Role::Router.log_file()));
        self.stop_host_router();
        self.spawn_host_router(&log, true)?;
        Ok(())
    }

    /// The last `n` lines of `role`'s log (empty when it cannot be read).
    pub fn tail(&self, role: Role, n: usize) -> String {
        let bytes = if role == Role::Router && !self.router_in_container() {
            let path = self.cfg.log_dir.join(Role::Router.log_file());
            std::fs::read(path).unwrap_or_default()
        } else {
            self.engine
                .block_on(
                    self.engine
                        .engine()
                        .logs(self.name(role), Some(n), LOG_LIMIT),
                )
                .unwrap_or_default()
        };
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Writes `role`'s log to its file in `LOG_DIR` (overwrite). False when there is no such
    /// container (host router: its file is written as it runs; true when it exists).
    pub fn collect_log(&self, role: Role) -> bool {
        let path = self.cfg.log_dir.join(role.log_file());
        if role == Role::Router && !self.router_in_container() {
            return path.exists();
        }
        let name = self.name(role);
        match self.engine.container(name) {
            Ok(Some(_)) => {}
            _ => return false,
        }
        match self
            .engine
            .block_on(self.engine.engine().logs(name, None, LOG_LIMIT))
        {
            Ok(bytes) => report::atomic::write_atomic(&path, &bytes).is_ok(),
            Err(e) => {
                tracing::warn!("docker logs {name}: {e}");
                false
            }
        }
    }

    /// True when `role` exists (container of any state, or the host router process).
    pub fn exists(&self, role: Role) -> bool {
        if role == Role::Router && !self.router_in_container() {
            return self.host_router.is_some();
        }
        matches!(self.engine.container(self.name(role)), Ok(Some(_)))
    }

    /// `docker ps -a`-like lines of the three containers: `<name> <status> (exit <code>)`.
    pub fn status_lines(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for role in Role::ALL {
            if role == Role::Router && !self.router_in_container() {
                continue;
            }
            let name = self.name(role).to_owned();
            if let Ok(Some(s)) = self
                .engine
                .block_on(self.engine.engine().container_state(&name))
            {
                let code = s.exit_code.map_or_else(String::new, |c| format!(" ({c})"));
                out.push(format!(
                    "{}   {}   {}{code}",
                    name, self.cfg.image, s.status
                ));
            }
        }
        out
    }

    fn stop_host_router(&mut self) {
        if let Some(mut h) = self.host_router.take() {
            let pgid = nix::unistd::Pid::from_raw(i32::try_from(h.child.id()).unwrap_or(0));
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM);
            let until = Instant::now() + STOP_GRACE;
            while Instant::now() < until {
                if matches!(h.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = h.child.kill();
            let _ = h.child.wait();
            tracing::debug!("host router {:?} stopped", h.argv);
        }
    }

    /// Stops and removes the three services (host router: ends the process group). Returns
    /// the names of the containers removed.
    pub fn remove_all(&mut self) -> Vec<String> {
        self.stop_host_router();
        let mut removed = Vec::new();
        for role in Role::ALL {
            if role == Role::Router && !self.router_in_container() {
                continue;
            }
            let name = self.name(role).to_owned();
            if !matches!(self.engine.container(&name), Ok(Some(_))) {
                continue;
            }
            let _ = self.engine.stop_container(&name, STOP_GRACE);
            match self.engine.remove_managed(&name, true) {
                Ok(true) => removed.push(name),
                Ok(false) => {}
                Err(e) => tracing::warn!("remove {name}: {e}"),
            }
        }
        removed
    }
}

impl Drop for Services<'_> {
    fn drop(&mut self) {
        self.stop_host_router();
    }
}

fn exit_text(st: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => c.to_string(),
        (None, Some(s)) => (128 + s).to_string(),
        _ => "N/A".into(),
    }
}
