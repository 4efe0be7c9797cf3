//! The benchmark container of a run: which image, which `<repo>_<tag>` container, which
//! mounts (spec benchmarks.md §1.5, §8.9 step 5), making sure it exists, runs and sees every
//! mounted path (else it is re-created, as the original did), and the [`DockerExecutor`] that
//! runs the plan's commands in it. Used by the benchmark binaries' `--executor=docker` and by
//! `perf-nightly`.
//!
//! Mounts are `-v P:P`. A path is not mounted when it lies below a path already mounted, and —
//! unlike the original, where Docker then created an empty root-owned directory on the host —
//! a path that does not exist on this machine is skipped with a note.
//!
//! The simulated engine in a container: the image holds `sglang-sim` and `sglang-bench` in
//! [`docker_ctl::SIM_BIN_DIR`] (`sglang-sim build-image`); the host's copies named in
//! the plan are mapped to those. The GSM8K test set the native client and the simulator's
//! GSM8K oracle read is mounted read-only, and `SGLCI_SIM_GSM8K_DATA` names it. Commands run
//! as this user (so files written into the run folder are this user's), the real engine's as
//! the image's user (root), as the original.

use std::path::{Path, PathBuf};
use std::time::Duration;

use docker_ctl::{
    BlockingEngine, ContainerSpec, DockerError, EngineConfig, Ensured, Mount, PathKind,
    SIM_BIN_DIR, SIM_IMAGE_LABEL,
};
use thiserror::Error;

use crate::config::{EnvSource, RunBase};
use crate::engine::{Engine, ExecutorKind, Steps};
use crate::error::RunnerError;
use crate::exec::{Executor, LocalExecutor};
use crate::exec_docker::{DockerExecutor, ExecTemplate};

/// Why the container could not be made ready.
#[derive(Debug, Error)]
pub enum ContainerError {
    /// The Docker Engine refused or failed (its message says what to do).
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The image is neither local nor pullable (fix F-38: only the exact image counts).
    #[error(
        "Image {image} not found locally or remotely: {reason} (pull or build it first; for the simulated engine: `sglang-sim build-image --tag {image}`)"
    )]
    ImageUnavailable {
        /// The image.
        image: String,
        /// What the pull said.
        reason: String,
    },
    /// A path the run needs is not visible in the container even after re-creating it.
    #[error(
        "{what} {path} is not visible in container {container} even after re-creating it; check the mounts (MOUNT_DIR) and that the path exists on this machine"
    )]
    NotVisible {
        /// What it is (`Benchmark CI directory`, `Model directory`, ...).
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The container.
        container: String,
    },
}

impl From<ContainerError> for RunnerError {
    fn from(e: ContainerError) -> Self {
        RunnerError::ExecutorUnavailable(e.to_string())
    }
}

/// A path to mount (and to find inside a reused container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRequest {
    /// The path (`-v P:P`).
    pub path: PathBuf,
    /// Mount read-only.
    pub read_only: bool,
    /// What it is, for messages (`Benchmark CI directory`).
    pub what: &'static str,
}

/// Everything needed to make the container ready.
#[derive(Debug, Clone)]
pub struct BenchContainer {
    /// Image reference.
    pub image: String,
    /// `<tag>` of the image.
    pub tag: String,
    /// Container name (`<repo>_<tag>`).
    pub name: String,
    /// Engine the plan uses.
    pub engine: Engine,
    /// Mount requests, in order (existing paths only are mounted; see [`Self::mounts`]).
    pub requests: Vec<MountRequest>,
    /// `--shm-size` (`CONTAINER_SHM_SIZE`, `32g`).
    pub shm_size: String,
    /// `-w` (`WORK_DIR` of the orchestrator, `/sgl-workspace`).
    pub work_dir: String,
    /// Program recorded in the container's `created-by` label.
    pub created_by: String,
    /// What every command gets (environment, user, program map).
    pub template: ExecTemplate,
}

/// `MOUNT_DIR` (default `/mnt/raid/`, trailing slash kept as in the original).
pub fn mount_dir(env: &dyn EnvSource) -> PathBuf {
    PathBuf::from(env.var_or("MOUNT_DIR", "/mnt/raid/"))
}

/// The container's `--shm-size`: `CONTAINER_SHM_SIZE` (default `32g`).
pub fn shm_size(env: &dyn EnvSource) -> String {
    env.var_or("CONTAINER_SHM_SIZE", "32g")
}

/// The container's working directory (`-w`): the variable `var` (`WORK_DIR_CONTAINER` of the
/// benchmark scripts, `WORK_DIR` of the orchestrator; default `/sgl-workspace`).
pub fn work_dir(env: &dyn EnvSource, var: &str) -> String {
    env.var_or(var, "/sgl-workspace")
}

/// True when `path` is `root` or lies below it (component-wise; `/mnt/raid/` covers
/// `/mnt/raid/models` but not `/mnt/raidx`).
pub fn is_under(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

/// The directory to mount so that `model` is visible (spec §1.5, §8.9): `/data`, `/mnt`,
/// `/home` or `/opt` when the model lies below one of them, else its parent directory.
pub fn model_root(model: &Path) -> PathBuf {
    for root in ["/data", "/mnt", "/home", "/opt"] {
        if model.starts_with(root) && model != Path::new(root) {
            return PathBuf::from(root);
        }
    }
    model
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| model.to_owned(), Path::to_owned)
}

/// This process's user and group (`uid:gid`), from `/proc/self`.
pub fn current_user() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata("/proc/self").ok()?;
    Some((m.uid(), m.gid()))
}

/// The environment variables every command in the container gets: the original's
/// `INSIDE_CONTAINER=1`, `LATEST_TAG`, `FULL_IMAGE`, `TZ=America/Los_Angeles`, then this
/// process's `HF_*` and `SGLCI_SIM_*` variables (except `SGLCI_SIM_ARGS`, which the runner
/// applies itself) — the container does not inherit this process's environment.
pub fn base_env(image: &str, tag: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("INSIDE_CONTAINER".into(), "1".into()),
        ("LATEST_TAG".into(), tag.into()),
        ("FULL_IMAGE".into(), image.into()),
        ("TZ".into(), "America/Los_Angeles".into()),
    ];
    let mut passed: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            (k.starts_with("HF_") || k.starts_with("SGLCI_SIM_")) && k != "SGLCI_SIM_ARGS"
        })
        .collect();
    passed.sort();
    env.extend(passed);
    env
}

impl BenchContainer {
    /// A container for `image` running `engine`'s commands; add mounts with
    /// [`Self::request`] and simulator data with [`Self::sim_data`].
    pub fn new(image: &str, engine: Engine, steps: &Steps, created_by: &str) -> Self {
        let parts = docker_ctl::ImageParts::parse(image);
        let mut template = ExecTemplate {
            env: base_env(image, &parts.tag),
            user: None,
            programs: Vec::new(),
        };
        if engine == Engine::Sim {
            for (host, name) in [(&steps.sim, "sglang-sim"), (&steps.bench, "sglang-bench")] {
                template
                    .programs
                    .push((host.clone(), format!("{SIM_BIN_DIR}/{name}")));
            }
            template.user = current_user()
                .filter(|(u, _)| *u != 0)
                .map(|(u, g)| format!("{u}:{g}"));
        }
        Self {
            image: image.to_owned(),
            tag: parts.tag.clone(),
            name: parts.container_name(),
            engine,
            requests: Vec::new(),
            shm_size: "32g".to_owned(),
            work_dir: "/sgl-workspace".to_owned(),
            created_by: created_by.to_owned(),
            template,
        }
    }

    /// The benchmark scripts' settings (§1.5): [`shm_size`] and [`work_dir`] from
    /// `WORK_DIR_CONTAINER`.
    pub fn script_settings(mut self, env: &dyn EnvSource) -> Self {
        self.shm_size = shm_size(env);
        self.work_dir = work_dir(env, "WORK_DIR_CONTAINER");
        self
    }

    /// Asks for `path` to be mounted (`what` names it in messages).
    pub fn request(mut self, path: impl Into<PathBuf>, what: &'static str) -> Self {
        let path = path.into();
        if !self.requests.iter().any(|r| r.path == path) {
            self.requests.push(MountRequest {
                path,
                read_only: false,
                what,
            });
        }
        self
    }

    /// Asks for the folder that makes `path` visible (spec §1.5, §8.9): nothing when `path`
    /// lies below a path already asked for, else its [`model_root`] (`/data`, `/mnt`,
    /// `/home`, `/opt`, or its parent).
    pub fn request_root_of(self, path: &Path, what: &'static str) -> Self {
        if self.requests.iter().any(|r| is_under(path, &r.path)) {
            return self;
        }
        self.request(model_root(path), what)
    }

    /// The GSM8K test set of the simulated engine: its folder mounted read-only and
    /// `SGLCI_SIM_GSM8K_DATA` set to it (unless this process sets that variable itself).
    pub fn sim_data(mut self, gsm8k: Option<&Path>) -> Self {
        let Some(file) = gsm8k else { return self };
        if let Some(dir) = file.parent() {
            self.requests.push(MountRequest {
                path: dir.to_owned(),
                read_only: true,
                what: "GSM8K data directory",
            });
        }
        if !self
            .template
            .env
            .iter()
            .any(|(k, _)| k == "SGLCI_SIM_GSM8K_DATA")
        {
            self.template
                .env
                .push(("SGLCI_SIM_GSM8K_DATA".into(), file.display().to_string()));
        }
        self
    }

    /// The mounts: requested paths that exist here, minus those below an earlier mount;
    /// and the notes about skipped ones.
    pub fn mounts(&self) -> (Vec<MountRequest>, Vec<String>) {
        let mut out: Vec<MountRequest> = Vec::new();
        let mut notes = Vec::new();
        for r in &self.requests {
            if out.iter().any(|m| is_under(&r.path, &m.path)) {
                continue;
            }
            if !r.path.exists() {
                notes.push(format!(
                    "{} {} does not exist on this machine: not mounted",
                    r.what,
                    r.path.display()
                ));
                continue;
            }
            out.push(r.clone());
        }
        (out, notes)
    }

    /// The container settings (the original's `docker run` flags, §1.5); the simulated
    /// engine's image keeps itself running, the real one gets `tail -f /dev/null`.
    pub fn spec(&self) -> ContainerSpec {
        let mut s = ContainerSpec::nightly(&self.name, &self.image).created_by(&self.created_by);
        s.shm_size = self.shm_size.clone();
        s.work_dir = Some(self.work_dir.clone());
        if self.engine == Engine::Sim {
            s.cmd = None;
        }
        for m in self.mounts().0 {
            let mut mount = Mount::same(&m.path);
            mount.read_only = m.read_only;
            s.mounts.push(mount);
        }
        s
    }

    /// Makes sure the image is present: local, else pulled (`limit` per pull). Returns
    /// whether it was pulled.
    pub fn obtain_image(
        &self,
        engine: &BlockingEngine,
        limit: Duration,
        say: &mut dyn FnMut(String),
    ) -> Result<bool, ContainerError> {
        if engine.image_exists(&self.image)? {
            return Ok(false);
        }
        say(format!("Pulling image {} ...", self.image));
        match engine.pull(&self.image, limit, |p| {
            if p.status.starts_with("Status:") || p.status == "Pull complete" {
                tracing::info!(
                    "pull {}: {} {}",
                    self.image,
                    p.layer.as_deref().unwrap_or(""),
                    p.status
                );
            }
        }) {
            Ok(()) => Ok(true),
            Err(e @ (DockerError::PullFailed { .. } | DockerError::Timeout { .. })) => {
                Err(ContainerError::ImageUnavailable {
                    image: self.image.clone(),
                    reason: e.to_string(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The image is a simulated-engine image (label [`SIM_IMAGE_LABEL`]) whose default
    /// command keeps a container running.
    fn keeps_running(&self, engine: &BlockingEngine) -> Result<bool, ContainerError> {
        let labels = engine.block_on(engine.engine().image_labels(&self.image))?;
        Ok(labels.is_some_and(|(_, l)| l.contains_key(SIM_IMAGE_LABEL)))
    }

    /// The first mounted path that is not a directory inside the running container.
    fn invisible(&self, engine: &BlockingEngine) -> Result<Option<MountRequest>, ContainerError> {
        for m in self.mounts().0 {
            let kind = engine.path_kind(&self.name, &m.path.display().to_string())?;
            let want_dir = m.path.is_dir();
            let ok = match kind {
                None => false,
                Some(PathKind::Dir) => want_dir,
                Some(PathKind::File) => !want_dir,
            };
            if !ok {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Creates or reuses the container (§8.9 step 5): an existing one is started and must
    /// see every mounted path, else it is stopped, removed and created again. `say` gets
    /// the original's lines without prefix (`Reusing container <c>`, `Creating container <c>`,
    /// `<What> not accessible in existing container. Recreating container...`).
    pub fn ensure(
        &self,
        engine: &BlockingEngine,
        say: &mut dyn FnMut(String),
    ) -> Result<Ensured, ContainerError> {
        let (_, notes) = self.mounts();
        for n in notes {
            say(n);
        }
        let mut spec = self.spec();
        if spec.cmd.is_some() && self.keeps_running(engine)? {
            // A `sglang-sim build-image` image has no `tail`; it keeps itself running.
            spec.cmd = None;
        }
        if engine.container(&self.name)?.is_some() {
            say(format!("Reusing container {}", self.name));
            let reused = engine.ensure_container(&spec)?;
            match self.invisible(engine)? {
                None => return Ok(reused),
                Some(m) => {
                    say(format!(
                        "{} not accessible in existing container. Recreating container...",
                        m.what
                    ));
                    engine.stop_container(&self.name, Duration::from_secs(10))?;
                    engine.remove_container(&self.name, true)?;
                }
            }
        }
        say(format!("Creating container {}", self.name));
        let created = engine.ensure_container(&spec)?;
        if let Ensured::Created { warnings, .. } = &created {
            for w in warnings {
                say(format!("WARN: {w}"));
            }
        }
        if let Some(m) = self.invisible(engine)? {
            return Err(ContainerError::NotVisible {
                what: m.what,
                path: m.path,
                container: self.name.clone(),
            });
        }
        Ok(created)
    }

    /// The executor for commands in the (ready) container.
    pub fn executor(&self) -> Result<DockerExecutor, ContainerError> {
        Ok(DockerExecutor::connect(&self.name)?.template(self.template.clone()))
    }

    /// Obtains the image, ensures the container and returns its executor: what a benchmark
    /// binary does with `--executor=docker` on a host (§1.5). The container keeps running
    /// afterwards (the orchestrator stops it; a standalone run leaves it for the next one).
    pub fn prepare(&self, say: &mut dyn FnMut(String)) -> Result<DockerExecutor, ContainerError> {
        let engine = BlockingEngine::connect_with(&EngineConfig::from_env())?;
        if self.obtain_image(&engine, Duration::from_secs(3600), say)? {
            say(format!("Pulled image {}", self.image));
        }
        self.ensure(&engine, say)?;
        self.executor()
    }
}

/// The executor a benchmark binary runs its plan with: [`LocalExecutor`] for
/// `--executor=local`; for `--executor=docker`, the container `container()` describes,
/// prepared (image, container, mounts) with its lines passed to `say`.
pub fn executor_for(
    kind: ExecutorKind,
    container: impl FnOnce() -> BenchContainer,
    say: &mut dyn FnMut(String),
) -> Result<Box<dyn Executor>, RunnerError> {
    match kind {
        ExecutorKind::Local => Ok(Box::new(LocalExecutor::default())),
        ExecutorKind::Docker => Ok(Box::new(container().prepare(say)?)),
    }
}

/// The container of a benchmark binary (§1.5): the benchmark scripts' settings
/// ([`BenchContainer::script_settings`]), `MOUNT_DIR`, the work and output dirs, and the
/// model's root (real engine; simulated engine: when the path exists). The offline
/// benchmarks (`grok-perf-offline`, `deepseek-perf-offline`) run in it as it is.
pub fn for_benchmark(
    b: &RunBase,
    model: &str,
    created_by: &str,
    env: &dyn EnvSource,
) -> BenchContainer {
    let c = BenchContainer::new(&b.image, b.engine, &b.steps, created_by)
        .script_settings(env)
        .request(mount_dir(env), "Mount directory")
        .request(&b.work_dir, "Work directory")
        .request(&b.output_dir, "Output directory");
    let model = Path::new(model);
    if model.is_absolute() && (b.engine == Engine::Sglang || model.exists()) {
        c.request_root_of(model, "Model directory")
    } else {
        c
    }
}

/// The container of an online benchmark (`grok-perf-online`, `deepseek-perf-online`):
/// [`for_benchmark`]'s, the tokenizer's folder when it exists, and the GSM8K data of the
/// simulated engine.
pub fn for_online(
    c: &crate::online::config::Common,
    model: &str,
    tokenizer: Option<&str>,
    created_by: &str,
    env: &dyn EnvSource,
) -> BenchContainer {
    let mut b = for_benchmark(&c.base, model, created_by, env);
    if let Some(t) = tokenizer
        .map(Path::new)
        .filter(|t| t.is_absolute() && t.exists())
    {
        b = b.request_root_of(t, "Tokenizer directory");
    }
    if c.simulated() {
        b = b.sim_data(c.gsm8k_data.as_deref());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ClientImpl;

    fn steps(engine: Engine) -> Steps {
        Steps {
            engine,
            client: ClientImpl::Native,
            gsm8k_client: ClientImpl::Native,
            python: "python3".into(),
            sim: "/opt/sglci/bin/sglang-sim".into(),
            bench: "/opt/sglci/bin/sglang-bench".into(),
        }
    }

    #[test]
    fn model_roots_follow_the_original() {
        assert_eq!(
            model_root(Path::new("/data/models/grok")),
            Path::new("/data")
        );
        assert_eq!(model_root(Path::new("/home/u/m")), Path::new("/home"));
        assert_eq!(model_root(Path::new("/opt/m/x")), Path::new("/opt"));
        assert_eq!(
            model_root(Path::new("/srv/models/x")),
            Path::new("/srv/models")
        );
        assert!(is_under(
            Path::new("/mnt/raid/models"),
            Path::new("/mnt/raid/")
        ));
        assert!(!is_under(Path::new("/mnt/raidx"), Path::new("/mnt/raid")));
    }

    #[test]
    fn mounts_skip_missing_and_nested_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("ci/online")).unwrap();
        let b = BenchContainer::new(
            "rocm/sgl-dev:T",
            Engine::Sglang,
            &steps(Engine::Sglang),
            "t",
        )
        .request(root, "Mount directory")
        .request(root.join("ci"), "Work directory")
        .request("/definitely/not/here", "Model directory")
        .request(root, "Mount directory");
        let (m, notes) = b.mounts();
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].path, root);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("Model directory /definitely/not/here does not exist"));
        let s = b.spec();
        assert_eq!(s.name, "sgl-dev_T");
        assert_eq!(
            s.cmd.as_deref().map(|c| c.join(" ")),
            Some("tail -f /dev/null".into())
        );
        assert_eq!(
            s.labels
                .get(docker_ctl::CREATED_BY_LABEL)
                .map(String::as_str),
            Some("t")
        );
    }

    #[test]
    fn a_model_below_a_mount_adds_no_mount() {
        let b = BenchContainer::new("i:T", Engine::Sglang, &steps(Engine::Sglang), "t")
            .request("/mnt/raid/", "Mount directory")
            .request_root_of(
                Path::new("/mnt/raid/models/huggingface/grok"),
                "Model directory",
            )
            .request_root_of(Path::new("/data2/grok-2/model"), "Tokenizer directory");
        let paths: Vec<&Path> = b.requests.iter().map(|r| r.path.as_path()).collect();
        assert_eq!(paths, [Path::new("/mnt/raid/"), Path::new("/data2/grok-2")]);
    }

    #[test]
    fn simulated_engine_maps_programs_and_mounts_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("test.jsonl");
        std::fs::write(&data, "{}\n").unwrap();
        let b = BenchContainer::new("img:T", Engine::Sim, &steps(Engine::Sim), "t")
            .sim_data(Some(&data));
        let t = &b.template;
        assert!(t.programs.contains(&(
            "/opt/sglci/bin/sglang-sim".into(),
            format!("{SIM_BIN_DIR}/sglang-sim")
        )));
        assert!(t.env.iter().any(|(k, v)| k == "LATEST_TAG" && v == "T"));
        assert!(
            t.env
                .iter()
                .any(|(k, v)| k == "INSIDE_CONTAINER" && v == "1")
        );
        let spec = b.spec();
        assert_eq!(spec.cmd, None, "the sim image keeps itself running");
        assert_eq!(spec.mounts.len(), 1);
        assert!(spec.mounts[0].read_only);
        assert_eq!(spec.mounts[0].host, dir.path());
    }
}
